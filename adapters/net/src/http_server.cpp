#include <net/http_server.hpp>

#include "connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/system/system_error.hpp>

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <ostream>
#include <variant>

namespace kintsugi::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using detail::clock;

namespace detail {

struct server_connection {
  explicit server_connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
};

struct http_server_state {
  http_server_state(asio::any_io_executor ex, http_server_config cfg, std::shared_ptr<spdlog::logger> logger)
      : executor(ex), config(cfg), log(std::move(logger)), acceptor(ex) {}

  asio::any_io_executor executor;
  http_server_config config;
  std::shared_ptr<spdlog::logger> log;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};

  mutable std::mutex mutex;  // guards routes and connections
  std::map<std::string, std::map<http::verb, http_route_handler>, std::less<>> routes;
  std::map<std::uint64_t, std::shared_ptr<server_connection>> connections;
  std::uint64_t next_connection = 0;
};

}  // namespace detail

namespace {

using state_ptr = std::shared_ptr<detail::http_server_state>;
using detail::server_connection;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t header_limit = 16 * 1024;

listen_error make_listen_error(std::string_view address, error_code code, std::string_view why) {
  return {code, "cannot listen on " + std::string(address) + ": " + std::string(why)};
}

std::string format_endpoint(const tcp::endpoint& ep) {
  auto address = ep.address().to_string();
  if (ep.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(ep.port());
}

// Closes the socket on its own strand (the connection's coroutine may be running there).
void close_connection(std::shared_ptr<server_connection> conn) {
  asio::post(conn->stream.get_executor(), [conn] {
    error_code ignored;
    conn->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    conn->stream.close();
  });
}

void stop_state(const state_ptr& st) {
  st->stopping = true;
  error_code ignored;
  if (st->acceptor.is_open()) st->acceptor.close(ignored);
  std::map<std::uint64_t, std::shared_ptr<server_connection>> open;
  {
    std::lock_guard lock(st->mutex);
    open = st->connections;
  }
  for (auto& [id, conn] : open) close_connection(conn);
}

http_reply allowed_methods_reply(const std::map<http::verb, http_route_handler>& methods) {
  std::string allow;
  for (const auto& [verb, handler] : methods) {
    if (!allow.empty()) allow += ", ";
    allow += std::string(http::to_string(verb));
  }
  auto reply = http_reply::text(405, "method not allowed\n");
  reply.headers.push_back({"Allow", allow});
  return reply;
}

// The handler for a request, or the reply when there is none (404 / 405).
std::variant<http_route_handler, http_reply> find_route(const state_ptr& st, const incoming_request& in) {
  std::lock_guard lock(st->mutex);
  auto path = st->routes.find(in.path);
  if (path == st->routes.end()) return http_reply::text(404, "not found\n");
  auto method = path->second.find(in.method);
  if (method == path->second.end()) return allowed_methods_reply(path->second);
  return method->second;
}

// Runs the route; any exception becomes a 500 with a generic body.
asio::awaitable<http_reply> call_route(state_ptr st, incoming_request in) {
  auto route = find_route(st, in);
  if (auto* fixed = std::get_if<http_reply>(&route)) co_return std::move(*fixed);
  std::string failure;
  try {
    co_return co_await std::get<http_route_handler>(route)(in);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  st->log->error("http {} {} handler failed: {}", http::to_string(in.method), in.path, failure);
  co_return http_reply::text(500, "internal server error\n");
}

asio::awaitable<error_code> send_reply(beast::tcp_stream& stream, http_reply reply, bool keep_alive,
                                       std::chrono::milliseconds timeout) {
  http::response<http::string_body> res;
  res.version(11);
  res.result(reply.status);
  res.set(http::field::server, "kintsugi");
  if (!reply.body.empty()) res.set(http::field::content_type, reply.content_type);
  for (const auto& h : reply.headers) res.set(h.name, h.value);
  res.body() = std::move(reply.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  stream.expires_after(timeout);
  auto [ec, written] = co_await http::async_write(stream, res, use_tuple);
  co_return ec;
}

// After an error reply on a connection we will not read from again: stop sending, then read and drop what the
// client still sends for a moment, so that closing does not reset the connection before it read our reply.
asio::awaitable<void> linger(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(1));
  std::array<char, 4096> sink{};
  for (std::size_t total = 0; total < 4 * 1024 * 1024;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) break;
    total += n;
  }
}

bool quiet_end(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor || ec == beast::error::timeout;
}

// What to answer when reading a request failed, if anything (0: just close).
unsigned status_for_read_error(const error_code& ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec == http::error::header_limit) return 431;
  if (quiet_end(ec) || ec == http::error::partial_message) return 0;
  if (ec.category() == make_error_code(http::error::bad_method).category()) return 400;
  return 0;
}

incoming_request to_incoming(http::request<http::string_body> msg, const std::string& remote) {
  incoming_request in;
  in.method = msg.method();
  in.target = std::string(msg.target());
  in.path = std::string(detail::log_path(in.target));
  in.remote = remote;
  in.body = std::move(msg.body());
  in.headers = std::move(static_cast<http::fields&>(msg.base()));
  return in;
}

asio::awaitable<void> serve_connection(state_ptr st, std::shared_ptr<server_connection> conn, std::uint64_t id) {
  auto& stream = conn->stream;
  const auto& cfg = st->config;
  error_code endpoint_ec;
  const auto peer = stream.socket().remote_endpoint(endpoint_ec);
  const std::string remote = endpoint_ec ? std::string("unknown") : format_endpoint(peer);
  beast::flat_buffer buffer;
  while (!st->stopping) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(cfg.body_limit);
    parser.header_limit(header_limit);
    stream.expires_after(cfg.header_timeout);
    auto [header_ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    error_code ec = header_ec;
    if (!ec && !parser.is_done()) {
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, 11};
        stream.expires_after(cfg.write_timeout);
        auto [continue_ec, n] = co_await http::async_write(stream, go_on, use_tuple);
        ec = continue_ec;
      }
      if (!ec) {
        stream.expires_after(cfg.read_timeout);
        auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
        ec = body_ec;
      }
    }
    if (ec) {
      if (ec == beast::error::timeout) st->log->debug("http connection from {} timed out while reading", remote);
      if (auto status = status_for_read_error(ec); status != 0 && !st->stopping) {
        auto reply = http_reply::text(status, status == 413 ? "request body too large\n" : "bad request\n");
        st->log->debug("http request from {} refused: status={} ({})", remote, status, ec.message());
        // (awaited into a named value: GCC 12 miscompiles a co_await inside an if condition)
        const auto send_error = co_await send_reply(stream, std::move(reply), false, cfg.write_timeout);
        if (!send_error) co_await linger(stream);
      }
      break;
    }
    const auto started = clock::now();
    auto msg = parser.release();
    bool keep_alive = msg.keep_alive();
    auto in = to_incoming(std::move(msg), remote);
    const std::string method(http::to_string(in.method));
    const std::string path = in.path;
    stream.expires_never();
    auto reply = co_await call_route(st, std::move(in));
    const unsigned status = reply.status;
    keep_alive = keep_alive && !st->stopping;
    auto write_ec = co_await send_reply(stream, std::move(reply), keep_alive, cfg.write_timeout);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count();
    st->log->debug("http {} {} status={} duration={}ms", method, path, status, ms);
    if (write_ec || !keep_alive) break;
  }
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
  std::lock_guard lock(st->mutex);
  st->connections.erase(id);
}

