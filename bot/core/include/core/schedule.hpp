#pragma once
// When the bot speaks up on its own: role prompts, status-update nudges, the review ask, action-item reminders,
// the weekly digest and the 90-day look-back. Pure functions of (state, policy, time, time zone): no clock, no
// store, so every rule is tested by passing instants in.
//
// Working hours only shape what waits for a person's day (action-item reminders, the review ask, the look-back,
// the digest). Role prompts and update nudges belong to a live incident and go out at any hour.
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/model.hpp"
#include "core/time.hpp"

namespace kintsugi::core {

// A person's working week: days (indexed by weekday, Sunday = 0) and the hours of each working day, local time.
struct working_hours {
  std::chrono::minutes start{9 * 60};
  std::chrono::minutes end{18 * 60};
  std::array<bool, 7> days{false, true, true, true, true, true, false};  // Monday to Friday

  bool has_working_day() const;
};

// Every delay the reminder rules use; the defaults are the issue's. Config fills this in.
struct reminder_policy {
  bool enabled = true;
  // Roles: the first ask after the start, then every `role_repeat`, at most `role_max_asks` asks per role.
  duration commander_first{std::chrono::minutes{5}};
  duration others_first{std::chrono::minutes{15}};
  duration role_repeat{std::chrono::minutes{10}};
  int role_max_asks = 5;
  // Status updates: a DM to the commander when no update came for this long, by severity.
  std::array<duration, 5> update_every{std::chrono::minutes{15}, std::chrono::minutes{30}, std::chrono::minutes{60},
                                       std::chrono::hours{4}, std::chrono::hours{4}};
  // The review: within this many calendar days for sev1, business days for the rest.
  int review_days_sev1 = 3;
  int review_business_days = 5;
  // Action items: a reminder this many days before the due day, one on the day, then every
  // `overdue_every` business days; the commander hears after `escalate_after` overdue reminders.
  int before_due_days = 2;
  int overdue_every = 2;
  int escalate_after = 3;
  // The weekly digest of open items: weekday (Sunday = 0) and local time in `timezone`.
  std::string digest_channel = "incidents";
  int digest_weekday = 1;
  std::chrono::minutes digest_time{9 * 60};
  // The look-back: this many days after an item closed, its owner is asked whether the fix held.
  int lookback_days = 90;
  // For people whose time zone is unknown, and for the digest.
  std::string timezone = "UTC";
  working_hours hours;
};

// ---- calendar arithmetic in a time zone (IANA name; empty or unknown: UTC) ----

// `time_of_day` on local day `d` as an instant. A wall time skipped by a DST change becomes the end of the gap;
// one that happens twice is the earlier.
timestamp at_local(date d, std::chrono::minutes time_of_day, std::string_view tz);
bool is_working_day(date d, const working_hours& wh);
// The `n`-th working day after `d` (n >= 1); `d` itself for n <= 0.
date add_business_days(date d, int n, const working_hours& wh);
// `t` if it falls in working hours, else the start of the next working day.
timestamp next_working_time(timestamp t, std::string_view tz, const working_hours& wh);

// ---- the rules ----

// When to ask (again) for an open role: `asks_sent` asks so far, counted from the incident's start (or the
// moment the role was freed). Nothing once the asks are used up.
std::optional<timestamp> next_role_ask(role r, timestamp since, int asks_sent, const reminder_policy& p);

// How long a commander may go without an /incident update at this severity.
duration update_interval(severity s, const reminder_policy& p);

// The last day the review should happen: resolve day + 3 calendar days for sev1, + 5 business days otherwise
// (local dates in `tz`).
date review_deadline(severity s, timestamp resolved_at, std::string_view tz, const reminder_policy& p);

enum class action_stage { due_soon, due_today, overdue };
std::string_view name(action_stage s);

struct action_reminder {
  timestamp at{};
  action_stage stage = action_stage::due_soon;
};

// The first reminder for an open action item strictly after `after`: `before_due_days` before the due day,
// on the due day, then every `overdue_every` business days, each at the start of the owner's working day.
// Slots before `snoozed_until` are skipped; a "due soon" slot that would fall on or after the due day's (a due
// date on a Monday, say) is dropped. Slots skipped because nobody looked for a while are not made up for.
std::optional<action_reminder> next_action_reminder(date due, std::optional<timestamp> snoozed_until, timestamp after,
                                                    std::string_view tz, const reminder_policy& p);

// The first digest time strictly after `after`: the policy's weekday and time in the policy's zone.
timestamp next_digest(timestamp after, const reminder_policy& p);

// When to ask whether a closed item's fix held: `lookback_days` after it closed, in the owner's working hours.
timestamp lookback_time(timestamp closed_at, std::string_view tz, const reminder_policy& p);

}  // namespace kintsugi::core
