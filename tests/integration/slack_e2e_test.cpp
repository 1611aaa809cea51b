// The real `kintsugi run --config F` against a fake Slack (tests/support/fake_slack) over TLS on 127.0.0.1:
// Socket Mode envelopes in, Web API calls out, and the timeline in the database afterwards.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "e2e_support.hpp"
#include "fake_slack.hpp"
#include "tls_test_ca.hpp"

using namespace kintsugi::test;
using namespace std::chrono_literals;

namespace {

const std::string bot_token = "xoxb-TEST-SECRET";
const std::string app_token = "xapp-1-TEST";
const std::string channel = "C1";

// The fake Slack with two people and channel C1, and the bot run against it.
struct slack_world {
  explicit slack_world(bool bot_in_channel = true, fake_slack::options o = {})
      : slack(ca, std::move(o)), db(dir.file("kintsugi.db")), log(dir.file("kintsugi.stderr")) {
    slack.add_user({"U1", "alice", "Alice Archer", "Europe/Berlin"});
    slack.add_user({"U2", "bob", "Bob Baker", "America/New_York"});
    slack.add_channel(channel, "checkout-war-room", bot_in_channel);
  }

  ~slack_world() {
    if (bot) bot->terminate(2000);
  }

  // Writes the configuration and starts the bot; returns once the first socket said hello.
  void start(const std::string& bot_tok = bot_token, const std::string& app_tok = app_token, bool wait_hello = true) {
    const std::string config = dir.file("kintsugi.json");
    std::ofstream(config) << json{{"database", db},
                                  {"log_level", "debug"},
                                  {"tls", {{"ca_file", ca.ca_file()}}},
                                  {"slack",
                                   {{"mode", "socket"},
                                    {"app_token", app_tok},
                                    {"bot_token", bot_tok},
                                    {"api_base_url", slack.api_base_url()}}}}
                                 .dump(2);
    clear_kintsugi_environment();  // the configuration file is the whole truth
    bot = std::make_unique<child>(KINTSUGI_BINARY, std::vector<std::string>{"run", "--config", config}, log);
    if (wait_hello) {
      INFO(diagnosis());
      INFO("calls: " << slack.calls().size() << " sockets: " << slack.websockets_opened());
      REQUIRE(slack.wait_until([&] { return slack.hellos_sent() >= 1; }));
    }
  }

  // Pushes an envelope and waits until the bot acknowledged it.
  std::string deliver(const json& envelope) {
    const std::string id = slack.push_envelope(envelope);
    INFO("envelope " << envelope.dump() << "\n" << diagnosis());
    REQUIRE(slack.wait_until([&] { return slack.acks_of(id) >= 1; }));
    return id;
  }

  // A person's message in C1: in the channel's history and delivered over the socket. Returns its ts.
  std::string say(const std::string& user, const std::string& text) {
    const std::string ts = next_slack_ts();
    slack.add_history(channel, history_message(user, text, ts));
    deliver(message_envelope(channel, user, text, ts));
    return ts;
  }

  // "/incident start Checkout errors sev2" in C1 by U1; waits for the welcome and the topic.
  void declare() {
    deliver(slash_command_envelope(channel, "U1", "start Checkout errors sev2"));
    INFO(diagnosis());
    REQUIRE(slack.wait_until([&] { return !slack.posts_in(channel).empty() && !slack.topic(channel).empty(); }));
  }

  // SIGTERM; the bot must stop cleanly (exit code 0) and never have written a token to its log. (How fast: see
  // "SIGTERM stops the bot promptly"; the bound here is only a backstop.)
  void stop() {
    REQUIRE(bot);
    const int code = bot->terminate(20000);
    bot.reset();
    INFO(diagnosis());
    CHECK(code == 0);
    check_no_tokens();
  }

  void check_no_tokens() {
    const std::string err = stderr_text();
    CHECK_FALSE(contains(err, bot_token));
    CHECK_FALSE(contains(err, app_token));
    CHECK_FALSE(contains(err, "TEST-SECRET"));
  }

  std::string stderr_text() const { return read_text(log); }

  // For failure messages: the log, and whether the bot is still running.
  std::string diagnosis() {
    std::string state = "running";
    if (!bot) state = "stopped";
    else if (auto code = bot->wait_for(0)) state = "exited with " + std::to_string(*code), bot.reset();
    return "bot " + state + "; its stderr:\n" + stderr_text();
  }

  // The incident's timeline entries of kind "message", from `kintsugi timeline --format json`.
  std::vector<json> timeline_messages(int incident = 1) const { return timeline_entries("message", incident); }