auto log_connection_end(std::shared_ptr<spdlog::logger> log) {
  return [log = std::move(log)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->error("http connection failed: {}", ex.what());
    }
  };
}

}  // namespace

// ---- incoming_request, http_reply, addresses ----

std::string_view incoming_request::header(std::string_view name) const {
  auto it = headers.find(name);
  if (it == headers.end()) return {};
  return {it->value().data(), it->value().size()};
}

std::string incoming_request::media_type() const {
  auto value = header("Content-Type");
  value = value.substr(0, value.find(';'));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  std::string out(value);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

http_reply http_reply::text(unsigned status, std::string body) {
  return {status, std::move(body), "text/plain; charset=utf-8", {}};
}

http_reply http_reply::json(unsigned status, std::string body) {
  return {status, std::move(body), "application/json; charset=utf-8", {}};
}

std::ostream& operator<<(std::ostream& os, const listen_error& e) { return os << e.message; }

void throw_exception_from_error(const listen_error& e, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(e.code, e.message), loc);
}

boost::system::result<listen_address, listen_error> parse_listen_address(std::string_view text) {
  const error_code bad = errc::bad_url;
  std::string_view host;
  std::string_view port_text;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return make_listen_error(text, bad, "expected [ipv6]:port");
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      return make_listen_error(text, bad, "expected host:port (IPv6 in brackets)");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, perr] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || perr != std::errc{} || end != port_text.data() + port_text.size() || port > 65535)
    return make_listen_error(text, bad, "the port must be a number from 0 to 65535");
  listen_address out{std::string(host), static_cast<std::uint16_t>(port)};
  if (out.host == "localhost") out.host = "127.0.0.1";
  error_code ec;
  asio::ip::make_address(out.host, ec);
  if (ec) return make_listen_error(text, bad, "the host must be an IP address or localhost");
  return out;
}

