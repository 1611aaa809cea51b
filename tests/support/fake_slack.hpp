#pragma once
// A fake Slack for end-to-end tests of the real bot: the Web API over HTTPS and Socket Mode over wss, on
// 127.0.0.1 with a certificate from tls_test_ca. It runs its own io_context on a background thread, so it
// answers while the test waits; everything it is told and everything it records goes through one mutex.
//
// Served under <api_base_url()> (POST, JSON or form bodies, "Authorization: Bearer …" checked like Slack does):
//   auth.test, apps.connections.open (the app token; answers wss://127.0.0.1:<port>/link?ticket=N, each ticket
//   usable once), chat.postMessage, chat.postEphemeral, conversations.open/create/invite/setTopic/join/info/
//   history/replies, users.info, pins.add. Channels and users are what the test set up; a post to a channel the bot is not
//   in gets not_in_channel, as from Slack. The bot's posts go into the channel's history like real ones. A thread
//   reply (thread_ts other than its ts) goes into its thread, listed by conversations.replies, and its parent in
//   the history gets reply_count / latest_reply / reply_users; only a thread_broadcast is in the history as well.
//   pins.add pins a message of the channel's history (or a thread): message_not_found for another ts,
//   already_pinned the second time; calls("pins.add") lists what was asked.
// The websocket at /link sends hello, then the frames the test pushes (in order, to the newest live connection that
// was not sent a disconnect; frames pushed while no connection is up wait for the next one), and records every
// frame the bot sends. push_to() aims at one connection; hold_hellos() keeps new connections waiting for hello.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tls_test_ca.hpp"

namespace kintsugi::test {

// One Web API request the fake received.
struct slack_call {
  std::string method;     // "chat.postMessage"
  nlohmann::json body;    // the JSON body, or the form fields as an object of strings
  bool authorized = false;  // an "Authorization: Bearer …" header was present
  std::string token;      // the bearer token (compare it; never print it)
  bool json_body = false;   // sent as application/json (else form-encoded)
  int status = 200;       // the HTTP status answered
  std::string error;      // Slack's error code answered ("" when ok)
  std::chrono::steady_clock::time_point at;
};

// One message the bot posted (chat.postMessage / chat.postEphemeral that succeeded).
struct slack_post {
  std::string channel;
  std::string text;
  std::string ts;
  std::string user;  // chat.postEphemeral: who sees it; empty for chat.postMessage
  std::chrono::steady_clock::time_point at;
};

// One acknowledgement {"envelope_id":…} the bot sent over a websocket.
struct slack_ack {
  std::string envelope_id;
  std::size_t connection = 0;  // 1 for the first websocket, and so on
  nlohmann::json payload;      // the ack's "payload", or null
};

struct slack_user {
  std::string id;            // "U1"
  std::string name;          // "alice"
  std::string display_name;  // profile.display_name
  std::string tz = "UTC";    // "Europe/Berlin"
};

class fake_slack {
 public:
  struct options {
    std::string bot_token = "xoxb-TEST-SECRET";
    std::string app_token = "xapp-1-TEST";
    bool send_hello = true;              // greet every websocket with hello
    std::size_t history_page_cap = 100;  // a history page never holds more (Slack may return fewer than limit)
  };

  // Serves with a certificate from `ca` for 127.0.0.1 and localhost.
  explicit fake_slack(const tls_test_ca& ca);
  fake_slack(const tls_test_ca& ca, options o);
  ~fake_slack();
  fake_slack(const fake_slack&) = delete;
  fake_slack& operator=(const fake_slack&) = delete;

  std::uint16_t port() const;
  std::string api_base_url() const;  // "https://127.0.0.1:<port>/api/"
  const options& settings() const { return options_; }

  // ---- the workspace ----
  void add_user(slack_user u);
  // A public channel; `bot_member`: the bot is already in it (else it must conversations.join first).
  void add_channel(const std::string& id, const std::string& name, bool bot_member);
  // A message (as conversations.history shows it: type, user, text, ts, …) in the channel's history, or in its
  // thread when it is a reply (see above).
  void add_history(const std::string& channel, nlohmann::json message);
  std::string topic(const std::string& channel) const;
  bool bot_is_member(const std::string& channel) const;

  // ---- the socket ----
  // Queues one text frame for the newest live websocket (or the next one to open).
  void push(std::string frame);
  // Queues an envelope and returns its envelope_id.
  std::string push_envelope(const nlohmann::json& envelope);
  // Sends a frame on websocket number `connection` (1 for the first), even one that was sent a disconnect, after
  // its hello; nothing if that connection is gone. Returns the envelope_id when the frame is an envelope.
  std::string push_to(std::size_t connection, const nlohmann::json& frame);
  // While on, a new websocket gets no hello (nor anything after it) until this is turned off again.
  void hold_hellos(bool on);
  // Sends {"type":"disconnect","reason":…} on the newest live websocket; that connection takes no more frames.
  void send_disconnect(const std::string& reason);
  // Closes the newest live websocket's TCP connection at once (no close frame).
  void drop_socket();