  // The incident's timeline entries of one kind ("message", "system", …), in order.
  std::vector<json> timeline_entries(const std::string& kind, int incident = 1) const {
    auto r = run_kintsugi({"timeline", "--db", db, std::to_string(incident), "--format", "json"});
    INFO("timeline stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    const json exported = json::parse(r.out);
    std::vector<json> out;
    for (const auto& e : exported["entries"])
      if (e["kind"] == kind) out.push_back(e);
    last_timeline = r.out;
    return out;
  }

  // Every envelope the fake wrote was acknowledged exactly once.
  void check_each_acked_once() {
    for (const auto& id : slack.envelopes_sent()) {
      CAPTURE(id);
      CHECK(slack.acks_of(id) == 1);
    }
    CHECK(slack.acks().size() == slack.envelopes_sent().size());
  }

  tls_test_ca ca;
  fake_slack slack;
  temp_dir dir;
  std::string db;
  std::string log;
  std::unique_ptr<child> bot;
  mutable std::string last_timeline;  // the whole export, for failure messages
};

std::size_t posts_containing(const fake_slack& slack, const std::string& channel_id, const std::string& needle) {
  auto posts = slack.posts_in(channel_id);
  return static_cast<std::size_t>(
      std::count_if(posts.begin(), posts.end(), [&](const slack_post& p) { return contains(p.text, needle); }));
}

std::string all_posts(const fake_slack& slack) {
  std::string out;
  for (const auto& p : slack.posts()) out += p.channel + ": " + p.text + "\n";
  for (const auto& p : slack.ephemerals()) out += p.channel + " (to " + p.user + "): " + p.text + "\n";
  return out;
}

const json* find_text(const std::vector<json>& entries, const std::string& text) {
  for (const auto& e : entries)
    if (e["text"] == text) return &e;
  return nullptr;
}

}  // namespace

TEST_SUITE("slack e2e") {

TEST_CASE("a whole incident from Slack: slash commands, messages, edit, deletion, pin, DM, postmortem") {
  slack_world w{/*bot_in_channel=*/false};
  w.start();
  // The bot knows who it is and connected with the right tokens.
  auto auth = w.slack.calls("auth.test");
  REQUIRE(auth.size() == 1);
  CHECK(auth[0].token == bot_token);
  auto opened = w.slack.calls("apps.connections.open");
  REQUIRE(opened.size() == 1);
  CHECK(opened[0].token == app_token);

  w.declare();
  INFO("posts:\n" << all_posts(w.slack) << w.diagnosis());
  // Not a member of C1 yet: it joined, then posted the welcome and set the topic.
  auto joins = w.slack.calls("conversations.join");
  REQUIRE(!joins.empty());
  CHECK(joins[0].body["channel"] == channel);
  CHECK(w.slack.bot_is_member(channel));
  CHECK(posts_containing(w.slack, channel, "INC-1") >= 1);
  CHECK(contains(w.slack.topic(channel), "INC-1"));
  CHECK(contains(w.slack.topic(channel), "sev2"));

  const std::string m1 = "Checkout returns 500 for a third of carts";
  const std::string m2 = "Payment gateway timeouts since the deploy";
  const std::string m2_edited = "Payment gateway timeouts since deploy 4411";
  const std::string m3 = "ignore, wrong dashboard";
  const std::string ts1 = w.say("U1", m1);
  const std::string ts2 = w.say("U2", m2);
  const std::string ts3 = w.say("U1", m3);
  const std::string edit_ts = next_slack_ts();
  w.deliver(message_changed_envelope(channel, "U2", ts2, m2, m2_edited, edit_ts));
  const std::string delete_ts = next_slack_ts();
  w.deliver(message_deleted_envelope(channel, "U1", ts3, m3, delete_ts));
  w.deliver(reaction_added_envelope(channel, "U2", ts1, "U1", "pushpin", next_slack_ts()));
  // The welcome post (the incident's header) and the 📌-marked message are pinned in the channel; a second 📌 on
  // the same message asks for nothing more.
  w.deliver(reaction_added_envelope(channel, "U1", ts1, "U1", "pushpin", next_slack_ts()));
  REQUIRE(w.slack.wait_until([&] { return w.slack.count("pins.add") >= 2; }));
  std::string welcome_ts;
  for (const auto& p : w.slack.posts_in(channel))
    if (welcome_ts.empty() && contains(p.text, "Everything said here goes on the timeline")) welcome_ts = p.ts;
  REQUIRE(!welcome_ts.empty());
  std::set<std::string> pinned;
  for (const auto& c : w.slack.calls("pins.add")) {
    CAPTURE(c.body.dump());
    CHECK(c.error.empty());
    CHECK(c.body.value("channel", "") == channel);
    pinned.insert(c.body.value("timestamp", ""));
  }
  CHECK(pinned == std::set<std::string>{welcome_ts, ts1});

  w.deliver(slash_command_envelope(channel, "U1", "role commander me"));
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "commander") >= 1; }));

  w.deliver(slash_command_envelope(channel, "U1", "action add Fix retries <@U2> due:+3d"));
  REQUIRE(w.slack.wait_until([&] {
    for (const auto& p : w.slack.posts())
      if (p.channel.starts_with("D")) return true;
    return false;
  }));
  // The DM: conversations.open for U2, then chat.postMessage to the D channel it answered.
  auto calls = w.slack.calls();
  auto open_at =
      std::find_if(calls.begin(), calls.end(), [](const slack_call& c) { return c.method == "conversations.open"; });
  REQUIRE(open_at != calls.end());
  CHECK(open_at->body["users"] == "U2");
  auto dm_at = std::find_if(calls.begin(), calls.end(), [](const slack_call& c) {
    return c.method == "chat.postMessage" && c.body.value("channel", "").starts_with("D");
  });
  REQUIRE(dm_at != calls.end());
  CHECK(open_at < dm_at);
  CHECK(contains(dm_at->body.value("text", ""), "Fix retries"));
  CHECK(contains(dm_at->body.value("text", ""), "INC-1"));

  w.deliver(slash_command_envelope(channel, "U1", "resolve"));
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "is resolved") >= 1; }));
  w.deliver(slash_command_envelope(channel, "U1", "postmortem"));
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "INC-1: Checkout errors") >= 1; }));

  // users.info once per person, never for the bot.
  REQUIRE(w.slack.wait_until([&] { return w.slack.count("users.info") >= 2; }));
  std::multiset<std::string> asked;
  for (const auto& c : w.slack.calls("users.info")) asked.insert(c.body.value("user", ""));
  CHECK(asked == std::multiset<std::string>{"U1", "U2"});
  // conversations.info once for the incident's channel: documents call it by its name.
  REQUIRE(w.slack.wait_until([&] { return w.slack.count("conversations.info") >= 1; }));
  CHECK(w.slack.count("conversations.info") == 1);
  CHECK(w.slack.calls("conversations.info").front().body.value("channel", "") == channel);
  // Every Web API call carried the bot token; only apps.connections.open the app token.
  for (const auto& c : w.slack.calls()) {
    CAPTURE(c.method);
    CHECK(c.authorized);
    CHECK(c.token == (c.method == "apps.connections.open" ? app_token : bot_token));
  }

  w.stop();
  w.check_each_acked_once();
  CHECK(w.slack.count("apps.connections.open") == 1);

  {
    auto pm = run_kintsugi({"postmortem", "--db", w.db, "1", "--format", "json"});
    REQUIRE(pm.exit_code == 0);
    CHECK(json::parse(pm.out)["incident"]["channel_name"] == "checkout-war-room");
    auto md = run_kintsugi({"postmortem", "--db", w.db, "1"});
    CHECK(contains(md.out, "**Channel:** #checkout-war-room"));
  }

  auto messages = w.timeline_messages();
  REQUIRE(messages.size() == 3);
  const json* first = find_text(messages, m1);
  const json* edited = find_text(messages, m2_edited);
  const json* deleted = find_text(messages, m3);
  REQUIRE(first != nullptr);
  REQUIRE(edited != nullptr);
  REQUIRE(deleted != nullptr);
  CHECK((*first)["at"] == iso_of_ts(ts1));
  CHECK((*first)["author"] == "U1");
  CHECK((*first)["author_name"] == "Alice Archer");
  CHECK((*first)["key"] == true);
  CHECK((*first)["edited"] == false);
  CHECK((*first)["deleted"] == false);
  CHECK((*edited)["at"] == iso_of_ts(ts2));
  CHECK((*edited)["author"] == "U2");
  CHECK((*edited)["author_name"] == "Bob Baker");
  CHECK((*edited)["edited"] == true);
  CHECK((*edited)["edited_at"] == iso_of_ts(edit_ts));
  CHECK((*edited)["key"] == false);
  REQUIRE((*edited)["revisions"].size() == 1);
  CHECK((*edited)["revisions"][0]["text"] == m2);
  CHECK((*deleted)["at"] == iso_of_ts(ts3));
  CHECK((*deleted)["deleted"] == true);
  CHECK((*deleted)["deleted_at"] == iso_of_ts(delete_ts));
  // In time order.
  CHECK(messages[0]["text"] == m1);
  CHECK(messages[1]["text"] == m2_edited);
  CHECK(messages[2]["text"] == m3);
}

