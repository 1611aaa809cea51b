// Resolve, timeline, postmortem, stats; commands without an incident; parse errors and help.
#include "core/engine.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;

namespace {

const std::string no_incident =
    "There is no incident in this channel. Declare one with `/incident start <title> [sev1-sev4|near-miss]`, or run this "
    "in the incident's channel.";

// Everything stored about incident 1 and its material, as one comparable string.
std::string snapshot(bot& b) {
  std::string out;
  for (const auto& i : b.db.incidents_since(timestamp{})) {
    out += i.key() + " " + i.title + " " + std::string{name(i.level)} + " " + std::string{name(i.status)} + " " + i.channel +
           " summary=" + i.summary + " impact=" + i.impact + " review=" + (i.review_at ? format_iso(*i.review_at) : "-");
    for (const auto& r : i.roles) out += " role=" + r;
    for (const auto& m : i.milestones) out += " ms=" + (m ? format_iso(*m) : std::string{"-"});
    out += "\n";
    for (const auto& e : b.db.timeline(i.id)) out += "  " + format_iso(e.at) + " " + e.author + " " + e.text + "\n";
    out += "  whys=" + std::to_string(b.db.whys(i.id).size()) + " factors=" + std::to_string(b.db.factors(i.id).size()) +
           " lessons=" + std::to_string(b.db.lessons(i.id).size()) + " doc=" + (b.db.latest_document(i.id) ? "yes" : "no") + "\n";
    for (const auto& a : b.db.actions_of(i.id))
      out += "  action #" + std::to_string(a.id) + " " + a.text + " " + a.owner + " " + std::string{name(a.status)} + "\n";
  }
  return out;
}

}  // namespace

TEST_SUITE("engine resolve") {

TEST_CASE("resolve: resolved and mitigated at that time, thanks, and the list of what the postmortem lacks") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "resolve Rolled back the config", t(45));
  const incident i = b.inc(1);
  CHECK(i.status == incident_status::resolved);
  CHECK(*i.at(milestone::resolved) == t(45));
  CHECK(*i.at(milestone::mitigated) == t(45));

  CHECK(topics(out) == "topic #inc-db | ✅ INC-1 sev3 · resolved · commander: open · scribe: open · facilitator: open\n");
  const auto rest = without_topics(out);
  REQUIRE(rest.size() == 2);
  // With no facilitator or commander, whoever declared it is asked to schedule the review (sev3: 5 working days).
  const auto dms = of_kind<direct_message>(rest);
  REQUIRE(dms.size() == 1);
  CHECK(dms[0].user == "alice");
  CHECK(dms[0].text.starts_with("📅 INC-1 (DB down) is resolved. Could you schedule its review by 2026-11-27 "));
  const auto posts = of_kind<post_message>(rest);
  REQUIRE(posts.size() == 1);
  const auto reply = posts[0];
  CHECK(reply.channel == "inc-db");
  CHECK(reply.text.starts_with("✅ *INC-1 is resolved* after 45m. Thank you, everyone.\n> Rolled back the config\n"
                               "For the postmortem, still missing:\n"
                               "• Summary: `/incident summary <text>`\n"
                               "• Impact: `/incident impact <text>`\n"
                               "• Key metrics: `/incident mark "));
  for (const char* section : {"Root cause: `/incident why <text>`", "Contributing factors: `/incident factor ",
                              "Lessons: `/incident learned ", "Action items: `/incident action add ",
                              "Review: `/incident review <YYYY-MM-DD HH:MM>`"})
    CHECK(contains(reply.text, std::string{"\n• "} + section));
  CHECK_FALSE(contains(reply.text, "• Timeline"));  // the declaration is on it
  CHECK(reply.text.ends_with("\nWhen you're ready: `/incident review <YYYY-MM-DD HH:MM>` to schedule the review, "
                             "`/incident postmortem` to write the document."));

  const auto st = b.entries_of(entry_kind::status);
  REQUIRE(st.size() == 1);
  CHECK(st[0].text == "Resolved by <@alice>: Rolled back the config");
  CHECK(st[0].at == t(45));
  CHECK(st[0].key);
}

