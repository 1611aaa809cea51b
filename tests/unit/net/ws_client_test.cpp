// The websocket client against the loopback fake server: wss with an Authorization header, frames both
// ways, write_front ordering, drops, binary and malformed frames, the idle timeout, and close.
#include "net/ws_client.hpp"

#include "net_test_support.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
namespace net = kintsugi::net;
using kintsugi::test::fake_tls_server;
using kintsugi::test::http_request_t;
using kintsugi::test::http_response_t;
using kintsugi::test::make_response;
using kintsugi::test::net_fixture;
using kintsugi::test::run_coro_test;
using kintsugi::test::ws_session;
using namespace std::chrono_literals;

namespace {

using session_ptr = std::shared_ptr<ws_session>;

// What the fake server's websocket handler saw.
struct server_log {
  std::vector<std::string> received;
  bool saw_close = false;
};
using server_log_ptr = std::shared_ptr<server_log>;

std::optional<http_response_t> require_app_token(const http_request_t& request) {
  if (request[http::field::authorization] == "Bearer xapp-test") return std::nullopt;
  return make_response(http::status::unauthorized, "invalid_auth", "text/plain");
}

// Sends hello, then records `count` messages, then says bye and closes.
asio::awaitable<void> hello_collect_bye(session_ptr session, server_log_ptr log, int count) {
  co_await session->send(R"({"type":"hello"})");
  for (int i = 0; i < count; ++i) {
    auto message = co_await session->read();
    if (!message) co_return;
    log->received.push_back(*message);
  }
  co_await session->send("bye");
  co_await session->close(websocket::close_code::going_away);
}

// Records messages until the client closes.
asio::awaitable<void> collect_until_close(session_ptr session, server_log_ptr log) {
  for (;;) {
    auto message = co_await session->read();
    if (!message) break;
    log->received.push_back(*message);
  }
  log->saw_close = true;
}

asio::awaitable<void> hello_then_drop(session_ptr session) {
  co_await session->send("hello");
  session->drop();
}

asio::awaitable<void> binary_then_text(session_ptr session) {
  co_await session->send_binary(std::string("\x00\x01\x02", 3));
  co_await session->send("after binary");
  co_await session->hold();
}

// Sends a text frame that is not UTF-8, then reads: the client fails the connection with a close frame
// and a TLS close_notify, which this read answers (Beast waits for both before read() returns).
asio::awaitable<void> invalid_utf8(session_ptr session) {
  co_await session->send(std::string("\xff\xfe\xfd"));
  co_await session->read();
}

asio::awaitable<void> go_silent(session_ptr session) { co_await session->hold(); }

std::vector<net::http_header> app_token() { return {{"Authorization", "Bearer xapp-test"}}; }

struct conversation {
  bool connected = false;
  std::vector<std::string> read;
  std::error_code last_error;
  std::uint16_t close_code = 0;
};

// Connects, reads hello, acks it and writes two messages, then reads until an error.
asio::awaitable<conversation> hello_and_acks(net::ws_client* client, std::string url) {
  conversation out;
  out.connected = (co_await client->connect(url, app_token())).has_value();
  if (!out.connected) co_return out;
  for (;;) {
    auto message = co_await client->read();
    if (!message) {
      out.last_error = std::error_code(message.error().value(), std::generic_category());
      break;
    }
    out.read.push_back(*message);
    if (*message == R"({"type":"hello"})") {
      (void)client->write("one");
      (void)client->write("two");
      (void)client->write_front(R"({"envelope_id":"e1"})");
      (void)client->write_front(R"({"envelope_id":"e2"})");  // behind e1: acks keep their order
    }
  }
  out.close_code = client->close_code();
  co_return out;
}

// Connects and returns the first read() error (after any text messages).
asio::awaitable<kintsugi::result<std::string>> read_until_error(net::ws_client* client, std::string url,
                                                                std::vector<std::string>* texts) {
  auto connected = co_await client->connect(url, app_token());
  if (!connected) co_return connected.error();
  for (;;) {
    auto message = co_await client->read();
    if (!message) co_return message;
    texts->push_back(*message);
  }
}

// Connects; read() → expect binary_frame, then the text after it, with the connection still open.
asio::awaitable<std::vector<std::string>> binary_is_skipped(net::ws_client* client, std::string url) {
  std::vector<std::string> out;
  (void)co_await client->connect(url);
  auto first = co_await client->read();
  out.push_back(first ? "text:" + *first : "error:" + first.error().message());
  auto second = co_await client->read();
  out.push_back(second ? "text:" + *second : "error:" + second.error().message());
  out.push_back(client->is_open() ? "open" : "closed");
  co_return out;
}

struct timed_error {
  kintsugi::result<std::string> result;
  std::chrono::steady_clock::duration elapsed{};
};

asio::awaitable<timed_error> read_when_silent(net::ws_client* client, std::string url) {
  timed_error out;
  (void)co_await client->connect(url);
  const auto start = std::chrono::steady_clock::now();
  out.result = co_await client->read();
  out.elapsed = std::chrono::steady_clock::now() - start;
  co_return out;
}

// Connects, writes two messages, closes; the server must see both and the close.
asio::awaitable<std::vector<std::string>> write_and_close(net::ws_client* client, std::string url) {
  std::vector<std::string> out;
  (void)co_await client->connect(url);
  (void)client->write("first");
  (void)client->write("second");
  auto closed = co_await client->close();
  out.push_back(closed ? "closed" : "close error:" + closed.error().message());
  out.push_back(client->is_open() ? "open" : "not open");
  auto late = client->write("late");
  out.push_back(late ? "queued" : late.error().message());
  auto read = co_await client->read();
  out.push_back(read ? "read" : read.error().message());
  co_return out;
}

// Connects, then reads once; the read is what abort() must end.
asio::awaitable<void> connect_and_read(net::ws_client* client, std::string url, std::vector<std::string>* out) {
  auto connected = co_await client->connect(url);
  out->push_back(connected ? "connected" : "connect error:" + connected.error().message());
  if (!connected) co_return;
  auto read = co_await client->read();
  out->push_back(read ? "text:" + *read : "error:" + read.error().message());
}

// Sends hello, reads `count` messages and pings the client every 500 of them (the client's pongs are written while
// its writer is busy with a burst: any pong written beside a gathered write would garble the stream), then says bye
// and closes.
asio::awaitable<void> hello_collect_pinging(session_ptr session, server_log_ptr log, int count, int* pings) {
  co_await session->send(R"({"type":"hello"})");
  for (int i = 0; i < count; ++i) {
    auto message = co_await session->read();
    if (!message) co_return;
    log->received.push_back(*message);
    if (i % 500 == 0 && co_await session->ping()) ++*pings;
  }
  co_await session->send("bye");
  co_await session->close(websocket::close_code::going_away);
}

// Connects, reads hello, then queues every one of `burst` at once; reads until the server closes.
asio::awaitable<void> hello_then_burst(net::ws_client* client, std::string url, std::vector<std::string> burst) {
  if (!co_await client->connect(url, app_token())) co_return;
  for (;;) {
    auto message = co_await client->read();
    if (!message) break;
    if (*message != R"({"type":"hello"})") continue;
    for (std::size_t i = 0; i < burst.size(); ++i) {
      if (i % 3 == 0) (void)client->write_front(burst[i]);
      else (void)client->write(burst[i]);
    }
  }
}

// One read; what it ended with goes to `result`.
asio::awaitable<void> read_once(net::ws_client* client, std::shared_ptr<std::optional<std::string>> result) {
  auto r = co_await client->read();
  *result = r ? "text:" + *r : "error:" + r.error().message();
}

// Connects and keeps a read pending (pongs are seen while reading) for `quiet_for`, then closes. Returns whether the
// connection was still open then, and what the read ended with.
asio::awaitable<std::vector<std::string>> quiet_but_alive(net::ws_client* client, std::string url,
                                                          std::chrono::milliseconds quiet_for) {
  std::vector<std::string> out;
  if (!co_await client->connect(url)) co_return out;
  const auto ex = co_await asio::this_coro::executor;
  auto read_result = std::make_shared<std::optional<std::string>>();
  asio::co_spawn(ex, read_once(client, read_result), asio::detached);
  asio::steady_timer wait(ex, quiet_for);
  co_await wait.async_wait(asio::use_awaitable);
  out.push_back(client->is_open() ? "open" : "closed");
  out.push_back(read_result->value_or("reading"));
  (void)co_await client->close();
  co_return out;
}

}  // namespace