// The chat.postMessage bodies the fake received for `channel_id` that carry blocks, in order.
std::vector<json> posts_with_blocks(const fake_slack& slack, const std::function<bool(const std::string&)>& channel_ok) {
  std::vector<json> out;
  for (const auto& c : slack.calls("chat.postMessage"))
    if (c.error.empty() && channel_ok(c.body.value("channel", "")) && c.body.contains("blocks")) out.push_back(c.body);
  return out;
}

// The elements of the message's actions blocks.
std::vector<json> buttons_of(const json& message) {
  std::vector<json> out;
  for (const auto& block : message["blocks"])
    if (block.value("type", "") == "actions")
      for (const auto& e : block["elements"]) out.push_back(e);
  return out;
}

// The ts Slack gave the bot's post of `text` in `channel_id`.
std::string ts_of(const fake_slack& slack, const std::string& channel_id, const std::string& text) {
  for (const auto& p : slack.posts_in(channel_id))
    if (p.text == text) return p.ts;
  return {};
}

TEST_CASE("buttons: a role button on the welcome and Mark done in the owner's DM, clicked in Slack, do what they say") {
  slack_world w;
  w.start();
  w.declare();
  INFO("posts:\n" << all_posts(w.slack) << w.diagnosis());

  // The welcome: its text as a section, then one button per role.
  auto in_c1 = posts_with_blocks(w.slack, [](const std::string& c) { return c == channel; });
  REQUIRE(in_c1.size() == 1);
  const json welcome = in_c1[0];
  CHECK(welcome["blocks"][0]["type"] == "section");
  CHECK(welcome["blocks"][0]["text"]["text"] == welcome["text"]);
  const auto roles = buttons_of(welcome);
  REQUIRE(roles.size() == 3);
  CHECK(roles[0]["action_id"] == "kintsugi.command.1");
  CHECK(roles[0]["value"] == "role commander me");
  CHECK(roles[1]["text"]["text"] == "I'll be scribe");
  CHECK(roles[1]["value"] == "role scribe me");
  const std::string welcome_ts = ts_of(w.slack, channel, welcome["text"]);
  REQUIRE_FALSE(welcome_ts.empty());

  // Bob clicks "I'll be scribe".
  w.deliver(block_actions_envelope(channel, "U2", welcome, welcome_ts, roles[1]));
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "<@U2> took the scribe role") == 1; }));

  // An action for Bob: the DM offers Mark done and Snooze 1 day.
  w.deliver(slash_command_envelope(channel, "U1", "action add Fix retries <@U2> due:+3d"));
  const auto is_dm = [](const std::string& c) { return c.starts_with("D"); };
  REQUIRE(w.slack.wait_until([&] { return posts_with_blocks(w.slack, is_dm).size() == 1; }));
  const json dm = posts_with_blocks(w.slack, is_dm)[0];
  const std::string dm_channel = dm["channel"];
  const auto owner = buttons_of(dm);
  REQUIRE(owner.size() == 2);
  CHECK(owner[0]["text"]["text"] == "Mark done");
  CHECK(owner[0]["value"] == "action done 1");
  CHECK(owner[0]["style"] == "primary");
  CHECK(owner[1]["value"] == "action snooze 1 1d");
  const std::string dm_ts = ts_of(w.slack, dm_channel, dm["text"]);
  REQUIRE_FALSE(dm_ts.empty());

  // Bob clicks Mark done in the DM: the incident channel hears it, and Bob is told in the DM.
  w.deliver(block_actions_envelope(dm_channel, "U2", dm, dm_ts, owner[0]));
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "Action #1 is done") == 1; }));
  REQUIRE(w.slack.wait_until([&] {
    for (const auto& e : w.slack.ephemerals())
      if (e.channel == dm_channel && e.user == "U2" && contains(e.text, "Action #1 is done")) return true;
    return false;
  }));

  w.stop();
  w.check_each_acked_once();
}

