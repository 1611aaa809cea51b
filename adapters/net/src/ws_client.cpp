#include <net/ws_client.hpp>
#include <net/ws_frame.hpp>

#include "connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <deque>
#include <random>
#include <type_traits>

namespace kintsugi::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using detail::clock;

namespace detail {
namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Bytes asked of the socket per read; a TLS record holds up to 16 KiB, about a dozen of Slack's envelopes.
constexpr std::size_t read_chunk = 64 * 1024;
// A received buffer grown past this (for one big message) is given back once it is empty.
constexpr std::size_t keep_buffer = 1024 * 1024;

struct outgoing {
  ws::opcode op = ws::opcode::text;  // text, ping, pong or close
  std::string payload;
};

struct handshake_outcome {
  error_code ec;
  unsigned status = 0;
};

// Client frames are masked with keys a server cannot predict (RFC 6455 §5.3): OpenSSL's generator, 64 keys a draw.
class mask_source {
 public:
  std::uint32_t next() {
    if (next_ == pool_.size()) {
      if (RAND_bytes(reinterpret_cast<unsigned char*>(pool_.data()), static_cast<int>(sizeof(pool_))) != 1) {
        std::random_device fallback;
        for (auto& key : pool_) key = fallback();
      }
      next_ = 0;
    }
    return pool_[next_++];
  }

 private:
  std::array<std::uint32_t, 64> pool_{};
  std::size_t next_ = pool_.size();
};

std::string new_websocket_key() {
  std::array<unsigned char, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    std::random_device fallback;
    for (auto& b : nonce) b = static_cast<unsigned char>(fallback());
  }
  return ws::base64(nonce.data(), nonce.size());
}

// The upgrade (RFC 6455 §4.1) over a connected stream. What the server sent after its answer (the first frames) stays
// in `received`.
template <class Stream>
asio::awaitable<handshake_outcome> upgrade(Stream& stream, beast::flat_buffer& received, const url_parts& url,
                                           const std::vector<http_header>& headers, const std::string& user_agent,
                                           spdlog::logger& log) {
  handshake_outcome out;
  const std::string key = new_websocket_key();
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, url.host_header());
  request.set(http::field::upgrade, "websocket");
  request.set(http::field::connection, "Upgrade");
  request.set(http::field::sec_websocket_key, key);
  request.set(http::field::sec_websocket_version, "13");
  request.set(http::field::user_agent, user_agent);
  for (const auto& header : headers) request.set(header.name, header.value);
  auto [write_ec, written] = co_await http::async_write(stream, request, use_tuple);
  error_code ec = write_ec;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  if (!ec) {
    auto [read_ec, read] = co_await http::async_read(stream, received, parser, use_tuple);
    ec = read_ec;
  }
  if (!ec) {
    const auto& response = parser.get();
    out.status = response.result_int();
    if (out.status != 101) {
      ec = errc::handshake_rejected;
    } else if (!beast::iequals(response[http::field::upgrade], "websocket") ||
               !http::token_list{response[http::field::connection]}.exists("upgrade") ||
               response[http::field::sec_websocket_accept] != ws::accept_key(key)) {
      ec = errc::protocol_error;
    }
  }
  if (ec) {
    log.debug("ws handshake host={} path={} status={} error={}", url.host_header(), log_path(url.target), out.status,
              ec.message());
    out.ec = to_net_error(ec, errc::protocol_error);
  }
  co_return out;
}
}  // namespace

// One websocket connection: frames in and out, the queue and its writer, the close handshake. The stream (TCP or
// TLS) is in stream_connection.
class ws_connection : public std::enable_shared_from_this<ws_connection> {
 public:
  ws_connection(asio::any_io_executor executor, std::shared_ptr<spdlog::logger> log, std::size_t max_message)
      : reader_(max_message),
        executor_(executor),
        wake_(executor),
        writer_done_signal_(executor),
        close_signal_(executor),
        watchdog_(executor),
        log_(std::move(log)) {
    writer_done_signal_.expires_at(asio::steady_timer::time_point::max());
  }
  virtual ~ws_connection() = default;
  ws_connection(const ws_connection&) = delete;
  ws_connection& operator=(const ws_connection&) = delete;