TEST_CASE("ws_client: abort ends a pending read or connect at once and leaves the io_context with no work") {
  // The server runs on its own thread, so that the client's io_context holds only the client's work: run()
  // returns as soon as nothing of the connection is pending (Beast's idle/ping timer included).
  net_fixture f;
  asio::io_context server_io;
  fake_tls_server server(server_io, f.ca.server_context());
  server.on_websocket("/ws", go_silent);
  auto server_work = asio::make_work_guard(server_io);
  std::thread server_thread;
  auto on_server = [&](auto fn) {  // runs fn on the server's thread and returns its result
    std::promise<decltype(fn())> result;
    asio::post(server_io, [&] { result.set_value(fn()); });
    return result.get_future().get();
  };
  struct stop_server {  // also when a REQUIRE ends the test early
    std::function<void()> stop;
    ~stop_server() { stop(); }
  } stopper{[&] {
    asio::post(server_io, [&] { server.stop(); });
    server_work.reset();
    if (server_thread.joinable()) server_thread.join();
  }};
  std::vector<std::string> steps;
  // A long idle timeout (the first ping would be 10 s away) and a long connect timeout.
  net::ws_client client(f.io.get_executor(), f.client_tls, {.connect_timeout = 20s, .idle_timeout = 20s}, f.log);
  const auto deadline = std::chrono::steady_clock::now() + 5s;

  SUBCASE("while reading") {
    server_thread = std::thread([&] { server_io.run(); });
    asio::co_spawn(f.io, connect_and_read(&client, server.url("wss", "/ws"), &steps), asio::detached);
    while (!client.is_open() && std::chrono::steady_clock::now() < deadline) f.io.run_one_for(50ms);
    REQUIRE(client.is_open());
    f.io.poll();  // the read starts and Beast arms its timer
  }
  SUBCASE("while connecting") {
    server.set_silent(true);  // accepts, never answers the TLS handshake
    server_thread = std::thread([&] { server_io.run(); });
    asio::co_spawn(f.io, connect_and_read(&client, server.url("wss", "/ws"), &steps), asio::detached);
    while (on_server([&] { return server.accepted(); }) == 0 && std::chrono::steady_clock::now() < deadline)
      f.io.run_one_for(50ms);
    REQUIRE(steps.empty());
  }

  client.abort();
  const auto start = std::chrono::steady_clock::now();
  f.io.run_for(5s);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(f.io.stopped());  // out of work, not out of time
  CHECK(took < 1s);
  CHECK_FALSE(client.is_open());
  REQUIRE_FALSE(steps.empty());
  CHECK(steps.back().find("error:") != std::string::npos);
}

