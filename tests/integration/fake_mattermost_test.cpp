// The fake Mattermost (tests/support/fake_mattermost) driven by kintsugi::net's clients, as the Mattermost adapter
// will drive it: REST with the bot token, the websocket with header or challenge auth, reliable-websocket replay
// after a drop, a fresh hello after a restart, since= resync, rate limits, and the bot's HTTP listener called for a
// slash command and a button click.
#include "fake_mattermost.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fake_tls_server.hpp"
#include "net/http_client.hpp"
#include "net/tls.hpp"
#include "net/url.hpp"
#include "net/ws_client.hpp"
#include "run_coro_test.hpp"
#include "tls_test_ca.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace net = kintsugi::net;
using json = nlohmann::json;
using namespace kintsugi::test;
using namespace std::chrono_literals;

namespace {

const std::string token = "mm-bot-TEST-SECRET";

// One bot-side client of the fake: REST through net::http_client, the websocket through net::ws_client, both
// driven on this thread's io_context by run_coro_test (every wait bounded).
struct mm_client {
  explicit mm_client(const fake_mattermost& mm, const tls_test_ca* ca = nullptr)
      : fake(mm),
        tls(ca == nullptr ? net::make_client_context() : net::make_client_context(ca->ca_file())),
        http(io.get_executor(), tls, net::parse_url(mm.base_url()).value()),
        ws(io.get_executor(), tls) {}

  net::http_response call(http::verb method, const std::string& target, const json& body = nullptr,
                          const std::string& bearer = token) {
    net::http_request req;
    req.method = method;
    req.target = "/api/v4" + target;
    if (!bearer.empty()) req.headers.push_back({"Authorization", "Bearer " + bearer});
    if (!body.is_null()) {
      req.body = body.dump();
      req.content_type = "application/json";
    }
    auto res = run_coro_test(io, http.request(std::move(req)));
    REQUIRE(res.has_value());
    return *res;
  }

  // Opens the websocket (with the bot token as a header unless `header_auth` is false); false if refused.
  bool connect(const std::string& query = {}, bool header_auth = true) {
    std::vector<net::http_header> headers;
    if (header_auth) headers.push_back({"Authorization", "Bearer " + token});
    auto r = run_coro_test(io, ws.connect(fake.websocket_url() + query, std::move(headers)));
    return r.has_value();
  }

