#include "fake_tls_server.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <exception>

namespace kintsugi::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using boost::system::error_code;

namespace detail {

struct http_route {
  http::verb method;
  std::string path;
  http_handler handler;
};

struct ws_route {
  std::string path;
  ws_handler handler;
  http_handler check;
};

using closer = std::shared_ptr<std::function<void()>>;

struct server_state {
  server_state(asio::io_context& io, std::optional<asio::ssl::context> context)
      : executor(io.get_executor()), acceptor(io), stop_signal(io), tls(std::move(context)) {
    stop_signal.expires_at(asio::steady_timer::time_point::max());
  }

  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  asio::steady_timer stop_signal;  // never expires; stop() cancels it to wake held sessions
  std::optional<asio::ssl::context> tls;
  std::vector<http_route> routes;
  std::vector<ws_route> ws_routes;
  bool close_after_response = false;
  bool silent = false;
  bool stopped = false;
  std::vector<recorded_request> requests;
  std::size_t accepted = 0;
  std::size_t tls_failures = 0;
  std::size_t ws_sessions = 0;
  std::vector<tcp::socket> silent_sockets;
  std::vector<std::weak_ptr<std::function<void()>>> closers;  // one per live connection, for stop()
};

}  // namespace detail

namespace {

using state_ptr = std::shared_ptr<detail::server_state>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Reports an exception that escaped a server coroutine as a test failure (it never stops the others).
struct report_failure {
  const char* what;
  void operator()(std::exception_ptr error) const {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      FAIL_CHECK("fake_tls_server " << what << ": " << e.what());
    } catch (...) {
      FAIL_CHECK("fake_tls_server " << what << ": a handler failed");
    }
  }
};

// Lets stop() close `stream` while the returned handle lives (reset it before moving the stream).
detail::closer register_closer(detail::server_state& state, beast::tcp_stream& stream) {
  auto handle = std::make_shared<std::function<void()>>([&stream] { stream.close(); });
  std::erase_if(state.closers, [](const auto& weak) { return weak.expired(); });
  state.closers.push_back(handle);
  return handle;
}

asio::awaitable<void> wait_for_stop(state_ptr state) {
  if (state->stopped) co_return;
  co_await state->stop_signal.async_wait(use_tuple);
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool matches(const std::string& pattern, std::string_view path) {
  if (!pattern.empty() && pattern.back() == '*') return path.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  return pattern == path;
}

// Exact match first, then the longest prefix pattern.
template <class Route, class Accept>
const Route* find_route(const std::vector<Route>& routes, std::string_view path, Accept accept) {
  const Route* best = nullptr;
  for (const auto& route : routes) {
    if (!accept(route) || !matches(route.path, path)) continue;
    if (route.path == path) return &route;
    if (best == nullptr || route.path.size() > best->path.size()) best = &route;
  }
  return best;
}

template <class Stream>
class ws_session_impl final : public ws_session, public std::enable_shared_from_this<ws_session_impl<Stream>> {
 public:
  ws_session_impl(state_ptr state, Stream stream, http_request_t request)
      : state_(std::move(state)), ws_(std::move(stream)), request_(std::move(request)) {}

  asio::awaitable<void> run(ws_handler handler) {
    auto self = this->shared_from_this();
    closer_ = register_closer(*state_, beast::get_lowest_layer(ws_));
    websocket::stream_base::timeout options{};
    options.handshake_timeout = std::chrono::seconds(2);
    options.idle_timeout = websocket::stream_base::none();
    options.keep_alive_pings = false;
    ws_.set_option(options);
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) ++pongs_;
    });
    auto [ec] = co_await ws_.async_accept(request_, use_tuple);
    if (ec) co_return;
    ++state_->ws_sessions;
    co_await handler(self);
    if (ws_.is_open()) co_await close(websocket::close_code::normal);
    drop();
  }

  const http_request_t& upgrade_request() const override { return request_; }

  asio::awaitable<std::optional<std::string>> read() override {
    beast::flat_buffer buffer;
    auto [ec, size] = co_await ws_.async_read(buffer, use_tuple);
    if (ec) co_return std::nullopt;
    last_binary_ = ws_.got_binary();
    co_return beast::buffers_to_string(buffer.data());
  }

  bool last_was_binary() const override { return last_binary_; }

  asio::awaitable<bool> send(std::string text) override {
    ws_.text(true);
    auto [ec, size] = co_await ws_.async_write(asio::buffer(text), use_tuple);
    co_return !ec;
  }

  asio::awaitable<bool> send_binary(std::string data) override {
    ws_.binary(true);
    auto [ec, size] = co_await ws_.async_write(asio::buffer(data), use_tuple);
    co_return !ec;
  }

  asio::awaitable<void> close(websocket::close_code code) override {
    co_await ws_.async_close(code, use_tuple);
  }

  void drop() override { beast::get_lowest_layer(ws_).close(); }

  asio::awaitable<void> hold() override { co_await wait_for_stop(state_); }

  asio::awaitable<bool> ping() override {
    auto [ec] = co_await ws_.async_ping({}, use_tuple);
    co_return !ec;
  }

  std::size_t pongs_received() const override { return pongs_; }

 private:
  state_ptr state_;
  websocket::stream<Stream> ws_;
  http_request_t request_;
  detail::closer closer_;
  bool last_binary_ = false;
  std::size_t pongs_ = 0;
};

