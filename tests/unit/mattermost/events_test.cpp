// The Mattermost codec: websocket events to core events, against fixtures/mattermost/websocket and hand-built
// frames for what the fixtures lack (full posts, edits, deletes, system posts, membership, users).
#include "mattermost/codec.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <variant>

#include "mm_test_util.hpp"

namespace core = kintsugi::core;
namespace mm = kintsugi::mattermost;
using json = nlohmann::json;
using mm_test::fixture;
using mm_test::iso;
using mm_test::nth;
using mm_test::only;

namespace {

const mm::context ctx{"bot1bot1bot1bot1bot1bot1bo"};
// 2026-11-21T09:00:00Z, built without doctest (assertions cannot run before main).
const core::timestamp received{std::chrono::sys_days{std::chrono::year{2026} / 11 / 21} + std::chrono::hours{9}};

mm::event_frame frame_of(const std::string& text) {
  auto f = mm::decode_frame(text);
  REQUIRE(std::holds_alternative<mm::event_frame>(f));
  return std::get<mm::event_frame>(f);
}

mm::event_result decode(const json& frame, const mm::context& c = ctx) {
  return mm::decode_event(frame_of(frame.dump()), c, received);
}

// A complete post as the server sends it, before it is JSON-encoded into data.post.
json post(std::string id, std::string message) {
  return json{{"id", std::move(id)},
              {"create_at", 1763715600000},  // 2025-11-21T09:00:00Z
              {"update_at", 1763715600000},
              {"edit_at", 0},
              {"delete_at", 0},
              {"is_pinned", false},
              {"user_id", "alice00000000000000000000a"},
              {"channel_id", "chan0000000000000000000001"},
              {"root_id", ""},
              {"original_id", ""},
              {"message", std::move(message)},
              {"type", ""},
              {"props", json::object()},
              {"hashtags", ""},
              {"pending_post_id", ""},
              {"reply_count", 0},
              {"metadata", json::object()}};
}

// A frame carrying `p` the way the server does: data.post as a JSON string.
json post_frame(std::string event, const json& p, json extra_data = json::object()) {
  json data = std::move(extra_data);
  data["post"] = p.dump();
  return json{{"event", std::move(event)},
              {"data", std::move(data)},
              {"broadcast", {{"omit_users", nullptr}, {"user_id", ""}, {"channel_id", p.value("channel_id", "")}, {"team_id", ""}}},
              {"seq", 5}};
}

}  // namespace

