#include "core/schedule.hpp"

#include <doctest/doctest.h>

using namespace kintsugi::core;
using namespace std::chrono;

namespace {
timestamp at(int y, unsigned mo, unsigned d, int h, int mi = 0) {
  return timestamp{sys_days{year{y} / month{mo} / day{d}}} + hours{h} + minutes{mi};
}
date day_of(int y, unsigned mo, unsigned d) { return year{y} / month{mo} / day{d}; }
const reminder_policy defaults{};
constexpr const char* new_york = "America/New_York";
}  // namespace

TEST_CASE("business days skip the weekend, long spans included") {
  const working_hours wh;
  const date friday = day_of(2026, 11, 20);
  CHECK(add_business_days(friday, 0, wh) == friday);
  CHECK(add_business_days(friday, 1, wh) == day_of(2026, 11, 23));
  CHECK(add_business_days(friday, 2, wh) == day_of(2026, 11, 24));
  CHECK(add_business_days(friday, 5, wh) == day_of(2026, 11, 27));
  CHECK(add_business_days(friday, 25, wh) == day_of(2026, 12, 25));
  CHECK(add_business_days(day_of(2026, 11, 21), 1, wh) == day_of(2026, 11, 23));
  CHECK(add_business_days(day_of(2026, 11, 21), 6, wh) == day_of(2026, 11, 30));
  // The shortcut over whole weeks agrees with walking day by day.
  for (int n = 0; n < 40; ++n) {
    date walked = friday;
    for (int left = n; left > 0;) {
      walked = year_month_day{sys_days{walked} + days{1}};
      if (is_working_day(walked, wh)) --left;
    }
    CAPTURE(n);
    CHECK(add_business_days(friday, n, wh) == walked);
  }
}

TEST_CASE("a custom working week: Sunday to Thursday") {
  working_hours wh;
  wh.days = {true, true, true, true, true, false, false};
  CHECK(is_working_day(day_of(2026, 11, 22), wh));        // Sunday
  CHECK_FALSE(is_working_day(day_of(2026, 11, 20), wh));  // Friday
  CHECK(add_business_days(day_of(2026, 11, 19), 1, wh) == day_of(2026, 11, 22));
}

TEST_CASE("next working time: inside hours unchanged, evenings and weekends move to the next morning") {
  const working_hours wh;
  CHECK(next_working_time(at(2026, 11, 20, 10, 0), "", wh) == at(2026, 11, 20, 10, 0));
  CHECK(next_working_time(at(2026, 11, 20, 20, 0), "", wh) == at(2026, 11, 23, 9, 0));
  CHECK(next_working_time(at(2026, 11, 24, 7, 0), "", wh) == at(2026, 11, 24, 9, 0));
  CHECK(next_working_time(at(2026, 11, 21, 12, 0), "", wh) == at(2026, 11, 23, 9, 0));
  CHECK(next_working_time(at(2026, 11, 20, 18, 0), "", wh) == at(2026, 11, 23, 9, 0));
  // New York is UTC-5 in November: 22:59 UTC is 17:59 there, 23:00 is 18:00 (closed).
  CHECK(next_working_time(at(2026, 11, 20, 22, 59), new_york, wh) == at(2026, 11, 20, 22, 59));
  CHECK(next_working_time(at(2026, 11, 20, 23, 0), new_york, wh) == at(2026, 11, 23, 14, 0));
  // Late Thursday evening in New York is already Friday in UTC; the next morning is Friday's, not Monday's.
  CHECK(next_working_time(at(2026, 11, 20, 2, 0), new_york, wh) == at(2026, 11, 20, 14, 0));
}

TEST_CASE("an unknown time zone is read as UTC") {
  const working_hours wh;
  CHECK(next_working_time(at(2026, 11, 20, 20, 0), "Mars/Olympus_Mons", wh) == at(2026, 11, 23, 9, 0));
  CHECK(at_local(day_of(2026, 11, 20), minutes{9 * 60}, "nonsense") == at(2026, 11, 20, 9, 0));
}

TEST_CASE("local wall times across a DST change") {
  // New York springs forward on 2027-03-14: 09:00 is 14:00 UTC before, 13:00 UTC after.
  CHECK(at_local(day_of(2027, 3, 12), minutes{9 * 60}, new_york) == at(2027, 3, 12, 14, 0));
  CHECK(at_local(day_of(2027, 3, 15), minutes{9 * 60}, new_york) == at(2027, 3, 15, 13, 0));
  // 02:30 does not exist that night; it becomes the end of the gap (03:00 EDT = 07:00 UTC).
  CHECK(at_local(day_of(2027, 3, 14), minutes{2 * 60 + 30}, new_york) == at(2027, 3, 14, 7, 0));
}

TEST_CASE("role asks: commander after 5 min, others after 15, then every 10, at most 5 asks") {
  const timestamp start = at(2026, 11, 20, 10, 0);
  CHECK(next_role_ask(role::commander, start, 0, defaults) == start + minutes{5});
  CHECK(next_role_ask(role::commander, start, 1, defaults) == start + minutes{15});
  CHECK(next_role_ask(role::commander, start, 4, defaults) == start + minutes{45});
  CHECK_FALSE(next_role_ask(role::commander, start, 5, defaults).has_value());
  CHECK(next_role_ask(role::scribe, start, 0, defaults) == start + minutes{15});
  CHECK(next_role_ask(role::facilitator, start, 2, defaults) == start + minutes{35});
  reminder_policy off;
  off.enabled = false;
  CHECK_FALSE(next_role_ask(role::commander, start, 0, off).has_value());
}

