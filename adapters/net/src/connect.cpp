#include "connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <spdlog/spdlog.h>

namespace kintsugi::net::detail {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;

namespace {

using endpoints = std::vector<tcp::endpoint>;
using resolve_channel = asio::experimental::channel<void(error_code, endpoints)>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Runs the lookup on its own, so that a caller whose deadline passed can leave: the system resolver
// cannot be interrupted, and its answer then lands in a channel nobody reads.
asio::awaitable<void> resolve_into(std::shared_ptr<resolve_channel> channel, std::string host, std::uint16_t port) {
  tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [ec, results] = co_await resolver.async_resolve(host, std::to_string(port), use_tuple);
  endpoints found;
  for (const auto& entry : results) found.push_back(entry.endpoint());
  channel->try_send(ec, std::move(found));
}

}  // namespace

asio::awaitable<result<endpoints>> resolve(std::string host, std::uint16_t port, clock::time_point deadline) {
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) co_return endpoints{tcp::endpoint(address, port)};

  auto executor = co_await asio::this_coro::executor;
  auto channel = std::make_shared<resolve_channel>(executor, 1);
  asio::co_spawn(executor, resolve_into(channel, std::move(host), port), asio::detached);
  asio::steady_timer timer(executor, deadline);
  auto winner = co_await (channel->async_receive(use_tuple) || timer.async_wait(use_tuple));
  if (winner.index() == 1) co_return errc::timeout;
  auto [resolve_ec, found] = std::get<0>(std::move(winner));
  if (resolve_ec) co_return to_net_error(resolve_ec, errc::resolve_failed);
  if (found.empty()) co_return errc::resolve_failed;
  co_return found;
}

asio::awaitable<error_code> connect_tcp(boost::beast::tcp_stream& stream, url_parts origin,
                                        clock::time_point deadline, std::shared_ptr<spdlog::logger> log) {
  auto found = co_await resolve(origin.host, origin.port, deadline);
  if (!found) {
    log->debug("net resolve host={} error={}", origin.host, found.error().message());
    co_return found.error();
  }
  stream.expires_at(deadline);
  auto [ec, endpoint] = co_await stream.async_connect(*found, use_tuple);
  if (ec) {
    log->debug("net connect host={} port={} error={}", origin.host, origin.port, ec.message());
    co_return to_net_error(ec, errc::connect_failed);
  }
  // No Nagle: kintsugi writes whole messages (a request, or every queued websocket frame at once), and a small one
  // held back until the peer acknowledges the last (which a peer with delayed acks does only with its next data)
  // made a Socket Mode ack take up to the next envelope's arrival to leave.
  boost::system::error_code ignored;
  stream.socket().set_option(tcp::no_delay(true), ignored);
  co_return error_code{};
}

asio::awaitable<error_code> connect_tls(tls_stream& stream, url_parts origin, clock::time_point deadline,
                                        std::shared_ptr<spdlog::logger> log) {
  if (auto ec = co_await connect_tcp(stream.next_layer(), origin, deadline, log)) co_return ec;
  if (auto ec = prepare_tls_client(stream, origin.host)) co_return ec;
  stream.next_layer().expires_at(deadline);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (ec) {
    const auto mapped = classify_handshake_error(stream, ec);
    log->debug("net tls host={} error={} reason={}", origin.host, mapped.message(),
               describe_handshake_error(stream, ec));
    co_return mapped;
  }
  co_return error_code{};
}

std::string_view log_path(std::string_view target) { return target.substr(0, target.find('?')); }

std::shared_ptr<spdlog::logger> or_silent(std::shared_ptr<spdlog::logger> log) {
  if (log) return log;
  return std::make_shared<spdlog::logger>("transport");
}

}  // namespace kintsugi::net::detail
