#pragma once
// A fake Mattermost server for end-to-end tests of the real bot: REST v4 and the websocket at /api/v4/websocket
// on one port of 127.0.0.1, plain (http/ws) or with TLS (https/wss, a certificate from tls_test_ca). It runs its
// own io_context on a background thread, so it answers while the test waits; everything it is told and everything
// it records goes through one mutex. It behaves like the real server where a bot can tell (PROTOCOLS.md §7-§9):
//
// REST (every route but /system/ping needs "Authorization: Bearer <options.bot_token>", else 401 with Mattermost's
// error JSON {"id","message","detailed_error","request_id","status_code","is_oauth"}):
//   users/me, users/{id}, users/username/{name}, POST users/usernames and users/ids; users/me/teams, teams/{id},
//   teams/name/{name}, teams/{team}/channels/name/{name};
//   POST posts (201; 16383-character limit -> 400; pending_post_id answers the first post again; root_id must be a
//   root post of the channel; a channel the bot is not in -> 403), POST posts/ephemeral (201), GET posts/{id},
//   PUT posts/{id} and posts/{id}/patch (own posts), DELETE posts/{id} (own posts), GET posts/{id}/thread,
//   POST posts/{id}/pin and /unpin (a post_edited follows, as from the real server);
//   POST reactions, DELETE users/{user}/posts/{post}/reactions/{emoji};
//   POST channels (201; a taken name -> 400 store.sql_channel.save_channel.exists.app_error), POST channels/direct
//   (two user ids -> 201, the same "D" channel "<idA>__<idB>" (sorted) every time), GET channels/{id},
//   PUT channels/{id}/patch (header -> a system_header_change post, purpose -> system_purpose_change), GET/POST
//   channels/{id}/members, DELETE channels/{id}/members/{user};
//   GET channels/{id}/posts: with since=<ms> every post with update_at > since (deleted ones too) plus the roots of
//   changed replies, no paging, empty next/prev ids; else page/per_page (default 0/60) or before/after=<post id>,
//   newest first, deleted posts left out, roots of replies in "posts" but not in "order", next_post_id/prev_post_id
//   naming the neighbouring posts and has_next when older posts remain.
//   POST hooks/commands/{id}: a command's response_url (no auth, 5 uses), handled like a command's answer.
// Every post, edit, deletion, reaction and membership change is also broadcast on the websocket as the real server
// does (posted with data.post a JSON string, post_edited, post_deleted, reaction_added/removed, user_added,
// user_removed, channel_updated), to the bot's connections when the bot is in the channel.
//
// The websocket (PROTOCOLS.md §7.1-§7.4, mirrored from server/channels/app/platform/web_conn.go):
//   - auth by "Authorization: Bearer" on the upgrade (a wrong token: 401, no upgrade) or by the
//     authentication_challenge action (a wrong token: the socket is closed without a close frame; right: hello,
//     then {"status":"OK","seq_reply":N}); unauthenticated after options.auth_timeout: closed without a close frame.
//   - hello (seq 0, data.server_version, data.connection_id, data.server_hostname, broadcast.user_id = bot) and one
//     seq per event, counted per connection id. Responses to actions carry seq_reply and no seq.
//   - A connection id outlives its socket: events for it are queued while no socket is attached (at most
//     options.send_queue_size, beyond that it is forgotten) and every event written is kept in its dead queue (the
//     last options.dead_queue_size). A header-authenticated reconnect with ?connection_id=X&sequence_number=N, X
//     known and not attached: N in the dead queue -> the events from N are written again, then the queued ones, no
//     hello; N the next seq -> the stream just continues; N = 0 -> continues too (the real server's quirk); any
//     other N -> a hello with a NEW connection id and seq 0. X unknown (restart(), or never issued) or still
//     attached -> a fresh connection: new id, hello with seq 0. connection_id is ignored on a socket without header
//     auth (it authenticates later, so it is always fresh). connection_id that is not a 26-character id, or a known
//     X without sequence_number: the upgrade is accepted and the socket closed at once, as the real server does
//     (options.bad_reconnect_is_400 answers 400 instead).
//   - Actions: ping -> {"status":"OK","seq_reply":N,"data":{"text":"pong","version",...}}; user_typing,
//     get_statuses, get_statuses_by_ids -> OK; seq <= 0 -> FAIL api.web_socket_router.bad_seq.app_error; an unknown
//     action -> FAIL bad_action; before authentication nothing is answered; a frame that is not JSON closes the
//     socket (the real read pump returns on a decode error). Transport pings every options.ping_interval; a socket
//     that sends no frame and no pong for options.pong_wait is closed.
//
// URLs for the bot: base_url() is the site URL ("http://127.0.0.1:<port>", https with TLS), api_url() adds
// "/api/v4", websocket_url() is "ws(s)://127.0.0.1:<port>/api/v4/websocket".
// Ids are 26 characters of Mattermost's alphabet. Times (create_at, update_at, …) are milliseconds from a clock the
// test may pin (set_time_ms / advance_time); by default the real time.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tls_test_ca.hpp"

