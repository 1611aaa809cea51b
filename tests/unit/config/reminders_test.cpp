// The reminders section: its parsers, its defaults, every key read, and a message at the key path for each
// kind of bad value.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "config/config.hpp"

namespace cfg = kintsugi::config;
using std::chrono::minutes;

namespace {

cfg::load_result parse(std::string_view text) {
  return cfg::parse(text, "test.json", [](std::string_view) -> std::optional<std::string> { return std::nullopt; });
}

std::string all_problems(const cfg::load_result& r) {
  std::string out;
  for (const auto& p : r.problems) out += cfg::to_string(p) + "\n";
  return out;
}

// {"reminders": {"<key>": <value>}}
std::string reminder(std::string_view key, std::string_view value) {
  return "{\"reminders\": {\"" + std::string(key) + "\": " + std::string(value) + "}}";
}

// The one problem a config with a single reminders key has, as printed.
std::string only_problem(std::string_view key, std::string_view value) {
  const auto r = parse(reminder(key, value));
  INFO(all_problems(r));
  REQUIRE(r.problems.size() == 1);
  CHECK_FALSE(r.ok());
  return cfg::to_string(r.problems[0]);
}

constexpr std::array<bool, 7> days(std::string_view which) {  // "SMTWTFS" positions: "-MTWTF-"
  std::array<bool, 7> out{};
  for (std::size_t i = 0; i < 7; ++i) out[i] = which[i] != '-';
  return out;
}

}  // namespace

