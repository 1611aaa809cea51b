// The Mattermost codec: REST v4 responses (users, post listings for backfill, channels, errors, rate limits).
#include "mattermost/codec.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <set>
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

json post(std::string id, std::int64_t create_at, std::string message) {
  return json{{"id", std::move(id)},       {"create_at", create_at}, {"update_at", create_at},
              {"edit_at", 0},              {"delete_at", 0},         {"user_id", "alice00000000000000000000a"},
              {"channel_id", "chan0000000000000000000001"},          {"root_id", ""},
              {"message", std::move(message)}, {"type", ""},         {"props", json::object()}};
}

json post_list_of(const std::vector<json>& posts) {
  json list{{"order", json::array()}, {"posts", json::object()}, {"next_post_id", ""}, {"prev_post_id", ""}, {"has_next", false}};
  for (auto it = posts.rbegin(); it != posts.rend(); ++it) list["order"].push_back((*it)["id"]);
  for (const auto& p : posts) list["posts"][p["id"].get<std::string>()] = p;
  return list;
}

}  // namespace

TEST_SUITE("mattermost codec: users") {
  TEST_CASE("users_me_minimal.json") {
    auto u = mm::parse_user(fixture("rest/users_me_minimal.json"));
    CHECK(u.error.empty());
    CHECK(u.id == "test1234");
    CHECK(u.username == "test_1234_account");
    CHECK(u.display_name == "test_1234_account");  // no nickname, no first or last name
    CHECK(u.tz.empty());
    CHECK_FALSE(u.is_bot);
    auto e = mm::to_user_updated(u, iso("2026-11-21T09:00:00Z"));
    CHECK(e.who.id == "mm:test1234");
    CHECK(e.who.display_name == "test_1234_account");
    CHECK(e.at == iso("2026-11-21T09:00:00Z"));
  }

  TEST_CASE("display name: nickname, else first and last, else username") {
    json u{{"id", "u1"}, {"username", "sam"}, {"nickname", "Sammy"}, {"first_name", "Sam"}, {"last_name", "Vimes"}, {"is_bot", true}};
    auto info = mm::parse_user(u.dump());
    CHECK(info.display_name == "Sammy");
    CHECK(info.is_bot);
    u["nickname"] = "";
    CHECK(mm::parse_user(u.dump()).display_name == "Sam Vimes");
    u["first_name"] = "";
    CHECK(mm::parse_user(u.dump()).display_name == "Vimes");
    u["last_name"] = 5;
    CHECK(mm::parse_user(u.dump()).display_name == "sam");
  }

  TEST_CASE("time zone: automatic or manual as the user chose, the other when empty") {
    json u{{"id", "u1"}, {"username", "sam"}};
    u["timezone"] = {{"useAutomaticTimezone", "true"}, {"automaticTimezone", "Europe/Berlin"}, {"manualTimezone", "Asia/Tokyo"}};
    CHECK(mm::parse_user(u.dump()).tz == "Europe/Berlin");
    u["timezone"]["useAutomaticTimezone"] = "false";
    CHECK(mm::parse_user(u.dump()).tz == "Asia/Tokyo");
    u["timezone"]["manualTimezone"] = "";
    CHECK(mm::parse_user(u.dump()).tz == "Europe/Berlin");
    u["timezone"] = {{"useAutomaticTimezone", true}, {"automaticTimezone", ""}, {"manualTimezone", "America/Toronto"}};
    CHECK(mm::parse_user(u.dump()).tz == "America/Toronto");
    u["timezone"] = "UTC";
    CHECK(mm::parse_user(u.dump()).tz.empty());
  }

  TEST_CASE("not a user") {
    CHECK(mm::parse_user("").error == "not JSON");
    CHECK(mm::parse_user("[]").error == "not a JSON object");
    CHECK(mm::parse_user(R"({"username":"x"})").error == "user has no id");
    CHECK(mm::parse_user(R"({"id":17})").error == "user has no id");
  }
}

