#include <net/ws_client.hpp>

#include "connect.hpp"
#include "gather_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>

namespace kintsugi::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using boost::system::error_code;
using detail::clock;

namespace detail {
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct outgoing {
  std::string text;
  bool close = false;
  bool ping = false;
  websocket::close_reason reason;
};

// Sets the User-Agent and the caller's headers on the upgrade request.
struct add_headers {
  std::vector<http_header> headers;
  std::string user_agent;
  void operator()(websocket::request_type& request) const {
    request.set(http::field::user_agent, user_agent);
    for (const auto& header : headers) request.set(header.name, header.value);
  }
};

struct handshake_outcome {
  error_code ec;
  unsigned status = 0;
};
}  // namespace

// One websocket connection: the queue and its writer are here; the stream is in basic_ws_connection.
class ws_connection : public std::enable_shared_from_this<ws_connection> {
 public:
  ws_connection(asio::any_io_executor executor, std::shared_ptr<spdlog::logger> log)
      : executor_(executor), wake_(executor), writer_done_signal_(executor), watchdog_(executor), log_(std::move(log)) {
    writer_done_signal_.expires_at(asio::steady_timer::time_point::max());
  }
  virtual ~ws_connection() = default;
  ws_connection(const ws_connection&) = delete;
  ws_connection& operator=(const ws_connection&) = delete;

  virtual asio::awaitable<handshake_outcome> open(url_parts url, std::vector<http_header> headers,
                                                  ws_config config) = 0;
  // One message into read_buffer_; true when it is text.
  virtual asio::awaitable<std::tuple<error_code, bool>> read_message() = 0;
  virtual asio::awaitable<error_code> write_text(std::string text) = 0;
  virtual asio::awaitable<error_code> close_handshake(websocket::close_reason reason) = 0;
  virtual asio::awaitable<error_code> send_ping() = 0;
  virtual void shutdown() = 0;  // closes the socket at once
  // Writes from begin_gather() on are collected; the one after send_with_next() sends them all with itself;
  // end_gather() goes back to writing each at once (gather_stream.hpp).
  virtual void begin_gather() = 0;
  virtual void send_with_next() = 0;
  virtual void end_gather() = 0;
  virtual std::uint16_t peer_close_code() const = 0;

  void start_writer();
  void start_watchdog(clock::duration idle);

  // Anything from the server (a message, a ping, a pong, a close) shows the connection alive.
  void heard() { last_heard_ = clock::now(); }

  // A ping ahead of every ordinary message (the writer sends it; Beast writes nothing beside the writer's writes).
  void request_ping() {
    if (!open_ || closing_) return;
    outgoing item;
    item.ping = true;
    queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(urgent_), std::move(item));
    ++urgent_;
    wake_.cancel();
  }

  outgoing take() {
    outgoing next = std::move(queue_.front());
    queue_.pop_front();
    if (urgent_ > 0) --urgent_;
    return next;
  }
  bool text_waiting() const { return !queue_.empty() && !queue_.front().close && !queue_.front().ping; }

  result<void> enqueue(std::string text, bool front) {
    if (!open_ || closing_) return errc::not_connected;
    outgoing item;
    item.text = std::move(text);
    if (front) {
      // Ahead of every ordinary message, behind the urgent ones queued before it: acks go out in the order they
      // were made. (Pushed to the very front, a steady stream of acks kept the oldest ones waiting for a lull:
      // ack latencies of a second under load.)
      queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(urgent_), std::move(item));
      ++urgent_;
    } else {
      queue_.push_back(std::move(item));
    }
    wake_.cancel();
    return {};
  }

  void request_close(websocket::close_reason reason) {
    closing_ = true;
    outgoing item;
    item.close = true;
    item.reason = std::move(reason);
    queue_.push_back(std::move(item));
    wake_.cancel();
  }

  // The connection is gone: stop the writer and, unless our close handshake is running, the socket.
  void fail() {
    open_ = false;
    watchdog_.cancel();
    if (!closing_ || writer_finished_) shutdown();
    wake_.cancel();
  }

  asio::awaitable<void> wait_writer_finished() {
    if (writer_finished_) co_return;
    co_await writer_done_signal_.async_wait(use_tuple);
  }

  bool open_ = false;
  bool closing_ = false;
  bool writer_finished_ = false;
  std::deque<outgoing> queue_;
  std::size_t urgent_ = 0;  // the first urgent_ messages of queue_ came from write_front()
  beast::flat_buffer read_buffer_;

 protected:
  friend asio::awaitable<void> run_writer(std::shared_ptr<ws_connection> self);
  friend asio::awaitable<void> run_watchdog(std::shared_ptr<ws_connection> self, clock::duration idle);
  asio::any_io_executor executor_;
  asio::steady_timer wake_;                // the writer sleeps on it while the queue is empty
  asio::steady_timer writer_done_signal_;  // cancelled when the writer ends
  asio::steady_timer watchdog_;            // the idle check (run_watchdog)
  clock::time_point last_heard_ = clock::now();

 public:
  bool idle_timed_out_ = false;  // the watchdog cut the connection off

 protected:
  std::shared_ptr<spdlog::logger> log_;
};

