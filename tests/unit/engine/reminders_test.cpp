// Issue 4 in the engine: role asks, update nudges, the review ask, action-item reminders with escalation, the
// weekly digest and the look-back, driven by clock ticks (the clock is injected: every tick carries its time).
#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::core;
using namespace kintsugi::test::engine_fx;

namespace {

struct said {
  timestamp at;
  std::string what;  // show(action)
};

// Ticks every `step` minutes from `from` to `to` (inclusive) and keeps what the bot said, with the tick's time.
std::vector<said> tick_through(bot& b, timestamp from, timestamp to, std::chrono::minutes step) {
  std::vector<said> out;
  for (timestamp now = from; now <= to; now += step)
    for (const auto& a : b.send(clock_tick{now})) out.push_back({now, show(a)});
  return out;
}

std::size_t count_with(const std::vector<said>& all, std::string_view text) {
  std::size_t n = 0;
  for (const auto& s : all)
    if (s.what.find(text) != std::string::npos) ++n;
  return n;
}

std::string dump(const std::vector<said>& all) {
  std::string out;
  for (const auto& s : all) out += format_iso(s.at) + " " + s.what + "\n";
  return out;
}

std::size_t system_entries_with(bot& b, std::string_view text) {
  std::size_t n = 0;
  for (const auto& e : b.timeline())
    if (e.kind == entry_kind::system && e.text.find(text) != std::string::npos) ++n;
  return n;
}

timestamp day(int d, int hour, int minute = 0) {  // 2026-11-<d> hh:mm UTC (t0 is Friday the 20th, 10:00)
  return timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / d}} + std::chrono::hours{hour} +
         std::chrono::minutes{minute};
}

}  // namespace

