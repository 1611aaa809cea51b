// The dispatcher: inbox deduplication, one savepoint per event in a group commit, and the outbox.
#include "core/dispatcher.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;

namespace {

// Makes the named store call throw store_error when its detail contains `needle`.
void fail_on(bot& b, std::string op, std::string needle) {
  b.db.hook = [op = std::move(op), needle = std::move(needle)](std::string_view what, std::string_view detail) {
    if (what == op && contains(detail, needle)) throw store_error("injected failure in " + op + ": " + std::string{detail});
  };
}

std::string pending_texts(bot& b) {
  std::string out;
  for (const auto& item : b.db.pending(100)) out += show(item.what) + "\n";
  return out;
}

message_posted msg(std::string id, std::string text, timestamp when, std::string channel = "inc-db") {
  return message_posted{std::move(id), std::move(channel), "bob", std::move(text), when, false, {}};
}

}  // namespace

TEST_SUITE("dispatcher") {

TEST_CASE("a redelivered command is a duplicate: no actions, no change") {
  bot b;
  const auto start = b.command("alice", "inc-db", "start DB down", t0);
  const auto first = b.send(start);
  CHECK_FALSE(first.empty());
  CHECK_FALSE(b.outcome().duplicate);

  const auto again = b.send(start);
  CHECK(again.empty());
  CHECK(b.outcome().duplicate);
  CHECK(b.outcome().error.empty());
  CHECK(b.db.pending(10).empty());
  CHECK_FALSE(b.db.find_incident(2).has_value());
  CHECK(b.timeline().size() == 1);

  SUBCASE("a redelivered action add does not add it twice") {
    const auto add = b.command("alice", "inc-db", "action add Renew the cert @bob", t(1));
    CHECK(b.send(add).size() == 2);
    CHECK(b.send(add).empty());
    CHECK(b.outcome().duplicate);
    CHECK(b.db.actions_of(1).size() == 1);
  }
}

TEST_CASE("the same command text with a new invocation id is a new command") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "why The cert expired", t(1));
  b.cmd("alice", "inc-db", "why The cert expired", t(1));
  CHECK(b.db.whys(1).size() == 2);
}

TEST_CASE("a duplicate inside one batch is recognised") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.send_batch({msg("m1", "hello", t(1)), msg("m1", "hello", t(1)), msg("m2", "world", t(2))});
  CHECK(out.empty());
  CHECK_FALSE(b.outcomes[0].duplicate);
  CHECK(b.outcomes[1].duplicate);
  CHECK_FALSE(b.outcomes[2].duplicate);
  CHECK(b.timeline().size() == 3);
}

TEST_CASE("an event that throws is rolled back alone, the rest of the batch commits") {
  bot b;
  b.start_db("inc-db");
  fail_on(b, "add_entry", "boom");
  const auto out = b.send_batch({msg("m1", "first", t(1)), msg("m2", "boom", t(2)), msg("m3", "third", t(3))});
  CHECK(out.empty());
  CHECK(b.outcomes[0].error.empty());
  CHECK(b.outcomes[1].error == "injected failure in add_entry: boom");
  CHECK_FALSE(b.outcomes[1].duplicate);
  CHECK(b.outcomes[2].error.empty());
  CHECK(b.db.entry_by_source("m1").has_value());
  CHECK_FALSE(b.db.entry_by_source("m2").has_value());
  CHECK(b.db.entry_by_source("m3").has_value());

  SUBCASE("the failed event was not remembered: its redelivery is handled") {
    b.db.hook = nullptr;
    b.send(msg("m2", "boom", t(2)));
    CHECK_FALSE(b.outcome().duplicate);
    CHECK(b.outcome().error.empty());
    CHECK(b.entry("m2").text == "boom");
  }
  SUBCASE("the ones that went through were remembered") {
    b.db.hook = nullptr;
    b.send(msg("m1", "first", t(1)));
    CHECK(b.outcome().duplicate);
  }
}