  // The next frame, parsed; fails the test after 5 s.
  json next() {
    auto r = run_coro_test(io, ws.read());
    INFO("read failed: " << (r ? std::string{} : r.error().message()));
    REQUIRE(r.has_value());
    json j = json::parse(*r, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
  }

  std::string next_text() {
    auto r = run_coro_test(io, ws.read());
    REQUIRE(r.has_value());
    return *r;
  }

  // True when the server ends the connection (the read fails) within 5 s.
  bool closed_by_server() { return !run_coro_test(io, ws.read()).has_value(); }

  void send(const json& frame) { REQUIRE(ws.write(frame.dump()).has_value()); }

  const fake_mattermost& fake;
  asio::io_context io;
  asio::ssl::context tls;
  net::http_client http;
  net::ws_client ws;
};

json body_of(const net::http_response& r) {
  json j = json::parse(r.body, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// The post inside a posted / post_edited / post_deleted event (a JSON string, as from the real server).
json post_of(const json& event) {
  REQUIRE(event["data"]["post"].is_string());
  return json::parse(event["data"]["post"].get<std::string>());
}

// alice and bob, and a channel "war-room" the bot is in with alice.
struct world {
  explicit world(fake_mattermost::options o = {}) : mm(std::move(o)) { populate(); }
  explicit world(const tls_test_ca& ca) : mm(ca) { populate(); }

  void populate() {
    mm_user a;
    a.username = "alice";
    a.first_name = "Alice";
    a.last_name = "Archer";
    a.nickname = "al";
    a.use_automatic_timezone = false;
    a.manual_timezone = "Europe/Berlin";
    alice = mm.add_user(a);
    bob = mm.add_user("bob");
    channel = mm.add_channel(mm.team_id(), "war-room", "War Room");
    mm.add_member(channel, mm.bot_id());
    mm.add_member(channel, alice);
  }

  fake_mattermost mm;
  std::string alice;
  std::string bob;
  std::string channel;
};

std::vector<std::string> order_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& id : list["order"]) out.push_back(id.get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("fake Mattermost: users/me, users by id and name, and 401 with the error JSON without the right token") {
  world w;
  mm_client c(w.mm);
  CHECK(is_mattermost_id(w.mm.bot_id()));
  CHECK(is_mattermost_id(w.alice));

  auto me = c.call(http::verb::get, "/users/me");
  CHECK(me.status == 200);
  CHECK(body_of(me)["id"] == w.mm.bot_id());
  CHECK(body_of(me)["is_bot"] == true);
  CHECK(body_of(me)["username"] == "kintsugi");

  const json alice = body_of(c.call(http::verb::get, "/users/" + w.alice));
  CHECK(alice["username"] == "alice");
  CHECK(alice["first_name"] == "Alice");
  CHECK(alice["last_name"] == "Archer");
  CHECK(alice["nickname"] == "al");
  CHECK(alice["is_bot"] == false);
  CHECK(alice["timezone"]["useAutomaticTimezone"] == "false");
  CHECK(alice["timezone"]["manualTimezone"] == "Europe/Berlin");
  CHECK(alice["timezone"]["automaticTimezone"] == "UTC");

  const json many = body_of(c.call(http::verb::post, "/users/usernames", json::array({"alice", "bob", "nobody"})));
  REQUIRE(many.size() == 2);
  CHECK(body_of(c.call(http::verb::get, "/users/username/bob"))["id"] == w.bob);
  CHECK(c.call(http::verb::get, "/users/username/nobody").status == 404);
  CHECK(c.call(http::verb::get, "/users/" + new_mattermost_id()).status == 404);

  for (const std::string& bad : {std::string{}, std::string{"wrong-token"}}) {
    CAPTURE(bad);
    auto denied = c.call(http::verb::get, "/users/me", nullptr, bad);
    CHECK(denied.status == 401);
    const json e = body_of(denied);
    CHECK(e["id"] == "api.context.session_expired.app_error");
    CHECK(e["status_code"] == 401);
    for (const char* key : {"message", "detailed_error", "request_id"}) CHECK(e.contains(key));
  }
  CHECK(c.call(http::verb::get, "/no/such/route").status == 404);

  auto recorded = w.mm.calls("GET", "/api/v4/users/me");
  REQUIRE(recorded.size() == 3);
  CHECK(recorded[0].authorized);
  CHECK(recorded[0].status == 200);
  CHECK_FALSE(recorded[1].authorized);
  CHECK(recorded[2].status == 401);
  CHECK(w.mm.count("POST", "/api/v4/users/*") == 1);
}

TEST_CASE("fake Mattermost: header auth gets hello with seq 0, then every event with the next seq") {
  world w;
  mm_client c(w.mm);
  REQUIRE(c.connect());
  const json hello = c.next();
  CHECK(hello["event"] == "hello");
  CHECK(hello["seq"] == 0);
  CHECK(hello["broadcast"]["user_id"] == w.mm.bot_id());
  CHECK(hello["data"]["server_version"] == w.mm.settings().server_version);
  const std::string connection = hello["data"]["connection_id"];
  CHECK(is_mattermost_id(connection));
  CHECK(w.mm.wait_connected(1));
  CHECK(w.mm.current_connection_id() == connection);

  // A person's post: posted with the post as a JSON string, and who and where.
  const std::string said = w.mm.post_as_user(w.channel, w.alice, "checkout is down @kintsugi");
  const json posted = c.next();
  CHECK(posted["event"] == "posted");
  CHECK(posted["seq"] == 1);
  CHECK(posted["broadcast"]["channel_id"] == w.channel);
  CHECK(posted["data"]["channel_type"] == "O");
  CHECK(posted["data"]["channel_name"] == "war-room");
  CHECK(posted["data"]["channel_display_name"] == "War Room");
  CHECK(posted["data"]["sender_name"] == "@alice");
  CHECK(posted["data"]["team_id"] == w.mm.team_id());
  CHECK(json::parse(posted["data"]["mentions"].get<std::string>()) == json::array({w.mm.bot_id()}));
  const json post = post_of(posted);
  CHECK(post["id"] == said);
  CHECK(post["user_id"] == w.alice);
  CHECK(post["message"] == "checkout is down @kintsugi");
  CHECK(post["root_id"] == "");

  // The bot's own post comes back as posted too, with from_bot.
  auto created = c.call(http::verb::post, "/posts", {{"channel_id", w.channel}, {"message", "ack"}, {"root_id", said}});
  CHECK(created.status == 201);
  const json mine = c.next();
  CHECK(mine["seq"] == 2);
  CHECK(post_of(mine)["id"] == body_of(created)["id"]);
  CHECK(post_of(mine)["props"]["from_bot"] == "true");
  CHECK(post_of(mine)["root_id"] == said);

  // Edits, reactions (which bump update_at), joins: each its own seq.
  w.mm.edit_post(said, "checkout is down, since 10:02");
  const json edited = c.next();
  CHECK(edited["event"] == "post_edited");
  CHECK(edited["seq"] == 3);
  CHECK(post_of(edited)["message"] == "checkout is down, since 10:02");
  CHECK(post_of(edited)["edit_at"].get<std::int64_t>() > 0);
  w.mm.add_reaction(w.alice, said, "eyes");
  const json reacted = c.next();
  CHECK(reacted["event"] == "reaction_added");
  CHECK(reacted["seq"] == 4);
  const json reaction = json::parse(reacted["data"]["reaction"].get<std::string>());
  CHECK(reaction["emoji_name"] == "eyes");
  CHECK(reaction["post_id"] == said);
  CHECK(reaction["user_id"] == w.alice);
  w.mm.user_joins(w.channel, w.bob);
  const json added = c.next();
  CHECK(added["event"] == "user_added");
  CHECK(added["data"]["user_id"] == w.bob);
  CHECK(added["seq"] == 5);
  const json joined = c.next();
  CHECK(joined["seq"] == 6);
  CHECK(post_of(joined)["type"] == "system_join_channel");
  CHECK(post_of(joined)["user_id"] == w.bob);
  w.mm.user_leaves(w.channel, w.bob);
  const json removed = c.next();
  CHECK(removed["event"] == "user_removed");
  CHECK(removed["data"]["user_id"] == w.bob);
  const json left = c.next();
  CHECK(post_of(left)["type"] == "system_leave_channel");
  CHECK_FALSE(w.mm.is_member(w.channel, w.bob));
  w.mm.delete_post(said);
  const json deleted = c.next();
  CHECK(deleted["event"] == "post_deleted");
  CHECK(post_of(deleted)["delete_at"].get<std::int64_t>() > 0);

  // A direct message: channel type D, the bot among the mentions, no team.
  const std::string dm = w.mm.direct_channel(w.alice, w.mm.bot_id());
  CHECK(c.next()["event"] == "direct_added");
  w.mm.post_as_user(dm, w.alice, "can you page bob?");
  const json direct = c.next();
  CHECK(direct["data"]["channel_type"] == "D");
  CHECK(direct["data"]["team_id"] == "");
  CHECK(json::parse(direct["data"]["mentions"].get<std::string>()) == json::array({w.mm.bot_id()}));
  CHECK(post_of(direct)["channel_id"] == dm);

  // A channel the bot is not in sends it nothing; the next event it sees is the app-level pong.
  const std::string elsewhere = w.mm.add_channel(w.mm.team_id(), "random", "Random");
  w.mm.add_member(elsewhere, w.alice);
  w.mm.post_as_user(elsewhere, w.alice, "lunch?");
  c.send({{"action", "ping"}, {"seq", 7}});
  const json pong = c.next();
  CHECK(pong["status"] == "OK");
  CHECK(pong["seq_reply"] == 7);
  CHECK(pong["data"]["text"] == "pong");
  CHECK_FALSE(pong.contains("seq"));
  c.send({{"action", "ping"}, {"seq", 0}});
  CHECK(c.next()["error"]["id"] == "api.web_socket_router.bad_seq.app_error");

  // Raw frames go out as they are; every frame of the bot is recorded.
  w.mm.push_raw("{not json");
  CHECK(c.next_text() == "{not json");
  auto frames = w.mm.frames_from_bot();
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].json["action"] == "ping");
  CHECK(frames[0].connection_id == connection);
  // A frame the server cannot decode ends the socket, as the real read pump does.
  REQUIRE(c.ws.write("garbage").has_value());
  CHECK(c.closed_by_server());
  CHECK(w.mm.wait_until([&] { return w.mm.live_connections() == 0; }));
}

TEST_CASE("fake Mattermost: authentication_challenge, a wrong token or no auth in time closes the socket") {
  fake_mattermost::options o;
  o.auth_timeout = 300ms;
  world w(o);
  {
    mm_client c(w.mm);
    REQUIRE(c.connect({}, /*header_auth=*/false));
    c.send({{"seq", 1}, {"action", "authentication_challenge"}, {"data", {{"token", token}}}});
    const json hello = c.next();
    CHECK(hello["event"] == "hello");
    CHECK(hello["seq"] == 0);
    const json ok = c.next();
    CHECK(ok == json{{"status", "OK"}, {"seq_reply", 1}});
    w.mm.post_as_user(w.channel, w.alice, "hi");
    CHECK(c.next()["seq"] == 1);
  }
  {
    mm_client c(w.mm);
    REQUIRE(c.connect({}, false));
    c.send({{"seq", 1}, {"action", "authentication_challenge"}, {"data", {{"token", "wrong"}}}});
    CHECK(c.closed_by_server());
    CHECK(w.mm.auth_failures() == 1);
  }
  {
    mm_client c(w.mm);
    REQUIRE(c.connect({}, false));
    CHECK(c.closed_by_server());
    CHECK(w.mm.auth_timeouts() == 1);
  }
  {
    mm_client c(w.mm);
    std::vector<net::http_header> wrong{{"Authorization", "Bearer wrong"}};
    CHECK_FALSE(run_coro_test(c.io, c.ws.connect(w.mm.websocket_url(), wrong)).has_value());
    CHECK(c.ws.last_handshake_status() == 401);
  }
  CHECK(w.mm.hellos_sent() == 1);
}

TEST_CASE("fake Mattermost: a dropped socket resumes with connection_id and sequence_number, missed events in order") {
  world w;
  mm_client c(w.mm);
  REQUIRE(c.connect());
  const std::string connection = c.next()["data"]["connection_id"];
  w.mm.post_as_user(w.channel, w.alice, "one");
  CHECK(c.next()["seq"] == 1);

  // Dropped: the connection id stays, and what happens meanwhile waits for it.
  w.mm.drop_connections();
  CHECK(c.closed_by_server());
  w.mm.post_as_user(w.channel, w.alice, "two");
  w.mm.post_as_user(w.channel, w.alice, "three");
  REQUIRE(c.connect("?connection_id=" + connection + "&sequence_number=2"));
  json two = c.next();
  CHECK(two["event"] == "posted");  // no new hello
  CHECK(two["seq"] == 2);
  CHECK(post_of(two)["message"] == "two");
  json three = c.next();
  CHECK(three["seq"] == 3);
  CHECK(post_of(three)["message"] == "three");
  w.mm.post_as_user(w.channel, w.alice, "four");
  CHECK(c.next()["seq"] == 4);
  CHECK(w.mm.current_connection_id() == connection);

  // Asking again from an older seq still in the dead queue replays from there.
  w.mm.drop_connections();
  CHECK(c.closed_by_server());
  REQUIRE(c.connect("?connection_id=" + connection + "&sequence_number=2"));
  std::vector<std::string> again;
  for (int i = 0; i < 3; ++i) {
    const json e = c.next();
    CHECK(e["seq"] == 2 + i);
    again.push_back(post_of(e)["message"]);
  }
  CHECK(again == std::vector<std::string>{"two", "three", "four"});
  CHECK(w.mm.hellos_sent() == 1);
  CHECK(w.mm.replays() == 2);
  auto written = w.mm.frames_written();
  CHECK(std::count_if(written.begin(), written.end(), [](const mm_written& f) { return f.replayed; }) == 3);
}

TEST_CASE("fake Mattermost: restart, a lost sequence number or an unknown id get a new hello and connection_id") {
  fake_mattermost::options o;
  o.dead_queue_size = 4;
  world w(o);
  mm_client c(w.mm);
  REQUIRE(c.connect());
  const std::string first = c.next()["data"]["connection_id"];

  // Restarted: the old id is unknown, nothing queued survives.
  w.mm.restart();
  CHECK(c.closed_by_server());
  w.mm.post_as_user(w.channel, w.alice, "while restarting");
  REQUIRE(c.connect("?connection_id=" + first + "&sequence_number=1"));
  json hello = c.next();
  CHECK(hello["event"] == "hello");
  CHECK(hello["seq"] == 0);
  const std::string second = hello["data"]["connection_id"];
  CHECK(second != first);
  w.mm.post_as_user(w.channel, w.alice, "after");
  json after = c.next();
  CHECK(after["seq"] == 1);
  CHECK(post_of(after)["message"] == "after");

  // More missed than the dead queue keeps: the asked seq is gone, so a new id and hello.
  for (int i = 0; i < 6; ++i) {
    w.mm.post_as_user(w.channel, w.alice, "burst " + std::to_string(i));
    CHECK(c.next()["seq"] == 2 + i);
  }
  w.mm.drop_connections();
  CHECK(c.closed_by_server());
  REQUIRE(c.connect("?connection_id=" + second + "&sequence_number=2"));
  hello = c.next();
  CHECK(hello["event"] == "hello");
  CHECK(hello["seq"] == 0);
  const std::string third = hello["data"]["connection_id"];
  CHECK(third != second);

  // connection_id without sequence_number: refused (accepted, then closed at once as the real server does).
  w.mm.drop_connections();
  CHECK(c.closed_by_server());
  REQUIRE(c.connect("?connection_id=" + third));
  CHECK(c.closed_by_server());
  CHECK(w.mm.rejected_reconnects() == 1);
  // ... and the connection is gone with it: the next try is fresh.
  REQUIRE(c.connect("?connection_id=" + third + "&sequence_number=8"));
  CHECK(c.next()["event"] == "hello");
  CHECK(w.mm.hellos_sent() == 4);
}

TEST_CASE("fake Mattermost: since= returns edits, deletions, reactions and thread roots, pages are newest first") {
  world w;
  mm_client c(w.mm);
  w.mm.set_time_ms(1'000);
  const std::string root = w.mm.post_as_user(w.channel, w.alice, "root");
  w.mm.set_time_ms(1'001);
  const std::string edited = w.mm.post_as_user(w.channel, w.alice, "to edit");
  w.mm.set_time_ms(1'002);
  const std::string gone = w.mm.post_as_user(w.channel, w.alice, "to delete");
  w.mm.set_time_ms(2'000);
  w.mm.edit_post(edited, "edited");
  w.mm.advance_time(1ms);
  w.mm.delete_post(gone);
  w.mm.advance_time(1ms);
  const std::string reply = w.mm.post_as_user(w.channel, w.alice, "in the thread", root);

  const json since = body_of(c.call(http::verb::get, "/channels/" + w.channel + "/posts?since=1500"));
  const auto order = order_of(since);
  CHECK(std::set<std::string>(order.begin(), order.end()) == std::set<std::string>{edited, gone, reply, root});
  CHECK(since["posts"][gone]["delete_at"] == 2'001);
  CHECK(since["posts"][edited]["message"] == "edited");
  CHECK(since["posts"][edited]["edit_at"] == 2'000);
  CHECK(since["posts"][root]["update_at"] == 1'000);  // there as the root of a changed reply
  CHECK(since["posts"][root]["reply_count"] == 1);
  CHECK(since["next_post_id"] == "");
  CHECK(since["prev_post_id"] == "");
  CHECK(order_of(body_of(c.call(http::verb::get, "/channels/" + w.channel + "/posts?since=2002"))).empty());

  // A reaction bumps the post's update_at.
  w.mm.set_time_ms(3'000);
  w.mm.add_reaction(w.alice, root, "fire");
  const json reacted = body_of(c.call(http::verb::get, "/channels/" + w.channel + "/posts?since=2500"));
  CHECK(order_of(reacted) == std::vector<std::string>{root});
  CHECK(reacted["posts"][root]["metadata"]["reactions"][0]["emoji_name"] == "fire");

  // Paging: newest first, deleted posts left out, a reply's root in posts but not in order.
  const json page0 = body_of(c.call(http::verb::get, "/channels/" + w.channel + "/posts?page=0&per_page=2"));
  CHECK(order_of(page0) == std::vector<std::string>{reply, edited});
  CHECK(page0["posts"].contains(root));
  CHECK(page0["has_next"] == true);
  CHECK(page0["next_post_id"] == "");
  CHECK(page0["prev_post_id"] == root);
  const json page1 = body_of(c.call(http::verb::get, "/channels/" + w.channel + "/posts?page=1&per_page=2"));
  CHECK(order_of(page1) == std::vector<std::string>{root});
  CHECK(page1["has_next"] == false);
  CHECK(page1["next_post_id"] == edited);
  const json before = body_of(c.call(http::verb::get, "/channels/" + w.channel + "/posts?before=" + edited));
  CHECK(order_of(before) == std::vector<std::string>{root});
  const json newer = body_of(c.call(http::verb::get, "/channels/" + w.channel + "/posts?after=" + root));
  CHECK(order_of(newer) == std::vector<std::string>{reply, edited});
  CHECK(body_of(c.call(http::verb::get, "/posts/" + root + "/thread"))["order"].size() == 2);
}

TEST_CASE("fake Mattermost: rate limits and injected 5xx answer the next N calls, then it serves again") {
  world w;
  mm_client c(w.mm);
  w.mm.rate_limit("/api/v4/posts", 2, 3);
  const json post{{"channel_id", w.channel}, {"message", "status update"}};
  for (int i = 0; i < 2; ++i) {
    auto limited = c.call(http::verb::post, "/posts", post);
    CHECK(limited.status == 429);
    CHECK(limited.body == "limit exceeded\n");
    CHECK(limited.header("X-Ratelimit-Limit") == "10");
    CHECK(limited.header("X-Ratelimit-Remaining") == "0");
    CHECK(limited.header("X-Ratelimit-Reset") == "3");
    CHECK(limited.retry_after() == std::chrono::seconds(3));
  }
  CHECK(c.call(http::verb::post, "/posts", post).status == 201);
  CHECK(c.call(http::verb::get, "/users/me").status == 200);  // other paths were never limited

  w.mm.fail_next("GET /api/v4/users/*", 503, 2);
  CHECK(c.call(http::verb::get, "/users/me").status == 503);
  auto failed = c.call(http::verb::get, "/users/" + w.alice);
  CHECK(failed.status == 503);
  CHECK(body_of(failed)["status_code"] == 503);
  CHECK(c.call(http::verb::get, "/users/me").status == 200);
  w.mm.fail_next("/api/v4/posts", 500);
  CHECK(c.call(http::verb::post, "/posts", post).status == 500);
  CHECK(c.call(http::verb::post, "/posts", post).status == 201);
  CHECK(w.mm.posts_in(w.channel).size() == 2);
  CHECK(w.mm.count("POST", "/api/v4/posts") == 5);
}

TEST_CASE("fake Mattermost: direct channels are idempotent, pending_post_id dedupes, channels as the real ones") {
  world w;
  mm_client c(w.mm);
  const json pair = json::array({w.mm.bot_id(), w.bob});
  auto dm1 = c.call(http::verb::post, "/channels/direct", pair);
  auto dm2 = c.call(http::verb::post, "/channels/direct", json::array({w.bob, w.mm.bot_id()}));
  CHECK(dm1.status == 201);
  CHECK(dm2.status == 201);
  CHECK(body_of(dm1)["id"] == body_of(dm2)["id"]);
  CHECK(body_of(dm1)["type"] == "D");
  CHECK(body_of(dm1)["name"] == std::min(w.mm.bot_id(), w.bob) + "__" + std::max(w.mm.bot_id(), w.bob));
  CHECK(w.mm.direct_channel(w.bob, w.mm.bot_id()) == body_of(dm1)["id"]);
  CHECK(c.call(http::verb::post, "/channels/direct", json::array({w.mm.bot_id()})).status == 400);

  const json once{{"channel_id", w.channel}, {"message", "only once"}, {"pending_post_id", w.mm.bot_id() + ":1700"}};
  auto p1 = c.call(http::verb::post, "/posts", once);
  auto p2 = c.call(http::verb::post, "/posts", once);
  CHECK(p1.status == 201);
  CHECK(p2.status == 201);
  CHECK(body_of(p1)["id"] == body_of(p2)["id"]);
  CHECK(w.mm.posts_in(w.channel).size() == 1);

  CHECK(c.call(http::verb::post, "/posts", {{"channel_id", w.channel}, {"message", std::string(16383, 'x')}}).status ==
        201);
  auto too_long = c.call(http::verb::post, "/posts", {{"channel_id", w.channel}, {"message", std::string(16384, 'x')}});
  CHECK(too_long.status == 400);
  CHECK(body_of(too_long)["id"] == "model.post.is_valid.message_length.app_error");
  const std::string elsewhere = w.mm.add_channel(w.mm.team_id(), "random", "Random");
  CHECK(c.call(http::verb::post, "/posts", {{"channel_id", elsewhere}, {"message", "hi"}}).status == 403);

  const json spec{{"team_id", w.mm.team_id()}, {"name", "inc-1-checkout"}, {"display_name", "INC-1"}, {"type", "O"}};
  auto made = c.call(http::verb::post, "/channels", spec);
  CHECK(made.status == 201);
  const std::string incident = body_of(made)["id"];
  auto taken = c.call(http::verb::post, "/channels", spec);
  CHECK(taken.status == 400);
  CHECK(body_of(taken)["id"] == "store.sql_channel.save_channel.exists.app_error");
  CHECK(body_of(c.call(http::verb::get, "/channels/" + incident))["display_name"] == "INC-1");
  CHECK(c.call(http::verb::post, "/channels/" + incident + "/members", {{"user_id", w.alice}}).status == 201);
  CHECK(w.mm.is_member(incident, w.alice));
  auto patched = c.call(http::verb::put, "/channels/" + incident + "/patch", {{"header", "INC-1 sev2"}});
  CHECK(patched.status == 200);
  CHECK(body_of(patched)["header"] == "INC-1 sev2");
  auto posts = w.mm.posts_in(incident);
  REQUIRE(posts.size() == 2);
  CHECK(posts[0].type == "system_add_to_channel");
  CHECK(posts[1].type == "system_header_change");
  CHECK(posts[1].props["new_header"] == "INC-1 sev2");

  auto ephemeral = c.call(http::verb::post, "/posts/ephemeral",
                          {{"user_id", w.alice}, {"post", {{"channel_id", w.channel}, {"message", "just you"}}}});
  CHECK(ephemeral.status == 201);
  REQUIRE(w.mm.ephemerals().size() == 1);
  CHECK(w.mm.ephemerals()[0].user_id == w.alice);
}

TEST_CASE("fake Mattermost: over TLS, https and wss with a certificate from the test CA") {
  tls_test_ca ca;
  world w(ca);
  CHECK(w.mm.tls());
  CHECK(w.mm.base_url().starts_with("https://127.0.0.1:"));
  CHECK(w.mm.websocket_url().starts_with("wss://127.0.0.1:"));
  mm_client c(w.mm, &ca);
  CHECK(body_of(c.call(http::verb::get, "/users/me"))["id"] == w.mm.bot_id());
  REQUIRE(c.connect());
  CHECK(c.next()["event"] == "hello");
  w.mm.post_as_user(w.channel, w.alice, "over tls");
  CHECK(post_of(c.next())["message"] == "over tls");
}

namespace {

// The bot's HTTP listener, played by a loopback server on its own thread.
struct fake_listener {
  fake_listener() : server(io) {
    server.on(http::verb::post, "/mattermost/command", [this](const http_request_t& req) {
      std::lock_guard lock(mu);
      commands.push_back(req);
      const std::string body = req.body();
      if (body.find("text=secret") != std::string::npos)
        return make_response(http::status::ok, R"({"text":"only for you"})");
      if (body.find("text=plain") != std::string::npos)
        return make_response(http::status::ok, "plain text answer", "text/plain");
      return make_response(http::status::ok, R"({"response_type":"in_channel","text":"Incident declared"})");
    });
    server.on(http::verb::post, "/mattermost/action", [this](const http_request_t& req) {
      std::lock_guard lock(mu);
      actions.push_back(json::parse(req.body()));
      return make_response(http::status::ok, R"({"update":{"message":"Acknowledged"},"ephemeral_text":"done"})");
    });
    thread = std::thread([this] { io.run(); });
  }
  ~fake_listener() {
    asio::post(io, [this] { server.stop(); });
    work.reset();
    thread.join();
  }
  std::string url() const { return server.url("http", ""); }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  fake_tls_server server;
  std::thread thread;
  std::mutex mu;
  std::vector<http_request_t> commands;
  std::vector<json> actions;
};

std::map<std::string, std::string> form(std::string body) {
  std::map<std::string, std::string> out;
  std::size_t at = 0;
  while (at <= body.size()) {
    const auto amp = std::min(body.find('&', at), body.size());
    const std::string pair = body.substr(at, amp - at);
    const auto eq = pair.find('=');
    if (eq != std::string::npos) out[pair.substr(0, eq)] = pair.substr(eq + 1);
    at = amp + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("fake Mattermost: a slash command and a button click reach the bot's listener as from Mattermost") {
  world w;
  fake_listener bot;
  mm_client c(w.mm);
  REQUIRE(c.connect());
  REQUIRE(c.next()["event"] == "hello");

  auto declared = w.mm.send_command(bot.url(), "slash-token", w.channel, w.alice, "start Checkout errors sev2");
  CHECK(declared.error == "");
  CHECK(declared.status == 200);
  REQUIRE(declared.post_ids.size() == 1);
  {
    std::lock_guard lock(bot.mu);
    REQUIRE(bot.commands.size() == 1);
    const auto& req = bot.commands[0];
    CHECK(req[http::field::authorization] == "Token slash-token");
    CHECK(req[http::field::content_type] == "application/x-www-form-urlencoded");
    CHECK(req[http::field::user_agent] == "Mattermost-Bot/1.1");
    auto fields = form(req.body());
    CHECK(fields["command"] == "%2Fincident");
    CHECK(fields["text"] == "start+Checkout+errors+sev2");
    CHECK(fields["channel_id"] == w.channel);
    CHECK(fields["channel_name"] == "war-room");
    CHECK(fields["user_id"] == w.alice);
    CHECK(fields["user_name"] == "alice");
    CHECK(fields["team_id"] == w.mm.team_id());
    CHECK(fields["team_domain"] == "kintsugi-test");
    CHECK(fields["token"] == "slash-token");
    CHECK(fields["trigger_id"].size() > 20);
    CHECK(fields["response_url"].starts_with("http%3A%2F%2F127.0.0.1%3A"));
  }
  // in_channel: a post by the person who typed the command, from_webhook, broadcast as posted.
  const json posted = c.next();
  CHECK(post_of(posted)["id"] == declared.post_ids[0]);
  CHECK(post_of(posted)["user_id"] == w.alice);
  CHECK(post_of(posted)["message"] == "Incident declared");
  CHECK(post_of(posted)["props"]["from_webhook"] == "true");

  auto secret = w.mm.send_command(bot.url(), "slash-token", w.channel, w.alice, "secret");
  CHECK(secret.post_ids.empty());
  CHECK(secret.trigger_id != declared.trigger_id);
  auto plain = w.mm.send_command(bot.url() + "/", "slash-token", w.channel, w.bob, "plain");
  CHECK(plain.post_ids.empty());
  auto ephemerals = w.mm.ephemerals();
  REQUIRE(ephemerals.size() == 2);
  CHECK(ephemerals[0].user_id == w.alice);
  CHECK(ephemerals[0].message == "only for you");
  CHECK(ephemerals[0].source == "command");
  CHECK(ephemerals[1].user_id == w.bob);
  CHECK(ephemerals[1].message == "plain text answer");

  // The command's response_url takes follow-ups (no token needed), as a post by the same person.
  std::string response_url;
  {
    std::lock_guard lock(bot.mu);
    response_url = form(bot.commands[0].body())["response_url"];
  }
  const std::string hook = response_url.substr(response_url.rfind("%2F") + 3);
  net::http_request follow{http::verb::post, "/hooks/commands/" + hook, {},
                           R"({"response_type":"in_channel","text":"Still investigating"})", "application/json"};
  auto followed = run_coro_test(c.io, c.http.request(std::move(follow)));
  REQUIRE(followed.has_value());
  CHECK(followed->status == 200);
  CHECK(post_of(c.next())["message"] == "Still investigating");

  // A button on the bot's post: the action request goes to its integration URL, the answer updates the post.
  const json attachments = json::array({{{"text", "Acknowledge?"},
                                         {"actions", json::array({{{"id", "ack"},
                                                                   {"name", "Ack"},
                                                                   {"integration",
                                                                    {{"url", bot.url() + "/mattermost/action"},
                                                                     {"context", {{"incident", 1}}}}}}})}}});
  auto created = c.call(http::verb::post, "/posts",
                        {{"channel_id", w.channel}, {"message", "Page?"}, {"props", {{"attachments", attachments}}}});
  REQUIRE(created.status == 201);
  const std::string post_id = body_of(created)["id"];
  c.next();  // its posted
  auto clicked = w.mm.click_button(post_id, 0, w.alice);
  CHECK(clicked.status == 200);
  CHECK(clicked.json["ephemeral_text"] == "done");
  {
    std::lock_guard lock(bot.mu);
    REQUIRE(bot.actions.size() == 1);
    const json& a = bot.actions[0];
    CHECK(a["user_id"] == w.alice);
    CHECK(a["user_name"] == "alice");
    CHECK(a["post_id"] == post_id);
    CHECK(a["channel_id"] == w.channel);
    CHECK(a["channel_name"] == "war-room");
    CHECK(a["team_id"] == w.mm.team_id());
    CHECK(a["team_domain"] == "kintsugi-test");
    CHECK(a["type"] == "button");
    CHECK(a["data_source"] == "");
    CHECK(a["context"] == json{{"incident", 1}});
    CHECK_FALSE(a["trigger_id"].get<std::string>().empty());
  }
  const json edited = c.next();
  CHECK(edited["event"] == "post_edited");
  CHECK(post_of(edited)["message"] == "Acknowledged");
  CHECK(post_of(edited)["props"]["attachments"] == attachments);  // an update without props keeps them
  REQUIRE(w.mm.post(post_id));
  CHECK(w.mm.post(post_id)->message == "Acknowledged");
  CHECK(w.mm.ephemerals().back().message == "done");
  CHECK(w.mm.ephemerals().back().root_id == post_id);
}

TEST_CASE("fake Mattermost: transport pings are answered, a silent socket is closed after pong_wait") {
  fake_mattermost::options o;
  o.ping_interval = 50ms;
  o.pong_wait = 400ms;
  world w(o);
  {
    // A client with a read pending answers pings (Beast does); its io runs on a thread while the test waits.
    mm_client c(w.mm);
    REQUIRE(c.connect());
    CHECK(c.next()["event"] == "hello");
    asio::co_spawn(c.io, c.ws.read(), asio::detached);
    std::thread client([&c] { c.io.run(); });
    CHECK(w.mm.wait_until([&] { return w.mm.pongs_received() >= 3; }));
    CHECK(w.mm.live_connections() == 1);
    c.io.stop();
    client.join();
  }
  {
    // A client that never reads never answers: closed once pong_wait has passed.
    const auto before = w.mm.pongs_received();
    mm_client c(w.mm);
    REQUIRE(c.connect());
    CHECK(w.mm.wait_until([&] { return w.mm.live_connections() == 0; }, 5s));
    CHECK(w.mm.pongs_received() == before);
  }
}

TEST_CASE("fake Mattermost: with bad_reconnect_is_400 a connection_id without sequence_number is refused with 400") {
  fake_mattermost::options o;
  o.bad_reconnect_is_400 = true;
  world w(o);
  mm_client c(w.mm);
  REQUIRE(c.connect());
  const std::string connection = c.next()["data"]["connection_id"];
  w.mm.drop_connections();
  CHECK(c.closed_by_server());
  CHECK_FALSE(c.connect("?connection_id=" + connection));
  CHECK(c.ws.last_handshake_status() == 400);
  CHECK_FALSE(c.connect("?connection_id=not-an-id&sequence_number=1"));
  CHECK(c.ws.last_handshake_status() == 400);
  CHECK(w.mm.rejected_reconnects() == 2);
}