TEST_CASE("ws_client: wss with an Authorization header, frames both ways, write_front first, server close") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  auto seen = std::make_shared<server_log>();
  server.on_websocket(
      "/link/", [seen](session_ptr s) { return hello_collect_bye(std::move(s), seen, 4); }, require_app_token);
  net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);

  const auto out = run_coro_test(f.io, hello_and_acks(&client, server.url("wss", "/link/?ticket=secret-ticket")));
  REQUIRE(out.connected);
  CHECK(out.read == std::vector<std::string>{R"({"type":"hello"})", "bye"});
  CHECK(seen->received == std::vector<std::string>{R"({"envelope_id":"e1"})", R"({"envelope_id":"e2"})", "one", "two"});
  CHECK(out.last_error.value() == static_cast<int>(net::errc::connection_closed));
  CHECK(out.close_code == 1001);
  CHECK_FALSE(client.is_open());
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].request[http::field::authorization] == "Bearer xapp-test");
  CHECK(server.requests()[0].request.target() == "/link/?ticket=secret-ticket");
  // Neither the token nor the ticket reach the log.
  CHECK(f.log_text.str().find("xapp-test") == std::string::npos);
  CHECK(f.log_text.str().find("secret-ticket") == std::string::npos);
  CHECK(f.log_text.str().find("ws connected host=127.0.0.1:" + std::to_string(server.port()) + " path=/link/") !=
        std::string::npos);
}