TEST_SUITE("engine reminders") {

TEST_CASE("roles: commander asked after 5 min then every 10, at most 5 times, scribe and facilitator after 15") {
  bot b;
  b.start_db();
  auto seen = tick_through(b, t(1), t(120), std::chrono::minutes{1});
  INFO(dump(seen));
  CHECK(count_with(seen, "still needs a commander") == 5);
  CHECK(count_with(seen, "still needs a scribe") == 5);
  CHECK(count_with(seen, "still needs a facilitator") == 5);
  REQUIRE(!seen.empty());
  CHECK(seen[0].at == t(5));
  CHECK(seen[0].what.starts_with("post #inc-db | 👋 INC-1 still needs a commander"));
  CHECK(seen[0].what.find("`/incident role commander me`") != std::string::npos);
  std::vector<timestamp> commander_asks;
  for (const auto& s : seen)
    if (s.what.find("needs a commander") != std::string::npos) commander_asks.push_back(s.at);
  CHECK(commander_asks == std::vector<timestamp>{t(5), t(15), t(25), t(35), t(45)});
  CHECK(system_entries_with(b, "Asked for a commander (5 of 5)") == 1);
}

TEST_CASE("roles: a taken role is not asked for again, the others still are") {
  bot b;
  b.start_db();
  b.cmd("bob", "inc-db", "role commander me", t(3));
  auto seen = tick_through(b, t(4), t(30), std::chrono::minutes{1});
  INFO(dump(seen));
  CHECK(count_with(seen, "needs a commander") == 0);
  CHECK(count_with(seen, "needs a scribe") == 2);  // 15 and 25
}

TEST_CASE("update nudges: a DM to the commander when updates go quiet, by severity, an update resets it") {
  bot b;
  b.start_db("inc-db", " sev2");
  b.cmd("bob", "inc-db", "role commander me", t(1));
  auto seen = tick_through(b, t(2), t(30), std::chrono::minutes{1});
  INFO(dump(seen));
  REQUIRE(count_with(seen, "dm @bob | ⏰") == 1);
  for (const auto& s : seen)
    if (s.what.starts_with("dm @bob")) {
      CHECK(s.at == t(30));
      CHECK(s.what.find("no update for 30m") != std::string::npos);
      CHECK(s.what.find("/incident nudge snooze 30m INC-1") != std::string::npos);
    }
  b.cmd("bob", "inc-db", "update Rolled back; error rate falling", t(40));
  seen = tick_through(b, t(41), t(70), std::chrono::minutes{1});
  INFO(dump(seen));
  CHECK(count_with(seen, "dm @bob") == 1);
  CHECK(seen.back().at == t(70));
  CHECK(system_entries_with(b, "Nudged <@bob> for a status update") == 2);
}

TEST_CASE("update nudges: sev1 every 15 min, snooze, stop from a DM, resume, none after resolve") {
  bot b;
  b.start_db("inc-db", " sev1");
  b.cmd("bob", "inc-db", "role commander me", t(0));
  auto seen = tick_through(b, t(1), t(31), std::chrono::minutes{1});
  CHECK(count_with(seen, "dm @bob | ⏰") == 2);  // 15, 30
  auto reply = b.cmd("bob", "D-bob", "nudge snooze 1h INC-1", t(32));
  CHECK(show(reply).find("No update nudges for INC-1 until 2026-11-20 11:32") != std::string::npos);
  seen = tick_through(b, t(33), t(91), std::chrono::minutes{1});
  INFO(dump(seen));
  CHECK(count_with(seen, "dm @bob") == 0);
  seen = tick_through(b, t(92), t(92), std::chrono::minutes{1});
  CHECK(count_with(seen, "dm @bob") == 1);
  b.cmd("bob", "D-bob", "nudge stop INC-1", t(93));
  CHECK_FALSE(b.inc().nudges);
  seen = tick_through(b, t(94), t(200), std::chrono::minutes{1});
  CHECK(count_with(seen, "dm @bob") == 0);
  b.cmd("bob", "inc-db", "nudge resume", t(201));
  seen = tick_through(b, t(202), t(216), std::chrono::minutes{1});
  CHECK(count_with(seen, "dm @bob") == 1);
  b.cmd("bob", "inc-db", "resolve", t(217));
  seen = tick_through(b, t(218), t(400), std::chrono::minutes{5});
  CHECK(count_with(seen, "⏰") == 0);
  CHECK(count_with(seen, "needs a") == 0);
}

TEST_CASE("nudge: clear errors for bad input, and nothing changes") {
  bot b;
  b.start_db();
  CHECK(only_ephemeral(b.cmd("bob", "inc-db", "nudge", t(1))).text.find("snooze <duration>") != std::string::npos);
  CHECK(only_ephemeral(b.cmd("bob", "inc-db", "nudge snooze soon", t(1))).text.find("is not a duration") != std::string::npos);
  CHECK(only_ephemeral(b.cmd("bob", "D-bob", "nudge stop INC-9", t(1))).text == "There is no INC-9.");
  CHECK(only_ephemeral(b.cmd("bob", "D-bob", "nudge stop", t(1))).text.starts_with("There is no incident in this channel"));
  CHECK(b.inc().nudges);
}

TEST_CASE("review: the facilitator is asked at resolve, with a deadline and what is missing, reminded once if unscheduled") {
  bot b;
  b.start_db("inc-db", " sev1");
  b.cmd("carol", "inc-db", "role facilitator me", t(1));
  const auto out = b.cmd("alice", "inc-db", "resolve", t(60));
  const auto dms = of_kind<direct_message>(out);
  REQUIRE(dms.size() == 1);
  CHECK(dms[0].user == "carol");
  // Friday 11:00 + 3 calendar days (sev1) = Monday 23 November.
  CHECK(dms[0].text.starts_with("📅 INC-1 (DB down) is resolved. Could you schedule its review by 2026-11-23 (within 3 days"));
  CHECK(dms[0].text.find("The postmortem still needs:\n• Summary") != std::string::npos);
  auto seen = tick_through(b, t(61), day(23, 8, 59), std::chrono::minutes{60});
  CHECK(count_with(seen, "review") == 0);
  seen = tick_through(b, day(23, 9), day(25, 9), std::chrono::minutes{60});
  INFO(dump(seen));
  REQUIRE(count_with(seen, "dm @carol | 📅 The review of INC-1") == 1);
  CHECK(seen.front().at == day(23, 9));
}

TEST_CASE("review: no reminder once the review is scheduled") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "resolve", t(60));
  b.cmd("alice", "inc-db", "review 2026-11-24 14:00", t(61));
  auto seen = tick_through(b, t(62), day(30, 12), std::chrono::minutes{60});
  CHECK(count_with(seen, "review") == 0);
}