TEST_CASE("parse_span: days, hours and minutes, more than 0 and at most 7 days") {
  CHECK(cfg::parse_span("5m") == minutes{5});
  CHECK(cfg::parse_span("90m") == minutes{90});
  CHECK(cfg::parse_span("4h") == minutes{240});
  CHECK(cfg::parse_span("1d") == minutes{1440});
  CHECK(cfg::parse_span("1h30m") == minutes{90});
  CHECK(cfg::parse_span("1d12h") == minutes{36 * 60});
  CHECK(cfg::parse_span(" 1h 30m ") == minutes{90});
  CHECK(cfg::parse_span("0h5m") == minutes{5});
  CHECK(cfg::parse_span("7d") == minutes{7 * 24 * 60});
  CHECK(cfg::parse_span("10080m") == minutes{10080});
  for (std::string_view bad : {"", " ", "5", "15", "m", "5s", "5M", "5 minutes", "1.5h", "-5m", "+5m", "30m1h",
                               "1h1h", "1h 30", "h30m", "0m", "0d0h0m", "7d1m", "10081m", "8d",
                               "99999999999999999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(cfg::parse_span(bad).has_value());
  }
}

TEST_CASE("parse_hours_range: HH:MM-HH:MM, start before end") {
  using range = std::pair<minutes, minutes>;
  CHECK(cfg::parse_hours_range("09:00-18:00") == range{minutes{540}, minutes{1080}});
  CHECK(cfg::parse_hours_range("9:30-17:45") == range{minutes{570}, minutes{1065}});
  CHECK(cfg::parse_hours_range("00:00-24:00") == range{minutes{0}, minutes{1440}});
  CHECK(cfg::parse_hours_range(" 08:00 - 16:00 ") == range{minutes{480}, minutes{960}});
  for (std::string_view bad : {"", "09:00", "18:00-09:00", "09:00-09:00", "9-17", "09:00-25:00", "24:00-24:00",
                               "09:60-18:00", "09:00-24:01", "0900-1800", "09:00-18:00-19:00", "9am-5pm",
                               "009:00-18:00", "09:0-18:00", "-09:00-18:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(cfg::parse_hours_range(bad).has_value());
  }
}

TEST_CASE("parse_weekdays: ranges, wrapping ranges and lists, any case") {
  CHECK(cfg::parse_weekdays("mon-fri") == days("-MTWTF-"));
  CHECK(cfg::parse_weekdays("sun-thu") == days("SMTWT--"));
  CHECK(cfg::parse_weekdays("sat-wed") == days("SMTW--S"));  // wraps past Saturday
  CHECK(cfg::parse_weekdays("fri-mon") == days("SM---FS"));
  CHECK(cfg::parse_weekdays("mon-sun") == days("SMTWTFS"));
  CHECK(cfg::parse_weekdays("wed-wed") == days("---W---"));
  CHECK(cfg::parse_weekdays("mon,tue,thu") == days("-MT-T--"));
  CHECK(cfg::parse_weekdays("Mon, TUE , thu") == days("-MT-T--"));
  CHECK(cfg::parse_weekdays("mon-wed,fri") == days("-MTW-F-"));
  CHECK(cfg::parse_weekdays("Monday-Friday") == days("-MTWTF-"));
  CHECK(cfg::parse_weekdays("sat") == days("------S"));
  for (std::string_view bad : {"", " ", ",", "mon,", ",mon", "mon-", "-fri", "mon-tue-wed", "funday", "mo-fr",
                               "weekdays", "mon fri", "mon;tue", "1-5"}) {
    CAPTURE(bad);
    CHECK_FALSE(cfg::parse_weekdays(bad).has_value());
  }
}

TEST_CASE("parse_weekly: a weekday and a time") {
  using weekly = std::pair<int, minutes>;
  CHECK(cfg::parse_weekly("mon 09:00") == weekly{1, minutes{540}});
  CHECK(cfg::parse_weekly("Sunday 23:59") == weekly{0, minutes{1439}});
  CHECK(cfg::parse_weekly("  SAT   7:05 ") == weekly{6, minutes{425}});
  for (std::string_view bad : {"", "mon", "09:00", "mon 24:00", "mon 9am", "mon-fri 09:00", "mon,09:00",
                               "funday 09:00", "mon 09:00 utc", "09:00 mon"}) {
    CAPTURE(bad);
    CHECK_FALSE(cfg::parse_weekly(bad).has_value());
  }
}

TEST_CASE("reminders: defaults without the section") {
  const auto r = parse("{}");
  REQUIRE(r.ok());
  const cfg::reminders_config& m = r.cfg->reminders;
  CHECK(m.enabled);
  CHECK(m.timezone == "UTC");
  CHECK(m.work_start == minutes{9 * 60});
  CHECK(m.work_end == minutes{18 * 60});
  CHECK(m.working_days == days("-MTWTF-"));
  CHECK(m.digest_channel == "incidents");
  CHECK(m.digest_weekday == 1);
  CHECK(m.digest_time == minutes{9 * 60});
  CHECK(m.commander_after == minutes{5});
  CHECK(m.roles_after == minutes{15});
  CHECK(m.role_every == minutes{10});
  CHECK(m.role_max_asks == 5);
  CHECK(m.update_every == std::array{minutes{15}, minutes{30}, minutes{60}, minutes{240}, minutes{240}});
  CHECK(m.review_days_sev1 == 3);
  CHECK(m.review_business_days == 5);
  CHECK(m.before_due_days == 2);
  CHECK(m.overdue_every_business_days == 2);
  CHECK(m.escalate_after == 3);
  CHECK(m.lookback_days == 90);
  CHECK(parse(R"({"reminders": {}})").ok());
}

TEST_CASE("reminders: every key is read") {
  const auto r = parse(R"({"reminders": {
    "enabled": false,
    "timezone": "Europe/Berlin",
    "working_hours": "08:30-17:00",
    "working_days": "sun-thu",
    "digest_channel": "#ops-digest",
    "digest": "fri 16:30",
    "commander_after": "2m",
    "roles_after": "1h",
    "role_every": "1h30m",
    "role_max_asks": 0,
    "update_sev1": "10m",
    "update_sev2": "20m",
    "update_sev3": "2h",
    "update_sev4": "1d",
    "update_near_miss": "7d",
    "review_days_sev1": 1,
    "review_business_days": 30,
    "before_due_days": 0,
    "overdue_every_business_days": 7,
    "escalate_after": 50,
    "lookback_days": 0
  }})");
  INFO(all_problems(r));
  REQUIRE(r.ok());
  const cfg::reminders_config& m = r.cfg->reminders;
  CHECK_FALSE(m.enabled);
  CHECK(m.timezone == "Europe/Berlin");
  CHECK(m.work_start == minutes{8 * 60 + 30});
  CHECK(m.work_end == minutes{17 * 60});
  CHECK(m.working_days == days("SMTWT--"));
  CHECK(m.digest_channel == "ops-digest");  // one leading '#' is dropped
  CHECK(m.digest_weekday == 5);
  CHECK(m.digest_time == minutes{16 * 60 + 30});
  CHECK(m.commander_after == minutes{2});
  CHECK(m.roles_after == minutes{60});
  CHECK(m.role_every == minutes{90});
  CHECK(m.role_max_asks == 0);
  CHECK(m.update_every == std::array{minutes{10}, minutes{20}, minutes{120}, minutes{1440}, minutes{10080}});
  CHECK(m.review_days_sev1 == 1);
  CHECK(m.review_business_days == 30);
  CHECK(m.before_due_days == 0);
  CHECK(m.overdue_every_business_days == 7);
  CHECK(m.escalate_after == 50);
  CHECK(m.lookback_days == 0);
}

