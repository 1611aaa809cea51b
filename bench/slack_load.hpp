#pragma once
// The load generator of issue 6: it plays Slack for the bot under test, kintsugi or the Bolt peer alike. It serves
// the Web API over HTTPS and Socket Mode over wss on 127.0.0.1 (a certificate from tls_test_ca), and pushes
// real-shaped events_api envelopes (~1.5 KB, the shape of fixtures/slack/socket_mode) into N channels, keeping at
// most `window` envelopes unacked. It timestamps every envelope as it is written and every ack as it is read.
//
// Everything runs on one io_context, on the caller's thread: the scenario driver is a coroutine beside the server.
// The Web API answers what both bots call: auth.test, apps.connections.open, chat.postMessage/postEphemeral,
// conversations.info/history/replies/join/open/setTopic/invite, users.info, pins.add (anything else: {"ok":true}).
// conversations.history serves the channel as Slack would: newest first, oldest/latest/inclusive, limit (at most
// 200 a page), cursor. Every message pushed over the socket and every message added with add_history() is in it.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace kintsugi::bench {

using bench_clock = std::chrono::steady_clock;

// Microseconds since the Unix epoch as a Slack ts: "1763632800.000100".
std::string slack_ts(std::uint64_t micros);

class slack_load {
 public:
  slack_load(boost::asio::io_context& io, boost::asio::ssl::context tls, std::size_t channels, std::size_t users);
  ~slack_load();
  slack_load(const slack_load&) = delete;
  slack_load& operator=(const slack_load&) = delete;

  std::uint16_t port() const;
  std::string api_url() const;  // "https://127.0.0.1:<port>/api/"
  static constexpr const char* bot_token = "xoxb-bench-bot";
  static constexpr const char* app_token = "xapp-1-bench";
  std::string channel(std::size_t i) const;  // "C0BENCH0007"

  // ---- the socket ----
  // Waits until a websocket is up and was sent hello (false after `timeout`).
  boost::asio::awaitable<bool> connected(std::chrono::milliseconds timeout);
  std::size_t websockets_opened() const;
  // Closes the live websocket's TCP connection at once, as a network drop would.
  void drop_socket();

  // A slash command "/incident <text>" by the first user in channel `c`; written like any envelope.
  boost::asio::awaitable<bool> push_command(std::size_t c, const std::string& text);
  // Pushes `count` people's messages, spread over the channels and users, at `rate` per second (0: as fast as
  // the window allows), stopping early after `max_time`. Returns how many were written.
  boost::asio::awaitable<std::size_t> push_messages(std::size_t count, double rate, std::chrono::milliseconds max_time);
  // Waits until every envelope written so far was acked (false after `timeout`).
  boost::asio::awaitable<bool> drained(std::chrono::milliseconds timeout);
  void set_window(std::size_t w);

  // ---- the history ----
  // `count` messages said "while the bot was away": in the channels' history, never pushed.
  void add_history(std::size_t count);

  // ---- what was seen ----
  std::size_t calls(const std::string& method) const;
  bench_clock::time_point last_call(const std::string& method) const;
  // Ack latencies in milliseconds of the envelopes written since the last clear_latencies().
  std::vector<double> latencies() const;
  void clear_latencies();
  bench_clock::time_point last_ack() const;
  std::size_t messages_pushed() const;
  std::size_t unacked() const;
  std::size_t envelope_bytes() const;  // the size of the last message envelope written

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace kintsugi::bench