TEST_CASE("actions: two days before, on the day, every two business days overdue, escalation after three, none once done") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "role commander me", t(1));
  // Due Wednesday 25 November; bob has no known zone: UTC, 09:00-18:00 Monday to Friday.
  b.cmd("alice", "inc-db", "action add Add a canary stage @bob due:2026-11-25", t(2));
  auto seen = tick_through(b, t(30), day(30, 23), std::chrono::minutes{30});
  INFO(dump(seen));
  std::vector<said> to_bob;
  for (const auto& s : seen)
    if (s.what.starts_with("dm @bob")) to_bob.push_back(s);
  REQUIRE(to_bob.size() == 3);
  CHECK(to_bob[0].at == day(23, 9));  // Monday: due in 2 days
  CHECK(to_bob[0].what.find("due in 2 days, on 2026-11-25") != std::string::npos);
  CHECK(to_bob[1].at == day(25, 9));
  CHECK(to_bob[1].what.find("due today") != std::string::npos);
  CHECK(to_bob[2].at == day(27, 9));  // Friday: 2 business days later
  CHECK(to_bob[2].what.find("was due 2026-11-25") != std::string::npos);
  CHECK(count_with(seen, "dm @alice | 🧭") == 0);

  const auto december = [](int d, int h) { return timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / d}} + std::chrono::hours{h}; };
  seen = tick_through(b, day(30, 23, 30), december(3, 10), std::chrono::minutes{30});
  INFO(dump(seen));
  // Tuesday 1 December (over the weekend), then Thursday 3 December: the third overdue reminder.
  CHECK(count_with(seen, "dm @bob") == 2);
  REQUIRE(count_with(seen, "dm @alice | 🧭 Action #1 from INC-1") == 1);
  CHECK(system_entries_with(b, "Told <@alice> that action #1 is still open after 3 overdue reminders") == 1);
  CHECK(system_entries_with(b, "(3rd overdue reminder)") == 1);

  b.cmd("bob", "D-bob", "action done 1", december(3, 11));
  seen = tick_through(b, timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / 3}},
                      timestamp{std::chrono::sys_days{std::chrono::year{2026} / 12 / 31}}, std::chrono::hours{6});
  CHECK(count_with(seen, "dm @bob") == 0);
}

TEST_CASE("actions: reminders wait for the owner's working morning in their time zone") {
  bot b;
  b.send(user_updated{user{"bob", "Bob", "America/New_York"}, t0});
  b.start_db();
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-11-24", t(2));
  auto seen = tick_through(b, t(15), day(24, 23), std::chrono::minutes{15});
  INFO(dump(seen));
  std::vector<timestamp> at;
  for (const auto& s : seen)
    if (s.what.starts_with("dm @bob")) at.push_back(s.at);
  // Two days before is Sunday: the next working morning is Monday 09:00 in New York (14:00 UTC); the due day Tuesday.
  CHECK(at == std::vector<timestamp>{day(23, 14), day(24, 14)});
}

TEST_CASE("actions: a coarse clock sends one reminder per item, not every missed one") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-11-23", t(2));
  auto seen = tick_through(b, day(27, 12), day(27, 12), std::chrono::minutes{1});
  CHECK(count_with(seen, "dm @bob") == 1);
  seen = tick_through(b, day(27, 12), day(27, 23), std::chrono::minutes{1});
  CHECK(count_with(seen, "dm @bob") == 0);
}

TEST_CASE("actions: a reassigned item nags only its new owner, a dropped one nobody, snooze moves the next reminder") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-11-24", t(2));
  b.cmd("alice", "inc-db", "action add Write the runbook @dana due:2026-11-24", t(3));
  b.cmd("alice", "inc-db", "action reassign 1 @erin", t(4));
  b.cmd("alice", "inc-db", "action drop 2", t(5));
  auto seen = tick_through(b, t(30), day(24, 23), std::chrono::minutes{30});
  INFO(dump(seen));
  CHECK(count_with(seen, "dm @bob") == 0);
  CHECK(count_with(seen, "dm @dana") == 0);
  CHECK(count_with(seen, "dm @erin") == 2);
  b.cmd("erin", "D-erin", "action snooze 1 1w", day(24, 23, 30));
  seen = tick_through(b, day(25, 0), day(30, 23), std::chrono::minutes{60});
  CHECK(count_with(seen, "dm @erin") == 0);
}

TEST_CASE("weekly digest: Monday 09:00 in the digest channel, owners with overdue items first") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-12-20", t(2));
  b.cmd("alice", "inc-db", "action add Write the runbook @dana due:2026-11-20", t(3));
  auto seen = tick_through(b, day(23, 8), day(23, 10), std::chrono::minutes{30});
  INFO(dump(seen));
  std::vector<said> digests;
  for (const auto& s : seen)
    if (s.what.starts_with("post #incidents")) digests.push_back(s);
  REQUIRE(digests.size() == 1);
  CHECK(digests[0].at == day(23, 9));
  CHECK(digests[0].what.find("Open action items this week: 2, 1 overdue.") != std::string::npos);
  CHECK(digests[0].what.find("<@dana>") < digests[0].what.find("<@bob>"));
  CHECK(digests[0].what.find("#2 Write the runbook — INC-1, due 2026-11-20 (overdue)") != std::string::npos);
  b.cmd("bob", "D-bob", "action done 1", day(24, 10));
  b.cmd("dana", "D-dana", "action done 2", day(24, 10));
  seen = tick_through(b, day(30, 8), day(30, 10), std::chrono::minutes{30});
  CHECK(count_with(seen, "post #incidents") == 0);  // nothing open: no digest
}

