// The keep-alive HTTP client against the loopback fake server: TLS verification, keep-alive and
// reconnects, timeouts as values, 429 with Retry-After, and what it logs.
#include "net/http_client.hpp"

#include "net_test_support.hpp"

#include <doctest/doctest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace net = kintsugi::net;
using kintsugi::test::fake_tls_server;
using kintsugi::test::http_request_t;
using kintsugi::test::http_response_t;
using kintsugi::test::make_response;
using kintsugi::test::net_fixture;
using kintsugi::test::run_coro_test;
using kintsugi::test::url_of;
using namespace std::chrono_literals;

namespace {

std::optional<http_response_t> answer_ok(const http_request_t&) {
  return make_response(http::status::ok, R"({"ok":true})");
}

std::optional<http_response_t> echo(const http_request_t& request) {
  auto response = make_response(http::status::ok, request.body(), std::string(request[http::field::content_type]));
  response.set("X-Seen-Authorization", request[http::field::authorization]);
  return response;
}

std::optional<http_response_t> never_answer(const http_request_t&) { return std::nullopt; }

std::optional<http_response_t> rate_limited(const http_request_t&) {
  auto response = make_response(http::status::too_many_requests, R"({"ok":false,"error":"ratelimited"})");
  response.set(http::field::retry_after, "7");
  return response;
}

std::optional<http_response_t> answer_and_close(const http_request_t&) {
  auto response = make_response(http::status::ok, "bye");
  response.keep_alive(false);
  return response;
}

std::optional<http_response_t> answer_exact(const http_request_t&) { return make_response(http::status::ok, "exact"); }
std::optional<http_response_t> answer_prefix(const http_request_t& request) {
  return make_response(http::status::ok, "prefix " + std::string(request.target()));
}

net::http_request get(std::string target) {
  net::http_request req;
  req.target = std::move(target);
  return req;
}

// Sends `count` GETs one after the other and returns how many got a 200.
asio::awaitable<int> sequential_gets(net::http_client* client, int count) {
  int ok = 0;
  for (int i = 0; i < count; ++i) {
    auto res = co_await client->request(get("/api/ping"));
    if (res && res->status == 200) ++ok;
  }
  co_return ok;
}

// Three requests started together on one client.
asio::awaitable<int> concurrent_gets(net::http_client* client) {
  using namespace asio::experimental::awaitable_operators;
  auto [a, b, c] = co_await (client->request(get("/api/ping")) && client->request(get("/api/ping")) &&
                             client->request(get("/api/ping")));
  co_return (a && a->status == 200) + (b && b->status == 200) + (c && c->status == 200);
}

// GETs each target in turn and returns "<status> <body>" for each.
asio::awaitable<std::vector<std::string>> get_each(net::http_client* client, std::vector<std::string> targets) {
  std::vector<std::string> out;
  for (auto& target : targets) {
    auto res = co_await client->request(get(target));
    out.push_back(res ? std::to_string(res->status) + " " + res->body : "error " + res.error().message());
  }
  co_return out;
}

struct timed_result {
  kintsugi::result<net::http_response> first;
  kintsugi::result<net::http_response> second;
  std::chrono::steady_clock::duration elapsed{};
};

// A request that times out, then one that must still work on the same client.
asio::awaitable<timed_result> timeout_then_ok(net::http_client* client) {
  timed_result out;
  const auto start = std::chrono::steady_clock::now();
  out.first = co_await client->request(get("/slow"));
  out.elapsed = std::chrono::steady_clock::now() - start;
  out.second = co_await client->request(get("/api/ping"));
  co_return out;
}

}  // namespace

TEST_CASE("http_client: an https request verified against the test CA, headers and body both ways") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on(http::verb::post, "/api/chat.postMessage", echo);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https", "/api/", "localhost")), {},
                          f.log);

  net::http_request req;
  req.method = http::verb::post;
  req.target = "/api/chat.postMessage?trace=1";
  req.headers.push_back({"Authorization", "Bearer xoxb-secret-token"});
  req.body = R"({"channel":"C1","text":"hello"})";
  req.content_type = "application/json; charset=utf-8";
  const auto res = run_coro_test(f.io, client.request(req));

  REQUIRE(res.has_value());
  CHECK(res->status == 200);
  CHECK(res->body == req.body);
  CHECK(res->header("Content-Type") == "application/json; charset=utf-8");
  CHECK(res->header("X-Seen-Authorization") == "Bearer xoxb-secret-token");
  REQUIRE(server.requests().size() == 1);
  const auto& seen = server.requests()[0].request;
  CHECK(seen.method() == http::verb::post);
  CHECK(seen.target() == "/api/chat.postMessage?trace=1");
  CHECK(seen[http::field::host] == "localhost:" + std::to_string(server.port()));
  CHECK(seen[http::field::user_agent] == "kintsugi");

  // Logged at debug: method, host, path and status; never the token, the body or the query.
  const std::string logged = f.log_text.str();
  CHECK(logged.find("POST localhost:" + std::to_string(server.port()) + "/api/chat.postMessage status=200") !=
        std::string::npos);
  CHECK(logged.find("xoxb-secret-token") == std::string::npos);
  CHECK(logged.find("hello") == std::string::npos);
  CHECK(logged.find("trace=1") == std::string::npos);
}

