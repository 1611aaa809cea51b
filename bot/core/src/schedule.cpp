#include "core/schedule.hpp"

#include <algorithm>

#include "zone.hpp"

namespace kintsugi::core {

using namespace std::chrono;

namespace {

struct local_moment {
  date day;
  minutes time_of_day;
};

local_moment to_local(timestamp t, const ::date::time_zone* zone) {
  auto local = zone == nullptr ? t.time_since_epoch() : zone->to_local(t).time_since_epoch();
  auto day = floor<days>(local);
  return {year_month_day{sys_days{day}}, floor<minutes>(local - day)};
}

timestamp at_local_in(date d, minutes time_of_day, const ::date::time_zone* zone) {
  auto wall = sys_days{d}.time_since_epoch() + time_of_day;
  if (zone == nullptr) return timestamp{duration_cast<microseconds>(wall)};
  try {
    auto local = ::date::local_time<microseconds>{duration_cast<microseconds>(wall)};
    return time_point_cast<microseconds>(zone->to_sys(local, ::date::choose::earliest));
  } catch (const std::exception&) {
    return timestamp{duration_cast<microseconds>(wall)};
  }
}

date plus_days(date d, int n) { return year_month_day{sys_days{d} + days{n}}; }

// The start of the first working day on or after `d`.
date first_working_day(date d, const working_hours& wh) {
  for (int i = 0; i < 7 && !is_working_day(d, wh); ++i) d = plus_days(d, 1);
  return d;
}

}  // namespace

bool working_hours::has_working_day() const { return std::find(days.begin(), days.end(), true) != days.end(); }

timestamp at_local(date d, minutes time_of_day, std::string_view tz) {
  return at_local_in(d, time_of_day, detail::find_zone(tz));
}

bool is_working_day(date d, const working_hours& wh) {
  if (!wh.has_working_day()) return true;  // a week with no working day would never let a reminder out
  return wh.days[weekday{sys_days{d}}.c_encoding()];
}

date add_business_days(date d, int n, const working_hours& wh) {
  if (!wh.has_working_day()) return plus_days(d, std::max(n, 0));
  // Whole weeks first, so a long-overdue item costs no more than a short one.
  const int per_week = static_cast<int>(std::count(wh.days.begin(), wh.days.end(), true));
  if (n > per_week) {
    const int weeks = (n - 1) / per_week;
    d = plus_days(d, weeks * 7);
    n -= weeks * per_week;
  }
  while (n > 0) {
    d = plus_days(d, 1);
    if (is_working_day(d, wh)) --n;
  }
  return d;
}

timestamp next_working_time(timestamp t, std::string_view tz, const working_hours& wh) {
  const auto* zone = detail::find_zone(tz);
  auto here = to_local(t, zone);
  if (is_working_day(here.day, wh) && here.time_of_day >= wh.start && here.time_of_day < wh.end) return t;
  date day = here.day;
  if (!is_working_day(day, wh) || here.time_of_day >= wh.end) day = plus_days(day, 1);
  return at_local_in(first_working_day(day, wh), wh.start, zone);
}

std::optional<timestamp> next_role_ask(role r, timestamp since, int asks_sent, const reminder_policy& p) {
  if (!p.enabled || asks_sent >= p.role_max_asks) return std::nullopt;
  const duration first = r == role::commander ? p.commander_first : p.others_first;
  return since + first + p.role_repeat * asks_sent;
}

duration update_interval(severity s, const reminder_policy& p) { return p.update_every[static_cast<std::size_t>(s)]; }

date review_deadline(severity s, timestamp resolved_at, std::string_view tz, const reminder_policy& p) {
  const date resolved = local_date_of(resolved_at, tz);
  if (s == severity::sev1) return plus_days(resolved, p.review_days_sev1);
  return add_business_days(resolved, p.review_business_days, p.hours);
}

std::string_view name(action_stage s) {
  switch (s) {
    case action_stage::due_soon: return "due soon";
    case action_stage::due_today: return "due today";
    case action_stage::overdue: return "overdue";
  }
  return "?";
}

std::optional<action_reminder> next_action_reminder(date due, std::optional<timestamp> snoozed_until, timestamp after,
                                                    std::string_view tz, const reminder_policy& p) {
  if (!p.enabled) return std::nullopt;
  const auto* zone = detail::find_zone(tz);
  // The first moment worth a reminder: after the last one, and not while snoozed.
  const timestamp floor_at = snoozed_until && *snoozed_until > after ? *snoozed_until : after;
  auto slot = [&](date d) { return next_working_time(at_local_in(d, p.hours.start, zone), tz, p.hours); };
  auto fits = [&](timestamp t) { return t > after && t >= floor_at; };

  const timestamp on_the_day = slot(due);
  if (p.before_due_days > 0) {
    const timestamp soon = slot(plus_days(due, -p.before_due_days));
    if (soon < on_the_day && fits(soon)) return action_reminder{soon, action_stage::due_soon};
  }
  if (fits(on_the_day)) return action_reminder{on_the_day, action_stage::due_today};

  const int every = std::max(p.overdue_every, 1);
  // Jump close to `floor_at` instead of walking every slot since the due day: roughly how many business days
  // lie between the due day and then, minus a margin for the weekends the estimate cannot see.
  const date from = to_local(floor_at, zone).day;
  const auto calendar = (sys_days{from} - sys_days{due}).count();
  int k = 1;
  if (calendar > 14) k = std::max(1, static_cast<int>(calendar * 5 / 7 / every) - 3);
  for (;; ++k) {
    const timestamp t = slot(add_business_days(due, k * every, p.hours));
    if (fits(t)) return action_reminder{t, action_stage::overdue};
  }
}

timestamp next_digest(timestamp after, const reminder_policy& p) {
  const auto* zone = detail::find_zone(p.timezone);
  date day = to_local(after, zone).day;
  for (int i = 0; i < 9; ++i, day = plus_days(day, 1)) {
    if (weekday{sys_days{day}}.c_encoding() != static_cast<unsigned>(p.digest_weekday)) continue;
    const timestamp t = at_local_in(day, p.digest_time, zone);
    if (t > after) return t;
  }
  return after + days{7};  // not reached: a weekday repeats within 8 days
}

timestamp lookback_time(timestamp closed_at, std::string_view tz, const reminder_policy& p) {
  return next_working_time(closed_at + days{p.lookback_days}, tz, p.hours);
}

}  // namespace kintsugi::core
