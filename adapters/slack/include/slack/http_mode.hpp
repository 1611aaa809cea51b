#pragma once
// kintsugi in Slack over HTTP (PROTOCOLS.md §2, §4, §5): the Events API, slash commands and interactivity all
// arrive as signed POSTs on one Request URL, /slack/events (Bolt's convention), on the bot's net::http_server,
// which other platforms share (Mattermost adds /mattermost/command and /mattermost/action). TLS is the reverse
// proxy's job.
//
// Every POST is checked with verify_request first: a missing, wrong or stale (> 5 min) signature gets 401 and
// nothing is stored. Then, by Content-Type and body:
//   JSON                          -> url_verification: 200 with the challenge;
//                                    event_callback: every event is stored (runtime::host::submit) before the
//                                    200; a store error answers 500 so that Slack delivers it again. Retries
//                                    (X-Slack-Retry-Num) of a stored event are recognised by the engine's inbox.
//   form with a `payload` field   -> interactivity: the button's command, if it is one of kintsugi's, is stored;
//                                    200.
//   other form                    -> slash command: stored, then 200 with an empty body. The bot's replies
//                                    leave through the outbox and the Web API, as in Socket Mode. If storing
//                                    takes longer than command_ack_within, the 200 goes out first (Slack gives
//                                    up after 3 s) and the command is still stored.
// GET /healthz answers 200 "ok".
// Logged: refused requests at warn (the reason and the peer, never headers or bodies), events at debug.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"
#include "core/time.hpp"
#include "net/http_server.hpp"
#include "runtime/host.hpp"
#include "slack/codec.hpp"

namespace spdlog {
class logger;
}

namespace kintsugi::slack {

struct http_settings {
  std::string signing_secret;        // slack.signing_secret; empty refuses every POST
  std::string path = "/slack/events";
  std::string health_path = "/healthz";
  // Now, for the signature's replay window and the time of slash commands; empty: the system clock.
  std::function<core::timestamp()> clock;
  std::chrono::milliseconds command_ack_within{std::chrono::milliseconds{2500}};
  // Called on the io executor with what was just stored (redeliveries included), e.g. for slack::adapter to look up
  // people it has not seen yet (users.info). May be empty.
  std::function<void(const std::vector<core::event>&)> stored;
};

enum class request_kind { events, interactivity, slash_command, unknown };
std::string_view name(request_kind k);

// What a POST on the Request URL carries, from its media type ("application/json") and body. A JSON
// object is an Events API body; a form is interactivity when it has a `payload` field, else a slash
// command; a body that is neither is unknown.
request_kind classify_request(std::string_view media_type, std::string_view body);

class http_mode {
 public:
  // The host, the logger and this object must outlive the server's connections.
  http_mode(http_settings s, runtime::host& host, std::shared_ptr<spdlog::logger> log);
  http_mode(const http_mode&) = delete;
  http_mode& operator=(const http_mode&) = delete;

  // Adds POST <path> and GET <health_path> to `server`.
  void attach(net::http_server& server);

  // Who the bot is (auth.test), so that its own messages are marked from_bot; none are until it is set.
  void set_context(context ctx);

  // The route handlers (attach() installs them).
  boost::asio::awaitable<net::http_reply> handle_post(net::incoming_request req);
  boost::asio::awaitable<net::http_reply> handle_health(net::incoming_request req);

 private:
  boost::asio::awaitable<net::http_reply> on_events(net::incoming_request req);
  boost::asio::awaitable<net::http_reply> on_slash_command(net::incoming_request req);
  boost::asio::awaitable<net::http_reply> on_interaction(net::incoming_request req);
  // Stores the events in order; the first store error, or empty.
  boost::asio::awaitable<std::string> submit_all(std::vector<core::event> events);
  core::timestamp now() const;
  context current_context() const;

  http_settings settings_;
  runtime::host& host_;
  std::shared_ptr<spdlog::logger> log_;
  mutable std::mutex mutex_;  // guards ctx_
  context ctx_;
};

}  // namespace kintsugi::slack
