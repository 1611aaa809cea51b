#pragma once
// Internal: the steps both clients share to reach an origin, each bounded by a deadline.
// The stream arguments are owned by the caller, which awaits these coroutines at once (so a reference
// cannot dangle); everything else is taken by value.
#include <net/error.hpp>
#include <net/tls.hpp>
#include <net/url.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <vector>

namespace kintsugi::net::detail {

using clock = std::chrono::steady_clock;

// Endpoints for host:port; an IP literal needs no lookup. errc::timeout when `deadline` passes first.
boost::asio::awaitable<result<std::vector<boost::asio::ip::tcp::endpoint>>> resolve(std::string host,
                                                                                      std::uint16_t port,
                                                                                      clock::time_point deadline);

// Resolves and connects the TCP stream. On failure the error is logged at debug and mapped to errc.
boost::asio::awaitable<boost::system::error_code> connect_tcp(boost::beast::tcp_stream& stream, url_parts origin,
                                                              clock::time_point deadline,
                                                              std::shared_ptr<spdlog::logger> log);

// Connects and runs the client TLS handshake with SNI and host name verification.
boost::asio::awaitable<boost::system::error_code> connect_tls(tls_stream& stream, url_parts origin,
                                                              clock::time_point deadline,
                                                              std::shared_ptr<spdlog::logger> log);

inline boost::asio::awaitable<boost::system::error_code> connect_any(boost::beast::tcp_stream& stream,
                                                                     url_parts origin, clock::time_point deadline,
                                                                     std::shared_ptr<spdlog::logger> log) {
  return connect_tcp(stream, std::move(origin), deadline, std::move(log));
}
inline boost::asio::awaitable<boost::system::error_code> connect_any(tls_stream& stream, url_parts origin,
                                                                     clock::time_point deadline,
                                                                     std::shared_ptr<spdlog::logger> log) {
  return connect_tls(stream, std::move(origin), deadline, std::move(log));
}

// The path of a target without its query, for logs (a query may carry a ticket or a token).
std::string_view log_path(std::string_view target);

// A logger that drops everything, for components built without one.
std::shared_ptr<spdlog::logger> or_silent(std::shared_ptr<spdlog::logger> log);

}  // namespace kintsugi::net::detail
