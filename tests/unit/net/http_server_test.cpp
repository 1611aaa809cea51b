// The bot's own HTTP server on 127.0.0.1:0, driven by a raw Beast client: routes, 404/405, keep-alive,
// the body limit, handlers that throw, slow clients, listen errors, stop() and what it logs.
#include "net/http_server.hpp"

#include "net_test_support.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = kintsugi::net;
using asio::ip::tcp;
using kintsugi::test::net_fixture;
using kintsugi::test::run_coro_test;
using namespace std::chrono_literals;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// A client that writes raw bytes and reads Beast responses, on one connection.
struct raw_client {
  explicit raw_client(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;

  asio::awaitable<void> connect(std::uint16_t port) {
    co_await stream.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
  }
  asio::awaitable<void> send(std::string raw) {
    co_await asio::async_write(stream, asio::buffer(raw), asio::use_awaitable);
  }
  // The next response, or status 0 when the connection ended first.
  asio::awaitable<http::response<http::string_body>> read() {
    http::response<http::string_body> res;
    stream.expires_after(5s);
    auto [ec, n] = co_await http::async_read(stream, buffer, res, use_tuple);
    if (ec) res.result(0u);
    co_return res;
  }
  asio::awaitable<http::response<http::string_body>> exchange(std::string raw) {
    co_await send(std::move(raw));
    co_return co_await read();
  }
  // Whether the server closed the connection (EOF or reset) within `wait`.
  asio::awaitable<bool> closed_within(std::chrono::milliseconds wait) {
    stream.expires_after(wait);
    char byte = 0;
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(&byte, 1), use_tuple);
    co_return ec && ec != beast::error::timeout;
  }
};

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
}
std::string post(std::string_view target, std::string_view body) {
  return "POST " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nX-Secret: hunter2\r\n\r\n" + std::string(body);
}

asio::awaitable<net::http_reply> hello(net::incoming_request r) {
  co_return net::http_reply::text(200, "hello " + r.path + " " + r.target);
}

// Echoes the body and a header looked up in another case than it was sent.
asio::awaitable<net::http_reply> echo(net::incoming_request r) {
  auto reply = net::http_reply::text(200, r.body);
  reply.headers.push_back({"X-Echo-Secret", std::string(r.header("x-secret"))});
  reply.headers.push_back({"X-Echo-Remote", r.remote});
  reply.headers.push_back({"X-Echo-Media", r.media_type()});
  co_return reply;
}

asio::awaitable<net::http_reply> boom(net::incoming_request) {
  throw std::runtime_error("the handler broke");
  co_return net::http_reply{};
}

struct fixture {
  std::ostringstream log_text;
  asio::io_context io;
  net::http_server server;

  explicit fixture(net::http_server_config cfg = {})
      : server(io.get_executor(), cfg, net_fixture::make_logger(log_text)) {
    server.on(http::verb::get, "/hello", hello);
    server.on(http::verb::post, "/echo", echo);
    server.on(http::verb::put, "/echo", echo);
    server.on(http::verb::get, "/boom", boom);
    REQUIRE(server.listen("127.0.0.1:0"));
    asio::co_spawn(io, server.run(), asio::detached);
  }
};

asio::awaitable<void> routes(fixture& f) {
  raw_client c{f.io};
  co_await c.connect(f.server.port());
  auto ok = co_await c.exchange(get("/hello?x=1"));
  CHECK(ok.result_int() == 200);
  CHECK(ok.body() == "hello /hello /hello?x=1");
  auto missing = co_await c.exchange(get("/nope"));
  CHECK(missing.result_int() == 404);
  auto wrong_method = co_await c.exchange(post("/hello", "x"));
  CHECK(wrong_method.result_int() == 405);
  CHECK(wrong_method[http::field::allow] == "GET");
  auto wrong_on_echo = co_await c.exchange(get("/echo"));
  CHECK(wrong_on_echo.result_int() == 405);
  CHECK(wrong_on_echo[http::field::allow] == "POST, PUT");
}

asio::awaitable<void> keep_alive(fixture& f) {
  raw_client c{f.io};
  co_await c.connect(f.server.port());
  auto first = co_await c.exchange(post("/echo", "one"));
  auto second = co_await c.exchange(post("/echo", "two"));
  CHECK(first.result_int() == 200);
  CHECK(first.body() == "one");
  CHECK(first["X-Echo-Secret"] == "hunter2");
  CHECK(first["X-Echo-Media"] == "text/plain");
  CHECK(std::string(first["X-Echo-Remote"]).starts_with("127.0.0.1:"));
  CHECK(second.result_int() == 200);
  CHECK(second.body() == "two");
  CHECK(second.keep_alive());
  CHECK(f.server.open_connections() == 1);
  // Connection: close is honoured.
  auto last = co_await c.exchange("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(last.result_int() == 200);
  CHECK(co_await c.closed_within(1s));
}

asio::awaitable<void> body_limit(fixture& f) {
  raw_client a{f.io};
  co_await a.connect(f.server.port());
  auto at_limit = co_await a.exchange(post("/echo", std::string(1024, 'a')));
  CHECK(at_limit.result_int() == 200);
  auto too_big = co_await a.exchange(post("/echo", std::string(1025, 'b')));
  CHECK(too_big.result_int() == 413);
  CHECK(co_await a.closed_within(2s));

  raw_client b{f.io};  // chunked, so the size is only known while reading
  co_await b.connect(f.server.port());
  std::string chunk(800, 'c');
  auto chunked = co_await b.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk +
                                     "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n");
  CHECK(chunked.result_int() == 413);
}

