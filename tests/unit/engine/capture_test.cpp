// Capture: messages, edits, deletions and pushpins in the incident channel become the timeline.
#include "core/engine.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;
using std::chrono::microseconds;
using std::chrono::seconds;

TEST_SUITE("engine capture") {

TEST_CASE("a message in the incident channel is stored with its exact time and author, and says nothing") {
  bot b;
  b.start_db("inc-db");
  const timestamp when = t0 + seconds{61} + microseconds{250'123};
  const auto out = b.say("m1", "bob", "inc-db", "looking at the db: https://grafana/d/db?x=1", when);
  CHECK(out.empty());
  CHECK(b.outcome().error.empty());
  const auto e = b.entry("m1");
  CHECK(e.incident_id == 1);
  CHECK(e.at == when);
  CHECK(e.author == "bob");
  CHECK(e.kind == entry_kind::message);
  CHECK(e.text == "looking at the db: https://grafana/d/db?x=1");
  CHECK(e.source_id == "m1");
  CHECK_FALSE(e.edited);
  CHECK_FALSE(e.deleted);
  CHECK_FALSE(e.key);
  CHECK(b.timeline().size() == 2);  // the declaration, then the message
  CHECK(b.timeline().back().source_id == "m1");
}

TEST_CASE("messages are kept in time order, whatever order they arrive in") {
  bot b;
  b.start_db("inc-db");
  b.say("m2", "bob", "inc-db", "second", t(2));
  b.say("m1", "carol", "inc-db", "first", t(1));
  const auto tl = b.timeline();
  REQUIRE(tl.size() == 3);
  CHECK(tl[1].text == "first");
  CHECK(tl[2].text == "second");
}

TEST_CASE("messages in other channels are not captured") {
  bot b;
  b.start_db("inc-db");
  CHECK(b.say("g1", "bob", "general", "is the db down?", t(1)).empty());
  CHECK_FALSE(b.db.entry_by_source("g1").has_value());
  CHECK(b.timeline().size() == 1);
}

TEST_CASE("a channel without any incident captures nothing") {
  bot b;
  CHECK(b.say("g1", "bob", "general", "hello", t0).empty());
  CHECK(b.outcome().error.empty());
  CHECK_FALSE(b.db.entry_by_source("g1").has_value());
}

TEST_CASE("the bot's own messages are not captured") {
  SUBCASE("flagged from_bot") {
    bot b;
    b.start_db("inc-db");
    b.send(message_posted{"b1", "inc-db", "U0BOT", "Status: identified", t(1), true, {}});
    CHECK_FALSE(b.db.entry_by_source("b1").has_value());
  }
  SUBCASE("posted as the configured bot user") {
    engine_options o;
    o.bot_user = "kbot";
    bot b{o};
    b.start_db("inc-db");
    b.say("b2", "kbot", "inc-db", "🚨 welcome", t(1));
    b.say("h1", "bob", "inc-db", "a human", t(2));
    CHECK_FALSE(b.db.entry_by_source("b2").has_value());
    CHECK(b.db.entry_by_source("h1").has_value());
  }
  SUBCASE("without a configured bot user, any user is a person") {
    bot b;
    b.start_db("inc-db");
    b.say("k1", "kbot", "inc-db", "hi", t(1));
    CHECK(b.db.entry_by_source("k1").has_value());
  }
}

TEST_CASE("thread replies are captured like any other message") {
  bot b;
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "the db is at 100% cpu", t(1));
  b.send(message_posted{"m2", "inc-db", "carol", "which one?", t(2), false, "m1"});
  CHECK(b.entry("m2").text == "which one?");
}

TEST_CASE("after resolve, only a dedicated channel keeps capturing") {
  SUBCASE("dedicated (prefixed) channel") {
    bot b;
    b.start_db("inc-db");
    b.cmd("alice", "inc-db", "resolve", t(30));
    b.say("late", "bob", "inc-db", "the follow-up talk belongs here", t(40));
    const auto e = b.entry("late");
    CHECK(e.incident_id == 1);
    CHECK(e.at == t(40));
  }
  SUBCASE("created channel") {
    bot b{with_channels()};
    b.cmd("alice", "general", "start DB down", t0);
    const std::string ch = b.inc(1).channel;
    b.cmd("alice", ch, "resolve", t(30));
    b.say("late", "bob", ch, "after", t(40));
    CHECK(b.db.entry_by_source("late").has_value());
  }
  SUBCASE("plain channel") {
    bot b;
    b.start_db("general");
    b.say("during", "bob", "general", "during", t(10));
    b.cmd("alice", "general", "resolve", t(30));
    b.say("after", "bob", "general", "lunch?", t(40));
    CHECK(b.db.entry_by_source("during").has_value());
    CHECK_FALSE(b.db.entry_by_source("after").has_value());
  }
}

TEST_CASE("a redelivered message is stored once") {
  bot b;
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "first text", t(1));
  SUBCASE("through the dispatcher: a duplicate (its timeline entry remembers it)") {
    const auto out = b.say("m1", "bob", "inc-db", "first text", t(1));
    CHECK(out.empty());
    CHECK(b.outcome().duplicate);
    CHECK(b.outcome().error.empty());
  }
  SUBCASE("straight into the engine: the timeline already has it") {
    const auto out = b.eng.handle(message_posted{"m1", "inc-db", "bob", "other text", t(3), false, {}});
    CHECK(out.empty());
  }
  CHECK(b.timeline().size() == 2);
  CHECK(b.entry("m1").text == "first text");
  CHECK(b.entry("m1").at == t(1));
}

