#pragma once
// A small HTTP/1.1 server for the bot's own endpoints (Slack Events API, Mattermost slash commands and
// buttons, /healthz). Plain HTTP only: TLS is terminated by the reverse proxy in front of the bot
// (nginx, Caddy, a cloud load balancer), which is also where public certificates live.
//
// - listen("127.0.0.1:3000" | "[::1]:0" | "0.0.0.0:8080") binds at once, so a busy port or a bad
//   address is a value with a clear message; port() is then the actual port (useful with ":0").
// - run() accepts connections until stop() or until it is cancelled. Each connection gets its own strand
//   and coroutine; requests on one connection are answered in order (keep-alive, HTTP/1.0 and 1.1).
// - Routes: method + exact path (the target without its query). A known path with another method
//   gets 405 with Allow, an unknown path 404.
// - Limits: a body over body_limit gets 413 and the connection is closed; the headers of each request
//   (and the idle wait before them on a kept connection) must arrive within header_timeout, the body
//   within read_timeout, the response must be taken within write_timeout. A slow client holds only its
//   own connection; over max_connections, new connections are closed at once.
// - A handler that throws answers 500 with a generic body; the exception is logged, the server goes on.
// - Logged at debug: method, path (no query), status, duration. Never headers or bodies.
// Handlers run on the connection's strand; what they use must outlive the server's connections.
#include <net/error.hpp>
#include <net/http_message.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/assert/source_location.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog {
class logger;
}

namespace kintsugi::net {

struct http_server_config {
  std::size_t body_limit = 1024 * 1024;                                // larger bodies: 413
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};  // idle wait + request line + headers
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};    // the body, once the headers are in
  std::chrono::milliseconds write_timeout{std::chrono::seconds(10)};   // sending the response
  std::size_t max_connections = 512;
};

// A request as it arrived. The body is the exact bytes received (signature checks need them).
struct incoming_request {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string target;                 // as sent: path and query
  std::string path;                   // the target without its query
  boost::beast::http::fields headers; // lookups ignore case
  std::string body;
  std::string remote;                 // the peer, "127.0.0.1:53122" or "[::1]:53122"

  // The first value of a header (any case), or empty.
  std::string_view header(std::string_view name) const;
  // The media type of Content-Type, lower case, without parameters: "application/json".
  std::string media_type() const;
};

struct http_reply {
  unsigned status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";  // sent when the body is not empty
  std::vector<http_header> headers;

  static http_reply text(unsigned status, std::string body);
  static http_reply json(unsigned status, std::string body);
};

// The server keeps the request alive until the returned awaitable completes.
using http_route_handler = std::function<boost::asio::awaitable<http_reply>(const incoming_request&)>;

// Why listen() failed: the system's code (address_in_use, access_denied, address_not_available) or
// errc::bad_url for an address that is not "host:port", and one line to show the operator.
struct listen_error {
  boost::system::error_code code;
  std::string message;  // "cannot listen on 127.0.0.1:3000: Address already in use"
};
std::ostream& operator<<(std::ostream& os, const listen_error& e);  // the message
// Lets result<void, listen_error>::value() throw (as boost::system::system_error with the message).
[[noreturn]] void throw_exception_from_error(const listen_error& e, const boost::source_location& loc);

// "host:port" with an IPv4 literal, a bracketed IPv6 literal or "localhost"; port 0 picks a free one.
struct listen_address {
  std::string host;
  std::uint16_t port = 0;
};
boost::system::result<listen_address, listen_error> parse_listen_address(std::string_view text);

namespace detail {
struct http_server_state;
}

class http_server {
 public:
  // A null logger logs nothing.
  explicit http_server(boost::asio::any_io_executor executor, http_server_config config = {},
                       std::shared_ptr<spdlog::logger> log = nullptr);
  ~http_server();  // stops
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Routes `method` on `path` (exact, e.g. "/slack/events") to `handler`; a second call replaces it.
  // Add routes before run(), or from the server's executor.
  void on(boost::beast::http::verb method, std::string path, http_route_handler handler);

  // Opens, binds and listens (SO_REUSEADDR on). Call once, before run().
  boost::system::result<void, listen_error> listen(std::string_view address);
  // The bound port (0 before listen()).
  std::uint16_t port() const;

  // Accepts until stop() or cancellation, then closes every open connection and returns.
  boost::asio::awaitable<void> run();

  // Closes the acceptor and every open connection (a handler already running finishes, but its
  // response is not sent). Safe to call more than once, from the server's executor.
  void stop();

  std::size_t open_connections() const;

 private:
  std::shared_ptr<detail::http_server_state> state_;
};

}  // namespace kintsugi::net