TEST_CASE("http_client: plain http to 127.0.0.1") {
  net_fixture f;
  fake_tls_server server(f.io);
  server.on(http::verb::get, "/api/ping", answer_ok);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("http")), {}, f.log);
  const auto res = run_coro_test(f.io, client.request(get("/api/ping")));
  REQUIRE(res.has_value());
  CHECK(res->status == 200);
  CHECK(res->body == R"({"ok":true})");
}

TEST_CASE("http_client: a certificate from a CA we do not trust is refused") {
  net_fixture f;
  kintsugi::test::tls_test_ca other("another CA");
  fake_tls_server server(f.io, other.server_context());
  server.on(http::verb::get, "/api/ping", answer_ok);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")), {}, f.log);
  const auto res = run_coro_test(f.io, client.request(get("/api/ping")));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error() == net::errc::certificate_untrusted);
  CHECK(server.requests().empty());
}

TEST_CASE("http_client: a trusted certificate for another name is refused") {
  net_fixture f;
  SUBCASE("by IP address") {
    fake_tls_server server(f.io, f.ca.server_context({"other.invalid"}, {}));
    net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")), {}, f.log);
    const auto res = run_coro_test(f.io, client.request(get("/")));
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error() == net::errc::hostname_mismatch);
  }
  SUBCASE("by name") {
    fake_tls_server server(f.io, f.ca.server_context({}, {"127.0.0.1"}));
    net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https", "/", "localhost")), {},
                            f.log);
    const auto res = run_coro_test(f.io, client.request(get("/")));
    REQUIRE_FALSE(res.has_value());
    CHECK(res.error() == net::errc::hostname_mismatch);
  }
}

TEST_CASE("http_client: keep-alive sends three requests on one connection") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on(http::verb::get, "/api/ping", answer_ok);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")), {}, f.log);
  CHECK(run_coro_test(f.io, sequential_gets(&client, 3)) == 3);
  CHECK(server.accepted() == 1);
  CHECK(client.connections_opened() == 1);
  REQUIRE(server.requests().size() == 3);
  CHECK(server.requests()[2].connection == 1);
}

TEST_CASE("http_client: concurrent requests take turns on the one connection") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on(http::verb::get, "/api/ping", answer_ok);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")), {}, f.log);
  CHECK(run_coro_test(f.io, concurrent_gets(&client)) == 3);
  CHECK(server.accepted() == 1);
  CHECK(server.requests().size() == 3);
}

TEST_CASE("http_client: reconnects when the server closed the kept connection") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on(http::verb::get, "/api/ping", answer_ok);
  server.close_after_response(true);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")), {}, f.log);
  CHECK(run_coro_test(f.io, sequential_gets(&client, 3)) == 3);
  CHECK(server.accepted() == 3);
  CHECK(client.connections_opened() == 3);
}

TEST_CASE("http_client: a response with Connection: close is not reused") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on(http::verb::get, "/bye", answer_and_close);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")), {}, f.log);
  const auto out = run_coro_test(f.io, get_each(&client, {"/bye", "/bye"}));
  CHECK(out == std::vector<std::string>{"200 bye", "200 bye"});
  CHECK(server.accepted() == 2);
  CHECK(client.connections_opened() == 2);
}

TEST_CASE("fake_tls_server: exact routes win over prefix routes, the rest is 404") {
  net_fixture f;
  fake_tls_server server(f.io);
  server.on(http::verb::get, "/api/*", answer_prefix);
  server.on(http::verb::get, "/api/users.info", answer_exact);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("http")), {}, f.log);
  const auto out = run_coro_test(f.io, get_each(&client, {"/api/users.info?user=U1", "/api/other", "/elsewhere"}));
  CHECK(out == std::vector<std::string>{"200 exact", "200 prefix /api/other", "404 not found"});
  REQUIRE(server.requests().size() == 3);
  CHECK(server.requests()[0].request.target() == "/api/users.info?user=U1");
}

