#include "action_json.hpp"

#include <concepts>
#include <cstddef>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/store.hpp"

namespace kintsugi::storage::detail {

namespace {

using nlohmann::json;

// One type name per alternative: a new action type fails to compile until it is named here.
template <class T>
constexpr std::string_view type_name() = delete;
template <>
constexpr std::string_view type_name<core::post_message>() { return "post_message"; }
template <>
constexpr std::string_view type_name<core::post_ephemeral>() { return "post_ephemeral"; }
template <>
constexpr std::string_view type_name<core::direct_message>() { return "direct_message"; }
template <>
constexpr std::string_view type_name<core::create_channel>() { return "create_channel"; }
template <>
constexpr std::string_view type_name<core::invite_user>() { return "invite_user"; }
template <>
constexpr std::string_view type_name<core::set_topic>() { return "set_topic"; }
template <>
constexpr std::string_view type_name<core::publish_document>() { return "publish_document"; }
template <>
constexpr std::string_view type_name<core::pin_message>() { return "pin_message"; }

// The fields of each action, listed once for both directions (A is the action, const or not).
template <class A, class T>
concept action_of = std::same_as<std::remove_const_t<A>, T>;

template <action_of<core::post_message> A, class F>
void fields(A& a, F&& f) { f("channel", a.channel); f("text", a.text); }
template <action_of<core::post_ephemeral> A, class F>
void fields(A& a, F&& f) { f("channel", a.channel); f("user", a.user); f("text", a.text); }
template <action_of<core::direct_message> A, class F>
void fields(A& a, F&& f) { f("user", a.user); f("text", a.text); }
template <action_of<core::create_channel> A, class F>
void fields(A& a, F&& f) { f("name", a.name); }
template <action_of<core::invite_user> A, class F>
void fields(A& a, F&& f) { f("channel", a.channel); f("user", a.user); }
template <action_of<core::set_topic> A, class F>
void fields(A& a, F&& f) { f("channel", a.channel); f("text", a.text); }
template <action_of<core::publish_document> A, class F>
void fields(A& a, F&& f) { f("channel", a.channel); f("filename", a.filename); f("content", a.content); }
template <action_of<core::pin_message> A, class F>
void fields(A& a, F&& f) { f("message_id", a.message_id); }

[[noreturn]] void fail(std::string_view what) {
  throw core::store_error("storage: outbox item is not a valid action: " + std::string(what));
}

// The buttons of the actions that have them (A is the action, const or not); nullptr for the others.
template <class A>
auto* buttons_of(A& a) {
  if constexpr (requires { a.buttons; }) {
    return &a.buttons;
  } else {
    return static_cast<std::vector<core::button>*>(nullptr);
  }
}

// "buttons":[{"label":…,"command":…,"style":…}], written only when there are some ("style" only when set), so
// an item without buttons reads exactly as before they existed.
void encode_buttons(json& j, const std::vector<core::button>& buttons) {
  if (buttons.empty()) return;
  json list = json::array();
  for (const auto& b : buttons) {
    json one{{"label", b.label}, {"command", b.command}};
    if (!b.style.empty()) one["style"] = b.style;
    list.push_back(std::move(one));
  }
  j["buttons"] = std::move(list);
}

// Rows written before buttons existed have no "buttons": no buttons.
std::vector<core::button> decode_buttons(const json& j) {
  std::vector<core::button> out;
  const auto it = j.find("buttons");
  if (it == j.end()) return out;
  if (!it->is_array()) fail("field 'buttons' is not an array");
  for (const auto& one : *it) {
    if (!one.is_object()) fail("a button is not an object");
    core::button b;
    const auto text = [&one](const char* key, std::string& value, bool required) {
      const auto f = one.find(key);
      if (f == one.end() && !required) return;
      if (f == one.end() || !f->is_string()) fail("button field '" + std::string(key) + "' missing or not a string");
      value = f->template get<std::string>();
    };
    text("label", b.label, true);
    text("command", b.command, true);
    text("style", b.style, false);
    out.push_back(std::move(b));
  }
  return out;
}

// "pin":true on the actions that have the flag, written only when set; rows without it (all rows written before
// it existed) read as false.
template <class A>
void encode_pin(json& j, const A& a) {
  if constexpr (requires { a.pin; }) {
    if (a.pin) j["pin"] = true;
  }
}

template <class A>
void decode_pin(const json& j, A& a) {
  if constexpr (requires { a.pin; }) {
    const auto it = j.find("pin");
    if (it == j.end()) return;
    if (!it->is_boolean()) fail("field 'pin' is not a boolean");
    a.pin = it->template get<bool>();
  }
}

template <std::size_t I = 0>
core::action decode(std::string_view type, const json& j) {
  if constexpr (I == std::variant_size_v<core::action>) {
    fail("unknown type '" + std::string(type) + "'");
  } else {
    using alternative = std::variant_alternative_t<I, core::action>;
    if (type != type_name<alternative>()) return decode<I + 1>(type, j);
    alternative a;
    fields(a, [&j](const char* key, std::string& value) {
      const auto it = j.find(key);
      if (it == j.end() || !it->is_string()) fail("field '" + std::string(key) + "' missing or not a string");
      value = it->template get<std::string>();
    });
    if (auto* buttons = buttons_of(a)) *buttons = decode_buttons(j);
    decode_pin(j, a);
    return a;
  }
}

}  // namespace

std::string action_to_json(const core::action& a) {
  json j = json::object();
  std::visit(
      [&j](const auto& alternative) {
        using alternative_t = std::decay_t<decltype(alternative)>;
        j["type"] = type_name<alternative_t>();
        fields(alternative, [&j](const char* key, const std::string& value) { j[key] = value; });
        if (const auto* buttons = buttons_of(alternative)) encode_buttons(j, *buttons);
        encode_pin(j, alternative);
      },
      a);
  // Text from a platform is normally UTF-8; a stray invalid byte becomes U+FFFD instead of failing
  // the whole transaction that wanted to send it.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

core::action action_from_json(std::string_view text) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail("not JSON");
  if (!j.is_object()) fail("not a JSON object");
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string()) fail("no \"type\"");
  return decode(type->get_ref<const std::string&>(), j);
}

}  // namespace kintsugi::storage::detail
