#pragma once
// Internals shared by the Slack codec's source files: JSON access that never throws, and the one
// message mapping used by both the Events API and the history methods.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/events.hpp"
#include "slack/codec.hpp"

namespace kintsugi::slack::detail {

using json = nlohmann::json;

// A discarded value (is_discarded()) when `text` is not JSON.
inline json parse(std::string_view text) { return json::parse(text.begin(), text.end(), nullptr, false); }

// The member `key` of an object, or nullptr (also when `j` is not an object).
inline const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// The member when it is an object, else an empty object: for chains like obj(obj(j, "a"), "b").
inline const json& obj(const json& j, std::string_view key) {
  static const json empty = json::object();
  const json* m = member(j, key);
  return m != nullptr && m->is_object() ? *m : empty;
}

// The member when it is a string, else "".
inline std::string str(const json& j, std::string_view key) {
  const json* m = member(j, key);
  return m != nullptr && m->is_string() ? m->get_ref<const std::string&>() : std::string{};
}

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

// JSON text that never throws, even on strings that are not UTF-8 (they are replaced).
inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

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