TEST_CASE("the same event delivered twice under two envelope ids is acked twice and stored once") {
  slack_world w;
  w.start();
  w.declare();
  const std::string ts = next_slack_ts();
  auto first = message_envelope(channel, "U2", "db connections at 100%", ts);
  auto again = redelivery(first);
  CHECK(again["envelope_id"] != first["envelope_id"]);
  CHECK(again["payload"]["event_id"] == first["payload"]["event_id"]);
  // Back to back, as from two connections at once.
  const std::string id1 = w.slack.push_envelope(first);
  const std::string id2 = w.slack.push_envelope(again);
  INFO(w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return w.slack.acks_of(id1) >= 1 && w.slack.acks_of(id2) >= 1; }));
  w.stop();
  w.check_each_acked_once();
  auto messages = w.timeline_messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["text"] == "db connections at 100%");
  CHECK(messages[0]["at"] == iso_of_ts(ts));
}

TEST_CASE("a 429 on chat.postMessage: the post arrives once, after Retry-After") {
  slack_world w;
  w.start();
  w.slack.rate_limit_next_post(1);
  w.deliver(slash_command_envelope(channel, "U1", "start Checkout errors sev2"));
  INFO("posts:\n" << all_posts(w.slack) << w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "INC-1") >= 1; }));
  auto attempts = w.slack.calls("chat.postMessage");
  REQUIRE(attempts.size() >= 2);
  CHECK(attempts[0].status == 429);
  CHECK(attempts[1].status == 200);
  CHECK(attempts[1].body == attempts[0].body);
  CHECK(attempts[1].at - attempts[0].at >= 990ms);
  // Nothing else goes out twice: wait for the topic (queued after the welcome), then count.
  REQUIRE(w.slack.wait_until([&] { return !w.slack.topic(channel).empty(); }));
  w.stop();
  auto posts = w.slack.posts_in(channel);
  REQUIRE(posts.size() == 1);
  CHECK(contains(posts[0].text, "INC-1"));
  CHECK(w.slack.count("chat.postMessage") == 2);
}