TEST_CASE("resolve keeps milestones already marked") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "status monitoring", t(20));
  b.cmd("alice", "inc-db", "mark resolved 10:40", t(42));
  const auto out = b.cmd("alice", "inc-db", "resolve", t(45));
  CHECK(*b.inc(1).at(milestone::mitigated) == t(20));
  CHECK(*b.inc(1).at(milestone::resolved) == t(40));
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text.starts_with("✅ *INC-1 is resolved* after 40m. Thank you, everyone.\nFor the postmortem"));
  CHECK(b.entries_of(entry_kind::status).back().text == "Resolved by <@alice>");
}

TEST_CASE("resolve with every section filled lists nothing missing") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "mark began 09:45", t(1));
  b.cmd("alice", "inc-db", "role commander me", t(2));
  b.cmd("alice", "inc-db", "summary The cert expired", t(3));
  b.cmd("alice", "inc-db", "impact All logins failed for 45 minutes", t(4));
  b.cmd("alice", "inc-db", "why The renewal job had no alert", t(5));
  b.cmd("alice", "inc-db", "factor technology The renewal job had no alert", t(6));
  b.cmd("alice", "inc-db", "learned helped The expiry dashboard", t(7));
  b.cmd("alice", "inc-db", "action add Alert on renewal failures @bob", t(8));
  b.cmd("alice", "inc-db", "review 2026-11-23 14:00", t(9));
  const auto out = b.cmd("alice", "inc-db", "resolve", t(45));
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text == "✅ *INC-1 is resolved* after 45m. Thank you, everyone.\nWhen you're ready: `/incident review "
                         "<YYYY-MM-DD HH:MM>` to schedule the review, `/incident postmortem` to write the document.");
}

TEST_CASE("resolve twice: an ephemeral, nothing changes") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "resolve", t(45));
  const auto before = snapshot(b);
  for (const std::string text : {"resolve", "resolve again", "status resolved"}) {
    CAPTURE(text);
    const auto e = only_ephemeral(b.cmd("bob", "inc-db", text, t(50)));
    CHECK(e.user == "bob");
    CHECK(e.text == "INC-1 was already resolved. The postmortem material can still be added here.");
    CHECK(snapshot(b) == before);
  }
}

TEST_CASE("resolving an incident declared elsewhere also tells the channel it was declared in") {
  bot b{with_channels()};
  b.cmd("alice", "general", "start DB down", t0);
  const std::string ch = "inc-20261120-db-down";
  REQUIRE(b.inc(1).channel == ch);
  const auto out = b.cmd("bob", ch, "resolve", t(30));
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 2);
  CHECK(posts[0].channel == ch);
  CHECK(posts[0].text.starts_with("✅ *INC-1 is resolved* after 30m."));
  CHECK(posts[1].channel == "general");
  CHECK(posts[1].text == "✅ INC-1 (DB down) is resolved.");
}

TEST_CASE("resolving where it was declared posts once") {
  bot b;
  b.start_db("general");
  const auto out = b.cmd("alice", "general", "resolve", t(30));
  CHECK(of_kind<post_message>(out).size() == 1);
}

}  // TEST_SUITE

TEST_SUITE("engine reports") {

TEST_CASE("timeline n: the last n entries, to the asker only") {
  bot b;
  b.db.upsert_user(user{"carol", "Carol", ""});
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "first", t(1));
  b.say("m2", "carol", "inc-db", "second", t(2));
  b.say("m3", "bob", "inc-db", "third", t(3));
  b.send(message_edited{"m3", "third, edited", t(4)});
  b.cmd("carol", "inc-db", "note Failover started", t(5));
  b.send(message_deleted{"m1", t(6)});
  b.send(reaction_added{"m2", "bob", "pushpin", t(7)});
  const auto before = b.timeline().size();

  SUBCASE("the last three") {
    const auto e = only_ephemeral(b.cmd("dave", "inc-db", "timeline 3", t(10)));
    CHECK(e.user == "dave");
    CHECK(e.channel == "inc-db");
    CHECK(e.text == "INC-1 timeline (UTC, last 3 of 5 entries):\n"
                    "10:02 Carol: 📌 second\n"
                    "10:03 bob: third, edited (edited)\n"
                    "10:05 Carol: 📌 Failover started");
  }
  SUBCASE("all of them") {
    const auto e = only_ephemeral(b.cmd("dave", "inc-db", "timeline", t(10)));
    CHECK(e.text == "INC-1 timeline (UTC, 5 entries):\n"
                    "10:00 · 📌 INC-1 declared by @alice: DB down (sev3)\n"
                    "10:01 bob: ~first~ (deleted)\n"
                    "10:02 Carol: 📌 second\n"
                    "10:03 bob: third, edited (edited)\n"
                    "10:05 Carol: 📌 Failover started");
  }
  CHECK(b.timeline().size() == before);  // showing it records nothing
}

