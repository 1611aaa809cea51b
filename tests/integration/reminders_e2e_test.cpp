// Issue 4's "Done means": one incident and a simulated month through `kintsugi console --jsonl`, with `tick` lines
// moving the clock and a restart in the middle. Every prompt, nudge, reminder, escalation and digest comes at its
// minute (read back from the timeline, where each one is a system entry), none twice, none missing, and none after
// the items close.
#include <doctest/doctest.h>

#include <chrono>
#include <map>

#include "e2e_support.hpp"

using namespace kintsugi::test;

namespace {

const std::string ch = "inc-checkout";

std::string tick(const std::string& ts) { return json{{"type", "tick"}, {"ts", ts}}.dump() + "\n"; }

std::string iso(std::chrono::sys_seconds t) {
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:00Z", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()));
  return buf;
}

std::chrono::sys_seconds at(int y, unsigned m, unsigned d, int h, int mi = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} + std::chrono::hours{h} + std::chrono::minutes{mi};
}

// Ticks from `from` (inclusive) to `to` (exclusive) every `step`.
std::string ticks(std::chrono::sys_seconds from, std::chrono::sys_seconds to, std::chrono::minutes step) {
  std::string s;
  for (auto t = from; t < to; t += step) s += tick(iso(t));
  return s;
}

// The month, in two parts: the second runs in a new process on the same database (a restart).
std::string first_part() {
  std::string s;
  s += say("c1", "alice", ch, "/incident start Checkout errors after deploy sev2", "2026-11-20T10:00:00Z");
  s += say("c2", "alice", ch, "/incident role commander me", "2026-11-20T10:02:00Z");
  s += say("m1", "bob", ch, "5xx rate is 30% on /pay", "2026-11-20T10:03:00Z");
  s += ticks(at(2026, 11, 20, 10, 5), at(2026, 11, 20, 10, 40), std::chrono::minutes{5});
  s += say("c3", "alice", ch, "/incident update Rolled back the deploy; 5xx falling", "2026-11-20T10:40:00Z");
  s += ticks(at(2026, 11, 20, 10, 40), at(2026, 11, 20, 10, 50), std::chrono::minutes{5});
  s += say("c4", "carol", ch, "/incident role facilitator me", "2026-11-20T10:50:00Z");
  s += ticks(at(2026, 11, 20, 10, 50), at(2026, 11, 20, 11, 20), std::chrono::minutes{5});
  s += say("c5", "alice", ch, "/incident resolve Error rate back to normal", "2026-11-20T11:20:00Z");
  s += say("c6", "alice", ch, "/incident action add Add a canary stage to deploys @bob due:2026-11-25", "2026-11-20T11:25:00Z");
  s += say("c7", "alice", ch, "/incident action add Alert on the 5xx rate @dana due:2026-12-04 kind:detection", "2026-11-20T11:26:00Z");
  s += ticks(at(2026, 11, 20, 12, 0), at(2026, 11, 28, 0), std::chrono::minutes{60});
  return s;
}

std::string second_part() {
  std::string s;
  s += ticks(at(2026, 11, 28, 0), at(2026, 12, 3, 10), std::chrono::minutes{60});
  s += say("c8", "bob", "D-bob", "/incident action done 1", "2026-12-03T10:30:00Z");
  s += ticks(at(2026, 12, 3, 11), at(2026, 12, 4, 12), std::chrono::minutes{60});
  s += say("c9", "dana", "D-dana", "/incident action done 2", "2026-12-04T12:30:00Z");
  s += ticks(at(2026, 12, 4, 13), at(2026, 12, 21, 0), std::chrono::minutes{60});
  // 90 days after #1 closed (10:30 on 3 December): the look-back.
  s += tick("2027-03-03T10:00:00Z") + tick("2027-03-03T11:00:00Z");
  s += say("c10", "bob", "D-bob", "/incident action held 1 yes", "2027-03-03T11:30:00Z");
  s += tick("2027-03-04T13:00:00Z");
  return s;
}

// What the bot said on its own (not replies to commands), by the emoji each kind of follow-up starts with.
std::vector<json> follow_ups(const std::vector<json>& out) {
  std::vector<json> keep;
  for (const auto& l : out) {
    const std::string text = l.value("text", "");
    for (const char* mark : {"👋", "⏰", "📅", "🔔", "🧭", "🗓", "🔍"})
      if (text.starts_with(mark)) keep.push_back(l);
  }
  return keep;
}

std::string who(const json& l) { return l.value("type", "") == "dm" ? "dm " + l.value("user", "") : "post " + l.value("channel", ""); }

}  // namespace

