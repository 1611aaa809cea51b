// Buttons the engine offers: the open roles after start (and while roles stay open), "Mark done" and "Snooze 1
// day" to an action's owner, "Write the postmortem" after resolve. A press arrives as the button's command, from
// the person who pressed it, in the channel that shows the message (a DM's own channel for a direct message).
// Every reply here went through the real outbox (SQLite) and back, so the buttons survived it too.
#include "core/engine.hpp"

#include <doctest/doctest.h>

#include "engine_fixture.hpp"

using namespace kintsugi::test::engine_fx;

namespace {

const std::string all_roles =
    "I'll be commander -> role commander me (primary)\n"
    "I'll be scribe -> role scribe me\n"
    "I'll be facilitator -> role facilitator me\n";

const std::string owner_buttons_1 =
    "Mark done -> action done 1 (primary)\n"
    "Snooze 1 day -> action snooze 1 1d\n";

// Presses the button labelled `label` of `a` as `user` in `channel`: the command it carries, run as typed.
actions press(bot& b, const action& a, const std::string& label, const std::string& user, const std::string& channel,
              timestamp when) {
  const std::vector<button>* buttons = nullptr;
  if (const auto* p = std::get_if<post_message>(&a)) buttons = &p->buttons;
  if (const auto* p = std::get_if<post_ephemeral>(&a)) buttons = &p->buttons;
  if (const auto* p = std::get_if<direct_message>(&a)) buttons = &p->buttons;
  REQUIRE(buttons != nullptr);
  for (const auto& btn : *buttons)
    if (btn.label == label) return b.cmd(user, channel, btn.command, when);
  FAIL("no button labelled ", label, " on: ", show(a));
  return {};
}

// The buttons of every action of a reply, each action's under its show() line; actions without buttons are left out.
std::string buttons_of(const actions& all) {
  std::string out;
  for (const auto& a : all)
    if (auto shown = show_buttons(a); !shown.empty()) out += show(a).substr(0, show(a).find(" |")) + ":\n" + shown;
  return out;
}

}  // namespace

TEST_SUITE("engine buttons") {

TEST_CASE("start offers one button per role, on the welcome only") {
  bot b;
  const auto out = b.start_db("inc-db");
  CHECK(buttons_of(out) == "post #inc-db:\n" + all_roles);
  // The welcome still says how to take a role by typing, for platforms without buttons.
  REQUIRE(of_kind<post_message>(out).size() == 1);
  CHECK(contains(of_kind<post_message>(out)[0].text, "`/incident role commander me`"));
}

TEST_CASE("start in a new channel: the buttons are on the welcome in the new channel, not on the pointer to it") {
  bot b{with_channels()};
  const auto out = b.cmd("alice", "general", "start DB down sev2", t0);
  const auto posts = of_kind<post_message>(out);
  REQUIRE(posts.size() == 2);
  CHECK(posts[0].channel == "general");
  CHECK(posts[0].buttons.empty());
  CHECK(posts[1].channel == "inc-20261120-db-down");
  CHECK(buttons_of(out) == "post #inc-20261120-db-down:\n" + all_roles);
}

TEST_CASE("pressing a role button takes that role, and the reply offers the roles still open, then none") {
  bot b;
  const auto welcome = b.start_db("inc-db");
  const action post = of_kind<post_message>(welcome).at(0);

  auto out = press(b, post, "I'll be scribe", "bob", "inc-db", t(1));
  CHECK(b.inc().holder(role::scribe) == "bob");
  CHECK(show(without_topics(out)) ==
        "post #inc-db | <@bob> took the scribe role. <@bob> keeps the record: decisions, times and links on the timeline. "
        "Still open: commander, facilitator.\n");
  CHECK(buttons_of(out) == "post #inc-db:\n"
                           "I'll be commander -> role commander me (primary)\n"
                           "I'll be facilitator -> role facilitator me\n");

  out = press(b, post, "I'll be commander", "carol", "inc-db", t(2));
  CHECK(b.inc().holder(role::commander) == "carol");
  CHECK(b.inc().at(milestone::acknowledged) == t(2));
  CHECK(buttons_of(out) == "post #inc-db:\nI'll be facilitator -> role facilitator me\n");

  out = press(b, post, "I'll be facilitator", "dave", "inc-db", t(3));
  CHECK(b.inc().holder(role::facilitator) == "dave");
  CHECK(buttons_of(out).empty());

  // A stale button pressed again by the holder: the usual gentle answer, nothing changes.
  out = press(b, post, "I'll be facilitator", "dave", "inc-db", t(4));
  CHECK(only_ephemeral(out).text == "<@dave> already holds the facilitator role.");
}

TEST_CASE("`roles` offers buttons for the open roles only") {
  bot b;
  b.start_db("inc-db");
  CHECK(buttons_of(b.cmd("bob", "inc-db", "roles", t(1))) == "post #inc-db:\n" + all_roles);
  b.cmd("alice", "inc-db", "role commander me", t(2));
  CHECK(buttons_of(b.cmd("bob", "inc-db", "roles", t(3))) ==
        "post #inc-db:\nI'll be scribe -> role scribe me\nI'll be facilitator -> role facilitator me\n");
  b.cmd("alice", "inc-db", "role scribe @bob", t(4));
  b.cmd("alice", "inc-db", "role facilitator @carol", t(5));
  CHECK(buttons_of(b.cmd("bob", "inc-db", "roles", t(6))).empty());
}

TEST_CASE("the owner's DM of a new action offers Mark done and Snooze 1 day, the channel's post none") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "action add Renew the cert automatically @bob", t0);
  CHECK(buttons_of(out) == "dm @bob:\n" + owner_buttons_1);
}