TEST_CASE("postmortem: the document is saved, posted and recorded") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "summary The cert expired", t(3));
  const auto out = b.cmd("alice", "inc-db", "postmortem", t(50));
  const auto doc = b.db.latest_document(1);
  REQUIRE(doc.has_value());
  CHECK(doc->incident_id == 1);
  CHECK(doc->written_at == t(50));
  CHECK(contains(doc->markdown, "INC-1"));
  CHECK(contains(doc->markdown, "DB down"));
  CHECK(contains(doc->markdown, "The cert expired"));

  const auto posts = of_kind<post_message>(out);
  REQUIRE(out.size() == 2);
  REQUIRE(posts.size() == 1);
  // The same document is published as a file for the platform to keep.
  const auto files = of_kind<publish_document>(out);
  REQUIRE(files.size() == 1);
  CHECK(files[0].channel == "inc-db");
  CHECK(files[0].filename == "INC-1.md");
  CHECK(files[0].content == doc->markdown);
  CHECK(posts[0].channel == "inc-db");
  CHECK(posts[0].text == "📄 Postmortem for INC-1 — a living document, 7 section(s) still empty; run it again any time.\n\n" +
                             doc->markdown);
  const auto pm = b.entries_of(entry_kind::postmortem);
  REQUIRE(pm.size() == 1);
  CHECK(pm[0].text == "Postmortem written by <@alice>");
  CHECK(pm[0].at == t(50));

  SUBCASE("written again: a newer version") {
    b.cmd("alice", "inc-db", "impact Logins failed", t(55));
    b.cmd("bob", "inc-db", "postmortem", t(60));
    const auto again = b.db.latest_document(1);
    REQUIRE(again.has_value());
    CHECK(again->id != doc->id);
    CHECK(again->written_at == t(60));
    CHECK(contains(again->markdown, "Logins failed"));
  }
}

TEST_CASE("stats: the team's numbers, posted in the channel") {
  bot b;
  b.cmd("alice", "inc-old", "start Old one sev2", t(-40 * 24 * 60));
  b.cmd("alice", "inc-a", "start A down sev1", t(-60));
  b.cmd("alice", "inc-a", "resolve", t(-30));
  b.start_db("inc-db");
  const auto before = snapshot(b);
  SUBCASE("default window, in an incident channel") {
    const auto out = b.cmd("bob", "inc-db", "stats", t(1));
    const auto posts = of_kind<post_message>(out);
    REQUIRE(out.size() == 1);
    REQUIRE(posts.size() == 1);
    CHECK(posts[0].channel == "inc-db");
    CHECK(posts[0].text.starts_with("Last 30 days: 2 incidents (sev1 1, sev3 1), 1 open\n"));
  }
  SUBCASE("from a channel without an incident") {
    const auto out = b.cmd("bob", "general", "stats 90d", t(1));
    REQUIRE(of_kind<post_message>(out).size() == 1);
    CHECK(of_kind<post_message>(out)[0].channel == "general");
    CHECK(of_kind<post_message>(out)[0].text.starts_with("Last 90 days: 3 incidents (sev1 1, sev2 1, sev3 1), 2 open\n"));
  }
  SUBCASE("a quiet window") {
    const auto out = b.cmd("bob", "general", "stats 1", t(24 * 60 + 1));
    CHECK(show(out) == "post #general | No incidents in the last day — quiet is good.\n");  // the text ends with a newline
  }
  CHECK(snapshot(b) == before);
}

}  // TEST_SUITE

