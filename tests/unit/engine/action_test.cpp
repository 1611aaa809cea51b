// Action items: add, list, done, reopen, snooze, reassign, drop — in the incident channel and from elsewhere.
#include "core/engine.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;

namespace {

const std::string close_hint_1 = "`/incident action done 1` when it's done; `snooze 1 <3d>` if the date moves.";

// Every stored field of an action item.
std::string dump(const action_item& a) {
  auto when = [](const std::optional<timestamp>& ts) { return ts ? format_iso(*ts) : std::string{"-"}; };
  return "#" + std::to_string(a.id) + " inc=" + std::to_string(a.incident_id) + " text=" + a.text + " owner=" + a.owner +
         " due=" + (a.due ? format_date(*a.due) : "-") + " kind=" + std::string{name(a.kind)} +
         " status=" + std::string{name(a.status)} + " by=" + a.created_by + " at=" + format_iso(a.created_at) +
         " closed=" + when(a.closed_at) + " snoozed=" + when(a.snoozed_until);
}

std::string dump_all(bot& b, kintsugi::core::id_t incident_id = 1) {
  std::string out;
  for (const auto& a : b.db.actions_of(incident_id)) out += dump(a) + "\n";
  return out;
}

// An incident in inc-db (alice, t0) with action #1 for bob (default due date).
void with_one_action(bot& b) {
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "action add Renew the cert automatically @bob", t0);
  REQUIRE(b.db.find_action(1).has_value());
}

}  // namespace

TEST_SUITE("engine actions") {

TEST_CASE("add: stored with the default due date, announced, and the owner gets a DM") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "action add Renew the cert automatically @bob", t0);
  CHECK(show(out) ==
        "post #inc-db | ✅ Action #1 for <@bob>: Renew the cert automatically. Due 2026-12-04 (the default, 14 days out; "
        "`due:YYYY-MM-DD` picks another), kind fix. Closed with `/incident action done 1`.\n"
        "dm @bob | Hi <@bob>, you own action #1 from INC-1 (DB down): Renew the cert automatically. Due 2026-12-04. " +
        close_hint_1 + " If it should be someone else's, `/incident action reassign 1 @user`.\n");
  const auto a = b.item(1);
  CHECK(a.incident_id == 1);
  CHECK(a.text == "Renew the cert automatically");
  CHECK(a.owner == "bob");
  REQUIRE(a.due.has_value());
  CHECK(*a.due == ymd(2026, 12, 4));  // 2026-11-20 + 14 days
  CHECK(a.kind == action_kind::fix);
  CHECK(a.status == action_status::open);
  CHECK(a.created_by == "alice");
  CHECK(a.created_at == t0);
  CHECK_FALSE(a.closed_at.has_value());
  CHECK_FALSE(a.snoozed_until.has_value());

  const auto ent = b.entries_of(entry_kind::action_entry);
  REQUIRE(ent.size() == 1);
  CHECK(ent[0].text == "Action #1 Renew the cert automatically — <@bob>, due 2026-12-04 (fix) added by <@alice>");
  CHECK(ent[0].at == t0);
}

TEST_CASE("add: the default due date follows the option and crosses month ends") {
  engine_options o;
  o.default_due_days = 30;
  bot b{o};
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "action add Check the backups @bob", at("2026-12-15T23:59:00Z"));
  CHECK(*b.item(1).due == ymd(2027, 1, 14));
  REQUIRE(of_kind<post_message>(out).size() == 1);
  CHECK(contains(of_kind<post_message>(out)[0].text, "Due 2027-01-14 (the default, 30 days out;"));
}

