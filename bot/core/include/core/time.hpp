#pragma once
// Time in kintsugi: UTC instants with microsecond precision (Slack's ts has microseconds,
// Mattermost's create_at milliseconds), calendar dates for due dates, and parsing of the
// times people type ("14:05", "2026-11-20 14:05", ISO 8601) in a user's time zone.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kintsugi::core {

using timestamp = std::chrono::sys_time<std::chrono::microseconds>;
using duration = std::chrono::microseconds;
using date = std::chrono::year_month_day;

// "2026-11-20T10:00:00Z"; fractions only when present ("…:00.250Z", "…:00.123456Z").
std::string format_iso(timestamp t);
// "2026-11-20 10:00" (UTC), the form used in documents and chat.
std::string format_minute(timestamp t);
// "10:00" (UTC).
std::string format_clock(timestamp t);
// "2026-11-20".
std::string format_date(date d);

// ISO 8601 / RFC 3339: "2026-11-20T10:00:00Z", "…T10:00:00.5+01:00", "…T10:00Z".
std::optional<timestamp> parse_iso(std::string_view text);
// "2026-11-20".
std::optional<date> parse_date(std::string_view text);

// A time a person typed, read in `tz` (IANA name; empty or unknown means UTC), relative to `now`:
// "HH:MM" (today in that zone), "YYYY-MM-DD HH:MM", or ISO 8601 (its own offset wins).
std::optional<timestamp> parse_user_time(std::string_view text, timestamp now, std::string_view tz = {});

// "3d", "+3d", "2w", "4h", "90m": a positive duration; nullopt for anything else.
std::optional<duration> parse_duration(std::string_view text);
// "1h 05m", "3d 2h", "45s": short, for metrics.
std::string format_duration(duration d);

date date_of(timestamp t);  // the UTC calendar day
// The calendar day in zone `tz` (IANA name; empty or unknown: UTC).
date local_date_of(timestamp t, std::string_view tz);
timestamp start_of(date d); // 00:00 UTC of that day

}  // namespace kintsugi::core