TEST_SUITE("engine without an incident") {

TEST_CASE("every command that needs an incident, in a channel without one: an ephemeral and no change") {
  bot b;
  b.start_db("inc-db");  // one elsewhere, which must stay untouched
  b.cmd("alice", "inc-db", "action add Renew the cert @bob", t(1));
  const auto before = snapshot(b);
  for (const std::string text :
       {"sev sev1", "role commander me", "role scribe @bob", "roles", "status identified", "status resolved",
        "update Still looking", "note Failover started", "mark detected", "mark began 09:30", "summary Text",
        "impact Text", "why The cert expired", "factor process No runbook", "learned helped The dashboard",
        "review 2026-11-23 14:00", "action add Renew the cert @bob", "resolve", "resolve All good", "timeline",
        "timeline 5", "postmortem"}) {
    for (const std::string channel : {"general", "D-alice"}) {
      CAPTURE(text);
      CAPTURE(channel);
      const auto e = only_ephemeral(b.cmd("carol", channel, text, t(10)));
      CHECK(e.channel == channel);
      CHECK(e.user == "carol");
      CHECK(e.text == no_incident);
      CHECK(b.outcome().error.empty());
    }
  }
  CHECK(snapshot(b) == before);
  CHECK_FALSE(b.db.find_incident(2).has_value());
}

}  // TEST_SUITE

TEST_SUITE("engine parse errors") {

TEST_CASE("a command that does not parse: one ephemeral to the invoker with the usage, and no change") {
  struct bad {
    std::string text;
    std::string says;   // part of the message
    std::string usage;  // part of the usage that follows it
  };
  const bad cases[] = {
      {"frobnicate", "Unknown subcommand", "kintsugi helps your team run an incident"},
      {"start", "Give the incident a title", "`/incident start"},
      {"sev bogus", "is not a severity", "`/incident sev"},
      {"sev", "Which severity?", "`/incident sev"},
      {"role pilot me", "is not a role", "`/incident role"},
      {"status done", "is not a status", "`/incident status"},
      {"update", "Add the text after `update`", "`/incident update"},
      {"mark lunch", "is not a milestone", "`/incident mark"},
      {"factor blame Bob", "is not a kind of factor", "`/incident factor"},
      {"learned maybe Something", "is not a kind of lesson", "`/incident learned"},
      {"action frob 1", "Unknown action command", "`/incident action"},
      {"action snooze 1 someday", "is not a duration", "`/incident action snooze"},
      {"action add Fix it @bob due:2026-11-01", "is in the past", "`/incident action add"},
      {"timeline lots", "is not a number of entries", "`/incident timeline"},
      {"stats forever", "is not a number of days", "`/incident stats"},
      {"postmortem now", "needs nothing after it", "`/incident postmortem"},
      {"review tomorrow-ish", "is not a time I can read", "`/incident review"},
  };
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "action add Renew the cert @bob", t(1));
  const auto before = snapshot(b);
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto e = only_ephemeral(b.cmd("bob", "inc-db", c.text, t(10)));
    CHECK(e.user == "bob");
    CHECK(e.channel == "inc-db");
    CHECK(contains(e.text, c.says));
    const auto newline = e.text.find('\n');
    REQUIRE(newline != std::string::npos);  // the message, then the usage
    CHECK(contains(e.text.substr(0, newline), c.says));
    CHECK(contains(e.text.substr(newline + 1), c.usage));
    CHECK(b.outcome().error.empty());
  }
  CHECK(snapshot(b) == before);
}

TEST_CASE("parse errors are the same in a channel without an incident") {
  bot b;
  const auto e = only_ephemeral(b.cmd("bob", "general", "sev bogus", t0));
  CHECK(e.channel == "general");
  CHECK(contains(e.text, "is not a severity"));
}

TEST_CASE("help: the overview, or one command's help, to the asker only") {
  bot b;
  for (const std::string text : {"", "help", "help bogus"}) {
    CAPTURE(text);
    const auto e = only_ephemeral(b.cmd("bob", "general", text, t0));
    CHECK(e.user == "bob");
    CHECK(contains(e.text, "kintsugi helps your team run an incident and learn from it, blamelessly."));
  }
  const auto one = only_ephemeral(b.cmd("bob", "general", "help action", t0));
  CHECK(one.text.starts_with("Usage:\n`/incident action add"));
  CHECK_FALSE(b.db.find_incident(1).has_value());
}

}  // TEST_SUITE