TEST_SUITE("mattermost codec: posted") {
  TEST_CASE("the mmpy_bot capture: a channel post with data.post already decoded") {
    auto r = mm::decode_event(frame_of(fixture("websocket/posted_channel_mmpy_bot.json")), ctx, received);
    CHECK(r.error.empty());
    CHECK(r.event == "posted");
    auto m = only<core::message_posted>(r.events);
    CHECK(m.id == "mm:wqpuawcw3iym3pq63s5xi1776r");
    CHECK(m.channel == "mm:4fgt3n51f7ftpff91gk1iy1zow");
    CHECK(m.user == "mm:131gkd5thbdxiq141b3514bgjh");
    CHECK(m.text == "hello");
    CHECK(m.at == iso("2018-08-01T01:04:18.236Z"));
    CHECK_FALSE(m.from_bot);
    CHECK(m.thread_id.empty());
    CHECK(r.dedupe_key == "mm:post:wqpuawcw3iym3pq63s5xi1776r:1533085458236");
    CHECK(r.post_id == "wqpuawcw3iym3pq63s5xi1776r");
    CHECK(r.root_id.empty());
    CHECK(r.user_id == "131gkd5thbdxiq141b3514bgjh");
    CHECK(r.channel_id == "4fgt3n51f7ftpff91gk1iy1zow");
    CHECK(r.update_at == 1533085458236);
    CHECK(r.channel_type == "O");
    CHECK(r.channel_name == "off-topic");
    CHECK(r.sender_name == "betty");
    CHECK(r.mentioned_user_ids == std::vector<std::string>{"qmw86q7qsjriura9jos75i4why"});
    CHECK(r.mentioned_usernames.empty());
    CHECK(core::idempotency_key(m) == "msg:mm:wqpuawcw3iym3pq63s5xi1776r");
  }

  TEST_CASE("the mmpy_bot thread reply carries its root as thread_id") {
    auto r = mm::decode_event(frame_of(fixture("websocket/posted_thread_reply_mmpy_bot.json")), ctx, received);
    CHECK(r.error.empty());
    auto m = only<core::message_posted>(r.events);
    CHECK(m.id == "mm:Ji66o2pX5XmW5XiAsfw5jitrV3");
    CHECK(m.thread_id == "mm:wqpuawcw3iym3pq63s5xi1776r");
    CHECK(m.text == "hello in thread");
    CHECK(m.at == iso("2018-08-01T01:04:18.300Z"));
    CHECK(r.root_id == "wqpuawcw3iym3pq63s5xi1776r");
  }

  TEST_CASE("the same post as a JSON string (the server's form) decodes the same") {
    for (const char* file : {"websocket/posted_channel_mmpy_bot.json", "websocket/posted_thread_reply_mmpy_bot.json"}) {
      CAPTURE(file);
      json decoded = json::parse(fixture(file));
      json encoded = decoded;
      encoded["data"]["post"] = decoded["data"]["post"].dump();
      encoded["data"]["mentions"] = decoded["data"]["mentions"].dump();
      auto a = decode(decoded);
      auto b = decode(encoded);
      CHECK(b.error.empty());
      CHECK(a.dedupe_key == b.dedupe_key);
      CHECK(a.mentioned_user_ids == b.mentioned_user_ids);
      REQUIRE(a.events.size() == 1);
      REQUIRE(b.events.size() == 1);
      CHECK(core::idempotency_key(a.events[0]) == core::idempotency_key(b.events[0]));
      auto ma = std::get<core::message_posted>(a.events[0]);
      auto mb = std::get<core::message_posted>(b.events[0]);
      CHECK(ma.text == mb.text);
      CHECK(ma.at == mb.at);
      CHECK(ma.thread_id == mb.thread_id);
    }
  }

  TEST_CASE("the opsdroid minimal posts have no id: an error value, and what could be read") {
    auto r = mm::decode_event(frame_of(fixture("websocket/posted_channel_mention_minimal.json")), ctx, received);
    CHECK(r.events.empty());
    CHECK(r.error == "the post has no id");
    CHECK(r.user_id == "123");
    CHECK(r.channel_type == "O");
    CHECK(r.channel_name == "Unit Test Channel");
    CHECK(r.sender_name == "Unit Test Sender");
    // The mention of the bot in users_me_minimal.json, for the adapter to resolve.
    CHECK(r.mentioned_usernames == std::vector<std::string>{"test_1234_account"});

    r = mm::decode_event(frame_of(fixture("websocket/posted_dm_minimal.json")), ctx, received);
    CHECK(r.events.empty());
    CHECK_FALSE(r.error.empty());
    CHECK(r.channel_type == "D");
    CHECK(r.user_id == "123");
    CHECK(r.mentioned_usernames.empty());
  }

  TEST_CASE("the minimal post completed with an id and a channel becomes a message") {
    json f = json::parse(fixture("websocket/posted_dm_minimal.json"));
    json p = json::parse(f["data"]["post"].get<std::string>());
    p["id"] = "post0000000000000000000001";
    f["data"]["post"] = p.dump();
    f["broadcast"] = {{"channel_id", "dm00000000000000000000000x"}};
    auto r = decode(f);
    CHECK(r.error.empty());
    auto m = only<core::message_posted>(r.events);
    CHECK(m.channel == "mm:dm00000000000000000000000x");  // broadcast.channel_id when the post has none
    CHECK(m.user == "mm:123");
    CHECK(m.text == "Unit Test Message");
    CHECK(m.at == received);  // no create_at
  }

  TEST_CASE("from_bot: the bot's own posts, bot accounts and webhooks (in_channel slash replies)") {
    json p = post("p1p1p1p1p1p1p1p1p1p1p1p1p1", "hi");
    CHECK_FALSE(only<core::message_posted>(decode(post_frame("posted", p)).events).from_bot);
    json own = p;
    own["user_id"] = ctx.bot_user_id;
    CHECK(only<core::message_posted>(decode(post_frame("posted", own)).events).from_bot);
    // Without a known bot id, the same post is a person's.
    CHECK_FALSE(only<core::message_posted>(decode(post_frame("posted", own), mm::context{}).events).from_bot);
    for (const json& props : {json{{"from_bot", "true"}}, json{{"from_bot", true}}, json{{"from_webhook", "true"}},
                              json{{"from_webhook", "true"}, {"override_username", "kintsugi"}}}) {
      CAPTURE(props.dump());
      json q = p;
      q["props"] = props;
      auto m = only<core::message_posted>(decode(post_frame("posted", q)).events);
      CHECK(m.from_bot);
      CHECK(m.user == "mm:alice00000000000000000000a");  // the author is kept
    }
    for (const json& props : {json{{"from_bot", "false"}}, json{{"from_webhook", 1}}, json{{"from_bot", nullptr}}}) {
      CAPTURE(props.dump());
      json q = p;
      q["props"] = props;
      CHECK_FALSE(only<core::message_posted>(decode(post_frame("posted", q)).events).from_bot);
    }
  }

  TEST_CASE("files become one line each") {
    json p = post("p2p2p2p2p2p2p2p2p2p2p2p2p2", "graphs attached");
    p["file_ids"] = {"f1", "f2"};
    p["metadata"] = {{"files", {{{"id", "f1"}, {"name", "cpu.png"}}, {{"id", "f2"}, {"name", "disk io.csv"}}}}};
    auto m = only<core::message_posted>(decode(post_frame("posted", p, {{"otherFile", "true"}, {"image", "true"}})).events);
    CHECK(m.text == "graphs attached\n📎 cpu.png\n📎 disk io.csv");

    // Without metadata: one line per file id; without either, one line for the frame's flags.
    p.erase("metadata");
    CHECK(only<core::message_posted>(decode(post_frame("posted", p)).events).text ==
          "graphs attached\n📎 attachment\n📎 attachment");
    p.erase("file_ids");
    p["message"] = "";
    CHECK(only<core::message_posted>(decode(post_frame("posted", p, {{"image", "true"}})).events).text == "📎 attachment");
    // Nothing to say at all: no event.
    CHECK(decode(post_frame("posted", p)).events.empty());
  }

  TEST_CASE("an alert posted with attachments only keeps their fallback or text") {
    json p = post("p3p3p3p3p3p3p3p3p3p3p3p3p3", "");
    p["type"] = "slack_attachment";
    p["props"] = {{"from_webhook", "true"},
                  {"attachments",
                   {{{"fallback", "DB CPU > 90%"}, {"text", "ignored"}}, {{"pretext", "Runbook"}, {"text", "see wiki"}}}}};
    auto m = only<core::message_posted>(decode(post_frame("posted", p)).events);
    CHECK(m.text == "DB CPU > 90%\nRunbook\nsee wiki");
    CHECK(m.from_bot);
  }

  TEST_CASE("system posts: joins and leaves become membership events, others nothing") {
    json p = post("s1s1s1s1s1s1s1s1s1s1s1s1s1", "alice joined the channel.");
    p["type"] = "system_join_channel";
    auto j = only<core::member_joined>(decode(post_frame("posted", p)).events);
    CHECK(j.channel == "mm:chan0000000000000000000001");
    CHECK(j.user == "mm:alice00000000000000000000a");
    CHECK(j.at == iso("2025-11-21T09:00:00Z"));

    p["type"] = "system_add_to_channel";
    p["props"] = {{"userId", "alice00000000000000000000a"}, {"addedUserId", "bob0000000000000000000000b"}};
    CHECK(only<core::member_joined>(decode(post_frame("posted", p)).events).user == "mm:bob0000000000000000000000b");

    p["type"] = "system_leave_channel";
    p["props"] = json::object();
    CHECK(only<core::member_left>(decode(post_frame("posted", p)).events).user == "mm:alice00000000000000000000a");

    p["type"] = "system_remove_from_channel";
    p["props"] = {{"removedUserId", "carol000000000000000000000"}};
    auto l = only<core::member_left>(decode(post_frame("posted", p)).events);
    CHECK(l.user == "mm:carol000000000000000000000");
    CHECK(l.channel == "mm:chan0000000000000000000001");

    // The bot's own comings and goings, and a remove without the removed user: nothing.
    p["props"] = {{"removedUserId", ctx.bot_user_id}};
    CHECK(decode(post_frame("posted", p)).events.empty());
    p["props"] = json::object();
    CHECK(decode(post_frame("posted", p)).events.empty());

    for (const char* type : {"system_header_change", "system_purpose_change", "system_join_team", "system_generic"}) {
      CAPTURE(type);
      p["type"] = type;
      auto r = decode(post_frame("posted", p));
      CHECK(r.events.empty());
      CHECK(r.error.empty());
    }
  }

  TEST_CASE("wrong types in a post never throw and fall back") {
    json p = post("p4p4p4p4p4p4p4p4p4p4p4p4p4", "typed");
    p["create_at"] = "1763715600000";  // a number as a string is still read
    CHECK(only<core::message_posted>(decode(post_frame("posted", p)).events).at == iso("2025-11-21T09:00:00Z"));
    p["create_at"] = "yesterday";
    CHECK(only<core::message_posted>(decode(post_frame("posted", p)).events).at == received);
    p["create_at"] = -5;
    CHECK(only<core::message_posted>(decode(post_frame("posted", p)).events).at == received);
    p["create_at"] = 1.7637156e12;
    CHECK(only<core::message_posted>(decode(post_frame("posted", p)).events).at == iso("2025-11-21T09:00:00Z"));
    p["root_id"] = 12;
    p["props"] = "none";
    p["metadata"] = {{"files", "many"}};
    auto m = only<core::message_posted>(decode(post_frame("posted", p)).events);
    CHECK(m.thread_id.empty());
    CHECK(m.text == "typed");
    p["message"] = 42;  // no text
    CHECK(decode(post_frame("posted", p)).events.empty());
    p["message"] = "x";
    p["user_id"] = nullptr;
    CHECK(decode(post_frame("posted", p)).events.empty());
    p["id"] = 7;
    CHECK(decode(post_frame("posted", p)).error == "the post has no id");

    for (const json& bad_post : {json("not json"), json(5), json::array(), json(nullptr), json("[1,2]")}) {
      CAPTURE(bad_post.dump());
      json f{{"event", "posted"}, {"data", {{"post", bad_post}}}, {"seq", 1}};
      mm::event_result r;
      CHECK_NOTHROW(r = decode(f));
      CHECK(r.events.empty());
      CHECK(r.error == "data.post is not a post");
    }
    mm::event_frame broken{"posted", 3, "", "", "{not json"};
    auto r = mm::decode_event(broken, ctx, received);
    CHECK(r.error == "data is not a JSON object");
    CHECK(r.events.empty());
  }
}