namespace kintsugi::test {

struct mm_user {
  std::string username;  // "alice"
  std::string first_name;
  std::string last_name;
  std::string nickname;
  std::string email;  // "<username>@example.com" when empty
  bool use_automatic_timezone = true;
  std::string automatic_timezone = "UTC";  // "Europe/Berlin"
  std::string manual_timezone;
  bool is_bot = false;
  std::string id;  // given by add_user when empty
};

// A post as the fake stores it. `wire` is the post as the REST API showed it when the record was copied.
struct mm_post {
  std::string id;
  std::string channel_id;
  std::string user_id;
  std::string root_id;
  std::string message;
  std::string type;  // "" or "system_join_channel", "system_header_change", …
  std::string pending_post_id;
  bool is_pinned = false;  // POST posts/{id}/pin
  std::int64_t create_at = 0;
  std::int64_t update_at = 0;
  std::int64_t edit_at = 0;
  std::int64_t delete_at = 0;
  nlohmann::json props = nlohmann::json::object();
  nlohmann::json wire;
};

// One REST request the fake received.
struct mm_call {
  std::string method;  // "POST"
  std::string path;    // "/api/v4/posts"
  std::string query;   // "since=1700000000000" (raw, without '?')
  std::map<std::string, std::string> params;  // the query, decoded
  nlohmann::json body;                        // the JSON body; null when empty or not JSON
  bool authorized = false;                    // the bot token was given as "Authorization: Bearer …"
  int status = 0;                             // the HTTP status answered
  std::string response;                       // the body answered
  std::chrono::steady_clock::time_point at;
};

// An ephemeral post: POST posts/ephemeral by the bot, a command's ephemeral answer, or a button's ephemeral_text.
struct mm_ephemeral {
  std::string user_id;  // who sees it
  std::string channel_id;
  std::string root_id;
  std::string message;
  nlohmann::json props = nlohmann::json::object();
  std::string source;  // "api", "command" or "action"
};

// A text frame the bot sent on a websocket.
struct mm_frame {
  std::size_t socket = 0;     // 1 for the first websocket accepted, and so on
  std::string connection_id;  // the connection id the socket had then ("" before authentication)
  std::string text;
  nlohmann::json json;  // parsed; discarded (is_discarded()) when not JSON
};

// A frame the fake wrote on a websocket (recorded as the write starts; a socket dying meanwhile may lose it).
struct mm_written {
  std::size_t socket = 0;
  std::string connection_id;
  std::int64_t seq = -1;  // -1 for responses and raw frames
  std::string event;      // "hello", "posted", …; "" for responses and raw frames
  bool replayed = false;  // written again from the dead queue on a reconnect
  std::string text;
};

// What the bot's HTTP listener answered to a command or a button click.
struct mm_http_result {
  int status = 0;       // 0 when the request failed (see error)
  std::string error;    // a transport failure: "connect: Connection refused", "timeout", …
  std::string body;
  nlohmann::json json;  // the body parsed; null when not JSON
  std::string trigger_id;
  std::vector<std::string> post_ids;  // posts the fake created from the answer (in_channel)
};

class fake_mattermost {
 public:
  struct options {
    std::string bot_token = "mm-bot-TEST-SECRET";
    std::string bot_username = "kintsugi";
    std::string team_name = "kintsugi-test";  // the default team (team_domain of commands)
    std::string team_display_name = "Kintsugi Test";
    std::string server_version = "10.5.0.0.fakehash.false";
    std::chrono::milliseconds auth_timeout{std::chrono::seconds(5)};  // a socket must authenticate within this
    std::chrono::milliseconds ping_interval{std::chrono::seconds(60)};
    std::chrono::milliseconds pong_wait{std::chrono::seconds(100)};
    std::size_t dead_queue_size = 128;
    std::size_t send_queue_size = 256;
    std::chrono::milliseconds integration_timeout{std::chrono::seconds(30)};  // commands and button clicks
    bool bad_reconnect_is_400 = false;
  };

