#pragma once
// Internals shared by the Slack codec's source files: JSON access that never throws, and the one
// message mapping used by both the Events API and the history methods.
#include "net/json_access.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/events.hpp"
#include "slack/codec.hpp"

namespace kintsugi::slack {

struct payload_tree {
  json_access::json value;
};

}  // namespace kintsugi::slack

namespace kintsugi::slack::detail {

// parse, member, obj, str and dump: net/json_access.hpp.
using json_access::json;
using json_access::parse;
using json_access::member;
using json_access::obj;
using json_access::str;
using json_access::dump;

inline bool boolean(const json& j, std::string_view key, bool fallback = false) {
  const json* m = member(j, key);
  return m != nullptr && m->is_boolean() ? m->get<bool>() : fallback;
}

// An integer member (a float is truncated, out-of-range values clamp to the fallback).
inline std::int64_t integer(const json& j, std::string_view key, std::int64_t fallback = 0) {
  const json* m = member(j, key);
  if (m == nullptr) return fallback;
  if (m->is_number_integer() && !m->is_number_unsigned()) return m->get<std::int64_t>();
  if (m->is_number_unsigned()) {
    auto u = m->get<std::uint64_t>();
    return u <= static_cast<std::uint64_t>(INT64_MAX) ? static_cast<std::int64_t>(u) : fallback;
  }
  if (m->is_number_float()) {
    double d = m->get<double>();
    return d > -9.0e18 && d < 9.0e18 ? static_cast<std::int64_t>(d) : fallback;
  }
  return fallback;
}


// A Slack message object (an event, a history entry or a reply) posted in `channel` -> message_posted,
// or nullopt for subtypes that are not a person's (or a bot's) words and for messages without ts/author.
std::optional<core::message_posted> decode_message(const json& msg, std::string_view channel, const context& ctx);

// The text kintsugi keeps for a message: unescaped, plus "📎 name <permalink>" per file, plus attachment
// fallbacks when the text is empty (alerts posted by other bots).
std::string message_text(const json& msg);

// A users.info / user_change user object -> core::user (display name: profile.display_name, else
// profile.real_name, real_name, name). nullopt without an id.
std::optional<core::user> decode_user(const json& user);

}  // namespace kintsugi::slack::detail