TEST_SUITE("mattermost codec: post lists") {
  TEST_CASE("posts come in create_at order, the same millisecond in the server's order, as message_posted") {
    // Listed oldest first here; post_list_of writes `order` newest first, as the server does.
    auto list = post_list_of({post("bbbb", 1763715600000, "first (same time, the server made it first)"),
                              post("aaaa", 1763715600000, "second"), post("cccc", 1763715660000, "third")});
    list["has_next"] = true;
    list["next_post_id"] = "nnnn";
    list["prev_post_id"] = "pppp";
    auto r = mm::parse_post_list(list.dump(), ctx);
    CHECK(r.error.empty());
    REQUIRE(r.events.size() == 3);
    CHECK(nth<core::message_posted>(r.events, 0).id == "mm:bbbb");
    CHECK(nth<core::message_posted>(r.events, 1).id == "mm:aaaa");
    CHECK(nth<core::message_posted>(r.events, 2).id == "mm:cccc");
    CHECK(nth<core::message_posted>(r.events, 2).at == iso("2025-11-21T09:01:00Z"));
    REQUIRE(r.posts.size() == 3);
    CHECK(r.posts[0].id == "bbbb");
    CHECK(r.posts[0].dedupe_key == "mm:post:bbbb:1763715600000");
    CHECK(r.order == std::vector<std::string>{"cccc", "aaaa", "bbbb"});
    CHECK(r.has_next);
    CHECK(r.next_post_id == "nnnn");
    CHECK(r.prev_post_id == "pppp");
    CHECK(r.latest_update_at == 1763715660000);
    CHECK(r.skipped == 0);
  }

  TEST_CASE("posts of the same millisecond that the order does not list go by id") {
    auto list = post_list_of({post("bbbb", 1763715600000, "b"), post("aaaa", 1763715600000, "a")});
    list["order"] = json::array();
    auto r = mm::parse_post_list(list.dump(), ctx);
    REQUIRE(r.events.size() == 2);
    CHECK(nth<core::message_posted>(r.events, 0).id == "mm:aaaa");
    CHECK(nth<core::message_posted>(r.events, 1).id == "mm:bbbb");
  }

  TEST_CASE("a post from a posted frame and from a backfill dedupes to the same keys") {
    json p = post("wqpuawcw3iym3pq63s5xi1776r", 1533085458236, "hello");
    p["channel_id"] = "4fgt3n51f7ftpff91gk1iy1zow";
    p["user_id"] = "131gkd5thbdxiq141b3514bgjh";
    auto listed = mm::parse_post_list(post_list_of({p}).dump(), ctx);
    auto frame = std::get<mm::event_frame>(mm::decode_frame(fixture("websocket/posted_channel_mmpy_bot.json")));
    auto live = mm::decode_event(frame, ctx, iso("2026-01-01T00:00:00Z"));
    REQUIRE(listed.events.size() == 1);
    REQUIRE(live.events.size() == 1);
    CHECK(core::idempotency_key(listed.events[0]) == core::idempotency_key(live.events[0]));
    CHECK(listed.posts[0].dedupe_key == live.dedupe_key);
    const auto a = std::get<core::message_posted>(listed.events[0]);
    const auto b = std::get<core::message_posted>(live.events[0]);
    CHECK(a.channel == b.channel);
    CHECK(a.user == b.user);
    CHECK(a.text == b.text);
    CHECK(a.at == b.at);
  }

  TEST_CASE("edited and deleted posts: posted with the current text, then the edit, then the delete") {
    json edited = post("eeee", 1763715600000, "now the text");
    edited["edit_at"] = 1763715700000;
    edited["update_at"] = 1763715700000;
    json deleted = post("dddd", 1763715610000, "");
    deleted["delete_at"] = 1763715800000;
    deleted["update_at"] = 1763715800000;
    json gone_but_listed = post("gggg", 1763715620000, "said then deleted");
    gone_but_listed["delete_at"] = 1763715900000;
    auto r = mm::parse_post_list(post_list_of({edited, deleted, gone_but_listed}).dump(), ctx);
    REQUIRE(r.events.size() == 5);
    auto m = nth<core::message_posted>(r.events, 0);
    CHECK(m.id == "mm:eeee");
    CHECK(m.text == "now the text");
    auto e = nth<core::message_edited>(r.events, 1);
    CHECK(e.id == "mm:eeee");
    CHECK(e.text == "now the text");
    CHECK(e.at == iso("2025-11-21T09:01:40Z"));
    // The deleted post without text has no message_posted, only its delete.
    CHECK(nth<core::message_deleted>(r.events, 2).id == "mm:dddd");
    CHECK(nth<core::message_posted>(r.events, 3).id == "mm:gggg");
    auto d = nth<core::message_deleted>(r.events, 4);
    CHECK(d.id == "mm:gggg");
    CHECK(d.at == iso("2025-11-21T09:05:00Z"));
    CHECK(r.latest_update_at == 1763715800000);
  }

  TEST_CASE("system posts, threads and the bot's own posts in a listing") {
    json join = post("jjjj", 1763715600000, "bob joined the channel.");
    join["type"] = "system_join_channel";
    join["user_id"] = "bob0000000000000000000000b";
    json header = post("hhhh", 1763715601000, "changed the header");
    header["type"] = "system_header_change";
    json reply = post("rrrr", 1763715602000, "in thread");
    reply["root_id"] = "aaaa";
    json mine = post("mmmm", 1763715603000, "🚨 INC-1");
    mine["user_id"] = ctx.bot_user_id;
    auto r = mm::parse_post_list(post_list_of({join, header, reply, mine}).dump(), ctx);
    REQUIRE(r.events.size() == 3);
    CHECK(nth<core::member_joined>(r.events, 0).user == "mm:bob0000000000000000000000b");
    CHECK(nth<core::message_posted>(r.events, 1).thread_id == "mm:aaaa");
    CHECK(nth<core::message_posted>(r.events, 2).from_bot);
    CHECK(r.posts.size() == 4);  // every listed post, event or not
    CHECK(r.posts[2].root_id == "aaaa");
  }

  TEST_CASE("broken posts are skipped and counted, broken lists are errors") {
    json no_channel = post("xxxx", 1763715600000, "x");
    no_channel.erase("channel_id");
    json no_time = post("yyyy", 0, "y");
    json keyed = post("", 1763715600000, "the map key is the id");
    json list = post_list_of({no_channel, no_time});
    list["posts"]["kkkk"] = keyed;
    list["posts"]["zzzz"] = "not a post";
    auto r = mm::parse_post_list(list.dump(), ctx);
    CHECK(r.error.empty());
    CHECK(r.skipped == 3);
    CHECK(only<core::message_posted>(r.events).id == "mm:kkkk");

    CHECK(mm::parse_post_list("", ctx).error == "not JSON");
    CHECK(mm::parse_post_list("[]", ctx).error == "not a JSON object");
    CHECK(mm::parse_post_list(R"({"id":"x"})", ctx).error == "not a PostList (no posts, no order)");
    auto empty = mm::parse_post_list(R"({"order":[],"posts":{}})", ctx);
    CHECK(empty.error.empty());
    CHECK(empty.events.empty());
    CHECK(empty.latest_update_at == 0);
    auto odd = mm::parse_post_list(R"({"order":null,"posts":null,"has_next":"true"})", ctx);
    CHECK(odd.error.empty());
    CHECK(odd.has_next);
  }
}

