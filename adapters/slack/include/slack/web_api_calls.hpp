#pragma once
// The pure Slack codec, outbound half: kintsugi::core actions to Web API calls (method + JSON body), and
// Web API responses back to plain values. decode_api_response() is the one place that maps Slack's
// errors (STYLE.md §5.4). No sockets and no nlohmann types here.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"
#include "core/model.hpp"
#include "slack/codec.hpp"

namespace kintsugi::slack {

// ---- actions -> calls ----

struct api_call {
  std::string method;     // "chat.postMessage"
  std::string json_body;  // POST with Content-type: application/json; charset=utf-8
  // Set on the conversations.open of a direct message: once it succeeds, post these chat.postMessage bodies
  // (JSON objects with the converted and split text, and blocks for buttons, but no "channel") to the channel
  // it opened; follow_up_calls() builds those calls.
  std::vector<std::string> then_post;
  // Set on the chat.postMessage of a post to pin (its first message, which carries the header): once it succeeds,
  // pins.add {channel, timestamp} with the channel and ts Slack answered; follow_up_calls() builds that call.
  bool then_pin = false;

  bool operator==(const api_call&) const = default;
};

struct outbound_context {
  // Slack truncates message text past 40,000 characters; longer texts are split at line boundaries into
  // several messages of at most this many bytes (bytes >= characters, so this is conservative).
  std::size_t max_text_bytes = 40'000;
  bool convert_markdown = true;  // core Markdown -> Slack mrkdwn (see to_mrkdwn)
};

// The Web API calls for one action, in order:
//   post_message     -> chat.postMessage {channel, text} (one per chunk); with pin, the first has then_pin
//   post_ephemeral   -> chat.postEphemeral {channel, user, text} (one per chunk)
//   direct_message   -> conversations.open {users} with then_post = the chunks (see follow_up_calls)
//   Buttons of these three go on the last chunk as "blocks": a mrkdwn section with that chunk's text (Slack
//   shows blocks instead of "text", which stays as the notification's words; a tail longer than a section's
//   3,000 characters is split into more messages first), then an "actions" block of buttons with action_id
//   "kintsugi.command.<n>" (n = 1, 2, … unique in the message), value = the command, style when set; labels
//   are cut to 75 characters; a button whose command is empty, over 2,000 characters or on several lines is
//   left out.
//   create_channel   -> conversations.create {name} (lowercased; characters Slack refuses become '-'; ≤ 80)
//   invite_user      -> conversations.invite {channel, users}
//   set_topic        -> conversations.setTopic {channel, topic} (≤ 250 characters, cut at a word with "…")
//   publish_document -> nothing: the engine also posts the text; a later version may upload the file
//   pin_message      -> pins.add {channel, timestamp} from split_message_id(); nothing for an id that is not
//                       "<channel>:<ts>". Slack's already_pinned counts as done (api_result::already_done).
std::vector<api_call> to_calls(const core::action& a, const outbound_context& ctx = {});

// chat.postMessage calls for `text` in `channel`, with `buttons` (converted and split as to_calls does).
std::vector<api_call> post_message_calls(std::string_view channel, std::string_view text,
                                         const std::vector<core::button>& buttons = {},
                                         const outbound_context& ctx = {});
// The first step of a direct message, for adapters that cache DM channels: conversations.open {users}.
api_call open_dm_call(std::string_view user);

struct api_result;
// After `done` succeeded with `result`: the calls it asked for (a DM's posts to result.channel_id; a pinned post's
// pins.add {channel: result.channel_id, timestamp: result.ts}).
std::vector<api_call> follow_up_calls(const api_call& done, const api_result& result);

// The body of a slash-command reply (HTTP response, Socket Mode ack payload or response_url POST):
// {"response_type":"ephemeral"|"in_channel","text":…}, converted and capped at one message.
std::string response_payload(std::string_view text, bool in_channel, const outbound_context& ctx = {});

// Core Markdown -> Slack mrkdwn, only where cheap and safe: "**bold**" -> "*bold*", "# Heading" lines
// -> "*Heading*", "[text](https://…)" -> "<https://…|text>". Code spans and ``` blocks are left alone.
// Then &, < and > are escaped, except the <@U…>, <#C…>, <!here> and <https://…|…> forms.
std::string to_mrkdwn(std::string_view markdown);
// Only the escaping: & -> &amp;, < -> &lt;, > -> &gt;, except in <@U…>, <#C…>, <!here>, <https://…|…>.
std::string escape_text(std::string_view text);

// Splits at line boundaries into pieces of at most max_bytes (a longer line is cut at a space, else at
// a UTF-8 character boundary). Pieces lose the newline they were split at. Empty text: one empty piece.
std::vector<std::string> split_text(std::string_view text, std::size_t max_bytes);

// ---- responses -> values ----

struct api_result {
  bool ok = false;
  std::string error;         // Slack's code ("channel_not_found", "ratelimited"), "http_<status>", "invalid_json"
  std::string needed;        // missing_scope: the scope to add
  int retry_after_s = 0;     // 429: from the Retry-After header (default 1 when absent or unreadable)
  bool retryable = false;    // 429, 5xx, internal_error, fatal_error, request_timeout, service_unavailable…
  bool fatal = false;        // the token is unusable: invalid_auth, not_authed, token_revoked, missing_scope…
  bool already_done = false; // failed, but what was asked is already so (already_in_channel, already_pinned…)
  std::string channel_id;    // chat.postMessage "channel"; conversations.open/create/invite/setTopic "channel.id"
  std::string channel_name;  // conversations.create "channel.name"
  std::string ts;            // chat.postMessage "ts"; chat.postEphemeral "message_ts"
  std::vector<std::string> warnings;  // "warning" and response_metadata.warnings/messages
  std::string description;   // one short line for the log: "chat.postMessage: channel_not_found (…)"
};

// The one function that maps Slack Web API errors (STYLE.md §5.4).
api_result decode_api_response(std::string_view method, int http_status, std::string_view body,
                               std::string_view retry_after_header = {});

struct auth_info {
  api_result result;
  std::string user_id;  // the bot's user ("U…"): context::bot_user_id
  std::string bot_id;   // "B…": context::bot_id
  std::string team_id;
  std::string team;
  std::string url;      // "https://<team>.slack.com/"
};
auth_info decode_auth_test(std::string_view body, int http_status = 200);

struct connection_url {
  api_result result;
  std::string url;  // "wss://…" from apps.connections.open
};
connection_url decode_connections_open(std::string_view body, int http_status = 200);

struct user_info {
  api_result result;
  std::optional<core::user> who;  // display name: profile.display_name, else real name, else name
};
user_info decode_users_info(std::string_view body, int http_status = 200);

struct channel_lookup {
  api_result result;
  std::optional<core::channel_info> channel;  // id and name; nullopt when either is missing (a DM has no name)
};
channel_lookup decode_conversations_info(std::string_view body, int http_status = 200);

// A message with a thread under it (reply_count > 0), as conversations.history lists it.
struct thread_ref {
  std::string ts;            // the parent's ts, which is the thread's thread_ts
  int reply_count = 0;
  std::string latest_reply;  // ts of the newest reply; empty when the listing did not say
};

struct history_page {
  api_result result;
  // The page's messages as events, oldest first: message_posted for each message kintsugi keeps, plus a
  // message_edited after it when the message was edited (so an edit missed while away is caught up).
  std::vector<core::event> events;
  // The page's thread parents, in the order listed (kept or not: a thread under a bot's post counts too).
  std::vector<thread_ref> threads;
  bool has_more = false;
  std::string next_cursor;  // pass as `cursor` for the next page; empty on the last
};
// conversations.history for `channel` (the messages do not name it).
history_page decode_history(std::string_view body, std::string_view channel, const context& ctx,
                            int http_status = 200);
// conversations.replies of one thread in `channel`: the replies only. Slack lists the parent first on every
// page; it is a channel message, which conversations.history brings, so it is left out here.
history_page decode_replies(std::string_view body, std::string_view channel, const context& ctx,
                            int http_status = 200);

// The ts of the threads that were replied to after `since` (latest_reply newer; a thread whose listing does not
// say when it was last replied to counts as well), each once, oldest parent first.
std::vector<std::string> threads_replied_after(const std::vector<thread_ref>& threads, core::timestamp since);

// What a backfill found, from several pages and threads, ready to submit: in time order (an edit after its
// message; equal times keep their order) and each event once (by core::idempotency_key; a broadcast reply is
// listed by conversations.history and conversations.replies alike).
std::vector<core::event> order_backfill(std::vector<core::event> events);

}  // namespace kintsugi::slack
