#pragma once
// The pure Slack codec, inbound half: wire text (Socket Mode frames, Events API bodies, slash-command
// and interactivity payloads) to kintsugi::core events. No sockets, no clock, no nlohmann types here.
// Every function takes any input without throwing: what it cannot read comes back as an error value.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/events.hpp"
#include "net/form.hpp"
#include "core/time.hpp"

namespace kintsugi::slack {

// ---- What an Events API payload says (decode_events_api, below) ----

// Who the bot is, from auth.test: its own messages are marked from_bot.
struct context {
  std::string bot_user_id;  // auth.test user_id ("U…")
  std::string bot_id;       // auth.test bot_id ("B…")
};

struct events_api_result {
  std::string type;        // "event_callback", "url_verification", "app_rate_limited", …
  std::string event_id;    // as sent; empty in older payloads (see dedupe_key)
  std::string event_type;  // the inner event's type/subtype, for the log ("message/message_changed")
  std::string challenge;   // url_verification: the value to echo back
  std::vector<core::event> events;  // zero or one today; a vector so a payload may carry more
  // event_id, or for older payloads without one "<event type>:<channel>:<event_ts>:<user>", so that a
  // redelivery can still be recognised.
  std::string dedupe_key;
  std::string error;       // non-empty: the body was not an Events API object (nothing else is set)
};

// ---- Socket Mode frames (PROTOCOLS.md §1) ----

struct hello {
  std::string app_id;
  int num_connections = 0;
  std::int64_t approximate_connection_time = 0;  // seconds until Slack refreshes the connection; 0: unknown
};

enum class disconnect_reason { warning, refresh_requested, link_disabled, too_many_websockets, other };

struct disconnect {
  disconnect_reason reason = disconnect_reason::other;
  std::string reason_text;  // as Slack sent it ("refresh_requested", or an unknown reason)
};

enum class envelope_type { events_api, slash_commands, interactive, other };

struct envelope {
  std::string envelope_id;
  envelope_type type = envelope_type::other;
  std::string type_text;  // as sent; an envelope of an unknown type must still be acknowledged
  bool accepts_response_payload = false;
  int retry_attempt = 0;
  std::string retry_reason;
  std::string payload;  // the payload object as JSON text, as sent ("{}" when absent)
  // Set by decode_frame(text, ctx) for an events_api envelope: its payload decoded in the same parse. `payload` is
  // then left empty: nothing else reads it.
  std::optional<events_api_result> events;
};

struct malformed {
  std::string why;
};

using frame = std::variant<hello, disconnect, envelope, malformed>;

// One text frame from the Socket Mode websocket. Never throws.
frame decode_frame(std::string_view text);
// The same, and an events_api envelope's payload is decoded at once as decode_events_api(payload, ctx) would:
// one parse per envelope on the hot path instead of two.
frame decode_frame(std::string_view text, const context& ctx);

// The acknowledgement for an envelope: {"envelope_id":"…"} plus "payload" when `payload_json` is a JSON
// object (only send one when the envelope accepts_response_payload).
std::string encode_ack(std::string_view envelope_id, std::string_view payload_json = {});

std::string_view name(disconnect_reason r);
std::string_view name(envelope_type t);

// ---- Slack timestamps and message ids ----

// "1613563664.001200" -> that instant, to the microsecond. Fewer than six fraction digits are read as a
// decimal fraction; digits past the sixth are dropped. nullopt for anything that is not digits[.digits].
std::optional<core::timestamp> parse_ts(std::string_view ts);
// The inverse: always six fraction digits ("1613563664.001200"), as conversations.history's `oldest` wants.
std::string format_ts(core::timestamp t);

// Slack's ts is unique only within a channel, so kintsugi's message id is "<channel>:<ts>".
std::string message_id(std::string_view channel, std::string_view ts);
struct message_ref {
  std::string channel;
  std::string ts;
};
// The inverse of message_id(); nullopt when `id` has no ':' or an empty part.
std::optional<message_ref> split_message_id(std::string_view id);

// Slack escapes exactly &, < and > in message text; this undoes it and keeps <@U…>, <#C…|name> and
// <https://…|label> as Slack sent them.
std::string unescape_text(std::string_view text);

// ---- Events API (PROTOCOLS.md §2.4, §3) ----

// The body of an HTTP Events API request or the payload of an "events_api" envelope.
// Mapping (unknown types and subtypes give no events, never an error):
//   message (plain, thread reply, thread_broadcast, file_share, bot_message, me_message), app_mention
//       -> message_posted{id "<channel>:<ts>", thread_id "<channel>:<thread_ts>" for replies, from_bot};
//          another bot's message is authored by its bot_id (else username); file_share appends
//          "📎 name <permalink>" per file; an empty bot message falls back to its attachments' fallback text
//   message/message_changed -> message_edited{"<channel>:<message.ts>", message.text, at = event ts}
//       (nothing when previous_message has the same text: unfurls and reply counts also send these)
//   message/message_deleted -> message_deleted{"<channel>:<deleted_ts>"}
//   message/channel_join, member_joined_channel -> member_joined{channel, user, at}
//   message/channel_leave, member_left_channel  -> member_left{channel, user, at}
//       (group_join / group_leave alike; never a message_posted; nothing for the bot's own user)
//   other subtypes (topic, purpose, message_replied…) -> nothing
//   reaction_added on a message -> reaction_added{"<item.channel>:<item.ts>", user, reaction}
//   pin_added of a message -> message_pinned{"<item.channel>:<item.message.ts>", user}
//   user_change, team_join -> user_updated
events_api_result decode_events_api(std::string_view payload, const context& ctx);
// The same for an events_api envelope from decode_frame (its payload).
events_api_result decode_events_api(const envelope& e, const context& ctx);

// ---- Slash commands (PROTOCOLS.md §4) ----

struct slash_command {
  core::command_invoked invoked;  // id = trigger_id (else fallback_id), text unescaped, at as given
  std::string command;            // "/incident"
  std::string response_url;
  std::string trigger_id;
  std::string team_id;
  std::string error;  // non-empty: not a usable slash command (no user or channel, unreadable body)
};

// Either the HTTP form body (application/x-www-form-urlencoded, '+' is a space) or the JSON payload of
// a "slash_commands" envelope. The payload carries no time, so `at` comes from the caller; `fallback_id`
// (the envelope id) is the idempotency key when there is no trigger_id.
slash_command decode_slash_command(std::string_view body, core::timestamp at, std::string_view fallback_id = {});

// ---- Interactivity (PROTOCOLS.md §5) ----

// Buttons and menus that kintsugi posts carry action ids of the form "kintsugi.<word>[.<word>…]"; a
// click becomes the command "<words> <value>": action_id "kintsugi.action.done" with value "7" is
// "action done 7", "kintsugi.role" with "commander me" is "role commander me". "kintsugi.command" and
// "kintsugi.command.<n>" (n digits: Slack wants action ids unique within a message, so the buttons kintsugi
// posts are numbered) take the whole command from the value. Words are [a-z0-9_-]; anything else is not a
// kintsugi action.
inline constexpr std::string_view action_prefix = "kintsugi.";
inline constexpr std::string_view command_action_id = "kintsugi.command";
// The command text for an action, or nullopt when the action is not one of kintsugi's.
std::optional<std::string> command_for_action(std::string_view action_id, std::string_view value);

struct interaction {
  std::string type;  // "block_actions", "shortcut", "view_submission", …
  std::string user;
  std::string channel;      // channel.id, else container.channel_id; empty for global shortcuts
  std::string action_id;    // the first action's
  std::string value;        // its value, or the selected option's value for menus
  std::string response_url;
  std::string trigger_id;
  std::string message_ts;   // the message that holds the button
  std::optional<core::command_invoked> command;  // set when the action is one of kintsugi's
  std::string error;        // non-empty: unreadable
};

// A block_actions (or other interactive) payload: the JSON of an "interactive" envelope, or the HTTP form
// body "payload=<urlencoded JSON>". The command's time is the action's action_ts, else `at`.
interaction decode_interactive(std::string_view payload, core::timestamp at);

// ---- Form bodies ----

using net::form_field;
// application/x-www-form-urlencoded -> decoded fields in order (net/form.hpp).
using net::decode_form;

}  // namespace kintsugi::slack