  // Connects and upgrades; what arrived after the server's answer is in received_.
  virtual asio::awaitable<handshake_outcome> open(url_parts url, std::vector<http_header> headers,
                                                  ws_config config) = 0;
  virtual void shutdown() = 0;  // closes the socket at once

  // The next message into message_, with whether it is text. Pings are answered and pongs noted on the way. An
  // error ends the connection: connection_closed after the server's close frame (see closing_), or the protocol
  // error that made us close it, or the stream's own error.
  asio::awaitable<std::tuple<error_code, bool>> read_message() {
    if (reading_) co_return std::tuple<error_code, bool>{errc::connection_closed, false};  // the close drains it
    reading_ = true;
    auto result = co_await read_frames(true);
    reading_ = false;
    close_signal_.cancel();  // a close handshake may be waiting for a reader
    co_return result;
  }

  void start_writer();
  void start_watchdog(clock::duration idle);

  // A ping ahead of every ordinary message.
  void request_ping() {
    if (!open_ || closing_) return;
    push_urgent(outgoing{ws::opcode::ping, {}});
  }

  result<void> enqueue(std::string text, bool front) {
    if (!open_ || closing_) return errc::not_connected;
    outgoing item{ws::opcode::text, std::move(text)};
    if (front) {
      // Ahead of every ordinary message, behind the urgent ones queued before it: acks go out in the order they
      // were made. (Pushed to the very front, a steady stream of acks kept the oldest ones waiting for a lull:
      // ack latencies of a second under load.)
      push_urgent(std::move(item));
    } else {
      queue_.push_back(std::move(item));
      wake_.cancel();
    }
    return {};
  }

  // Our close, after everything queued.
  void request_close(std::uint16_t code, std::string_view reason) {
    closing_ = true;
    queue_.push_back(outgoing{ws::opcode::close, ws::close_payload(code, reason)});
    wake_.cancel();
  }

  // The connection is gone: stop the writer and, unless our close handshake is running, the socket.
  void fail() {
    open_ = false;
    watchdog_.cancel();
    if (!closing_ || writer_finished_) shutdown();
    wake_.cancel();
    close_signal_.cancel();
  }

  asio::awaitable<void> wait_writer_finished() {
    if (writer_finished_) co_return;
    co_await writer_done_signal_.async_wait(use_tuple);
  }

  std::uint16_t peer_close_code() const { return peer_close_code_; }

  bool open_ = false;
  bool closing_ = false;  // a close frame of ours is queued or sent: nothing else goes out
  bool writer_finished_ = false;
  bool idle_timed_out_ = false;  // the watchdog cut the connection off
  std::deque<outgoing> queue_;
  std::string message_;  // what read_message() read

 protected:
  friend asio::awaitable<void> run_writer(std::shared_ptr<ws_connection> self);
  friend asio::awaitable<void> run_watchdog(std::shared_ptr<ws_connection> self, clock::duration idle);

  virtual asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer into) = 0;
  virtual asio::awaitable<error_code> write_all(asio::const_buffer bytes) = 0;
  // After the close frames: TLS's close_notify both ways where there is TLS, then the socket is closed.
  virtual asio::awaitable<void> teardown() = 0;

  // Frames from received_ until a message (when `deliver`; otherwise messages are dropped), a close or an error.
  asio::awaitable<std::tuple<error_code, bool>> read_frames(bool deliver);
  // Our close frame is out: wait for the server's (unless we are failing the connection), then tear down.
  asio::awaitable<void> finish_close();

  void push_urgent(outgoing item) {
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
  // Our close in answer to the server's, or for a protocol error: it goes out next, and nothing after it.
  void close_now(std::uint16_t code) {
    if (closing_) return;
    closing_ = true;
    queue_.clear();
    urgent_ = 0;
    queue_.push_back(outgoing{ws::opcode::close, code == ws::close_no_status ? std::string{} : ws::close_payload(code, {})});
    wake_.cancel();
  }

  beast::flat_buffer received_;  // bytes from the server not yet taken as frames
  ws::frame_reader reader_;
  mask_source masks_;
  std::size_t urgent_ = 0;  // the first urgent_ items of queue_ are acks, pings and pongs
  bool reading_ = false;    // a read of the stream is under way (one at a time)
  bool close_received_ = false;
  bool failing_ = false;  // we close for a protocol error: the server's close is not waited for
  std::uint16_t peer_close_code_ = 0;
  asio::any_io_executor executor_;
  asio::steady_timer wake_;                // the writer sleeps on it while the queue is empty
  asio::steady_timer writer_done_signal_;  // cancelled when the writer ends
  asio::steady_timer close_signal_;        // cancelled when a reader stops (the close handshake waits on it)
  asio::steady_timer watchdog_;            // the idle check (run_watchdog)
  clock::time_point last_heard_ = clock::now();
  std::shared_ptr<spdlog::logger> log_;
};