asio::awaitable<void> handler_throws(fixture& f) {
  raw_client c{f.io};
  co_await c.connect(f.server.port());
  auto broken = co_await c.exchange(get("/boom"));
  CHECK(broken.result_int() == 500);
  CHECK(broken.body() == "internal server error\n");
  auto after = co_await c.exchange(get("/hello"));  // same connection
  CHECK(after.result_int() == 200);
  raw_client d{f.io};
  co_await d.connect(f.server.port());
  CHECK((co_await d.exchange(get("/hello"))).result_int() == 200);
}

asio::awaitable<void> slow_client(fixture& f) {
  raw_client slow{f.io};
  co_await slow.connect(f.server.port());
  co_await slow.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le");  // ... and nothing more
  raw_client fast{f.io};
  const auto started = std::chrono::steady_clock::now();
  co_await fast.connect(f.server.port());
  auto res = co_await fast.exchange(get("/hello"));
  CHECK(res.result_int() == 200);
  CHECK(std::chrono::steady_clock::now() - started < 700ms);  // well before the slow one's timeout
  // The slow one is cut off after the header timeout; so is one that stops in the middle of its body.
  CHECK(co_await slow.closed_within(3s));
  raw_client stalled{f.io};
  co_await stalled.connect(f.server.port());
  co_await stalled.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  CHECK(co_await stalled.closed_within(3s));
}

asio::awaitable<void> stops(fixture& f) {
  raw_client c{f.io};
  co_await c.connect(f.server.port());
  CHECK((co_await c.exchange(get("/hello"))).result_int() == 200);
  f.server.stop();
  CHECK(co_await c.closed_within(1s));
  raw_client late{f.io};
  auto [ec] = co_await late.stream.async_connect(tcp::endpoint{asio::ip::make_address("127.0.0.1"), f.server.port()},
                                                 use_tuple);
  CHECK(ec);
}

}  // namespace

TEST_CASE("http_server: routes by exact path and method, 404 and 405 with Allow") {
  fixture f;
  CHECK(f.server.port() != 0);
  run_coro_test(f.io, routes(f));
}

TEST_CASE("http_server: two requests on one kept-alive connection, headers looked up in any case") {
  fixture f;
  run_coro_test(f.io, keep_alive(f));
}

TEST_CASE("http_server: a body over the limit gets 413 and the connection is closed") {
  net::http_server_config cfg;
  cfg.body_limit = 1024;
  fixture f{cfg};
  run_coro_test(f.io, body_limit(f));
}

TEST_CASE("http_server: a handler that throws answers 500, is logged, and the server keeps answering") {
  fixture f;
  run_coro_test(f.io, handler_throws(f));
  CHECK(f.log_text.str().find("the handler broke") != std::string::npos);
}

TEST_CASE("http_server: a slow client does not hold up another, and is cut off by the timeouts") {
  net::http_server_config cfg;
  cfg.header_timeout = 1s;
  cfg.read_timeout = 1s;
  fixture f{cfg};
  run_coro_test(f.io, slow_client(f));
}

TEST_CASE("http_server: stop() closes the acceptor and the open connections") {
  fixture f;
  run_coro_test(f.io, stops(f));
}

TEST_CASE("http_server: logs method, path, status and duration at debug, never headers or bodies") {
  fixture f;
  run_coro_test(f.io, keep_alive(f));
  const auto text = f.log_text.str();
  CHECK(text.find("http POST /echo status=200 duration=") != std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("one") == std::string::npos);
}

TEST_CASE("http_server: listen errors are values with a clear message") {
  asio::io_context io;
  net::http_server first{io.get_executor()};
  REQUIRE(first.listen("127.0.0.1:0"));
  net::http_server second{io.get_executor()};
  auto busy = second.listen("127.0.0.1:" + std::to_string(first.port()));
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == asio::error::address_in_use);
  CHECK(busy.error().message.starts_with("cannot listen on 127.0.0.1:"));
  CHECK_THROWS_AS(busy.value(), boost::system::system_error);

  net::http_server third{io.get_executor()};
  auto bad = third.listen("example.com:80");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == net::errc::bad_url);
  CHECK(bad.error().message == "cannot listen on example.com:80: the host must be an IP address or localhost");
  CHECK(third.port() == 0);
}

TEST_CASE("http_server: listen addresses") {
  auto v6 = net::parse_listen_address("[::1]:0");
  REQUIRE(v6.has_value());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 0);
  auto any = net::parse_listen_address("0.0.0.0:8080");
  REQUIRE(any.has_value());
  CHECK(any->host == "0.0.0.0");
  CHECK(any->port == 8080);
  CHECK(net::parse_listen_address("localhost:3000")->host == "127.0.0.1");
  CHECK_FALSE(net::parse_listen_address("127.0.0.1").has_value());
  CHECK_FALSE(net::parse_listen_address("127.0.0.1:99999").has_value());
  CHECK_FALSE(net::parse_listen_address("::1:80").has_value());
  CHECK_FALSE(net::parse_listen_address("[::1]80").has_value());
  CHECK_FALSE(net::parse_listen_address(":80").has_value());
}