TEST_CASE("refresh_requested: a new apps.connections.open and websocket, and the bot keeps working") {
  slack_world w;
  w.start();
  w.declare();
  w.say("U2", "before the refresh");
  w.slack.send_disconnect("refresh_requested");
  INFO(w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return w.slack.hellos_sent() >= 2; }));
  CHECK(w.slack.count("apps.connections.open") == 2);
  CHECK(w.slack.websockets_opened() == 2);
  // The old socket goes away; the new one carries the next envelope and its ack.
  REQUIRE(w.slack.wait_until([&] { return w.slack.live_websockets() == 1; }));
  const std::string ts = next_slack_ts();
  const std::string id = w.deliver(message_envelope(channel, "U1", "after the refresh", ts));
  for (const auto& a : w.slack.acks())
    if (a.envelope_id == id) CHECK(a.connection == 2);
  w.stop();
  w.check_each_acked_once();
  CHECK(w.slack.rejected_upgrades() == 0);
  auto messages = w.timeline_messages();
  REQUIRE(messages.size() == 2);
  CHECK(messages[1]["text"] == "after the refresh");
  CHECK(messages[1]["at"] == iso_of_ts(ts));
}

TEST_CASE("refresh_requested: the old connection is read until the new one says hello, acks go back where they came") {
  slack_world w;
  w.start();
  w.declare();
  w.say("U2", "before the refresh");
  const std::size_t history_calls = w.slack.count("conversations.history");
  w.slack.hold_hellos(true);  // the new connection opens but is not ready yet
  w.slack.send_disconnect("refresh_requested");
  INFO(w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return w.slack.websockets_opened() == 2; }));
  CHECK(w.slack.count("apps.connections.open") == 2);
  // Slack still delivers on the old connection: it is read, and the ack goes back on it.
  const std::string ts = next_slack_ts();
  w.slack.add_history(channel, history_message("U1", "on the old connection", ts));
  const json on_old = message_envelope(channel, "U1", "on the old connection", ts);
  const std::string old_id = w.slack.push_to(1, on_old);
  REQUIRE(w.slack.wait_until([&] { return w.slack.acks_of(old_id) == 1; }));
  CHECK(w.slack.live_websockets() == 2);
  // The new connection says hello: the old one is closed.
  w.slack.hold_hellos(false);
  REQUIRE(w.slack.wait_until([&] { return w.slack.hellos_sent() == 2 && w.slack.live_websockets() == 1; }));
  // The same event delivered again on the new connection: acked there, stored once.
  const std::string again_id = w.slack.push_envelope(redelivery(on_old));
  REQUIRE(w.slack.wait_until([&] { return w.slack.acks_of(again_id) == 1; }));
  const std::string ts_after = next_slack_ts();
  w.deliver(message_envelope(channel, "U2", "after the refresh", ts_after));
  w.stop();
  w.check_each_acked_once();
  for (const auto& a : w.slack.acks()) {
    CAPTURE(a.envelope_id);
    if (a.envelope_id == old_id) CHECK(a.connection == 1);
    if (a.envelope_id == again_id) CHECK(a.connection == 2);
  }
  CHECK(w.slack.websockets_opened() == 2);
  CHECK(w.slack.rejected_upgrades() == 0);
  // No gap, so no backfill.
  CHECK(w.slack.count("conversations.history") == history_calls);
  CHECK(contains(w.stderr_text(), "took over without a gap"));
  auto messages = w.timeline_messages();
  INFO("timeline: " << w.last_timeline);
  REQUIRE(messages.size() == 3);
  CHECK(messages[0]["text"] == "before the refresh");
  CHECK(messages[1]["text"] == "on the old connection");
  CHECK(messages[1]["at"] == iso_of_ts(ts));
  CHECK(messages[2]["text"] == "after the refresh");
}

TEST_CASE("a dropped socket: thread replies sent meanwhile are backfilled from conversations.replies, once, in order") {
  fake_slack::options o;
  o.history_page_cap = 1;  // one message (or reply) per page: the backfill follows every cursor
  slack_world w{true, o};
  w.start();
  w.declare();
  const std::string ts_p = w.say("U1", "P: is it the database?");
  // A reply in P's thread while the bot is connected.
  const std::string ts_r1 = next_slack_ts();
  w.slack.add_history(channel, thread_reply_message("U2", "R1: checking", ts_r1, ts_p));
  w.deliver(thread_reply_envelope(channel, "U2", "R1: checking", ts_r1, ts_p));
  const std::string ts_x = w.say("U2", "X: last before the drop");
  // While the bot is away: replies in P's older thread, a new thread N with a reply, and a plain message.
  const std::string ts_r2 = next_slack_ts();
  w.slack.add_history(channel, thread_reply_message("U2", "R2: connections saturated", ts_r2, ts_p));
  const std::string ts_n = next_slack_ts();
  w.slack.add_history(channel, history_message("U1", "N: new thread during the gap", ts_n));
  const std::string ts_r3 = next_slack_ts();
  w.slack.add_history(channel, thread_reply_message("U1", "R3: yes, pool at 100%", ts_r3, ts_p));
  const std::string ts_n1 = next_slack_ts();
  w.slack.add_history(channel, thread_reply_message("U2", "N1: reply in the new thread", ts_n1, ts_n));
  const std::string ts_y = next_slack_ts();
  w.slack.add_history(channel, history_message("U2", "Y: plain message during the gap", ts_y));
  w.slack.drop_socket();
  INFO(w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return w.slack.hellos_sent() >= 2; }));
  REQUIRE(eventually([&] { return contains(w.stderr_text(), "slack backfilled channel=C1"); }));

  // conversations.replies for both threads, from the last message captured, following the cursor.
  auto replies = w.slack.calls("conversations.replies");
  std::multiset<std::string> threads;
  for (const auto& c : replies) {
    CAPTURE(c.body.dump());
    CHECK(c.body["channel"] == channel);
    CHECK(c.body["oldest"] == ts_x);
    CHECK(c.error.empty());
    if (!c.body.contains("cursor")) threads.insert(c.body.value("ts", ""));
  }
  CHECK(threads == std::multiset<std::string>{ts_p, ts_n});
  CHECK(replies.size() == 3);  // R2 and R3 on a page each, N1 on one

  w.stop();
  w.check_each_acked_once();
  auto messages = w.timeline_messages();
  INFO("timeline: " << json(messages).dump(1));
  const std::vector<std::pair<std::string, std::string>> expected{
      {"P: is it the database?", ts_p},       {"R1: checking", ts_r1},
      {"X: last before the drop", ts_x},      {"R2: connections saturated", ts_r2},
      {"N: new thread during the gap", ts_n}, {"R3: yes, pool at 100%", ts_r3},
      {"N1: reply in the new thread", ts_n1}, {"Y: plain message during the gap", ts_y}};
  REQUIRE(messages.size() == expected.size());
  for (std::size_t k = 0; k < expected.size(); ++k) {
    CAPTURE(k);
    CHECK(messages[k]["text"] == expected[k].first);
    CHECK(messages[k]["at"] == iso_of_ts(expected[k].second));
  }
}

