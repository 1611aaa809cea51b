#pragma once
// The pure Mattermost codec, outbound half: REST v4 request bodies (PROTOCOLS.md §8), slash-command and
// interactive-action replies and the signed buttons kintsugi posts (§9). Ids here are plain Mattermost ids (use
// from_core() on the core's "mm:…" ids); texts are already Mattermost Markdown (text.hpp). No nlohmann types here;
// nothing throws.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"

namespace kintsugi::mattermost {

// A post's message may hold at most this many characters (Unicode code points); the server refuses longer ones.
inline constexpr std::size_t max_post_chars = 16383;
// A channel's header.
inline constexpr std::size_t max_header_chars = 1024;
// A channel's name (URL part) and display name.
inline constexpr std::size_t max_channel_name_chars = 64;

// Splits `text` into pieces of at most `max_chars` code points: at line boundaries where possible, else a long line
// at its last space in the second half of the piece, else at a character boundary (never inside a UTF-8 sequence).
// A ``` block cut in two is closed at the end of one piece and opened again at the start of the next. Pieces lose the
// newline (or space) they were split at. Text within the limit comes back as one piece; empty text as one empty
// piece. A `max_chars` below 16 is taken as 16.
std::vector<std::string> split_message(std::string_view text, std::size_t max_chars = max_post_chars);

// At most `max_chars` code points, cut at a character boundary, with "…" as the last one when cut.
std::string truncate_text(std::string_view text, std::size_t max_chars);

// ---- buttons ----

// hex(HMAC-SHA256(key, command)): the "sig" a button's context carries. Empty when `key` is empty.
std::string action_signature(std::string_view key, std::string_view command);
// A 32-byte key for action_signature, derived from a secret the adapter holds (HMAC-SHA256(secret, a fixed label)).
// Empty for an empty secret. Changing the secret invalidates the buttons already posted.
std::string derive_action_key(std::string_view secret);

// ---- REST bodies ----

// POST /api/v4/posts: {"channel_id","message","root_id"?}; `message` is cut to max_post_chars (split first).
// With buttons, a non-empty callback_url and a non-empty key, also "props":{"attachments":[{"actions":[…]}]}: one
// action per usable button, {"id":"kintsugi<n>" (n = 0, 1, …: Mattermost wants alphanumeric ids), "name": label
// (the command when the label is empty, at most 80 characters), "type":"button", "style": "primary"/"danger" when
// set, "integration":{"url": callback_url, "context":{"command": command, "sig": action_signature(key, command)}}}.
// A button whose command is blank, longer than 2000 bytes or on several lines is left out. Without a usable button
// the post is plain text.
std::string encode_create_post(std::string_view channel_id, std::string_view message, std::string_view root_id = {},
                               const std::vector<core::button>& buttons = {}, std::string_view callback_url = {},
                               std::string_view key = {});

// POST /api/v4/posts/ephemeral: {"user_id","post":{"channel_id","message"}}.
std::string encode_ephemeral_post(std::string_view user_id, std::string_view channel_id, std::string_view message);

// POST /api/v4/channels/direct: ["<bot id>","<user id>"].
std::string encode_direct_channel(std::string_view bot_user_id, std::string_view user_id);

// POST /api/v4/channels: {"team_id","name": channel_name_for(name),"display_name","type"}. The display name is
// `display_name` (else `name`) cut to 64 characters; type is "P" when asked for, else "O".
std::string encode_create_channel(std::string_view team_id, std::string_view name, std::string_view display_name,
                                  std::string_view type = "O");

// A name Mattermost accepts for a channel: lowercase ASCII letters, digits, '-' and '_'; starting and ending with a
// letter or digit; no "__" (direct-message names use it); 2 to 64 characters. Uppercase letters are lowered, every
// other run of characters becomes one '-'. A name with nothing usable left becomes "incident".
std::string channel_name_for(std::string_view wanted);

// POST /api/v4/channels/{id}/members: {"user_id"}.
std::string encode_add_member(std::string_view user_id);

// PUT /api/v4/channels/{id}/patch: {"header"}, cut to max_header_chars.
std::string encode_patch_header(std::string_view header);

// ---- replies to Mattermost's requests ----

// The HTTP 200 body for a slash command: {"response_type":"in_channel"|"ephemeral","text"} (anything but
// "in_channel" is ephemeral); the text is cut to max_post_chars.
std::string encode_command_response(std::string_view response_type, std::string_view text);

// The HTTP 200 body for an interactive action: {"ephemeral_text": text} (nothing when empty: "{}").
std::string encode_action_response(std::string_view ephemeral_text);
// The error form (Mattermost ≥ 10.5 shows it to the user): {"error":{"message": text}}.
std::string encode_action_error(std::string_view message);

}  // namespace kintsugi::mattermost