// The one writer of a connection: drains the queue in order until the connection closes or fails.
// Messages that wait behind the one being written go out with it in one write (one TLS record, one sendmsg) instead
// of one each: under load, writing Slack's acks one by one was a third of the io thread's work.
constexpr std::size_t max_gathered_bytes = 64 * 1024;

asio::awaitable<void> run_writer(std::shared_ptr<ws_connection> self) {
  while (self->open_) {
    if (self->queue_.empty()) {
      self->wake_.expires_at(asio::steady_timer::time_point::max());
      co_await self->wake_.async_wait(use_tuple);
      continue;
    }
    outgoing next = self->take();
    if (next.ping) {
      if (const auto ec = co_await self->send_ping()) {
        self->log_->debug("ws ping error={}", ec.message());
        self->fail();
        break;
      }
      continue;
    }
    if (next.close) {
      const auto ec = co_await self->close_handshake(std::move(next.reason));
      if (ec) self->log_->debug("ws close handshake error={}", ec.message());
      self->open_ = false;
      break;
    }
    std::vector<std::string> batch;
    batch.push_back(std::move(next.text));
    for (std::size_t bytes = batch.back().size(); self->text_waiting() && bytes < max_gathered_bytes;) {
      batch.push_back(self->take().text);
      bytes += batch.back().size();
    }
    if (batch.size() > 1) self->begin_gather();
    error_code ec;
    for (std::size_t i = 0; i < batch.size() && !ec; ++i) {
      if (batch.size() > 1 && i + 1 == batch.size()) self->send_with_next();
      ec = co_await self->write_text(std::move(batch[i]));
    }
    if (batch.size() > 1) self->end_gather();
    if (ec) {
      self->log_->debug("ws write error={}", ec.message());
      self->fail();
      break;
    }
  }
  self->writer_finished_ = true;
  self->writer_done_signal_.cancel();
  self->watchdog_.cancel();
}

// Liveness, checked a few times per idle period rather than by re-arming a timer on every message read: Beast's own
// idle timeout did that, a timer syscall and a cancelled wait per message, 7-9% of the io thread under load. After
// idle / 2 without a word from the server the writer sends a ping; after `idle` the connection is cut off, which also
// ends a close or teardown the peer never answers.
asio::awaitable<void> run_watchdog(std::shared_ptr<ws_connection> self, clock::duration idle) {
  const auto step = std::max<clock::duration>(idle / 8, std::chrono::milliseconds{5});
  auto pinged_at = clock::time_point::min();
  while (self->open_) {
    self->watchdog_.expires_after(step);
    auto [ec] = co_await self->watchdog_.async_wait(use_tuple);
    if (ec || !self->open_) break;
    const auto now = clock::now();
    const auto quiet = now - self->last_heard_;
    if (quiet >= idle) {
      self->log_->debug("ws idle for {} ms: closing", std::chrono::duration_cast<std::chrono::milliseconds>(quiet).count());
      self->idle_timed_out_ = true;
      self->closing_ = false;  // nothing more is waited for
      self->fail();
      break;
    }
    if (quiet >= idle / 2 && pinged_at < self->last_heard_) {
      self->request_ping();
      pinged_at = now;
    }
  }
}