TEST_CASE("ws_client: an upgrade refused by the server is handshake_rejected with its status") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on_websocket("/link/", go_silent, require_app_token);
  net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
  const auto connected = run_coro_test(f.io, client.connect(server.url("wss", "/link/"), {{"Authorization", "Bearer wrong"}}));
  REQUIRE_FALSE(connected.has_value());
  CHECK(connected.error() == net::errc::handshake_rejected);
  CHECK(client.last_handshake_status() == 401);
  CHECK_FALSE(client.is_open());
  CHECK(client.write("x").error() == net::errc::not_connected);
}

TEST_CASE("ws_client: wss refuses an untrusted certificate, bad URLs are values") {
  net_fixture f;
  kintsugi::test::tls_test_ca other("another CA");
  fake_tls_server server(f.io, other.server_context());
  server.on_websocket("/link/", go_silent);
  net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
  const auto connected = run_coro_test(f.io, client.connect(server.url("wss", "/link/")));
  REQUIRE_FALSE(connected.has_value());
  CHECK(connected.error() == net::errc::certificate_untrusted);
  CHECK(run_coro_test(f.io, client.connect("https://127.0.0.1/")).error() == net::errc::bad_url);
  CHECK(run_coro_test(f.io, client.connect("nonsense")).error() == net::errc::bad_url);
}

TEST_CASE("ws_client: the server dropping the connection is a read error") {
  net_fixture f;
  std::vector<std::string> texts;
  SUBCASE("wss") {
    fake_tls_server server(f.io, f.ca.server_context());
    server.on_websocket("/ws", hello_then_drop);
    net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
    const auto last = run_coro_test(f.io, read_until_error(&client, server.url("wss", "/ws"), &texts));
    REQUIRE_FALSE(last.has_value());
    CHECK(last.error() == net::errc::connection_closed);
    CHECK_FALSE(client.is_open());
  }
  SUBCASE("ws") {
    fake_tls_server server(f.io);
    server.on_websocket("/ws", hello_then_drop);
    net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
    const auto last = run_coro_test(f.io, read_until_error(&client, server.url("ws", "/ws"), &texts));
    REQUIRE_FALSE(last.has_value());
    CHECK(last.error() == net::errc::connection_closed);
  }
  CHECK(texts == std::vector<std::string>{"hello"});
}

TEST_CASE("ws_client: a binary frame is skipped and the connection stays open") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on_websocket("/ws", binary_then_text);
  net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
  const auto out = run_coro_test(f.io, binary_is_skipped(&client, server.url("wss", "/ws")));
  CHECK(out == std::vector<std::string>{"error:unexpected binary websocket frame", "text:after binary", "open"});
  CHECK(f.log_text.str().find("ws binary frame skipped bytes=3") != std::string::npos);
}