TEST_CASE("an edit keeps the old text as a revision") {
  bot b;
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "restarting db-1", t(1));
  CHECK(b.send(message_edited{"m1", "restarting db-2", t(2)}).empty());
  CHECK(b.outcome().error.empty());
  auto e = b.entry("m1");
  CHECK(e.text == "restarting db-2");
  CHECK(e.edited);
  REQUIRE(e.edited_at.has_value());
  CHECK(*e.edited_at == t(2));
  CHECK(e.at == t(1));  // the message keeps its place on the timeline
  auto revs = b.db.revisions(e.id);
  REQUIRE(revs.size() == 1);
  CHECK(revs[0].entry_id == e.id);
  CHECK(revs[0].text == "restarting db-1");
  CHECK(revs[0].replaced_at == t(2));

  SUBCASE("a second edit adds a second revision") {
    b.send(message_edited{"m1", "restarting db-2 and db-3", t(3)});
    e = b.entry("m1");
    CHECK(e.text == "restarting db-2 and db-3");
    CHECK(*e.edited_at == t(3));
    revs = b.db.revisions(e.id);
    REQUIRE(revs.size() == 2);
    CHECK(revs[0].text == "restarting db-1");
    CHECK(revs[1].text == "restarting db-2");
    CHECK(revs[1].replaced_at == t(3));
  }
  SUBCASE("an edit that changes nothing adds no revision") {
    b.send(message_edited{"m1", "restarting db-2", t(4)});
    CHECK(b.db.revisions(e.id).size() == 1);
    CHECK(*b.entry("m1").edited_at == t(2));
  }
  SUBCASE("the same edit delivered twice is one edit") {
    b.send(message_edited{"m1", "restarting db-2", t(2)});
    CHECK(b.outcome().duplicate);
    CHECK(b.db.revisions(e.id).size() == 1);
  }
}

TEST_CASE("a deletion marks the entry deleted and keeps its text") {
  bot b;
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "rm -rf /var/lib/db (oops)", t(1));
  CHECK(b.send(message_deleted{"m1", t(5)}).empty());
  const auto e = b.entry("m1");
  CHECK(e.deleted);
  REQUIRE(e.deleted_at.has_value());
  CHECK(*e.deleted_at == t(5));
  CHECK(e.text == "rm -rf /var/lib/db (oops)");
  CHECK(b.timeline().size() == 2);  // still on the timeline
  SUBCASE("deleting again keeps the first time") {
    b.eng.handle(message_deleted{"m1", t(9)});
    CHECK(*b.entry("m1").deleted_at == t(5));
  }
}