TEST_CASE("http_client: the request timeout also bounds connecting") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.set_silent(true);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")),
                          {.connect_timeout = 10s, .request_timeout = 200ms}, f.log);
  const auto res = run_coro_test(f.io, client.request(get("/")));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error() == net::errc::timeout);
}

TEST_CASE("http_client: a server that never answers is a timeout value within the bound") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on(http::verb::get, "/slow", never_answer);
  server.on(http::verb::get, "/api/ping", answer_ok);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")),
                          {.connect_timeout = 2s, .request_timeout = 200ms}, f.log);
  const auto out = run_coro_test(f.io, timeout_then_ok(&client));
  REQUIRE_FALSE(out.first.has_value());
  CHECK(out.first.error() == net::errc::timeout);
  CHECK(out.elapsed >= 150ms);
  CHECK(out.elapsed < 2s);
  REQUIRE(out.second.has_value());
  CHECK(out.second->status == 200);
  CHECK(server.accepted() == 2);
}

TEST_CASE("http_client: a server that never does the TLS handshake is a timeout") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.set_silent(true);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")),
                          {.connect_timeout = 200ms, .request_timeout = 5s}, f.log);
  const auto res = run_coro_test(f.io, client.request(get("/")));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error() == net::errc::timeout);
}

TEST_CASE("http_client: connection refused is a value") {
  net_fixture f;
  // Bound but not listening: the port stays ours and every connect is refused.
  asio::ip::tcp::acceptor closed_port(f.io);
  closed_port.open(asio::ip::tcp::v4());
  closed_port.bind({asio::ip::make_address("127.0.0.1"), 0});
  const auto port = closed_port.local_endpoint().port();
  net::http_client client(f.io.get_executor(), f.client_tls, url_of("http://127.0.0.1:" + std::to_string(port)), {},
                          f.log);
  const auto res = run_coro_test(f.io, client.request(get("/")));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error() == net::errc::connect_failed);
}

TEST_CASE("http_client: 429 is a response and its Retry-After is parsed") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on(http::verb::post, "/api/chat.postMessage", rate_limited);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("https")), {}, f.log);
  net::http_request req;
  req.method = http::verb::post;
  req.target = "/api/chat.postMessage";
  const auto res = run_coro_test(f.io, client.request(req));
  REQUIRE(res.has_value());
  CHECK(res->status == 429);
  CHECK(res->header("Retry-After") == "7");
  CHECK(res->retry_after() == std::chrono::seconds(7));
}

TEST_CASE("http_client: a body over the limit is refused") {
  net_fixture f;
  fake_tls_server server(f.io);
  server.on(http::verb::get, "/api/ping", answer_ok);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("http")), {.body_limit = 4}, f.log);
  const auto res = run_coro_test(f.io, client.request(get("/api/ping")));
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error() == net::errc::message_too_big);
}

TEST_CASE("http_client: an unknown path is a 404 response, not an error") {
  net_fixture f;
  fake_tls_server server(f.io);
  net::http_client client(f.io.get_executor(), f.client_tls, url_of(server.url("http")), {}, f.log);
  const auto res = run_coro_test(f.io, client.request(get("/nowhere")));
  REQUIRE(res.has_value());
  CHECK(res->status == 404);
}

TEST_CASE("parse_retry_after: seconds and HTTP dates") {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);  // Tue, 14 Nov 2023 22:13:20 GMT
  CHECK(net::parse_retry_after("30", now) == std::chrono::seconds(30));
  CHECK(net::parse_retry_after(" 0 ", now) == std::chrono::seconds(0));
  CHECK(net::parse_retry_after("Tue, 14 Nov 2023 22:14:00 GMT", now) == std::chrono::seconds(40));
  CHECK(net::parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == std::chrono::seconds(0));
  CHECK_FALSE(net::parse_retry_after("-5", now));
  CHECK_FALSE(net::parse_retry_after("soon", now));
  CHECK_FALSE(net::parse_retry_after("", now));
  CHECK_FALSE(net::parse_retry_after("Tue, 14 Foo 2023 22:14:00 GMT", now));
}

TEST_CASE("make_client_context: a missing CA file is a clear startup error") {
  CHECK_THROWS_WITH_AS(net::make_client_context("/nonexistent/ca.pem"),
                       doctest::Contains("/nonexistent/ca.pem"), std::runtime_error);
  CHECK_NOTHROW(net::make_client_context(""));
}