  // ---- injected failures ----
  // The next chat.postMessage gets HTTP 429 with Retry-After: `retry_after_s` and {"ok":false,"error":"ratelimited"}.
  void rate_limit_next_post(int retry_after_s = 1);
  // The next `calls` conversations.history requests get {"ok":false,"error":"missing_scope"} (not retried).
  void fail_history(std::size_t calls);

  // ---- records (copies, safe to keep) ----
  std::vector<slack_call> calls() const;
  std::vector<slack_call> calls(const std::string& method) const;
  std::size_t count(const std::string& method) const;  // requests of `method`, whatever the answer
  std::vector<slack_post> posts() const;               // chat.postMessage that succeeded
  std::vector<slack_post> posts_in(const std::string& channel) const;
  std::vector<slack_post> ephemerals() const;          // chat.postEphemeral that succeeded
  std::vector<slack_ack> acks() const;
  std::size_t acks_of(const std::string& envelope_id) const;
  std::vector<std::string> envelopes_sent() const;     // envelope ids written to a socket, in order
  std::vector<std::string> other_frames() const;       // frames from the bot that were not acks
  std::size_t websockets_opened() const;               // upgrades accepted
  std::size_t hellos_sent() const;
  std::size_t live_websockets() const;
  std::size_t rejected_upgrades() const;               // upgrades with an unknown or used ticket

  // Waits until `condition` holds (checked at once and after every change the fake records), at most `timeout`.
  // `condition` may call the accessors above.
  bool wait_until(const std::function<bool()>& condition,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct impl;
  options options_;
  std::unique_ptr<impl> impl_;
};

// ---- real-shaped Socket Mode envelopes (fixtures/slack/socket_mode, fixtures/slack/events) ----
// Every builder gives a fresh envelope_id (and event_id / trigger_id); ids never repeat within a test run.

// A Slack ts for "now", strictly later than every ts made before: "1763632800.000100".
std::string next_slack_ts();
// The instant a ts stands for, as kintsugi's exports write it: "2025-11-20T10:00:00.000100Z".
std::string iso_of_ts(const std::string& ts);

// A person's message as conversations.history lists it.
nlohmann::json history_message(const std::string& user, const std::string& text, const std::string& ts);
// A person's reply in the thread under the message at `thread_ts`, as conversations.replies lists it.
nlohmann::json thread_reply_message(const std::string& user, const std::string& text, const std::string& ts,
                                    const std::string& thread_ts);

// events_api envelope of a plain channel message (envelope_events_api_message.json).
nlohmann::json message_envelope(const std::string& channel, const std::string& user, const std::string& text,
                                const std::string& ts);
// events_api envelope of a thread reply (under the message at `thread_ts`).
nlohmann::json thread_reply_envelope(const std::string& channel, const std::string& user, const std::string& text,
                                     const std::string& ts, const std::string& thread_ts);
// member_joined_channel: `user` joined `channel` at `event_ts` (invited by `inviter`, when given).
nlohmann::json member_joined_envelope(const std::string& channel, const std::string& user, const std::string& event_ts,
                                      const std::string& inviter = {});
// The channel_join message that says the same (event_callback_message_channel_join.json).
nlohmann::json channel_join_envelope(const std::string& channel, const std::string& user, const std::string& ts,
                                     const std::string& inviter = {});
// message_changed: the message at `ts` now says `new_text` (edited at `edit_ts`).
nlohmann::json message_changed_envelope(const std::string& channel, const std::string& user, const std::string& ts,
                                        const std::string& old_text, const std::string& new_text,
                                        const std::string& edit_ts);
// message_deleted of the message at `ts`, deleted at `event_ts`.
nlohmann::json message_deleted_envelope(const std::string& channel, const std::string& user, const std::string& ts,
                                        const std::string& old_text, const std::string& event_ts);
// reaction_added by `user` on the message at `item_ts` (written by `item_user`).
nlohmann::json reaction_added_envelope(const std::string& channel, const std::string& user, const std::string& item_ts,
                                       const std::string& item_user, const std::string& reaction,
                                       const std::string& event_ts);
// slash_commands envelope (envelope_slash_commands.json) for "/incident <text>".
nlohmann::json slash_command_envelope(const std::string& channel, const std::string& user, const std::string& text,
                                      const std::string& command = "/incident");
// interactive envelope (envelope_interactive_block_actions_button.json) for `user` clicking the button `element` of
// the bot's message `message` (a chat.postMessage body the fake received, with its "blocks") posted at `message_ts`
// in `channel` (a C… channel or a D… direct message).
nlohmann::json block_actions_envelope(const std::string& channel, const std::string& user, const nlohmann::json& message,
                                      const std::string& message_ts, const nlohmann::json& element);
// The same event delivered again, as Slack retries it: a new envelope_id, the same payload and event_id.
nlohmann::json redelivery(const nlohmann::json& envelope, int retry_attempt = 1,
                          const std::string& retry_reason = "timeout");

}  // namespace kintsugi::test
