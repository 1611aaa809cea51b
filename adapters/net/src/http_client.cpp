#include <net/http_client.hpp>

#include "connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace kintsugi::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using detail::clock;

namespace detail {
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

struct exchange_outcome {
  error_code ec;
  bool got_response = false;  // some bytes of the response arrived before the failure
  bool keep_alive = false;
  http_response response;
};

// One connection to the origin; plain or TLS below (basic_http_connection).
class http_connection {
 public:
  virtual ~http_connection() = default;
  virtual asio::awaitable<error_code> open(url_parts origin, clock::time_point deadline,
                                           std::shared_ptr<spdlog::logger> log) = 0;
  virtual asio::awaitable<exchange_outcome> exchange(http::request<http::string_body> req, clock::time_point deadline,
                                                     std::uint64_t body_limit) = 0;
  // Open, idle and not closed by the peer meanwhile (a non-blocking peek sees neither EOF nor data).
  virtual bool usable() = 0;
  virtual void close() = 0;
};

namespace {

template <class Stream>
class basic_http_connection final : public http_connection {
 public:
  template <class... Args>
  explicit basic_http_connection(Args&&... args) : stream_(std::forward<Args>(args)...) {}

  asio::awaitable<error_code> open(url_parts origin, clock::time_point deadline,
                                   std::shared_ptr<spdlog::logger> log) override {
    co_return co_await connect_any(stream_, std::move(origin), deadline, std::move(log));
  }

  asio::awaitable<exchange_outcome> exchange(http::request<http::string_body> req, clock::time_point deadline,
                                             std::uint64_t body_limit) override {
    exchange_outcome out;
    auto& lowest = beast::get_lowest_layer(stream_);
    lowest.expires_at(deadline);
    auto [write_ec, written] = co_await http::async_write(stream_, req, use_tuple);
    if (write_ec) {
      out.ec = write_ec;
      co_return out;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    if (req.method() == http::verb::head) parser.skip(true);
    auto [read_ec, read] = co_await http::async_read(stream_, buffer_, parser, use_tuple);
    out.got_response = parser.got_some();
    if (read_ec) {
      out.ec = read_ec;
      co_return out;
    }
    lowest.expires_never();
    auto message = parser.release();
    out.keep_alive = message.keep_alive();
    out.response.status = message.result_int();
    out.response.body = std::move(message.body());
    out.response.headers = std::move(static_cast<http::fields&>(message.base()));
    co_return out;
  }

  bool usable() override {
    auto& socket = beast::get_lowest_layer(stream_).socket();
    if (!socket.is_open() || buffer_.size() != 0) return false;
    error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return false;
    char probe = 0;
    socket.receive(asio::buffer(&probe, 1), asio::ip::tcp::socket::message_peek, ec);
    error_code ignored;
    socket.non_blocking(false, ignored);
    return ec == asio::error::would_block;
  }

  void close() override { beast::get_lowest_layer(stream_).close(); }

 private:
  Stream stream_;
  beast::flat_buffer buffer_;
};

// Frees the request turn when the request ends, however it ends.
class turn_guard {
 public:
  explicit turn_guard(asio::experimental::channel<void(error_code)>& turn) : turn_(turn) {}
  ~turn_guard() { turn_.try_receive([](error_code) {}); }
  turn_guard(const turn_guard&) = delete;
  turn_guard& operator=(const turn_guard&) = delete;

 private:
  asio::experimental::channel<void(error_code)>& turn_;
};

}  // namespace
}  // namespace detail

http_client::http_client(asio::any_io_executor executor, asio::ssl::context& tls, url_parts origin,
                         http_client_config config, std::shared_ptr<spdlog::logger> log)
    : executor_(std::move(executor)),
      tls_(tls),
      origin_(std::move(origin)),
      config_(std::move(config)),
      log_(detail::or_silent(std::move(log))),
      turn_(executor_, 1) {}

http_client::~http_client() { close(); }

void http_client::close() {
  if (connection_) connection_->close();
  connection_.reset();
}

asio::awaitable<result<http_response>> http_client::request(http_request req) {
  auto [ec] = co_await turn_.async_send(error_code{}, detail::use_tuple);
  if (ec) co_return errc::cancelled;
  detail::turn_guard guard(turn_);
  co_return co_await request_locked(std::move(req));
}

asio::awaitable<result<http_response>> http_client::request_locked(http_request req) {
  const auto started = clock::now();
  const auto deadline = started + config_.request_timeout;
  const std::string method(http::to_string(req.method));
  const std::string path(detail::log_path(req.target));
  const auto elapsed_ms = [&started] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count();
  };

  http::request<http::string_body> message{req.method, req.target, 11};
  message.set(http::field::host, origin_.host_header());
  message.set(http::field::user_agent, config_.user_agent);
  for (const auto& header : req.headers) message.set(header.name, header.value);
  if (!req.content_type.empty()) message.set(http::field::content_type, req.content_type);
  message.body() = std::move(req.body);
  message.keep_alive(true);
  message.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    if (connection_ && connection_->usable()) {
      reused = true;
    } else {
      close();
      std::shared_ptr<detail::http_connection> fresh;
      if (origin_.secure()) {
        fresh = std::make_shared<detail::basic_http_connection<tls_stream>>(asio::make_strand(executor_), tls_);
      } else {
        fresh = std::make_shared<detail::basic_http_connection<beast::tcp_stream>>(asio::make_strand(executor_));
      }
      const auto connect_deadline = std::min(deadline, clock::now() + config_.connect_timeout);
      if (auto ec = co_await fresh->open(origin_, connect_deadline, log_)) {
        log_->debug("http {} {}{} error={} ms={}", method, origin_.host_header(), path, ec.message(), elapsed_ms());
        co_return ec;
      }
      ++connections_opened_;
      connection_ = fresh;
    }
    // A local owner: close() may drop connection_ while this exchange is suspended.
    auto connection = connection_;
    auto outcome = co_await connection->exchange(message, deadline, config_.body_limit);
    if (!outcome.ec) {
      if (!outcome.keep_alive && connection_ == connection) close();
      log_->debug("http {} {}{} status={} ms={} conn={}", method, origin_.host_header(), path,
                  outcome.response.status, elapsed_ms(), connections_opened_);
      co_return std::move(outcome.response);
    }
    connection->close();
    if (connection_ == connection) connection_.reset();
    const auto mapped = to_net_error(outcome.ec, errc::connection_closed);
    if (reused && attempt == 0 && !outcome.got_response && mapped == errc::connection_closed) {
      log_->debug("http {} {}{} kept connection was closed by the server, sending again", method,
                  origin_.host_header(), path);
      continue;
    }
    log_->debug("http {} {}{} error={} cause={} ms={}", method, origin_.host_header(), path, mapped.message(),
                outcome.ec.message(), elapsed_ms());
    co_return mapped;
  }
}

}  // namespace kintsugi::net