TEST_CASE("a month of follow-up through console --jsonl, with a restart in the middle: every reminder once, on time") {
  temp_dir dir;
  const auto db = dir.file("k.db");
  const auto one = follow_ups(console_jsonl(db, first_part()));
  const auto two = follow_ups(console_jsonl(db, second_part()));
  std::vector<json> all = one;
  all.insert(all.end(), two.begin(), two.end());

  std::string said;
  for (const auto& l : all) said += who(l) + " | " + l.value("text", "").substr(0, 90) + "\n";
  INFO(said);

  // Who heard what, in order.
  std::vector<std::string> sequence;
  for (const auto& l : all) {
    const std::string text = l.value("text", "");
    sequence.push_back(who(l) + " " + text.substr(0, text.find(' ')));  // the leading emoji
  }
  const std::vector<std::string> expected{
      // 10:15 … 10:55: five asks for a scribe, four for a facilitator (carol took it at 10:50); 10:30 a nudge.
      "post inc-checkout 👋", "post inc-checkout 👋",  // 10:15
      "post inc-checkout 👋", "post inc-checkout 👋",  // 10:25
      "dm alice ⏰",                                    // 10:30: sev2, 30 min without an update
      "post inc-checkout 👋", "post inc-checkout 👋",  // 10:35
      "post inc-checkout 👋", "post inc-checkout 👋",  // 10:45
      "post inc-checkout 👋",                          // 10:55 scribe, the fifth and last
      "dm alice ⏰",                                    // 11:10: 30 min after the 10:40 update
      "dm carol 📅",                                    // 11:20 resolve: carol is asked to schedule the review
      "post incidents 🗓",                             // Mon 23 09:00 digest
      "dm bob 🔔",                                      // Mon 23 09:00 #1 due in 2 days
      "dm bob 🔔",                                      // Wed 25 09:00 #1 due today
      "dm carol 📅",                                    // Fri 27 09:00 the review is still not scheduled
      "dm bob 🔔",                                      // Fri 27 09:00 #1 overdue (1)
      // restart
      "post incidents 🗓",                             // Mon 30 09:00 digest
      "dm bob 🔔",                                      // Tue 1 Dec #1 overdue (2)
      "dm dana 🔔",                                     // Wed 2 Dec #2 due in 2 days
      "dm bob 🔔",                                      // Thu 3 Dec #1 overdue (3)
      "dm alice 🧭",                                    // … and the commander hears of it
      "dm dana 🔔",                                     // Fri 4 Dec #2 due today
      "dm bob 🔍",                                      // 2027-03-03 11:00 look-back of #1
      "dm dana 🔍",                                     // 2027-03-04 13:00 look-back of #2
  };
  CHECK(sequence == expected);
  REQUIRE(one.size() == 17);

  // The digest lists every open item by owner; the second one shows #1 overdue and bob first.
  CHECK(all[12].value("text", "").find("Open action items this week: 2.") != std::string::npos);
  CHECK(all[17].value("text", "").find("Open action items this week: 2, 1 overdue.") != std::string::npos);
  CHECK(all[17].value("text", "").find("@bob") < all[17].value("text", "").find("@dana"));

  // The minute of each follow-up, from the incident's timeline.
  auto timeline = json::parse(run_kintsugi({"timeline", "--db", db, "1", "--format", "json"}).out);
  std::multimap<std::string, std::string> system;  // at -> text
  for (const auto& e : timeline["entries"])
    if (e["kind"] == "system") system.emplace(e["at"].get<std::string>(), e["text"].get<std::string>());
  auto has = [&](const std::string& when, const std::string& text) {
    auto [from, to] = system.equal_range(when);
    for (auto it = from; it != to; ++it)
      if (it->second.find(text) != std::string::npos) return true;
    return false;
  };
  CHECK(has("2026-11-20T10:15:00Z", "Asked for a scribe (1 of 5)"));
  CHECK(has("2026-11-20T10:55:00Z", "Asked for a scribe (5 of 5)"));
  CHECK(has("2026-11-20T10:45:00Z", "Asked for a facilitator (4 of 5)"));
  CHECK(has("2026-11-20T10:30:00Z", "Nudged"));
  CHECK(has("2026-11-20T11:10:00Z", "Nudged"));
  CHECK(has("2026-11-20T11:20:00Z", "to schedule the review by 2026-11-27"));
  CHECK(has("2026-11-23T09:00:00Z", "that action #1 is due 2026-11-25"));
  CHECK(has("2026-11-25T09:00:00Z", "that action #1 is due today"));
  CHECK(has("2026-11-27T09:00:00Z", "that the review is not scheduled yet"));
  CHECK(has("2026-11-27T09:00:00Z", "(1st overdue reminder)"));
  CHECK(has("2026-12-01T09:00:00Z", "(2nd overdue reminder)"));
  CHECK(has("2026-12-02T09:00:00Z", "that action #2 is due 2026-12-04"));
  CHECK(has("2026-12-03T09:00:00Z", "(3rd overdue reminder)"));
  CHECK(has("2026-12-03T09:00:00Z", "is still open after 3 overdue reminders"));
  CHECK(has("2026-12-04T09:00:00Z", "that action #2 is due today"));
  CHECK(has("2027-03-03T11:00:00Z", "whether the fix of action #1 held"));
  CHECK(has("2027-03-04T13:00:00Z", "whether the fix of action #2 held"));

  // The look-back's answer is kept for the stats.
  auto pm = json::parse(run_kintsugi({"postmortem", "--db", db, "1", "--format", "json"}).out);
  REQUIRE(pm["actions"].size() == 2);
}

TEST_CASE("replaying the month changes nothing and says nothing") {
  temp_dir dir;
  const auto db = dir.file("k.db");
  console_jsonl(db, first_part() + second_part());
  // Every command is a redelivery and every reminder has fired or moved on: the old ticks find nothing due.
  CHECK(follow_ups(console_jsonl(db, first_part() + second_part())).empty());
}