TEST_CASE("a message whose failure ended the transaction fails the whole batch") {
  bot b;
  b.start_db("inc-db");
  // What SQLite does after an I/O error: the statement fails and the transaction is gone with it.
  b.db.hook = [&b](std::string_view op, std::string_view detail) {
    if (op != "add_entry" || detail != "boom") return;
    b.real.rollback();
    throw store_error("storage: add_entry_if_new: disk I/O error");
  };
  const std::vector<event> batch{msg("m1", "first", t(1)), msg("m2", "boom", t(2)), msg("m3", "third", t(3))};
  CHECK_THROWS_AS(b.disp.process(std::span<const event>{batch}), store_error);
  b.db.hook = nullptr;
  CHECK_FALSE(b.db.transaction_open());
  CHECK_FALSE(b.db.entry_by_source("m1").has_value());
  CHECK_FALSE(b.db.entry_by_source("m3").has_value());
  // Nothing of it was stored, so nothing of it was acknowledged: the redelivery is handled in full.
  b.send_batch(batch);
  for (const auto& o : b.outcomes) {
    CHECK(o.error.empty());
    CHECK_FALSE(o.duplicate);
  }
  CHECK(b.entry("m2").text == "boom");
}

TEST_CASE("a command that fails half way leaves nothing behind, and says nothing") {
  bot b;
  fail_on(b, "add_entry", "boom");  // the declaration entry: after the incident row is written
  const auto out = b.send_batch({b.command("alice", "inc-x", "start boom in the cluster", t0),
                                 b.command("bob", "inc-db", "start DB down", t(1))});
  CHECK_FALSE(b.outcomes[0].error.empty());
  CHECK(b.outcomes[1].error.empty());
  CHECK_FALSE(b.db.incident_in_channel("inc-x").has_value());
  REQUIRE(b.db.incident_in_channel("inc-db").has_value());
  CHECK(b.db.open_incidents().size() == 1);
  CHECK(b.db.incident_in_channel("inc-db")->declared_by == "bob");
  for (const auto& a : out) CHECK_FALSE(contains(show(a), "inc-x"));
  CHECK_FALSE(out.empty());
}

TEST_CASE("a failure while queueing a reply rolls the whole event back, replies included") {
  bot b;
  b.start_db("inc-db");
  fail_on(b, "enqueue", "dm @carol");
  const auto out = b.send_batch({b.command("alice", "inc-db", "action add Write the runbook @carol", t(1)),
                                 b.command("alice", "inc-db", "action add Renew the cert @bob", t(2))});
  CHECK_FALSE(b.outcomes[0].error.empty());
  CHECK(b.outcomes[1].error.empty());
  const auto items = b.db.actions_of(1);
  REQUIRE(items.size() == 1);
  CHECK(items[0].owner == "bob");
  CHECK(b.entries_of(entry_kind::action_entry).size() == 1);
  // Only the second command's post and DM went out: the first one's post was queued, then rolled back.
  REQUIRE(out.size() == 2);
  CHECK(std::get<post_message>(out[0]).text.starts_with("✅ Action #"));
  CHECK(contains(std::get<post_message>(out[0]).text, "<@bob>"));
  CHECK(std::get<direct_message>(out[1]).user == "bob");
}

TEST_CASE("a failure in the inbox itself is that event's error") {
  bot b;
  b.start_db("inc-db");
  SUBCASE("writing it (a message that is not captured)") {
    fail_on(b, "remember_event", "msg:m2");
    b.send_batch({msg("m1", "first", t(1), "general"), msg("m2", "second", t(2), "general")});
    CHECK(b.outcomes[0].error.empty());
    CHECK(b.outcomes[1].error == "injected failure in remember_event: msg:m2");
    b.db.hook = nullptr;
    b.send_batch({msg("m1", "first", t(1), "general"), msg("m2", "second", t(2), "general")});
    CHECK(b.outcomes[0].duplicate);
    CHECK_FALSE(b.outcomes[1].duplicate);  // it was not remembered: the redelivery is handled
  }
  SUBCASE("reading it (a captured message)") {
    fail_on(b, "seen_event", "msg:m2");
    b.send_batch({msg("m1", "first", t(1)), msg("m2", "second", t(2))});
    CHECK(b.outcomes[0].error.empty());
    CHECK(b.outcomes[1].error == "injected failure in seen_event: msg:m2");
    CHECK(b.db.entry_by_source("m1").has_value());
    CHECK_FALSE(b.db.entry_by_source("m2").has_value());
  }
}

