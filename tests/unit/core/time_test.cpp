#include "core/time.hpp"

#include <doctest/doctest.h>

using namespace kintsugi::core;
using namespace std::chrono;

namespace {
timestamp at(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return timestamp{sys_days{year{y} / month{mo} / day{d}}} + hours{h} + minutes{mi} + seconds{s};
}
}  // namespace

TEST_CASE("ISO 8601 round trip keeps exact precision") {
  CHECK(format_iso(at(2026, 11, 20, 10, 0)) == "2026-11-20T10:00:00Z");
  CHECK(format_iso(at(2026, 11, 20, 10, 0) + milliseconds{250}) == "2026-11-20T10:00:00.250Z");
  CHECK(format_iso(at(2026, 11, 20, 10, 0) + microseconds{123456}) == "2026-11-20T10:00:00.123456Z");
  CHECK(parse_iso("2026-11-20T10:00:00Z") == at(2026, 11, 20, 10, 0));
  CHECK(parse_iso("2026-11-20T10:00:00.123456Z") == at(2026, 11, 20, 10, 0) + microseconds{123456});
  CHECK(parse_iso("2026-11-20T11:30:00+01:30") == at(2026, 11, 20, 10, 0));
  CHECK(parse_iso("2026-11-20T05:00-0500") == at(2026, 11, 20, 10, 0));
  CHECK(parse_iso("2026-11-20 10:00") == at(2026, 11, 20, 10, 0));
}

TEST_CASE("ISO 8601 rejects what is not a time") {
  for (const char* bad : {"", "2026", "2026-11-20", "2026-13-01T00:00Z", "2026-02-30T00:00Z", "2026-11-20T24:00Z",
                          "2026-11-20T10:60Z", "2026-11-20T10:00:00Zjunk", "2026-11-20T10:00+25:00", "yesterday"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_iso(bad).has_value());
  }
}

TEST_CASE("times people type are read in their zone") {
  auto now = at(2026, 11, 20, 15, 0);
  CHECK(parse_user_time("14:05", now) == at(2026, 11, 20, 14, 5));
  CHECK(parse_user_time("2026-11-19 23:10", now) == at(2026, 11, 19, 23, 10));
  CHECK(parse_user_time("2026-11-19T23:10:00Z", now, "Europe/Berlin") == at(2026, 11, 19, 23, 10));
  // Berlin is UTC+1 in November.
  CHECK(parse_user_time("14:05", now, "Europe/Berlin") == at(2026, 11, 20, 13, 5));
  CHECK(parse_user_time("2026-07-01 14:05", now, "Europe/Berlin") == at(2026, 7, 1, 12, 5));
  // Late evening in New York is already the next UTC day; "today" is New York's day.
  auto ny_now = at(2026, 11, 21, 2, 0);  // 21:00 on the 20th in New York
  CHECK(parse_user_time("20:30", ny_now, "America/New_York") == at(2026, 11, 21, 1, 30));
  CHECK(parse_user_time("14:05", now, "Not/AZone") == at(2026, 11, 20, 14, 5));
  CHECK_FALSE(parse_user_time("25:00", now).has_value());
  CHECK_FALSE(parse_user_time("soon", now).has_value());
  CHECK_FALSE(parse_user_time("", now).has_value());
}

TEST_CASE("durations") {
  CHECK(parse_duration("3d") == days{3});
  CHECK(parse_duration("+2w") == weeks{2});
  CHECK(parse_duration("4h") == hours{4});
  CHECK(parse_duration("90m") == minutes{90});
  CHECK(parse_duration("1h30m") == minutes{90});
  for (const char* bad : {"", "d", "3", "3x", "-3d", "0d", "99999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
  CHECK(format_duration(seconds{45}) == "45s");
  CHECK(format_duration(minutes{12}) == "12m");
  CHECK(format_duration(minutes{12} + seconds{5}) == "12m 05s");
  CHECK(format_duration(hours{1} + minutes{5}) == "1h 05m");
  CHECK(format_duration(days{3} + hours{2}) == "3d 2h");
}

TEST_CASE("dates") {
  CHECK(parse_date("2026-11-20") == year{2026} / month{11} / day{20});
  CHECK_FALSE(parse_date("2026-02-30").has_value());
  CHECK_FALSE(parse_date("2026-11-20x").has_value());
  CHECK(format_date(year{2026} / month{1} / day{5}) == "2026-01-05");
  CHECK(date_of(at(2026, 11, 20, 23, 59)) == year{2026} / month{11} / day{20});
  CHECK(format_minute(at(2026, 11, 20, 9, 7)) == "2026-11-20 09:07");
}
