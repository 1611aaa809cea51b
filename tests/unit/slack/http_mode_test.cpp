// Slack over HTTP end to end on 127.0.0.1: net::http_server + slack::http_mode + a real runtime::host on SQLite
// (":memory:"), driven by net::http_client. Signed requests are stored, unsigned or stale ones get 401 and leave
// the store as it was; events are answered after they are stored, once per event_id.
#include "slack/http_mode.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <atomic>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "../core/fake_store.hpp"
#include "net/http_client.hpp"
#include "net/tls.hpp"
#include "run_coro_test.hpp"
#include "slack/signature.hpp"
#include "slack_test_util.hpp"
#include "storage/sqlite_store.hpp"

using namespace kintsugi;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using kintsugi::test::run_coro_test;
using slack_test::fixture;
using slack_test::form_fixture;
using namespace std::chrono_literals;

namespace {

const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr std::int64_t vector_ts = 1531420618;
const std::string vector_trigger = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const std::string message_source = "C01N9PM1D53:1613563664.001200";

core::timestamp at_seconds(std::int64_t s) { return core::timestamp{std::chrono::seconds{s}}; }

std::string form_value(std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string slash_body(std::string_view channel, std::string_view user, std::string_view text, std::string_view trigger) {
  return "team_id=T01ND2P8N91&channel_id=" + form_value(channel) + "&user_id=" + form_value(user) +
         "&command=%2Fincident&text=" + form_value(text) + "&response_url=https%3A%2F%2Fhooks.slack.com%2Fx&trigger_id=" +
         form_value(trigger);
}

// A store that can fail or be slow to remember events (the first step of storing one).
class test_store : public kintsugi::test::core_fakes::fake_store {
 public:
  bool fail = false;
  std::chrono::milliseconds delay{0};
  std::atomic<int> remembered{0};
  bool remember_event(std::string_view key, core::timestamp at) override {
    std::this_thread::sleep_for(delay);
    if (fail) throw core::store_error("disk I/O error");
    ++remembered;
    return fake_store::remember_event(key, at);
  }
};

struct mode_fixture {
  explicit mode_fixture(core::store& s, std::chrono::milliseconds ack_within = 2500ms)
      : engine(s, {}), host(s, engine), mode(settings(ack_within), host, log) {
    log->set_level(spdlog::level::trace);
    mode.attach(server);
    REQUIRE(server.listen("127.0.0.1:0"));
    asio::co_spawn(io, server.run(), asio::detached);
    client.emplace(io.get_executor(), tls, net::parse_url("http://127.0.0.1:" + std::to_string(server.port())).value());
  }
  ~mode_fixture() { server.stop(); }

  slack::http_settings settings(std::chrono::milliseconds ack_within) {
    slack::http_settings s;
    s.signing_secret = secret;
    s.clock = [this] { return now; };
    s.command_ack_within = ack_within;
    s.stored = [this](const std::vector<core::event>& events) { seen.insert(seen.end(), events.begin(), events.end()); };
    return s;
  }

  core::timestamp now = at_seconds(vector_ts);
  std::vector<core::event> seen;  // what the `stored` hook was told
  asio::io_context io;
  std::ostringstream log_text;
  std::shared_ptr<spdlog::logger> log =
      std::make_shared<spdlog::logger>("slack", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text));
  core::engine engine;
  runtime::host host;
  net::http_server server{io.get_executor(), {}, log};
  slack::http_mode mode;
  asio::ssl::context tls = net::make_client_context();
  std::optional<net::http_client> client;
};

net::http_request signed_post(std::string body, std::string content_type, std::int64_t ts) {
  net::http_request req;
  req.method = http::verb::post;
  req.target = "/slack/events";
  req.content_type = std::move(content_type);
  req.headers.push_back({"X-Slack-Request-Timestamp", std::to_string(ts)});
  req.headers.push_back({"X-Slack-Signature", slack::sign_request(secret, std::to_string(ts), body)});
  req.body = std::move(body);
  return req;
}
net::http_request signed_form(std::string body, std::int64_t ts = vector_ts) {
  return signed_post(std::move(body), "application/x-www-form-urlencoded", ts);
}
net::http_request signed_json(std::string body, std::int64_t ts = vector_ts) {
  return signed_post(std::move(body), "application/json", ts);
}

asio::awaitable<net::http_response> send(mode_fixture& f, net::http_request req) {
  auto r = co_await f.client->request(std::move(req));
  REQUIRE(r.has_value());
  co_return std::move(*r);
}

// Whether `key` was already in the inbox (and from now on it is). The work is a named std::function: GCC 12
// destroys a temporary one built inside a co_await expression twice.
asio::awaitable<bool> was_stored(mode_fixture& f, std::string key) {
  std::function<bool(core::store&)> work = [key](core::store& s) { return s.remember_event(key, {}); };
  co_return !co_await f.host.run<bool>(std::move(work));
}

struct snapshot {
  std::size_t incidents = 0;
  std::size_t outbox = 0;
  bool operator==(const snapshot&) const = default;
};
asio::awaitable<snapshot> take_snapshot(mode_fixture& f) {
  std::function<snapshot(core::store&)> work = [](core::store& s) {
    return snapshot{s.open_incidents().size(), s.pending(1000).size()};
  };
  co_return co_await f.host.run<snapshot>(std::move(work));
}

asio::awaitable<std::size_t> entries_from(mode_fixture& f, std::string source) {
  std::function<std::size_t(core::store&)> work = [source](core::store& s) {
    std::size_t n = 0;
    for (const auto& inc : s.open_incidents())
      for (const auto& e : s.timeline(inc.id))
        if (e.source_id == source) ++n;
    return n;
  };
  co_return co_await f.host.run<std::size_t>(std::move(work));
}

asio::awaitable<void> signing_vector(mode_fixture& f) {
  auto v = nlohmann::json::parse(fixture("slash_commands/request_signing_vector.json"));
  f.now = at_seconds(v["verifier_clock_now"].get<std::int64_t>());
  net::http_request req;
  req.method = http::verb::post;
  req.target = "/slack/events";
  req.content_type = "application/x-www-form-urlencoded";
  req.headers.push_back({"X-Slack-Request-Timestamp", v["x_slack_request_timestamp"].get<std::string>()});
  req.headers.push_back({"X-Slack-Signature", v["x_slack_signature"].get<std::string>()});
  req.body = v["body"].get<std::string>();
  auto res = co_await send(f, req);
  CHECK(res.status == 200);
  CHECK(res.body.empty());
  CHECK(co_await was_stored(f, "cmd:" + vector_trigger));
}

asio::awaitable<void> refused(mode_fixture& f) {
  const auto before = co_await take_snapshot(f);
  const auto body = form_fixture("slash_commands/slash_command_body.urlencoded");
  auto tampered_body = signed_form(body);
  tampered_body.body += "&text=start+evil";
  CHECK((co_await send(f, tampered_body)).status == 401);
  auto tampered_signature = signed_form(body);
  auto& sig = tampered_signature.headers[1].value;
  sig.back() = sig.back() == '0' ? '1' : '0';
  CHECK((co_await send(f, tampered_signature)).status == 401);
  auto unsigned_request = signed_form(body);
  unsigned_request.headers.pop_back();
  CHECK((co_await send(f, unsigned_request)).status == 401);
  auto no_timestamp = signed_form(body);
  no_timestamp.headers.erase(no_timestamp.headers.begin());
  CHECK((co_await send(f, no_timestamp)).status == 401);
  auto json_tampered = signed_json(fixture("events/event_callback_message.json"));
  json_tampered.body[json_tampered.body.find("test message")] = 'T';
  CHECK((co_await send(f, json_tampered)).status == 401);
  CHECK(co_await take_snapshot(f) == before);
  CHECK(f.seen.empty());
  auto sc = slack::decode_slash_command(body, {});
  CHECK_FALSE(co_await was_stored(f, "cmd:" + sc.invoked.id));
}

asio::awaitable<void> stale(mode_fixture& f) {
  auto body = slash_body("C1", "U1", "help", "t-stale");
  f.now = at_seconds(vector_ts + 301);
  CHECK((co_await send(f, signed_form(body))).status == 401);
  f.now = at_seconds(vector_ts - 301);
  CHECK((co_await send(f, signed_form(body))).status == 401);
  CHECK_FALSE(co_await was_stored(f, "cmd:t-stale"));
  f.now = at_seconds(vector_ts + 299);
  auto body2 = slash_body("C1", "U1", "help", "t-fresh");
  CHECK((co_await send(f, signed_form(body2))).status == 200);
  CHECK(co_await was_stored(f, "cmd:t-fresh"));
}

asio::awaitable<void> url_verification(mode_fixture& f) {
  auto res = co_await send(f, signed_json(fixture("events/url_verification.json")));
  CHECK(res.status == 200);
  CHECK(res.body == "here-comes-a-challenge");
}

asio::awaitable<void> message_without_incident(mode_fixture& f) {
  auto res = co_await send(f, signed_json(fixture("events/event_callback_message.json")));
  CHECK(res.status == 200);
  CHECK(co_await take_snapshot(f) == snapshot{});
  CHECK(co_await entries_from(f, message_source) == 0);
}

asio::awaitable<void> message_in_incident(mode_fixture& f) {
  auto start = co_await send(f, signed_form(slash_body("C01N9PM1D53", "U01NK1K9L68", "start DB down", "t-start")));
  CHECK(start.status == 200);
  CHECK(start.body.empty());
  CHECK((co_await take_snapshot(f)).incidents == 1);
  const auto event = fixture("events/event_callback_message.json");
  auto first = co_await send(f, signed_json(event));
  CHECK(first.status == 200);
  auto retry = signed_json(event);
  retry.headers.push_back({"X-Slack-Retry-Num", "1"});
  retry.headers.push_back({"X-Slack-Retry-Reason", "http_timeout"});
  auto second = co_await send(f, retry);
  CHECK(second.status == 200);
  CHECK(co_await entries_from(f, message_source) == 1);
  REQUIRE(f.seen.size() >= 2);
  CHECK(std::holds_alternative<core::command_invoked>(f.seen[0]));
  CHECK(std::get<core::message_posted>(f.seen[1]).id == message_source);
}

asio::awaitable<void> interactivity(mode_fixture& f) {
  const auto before = co_await take_snapshot(f);
  auto foreign = co_await send(f, signed_form(form_fixture("interactivity/block_actions_button_body.urlencoded")));
  CHECK(foreign.status == 200);
  CHECK(co_await take_snapshot(f) == before);
  const std::string payload =
      R"({"type":"block_actions","user":{"id":"U1"},"channel":{"id":"C1"},"trigger_id":"t-button",)"
      R"("actions":[{"action_id":"kintsugi.command","value":"help","action_ts":"1531420618.000100"}]})";
  auto ours = co_await send(f, signed_form("payload=" + form_value(payload)));
  CHECK(ours.status == 200);
  CHECK(co_await was_stored(f, "cmd:t-button"));
}

asio::awaitable<void> other_routes(mode_fixture& f) {
  net::http_request health;
  health.target = "/healthz";
  auto ok = co_await send(f, health);
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok");
  net::http_request get_events;
  get_events.target = "/slack/events";
  CHECK((co_await send(f, get_events)).status == 405);
  auto nowhere = signed_json("{}");
  nowhere.target = "/slack/elsewhere";
  CHECK((co_await send(f, nowhere)).status == 404);
  auto garbage = signed_post("\x01\x02", "application/octet-stream", vector_ts);
  auto bad = co_await send(f, garbage);
  CHECK(bad.status == 400);
  CHECK(bad.header("X-Slack-No-Retry") == "1");
}

asio::awaitable<void> store_fails(mode_fixture& f, test_store& s) {
  s.fail = true;
  auto event = co_await send(f, signed_json(fixture("events/event_callback_message.json")));
  CHECK(event.status == 500);
  auto command = co_await send(f, signed_form(slash_body("C1", "U1", "help", "t-fail")));
  CHECK(command.status == 200);
  CHECK(command.body.find("could not save") != std::string::npos);
  s.fail = false;
  CHECK((co_await send(f, signed_json(fixture("events/event_callback_message.json")))).status == 200);
}

asio::awaitable<void> slow_store(mode_fixture& f, test_store& s) {
  s.delay = 1200ms;
  const auto started = std::chrono::steady_clock::now();
  auto res = co_await send(f, signed_form(slash_body("C1", "U1", "help", "t-slow")));
  CHECK(res.status == 200);
  CHECK(std::chrono::steady_clock::now() - started < 900ms);
  CHECK(s.remembered.load() == 0);
  asio::steady_timer wait{f.io, 1500ms};
  co_await wait.async_wait(asio::use_awaitable);
  CHECK(s.remembered.load() == 1);  // stored all the same
}

}  // namespace