TEST_SUITE("mattermost codec: channels, errors, rate limits") {
  TEST_CASE("channels") {
    auto c = mm::parse_channel(
        R"({"id":"chan0000000000000000000001","create_at":1,"team_id":"team0000000000000000000001","type":"O",)"
        R"("display_name":"INC-7 db down","name":"inc-20261121-db-down","header":"sev1 · investigating","purpose":""})");
    CHECK(c.error.empty());
    CHECK(c.id == "chan0000000000000000000001");
    CHECK(c.name == "inc-20261121-db-down");
    CHECK(c.display_name == "INC-7 db down");
    CHECK(c.type == "O");
    CHECK(c.team_id == "team0000000000000000000001");
    CHECK(c.header == "sev1 · investigating");
    auto dm = mm::parse_channel(R"({"id":"dm1","type":"D","name":"aaaa__bbbb","team_id":""})");
    CHECK(dm.type == "D");
    CHECK(mm::parse_channel("nope").error == "not JSON");
    CHECK(mm::parse_channel(R"({"name":"x"})").error == "channel has no id");
  }

  TEST_CASE("error bodies: JSON envelopes and plain text") {
    auto e = mm::parse_error(403, R"({"id":"api.context.permissions.app_error","message":"You do not have the appropriate permissions.","detailed_error":"","request_id":"r1","status_code":403,"is_oauth":false})");
    CHECK(e.http_status == 403);
    CHECK(e.id == "api.context.permissions.app_error");
    CHECK(e.message == "You do not have the appropriate permissions.");
    CHECK(e.request_id == "r1");
    CHECK_FALSE(e.retryable);
    CHECK_FALSE(e.auth_failed);

    e = mm::parse_error(429, "limit exceeded\n");
    CHECK(e.rate_limited);
    CHECK(e.retryable);
    CHECK(e.id.empty());
    CHECK(e.message == "limit exceeded");

    e = mm::parse_error(401, R"({"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","status_code":401})");
    CHECK(e.auth_failed);
    CHECK_FALSE(e.retryable);
    CHECK(mm::parse_error(502, "<html>bad gateway</html>").retryable);
    CHECK(mm::parse_error(0, R"({"id":"x","status_code":"404"})").http_status == 404);

    // A long plain body is cut to 200 bytes, never inside a character.
    std::string long_body(199, 'x');
    long_body += "é and more";
    e = mm::parse_error(500, long_body);
    CHECK(e.message == std::string(199, 'x'));
    CHECK(mm::parse_error(500, "").message.empty());
  }

  TEST_CASE("rate limit headers") {
    CHECK_FALSE(mm::rate_limit_wait("", "", "").has_value());           // limiting is off: no headers
    CHECK_FALSE(mm::rate_limit_wait("10", "9", "1").has_value());       // requests left
    CHECK(mm::rate_limit_wait("10", "0", "3") == std::chrono::seconds{3});
    CHECK(mm::rate_limit_wait(" 10 ", " 0 ", " 0 ") == std::chrono::seconds{1});
    CHECK(mm::rate_limit_wait("10", "0", "soon") == std::chrono::seconds{1});
    CHECK(mm::rate_limit_wait("10", "0", "999999") == std::chrono::seconds{3600});
    CHECK_FALSE(mm::rate_limit_wait("10", "-1", "3").has_value());
    CHECK_FALSE(mm::rate_limit_wait("ten", "0", "3").has_value());
    CHECK_FALSE(mm::rate_limit_wait("10", "", "3").has_value());
  }
}