// ---- http_server ----

http_server::http_server(asio::any_io_executor executor, http_server_config config, std::shared_ptr<spdlog::logger> log)
    : state_(std::make_shared<detail::http_server_state>(std::move(executor), config,
                                                         detail::or_silent(std::move(log)))) {}

http_server::~http_server() { stop_state(state_); }

void http_server::on(http::verb method, std::string path, http_route_handler handler) {
  std::lock_guard lock(state_->mutex);
  state_->routes[std::move(path)][method] = std::move(handler);
}

boost::system::result<void, listen_error> http_server::listen(std::string_view address) {
  auto parsed = parse_listen_address(address);
  if (!parsed) return parsed.error();
  const tcp::endpoint endpoint{asio::ip::make_address(parsed->host), parsed->port};
  auto& acceptor = state_->acceptor;
  error_code ec;
  if (acceptor.open(endpoint.protocol(), ec); ec) return make_listen_error(address, ec, ec.message());
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    return make_listen_error(address, ec, ec.message());
  }
  state_->port = acceptor.local_endpoint(ec).port();
  state_->log->info("http listening on {}", format_endpoint(acceptor.local_endpoint(ec)));
  return {};
}

std::uint16_t http_server::port() const { return state_->port; }

std::size_t http_server::open_connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->connections.size();
}

void http_server::stop() { stop_state(state_); }

asio::awaitable<void> http_server::run() {
  auto st = state_;
  while (st->acceptor.is_open() && !st->stopping) {
    auto [ec, socket] = co_await st->acceptor.async_accept(asio::make_strand(st->executor), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !st->acceptor.is_open()) break;
      st->log->warn("http accept failed: {}", ec.message());
      asio::steady_timer pause{st->executor, std::chrono::milliseconds(100)};  // e.g. out of descriptors
      co_await pause.async_wait(use_tuple);
      continue;
    }
    error_code no_delay_failed;  // each answer is one write: nothing to gain from Nagle, a delayed ack to lose
    socket.set_option(asio::ip::tcp::no_delay(true), no_delay_failed);
    auto conn = std::make_shared<server_connection>(std::move(socket));
    std::uint64_t id = 0;
    {
      std::lock_guard lock(st->mutex);
      if (st->connections.size() >= st->config.max_connections) {
        st->log->warn("http refused a connection: {} already open", st->connections.size());
        error_code ignored;
        conn->stream.socket().close(ignored);
        continue;
      }
      id = ++st->next_connection;
      st->connections.emplace(id, conn);
    }
    asio::co_spawn(conn->stream.get_executor(), serve_connection(st, conn, id), log_connection_end(st->log));
  }
  stop_state(st);
}

}  // namespace kintsugi::net