// The default due date counts from the user's own day, as due:+Nd and the "in the past" check do: for a user
// in Berlin at 00:30 local time, the UTC day is still yesterday.
TEST_CASE("add: the default due date counts from the user's own day, like due:+14d") {
  bot b;
  b.db.upsert_user(user{"alice", "Alice", "Europe/Berlin"});
  b.start_db("inc-db");
  const timestamp late = at("2026-11-20T23:30:00Z");  // 2026-11-21 00:30 in Berlin
  b.cmd("alice", "inc-db", "action add Default due @bob", late);
  b.cmd("alice", "inc-db", "action add Explicit due @bob due:+14d", late);
  REQUIRE(b.item(2).due.has_value());
  CHECK(*b.item(2).due == ymd(2026, 12, 5));
  CHECK(format_date(*b.item(1).due) == format_date(*b.item(2).due));
}

TEST_CASE("add: an explicit due date and kind") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "action add Write the rollback runbook @carol due:2026-12-01 kind:process", t(5));
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].text == "✅ Action #1 for <@carol>: Write the rollback runbook. Due 2026-12-01, kind process. Closed with "
                         "`/incident action done 1`.");
  const auto dms = of_kind<direct_message>(out);
  REQUIRE(dms.size() == 1);
  CHECK(dms[0].user == "carol");
  CHECK(contains(dms[0].text, "Due 2026-12-01."));
  const auto a = b.item(1);
  CHECK(a.text == "Write the rollback runbook");
  CHECK(a.owner == "carol");
  CHECK(*a.due == ymd(2026, 12, 1));
  CHECK(a.kind == action_kind::process);
}

TEST_CASE("add: relative due dates, every kind, and `@me`") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "action add Alert on cert expiry @bob due:+3d kind:detection", t(5));
  b.cmd("alice", "inc-db", "action add Add a kill switch @me due:+2w kind:mitigation", t(6));
  b.cmd("alice", "inc-db", "action add Pin the CA bundle @bob kind:fix", t(7));
  CHECK(*b.item(1).due == ymd(2026, 11, 23));
  CHECK(b.item(1).kind == action_kind::detection);
  CHECK(b.item(2).owner == "alice");
  CHECK(*b.item(2).due == ymd(2026, 12, 4));
  CHECK(b.item(2).kind == action_kind::mitigation);
  CHECK(b.item(3).kind == action_kind::fix);
  CHECK(b.db.actions_of(1).size() == 3);
}

TEST_CASE("add: ids are global across incidents") {
  bot b;
  b.cmd("alice", "inc-a", "start A down", t0);
  b.cmd("alice", "inc-b", "start B down", t0);
  b.cmd("alice", "inc-a", "action add one @bob", t(1));
  b.cmd("alice", "inc-b", "action add two @bob", t(2));
  CHECK(b.item(1).incident_id == 1);
  CHECK(b.item(2).incident_id == 2);
}

TEST_CASE("add: a parse error (no owner) stores nothing") {
  bot b;
  b.start_db("inc-db");
  const auto e = only_ephemeral(b.cmd("alice", "inc-db", "action add Renew the cert", t(5)));
  CHECK(e.user == "alice");
  CHECK(contains(e.text, "Every action needs an owner"));
  CHECK(contains(e.text, "`/incident action add <text> @owner"));
  CHECK(b.db.actions_of(1).empty());
}

TEST_CASE("list in the incident channel: every item of the incident, for the asker only") {
  bot b;
  with_one_action(b);
  b.cmd("alice", "inc-db", "action add Write the runbook @carol due:2026-12-01 kind:process", t(1));
  b.cmd("carol", "inc-db", "action done 2", t(2));
  const auto e = only_ephemeral(b.cmd("dave", "inc-db", "action list", t(3)));
  CHECK(e.channel == "inc-db");
  CHECK(e.user == "dave");
  CHECK(e.text == "Action items of INC-1:\n"
                  "• #1 Renew the cert automatically — <@bob>, due 2026-12-04 (fix) — open\n"
                  "• #2 Write the runbook — <@carol>, due 2026-12-01 (process) — done");
  SUBCASE("`actions` is the same") { CHECK(only_ephemeral(b.cmd("dave", "inc-db", "actions", t(3))).text == e.text); }
}

