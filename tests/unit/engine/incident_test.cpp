// Running the incident: roles, severity, status, updates, notes and milestones.
#include "core/engine.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;

namespace {

std::string topic(std::string_view level, std::string_view status, std::string_view commander, std::string_view scribe,
                  std::string_view facilitator, bool open = true) {
  auto who = [](std::string_view u) { return u.empty() ? std::string{"open"} : "<@" + std::string{u} + ">"; };
  return std::string{open ? "🚨" : "✅"} + " INC-1 " + std::string{level} + " · " + std::string{status} +
         " · commander: " + who(commander) + " · scribe: " + who(scribe) + " · facilitator: " + who(facilitator);
}

const std::string commander_does = "coordinates the response, makes the calls and keeps updates flowing";
const std::string scribe_does = "keeps the record: decisions, times and links on the timeline";
const std::string facilitator_does = "runs the review afterwards and keeps it blameless";

}  // namespace

TEST_SUITE("engine roles") {

TEST_CASE("taking a role with `me`: timeline, topic, reply, and the first commander acknowledges") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "role commander me", t(2));
  CHECK(topics(out) == "topic #inc-db | " + topic("sev3", "investigating", "alice", "", "") + "\n");
  CHECK(show(without_topics(out)) ==
                         "post #inc-db | <@alice> took the commander role. <@alice> " + commander_does +
                         ". Still open: scribe, facilitator.\n");
  const incident i = b.inc(1);
  CHECK(i.holder(role::commander) == "alice");
  CHECK(i.holder(role::scribe).empty());
  REQUIRE(i.at(milestone::acknowledged).has_value());
  CHECK(*i.at(milestone::acknowledged) == t(2));

  const auto roles = b.entries_of(entry_kind::role);
  REQUIRE(roles.size() == 1);
  CHECK(roles[0].text == "<@alice> took the commander role");
  CHECK(roles[0].at == t(2));
  CHECK(roles[0].author == "kintsugi");
  CHECK_FALSE(roles[0].key);
  const auto ms = b.entries_of(entry_kind::milestone);
  REQUIRE(ms.size() == 1);
  CHECK(ms[0].text == "Acknowledged: a commander took the incident");
  CHECK(ms[0].at == t(2));
  CHECK(ms[0].key);
}

TEST_CASE("a role given with no user is taken by the one who typed it") {
  bot b;
  b.start_db("inc-db");
  b.cmd("bob", "inc-db", "role scribe", t(1));
  CHECK(b.inc(1).holder(role::scribe) == "bob");
}

TEST_CASE("handing off a role keeps the first acknowledgement") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "role commander me", t(2));
  const auto out = b.cmd("alice", "inc-db", "role commander @bob", t(10));
  CHECK(topics(out) == "topic #inc-db | " + topic("sev3", "investigating", "bob", "", "") + "\n");
  CHECK(show(without_topics(out)) ==
                         "post #inc-db | <@alice> handed the commander role to <@bob>. <@bob> " + commander_does +
                         ". Still open: scribe, facilitator.\n");
  CHECK(b.inc(1).holder(role::commander) == "bob");
  CHECK(*b.inc(1).at(milestone::acknowledged) == t(2));
  CHECK(b.entries_of(entry_kind::milestone).size() == 1);
  const auto roles = b.entries_of(entry_kind::role);
  REQUIRE(roles.size() == 2);
  CHECK(roles[1].text == "<@alice> handed the commander role to <@bob>");
  CHECK(roles[1].at == t(10));
}

TEST_CASE("a role given by someone else names who made the change and who held it") {
  bot b;
  b.start_db("inc-db");
  b.cmd("carol", "inc-db", "role scribe @dave", t(1));
  CHECK(b.entries_of(entry_kind::role).back().text == "<@carol> made <@dave> scribe");
  CHECK(b.inc(1).holder(role::scribe) == "dave");
  CHECK_FALSE(b.inc(1).at(milestone::acknowledged).has_value());  // not the commander

  b.cmd("carol", "inc-db", "role commander @bob", t(2));
  CHECK(*b.inc(1).at(milestone::acknowledged) == t(2));  // a commander made by another counts too

  const auto out = b.cmd("carol", "inc-db", "role commander @erin", t(3));
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text == "<@carol> made <@erin> commander (was <@bob>). <@erin> " + commander_does + ". Still open: facilitator.");
  CHECK(b.entries_of(entry_kind::role).back().text == "<@carol> made <@erin> commander (was <@bob>)");

  const auto took = b.cmd("frank", "inc-db", "role commander me", t(4));
  CHECK(of_kind<post_message>(took)[0].text.starts_with("<@frank> took the commander role (was <@erin>). "));
}