void ws_connection::start_watchdog(clock::duration idle) {
  last_heard_ = clock::now();
  asio::co_spawn(executor_, run_watchdog(shared_from_this(), idle), asio::detached);
}

void ws_connection::start_writer() {
  asio::co_spawn(executor_, run_writer(shared_from_this()), [log = log_](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log->error("ws writer failed: {}", e.what());
    }
  });
}

namespace {

template <class Next>
class basic_ws_connection final : public ws_connection {
 public:
  template <class... Args>
  basic_ws_connection(asio::any_io_executor executor, std::shared_ptr<spdlog::logger> log, Args&&... args)
      : ws_connection(executor, std::move(log)), ws_(executor, std::forward<Args>(args)...) {}

  asio::awaitable<handshake_outcome> open(url_parts url, std::vector<http_header> headers,
                                          ws_config config) override {
    handshake_outcome out;
    const auto deadline = clock::now() + config.connect_timeout;
    out.ec = co_await connect_any(ws_.next_layer().next_layer(), url, deadline, log_);
    if (out.ec) co_return out;
    // From here the websocket's own timers bound the waits.
    beast::get_lowest_layer(ws_).expires_never();
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::client);
    timeouts.handshake_timeout = config.handshake_timeout;
    // Idleness is watched by run_watchdog, not by Beast, which re-arms its timer on every read.
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { heard(); });
    ws_.set_option(websocket::stream_base::decorator(add_headers{std::move(headers), config.user_agent}));
    ws_.read_message_max(config.max_message);
    websocket::response_type response;
    auto [ec] = co_await ws_.async_handshake(response, url.host_header(), url.target, use_tuple);
    out.status = response.result_int();
    if (ec) {
      log_->debug("ws handshake host={} path={} status={} error={}", url.host_header(), log_path(url.target),
                  out.status, ec.message());
      out.ec = to_net_error(ec, errc::protocol_error);
    }
    co_return out;
  }

  asio::awaitable<std::tuple<error_code, bool>> read_message() override {
    auto [ec, size] = co_await ws_.async_read(read_buffer_, use_tuple);
    if (!ec) heard();
    co_return std::tuple<error_code, bool>{ec, ws_.got_text()};
  }

  asio::awaitable<error_code> write_text(std::string text) override {
    ws_.text(true);
    auto [ec, size] = co_await ws_.async_write(asio::buffer(text), use_tuple);
    co_return ec;
  }

  asio::awaitable<error_code> send_ping() override {
    auto [ec] = co_await ws_.async_ping({}, use_tuple);
    co_return ec;
  }

  asio::awaitable<error_code> close_handshake(websocket::close_reason reason) override {
    auto [ec] = co_await ws_.async_close(reason, use_tuple);
    co_return ec;
  }

  // Closes the socket and disarms Beast's own timer. A failed stream (status failed) leaves its idle/ping timer
  // armed until it expires (up to idle_timeout / 2), and a pending wait keeps io_context::run() from returning:
  // a stopped bot then lingered ~15 s after SIGTERM. Turning the timeouts off cancels that wait now.
  void shutdown() override {
    ws_.set_option(websocket::stream_base::timeout{websocket::stream_base::none(), websocket::stream_base::none(),
                                                   false});
    beast::get_lowest_layer(ws_).close();
  }

  std::uint16_t peer_close_code() const override { return ws_.reason().code; }

  void begin_gather() override { ws_.next_layer().gather(); }
  void send_with_next() override { ws_.next_layer().send_with_next(); }
  void end_gather() override { ws_.next_layer().end_gather(); }

 private:
  websocket::stream<gather_stream<Next>> ws_;
};

}  // namespace
}  // namespace detail

ws_client::ws_client(asio::any_io_executor executor, asio::ssl::context& tls, ws_config config,
                     std::shared_ptr<spdlog::logger> log)
    : executor_(std::move(executor)), tls_(tls), config_(std::move(config)), log_(detail::or_silent(std::move(log))) {}

ws_client::~ws_client() { abort(); }

