#pragma once
// Internals shared by the Slack codec's source files: JSON reading and writing that never throw, and the one
// message mapping used by both the Events API and the history methods.
#include "net/json_access.hpp"
#include "net/json_read.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/events.hpp"
#include "slack/codec.hpp"

namespace kintsugi::slack {

namespace detail {

// What kintsugi writes (request bodies, acks) is built with nlohmann: net/json_access.hpp.
using json_access::json;
using json_access::dump;

// What Slack sends is read with simdjson, through net/json_read.hpp: parsed, member, obj, arr, str, boolean, integer.
// Values are views into the parsed text; decoders copy what they keep.
using json_read::element;
using json_read::parsed;
using json_read::member;
using json_read::obj;
using json_read::arr;
using json_read::str;
using json_read::as_str;
using json_read::boolean;
using json_read::integer;

// A Slack message object (an event, a history entry or a reply) posted in `channel` -> message_posted,
// or nullopt for subtypes that are not a person's (or a bot's) words and for messages without ts/author.
std::optional<core::message_posted> decode_message(element msg, std::string_view channel, const context& ctx);

// The text kintsugi keeps for a message: unescaped, plus "📎 name <permalink>" per file, plus attachment
// fallbacks when the text is empty (alerts posted by other bots).
std::string message_text(element msg);

// A users.info / user_change user object -> core::user (display name: profile.display_name, else
// profile.real_name, real_name, name). nullopt without an id.
std::optional<core::user> decode_user(element user);

}  // namespace detail
}  // namespace kintsugi::slack
