#pragma once
// Reading JSON from the platforms without ever throwing, shared by the Slack and Mattermost codecs: a parse that
// marks bad text as discarded, member lookups that tolerate any type, and a dump that survives text that is not
// UTF-8. Header-only; the includer links nlohmann_json.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace kintsugi::json_access {

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

// JSON text that never throws, even on strings that are not UTF-8 (they are replaced).
inline std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace kintsugi::json_access