TEST_CASE("with every role held, the reply lists none as open") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "role commander me", t(1));
  b.cmd("bob", "inc-db", "role scribe me", t(2));
  const auto out = b.cmd("carol", "inc-db", "role facilitator me", t(3));
  CHECK(topics(out) == "topic #inc-db | " + topic("sev3", "investigating", "alice", "bob", "carol") + "\n");
  CHECK(show(without_topics(out)) ==
                         "post #inc-db | <@carol> took the facilitator role. <@carol> " + facilitator_does + ".\n");
}

TEST_CASE("a role already held by that person: an ephemeral and no change") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "role scribe @bob", t(1));
  const auto entries = b.timeline().size();
  for (const std::string text : {"role scribe me", "role scribe @bob"}) {
    CAPTURE(text);
    const auto e = only_ephemeral(b.cmd("bob", "inc-db", text, t(2)));
    CHECK(e.user == "bob");
    CHECK(e.channel == "inc-db");
    CHECK(e.text == "<@bob> already holds the scribe role.");
  }
  CHECK(b.timeline().size() == entries);
  CHECK(b.inc(1).holder(role::scribe) == "bob");
}

TEST_CASE("`roles` lists who holds what") {
  bot b;
  b.start_db("inc-db");
  SUBCASE("none yet") {
    const auto out = b.cmd("bob", "inc-db", "roles", t(1));
    CHECK(show(out) == "post #inc-db | INC-1 roles — commander: open · scribe: open · facilitator: open\n"
                       "Take one with `/incident role <commander|scribe|facilitator> [@user|me]`.\n");
  }
  SUBCASE("some") {
    b.cmd("alice", "inc-db", "role commander me", t(1));
    b.cmd("alice", "inc-db", "role facilitator @carol", t(2));
    const auto before = b.timeline().size();
    const auto out = b.cmd("bob", "inc-db", "roles", t(3));
    CHECK(show(out) == "post #inc-db | INC-1 roles — commander: <@alice> · scribe: open · facilitator: <@carol>\n"
                       "Take one with `/incident role <commander|scribe|facilitator> [@user|me]`.\n");
    CHECK(b.timeline().size() == before);
  }
}

// A commander named after resolution does not acknowledge it: acknowledgement cannot come after resolution.
TEST_CASE("a commander named after resolution does not acknowledge the incident") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "resolve", t(30));
  b.cmd("alice", "inc-db", "role commander me", t(600));  // for the review, hours later
  CHECK(b.inc(1).holder(role::commander) == "alice");
  CHECK_FALSE(b.inc(1).at(milestone::acknowledged).has_value());
  CHECK(b.entries_of(entry_kind::milestone).empty());
}

}  // TEST_SUITE

TEST_SUITE("engine severity and status") {

TEST_CASE("a severity change is a key timeline entry and updates the topic") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("bob", "inc-db", "sev sev1", t(3));
  CHECK(topics(out) == "topic #inc-db | " + topic("sev1", "investigating", "", "", "") + "\n");
  CHECK(show(without_topics(out)) ==
                         "post #inc-db | Severity is now sev1 (critical: a core service is down or data is at risk for many "
                         "users).\n");
  CHECK(b.inc(1).level == severity::sev1);
  const auto sev = b.entries_of(entry_kind::severity);
  REQUIRE(sev.size() == 1);
  CHECK(sev[0].text == "Severity sev3 → sev1 (by <@bob>)");
  CHECK(sev[0].at == t(3));
  CHECK(sev[0].key);

  SUBCASE("down to a near miss") {
    b.cmd("bob", "inc-db", "severity near-miss", t(4));
    CHECK(b.inc(1).level == severity::near_miss);
    CHECK(b.entries_of(entry_kind::severity).back().text == "Severity sev1 → near-miss (by <@bob>)");
  }
}

TEST_CASE("the same severity again: an ephemeral and no entry") {
  bot b;
  b.start_db("inc-db", " sev2");
  const auto e = only_ephemeral(b.cmd("bob", "inc-db", "sev sev2", t(3)));
  CHECK(e.user == "bob");
  CHECK(e.text == "INC-1 is already sev2.");
  CHECK(b.entries_of(entry_kind::severity).empty());
}