TEST_CASE("list marks open items past their due date as overdue") {
  bot b;
  with_one_action(b);
  const auto e = only_ephemeral(b.cmd("bob", "inc-db", "action list", at("2026-12-05T09:00:00Z")));
  CHECK(e.text == "Action items of INC-1:\n• #1 Renew the cert automatically — <@bob>, due 2026-12-04 (fix) — open, overdue");
  const auto due_day = only_ephemeral(b.cmd("bob", "inc-db", "action list", at("2026-12-04T23:00:00Z")));
  CHECK_FALSE(contains(due_day.text, "overdue"));
}

TEST_CASE("list in an incident channel without items") {
  bot b;
  b.start_db("inc-db");
  const auto e = only_ephemeral(b.cmd("bob", "inc-db", "action list", t(1)));
  CHECK(e.text == "No action items yet. Add one: `/incident action add <text> @owner [due:YYYY-MM-DD] "
                  "[kind:fix|process|detection|mitigation]`");
}

TEST_CASE("list in a DM or another channel: the asker's own open items, across incidents") {
  bot b;
  b.cmd("alice", "inc-a", "start A down", t0);
  b.cmd("alice", "inc-b", "start B down", t0);
  b.cmd("alice", "inc-a", "action add Fix A @bob", t(1));
  b.cmd("alice", "inc-a", "action add Document A @carol", t(2));
  b.cmd("alice", "inc-b", "action add Fix B @bob due:2026-11-25 kind:detection", t(3));
  b.cmd("alice", "inc-b", "action add Old B @bob", t(4));
  b.cmd("bob", "inc-b", "action drop 4", t(5));
  for (const std::string where : {"D-bob", "general"}) {
    CAPTURE(where);
    const auto e = only_ephemeral(b.cmd("bob", where, "action list", t(6)));
    CHECK(e.channel == where);
    CHECK(e.user == "bob");
    CHECK(e.text == "Your open action items:\n"
                    "• #1 Fix A — <@bob>, due 2026-12-04 (fix) — open\n"
                    "• #3 Fix B — <@bob>, due 2026-11-25 (detection) — open");
  }
  const auto none = only_ephemeral(b.cmd("dave", "D-dave", "action list", t(7)));
  CHECK(none.text == "You have no open action items. Nice.");
}

TEST_CASE("done in the incident channel: closed, announced there once") {
  bot b;
  with_one_action(b);
  b.cmd("alice", "inc-db", "action add Write the runbook @carol", t(1));
  const auto out = b.cmd("bob", "inc-db", "action done 1", t(60));
  CHECK(show(out) == "post #inc-db | 🎉 Action #1 is done: Renew the cert automatically. Thank you, <@bob>. (1 of 2 closed)\n");
  const auto a = b.item(1);
  CHECK(a.status == action_status::done);
  REQUIRE(a.closed_at.has_value());
  CHECK(*a.closed_at == t(60));
  CHECK(b.entries_of(entry_kind::action_entry).back().text == "Action #1 done (by <@bob>)");
  CHECK(b.entries_of(entry_kind::action_entry).back().at == t(60));

  SUBCASE("done again: an ephemeral and no change") {
    const auto e = only_ephemeral(b.cmd("bob", "inc-db", "action done 1", t(61)));
    CHECK(e.text == "Action #1 is already done.");
    CHECK(*b.item(1).closed_at == t(60));
  }
}

TEST_CASE("done from another channel: posted in the incident channel and told to the user") {
  bot b;
  with_one_action(b);
  const auto out = b.cmd("bob", "D-bob", "action done 1", t(60));
  const std::string text = "🎉 Action #1 is done: Renew the cert automatically. Thank you, <@bob>. (1 of 1 closed)";
  CHECK(show(out) == "post #inc-db | " + text + "\nephemeral #D-bob @bob | " + text + "\n");
  CHECK(b.item(1).status == action_status::done);
  CHECK(b.entries_of(entry_kind::action_entry).back().text == "Action #1 done (by <@bob>)");
}