TEST_SUITE("mattermost codec: edits, deletes, reactions, membership, users") {
  TEST_CASE("post_edited with edit_at gives message_edited at the edit time") {
    json p = post("e1e1e1e1e1e1e1e1e1e1e1e1e1", "db is down (edited)");
    p["edit_at"] = 1763715660000;
    p["update_at"] = 1763715660000;
    auto r = decode(post_frame("post_edited", p));
    CHECK(r.error.empty());
    auto e = only<core::message_edited>(r.events);
    CHECK(e.id == "mm:e1e1e1e1e1e1e1e1e1e1e1e1e1");
    CHECK(e.text == "db is down (edited)");
    CHECK(e.at == iso("2025-11-21T09:01:00Z"));
    CHECK(r.dedupe_key == "mm:post:e1e1e1e1e1e1e1e1e1e1e1e1e1:1763715660000");
    CHECK(r.update_at == 1763715660000);

    // A post_edited that is no edit of the text (a reaction or a reply bumped it): nothing.
    p["edit_at"] = 0;
    CHECK(decode(post_frame("post_edited", p)).events.empty());
  }

  TEST_CASE("pinning sends post_edited: the pin becomes message_pinned") {
    json p = post("e2e2e2e2e2e2e2e2e2e2e2e2e2", "the header");
    p["is_pinned"] = true;
    p["update_at"] = 1763715720000;
    auto pin = only<core::message_pinned>(decode(post_frame("post_edited", p)).events);
    CHECK(pin.id == "mm:e2e2e2e2e2e2e2e2e2e2e2e2e2");
    CHECK(pin.user.empty());
    CHECK(pin.at == iso("2025-11-21T09:02:00Z"));
    p["edit_at"] = 1763715700000;
    auto r = decode(post_frame("post_edited", p));
    REQUIRE(r.events.size() == 2);
    CHECK(nth<core::message_edited>(r.events, 0).text == "the header");
    CHECK(nth<core::message_pinned>(r.events, 1).id == "mm:e2e2e2e2e2e2e2e2e2e2e2e2e2");
    p["is_pinned"] = "False";  // the mmpy_bot spelling
    CHECK(only<core::message_edited>(decode(post_frame("post_edited", p)).events).id == "mm:e2e2e2e2e2e2e2e2e2e2e2e2e2");
  }

  TEST_CASE("post_deleted gives message_deleted at delete_at, else update_at, else arrival") {
    json p = post("d1d1d1d1d1d1d1d1d1d1d1d1d1", "");
    p["delete_at"] = 1763715780000;
    p["update_at"] = 1763715780001;
    auto r = decode(post_frame("post_deleted", p, {{"delete_by", "admin0000000000000000000000"}}));
    auto d = only<core::message_deleted>(r.events);
    CHECK(d.id == "mm:d1d1d1d1d1d1d1d1d1d1d1d1d1");
    CHECK(d.at == iso("2025-11-21T09:03:00Z"));
    CHECK(r.dedupe_key == "mm:post:d1d1d1d1d1d1d1d1d1d1d1d1d1:1763715780001");
    p["delete_at"] = 0;
    CHECK(only<core::message_deleted>(decode(post_frame("post_deleted", p)).events).at == iso("2025-11-21T09:03:00.001Z"));
    p.erase("update_at");
    CHECK(only<core::message_deleted>(decode(post_frame("post_deleted", p)).events).at == received);
  }

  TEST_CASE("reaction fixture (reaction_added_minimal.json): data.reaction as a JSON string") {
    auto r = mm::decode_event(frame_of(fixture("websocket/reaction_added_minimal.json")), ctx, received);
    CHECK(r.error.empty());
    auto a = only<core::reaction_added>(r.events);
    CHECK(a.id == "mm:456");
    CHECK(a.user == "mm:123");
    CHECK(a.emoji == "emoji_test");
    CHECK(a.at == received);  // no create_at in the fixture
    CHECK(r.post_id == "456");
    CHECK(r.user_id == "123");
    CHECK(r.channel_id == "789");
    CHECK(r.dedupe_key == "mm:reaction:456:123:emoji_test");
  }

  TEST_CASE("reactions: an object, create_at, the bot's own, and incomplete ones") {
    json reaction{{"user_id", "alice00000000000000000000a"},
                  {"post_id", "p1p1p1p1p1p1p1p1p1p1p1p1p1"},
                  {"emoji_name", "pushpin"},
                  {"create_at", 1763715600000}};
    json f{{"event", "reaction_added"}, {"data", {{"reaction", reaction}}}, {"broadcast", {{"channel_id", "c1"}}}, {"seq", 9}};
    auto a = only<core::reaction_added>(decode(f).events);
    CHECK(a.emoji == "pushpin");
    CHECK(a.at == iso("2025-11-21T09:00:00Z"));
    CHECK(decode(f).channel_id == "c1");
    f["data"]["reaction"]["user_id"] = ctx.bot_user_id;
    auto own = decode(f);
    CHECK(own.events.empty());
    CHECK(own.error.empty());
    f["data"]["reaction"].erase("emoji_name");
    CHECK(decode(f).error == "the reaction lacks post_id, user_id or emoji_name");
    f["data"]["reaction"] = "{oops";
    CHECK(decode(f).error == "data.reaction is not a reaction");
    f["event"] = "reaction_removed";  // the core has no such event
    auto removed = decode(f);
    CHECK(removed.events.empty());
    CHECK(removed.error.empty());
  }

  TEST_CASE("user_added and user_removed become membership events at arrival") {
    json added{{"event", "user_added"},
               {"data", {{"team_id", "t1"}, {"user_id", "bob0000000000000000000000b"}}},
               {"broadcast", {{"channel_id", "chan0000000000000000000001"}}},
               {"seq", 11}};
    auto j = only<core::member_joined>(decode(added).events);
    CHECK(j.channel == "mm:chan0000000000000000000001");
    CHECK(j.user == "mm:bob0000000000000000000000b");
    CHECK(j.at == received);
    CHECK(decode(added).dedupe_key.empty());

    // The copy sent to the removed user names the channel in data and the user in broadcast.
    json removed{{"event", "user_removed"},
                 {"data", {{"channel_id", "chan0000000000000000000001"}, {"remover_id", "alice00000000000000000000a"}}},
                 {"broadcast", {{"user_id", "bob0000000000000000000000b"}, {"channel_id", ""}}},
                 {"seq", 12}};
    auto l = only<core::member_left>(decode(removed).events);
    CHECK(l.channel == "mm:chan0000000000000000000001");
    CHECK(l.user == "mm:bob0000000000000000000000b");

    added["data"]["user_id"] = ctx.bot_user_id;
    CHECK(decode(added).events.empty());
    added["broadcast"]["channel_id"] = "";
    CHECK(decode(added).error == "no channel or no user");
  }

  TEST_CASE("user_updated gives the display name and time zone") {
    json user{{"id", "alice00000000000000000000a"},
              {"username", "alice"},
              {"first_name", "Alice"},
              {"last_name", "Liddell"},
              {"nickname", ""},
              {"update_at", 1763715600000},
              {"timezone", {{"useAutomaticTimezone", "true"}, {"automaticTimezone", "Europe/Berlin"}, {"manualTimezone", ""}}}};
    json f{{"event", "user_updated"}, {"data", {{"user", user}}}, {"seq", 13}};
    auto u = only<core::user_updated>(decode(f).events);
    CHECK(u.who.id == "mm:alice00000000000000000000a");
    CHECK(u.who.display_name == "Alice Liddell");
    CHECK(u.who.tz == "Europe/Berlin");
    CHECK(u.at == iso("2025-11-21T09:00:00Z"));
    f["data"]["user"] = json{{"username", "x"}};
    CHECK(decode(f).error == "user has no id");
  }

  TEST_CASE("events the core does not need give nothing and no error") {
    for (const char* event : {"typing", "status_change", "channel_viewed", "preferences_changed", "new_user",
                              "channel_updated", "emoji_added", "thread_updated"}) {
      CAPTURE(event);
      auto r = decode(json{{"event", event}, {"data", {{"post", "{}"}}}, {"seq", 1}});
      CHECK(r.events.empty());
      CHECK(r.error.empty());
      CHECK(r.event == event);
    }
  }
}