TEST_CASE("a captured message is remembered by its timeline entry, not by an inbox row") {
  bot b;
  b.start_db("inc-db");
  std::vector<std::string> calls;
  b.db.hook = [&calls](std::string_view op, std::string_view detail) {
    calls.push_back(std::string{op} + " " + std::string{detail});
  };
  b.send(msg("m1", "first", t(1)));
  CHECK(b.outcome().error.empty());
  CHECK_FALSE(b.outcome().duplicate);
  CHECK(calls == std::vector<std::string>{"seen_event msg:m1", "add_entry first"});
  CHECK_FALSE(b.db.seen_event("msg:m1"));

  calls.clear();
  b.send(msg("m1", "first", t(1)));
  CHECK(b.outcome().duplicate);
  CHECK(b.outcome().error.empty());
  CHECK(b.timeline().size() == 2);
  CHECK_FALSE(b.db.seen_event("msg:m1"));
}

TEST_CASE("a message that was not captured stays a duplicate once its channel has an incident") {
  bot b;
  b.send(msg("m1", "before the incident", t(1), "inc-db"));
  CHECK_FALSE(b.outcome().duplicate);
  CHECK(b.db.seen_event("msg:m1"));  // nothing on a timeline remembers it: the inbox does
  b.start_db("inc-db");
  b.send(msg("m1", "before the incident", t(1), "inc-db"));
  CHECK(b.outcome().duplicate);
  CHECK_FALSE(b.db.entry_by_source("m1").has_value());
  b.send(msg("m2", "during the incident", t(2), "inc-db"));
  CHECK_FALSE(b.outcome().duplicate);
  CHECK(b.db.entry_by_source("m2").has_value());
}

TEST_CASE("a message remembered in the inbox by an older version is a duplicate") {
  bot b;
  b.start_db("inc-db");
  b.db.begin();
  CHECK(b.db.remember_event("msg:m1", t(1)));
  b.db.commit();
  b.send(msg("m1", "first", t(1)));
  CHECK(b.outcome().duplicate);
  CHECK_FALSE(b.db.entry_by_source("m1").has_value());
}

TEST_CASE("the bot's own message is remembered in the inbox") {
  bot b;
  b.start_db("inc-db");
  b.send(message_posted{"m1", "inc-db", "kintsugi", "✅ done", t(1), true, {}});
  CHECK_FALSE(b.outcome().duplicate);
  CHECK(b.db.seen_event("msg:m1"));
  b.send(message_posted{"m1", "inc-db", "kintsugi", "✅ done", t(1), true, {}});
  CHECK(b.outcome().duplicate);
  CHECK_FALSE(b.db.entry_by_source("m1").has_value());
}

TEST_CASE("a message rolled back with its batch's event is neither captured nor remembered") {
  bot b;
  b.start_db("inc-db");
  fail_on(b, "add_entry", "boom");
  b.send_batch({msg("m1", "boom", t(1)), msg("m2", "boom", t(2), "general")});
  CHECK_FALSE(b.outcomes[0].error.empty());
  CHECK(b.outcomes[1].error.empty());  // not captured: add_entry is never called for it
  CHECK_FALSE(b.db.seen_event("msg:m1"));
  CHECK_FALSE(b.db.entry_by_source("m1").has_value());
  b.db.hook = nullptr;
  b.send(msg("m1", "boom", t(1)));
  CHECK_FALSE(b.outcome().duplicate);
  CHECK(b.entry("m1").text == "boom");
}

TEST_CASE("an empty batch does nothing") {
  bot b;
  CHECK(b.disp.process({}).empty());
}

}  // TEST_SUITE