  // Plain http and ws.
  fake_mattermost();
  explicit fake_mattermost(options o);
  // https and wss with a certificate from `ca` for 127.0.0.1 and localhost.
  explicit fake_mattermost(const tls_test_ca& ca);
  fake_mattermost(const tls_test_ca& ca, options o);
  ~fake_mattermost();
  fake_mattermost(const fake_mattermost&) = delete;
  fake_mattermost& operator=(const fake_mattermost&) = delete;

  const options& settings() const { return options_; }
  bool tls() const;
  std::uint16_t port() const;
  std::string base_url() const;       // "http://127.0.0.1:<port>" (https with TLS), the site URL
  std::string api_url() const;        // base_url() + "/api/v4"
  std::string websocket_url() const;  // "ws://127.0.0.1:<port>/api/v4/websocket" (wss with TLS)

  // ---- the clock (create_at, update_at, edit_at, delete_at, server_time) ----
  void set_time_ms(std::int64_t ms);  // pins the clock
  void advance_time(std::chrono::milliseconds by);  // moves a pinned clock (pins it at now + by if it was real)
  void use_real_time();
  std::int64_t now_ms() const;

  // ---- users, teams and channels ----
  std::string bot_id() const;
  std::string team_id() const;  // the default team
  std::string add_team(const std::string& name, const std::string& display_name);
  std::string add_user(mm_user u);  // returns its id
  std::string add_user(const std::string& username);
  std::optional<mm_user> user(const std::string& id) const;
  // A channel of `team` ("O" open, "P" private); nobody is in it yet (add_member, user_joins).
  std::string add_channel(const std::string& team, const std::string& name, const std::string& display_name,
                          const std::string& type = "O");
  // Puts `user` in the channel quietly (set-up: no system post, no event).
  void add_member(const std::string& channel, const std::string& user);
  bool is_member(const std::string& channel, const std::string& user) const;
  // The direct channel of two users, made when needed (as POST channels/direct would).
  std::string direct_channel(const std::string& user_a, const std::string& user_b);
  nlohmann::json channel(const std::string& id) const;  // as GET channels/{id} answers; null when unknown

  // ---- what people do (stored, and broadcast to the bot's connections when it is in the channel) ----
  // A post by `user`; returns its id. Throws std::invalid_argument for an unknown channel or user.
  std::string post_as_user(const std::string& channel, const std::string& user, const std::string& message,
                           const std::string& root_id = {}, const nlohmann::json& props = nlohmann::json::object());
  void edit_post(const std::string& post_id, const std::string& message);           // post_edited
  void delete_post(const std::string& post_id);                                     // post_deleted
  void add_reaction(const std::string& user, const std::string& post_id, const std::string& emoji);
  void remove_reaction(const std::string& user, const std::string& post_id, const std::string& emoji);
  // user_added, then a system_join_channel post by `user` (the real JoinChannel's order). Returns the post id.
  std::string user_joins(const std::string& channel, const std::string& user);
  // user_removed, then a system_leave_channel post by `user`. Returns the post id.
  std::string user_leaves(const std::string& channel, const std::string& user);
  // Any event, broadcast like the fake's own ones: to the bot's connections when it is in `channel` (or to all of
  // them when `channel` is empty).
  void broadcast_event(const std::string& event, const nlohmann::json& data, const std::string& channel = {});
  // Any frame, written as is (no seq) to every connection of the bot, after what is queued before it.
  void push_raw(std::string text);