TEST_CASE("done from another incident's channel lands in the action's own incident") {
  bot b;
  with_one_action(b);
  b.cmd("carol", "inc-web", "start Web slow", t(1));
  const auto out = b.cmd("bob", "inc-web", "action done 1", t(60));
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 1);
  CHECK(posts[0].channel == "inc-db");
  CHECK(of_kind<post_ephemeral>(out).size() == 1);
  CHECK(b.entries_of(entry_kind::action_entry, 2).empty());
  CHECK(b.entries_of(entry_kind::action_entry, 1).back().text == "Action #1 done (by <@bob>)");
}

TEST_CASE("reopen brings a closed item back") {
  bot b;
  with_one_action(b);
  b.cmd("bob", "inc-db", "action done 1", t(60));
  const auto out = b.cmd("alice", "inc-db", "action reopen 1", t(70));
  CHECK(show(out) == "post #inc-db | Action #1 is open again: #1 Renew the cert automatically — <@bob>, due 2026-12-04 (fix).\n");
  const auto a = b.item(1);
  CHECK(a.status == action_status::open);
  CHECK_FALSE(a.closed_at.has_value());
  CHECK(b.entries_of(entry_kind::action_entry).back().text == "Action #1 reopened (by <@alice>)");

  const auto e = only_ephemeral(b.cmd("alice", "inc-db", "action reopen 1", t(71)));
  CHECK(e.text == "Action #1 is already open.");
}

TEST_CASE("snooze: quiet until then, the due date moves only when the snooze passes it") {
  bot b;
  with_one_action(b);  // due 2026-12-04
  SUBCASE("within the due date") {
    const auto out = b.cmd("bob", "inc-db", "action snooze 1 3d", t(60));
    CHECK(show(out) == "post #inc-db | 💤 Action #1 snoozed until 2026-11-23 11:00 UTC.\n");
    const auto a = b.item(1);
    REQUIRE(a.snoozed_until.has_value());
    CHECK(*a.snoozed_until == at("2026-11-23T11:00:00Z"));
    CHECK(*a.due == ymd(2026, 12, 4));
    CHECK(b.entries_of(entry_kind::action_entry).back().text == "Action #1 snoozed until 2026-11-23 11:00 UTC (by <@bob>)");
  }
  SUBCASE("past the due date") {
    const auto out = b.cmd("bob", "inc-db", "action snooze 1 30d", t(60));
    CHECK(show(out) == "post #inc-db | 💤 Action #1 snoozed until 2026-12-20 11:00 UTC; due moved to 2026-12-20.\n");
    const auto a = b.item(1);
    CHECK(*a.snoozed_until == at("2026-12-20T11:00:00Z"));
    CHECK(*a.due == ymd(2026, 12, 20));
    CHECK(b.entries_of(entry_kind::action_entry).back().text ==
          "Action #1 snoozed until 2026-12-20 11:00 UTC; due moved to 2026-12-20 (by <@bob>)");
  }
  SUBCASE("from a DM") {
    const auto out = b.cmd("bob", "D-bob", "action snooze 1 2w", t(60));
    const std::string text = "💤 Action #1 snoozed until 2026-12-04 11:00 UTC.";
    CHECK(show(out) == "post #inc-db | " + text + "\nephemeral #D-bob @bob | " + text + "\n");
    CHECK(*b.item(1).due == ymd(2026, 12, 4));  // the same day: not moved
  }
  SUBCASE("a closed item cannot be snoozed") {
    b.cmd("bob", "inc-db", "action done 1", t(60));
    const auto e = only_ephemeral(b.cmd("bob", "inc-db", "action snooze 1 3d", t(61)));
    CHECK(e.text == "Action #1 is done; only open items can be snoozed.");
    CHECK_FALSE(b.item(1).snoozed_until.has_value());
  }
}