TEST_CASE("update nudges by severity") {
  CHECK(update_interval(severity::sev1, defaults) == minutes{15});
  CHECK(update_interval(severity::sev2, defaults) == minutes{30});
  CHECK(update_interval(severity::sev3, defaults) == minutes{60});
  CHECK(update_interval(severity::sev4, defaults) == hours{4});
  CHECK(update_interval(severity::near_miss, defaults) == hours{4});
}

TEST_CASE("review deadline: 3 calendar days for sev1, 5 business days otherwise") {
  const timestamp friday = at(2026, 11, 20, 16, 0);
  CHECK(review_deadline(severity::sev1, friday, "", defaults) == day_of(2026, 11, 23));
  CHECK(review_deadline(severity::sev2, friday, "", defaults) == day_of(2026, 11, 27));
  CHECK(review_deadline(severity::near_miss, friday, "", defaults) == day_of(2026, 11, 27));
  // 02:00 UTC Saturday is still Friday evening in New York.
  CHECK(review_deadline(severity::sev1, at(2026, 11, 21, 2, 0), new_york, defaults) == day_of(2026, 11, 23));
}

TEST_CASE("action reminders: two days before, on the day, then every two business days, across DST") {
  const date due = day_of(2027, 3, 12);  // a Friday; New York changes to EDT on Sunday 14 March
  timestamp after = at(2027, 3, 1, 12, 0);
  std::vector<action_reminder> seen;
  for (int i = 0; i < 5; ++i) {
    auto r = next_action_reminder(due, std::nullopt, after, new_york, defaults);
    REQUIRE(r.has_value());
    seen.push_back(*r);
    after = r->at;
  }
  CHECK(seen[0].at == at(2027, 3, 10, 14, 0));  // Wednesday 09:00 EST
  CHECK(seen[0].stage == action_stage::due_soon);
  CHECK(seen[1].at == at(2027, 3, 12, 14, 0));
  CHECK(seen[1].stage == action_stage::due_today);
  CHECK(seen[2].at == at(2027, 3, 16, 13, 0));  // Tuesday 09:00 EDT
  CHECK(seen[2].stage == action_stage::overdue);
  CHECK(seen[3].at == at(2027, 3, 18, 13, 0));
  CHECK(seen[4].at == at(2027, 3, 22, 13, 0));  // Thursday + 2 business days = Monday
}

TEST_CASE("a due-soon reminder that would land on the due day is dropped") {
  // Due Monday: two days before is Saturday, whose next working morning is the due day itself.
  auto r = next_action_reminder(day_of(2026, 11, 23), std::nullopt, at(2026, 11, 16, 12, 0), "", defaults);
  REQUIRE(r.has_value());
  CHECK(r->stage == action_stage::due_today);
  CHECK(r->at == at(2026, 11, 23, 9, 0));
}

TEST_CASE("an item added the day before it is due gets no due-soon reminder") {
  auto r = next_action_reminder(day_of(2026, 11, 24), std::nullopt, at(2026, 11, 23, 15, 0), "", defaults);
  REQUIRE(r.has_value());
  CHECK(r->stage == action_stage::due_today);
  CHECK(r->at == at(2026, 11, 24, 9, 0));
}

TEST_CASE("snoozed reminders skip the slots before the snooze ends") {
  const date due = day_of(2027, 3, 12);
  auto r = next_action_reminder(due, at(2027, 3, 17, 0, 0), at(2027, 3, 12, 15, 0), new_york, defaults);
  REQUIRE(r.has_value());
  CHECK(r->at == at(2027, 3, 18, 13, 0));
  CHECK(r->stage == action_stage::overdue);
  // A snooze that is over changes nothing.
  auto plain = next_action_reminder(due, at(2027, 3, 1, 0, 0), at(2027, 3, 12, 15, 0), new_york, defaults);
  REQUIRE(plain.has_value());
  CHECK(plain->at == at(2027, 3, 16, 13, 0));
}

TEST_CASE("a long-overdue item gets the next slot after now, not every slot it missed") {
  const date due = day_of(2026, 1, 5);  // a Monday
  for (const timestamp now : {at(2026, 6, 1, 12, 0), at(2026, 11, 21, 3, 0), at(2028, 2, 29, 9, 0)}) {
    auto r = next_action_reminder(due, std::nullopt, now, "", defaults);
    REQUIRE(r.has_value());
    // The brute-force answer: walk every overdue slot from the first.
    timestamp expected{};
    for (int k = 1;; ++k) {
      auto t = next_working_time(at_local(add_business_days(due, 2 * k, defaults.hours), minutes{9 * 60}, ""), "",
                                 defaults.hours);
      if (t > now) {
        expected = t;
        break;
      }
    }
    CAPTURE(format_iso(now));
    CHECK(r->at == expected);
    CHECK(r->stage == action_stage::overdue);
  }
}

TEST_CASE("weekly digest: Monday 09:00 in the policy's zone") {
  CHECK(next_digest(at(2026, 11, 21, 10, 0), defaults) == at(2026, 11, 23, 9, 0));
  CHECK(next_digest(at(2026, 11, 23, 8, 59), defaults) == at(2026, 11, 23, 9, 0));
  CHECK(next_digest(at(2026, 11, 23, 9, 0), defaults) == at(2026, 11, 30, 9, 0));
  reminder_policy berlin;
  berlin.timezone = "Europe/Berlin";
  CHECK(next_digest(at(2026, 11, 21, 10, 0), berlin) == at(2026, 11, 23, 8, 0));
}

TEST_CASE("the look-back comes 90 days after closing, in working hours") {
  CHECK(lookback_time(at(2026, 11, 20, 17, 30), "", defaults) == at(2027, 2, 18, 17, 30));
  CHECK(lookback_time(at(2026, 11, 20, 20, 0), "", defaults) == at(2027, 2, 19, 9, 0));
}