TEST_SUITE("dispatcher outbox") {

TEST_CASE("process queues the replies, deliver sends them oldest first and marks them sent") {
  bot b;
  const event ev = b.command("alice", "inc-db", "start DB down", t0);
  const auto outcomes = b.disp.process(std::span<const event>{&ev, 1});
  REQUIRE(outcomes.size() == 1);
  auto pending = b.db.pending(100);
  REQUIRE(pending.size() == 2);
  CHECK(std::holds_alternative<post_message>(pending[0].what));
  CHECK(std::holds_alternative<set_topic>(pending[1].what));
  CHECK(pending[0].queued_at == t0);
  CHECK(pending[0].attempts == 0);
  CHECK(pending[0].id < pending[1].id);

  actions sent;
  const auto n = b.disp.deliver([&sent](const action& a) {
    sent.push_back(a);
    return true;
  }, t(1));
  CHECK(n == 2);
  REQUIRE(sent.size() == 2);
  CHECK(show(sent[0]) == show(pending[0].what));
  CHECK(show(sent[1]) == show(pending[1].what));
  CHECK(b.db.pending(100).empty());

  int calls = 0;
  CHECK(b.disp.deliver([&calls](const action&) {
    ++calls;
    return true;
  }, t(2)) == 0);
  CHECK(calls == 0);
}

TEST_CASE("a delivery that fails stays pending for the next deliver") {
  bot b;
  const event ev = b.command("alice", "inc-db", "start DB down", t0);
  b.disp.process(std::span<const event>{&ev, 1});
  const auto queued = pending_texts(b);
  REQUIRE_FALSE(queued.empty());

  int tries = 0;
  CHECK(b.disp.deliver([&tries](const action&) {
    ++tries;
    return false;
  }, t(1)) == 0);
  CHECK(tries == 2);
  CHECK(pending_texts(b) == queued);
  for (const auto& item : b.db.pending(100)) CHECK(item.attempts == 1);

  actions sent;
  CHECK(b.disp.deliver([&sent](const action& a) {
    sent.push_back(a);
    return true;
  }, t(2)) == 2);
  CHECK(show(sent) == queued);
  CHECK(b.db.pending(100).empty());
}

TEST_CASE("only the failed items stay pending") {
  bot b;
  b.start_db("inc-db");
  const event ev = b.command("alice", "inc-db", "action add Renew the cert @bob", t(1));
  b.disp.process(std::span<const event>{&ev, 1});
  const auto not_dms = [](const action& a) { return !std::holds_alternative<direct_message>(a); };
  CHECK(b.disp.deliver(not_dms, t(2)) == 1);  // the post went out, the DM did not
  const auto left = b.db.pending(100);
  REQUIRE(left.size() == 1);
  CHECK(std::get<direct_message>(left[0].what).user == "bob");
  CHECK(left[0].attempts == 1);

  actions sent;
  CHECK(b.disp.deliver([&sent](const action& a) {
    sent.push_back(a);
    return true;
  }, t(3)) == 1);
  REQUIRE(sent.size() == 1);
  CHECK(std::holds_alternative<direct_message>(sent[0]));
}

TEST_CASE("deliver sends at most `limit` items, oldest first") {
  bot b;
  const event ev = b.command("alice", "inc-db", "start DB down", t0);
  b.disp.process(std::span<const event>{&ev, 1});
  actions sent;
  const auto take = [&sent](const action& a) {
    sent.push_back(a);
    return true;
  };
  CHECK(b.disp.deliver(take, t(1), 1) == 1);
  REQUIRE(sent.size() == 1);
  CHECK(std::holds_alternative<post_message>(sent[0]));
  CHECK(b.db.pending(100).size() == 1);
  CHECK(b.disp.deliver(take, t(1), 1) == 1);
  CHECK(std::holds_alternative<set_topic>(sent[1]));
  CHECK(b.db.pending(100).empty());
}

TEST_CASE("replies of a rolled-back event never reach the outbox") {
  bot b;
  b.start_db("inc-db");
  fail_on(b, "add_entry", "Why #1");
  const event ev = b.command("alice", "inc-db", "why The cert expired", t(1));
  const auto outcomes = b.disp.process(std::span<const event>{&ev, 1});
  CHECK_FALSE(outcomes[0].error.empty());
  CHECK(b.db.pending(100).empty());
  CHECK(b.db.whys(1).empty());  // added before the failing entry, rolled back with it
}

}  // TEST_SUITE