  // ---- the sockets ----
  // Closes every socket at once (no close frame); the connection ids and their queues stay, so a reconnect with
  // connection_id + sequence_number gets the replay. Events from now on are queued for the connection.
  void drop_connections();
  // A server restart: every socket closed at once and every connection id forgotten, so the next socket gets a
  // fresh hello with a new connection id (and nothing queued meanwhile).
  void restart();

  // ---- injected failures (`path`: "/api/v4/posts", or a prefix ending in '*'; "POST /api/v4/posts" limits the
  //      method too) ----
  // The next `times` matching requests get 429 "limit exceeded" with X-Ratelimit-Limit/Remaining/Reset and
  // Retry-After (`reset_seconds`), before authentication as the real limiter does.
  void rate_limit(const std::string& path, std::size_t times, int reset_seconds = 1);
  // The next `times` matching requests get `status` (500, 503, …) with an error JSON.
  void fail_next(const std::string& path, int status, std::size_t times = 1);

  // ---- Mattermost calling the bot ----
  // A custom slash command: POSTs the form of fixtures/mattermost/slash_commands/custom_command_request_body
  // .urlencoded (command=/incident, a fresh trigger_id, response_url = <base_url>/hooks/commands/<id>) to
  // <bot_listener_url>/mattermost/command with "Authorization: Token <token>". An answer
  // {"response_type":"in_channel",…} becomes a post by the invoking user with props.from_webhook "true" (broadcast
  // as posted); an ephemeral one (the default; also a text/plain body) is recorded in ephemerals() for that user.
  mm_http_result send_command(const std::string& bot_listener_url, const std::string& token,
                              const std::string& channel_id, const std::string& user_id, const std::string& text,
                              const std::string& command = "/incident");
  // A click on button `action_index` of the post's props.attachments[attachment].actions: POSTs the action request
  // JSON to its integration.url and applies the answer as the real server does ("update" edits the post, keeping
  // its props when the update has none; "ephemeral_text" becomes an ephemeral for the user).
  mm_http_result click_button(const std::string& post_id, std::size_t action_index, const std::string& user_id,
                              std::size_t attachment = 0);

  // ---- records (copies, safe to keep) ----
  std::vector<mm_call> calls() const;
  // Calls of `method` ("" for any) on `path` (exact, or a prefix ending in '*').
  std::vector<mm_call> calls(const std::string& method, const std::string& path) const;
  std::size_t count(const std::string& method, const std::string& path) const;
  std::optional<mm_post> post(const std::string& id) const;
  std::vector<mm_post> posts_in(const std::string& channel) const;  // oldest first, deleted ones included
  std::vector<mm_post> posts_by(const std::string& user) const;
  std::vector<mm_ephemeral> ephemerals() const;
  std::vector<mm_frame> frames_from_bot() const;
  std::vector<mm_written> frames_written() const;
  std::size_t sockets_opened() const;    // upgrades accepted
  std::size_t live_connections() const;  // authenticated sockets attached to a connection id
  std::size_t hellos_sent() const;
  std::size_t replays() const;             // reconnects that resumed a connection (with or without events to replay)
  std::size_t auth_failures() const;       // wrong tokens: upgrades refused with 401, challenges that closed
  std::size_t auth_timeouts() const;       // sockets closed for not authenticating in time
  std::size_t rejected_reconnects() const;  // bad connection_id / missing sequence_number
  std::size_t pongs_received() const;       // answers to the fake's transport pings (seen at its next ping)
  // The connection id of the newest live socket ("" when none).
  std::string current_connection_id() const;

  // Waits until `condition` holds (checked at once and after every change the fake records), at most `timeout`.
  // `condition` may call the accessors above.
  bool wait_until(const std::function<bool()>& condition,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // Waits until at least `n` authenticated sockets are attached.
  bool wait_connected(std::size_t n = 1, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  struct impl;
  options options_;
  std::unique_ptr<impl> impl_;
};

// A new id as Mattermost makes them: 26 characters of "ybndrfg8ejkmcpqxot1uwisza345h769".
std::string new_mattermost_id();
bool is_mattermost_id(const std::string& id);

}  // namespace kintsugi::test