asio::awaitable<std::tuple<error_code, bool>> ws_connection::read_frames(bool deliver) {
  using kind = ws::frame_event::kind;
  for (;;) {
    const std::string_view held{static_cast<const char*>(received_.data().data()), received_.size()};
    const ws::frame_event ev = reader_.next(held);
    switch (ev.what) {
      case kind::need_more: {
        if (held.empty() && received_.capacity() > keep_buffer) received_ = beast::flat_buffer{};
        auto [ec, n] = co_await read_some(received_.prepare(std::max(read_chunk, ev.needed - held.size())));
        if (ec) co_return std::tuple<error_code, bool>{ec, false};
        received_.commit(n);
        last_heard_ = clock::now();  // anything from the server shows the connection alive
        break;
      }
      case kind::fragment:
      case kind::pong:
        received_.consume(ev.used);
        break;
      case kind::ping:
        if (!closing_) push_urgent(outgoing{ws::opcode::pong, std::string{ev.payload}});
        received_.consume(ev.used);
        break;
      case kind::message:
        if (deliver) {
          message_.assign(ev.payload);
          received_.consume(ev.used);
          co_return std::tuple<error_code, bool>{error_code{}, ev.text};
        }
        received_.consume(ev.used);
        break;
      case kind::close:
        peer_close_code_ = ev.close_code;
        received_.consume(ev.used);
        close_received_ = true;
        close_now(ev.close_code);  // the answer, unless our own close went first
        co_return std::tuple<error_code, bool>{errc::connection_closed, false};
      case kind::error:
        log_->debug("ws protocol error={} closing with {}", make_error_code(ev.error).message(), ev.close_code);
        failing_ = true;
        close_now(ev.close_code);
        co_return std::tuple<error_code, bool>{ev.error, false};
    }
  }
}

asio::awaitable<void> ws_connection::finish_close() {
  while (!failing_ && !close_received_ && open_) {
    if (!reading_) {  // nobody reads: drain the stream here until the server's close arrives
      reading_ = true;
      co_await read_frames(false);
      reading_ = false;
      break;
    }
    close_signal_.expires_at(asio::steady_timer::time_point::max());
    co_await close_signal_.async_wait(use_tuple);
  }
  co_await teardown();
}

// The one writer of a connection: drains the queue in order until the connection closes or fails. Everything
// queued goes out framed in one write (one TLS record, one sendmsg for a few dozen acks) rather than one each.
constexpr std::size_t max_gathered_bytes = 64 * 1024;

asio::awaitable<void> run_writer(std::shared_ptr<ws_connection> self) {
  std::string out;
  while (self->open_) {
    if (self->queue_.empty()) {
      self->wake_.expires_at(asio::steady_timer::time_point::max());
      co_await self->wake_.async_wait(use_tuple);
      continue;
    }
    out.clear();
    bool close_sent = false;
    while (!self->queue_.empty() && out.size() < max_gathered_bytes && !close_sent) {
      const outgoing next = self->take();
      ws::append_frame(out, next.op, next.payload, self->masks_.next());
      close_sent = next.op == ws::opcode::close;
    }
    const auto ec = co_await self->write_all(asio::buffer(out));
    if (ec) {
      self->log_->debug("ws write error={}", ec.message());
      self->fail();
      break;
    }
    if (close_sent) {
      co_await self->finish_close();
      self->open_ = false;
      break;
    }
    if (out.capacity() > keep_buffer) out = std::string{};
  }
  self->writer_finished_ = true;
  self->writer_done_signal_.cancel();
  self->watchdog_.cancel();
}