void ws_client::abort() {
  if (auto connecting = connecting_.lock()) connecting->shutdown();  // a connect() under way fails at once
  if (!connection_) return;
  connection_->closing_ = false;
  connection_->fail();
}

bool ws_client::is_open() const { return connection_ && connection_->open_; }

std::size_t ws_client::queued() const { return connection_ ? connection_->queue_.size() : 0; }

std::uint16_t ws_client::close_code() const { return connection_ ? connection_->peer_close_code() : 0; }

asio::awaitable<result<void>> ws_client::connect(std::string url, std::vector<http_header> headers) {
  abort();
  connection_.reset();
  last_handshake_status_ = 0;
  auto parts = parse_url(url);
  if (!parts || !parts->websocket()) co_return errc::bad_url;

  // On the client's own executor, not a strand: callers queue writes from it directly, so the connection is
  // single-threaded by contract, and a strand would only add a queue and a lock to every completion.
  std::shared_ptr<detail::ws_connection> connection;
  if (parts->secure()) {
    connection = std::make_shared<detail::basic_ws_connection<tls_stream>>(executor_, log_, tls_);
  } else {
    connection = std::make_shared<detail::basic_ws_connection<beast::tcp_stream>>(executor_, log_);
  }
  const auto started = clock::now();
  connecting_ = connection;
  const auto outcome = co_await connection->open(*parts, std::move(headers), config_);
  connecting_.reset();
  last_handshake_status_ = outcome.status;
  if (outcome.ec) {
    connection->shutdown();
    co_return outcome.ec;
  }
  connection->open_ = true;
  connection->start_writer();
  connection->start_watchdog(config_.idle_timeout.count() > 0 ? config_.idle_timeout : ws_config{}.idle_timeout);
  connection_ = std::move(connection);
  log_->info("ws connected host={} path={} ms={}", parts->host_header(), detail::log_path(parts->target),
             std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started).count());
  co_return result<void>{};
}

asio::awaitable<result<std::string>> ws_client::read() {
  auto connection = connection_;  // kept alive across the wait, whatever happens to connection_
  if (!connection || !connection->open_) co_return errc::not_connected;
  for (;;) {
    auto [ec, text] = co_await connection->read_message();
    if (ec) {
      error_code mapped = to_net_error(ec, errc::protocol_error);
      if (mapped == errc::timeout || connection->idle_timed_out_) mapped = errc::idle_timeout;
      log_->debug("ws read error={} cause={} close_code={}", mapped.message(), ec.message(),
                  connection->peer_close_code());
      connection->fail();
      co_return mapped;
    }
    const auto size = connection->read_buffer_.size();
    if (!text) {
      connection->read_buffer_.consume(size);
      log_->debug("ws binary frame skipped bytes={}", size);
      co_return errc::binary_frame;
    }
    std::string message = beast::buffers_to_string(connection->read_buffer_.data());
    connection->read_buffer_.consume(size);
    co_return message;
  }
}

result<void> ws_client::write(std::string text) {
  if (!connection_) return errc::not_connected;
  return connection_->enqueue(std::move(text), false);
}

result<void> ws_client::write_front(std::string text) {
  if (!connection_) return errc::not_connected;
  return connection_->enqueue(std::move(text), true);
}

asio::awaitable<result<void>> ws_client::close(websocket::close_code code, std::string reason) {
  using namespace asio::experimental::awaitable_operators;
  auto connection = connection_;
  if (!connection || !connection->open_ || connection->closing_) co_return result<void>{};
  websocket::close_reason why(code);
  why.reason = reason;
  connection->request_close(std::move(why));
  // The close handshake is bounded by Beast's handshake timeout; this bound covers the queue before it.
  asio::steady_timer limit(co_await asio::this_coro::executor, 2 * config_.handshake_timeout);
  auto winner = co_await (connection->wait_writer_finished() || limit.async_wait(detail::use_tuple));
  connection->open_ = false;
  if (winner.index() == 1) {
    connection->closing_ = false;
    connection->fail();
    co_return errc::timeout;
  }
  co_return result<void>{};
}

}  // namespace kintsugi::net
