#pragma once
// The pure Mattermost codec, inbound half: websocket frames (PROTOCOLS.md §7), REST v4 responses (§8), slash
// commands and interactive-message actions (§9) to kintsugi::core events and plain values. No sockets, no clock,
// no nlohmann types here. Every function takes any input without throwing: what it cannot read comes back as an
// error value. Integers may also arrive as decimal strings and booleans as "true"/"True"; both are accepted.
//
// Ids: the core sees every Mattermost id with the prefix "mm:" (channel "mm:<channel_id>", user "mm:<user_id>",
// message "mm:<post_id>", thread_id "mm:<root_id>", empty for a root post), so that Slack and Mattermost can share
// one process and the outbox can route by id. Everything below that produces core events or core ids applies it;
// the raw fields next to them (post_id, user_id, …) and every outbound body (outbound.hpp) use plain ids.
//
// Deduplication: core::idempotency_key() already dedupes every event this codec produces, and the same post gives
// the same keys whether it came in a `posted` frame or a REST backfill ("msg:mm:<post id>" for its message_posted,
// "edit:mm:<post id>:<edit time>" for an edit, "del:mm:<post id>"). The adapter needs no key of its own for
// correctness. dedupe_key below is a cheaper, coarser key per frame or listed post ("mm:post:<id>:<update_at>"),
// equal for a frame and a backfill of the post in the same state: use it to skip work and in log lines.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/events.hpp"
#include "net/form.hpp"
#include "core/model.hpp"
#include "core/time.hpp"

namespace kintsugi::mattermost {

// ---- ids ----

inline constexpr std::string_view id_prefix = "mm:";

// "abc" -> "mm:abc". An empty id stays empty (a root post's thread_id).
std::string to_core(std::string_view mattermost_id);
// "mm:abc" -> "abc"; nullopt when `core_id` lacks the prefix or nothing follows it. A provisional channel the core
// named before it was created ("mm:inc-20261121-db-down") gives that name back.
std::optional<std::string> from_core(std::string_view core_id);
// True for a Mattermost object id: 26 characters of [a-z0-9] (what the server generates).
bool is_object_id(std::string_view id);

// Milliseconds since the epoch (create_at, edit_at…) -> core::timestamp; nullopt for 0, negatives and values past
// the year 9999.
std::optional<core::timestamp> from_millis(std::int64_t ms);
// The inverse, for `since=` queries (truncated to the millisecond).
std::int64_t to_millis(core::timestamp t);

// ---- websocket frames (PROTOCOLS.md §7) ----

// The first event after authentication, and again (seq 0, a new connection_id) after a reconnect the server could
// not resume.
struct hello {
  std::string connection_id;
  std::string server_version;
  std::string user_id;  // broadcast.user_id: the bot itself
  std::int64_t seq = 0;
};

// Any other server event.
struct event_frame {
  std::string event;               // "posted", "reaction_added", "typing", …
  std::optional<std::int64_t> seq; // absent (or not a non-negative integer) -> nullopt
  std::string channel_id;          // broadcast.channel_id
  std::string broadcast_user_id;   // broadcast.user_id (set when the event is for one user only)
  std::string data_json;           // the data object as JSON text ("{}" when absent)
};

// The answer to one of our requests (authentication_challenge, ping): it carries seq_reply, never seq.
struct reply {
  std::int64_t seq_reply = 0;
  std::string status;  // "OK" or "FAIL" as sent
  std::string error_id;
  std::string error_message;
  std::string data_json;  // the data object as JSON text ("{}" when absent); ping: {"text":"pong",…}
  bool ok() const { return status == "OK"; }
};

struct malformed {
  std::string why;
};

using frame = std::variant<hello, event_frame, reply, malformed>;

// One text frame from /api/v4/websocket. Never throws.
frame decode_frame(std::string_view text);

// {"seq":N,"action":"authentication_challenge","data":{"token":"…"}}. `seq` must be > 0 for the server.
std::string encode_auth_challenge(std::int64_t seq, std::string_view token);
// The application-level ping: {"action":"ping","seq":N}; the server replies {"status":"OK","seq_reply":N,…}.
std::string encode_ping(std::int64_t seq);

// ---- events (PROTOCOLS.md §7.3) ----

struct context {
  std::string bot_user_id;  // plain id, from GET /api/v4/users/me (or hello's broadcast.user_id)
};

struct event_result {
  std::string event;                 // the frame's event type, for the log
  std::vector<core::event> events;   // zero or more
  // "mm:post:<post id>:<update_at>" for posted, post_edited and post_deleted (the same key as a REST listing of the
  // post in that state: see post_key); "mm:reaction:<post>:<user>:<emoji>" for reaction_added; empty where the
  // frame has no stable identity (user_added, user_removed, user_updated: the core's keys are enough).
  std::string dedupe_key;
  std::string error;  // non-empty: the frame's data could not be read (the events are then empty)