// Liveness, checked a few times per idle period rather than by re-arming a timer on every read. After idle / 2
// without a byte from the server the writer sends a ping; after `idle` the connection is cut off, which also ends a
// close or teardown the peer never answers.
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

template <class Stream>
class stream_connection final : public ws_connection {
 public:
  template <class... Args>
  stream_connection(asio::any_io_executor executor, std::shared_ptr<spdlog::logger> log, std::size_t max_message,
                    Args&&... args)
      : ws_connection(executor, std::move(log), max_message), stream_(executor, std::forward<Args>(args)...) {}

  asio::awaitable<handshake_outcome> open(url_parts url, std::vector<http_header> headers,
                                          ws_config config) override {
    handshake_outcome out;
    const auto deadline = clock::now() + config.connect_timeout;
    out.ec = co_await connect_any(stream_, url, deadline, log_);
    if (out.ec) co_return out;
    auto& tcp = beast::get_lowest_layer(stream_);
    tcp.expires_after(config.handshake_timeout);
    out = co_await upgrade(stream_, received_, url, headers, config.user_agent, *log_);
    // From here the watchdog bounds the waits (the stream's timer would cost a syscall per read).
    tcp.expires_never();
    co_return out;
  }

  void shutdown() override { beast::get_lowest_layer(stream_).close(); }

 protected:
  asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer into) override {
    auto [ec, n] = co_await stream_.async_read_some(into, use_tuple);
    co_return std::tuple<error_code, std::size_t>{ec, n};
  }

  asio::awaitable<error_code> write_all(asio::const_buffer bytes) override {
    auto [ec, n] = co_await asio::async_write(stream_, bytes, use_tuple);
    co_return ec;
  }

  asio::awaitable<void> teardown() override {
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      auto [ec] = co_await stream_.async_shutdown(use_tuple);
      if (ec && ec != asio::error::eof && ec != asio::ssl::error::stream_truncated)
        log_->debug("ws tls shutdown error={}", ec.message());
    } else {
      error_code ignored;
      beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    }
    shutdown();
  }

 private:
  Stream stream_;
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
    connection = std::make_shared<detail::stream_connection<tls_stream>>(executor_, log_, config_.max_message, tls_);
  } else {
    connection = std::make_shared<detail::stream_connection<beast::tcp_stream>>(executor_, log_, config_.max_message);
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
  auto [ec, text] = co_await connection->read_message();
  if (ec) {
    // A close frame is on its way (our answer to the server's, or ours for its protocol error): let it and the
    // teardown finish (the watchdog bounds that) before the connection is dropped.
    if (connection->closing_) co_await connection->wait_writer_finished();
    error_code mapped = to_net_error(ec, errc::protocol_error);
    if (mapped == errc::timeout || connection->idle_timed_out_) mapped = errc::idle_timeout;
    log_->debug("ws read error={} cause={} close_code={}", mapped.message(), ec.message(),
                connection->peer_close_code());
    connection->fail();
    co_return mapped;
  }
  if (!text) {
    log_->debug("ws binary frame skipped bytes={}", connection->message_.size());
    co_return errc::binary_frame;
  }
  co_return std::move(connection->message_);
}

result<void> ws_client::write(std::string text) {
  if (!connection_) return errc::not_connected;
  return connection_->enqueue(std::move(text), false);
}

result<void> ws_client::write_front(std::string text) {
  if (!connection_) return errc::not_connected;
  return connection_->enqueue(std::move(text), true);
}

asio::awaitable<result<void>> ws_client::close(boost::beast::websocket::close_code code, std::string reason) {
  using namespace asio::experimental::awaitable_operators;
  auto connection = connection_;
  if (!connection || !connection->open_ || connection->closing_) co_return result<void>{};
  connection->request_close(static_cast<std::uint16_t>(code), reason);
  // The handshake is bounded by the watchdog; this bound covers the queue before it as well.
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