TEST_CASE("status changes are key timeline entries, monitoring sets mitigated once") {
  bot b;
  b.start_db("inc-db");
  auto out = b.cmd("alice", "inc-db", "status identified", t(4));
  CHECK(topics(out) == "topic #inc-db | " + topic("sev3", "identified", "", "", "") + "\n");
  CHECK(show(without_topics(out)) ==
                         "post #inc-db | Status: *identified*.\n");
  CHECK(b.inc(1).status == incident_status::identified);
  CHECK_FALSE(b.inc(1).at(milestone::mitigated).has_value());

  out = b.cmd("alice", "inc-db", "status monitoring", t(20));
  CHECK(topics(out) == "topic #inc-db | " + topic("sev3", "monitoring", "", "", "") + "\n");
  CHECK(show(without_topics(out)) ==
                         "post #inc-db | Status: *monitoring*.\n");
  REQUIRE(b.inc(1).at(milestone::mitigated).has_value());
  CHECK(*b.inc(1).at(milestone::mitigated) == t(20));
  CHECK(b.inc(1).open());

  const auto st = b.entries_of(entry_kind::status);
  REQUIRE(st.size() == 2);
  CHECK(st[0].text == "Status investigating → identified (by <@alice>)");
  CHECK(st[0].at == t(4));
  CHECK(st[0].key);
  CHECK(st[1].text == "Status identified → monitoring (by <@alice>)");
  const auto ms = b.entries_of(entry_kind::milestone);
  REQUIRE(ms.size() == 1);
  CHECK(ms[0].text == "Mitigated: status moved to monitoring");
  CHECK(ms[0].at == t(20));

  SUBCASE("back to identified and to monitoring again keeps the first mitigation") {
    b.cmd("alice", "inc-db", "status identified", t(25));
    b.cmd("alice", "inc-db", "status monitoring", t(35));
    CHECK(*b.inc(1).at(milestone::mitigated) == t(20));
    CHECK(b.entries_of(entry_kind::milestone).size() == 1);
  }
  SUBCASE("the same status: an ephemeral and nothing recorded") {
    const auto before = b.timeline().size();
    const auto e = only_ephemeral(b.cmd("bob", "inc-db", "status monitoring", t(30)));
    CHECK(e.user == "bob");
    CHECK(e.text == "INC-1 is already monitoring.");
    CHECK(b.timeline().size() == before);
  }
}

TEST_CASE("monitoring keeps a mitigation time marked earlier") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "mark mitigated 10:15", t(20));
  b.cmd("alice", "inc-db", "status monitoring", t(30));
  CHECK(*b.inc(1).at(milestone::mitigated) == t(15));
}

TEST_CASE("`status resolved` resolves the incident") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "status resolved", t(30));
  const incident i = b.inc(1);
  CHECK(i.status == incident_status::resolved);
  CHECK_FALSE(i.open());
  CHECK(*i.at(milestone::resolved) == t(30));
  CHECK(*i.at(milestone::mitigated) == t(30));
  const auto posts = of_kind<post_message>(out);
  REQUIRE_FALSE(posts.empty());
  CHECK(posts[0].text.starts_with("✅ *INC-1 is resolved* after 30m. Thank you, everyone."));
  CHECK(b.entries_of(entry_kind::status).back().text == "Resolved by <@alice>");
  const auto topics = of_kind<set_topic>(out);
  REQUIRE(topics.size() == 1);
  CHECK(topics[0].text == topic("sev3", "resolved", "", "", "", false));
}

TEST_CASE("a status other than resolved on a resolved incident reopens it") {
  bot b;
  b.start_db("general");
  b.cmd("alice", "general", "resolve", t(30));
  const auto out = b.cmd("alice", "general", "status investigating", t(40));
  CHECK(topics(out) == "topic #general | " + topic("sev3", "investigating", "", "", "") + "\n");
  CHECK(b.inc(1).open());
  CHECK(b.entries_of(entry_kind::status).back().text == "Reopened: status resolved → investigating (by <@alice>)");
  b.say("m1", "bob", "general", "it is back", t(41));
  CHECK(b.db.entry_by_source("m1").has_value());  // an open incident captures again
}

// Reopening clears the `resolved` milestone, so the final resolution is the one reported and measured.
TEST_CASE("a reopened incident is resolved at its final resolution") {
  bot b;
  b.start_db("general");
  b.cmd("alice", "general", "resolve", t(30));
  b.cmd("alice", "general", "status investigating", t(40));
  const auto out = b.cmd("alice", "general", "resolve", t(90));
  REQUIRE(b.inc(1).at(milestone::resolved).has_value());
  CHECK(format_iso(*b.inc(1).at(milestone::resolved)) == format_iso(t(90)));
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text.starts_with("✅ *INC-1 is resolved* after 1h 30m."));
}

TEST_CASE("update and note: entries by the person, a note is a key event") {
  bot b;
  b.start_db("inc-db");
  auto out = b.cmd("bob", "inc-db", "update Rolled back to 4.2.1; errors are falling", t(12));
  CHECK(show(out) == "post #inc-db | 📣 Update from <@bob>: Rolled back to 4.2.1; errors are falling\n");
  auto up = b.entries_of(entry_kind::update);
  REQUIRE(up.size() == 1);
  CHECK(up[0].author == "bob");
  CHECK(up[0].text == "Rolled back to 4.2.1; errors are falling");
  CHECK(up[0].at == t(12));
  CHECK_FALSE(up[0].key);

  out = b.cmd("carol", "inc-db", "note Failover to the replica started", t(13));
  CHECK(show(out) == "post #inc-db | 📝 Key event from <@carol>: Failover to the replica started\n");
  auto notes = b.entries_of(entry_kind::note);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].author == "carol");
  CHECK(notes[0].at == t(13));
  CHECK(notes[0].key);
}

}  // TEST_SUITE