TEST_CASE("look-back: 90 days after done the owner is asked, \"no\" reopens it and tells the commander") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "role commander me", t(1));
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-11-27", t(2));
  b.cmd("bob", "D-bob", "action done 1", t(60));  // Friday 20 November 11:00
  const timestamp ninety = t(60) + std::chrono::days{90};  // Thursday 18 February 2027 11:00, a working hour
  auto seen = tick_through(b, ninety - std::chrono::minutes{1}, ninety, std::chrono::minutes{1});
  INFO(dump(seen));
  REQUIRE(count_with(seen, "dm @bob | 🔍") == 1);
  CHECK(seen.back().at == ninety);
  CHECK(seen.back().what.find("`/incident action held 1 yes`") != std::string::npos);

  const auto reply = b.cmd("bob", "D-bob", "action held 1 no", ninety + std::chrono::hours{1});
  CHECK(b.item(1).status == action_status::open);
  CHECK(b.item(1).fix_held == fix_check::regressed);
  CHECK(count_with({{ninety, show(reply)}}, "Action #1 is open again") == 1);
  REQUIRE(of_kind<direct_message>(reply).size() == 1);
  CHECK(of_kind<direct_message>(reply)[0].user == "alice");
}

TEST_CASE("look-back: yes is counted as held, and the item stays closed") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-11-27", t(2));
  b.cmd("bob", "D-bob", "action done 1", t(60));
  CHECK(only_ephemeral(b.cmd("bob", "D-bob", "action held 1 yes", t(61))).text.find("held") != std::string::npos);
  CHECK(b.item(1).fix_held == fix_check::held);
  CHECK(b.item(1).status == action_status::done);
  CHECK(only_ephemeral(b.cmd("bob", "D-bob", "action held 1 maybe", t(62))).text.find("is not an answer") != std::string::npos);
}

TEST_CASE("reminders off in the policy: nothing is scheduled or said") {
  engine_options o;
  o.reminders.enabled = false;
  bot b{o};
  b.start_db();
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-11-23", t(2));
  auto seen = tick_through(b, t(3), day(30, 12), std::chrono::minutes{60});
  CHECK(seen.empty());
  CHECK_FALSE(b.db.next_reminder_due().has_value());
}


TEST_CASE("reminders offer buttons where a click does the job") {
  bot b;
  b.start_db();
  b.cmd("alice", "inc-db", "role commander me", t(1));
  b.cmd("alice", "inc-db", "action add Fix the alert @bob due:2026-11-24", t(2));
  auto asks = of_kind<post_message>(b.send(clock_tick{t(15)}));
  REQUIRE_FALSE(asks.empty());
  CHECK(asks[0].buttons == std::vector<button>{button{"I'll be scribe", "role scribe me", "primary"}});
  auto nudges = of_kind<direct_message>(b.send(clock_tick{t(60)}));
  REQUIRE(nudges.size() == 1);
  CHECK(nudges[0].buttons.size() == 2);
  CHECK(nudges[0].buttons[1].command == "nudge stop INC-1");
  auto reminders = of_kind<direct_message>(b.send(clock_tick{day(24, 9)}));
  bool found = false;
  for (const auto& d : reminders)
    if (d.user == "bob") {
      found = true;
      CHECK(d.buttons.front() == button{"Mark done", "action done 1", "primary"});
    }
  CHECK(found);
  // Pressing "Stop nudges" in the DM is the command it names, from the DM channel.
  b.cmd("alice", "D-alice", nudges[0].buttons[1].command, t(61));
  CHECK_FALSE(b.inc().nudges);
}

}  // TEST_SUITE

TEST_SUITE("engine reminders") {

TEST_CASE("a role holder who leaves the channel frees the role, and the asks start again") {
  bot b;
  b.start_db();
  b.cmd("bob", "inc-db", "role commander me", t(1));
  const auto out = b.send(member_left{"inc-db", "bob", t(20)});
  CHECK(b.inc().holder(role::commander).empty());
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text == "<@bob> left the channel, so the commander role is open again. Who takes it over?");
  CHECK(posts[0].buttons.front().command == "role commander me");
  CHECK(topics(out).find("commander: open") != std::string::npos);
  // Asked again 5 minutes after the role was freed, then every 10.
  auto seen = tick_through(b, t(21), t(40), std::chrono::minutes{1});
  INFO(dump(seen));
  std::vector<timestamp> asks;
  for (const auto& s : seen)
    if (s.what.find("needs a commander") != std::string::npos) asks.push_back(s.at);
  CHECK(asks == std::vector<timestamp>{t(25), t(35)});
  // Someone who holds nothing leaving changes nothing but the timeline.
  CHECK(of_kind<post_message>(b.send(member_left{"inc-db", "zoe", t(41)})).empty());
}

}  // TEST_SUITE
