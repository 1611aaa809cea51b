#pragma once
// An HTTP/1.1 client for one origin (http or https) that keeps its connection alive between requests.
//
// - One request at a time on the one connection; concurrent callers wait their turn in FIFO order.
// - A kept connection the server has closed meanwhile is replaced before sending. If a reused
//   connection still fails before any byte of the response arrived (the server closed it at the same
//   moment), the request is sent once more on a fresh connection. A fresh connection is never retried.
// - Expected failures are values (errc::timeout, connect_failed, certificate_untrusted, ...); any HTTP
//   status, 4xx and 5xx included, is a response. 429 carries Retry-After (http_response::retry_after).
// - Logged at debug: method, host, path (no query), status, duration. Never headers or bodies.
// The client must outlive every request() it started; it is neither copied nor moved.
#include <net/error.hpp>
#include <net/http_message.hpp>
#include <net/url.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

namespace spdlog {
class logger;
}

namespace kintsugi::net {

struct http_client_config {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};  // resolve + TCP + TLS
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // the whole request(), connecting included
  std::uint64_t body_limit = 16 * 1024 * 1024;                          // larger responses: errc::message_too_big
  std::string user_agent = "kintsugi";
};

namespace detail {
class http_connection;
}

class http_client {
 public:
  // `origin` gives scheme, host and port (its target is ignored); `tls` is used for https only and must
  // outlive the client. A null logger logs nothing.
  http_client(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls, url_parts origin,
              http_client_config config = {}, std::shared_ptr<spdlog::logger> log = nullptr);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  boost::asio::awaitable<result<http_response>> request(http_request req);

  // Drops the kept connection (the next request opens a new one).
  void close();

  const url_parts& origin() const { return origin_; }
  // Connections opened so far: one for any number of requests while keep-alive holds.
  std::size_t connections_opened() const { return connections_opened_; }

 private:
  boost::asio::awaitable<result<http_response>> request_locked(http_request req);

  boost::asio::any_io_executor executor_;
  boost::asio::ssl::context& tls_;
  url_parts origin_;
  http_client_config config_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<detail::http_connection> connection_;
  // A one-slot channel used as a FIFO lock: sending takes the slot, receiving frees it.
  boost::asio::experimental::channel<void(boost::system::error_code)> turn_;
  std::size_t connections_opened_ = 0;
};

}  // namespace kintsugi::net