  // Raw fields for the adapter (plain ids), set where the frame has them:
  std::string post_id;
  std::string root_id;
  std::string user_id;     // the post's author, the reacting user, the user who joined or left
  std::string channel_id;  // the post's channel (post.channel_id, else broadcast.channel_id)
  std::int64_t update_at = 0;  // the post's update_at (ms): the adapter's `since` cursor for a REST resync
  std::string channel_type;    // data.channel_type: "O", "P", "D" (a direct message), "G"
  std::string channel_name;    // data.channel_name
  std::string sender_name;     // data.sender_name ("@alice")
  std::vector<std::string> mentioned_user_ids;   // data.mentions (a JSON-string array on the wire)
  std::vector<std::string> mentioned_usernames;  // find_usernames() of the post's message, for the adapter to resolve
};

// One event frame -> core events. `received_at` is when the frame arrived: the time of events that carry none of
// their own (user_added, user_removed; a post or reaction without create_at).
//
// Mapping (unknown events such as typing, status_change or channel_viewed give no events and no error):
//   posted -> message_posted{mm:<post.id>, mm:<post.channel_id>, mm:<post.user_id>, text, at = create_at,
//             from_bot, thread_id mm:<root_id> or ""}. data.post is a JSON string (parsed again) or an object.
//             The text is the message plus a line "📎 <name>" per file (post.metadata.files; else one per
//             post.file_ids; else one "📎 attachment" when data.otherFile or data.image is "true"); when the message
//             is empty, the attachments' fallback (else pretext, text) lines, as webhooks post alerts. A post whose
//             text is still empty gives nothing.
//             from_bot is true when post.user_id is ctx.bot_user_id, when props.from_bot is true ("true"; every bot
//             account's post carries it) and when props.from_webhook is true: webhooks are not a person, and an
//             in_channel slash-command reply, ours included, comes back as a post by the invoking user with
//             from_webhook, which must not be captured as that person's words.
//             System posts (type "system_*"): system_join_channel -> member_joined{channel, post.user_id},
//             system_add_to_channel -> member_joined{channel, props.addedUserId}, system_leave_channel ->
//             member_left{channel, post.user_id}, system_remove_from_channel -> member_left{channel,
//             props.removedUserId}, all at create_at and never for the bot itself; other system posts -> nothing.
//   post_edited -> message_edited{mm:<id>, text, at = edit_at} when edit_at > 0; also message_pinned{mm:<id>, "",
//             update_at} when the post is pinned (pinning sends post_edited; the core's pin is idempotent).
//   post_deleted -> message_deleted{mm:<id>, at = delete_at, else update_at, else received_at}.
//   reaction_added -> reaction_added{mm:<post_id>, mm:<user_id>, emoji_name, at = create_at}; data.reaction is a
//             JSON string or an object; the bot's own reactions give nothing.
//   user_added / user_removed -> member_joined / member_left{mm:<channel>, mm:<user>, received_at}: the channel is
//             broadcast.channel_id, else data.channel_id; the user is data.user_id, else broadcast.user_id (the
//             copy sent to the removed user). Mattermost also posts system_join/leave messages for the same change;
//             the engine folds a repeated join or leave within a minute. Never for the bot itself.
//   user_updated -> user_updated (see decode_user), at = user.update_at, else received_at.
event_result decode_event(const event_frame& ev, const context& ctx, core::timestamp received_at);

// "mm:post:<post id>:<update_at>": the dedupe_key of a post in one state (see the top of this file).
std::string post_key(std::string_view post_id, std::int64_t update_at);

// ---- REST v4 responses (PROTOCOLS.md §8) ----

struct user_info {
  std::string id;            // plain
  std::string username;
  std::string display_name;  // nickname, else "first last", else username
  std::string tz;            // timezone.useAutomaticTimezone ? automaticTimezone : manualTimezone (the other one
                             // when the chosen one is empty)
  bool is_bot = false;
  std::string error;         // non-empty: not a user object (no id)
};
// GET /api/v4/users/me, /users/{id}, or the user object of a user_updated frame.
user_info parse_user(std::string_view json_text);
// core::user_updated{user{mm:<id>, display_name, tz}, at}.
core::user_updated to_user_updated(const user_info& u, core::timestamp at);

// One post of a listing, in the order of `events`' posts.
struct listed_post {
  std::string id;
  std::string root_id;
  std::int64_t create_at = 0;
  std::int64_t update_at = 0;
  std::string dedupe_key;  // post_key(id, update_at): equal to a `posted` frame's for the post in the same state
};

struct post_list {
  // Per post, posts in create_at order (posts of the same millisecond in the server's `order`, else by id): message_posted with the current text (or the membership
  // event of a system post, as decode_event maps it), then message_edited{text, edit_at} when edit_at > 0 (the
  // core ignores an edit whose text it already has), then message_deleted{delete_at} when delete_at > 0.
  std::vector<core::event> events;
  std::vector<listed_post> posts;
  std::vector<std::string> order;  // as sent (newest first)
  std::string next_post_id;
  std::string prev_post_id;
  bool has_next = false;
  std::int64_t latest_update_at = 0;  // the largest update_at listed: the next `since=` (0 when none)
  int skipped = 0;                    // posts without id, channel_id or create_at
  std::string error;                  // non-empty: not a PostList
};
// GET /api/v4/channels/{id}/posts (with since=, page/per_page, before/after).
post_list parse_post_list(std::string_view json_text, const context& ctx);

struct channel_info {
  std::string id;  // plain
  std::string name;
  std::string display_name;
  std::string type;  // "O", "P", "D", "G"
  std::string team_id;
  std::string header;
  std::string error;  // non-empty: not a channel object (no id)
};
// POST /channels, /channels/direct, GET /channels/{id}, /teams/{id}/channels/name/{name}.
channel_info parse_channel(std::string_view json_text);

// The one function that reads Mattermost's error bodies (STYLE.md §5.4).
struct api_error {
  int http_status = 0;
  std::string id;       // "api.context.session_expired.app_error"; empty for a plain-text body
  std::string message;  // the JSON message, else the plain body (trimmed, at most 200 bytes)
  std::string request_id;
  bool rate_limited = false;  // 429 (the body is the plain text "limit exceeded")
  bool retryable = false;     // 429 and 5xx
  bool auth_failed = false;   // 401: the token is not (or no longer) valid
};
api_error parse_error(int http_status, std::string_view body);

// From X-Ratelimit-Limit, X-Ratelimit-Remaining and X-Ratelimit-Reset (seconds until the window resets): how long to
// wait before the next request. nullopt when requests remain or the headers are absent or unreadable (server-side
// limiting is off by default). Remaining 0: the reset (at least 1 s, at most 1 h; 1 s when the reset is unreadable).
std::optional<std::chrono::seconds> rate_limit_wait(std::string_view limit, std::string_view remaining,
                                                    std::string_view reset);

// ---- slash commands (PROTOCOLS.md §9) ----

struct slash_command {
  // id "mm:cmd:<trigger_id>" (else "mm:cmd:<channel>:<user>:<at>"), channel and user prefixed, text with every
  // "@username" found in user_mentions replaced by "<@mm:<id>>", at as given.
  core::command_invoked invoked;
  std::string command;  // "/incident"
  std::string response_url;
  std::string trigger_id;
  std::string team_id;
  std::string channel_name;
  std::string user_name;
  std::map<std::string, std::string> user_mentions;  // username -> plain user id (user_mentions + user_mentions_ids)
  std::vector<std::string> unresolved_usernames;     // "@names" in the text that the maps did not resolve
  bool authorized = false;  // the Authorization "Token …" header or the token field equals expected_token
  std::string error;        // non-empty: not a usable command (unreadable body, no user_id or channel_id)
};

// The body Mattermost POSTs (application/x-www-form-urlencoded; '+' is a space). The token comparison takes
// constant time whatever the lengths; an empty expected_token authorizes nothing. The rest is decoded either way:
// refuse (401) when !authorized.
slash_command decode_command(std::string_view form_body, std::string_view authorization_header,
                             std::string_view expected_token, core::timestamp at);

// ---- interactive message actions (PROTOCOLS.md §9) ----

// The buttons kintsugi posts carry integration.context {"command": "<command>", "sig": "<hex>"} with
// sig = hex(HMAC-SHA256(key, command)) (outbound.hpp). A click POSTs JSON to the callback URL:
struct action_request {
  std::string user_id;     // "mm:<user_id>"
  std::string channel_id;  // "mm:<channel_id>"
  std::string post_id;     // plain: the post that holds the button
  std::string trigger_id;
  std::string user_name;
  std::string team_id;
  std::string command;  // context.command as sent (also when not authorized, for the log)
  bool authorized = false;  // sig verified in constant time against `key` (never with an empty key)
  // Set when authorized and there is a command, a user and a channel: pressing the button is that person typing
  // "/incident <command>" in that channel. id "mm:act:<trigger_id>" (else "mm:act:<post>:<user>:<at>").
  std::optional<core::command_invoked> invoked;
  std::string error;  // non-empty: not an action request (unreadable, a dialog submission, no user or channel)
};
action_request decode_action(std::string_view json_body, std::string_view key, core::timestamp at);

// ---- form bodies ----

using net::form_field;
// application/x-www-form-urlencoded -> decoded fields in order (net/form.hpp).
using net::decode_form;

}  // namespace kintsugi::mattermost