TEST_CASE("a member joining: one system entry on the timeline, never a chat message") {
  slack_world w;
  w.start();
  w.declare();
  const std::string ts = next_slack_ts();
  // Slack tells a join twice: the member_joined_channel event and the channel_join message.
  w.deliver(member_joined_envelope(channel, "U2", ts, "U1"));
  w.deliver(channel_join_envelope(channel, "U2", ts, "U1"));
  w.say("U2", "hi, looking at the pool");
  INFO(w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return w.slack.count("users.info") >= 2; }));
  w.stop();
  w.check_each_acked_once();
  auto messages = w.timeline_messages();
  INFO("timeline: " << w.last_timeline);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["text"] == "hi, looking at the pool");
  std::vector<json> joins;
  for (const auto& e : w.timeline_entries("system"))
    if (contains(e["text"].get<std::string>(), "joined the channel")) joins.push_back(e);
  REQUIRE(joins.size() == 1);
  CHECK(joins[0]["text"] == "@Bob Baker joined the channel");  // the export names people
  CHECK(joins[0]["at"] == iso_of_ts(ts));
}

TEST_CASE("a dropped socket: reconnect, backfill what was said meanwhile, each message once and in order") {
  fake_slack::options o;
  o.history_page_cap = 1;  // one message per page, so the backfill has to follow the cursor
  slack_world w{true, o};
  w.start();
  w.declare();
  const std::string ts_a = w.say("U1", "A: before the drop");
  const std::string ts_b = w.say("U2", "B: just before the drop");
  // Said while the bot is away: in the history, their events lost with the socket.
  const std::string ts_c = next_slack_ts();
  w.slack.add_history(channel, history_message("U1", "C: during the gap", ts_c));
  const std::string ts_d = next_slack_ts();
  w.slack.add_history(channel, history_message("U2", "D: still during the gap", ts_d));
  const std::size_t history_calls_before = w.slack.count("conversations.history");
  w.slack.drop_socket();
  // Slack redelivers D's event on the new connection as well: the backfill and the socket overlap.
  const std::string redelivered = w.slack.push_envelope(
      redelivery(message_envelope(channel, "U2", "D: still during the gap", ts_d)));
  INFO(w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return w.slack.hellos_sent() >= 2 && w.slack.acks_of(redelivered) == 1; }));
  CHECK(w.slack.count("apps.connections.open") == 2);
  REQUIRE(eventually([&] { return contains(w.stderr_text(), "slack backfilled channel=C1"); }));

  auto history = w.slack.calls("conversations.history");
  REQUIRE(history.size() >= history_calls_before + 2);
  const auto& page1 = history[history_calls_before];
  CHECK(page1.body["channel"] == channel);
  CHECK(page1.body["oldest"] == ts_b);  // from the last message captured
  CHECK_FALSE(page1.body.contains("cursor"));
  CHECK(history[history_calls_before + 1].body.contains("cursor"));
  CHECK(history.back().error.empty());

  w.stop();
  w.check_each_acked_once();
  auto messages = w.timeline_messages();
  INFO("timeline: " << json(messages).dump(1));
  REQUIRE(messages.size() == 4);
  const std::vector<std::pair<std::string, std::string>> expected{{"A: before the drop", ts_a},
                                                                  {"B: just before the drop", ts_b},
                                                                  {"C: during the gap", ts_c},
                                                                  {"D: still during the gap", ts_d}};
  for (std::size_t k = 0; k < expected.size(); ++k) {
    CAPTURE(k);
    CHECK(messages[k]["text"] == expected[k].first);
    CHECK(messages[k]["at"] == iso_of_ts(expected[k].second));
  }
}