TEST_CASE("ws_client: invalid UTF-8 in a text frame fails the connection as a protocol error") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on_websocket("/ws", invalid_utf8);
  net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
  std::vector<std::string> texts;
  const auto last = run_coro_test(f.io, read_until_error(&client, server.url("wss", "/ws"), &texts));
  REQUIRE_FALSE(last.has_value());
  CHECK(last.error() == net::errc::protocol_error);
  CHECK(texts.empty());
  CHECK_FALSE(client.is_open());
}

TEST_CASE("ws_client: the idle timeout fires when the server goes silent") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  server.on_websocket("/ws", go_silent);
  net::ws_client client(f.io.get_executor(), f.client_tls, {.idle_timeout = 200ms}, f.log);
  const auto out = run_coro_test(f.io, read_when_silent(&client, server.url("wss", "/ws")));
  REQUIRE_FALSE(out.result.has_value());
  CHECK(out.result.error() == net::errc::idle_timeout);
  CHECK(out.elapsed >= 100ms);
  CHECK(out.elapsed < 2s);
  CHECK_FALSE(client.is_open());
}

TEST_CASE("ws_client: a quiet server that answers pings keeps the connection past the idle timeout") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  auto seen = std::make_shared<server_log>();
  // The server says nothing but keeps reading, so it answers the client's pings.
  server.on_websocket("/ws", [seen](session_ptr s) { return collect_until_close(std::move(s), seen); });
  net::ws_client client(f.io.get_executor(), f.client_tls, {.idle_timeout = 100ms}, f.log);
  const auto out = run_coro_test(f.io, quiet_but_alive(&client, server.url("wss", "/ws"), 450ms));
  CHECK(out == std::vector<std::string>{"open", "reading"});
  CHECK(seen->saw_close);
  CHECK(f.log_text.str().find("ws idle") == std::string::npos);
}

TEST_CASE("ws_client: close sends what is queued, then the close frame") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  auto seen = std::make_shared<server_log>();
  server.on_websocket("/ws", [seen](session_ptr s) { return collect_until_close(std::move(s), seen); });
  net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
  const auto out = run_coro_test(f.io, write_and_close(&client, server.url("wss", "/ws")));
  CHECK(out == std::vector<std::string>{"closed", "not open", "not connected", "not connected"});
  CHECK(seen->received == std::vector<std::string>{"first", "second"});
  CHECK(seen->saw_close);
}

TEST_CASE("ws_client: a burst of queued messages goes out whole and in order, pongs in between") {
  net_fixture f;
  fake_tls_server server(f.io, f.ca.server_context());
  auto seen = std::make_shared<server_log>();
  // Acks and messages, some bigger than one gathered write (64 KiB) and one TLS record (16 KiB).
  std::vector<std::string> burst;
  for (int i = 0; i < 3000; ++i) {
    std::string m = R"({"envelope_id":"e)" + std::to_string(i) + R"("})";
    if (i % 700 == 0) m += std::string(100 * 1024, static_cast<char>('a' + i % 26));
    burst.push_back(std::move(m));
  }
  // write_front() messages go ahead of the ordinary ones queued before them, keeping their own order.
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < burst.size(); i += 3) expected.push_back(burst[i]);
  for (std::size_t i = 0; i < burst.size(); ++i) {
    if (i % 3 != 0) expected.push_back(burst[i]);
  }
  int pings = 0;
  const int count = static_cast<int>(burst.size());
  server.on_websocket(
      "/link/", [seen, count, &pings](session_ptr s) { return hello_collect_pinging(std::move(s), seen, count, &pings); },
      require_app_token);
  net::ws_client client(f.io.get_executor(), f.client_tls, {}, f.log);
  run_coro_test(f.io, hello_then_burst(&client, server.url("wss", "/link/"), burst));
  REQUIRE(seen->received.size() == expected.size());
  CHECK(seen->received == expected);
  CHECK(pings == 6);
}