TEST_CASE("reminders: time zones from the system database") {
  for (std::string_view zone : {"UTC", "Etc/UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
                                "US/Eastern", "Europe/Kiev"}) {
    CAPTURE(zone);
    const auto r = parse(reminder("timezone", "\"" + std::string(zone) + "\""));
    INFO(all_problems(r));
    CHECK(r.ok());
  }
  CHECK(only_problem("timezone", R"("Europe/Berln")") ==
        "reminders.timezone: unknown time zone \"Europe/Berln\"; use an IANA time zone name like "
        "\"Europe/Berlin\", \"America/New_York\" or \"UTC\" (did you mean \"Europe/Berlin\"?)");
  CHECK(only_problem("timezone", R"("europe/berlin")") ==
        "reminders.timezone: unknown time zone \"europe/berlin\"; use an IANA time zone name like "
        "\"Europe/Berlin\", \"America/New_York\" or \"UTC\" (did you mean \"Europe/Berlin\"?)");
  CHECK(only_problem("timezone", R"("New York")") ==
        "reminders.timezone: unknown time zone \"New York\"; use an IANA time zone name like "
        "\"Europe/Berlin\", \"America/New_York\" or \"UTC\" (did you mean \"America/New_York\"?)");
  CHECK(only_problem("timezone", R"("Mars/Olympus_Mons")") ==
        "reminders.timezone: unknown time zone \"Mars/Olympus_Mons\"; use an IANA time zone name like "
        "\"Europe/Berlin\", \"America/New_York\" or \"UTC\"");
  CHECK(only_problem("timezone", R"("")") ==
        "reminders.timezone: must not be empty; use an IANA time zone name like \"Europe/Berlin\", "
        "\"America/New_York\" or \"UTC\"");
  CHECK(only_problem("timezone", "2") == "reminders.timezone: must be a string, got a number");
}

TEST_CASE("reminders: bad working hours, days and digest say what they must look like") {
  CHECK(only_problem("working_hours", R"("18:00-09:00")") ==
        "reminders.working_hours: must be \"HH:MM-HH:MM\" with start before end, got \"18:00-09:00\"");
  CHECK(only_problem("working_hours", R"("9-5")") ==
        "reminders.working_hours: must be \"HH:MM-HH:MM\" with start before end, got \"9-5\"");
  CHECK(only_problem("working_hours", "9") ==
        "reminders.working_hours: must be \"HH:MM-HH:MM\" with start before end, got 9");
  CHECK(only_problem("working_days", R"("mon-funday")") ==
        "reminders.working_days: must be days like \"mon-fri\", \"sun-thu\" or \"mon,tue,thu\" "
        "(sun, mon, tue, wed, thu, fri, sat), got \"mon-funday\"");
  CHECK(only_problem("working_days", R"("")") ==
        "reminders.working_days: must be days like \"mon-fri\", \"sun-thu\" or \"mon,tue,thu\" "
        "(sun, mon, tue, wed, thu, fri, sat), got \"\"");
  CHECK(only_problem("working_days", R"(["mon", "tue"])") ==
        "reminders.working_days: must be days like \"mon-fri\", \"sun-thu\" or \"mon,tue,thu\" "
        "(sun, mon, tue, wed, thu, fri, sat), got an array");
  CHECK(only_problem("digest", R"("monday 9am")") ==
        "reminders.digest: must be a weekday and a 24-hour time like \"mon 09:00\", got \"monday 9am\"");
  CHECK(only_problem("digest", R"("09:00")") ==
        "reminders.digest: must be a weekday and a 24-hour time like \"mon 09:00\", got \"09:00\"");
}