TEST_SUITE("engine mark") {

// The one post of a mark reply.
std::string mark_reply(const actions& out) {
  INFO(show(out));
  const auto posts = of_kind<post_message>(without_topics(out));
  REQUIRE(out.size() == 1);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].channel == "inc-db");
  CHECK(posts[0].text.starts_with("⏱ "));
  return posts[0].text;
}

TEST_CASE("mark with an explicit time puts the milestone entry at that time") {
  bot b;
  b.start_db("inc-db");
  const auto reply = mark_reply(b.cmd("alice", "inc-db", "mark began 09:40", t(5)));
  CHECK(contains(reply, " 2026-11-20 09:40 UTC."));
  CHECK(reply.ends_with(" Time to detect: 20m."));
  CHECK(*b.inc(1).at(milestone::began) == t(-20));
  const auto tl = b.timeline();
  REQUIRE(tl.size() == 2);
  CHECK(tl[0].kind == entry_kind::milestone);  // 09:40 sorts before the 10:00 declaration
  CHECK(tl[0].at == t(-20));
  CHECK(tl[0].key);
  CHECK(tl[0].author == "kintsugi");
  CHECK(contains(tl[0].text, "<@alice>"));
  CHECK_FALSE(contains(tl[0].text, "(was "));
  CHECK(tl[1].kind == entry_kind::system);
}

TEST_CASE("marking again says what it was") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "mark began 09:40", t(1));
  const auto reply = mark_reply(b.cmd("alice", "inc-db", "mark detected 09:50", t(2)));
  CHECK(contains(reply, " 2026-11-20 09:50 UTC."));
  CHECK(reply.ends_with(" Time to detect: 10m."));
  CHECK(*b.inc(1).at(milestone::detected) == t(-10));
  const auto ms = b.entries_of(entry_kind::milestone);
  REQUIRE(ms.size() == 2);
  CHECK(ms[1].at == t(-10));
  CHECK(contains(ms[1].text, "(was 2026-11-20 10:00)"));
}

TEST_CASE("mark replies with the metric of the milestone") {
  bot b;
  b.start_db("inc-db");
  auto reply = mark_reply(b.cmd("alice", "inc-db", "mark acknowledged 10:03", t(5)));
  CHECK(contains(reply, " 2026-11-20 10:03 UTC."));
  CHECK(reply.ends_with(" Time to acknowledge: 3m."));
  reply = mark_reply(b.cmd("alice", "inc-db", "mark mitigated 2026-11-20 10:25", t(30)));
  CHECK(contains(reply, " 2026-11-20 10:25 UTC."));
  CHECK(reply.ends_with(" Time to mitigate: 25m."));
  reply = mark_reply(b.cmd("alice", "inc-db", "mark resolved", t(95)));
  CHECK(contains(reply, " 2026-11-20 11:35 UTC. Time to resolve: 1h 35m. When it is over for everyone, `/incident resolve`."));
  const incident i = b.inc(1);
  CHECK(*i.at(milestone::acknowledged) == t(3));
  CHECK(*i.at(milestone::mitigated) == t(25));
  CHECK(*i.at(milestone::resolved) == t(95));
  CHECK(i.open());  // marking resolved is not resolving
  CHECK(b.entries_of(entry_kind::milestone).size() == 3);
}

TEST_CASE("a milestone before detection gets a note") {
  bot b;
  b.start_db("inc-db");
  const auto reply = mark_reply(b.cmd("alice", "inc-db", "mark acknowledged 09:30", t(5)));
  CHECK(contains(reply, " 2026-11-20 09:30 UTC."));
  CHECK(contains(reply, " Note: that is before the incident was detected (2026-11-20 10:00); if detection was "
                        "earlier, `/incident mark detected <time>`."));
}

TEST_CASE("a time typed by a person is read in their time zone") {
  bot b;
  b.db.upsert_user(user{"alice", "Alice", "Europe/Berlin"});
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "mark began 10:40", t(5));  // 10:40 in Berlin is 09:40 UTC
  CHECK(*b.inc(1).at(milestone::began) == t(-20));
}

TEST_CASE("a milestone in the future is a parse error and changes nothing") {
  bot b;
  b.start_db("inc-db");
  const auto e = only_ephemeral(b.cmd("alice", "inc-db", "mark mitigated 2026-11-21 10:00", t(5)));
  CHECK(contains(e.text, "is in the future"));
  CHECK_FALSE(b.inc(1).at(milestone::mitigated).has_value());
  CHECK(b.timeline().size() == 1);
}

}  // TEST_SUITE
