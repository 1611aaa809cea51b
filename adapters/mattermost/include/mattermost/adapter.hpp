#pragma once
// kintsugi in Mattermost: GET /api/v4/users/me (who the bot is), then /api/v4/websocket with the bot token in the
// Authorization header, the REST v4 API for what the bot says, and two routes on the bot's HTTP listener for what
// Mattermost sends it: POST /mattermost/command (the /incident custom slash command, checked against its token)
// and POST /mattermost/action (interactive buttons, whose context carries an HMAC kintsugi made).
//
// Nothing is lost:
// - Every event is stored (runtime::host::submit) before its seq counts as received. After a drop the socket is
//   reopened with connection_id and sequence_number, so the server replays what was missed; a hello with a new
//   connection_id means it could not (restart, timeout, another node), and then every open incident channel is
//   resynced with GET /channels/{id}/posts?since=…. An event whose seq skips ahead closes the socket the same way.
//   The store's inbox keeps each post once however often it arrives.
// - What the bot says leaves through the store's outbox (runtime::outbox_sender), retried on 429 and 5xx.
// A dropped socket is reconnected with jittered backoff (cap 60 s); a refused token stops the adapter with a reason.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/events.hpp"
#include "mattermost/codec.hpp"
#include "mattermost/rest_client.hpp"
#include "net/http_server.hpp"
#include "net/ws_client.hpp"
#include "runtime/host.hpp"
#include "runtime/outbox_sender.hpp"

namespace spdlog {
class logger;
}

namespace kintsugi::mattermost {

struct settings {
  std::string url;           // https://chat.example.com
  std::string token;         // the bot account's access token
  std::string slash_token;   // the /incident command's token; empty: every command is refused (401)
  std::string callback_url;  // where Mattermost reaches the listener, for buttons; empty: no buttons
  std::string team;          // team name or id for new channels; empty: the bot's only team
  std::chrono::milliseconds idle_timeout{std::chrono::seconds{30}};
  std::chrono::milliseconds reconnect_base{std::chrono::milliseconds{500}};
  std::chrono::milliseconds reconnect_cap{std::chrono::seconds{60}};
  std::size_t max_send_attempts = 8;
  // nullopt: every outbox item (Mattermost alone); "mm" beside Slack (core::route_of).
  std::optional<std::string> outbox_route;
};

class adapter {
 public:
  adapter(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls, settings s, runtime::host& host,
          std::shared_ptr<spdlog::logger> log);
  ~adapter();
  adapter(const adapter&) = delete;
  adapter& operator=(const adapter&) = delete;

  // POST /mattermost/command and POST /mattermost/action on `server` (before it runs).
  void attach(net::http_server& server);

  // Runs until stop() or until the token is refused. Returns the reason ("stopped" after stop()).
  boost::asio::awaitable<std::string> run();
  void stop();
  // From any thread: the store queued something to send.
  void wake_sender();

 private:
  struct directory;       // usernames, channel names and DM channels, cached (adapter.cpp)
  struct pending_lookup;  // a directory lookup under way (adapter.cpp)

  boost::asio::awaitable<bool> identify();
  boost::asio::awaitable<void> socket_loop();
  boost::asio::awaitable<bool> submit_all(std::vector<core::event> events,
                                          runtime::host::lane lane = runtime::host::lane::live);
  boost::asio::awaitable<void> resync();
  boost::asio::awaitable<void> learn(std::vector<core::event> events);
  boost::asio::awaitable<std::string> username_of(std::string user_id);
  boost::asio::awaitable<std::string> channel_name_of(std::string channel_id);
  boost::asio::awaitable<std::string> render(std::string core_text);
  boost::asio::awaitable<bool> deliver(core::action a);
  boost::asio::awaitable<bool> post(std::string channel_id, std::string text, std::vector<core::button> buttons,
                                    bool pin);
  boost::asio::awaitable<std::string> channel_id_of(std::string core_channel);
  boost::asio::awaitable<std::string> team_id();
  boost::asio::awaitable<net::http_reply> on_command(const net::incoming_request& req);
  boost::asio::awaitable<net::http_reply> on_action(const net::incoming_request& req);
  bool settled(const rest_response& r, std::string_view what);

  boost::asio::any_io_executor ex_;
  boost::asio::ssl::context& tls_;
  settings settings_;
  runtime::host& host_;
  std::shared_ptr<spdlog::logger> log_;
  rest_client rest_;
  runtime::outbox_sender sender_;
  std::unique_ptr<net::ws_client> ws_;
  context ctx_;
  std::string action_key_;
  std::unique_ptr<directory> dir_;
  std::string team_id_;
  std::string pending_key_;  // the outbox item being delivered, as a client key for the posts it makes
  boost::asio::steady_timer pause_;  // the wait before trying users/me or the websocket again
  bool stopping_ = false;
  std::string stop_reason_;
};

}  // namespace kintsugi::mattermost
