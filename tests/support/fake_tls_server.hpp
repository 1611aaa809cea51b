#pragma once
// A loopback HTTP + websocket server for tests, written with Beast, running in the test's io_context.
// It binds 127.0.0.1:0 and keeps the acceptor (no free-port race); TLS when given a context (see
// tls_test_ca), plain otherwise. Requests are routed by method and path to handler functions; GET
// upgrades on a websocket path run a handler coroutine that can push frames, read acks, close or drop.
// It records every request (websocket upgrades included) and counts accepted connections. The base for
// the fake Slack and fake Mattermost servers.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kintsugi::test {

using http_request_t = boost::beast::http::request<boost::beast::http::string_body>;
using http_response_t = boost::beast::http::response<boost::beast::http::string_body>;

// The response to send, or nullopt to never answer: the connection then stays open and silent until
// the server stops (for client timeout tests).
using http_handler = std::function<std::optional<http_response_t>(const http_request_t&)>;

// A response with `body` and its Content-Type; add headers (e.g. Retry-After) on the result.
http_response_t make_response(boost::beast::http::status status, std::string body = {},
                              std::string content_type = "application/json");

// One accepted websocket, handed to a websocket handler. Each call returns when done; none throws.
class ws_session {
 public:
  virtual ~ws_session() = default;
  // The upgrade request (headers such as Authorization, the target with its query).
  virtual const http_request_t& upgrade_request() const = 0;
  // The next message (text or binary, see last_was_binary), or nullopt once the connection is closed.
  virtual boost::asio::awaitable<std::optional<std::string>> read() = 0;
  virtual bool last_was_binary() const = 0;
  virtual boost::asio::awaitable<bool> send(std::string text) = 0;
  virtual boost::asio::awaitable<bool> send_binary(std::string data) = 0;
  // A close handshake with `code` (bounded: 2 s without the peer's answer).
  virtual boost::asio::awaitable<void> close(
      boost::beast::websocket::close_code code = boost::beast::websocket::close_code::normal) = 0;
  // Closes the TCP connection at once: no close frame, no TLS close_notify.
  virtual void drop() = 0;
  // Stays silent (reads nothing, so answers no ping) until the server stops.
  virtual boost::asio::awaitable<void> hold() = 0;
  // Sends a ping frame (a server's transport ping); false when the connection is gone.
  virtual boost::asio::awaitable<bool> ping() = 0;
  // Pong frames received so far (they are seen while a read() is pending).
  virtual std::size_t pongs_received() const = 0;
};

using ws_handler = std::function<boost::asio::awaitable<void>(std::shared_ptr<ws_session>)>;

struct recorded_request {
  http_request_t request;
  std::size_t connection = 0;  // 1 for the first accepted connection, and so on
};

namespace detail {
struct server_state;
}

class fake_tls_server {
 public:
  // Plain HTTP and ws.
  explicit fake_tls_server(boost::asio::io_context& io);
  // HTTPS and wss with `tls` (e.g. tls_test_ca::server_context()).
  fake_tls_server(boost::asio::io_context& io, boost::asio::ssl::context tls);
  ~fake_tls_server();
  fake_tls_server(const fake_tls_server&) = delete;
  fake_tls_server& operator=(const fake_tls_server&) = delete;

  std::uint16_t port() const;
  // "<scheme>://<host>:<port><target>", e.g. url("https", "/api/") or url("wss", "/link?ticket=1", "localhost").
  std::string url(std::string_view scheme, std::string_view target = "/", std::string_view host = "127.0.0.1") const;

  // Routes `method` on `path` (the target without its query) to `handler`. A path ending in '*' matches
  // every path with that prefix; exact paths win, then the longest prefix. Unrouted requests get 404.
  void on(boost::beast::http::verb method, std::string path, http_handler handler);
  // Accepts websocket upgrades on `path`. If `check` returns a response (e.g. 401 without the right
  // Authorization), that response is sent instead of the upgrade.
  void on_websocket(std::string path, ws_handler handler, http_handler check = {});

  // Close each connection right after its response, without "Connection: close" (like a keep-alive
  // timeout on the server side).
  void close_after_response(bool on);
  // Accept TCP connections but never read or write on them (no TLS handshake, no response).
  void set_silent(bool on);

  const std::vector<recorded_request>& requests() const;
  std::size_t accepted() const;                // TCP connections accepted
  std::size_t tls_handshake_failures() const;  // e.g. a client that did not trust the certificate
  std::size_t websocket_sessions() const;      // upgrades accepted

  // Closes the acceptor and every connection; held handlers return.
  void stop();

 private:
  std::shared_ptr<detail::server_state> state_;
};

}  // namespace kintsugi::test