TEST_CASE("reminders: spans need a unit, more than 0, at most 7 days") {
  for (std::string_view key : {"commander_after", "roles_after", "role_every", "update_sev1", "update_sev2",
                               "update_sev3", "update_sev4", "update_near_miss"}) {
    CAPTURE(key);
    const std::string path = "reminders." + std::string(key) + ": ";
    CHECK(only_problem(key, "15") ==
          path + "needs a unit: \"15m\" (minutes), \"15h\" (hours) or \"15d\" (days), got 15");
    CHECK(only_problem(key, R"("15")") ==
          path + "needs a unit: \"15m\" (minutes), \"15h\" (hours) or \"15d\" (days), got \"15\"");
    CHECK(only_problem(key, R"("0m")") == path + "must be more than 0 and at most 7 days (\"7d\"), got \"0m\"");
    CHECK(only_problem(key, R"("8d")") == path + "must be more than 0 and at most 7 days (\"7d\"), got \"8d\"");
    CHECK(only_problem(key, R"("5 minutes")") ==
          path + "must be a span of time like \"5m\", \"90m\", \"4h\", \"1d\" or \"1h30m\", got \"5 minutes\"");
    CHECK(only_problem(key, "1.5") ==
          path + "must be a span of time like \"5m\", \"90m\", \"4h\", \"1d\" or \"1h30m\", got 1.5");
    CHECK(only_problem(key, "-5") ==
          path + "must be a span of time like \"5m\", \"90m\", \"4h\", \"1d\" or \"1h30m\", got -5");
    CHECK(only_problem(key, "0") ==  // "0m" would not do either
          path + "must be a span of time like \"5m\", \"90m\", \"4h\", \"1d\" or \"1h30m\", got 0");
    CHECK(only_problem(key, "null") ==
          path + "must be a span of time like \"5m\", \"90m\", \"4h\", \"1d\" or \"1h30m\", got null");
  }
}

TEST_CASE("reminders: whole numbers in their ranges") {
  struct row {
    std::string_view key;
    int min, max;
  };
  for (const row& r : {row{"role_max_asks", 0, 50}, row{"review_days_sev1", 1, 30}, row{"review_business_days", 1, 30},
                       row{"before_due_days", 0, 30}, row{"overdue_every_business_days", 1, 30},
                       row{"escalate_after", 1, 50}, row{"lookback_days", 0, 730}}) {
    CAPTURE(r.key);
    const std::string range = "from " + std::to_string(r.min) + " to " + std::to_string(r.max);
    const std::string path = "reminders." + std::string(r.key) + ": ";
    CHECK(parse(reminder(r.key, std::to_string(r.min))).ok());
    CHECK(parse(reminder(r.key, std::to_string(r.max))).ok());
    for (int outside : {r.min - 1, r.max + 1})
      CHECK(only_problem(r.key, std::to_string(outside)) ==
            path + "must be " + range + ", got " + std::to_string(outside));
    CHECK(only_problem(r.key, R"("3")") == path + "must be a whole number " + range + ", got a string");
  }
  CHECK(only_problem("enabled", R"("no")") == "reminders.enabled: must be true or false, got a string");
}