TEST_SUITE("slack http mode") {
TEST_CASE("the signing vector's slash command is accepted and stored") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, signing_vector(f));
}

TEST_CASE("a tampered body or signature, or a missing header: 401 and the store unchanged") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, refused(f));
  CHECK(f.log_text.str().find("bad_signature") != std::string::npos);
  CHECK(f.log_text.str().find("evil") == std::string::npos);
}

TEST_CASE("a timestamp more than 5 minutes away: 401") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, stale(f));
}

TEST_CASE("url_verification is answered with the challenge") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, url_verification(f));
}

TEST_CASE("a message outside any incident: 200 and nothing stored") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, message_without_incident(f));
}

TEST_CASE("a message in an incident channel is stored once, retries included") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, message_in_incident(f));
}

TEST_CASE("interactivity: kintsugi's buttons become commands, other buttons are only acknowledged") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, interactivity(f));
}

TEST_CASE("healthz, other methods and paths, unreadable bodies") {
  storage::sqlite_store db{":memory:"};
  mode_fixture f{db};
  run_coro_test(f.io, other_routes(f));
}

TEST_CASE("a store error answers 500 for events (Slack retries) and tells the user for commands") {
  test_store s;
  mode_fixture f{s};
  run_coro_test(f.io, store_fails(f, s));
}

TEST_CASE("a slash command is acknowledged in time even when storing is slow, and still stored") {
  test_store s;
  mode_fixture f{s, 200ms};
  run_coro_test(f.io, slow_store(f, s));
}

TEST_CASE("requests are told apart by content type and body") {
  using slack::classify_request;
  using slack::request_kind;
  CHECK(classify_request("application/json", R"({"type":"event_callback"})") == request_kind::events);
  CHECK(classify_request("", " {\"type\":\"url_verification\"}") == request_kind::events);
  CHECK(classify_request("application/json", "token=x") == request_kind::unknown);
  CHECK(classify_request("application/x-www-form-urlencoded", "payload=%7B%7D") == request_kind::interactivity);
  CHECK(classify_request("application/x-www-form-urlencoded", "command=%2Fincident&text=help") ==
        request_kind::slash_command);
  CHECK(classify_request("application/x-www-form-urlencoded", "") == request_kind::unknown);
}
}