TEST_CASE("a dropped socket: the backfill of a channel stops at the first message heard live since the gap") {
  fake_slack::options o;
  o.history_page_cap = 1;  // C1's backfill takes a page per message: C2's starts long after the socket is read
  slack_world w{true, o};
  const std::string other = "C2";
  w.slack.add_channel(other, "payments-war-room", true);
  w.start();
  w.declare();
  w.deliver(slash_command_envelope(other, "U2", "start Payments slow sev3"));
  REQUIRE(w.slack.wait_until([&] { return !w.slack.posts_in(other).empty(); }));
  const std::string ts_a = w.say("U1", "A: C1 before the drop");
  const std::string ts_b = next_slack_ts();
  w.slack.add_history(other, history_message("U2", "B: C2 before the drop", ts_b));
  w.deliver(message_envelope(other, "U2", "B: C2 before the drop", ts_b));
  // While the bot is away, in both channels.
  const std::string ts_c = next_slack_ts();
  w.slack.add_history(channel, history_message("U1", "C: C1 during the gap", ts_c));
  const std::string ts_d = next_slack_ts();
  w.slack.add_history(channel, history_message("U2", "D: C1 during the gap", ts_d));
  const std::string ts_g = next_slack_ts();
  w.slack.add_history(other, history_message("U1", "G: C2 during the gap", ts_g));
  w.slack.hold_hellos(true);
  w.slack.drop_socket();
  // Right after the new hello: G again (a retry, which says nothing of when it was said), then E and F, said
  // once the socket was up and delivered on the first attempt.
  const std::string ts_e = next_slack_ts();
  w.slack.add_history(other, history_message("U2", "E: C2 after the reconnect", ts_e));
  const std::string ts_f = next_slack_ts();
  w.slack.add_history(other, history_message("U1", "F: C2 after the reconnect", ts_f));
  w.slack.push_envelope(redelivery(message_envelope(other, "U1", "G: C2 during the gap", ts_g)));
  w.slack.push_envelope(message_envelope(other, "U2", "E: C2 after the reconnect", ts_e));
  w.slack.push_envelope(message_envelope(other, "U1", "F: C2 after the reconnect", ts_f));
  w.slack.hold_hellos(false);
  INFO(w.diagnosis());
  REQUIRE(eventually([&] { return contains(w.stderr_text(), "slack backfilled channel=C2"); }));

  // C2's history is asked for up to E, the oldest message heard live (both ends included): not for F.
  std::vector<nlohmann::json> c2_pages;
  for (const auto& c : w.slack.calls("conversations.history"))
    if (c.body.value("channel", "") == other && c.body.value("oldest", "") == ts_b) c2_pages.push_back(c.body);
  REQUIRE_FALSE(c2_pages.empty());
  for (const auto& page : c2_pages) {
    CAPTURE(page.dump());
    CHECK(page.value("latest", "") == ts_e);
    CHECK(page.value("inclusive", "") == "true");
  }

  w.stop();
  w.check_each_acked_once();
  auto texts_of = [&](int incident) {
    std::vector<std::string> out;
    for (const auto& m : w.timeline_messages(incident)) out.push_back(m["text"].get<std::string>());
    return out;
  };
  CHECK(texts_of(1) == std::vector<std::string>{"A: C1 before the drop", "C: C1 during the gap", "D: C1 during the gap"});
  CHECK(texts_of(2) == std::vector<std::string>{"B: C2 before the drop", "G: C2 during the gap",
                                                "E: C2 after the reconnect", "F: C2 after the reconnect"});
}

TEST_CASE("a backfill cut short, then a crash: the restarted bot backfills from where the capture stopped") {
  slack_world w;
  w.start();
  w.declare();
  const std::string ts_a = w.say("U1", "A: before the drop");
  // Said while the bot is away: in the history only.
  const std::string ts_c = next_slack_ts();
  w.slack.add_history(channel, history_message("U2", "C: during the gap", ts_c));
  const std::string ts_d = next_slack_ts();
  w.slack.add_history(channel, history_message("U1", "D: still during the gap", ts_d));
  w.slack.fail_history(1);  // the backfill after the reconnect cannot list the channel (the token lacks a scope)
  const std::size_t calls_before_drop = w.slack.count("conversations.history");
  w.slack.drop_socket();
  INFO(w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return w.slack.count("conversations.history") > calls_before_drop; }));
  CHECK(eventually([&] { return contains(w.stderr_text(), "slack backfill of C1 is incomplete"); }));
  // Heard live on the new connection and stored: now the newest message captured in the channel.
  const std::string ts_e = w.say("U2", "E: after the reconnect");
  // The bot dies before anything filled the gap (say it was restarted with the scope added).
  w.bot->kill_hard();
  w.bot.reset();
  const std::size_t history_calls_before = w.slack.count("conversations.history");
  w.start();
  REQUIRE(eventually([&] { return contains(w.stderr_text(), "slack backfilled channel=C1"); }));
  const auto history = w.slack.calls("conversations.history");
  REQUIRE(history.size() > history_calls_before);
  CHECK(history[history_calls_before].body["oldest"] == ts_a);  // not ts_e, the newest captured

  w.stop();
  auto messages = w.timeline_messages();
  INFO("timeline: " << json(messages).dump(1));
  std::vector<std::string> texts;
  for (const auto& m : messages) texts.push_back(m["text"].get<std::string>());
  CHECK(texts == std::vector<std::string>{"A: before the drop", "C: during the gap", "D: still during the gap",
                                          "E: after the reconnect"});
  CHECK(messages.back()["at"] == iso_of_ts(ts_e));
}