TEST_CASE("reminders: the digest channel is one channel name") {
  CHECK(parse(reminder("digest_channel", R"("#incidents")")).cfg->reminders.digest_channel == "incidents");
  CHECK(parse(reminder("digest_channel", R"("eng-incidents_weekly")")).cfg->reminders.digest_channel ==
        "eng-incidents_weekly");
  CHECK(only_problem("digest_channel", R"("")") ==
        "reminders.digest_channel: must name a channel, e.g. \"incidents\" (where the weekly digest goes)");
  CHECK(only_problem("digest_channel", R"("#")") ==
        "reminders.digest_channel: must name a channel, e.g. \"incidents\" (where the weekly digest goes)");
  CHECK(only_problem("digest_channel", R"("##ops")") ==
        "reminders.digest_channel: must be one channel name without spaces, e.g. \"incidents\" (a leading '#' is "
        "fine), got \"##ops\"");
  CHECK(only_problem("digest_channel", R"("ops, eng")") ==
        "reminders.digest_channel: must be one channel name without spaces, e.g. \"incidents\" (a leading '#' is "
        "fine), got \"ops, eng\"");
  CHECK(only_problem("digest_channel", "\"" + std::string(81, 'a') + "\"") ==
        "reminders.digest_channel: must be at most 80 characters, got \"" + std::string(80, 'a') + "\"…");
  CHECK(only_problem("digest_channel", "false") == "reminders.digest_channel: must be a string, got a boolean");
}

TEST_CASE("reminders: unknown keys get a suggestion") {
  CHECK(only_problem("comander_after", R"("5m")") ==
        "reminders.comander_after: unknown key; did you mean `reminders.commander_after`?");
  CHECK(only_problem("update_sev_1", R"("5m")") ==
        "reminders.update_sev_1: unknown key; did you mean `reminders.update_sev1`?");
  CHECK(only_problem("working-days", R"("mon-fri")") ==
        "reminders.working-days: unknown key; did you mean `reminders.working_days`?");
  CHECK(only_problem("quiet_hours", R"("22:00-07:00")") ==
        "reminders.quiet_hours: unknown key; the keys here are: enabled, timezone, working_hours, working_days, "
        "digest_channel, digest, commander_after, roles_after, role_every, role_max_asks, update_sev1, "
        "update_sev2, update_sev3, update_sev4, update_near_miss, review_days_sev1, review_business_days, "
        "before_due_days, overdue_every_business_days, escalate_after, lookback_days");
  const auto top = parse(R"({"timezone": "UTC"})");
  REQUIRE(top.problems.size() == 1);
  CHECK(cfg::to_string(top.problems[0]) == "timezone: unknown key; did you mean `reminders.timezone`?");
  const auto misspelt = parse(R"({"reminder": {"enabled": false}})");
  REQUIRE(misspelt.problems.size() == 1);
  CHECK(cfg::to_string(misspelt.problems[0]) == "reminder: unknown key; did you mean `reminders`?");
  const auto flat = parse(R"({"reminders.enabled": false})");
  REQUIRE(flat.problems.size() == 1);
  CHECK(flat.problems[0].path == "reminders.enabled");
  CHECK(flat.problems[0].message.find("nest it instead") != std::string::npos);
}

TEST_CASE("reminders: several problems at once, in file order, then the value checks") {
  const auto r = parse(R"({"reminders": {
    "timezone": "Europe/Berln",
    "working_hours": "18:00-09:00",
    "commander_after": 5,
    "digest_channel": "",
    "lookback_days": 1000,
    "duplicate": 1,
    "working_days": "weekdays"
  }})");
  INFO(all_problems(r));
  REQUIRE(r.problems.size() == 7);
  CHECK(r.problems[0].path == "reminders.working_hours");
  CHECK(r.problems[1].path == "reminders.commander_after");
  CHECK(r.problems[2].path == "reminders.lookback_days");
  CHECK(r.problems[3].path == "reminders.duplicate");
  CHECK(r.problems[4].path == "reminders.working_days");
  CHECK(r.problems[5].path == "reminders.timezone");
  CHECK(r.problems[6].path == "reminders.digest_channel");
}

TEST_CASE("reminders: a section that is not an object is one problem") {
  const auto r = parse(R"({"reminders": false})");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "reminders");
  CHECK(r.problems[0].message.starts_with("must be an object with the keys enabled, timezone, working_hours, "));
  CHECK(r.problems[0].message.ends_with(", got a boolean"));
}

TEST_CASE("reminders: the example file shows every key at its default, with a comment") {
  const std::string path = KINTSUGI_SOURCE_DIR "/config/kintsugi.example.json";
  const auto r = cfg::load(path, nullptr);
  INFO(all_problems(r));
  REQUIRE(r.ok());
  const cfg::reminders_config& m = r.cfg->reminders;
  const cfg::reminders_config d;
  CHECK(m.enabled == d.enabled);
  CHECK(m.timezone == d.timezone);
  CHECK(m.work_start == d.work_start);
  CHECK(m.work_end == d.work_end);
  CHECK(m.working_days == d.working_days);
  CHECK(m.digest_channel == d.digest_channel);
  CHECK(m.digest_weekday == d.digest_weekday);
  CHECK(m.digest_time == d.digest_time);
  CHECK(m.commander_after == d.commander_after);
  CHECK(m.roles_after == d.roles_after);
  CHECK(m.role_every == d.role_every);
  CHECK(m.role_max_asks == d.role_max_asks);
  CHECK(m.update_every == d.update_every);
  CHECK(m.review_days_sev1 == d.review_days_sev1);
  CHECK(m.review_business_days == d.review_business_days);
  CHECK(m.before_due_days == d.before_due_days);
  CHECK(m.overdue_every_business_days == d.overdue_every_business_days);
  CHECK(m.escalate_after == d.escalate_after);
  CHECK(m.lookback_days == d.lookback_days);

  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  for (std::string_view key : {"reminders", "enabled", "timezone", "working_hours", "working_days", "digest_channel",
                               "digest", "commander_after", "roles_after", "role_every", "role_max_asks",
                               "update_sev1", "update_sev2", "update_sev3", "update_sev4", "update_near_miss",
                               "review_days_sev1", "review_business_days", "before_due_days",
                               "overdue_every_business_days", "escalate_after", "lookback_days"}) {
    CAPTURE(key);
    CHECK(text.str().find("\"" + std::string(key) + "\":") != std::string::npos);
    CHECK(text.str().find("\"//" + std::string(key) + "\":") != std::string::npos);
  }
}