template <class Stream>
asio::awaitable<void> serve_http(state_ptr state, Stream stream, std::size_t connection) {
  auto closer = register_closer(*state, beast::get_lowest_layer(stream));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (read_ec) break;
    http_request_t request = parser.release();
    state->requests.push_back({request, connection});
    const std::string_view path = path_of(request.target());

    std::optional<http_response_t> response;
    if (websocket::is_upgrade(request)) {
      const auto* route = find_route(state->ws_routes, path, [](const detail::ws_route&) { return true; });
      if (route == nullptr) {
        response = make_response(http::status::not_found, "no websocket here", "text/plain");
      } else if (route->check) {
        response = route->check(request);
      }
      if (!response) {
        ws_handler handler = route->handler;
        closer.reset();  // the session registers its own
        auto session = std::make_shared<ws_session_impl<Stream>>(state, std::move(stream), std::move(request));
        co_await session->run(std::move(handler));
        co_return;
      }
    } else {
      const auto method = request.method();
      const auto* route = find_route(state->routes, path, [method](const detail::http_route& r) { return r.method == method; });
      if (route == nullptr) {
        response = make_response(http::status::not_found, "not found", "text/plain");
      } else {
        http_handler handler = route->handler;
        response = handler(request);
        if (!response) {
          co_await wait_for_stop(state);
          break;
        }
      }
    }
    response->version(request.version());
    if (!request.keep_alive()) response->keep_alive(false);
    response->prepare_payload();
    auto [write_ec, written] = co_await http::async_write(stream, *response, use_tuple);
    if (write_ec || !response->keep_alive() || state->close_after_response) break;
  }
  beast::get_lowest_layer(stream).close();
}

asio::awaitable<void> serve_tls(state_ptr state, tcp::socket socket, std::size_t connection) {
  asio::ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *state->tls);
  auto closer = register_closer(*state, beast::get_lowest_layer(stream));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
  if (ec) {
    ++state->tls_failures;
    beast::get_lowest_layer(stream).close();
    co_return;
  }
  beast::get_lowest_layer(stream).expires_never();
  closer.reset();
  co_await serve_http(state, std::move(stream), connection);
}

asio::awaitable<void> accept_loop(state_ptr state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(use_tuple);
    if (ec) co_return;
    const std::size_t connection = ++state->accepted;
    if (state->silent) {
      state->silent_sockets.push_back(std::move(socket));
    } else if (state->tls) {
      asio::co_spawn(state->executor, serve_tls(state, std::move(socket), connection), report_failure{"tls session"});
    } else {
      asio::co_spawn(state->executor, serve_http(state, beast::tcp_stream(std::move(socket)), connection),
                     report_failure{"session"});
    }
  }
}

void start(const state_ptr& state) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  state->acceptor.open(endpoint.protocol());
  state->acceptor.set_option(tcp::acceptor::reuse_address(true));
  state->acceptor.bind(endpoint);
  state->acceptor.listen();
  asio::co_spawn(state->executor, accept_loop(state), report_failure{"acceptor"});
}

}  // namespace

http_response_t make_response(http::status status, std::string body, std::string content_type) {
  http_response_t response{status, 11};
  if (!content_type.empty()) response.set(http::field::content_type, content_type);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

fake_tls_server::fake_tls_server(asio::io_context& io)
    : state_(std::make_shared<detail::server_state>(io, std::nullopt)) {
  start(state_);
}

fake_tls_server::fake_tls_server(asio::io_context& io, asio::ssl::context tls)
    : state_(std::make_shared<detail::server_state>(io, std::move(tls))) {
  start(state_);
}

fake_tls_server::~fake_tls_server() { stop(); }

std::uint16_t fake_tls_server::port() const { return state_->acceptor.local_endpoint().port(); }

std::string fake_tls_server::url(std::string_view scheme, std::string_view target, std::string_view host) const {
  return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(port()) + std::string(target);
}

void fake_tls_server::on(http::verb method, std::string path, http_handler handler) {
  state_->routes.push_back({method, std::move(path), std::move(handler)});
}

void fake_tls_server::on_websocket(std::string path, ws_handler handler, http_handler check) {
  state_->ws_routes.push_back({std::move(path), std::move(handler), std::move(check)});
}

void fake_tls_server::close_after_response(bool on) { state_->close_after_response = on; }
void fake_tls_server::set_silent(bool on) { state_->silent = on; }
const std::vector<recorded_request>& fake_tls_server::requests() const { return state_->requests; }
std::size_t fake_tls_server::accepted() const { return state_->accepted; }
std::size_t fake_tls_server::tls_handshake_failures() const { return state_->tls_failures; }
std::size_t fake_tls_server::websocket_sessions() const { return state_->ws_sessions; }

void fake_tls_server::stop() {
  auto& state = *state_;
  if (state.stopped) return;
  state.stopped = true;
  error_code ignored;
  state.acceptor.close(ignored);
  state.stop_signal.cancel();
  for (auto& weak : state.closers) {
    if (auto close = weak.lock()) (*close)();
  }
  state.closers.clear();
  for (auto& socket : state.silent_sockets) socket.close(ignored);
}

}  // namespace kintsugi::test