TEST_CASE("a pushpin marks a key event and pins the message, other emoji do not") {
  bot b;
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "failover started", t(1));
  b.say("m2", "bob", "inc-db", "coffee", t(2));
  b.say("m3", "bob", "inc-db", "replica promoted", t(3));
  CHECK(b.send(reaction_added{"m2", "carol", "thumbsup", t(4)}).empty());
  CHECK(b.send(reaction_added{"m2", "carol", "white_check_mark", t(4)}).empty());
  CHECK_FALSE(b.entry("m2").key);
  CHECK(show(b.send(reaction_added{"m1", "carol", "pushpin", t(4)})) == "pin m1\n");
  CHECK(b.entry("m1").key);
  CHECK(show(b.send(reaction_added{"m3", "dave", "round_pushpin", t(5)})) == "pin m3\n");
  CHECK(b.entry("m3").key);
  SUBCASE("a second pin changes nothing and pins nothing again") {
    CHECK(b.send(reaction_added{"m1", "dave", "pushpin", t(6)}).empty());
    CHECK(b.outcome().error.empty());
    CHECK(b.entry("m1").key);
  }
}

TEST_CASE("a pushpin on a message that is already a key event, or on one not captured, pins nothing") {
  bot b;
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "disk full on db-1", t(1));
  b.say("m2", "bob", "general", "not an incident channel", t(1));
  CHECK(b.send(message_pinned{"m1", "carol", t(2)}).empty());  // pinned in the channel already
  CHECK(b.entry("m1").key);
  CHECK(b.send(reaction_added{"m1", "carol", "pushpin", t(3)}).empty());
  CHECK(b.send(reaction_added{"m2", "carol", "pushpin", t(3)}).empty());
}

TEST_CASE("edit, delete and reaction of unknown ids change nothing and do not fail") {
  bot b;
  b.start_db("inc-db");
  b.say("m1", "bob", "inc-db", "known", t(1));
  const auto before = b.timeline();
  CHECK(b.send(message_edited{"nope", "new text", t(2)}).empty());
  CHECK(b.outcome().error.empty());
  CHECK(b.send(message_deleted{"nope", t(3)}).empty());
  CHECK(b.outcome().error.empty());
  CHECK(b.send(reaction_added{"nope", "carol", "pushpin", t(4)}).empty());
  CHECK(b.outcome().error.empty());
  const auto after = b.timeline();
  REQUIRE(after.size() == before.size());
  for (std::size_t k = 0; k < after.size(); ++k) {
    CHECK(after[k].text == before[k].text);
    CHECK(after[k].edited == before[k].edited);
    CHECK(after[k].deleted == before[k].deleted);
    CHECK(after[k].key == before[k].key);
  }
  CHECK_FALSE(b.db.entry_by_source("nope").has_value());
}

TEST_CASE("edits of messages outside any incident change nothing") {
  bot b;
  b.start_db("inc-db");
  b.say("g1", "bob", "general", "not captured", t(1));
  b.send(message_edited{"g1", "edited", t(2)});
  b.send(message_deleted{"g1", t(3)});
  CHECK(b.outcome().error.empty());
  CHECK_FALSE(b.db.entry_by_source("g1").has_value());
}

TEST_CASE("a clock tick with nothing due changes nothing and says nothing") {
  bot b;
  b.start_db("inc-db");
  CHECK(b.send(clock_tick{t(1)}).empty());
  CHECK(b.outcome().error.empty());
  CHECK_FALSE(b.outcome().duplicate);
  CHECK(b.send(clock_tick{t(1)}).empty());
  CHECK_FALSE(b.outcome().duplicate);  // ticks are not deduplicated
  CHECK(b.timeline().size() == 1);
}

}  // TEST_SUITE

TEST_CASE("a message sent before the resolution but delivered after it is still captured, a later one is not") {
  bot b;
  b.start_db("general");  // not an incident channel: capture stops with the resolution
  b.cmd("alice", "general", "resolve", t(10));
  b.say("late", "bob", "general", "said at minute 9, delivered after the resolve", t(9));
  b.say("after", "bob", "general", "said at minute 11", t(11));
  CHECK(b.db.entry_by_source("late").has_value());
  CHECK_FALSE(b.db.entry_by_source("after").has_value());
}