TEST_CASE("slash command acks: a stored command's carries no payload, an unreadable one's tells the person why") {
  slack_world w;
  w.start();
  w.declare();
  // The reply to a stored command goes through the outbox (chat.postEphemeral), not the ack.
  const auto help_id = w.deliver(slash_command_envelope(channel, "U1", "help"));
  REQUIRE(w.slack.wait_until([&] { return !w.slack.ephemerals().empty(); }));
  // No user: nothing can be stored, and Slack will not send the command again.
  json broken = slash_command_envelope(channel, "U1", "roles");
  broken["payload"].erase("user_id");
  const auto broken_id = w.deliver(broken);
  for (const auto& ack : w.slack.acks()) {
    CAPTURE(ack.envelope_id);
    if (ack.envelope_id == help_id) CHECK((ack.payload.is_null() || ack.payload.empty()));
    if (ack.envelope_id == broken_id) {
      REQUIRE(ack.payload.is_object());
      CHECK(ack.payload.value("response_type", "") == "ephemeral");
      CHECK(contains(ack.payload.value("text", ""), "could not read this command"));
    }
  }
  w.stop();
  w.check_each_acked_once();
}

TEST_CASE("malformed frames are logged and the connection is kept") {
  slack_world w;
  w.start();
  w.declare();
  w.slack.push("{\"type\":");
  w.slack.push("[]");
  const std::string ts = next_slack_ts();
  w.deliver(message_envelope(channel, "U2", "still listening", ts));
  CHECK(w.slack.count("apps.connections.open") == 1);
  CHECK(w.slack.websockets_opened() == 1);
  CHECK(w.slack.live_websockets() == 1);
  INFO(w.diagnosis());
  CHECK(eventually([&] { return contains(w.stderr_text(), "cannot read"); }));
  w.stop();
  w.check_each_acked_once();
  auto messages = w.timeline_messages();
  INFO("timeline: " << w.last_timeline);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["text"] == "still listening");
}

TEST_CASE("link_disabled: the bot exits non-zero, says why, and does not reconnect") {
  slack_world w;
  w.start();
  w.slack.send_disconnect("link_disabled");
  auto code = w.bot->wait_for(10000);
  INFO(w.diagnosis());
  REQUIRE(code.has_value());
  CHECK(*code != 0);
  w.bot.reset();
  CHECK(contains(w.stderr_text(), "link_disabled"));
  CHECK(contains(w.stderr_text(), "Socket Mode"));
  CHECK(w.slack.count("apps.connections.open") == 1);
  CHECK(w.slack.websockets_opened() == 1);
  w.check_no_tokens();
}

TEST_CASE("tokens never appear in the debug log") {
  SUBCASE("a run with retries, users.info and a DM") {
    slack_world w;
    w.start();
    w.slack.rate_limit_next_post(1);
    w.declare();
    w.say("U2", "token check");
    w.deliver(slash_command_envelope(channel, "U1", "action add Rotate keys <@U2>"));
    REQUIRE(w.slack.wait_until(
        [&] { return w.slack.count("conversations.open") >= 1 && w.slack.count("users.info") >= 2; }));
    w.slack.drop_socket();
    REQUIRE(w.slack.wait_until([&] { return w.slack.hellos_sent() >= 2; }));
    w.stop();  // checks the log
    CHECK(contains(w.stderr_text(), "debug"));
  }
  SUBCASE("tokens Slack refuses") {
    fake_slack::options o;
    o.bot_token = "xoxb-SOMETHING-ELSE";
    slack_world w{true, o};
    w.start(bot_token, app_token, /*wait_hello=*/false);
    auto code = w.bot->wait_for(10000);
    INFO(w.diagnosis());
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    w.bot.reset();
    CHECK(contains(w.stderr_text(), "invalid_auth"));
    w.check_no_tokens();
  }
}

TEST_CASE("SIGTERM stops the bot promptly, with exit code 0") {
  slack_world w;
  w.start();
  w.declare();
  w.say("U2", "one message, so every part of the bot has run");
  const auto asked = std::chrono::steady_clock::now();
  const int code = w.bot->terminate(20000);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked);
  w.bot.reset();
  INFO(w.diagnosis());
  CHECK(code == 0);
  CHECK(took < 3000ms);
}

}  // TEST_SUITE
