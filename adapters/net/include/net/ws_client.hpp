#pragma once
// A websocket client over ws or wss for one long-lived connection (Slack Socket Mode, Mattermost).
//
// - connect(): TCP, then TLS with SNI and certificate + host name verification (wss), then the upgrade
//   with extra headers (e.g. Authorization). Each phase is bounded; failures are errc values.
// - read(): the next text message. Only one read() at a time; keep one pending, since pongs and the
//   server's pings are handled while reading (pings are answered at once). One read of the socket takes in every
//   frame it holds, so the messages behind the first are returned without further I/O (ws_frame.hpp).
// - write() / write_front(): queue a text message and return at once. One writer coroutine per
//   connection drains the queue, so any number of coroutines may write. write_front() jumps ahead of
//   every ordinary message not yet started (acks, pongs); urgent messages keep their order among themselves.
// - Liveness: a watchdog checks a few times per idle_timeout (rather than a timer re-armed on every read): after
//   idle_timeout / 2 without a byte from the server a ping is sent, and if nothing (message, ping, pong or close)
//   arrives by idle_timeout, the connection is cut off and read() fails with errc::idle_timeout.
// - Frames: a binary message is skipped: read() returns errc::binary_frame and the connection stays open
//   (read again). A protocol violation (bad opcode, invalid UTF-8 in a text frame, oversize message)
//   fails the connection as RFC 6455 requires: errc::protocol_error or message_too_big, then closed.
//   Any error other than binary_frame means the connection is gone: connect() again. Failing a
//   connection sends a close frame with the matching code (1002, 1007, 1009) and ends TLS with close_notify
//   both ways; a server's close is answered the same way. A peer that never answers is cut off by the
//   watchdog, so that read() returns within about idle_timeout.
// The client must outlive the coroutines that use it; it is neither copied nor moved. It and its connection run on
// the executor it was given, which must not run handlers concurrently (an io_context run by one thread, or a
// strand): calls and completions share its state without locks.
#include <net/error.hpp>
#include <net/http_message.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace spdlog {
class logger;
}

namespace kintsugi::net {

struct ws_config {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};    // resolve + TCP + TLS
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};  // the upgrade, and the close handshake
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(30)};       // must be > 0; <= 0 is taken as 30 s
  std::size_t max_message = 16 * 1024 * 1024;
  std::string user_agent = "kintsugi";
};

namespace detail {
class ws_connection;
}

class ws_client {
 public:
  // `tls` is used for wss only and must outlive the client. A null logger logs nothing.
  ws_client(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls, ws_config config = {},
            std::shared_ptr<spdlog::logger> log = nullptr);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // Opens a new connection to a ws:// or wss:// URL (any previous one is dropped). The headers go on the
  // upgrade request and are never logged. errc::handshake_rejected when the server answers with another
  // status than 101 (see last_handshake_status()).
  boost::asio::awaitable<result<void>> connect(std::string url, std::vector<http_header> headers = {});

  // The next text message.
  boost::asio::awaitable<result<std::string>> read();

  // Queues a text message; errc::not_connected when there is no open connection.
  result<void> write(std::string text);
  result<void> write_front(std::string text);

  // Sends the queued messages, then a close frame with `code`, and waits (bounded by the handshake
  // timeout) for the server's close. Afterwards read() returns errc::connection_closed.
  boost::asio::awaitable<result<void>> close(
      boost::beast::websocket::close_code code = boost::beast::websocket::close_code::normal,
      std::string reason = {});

  // Drops the connection at once, without a close frame: the socket is closed and every timer of it cancelled,
  // so a pending read() returns now and nothing of the connection keeps the io_context busy. A connect() under
  // way fails as well.
  void abort();

  bool is_open() const;
  std::size_t queued() const;
  // The HTTP status of the last upgrade answer (101 when accepted, 0 when none arrived).
  unsigned last_handshake_status() const { return last_handshake_status_; }
  // The code of the close frame the server sent, 0 if none.
  std::uint16_t close_code() const;

 private:
  boost::asio::any_io_executor executor_;
  boost::asio::ssl::context& tls_;
  ws_config config_;
  std::shared_ptr<spdlog::logger> log_;
  std::shared_ptr<detail::ws_connection> connection_;
  std::weak_ptr<detail::ws_connection> connecting_;  // during connect(), so that abort() can cut it short
  unsigned last_handshake_status_ = 0;
};

}  // namespace kintsugi::net
