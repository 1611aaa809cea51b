#pragma once
// kintsugi in Slack, Socket Mode: auth.test, then apps.connections.open and the websocket. Every envelope is acked
// on the connection that delivered it, as soon as what it carries is durably stored (runtime::host::submit).
// `disconnect` frames are obeyed: on refresh_requested or warning a new connection is opened while the old one is
// still read, and the old one is closed once the new one said hello (or it ends by itself), so a refresh leaves no
// gap; link_disabled stops the adapter. A dropped socket is reconnected with jittered backoff (cap 60 s), and after
// every reconnect that left a gap the open incident channels are backfilled from conversations.history and, for
// threads replied to meanwhile, conversations.replies. Several connections may deliver the same event: the
// store's inbox keeps it once. What the bot says leaves through the store's outbox, so a crash or a 5xx loses
// nothing.
// In HTTP mode (slack::http_mode receives what Slack sends) the same adapter runs without the socket:
// run_sender_only() identifies the bot, backfills once and delivers the outbox; note_stored() learns new people.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/events.hpp"
#include "net/ws_client.hpp"
#include "runtime/host.hpp"
#include "runtime/outbox_sender.hpp"
#include "slack/codec.hpp"
#include "slack/web_api.hpp"

namespace spdlog {
class logger;
}

namespace kintsugi::slack {

struct settings {
  std::string app_token;  // xapp-…, for apps.connections.open
  std::string bot_token;  // xoxb-…, for everything else
  std::string api_base_url = "https://slack.com/api/";
  std::chrono::milliseconds idle_timeout{std::chrono::seconds{30}};
  std::chrono::milliseconds reconnect_base{std::chrono::milliseconds{500}};
  std::chrono::milliseconds reconnect_cap{std::chrono::seconds{60}};
  std::size_t max_send_attempts = 8;  // an outbox item that keeps failing is given up after this many tries
  // The outbox items this adapter delivers: nullopt, all of them (Slack alone); "" beside another platform (the
  // items whose route is Slack's, core::route_of).
  std::optional<std::string> outbox_route;
};

class adapter {
 public:
  adapter(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls, settings s, runtime::host& host,
          std::shared_ptr<spdlog::logger> log);
  ~adapter();
  adapter(const adapter&) = delete;
  adapter& operator=(const adapter&) = delete;

  // Runs until stop() or until Slack says the link is disabled or the tokens are refused. Returns the reason.
  boost::asio::awaitable<std::string> run();
  void stop();

  // HTTP mode: auth.test, then `identified` with who the bot is (for http_mode::set_context), a backfill of the
  // open incident channels (what was said while the bot was down), and the outbox until stop(). Returns the
  // reason, as run() does.
  boost::asio::awaitable<std::string> run_sender_only(std::function<void(const context&)> identified);

  // What another receiver (slack::http_mode) just stored: people seen for the first time are looked up
  // (users.info) in the background. Call on the adapter's executor.
  void note_stored(const std::vector<core::event>& events);

  // Called (from any thread) when the store queued something to send.
  void wake_sender();

 private:
  enum class after_connection { reconnect, refresh, stop };
  struct connection;  // one Socket Mode websocket (adapter.cpp)
  using connection_ptr = std::shared_ptr<connection>;
  struct listing;  // messages and threads found by a backfill's paging (adapter.cpp)

  boost::asio::awaitable<bool> identify();
  boost::asio::awaitable<void> socket_loop();
  boost::asio::awaitable<void> serve(connection_ptr c);
  bool on_hello(const connection_ptr& c, const hello& h);
  boost::asio::awaitable<void> retire(connection_ptr c);
  void forget(const connection_ptr& c);
  class in_flight_guard;
  struct pending_ack;
  void handle_envelope(connection_ptr c, envelope env);
  void acknowledge(pending_ack ack, const core::event_outcome& outcome);
  boost::asio::awaitable<bool> submit_all(std::vector<core::event> events,
                                          runtime::host::lane lane = runtime::host::lane::live);
  boost::asio::awaitable<void> sender_loop();
  boost::asio::awaitable<bool> deliver(core::action a);
  boost::asio::awaitable<bool> perform(api_call call);
  void start_backfill();
  boost::asio::awaitable<void> backfill();
  void note_heard_live(const std::vector<core::event>& events);
  boost::asio::awaitable<listing> list_messages(std::string method, std::string channel, std::string thread_ts,
                                                std::string oldest, std::string latest);
  // People and channels seen for the first time, to look up in Slack's directory.
  struct directory_gap {
    std::vector<std::string> users;
    std::vector<std::string> channels;
    bool empty() const { return users.empty() && channels.empty(); }
  };
  directory_gap note_unknown(const std::vector<core::event>& events);
  boost::asio::awaitable<void> learn(directory_gap gap);
  std::string resolve_channel(const std::string& channel) const;
  std::string finish_reason() const;

  boost::asio::any_io_executor ex_;
  boost::asio::ssl::context& tls_;
  settings settings_;
  runtime::host& host_;
  std::shared_ptr<spdlog::logger> log_;
  web_api api_;
  context ctx_;
  std::vector<connection_ptr> live_;  // connections being opened or read, oldest first
  std::size_t connections_opened_ = 0;
  runtime::outbox_sender sender_;
  bool stopping_ = false;
  std::string stop_reason_;
  std::set<std::string> known_users_;
  std::set<std::string> known_channels_;
  // While a backfill runs: per channel, the oldest message the socket delivered on Slack's first attempt since
  // the hello that left a gap. What was said after it reaches the socket, so the backfill stops there.
  std::map<std::string, core::timestamp, std::less<>> heard_live_since_;
  std::size_t backfills_running_ = 0;
  std::map<std::string, std::string> created_channels_;  // name -> id, for actions queued before the rebind
};

}  // namespace kintsugi::slack