TEST_CASE("reassign: the new owner gets a DM") {
  bot b;
  with_one_action(b);
  const auto out = b.cmd("alice", "inc-db", "action reassign 1 @carol", t(60));
  CHECK(show(out) == "post #inc-db | Action #1 now belongs to <@carol>: Renew the cert automatically.\n"
                     "dm @carol | Hi <@carol>, action #1 from INC-1 (DB down) is now yours: Renew the cert automatically. "
                     "Due 2026-12-04. " + close_hint_1 + "\n");
  CHECK(b.item(1).owner == "carol");
  CHECK(b.item(1).status == action_status::open);
  CHECK(b.entries_of(entry_kind::action_entry).back().text == "Action #1 moved from <@bob> to <@carol> (by <@alice>)");

  const auto e = only_ephemeral(b.cmd("alice", "inc-db", "action reassign 1 @carol", t(61)));
  CHECK(e.text == "Action #1 is already <@carol>'s.");

  SUBCASE("to me, from a DM") {
    const auto mine = b.cmd("dave", "D-dave", "action reassign 1 me", t(62));
    CHECK(b.item(1).owner == "dave");
    CHECK(of_kind<post_message>(mine).size() == 1);
    CHECK(of_kind<post_message>(mine)[0].channel == "inc-db");
    CHECK(of_kind<direct_message>(mine).size() == 1);
    CHECK(of_kind<direct_message>(mine)[0].user == "dave");
  }
}

TEST_CASE("drop: closed as dropped, and can be reopened") {
  bot b;
  with_one_action(b);
  const auto out = b.cmd("alice", "inc-db", "action drop 1", t(60));
  CHECK(show(out) == "post #inc-db | Action #1 dropped: Renew the cert automatically. (`/incident action reopen 1` brings it "
                     "back.)\n");
  CHECK(b.item(1).status == action_status::dropped);
  CHECK(*b.item(1).closed_at == t(60));
  CHECK(b.entries_of(entry_kind::action_entry).back().text == "Action #1 dropped (by <@alice>)");
  CHECK(only_ephemeral(b.cmd("alice", "inc-db", "action drop 1", t(61))).text == "Action #1 is already dropped.");
  b.cmd("alice", "inc-db", "action reopen 1", t(62));
  CHECK(b.item(1).status == action_status::open);
}

TEST_CASE("an unknown action id: an ephemeral error and the store unchanged") {
  bot b;
  with_one_action(b);
  const auto before = dump_all(b);
  const auto entries = b.timeline().size();
  for (const std::string verb : {"done 99", "reopen 99", "snooze 99 3d", "reassign 99 @carol", "drop 99"}) {
    for (const std::string where : {"inc-db", "D-bob"}) {
      CAPTURE(verb);
      CAPTURE(where);
      const auto e = only_ephemeral(b.cmd("bob", where, "action " + verb, t(60)));
      CHECK(e.user == "bob");
      CHECK(e.channel == where);
      CHECK(e.text == "There is no action #99. `/incident action list` shows " +
                          std::string{where == "inc-db" ? "this incident's actions." : "your open actions."});
      CHECK(b.outcome().error.empty());
      CHECK(dump_all(b) == before);
      CHECK(b.timeline().size() == entries);
      CHECK_FALSE(b.db.find_action(99).has_value());
    }
  }
}

TEST_CASE("action ids that are not numbers are parse errors") {
  bot b;
  with_one_action(b);
  const auto before = dump_all(b);
  const auto e = only_ephemeral(b.cmd("bob", "inc-db", "action done one", t(60)));
  CHECK(contains(e.text, "is not an action id"));
  CHECK(contains(e.text, "`/incident action done"));
  CHECK(dump_all(b) == before);
}

}  // TEST_SUITE
