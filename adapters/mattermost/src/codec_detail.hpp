#pragma once
// Internals shared by the Mattermost codec's source files: JSON access that never throws and tolerates the types
// Mattermost (and the captures of other clients) use loosely, UTF-8 counting, and the one post mapping used by both
// the websocket and REST listings.
#include "net/json_access.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/events.hpp"
#include "mattermost/codec.hpp"

namespace kintsugi::mattermost::detail {

// parse, member, obj, str and dump: net/json_access.hpp.
using json_access::json;
using json_access::parse;
using json_access::member;
using json_access::obj;
using json_access::str;
using json_access::dump;

// true, or the strings "true" / "True" (Mattermost keeps props as strings; the mmpy_bot captures use "True").
bool truthy(const json& j, std::string_view key);

// An integer member: a JSON integer, a float (truncated) or a string of decimal digits with an optional '-';
// anything else, or out of range, is the fallback.
std::int64_t integer(const json& j, std::string_view key, std::int64_t fallback = 0);
// The same for a value.
std::optional<std::int64_t> integer_value(const json& v);

// A member that is an object, or a JSON string holding an object (data.post, data.reaction, data.user). nullopt for
// anything else.
std::optional<json> embedded_object(const json& j, std::string_view key);
// A member that is an array of strings, or a JSON string holding one (data.mentions); other elements are skipped.
std::vector<std::string> string_list(const json& j, std::string_view key);


// ---- UTF-8 ----

inline bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
// Code points in `s` (bytes that are not continuation bytes).
std::size_t utf8_length(std::string_view s);
// Bytes taken by the first `chars` code points of `s` (all of it when shorter).
std::size_t utf8_prefix(std::string_view s, std::size_t chars);

// ---- secrets ----

// Equality of two secrets of any lengths in constant time (their SHA-256 digests are compared with CRYPTO_memcmp).
// False when either is empty.
bool same_secret(std::string_view a, std::string_view b);
// `sig_hex` (64 hex digits, either case) is action_signature(key, command), compared in constant time. False for an
// empty key.
bool verify_action_signature(std::string_view key, std::string_view command, std::string_view sig_hex);

// ---- posts ----

// The text kintsugi keeps for a post: the message, "📎 <name>" per file, attachment fallbacks when the message is
// empty. `data` is the frame's data (for otherFile / image); pass an empty object for REST posts.
std::string post_text(const json& post, const json& data);

// The bot's own, a bot account's, or a webhook's (in_channel slash replies included): see codec.hpp.
bool post_from_bot(const json& post, const context& ctx);

// A post -> its core event: message_posted, or member_joined / member_left for the system posts that say so.
// nullopt for other system posts, posts without id or channel, and posts with no text. `channel_fallback` is used
// when the post has no channel_id (broadcast.channel_id); `at_fallback` when it has no create_at.
std::optional<core::event> post_event(const json& post, const json& data, const context& ctx,
                                      std::string_view channel_fallback, std::optional<core::timestamp> at_fallback);

// A user object -> user_info (parse_user's mapping).
user_info user_of(const json& u);

}  // namespace kintsugi::mattermost::detail