TEST_CASE("Mark done pressed in the DM closes the action: announced in the incident channel, told in the DM") {
  bot b;
  b.start_db("inc-db");
  const auto added = b.cmd("alice", "inc-db", "action add Renew the cert automatically @bob", t0);
  const auto dm = of_kind<direct_message>(added).at(0);

  const auto out = press(b, dm, "Mark done", "bob", "D-bob", t(60));
  const std::string text = "🎉 Action #1 is done: Renew the cert automatically. Thank you, <@bob>. (1 of 1 closed)";
  CHECK(show(out) == "post #inc-db | " + text + "\nephemeral #D-bob @bob | " + text + "\n");
  CHECK(b.item(1).status == action_status::done);
  CHECK(b.entries_of(entry_kind::action_entry).back().text == "Action #1 done (by <@bob>)");

  // Pressed again later: already done, said kindly, only to the presser.
  CHECK(only_ephemeral(press(b, dm, "Mark done", "bob", "D-bob", t(61))).text == "Action #1 is already done.");
}

TEST_CASE("Snooze 1 day pressed in the DM snoozes the action a day") {
  bot b;
  b.start_db("inc-db");
  const auto added = b.cmd("alice", "inc-db", "action add Renew the cert automatically @bob due:2026-11-20", t0);
  const auto dm = of_kind<direct_message>(added).at(0);

  const auto out = press(b, dm, "Snooze 1 day", "bob", "D-bob", t(60));
  const auto a = b.item(1);
  REQUIRE(a.snoozed_until.has_value());
  CHECK(*a.snoozed_until == t(60) + std::chrono::days{1});
  CHECK(*a.due == ymd(2026, 11, 21));
  const std::string text = "💤 Action #1 snoozed until 2026-11-21 11:00 UTC; due moved to 2026-11-21.";
  CHECK(show(out) == "post #inc-db | " + text + "\nephemeral #D-bob @bob | " + text + "\n");
}

TEST_CASE("the new owner's DM after a reassign offers the same buttons, none for an item that is not open") {
  bot b;
  b.start_db("inc-db");
  b.cmd("alice", "inc-db", "action add Renew the cert automatically @bob", t0);
  auto out = b.cmd("alice", "inc-db", "action reassign 1 @carol", t(1));
  CHECK(buttons_of(out) == "dm @carol:\n" + owner_buttons_1);

  b.cmd("carol", "D-carol", "action done 1", t(2));
  out = b.cmd("alice", "inc-db", "action reassign 1 @dave", t(3));
  REQUIRE(of_kind<direct_message>(out).size() == 1);
  CHECK(buttons_of(out).empty());
}

TEST_CASE("resolve offers to write the postmortem, and pressing it writes the document") {
  bot b;
  b.start_db("inc-db");
  const auto out = b.cmd("alice", "inc-db", "resolve", t(30));
  CHECK(buttons_of(out) == "post #inc-db:\nWrite the postmortem -> postmortem\n");

  const auto written = press(b, of_kind<post_message>(out).at(0), "Write the postmortem", "carol", "inc-db", t(40));
  CHECK(of_kind<publish_document>(written).size() == 1);
  CHECK(b.db.latest_document(1).has_value());
}

TEST_CASE("replies without a reason for buttons have none") {
  bot b;
  b.start_db("inc-db");
  for (const auto* text : {"sev sev1", "status identified", "update Rolling back", "note Failover done", "timeline",
                           "action list", "help", "nonsense"}) {
    CAPTURE(text);
    CHECK(buttons_of(b.cmd("alice", "inc-db", text, t(5))).empty());
  }
}

}  // TEST_SUITE
