// The Slack codec, inbound commands: form bodies, slash commands and interactivity (buttons, menus).

#include <exception>
#include <optional>
#include <string>

#include "codec_detail.hpp"
#include "slack/codec.hpp"

namespace kintsugi::slack {

using detail::element;
using detail::member;
using detail::obj;
using detail::str;

namespace {

bool looks_like_json(std::string_view body) {
  auto first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && body[first] == '{';
}

// Reads named string fields from either a form body or a JSON object.
class field_source {
 public:
  explicit field_source(std::string_view body) {
    if (looks_like_json(body)) {
      json_.emplace(body);
      ok_ = json_->ok() && json_->root().is_object();
      why_ = ok_ ? "" : "payload is not a JSON object";
    } else if (auto fields = decode_form(body)) {
      form_ = std::move(*fields);
      ok_ = true;
    } else {
      why_ = "body is not a urlencoded form";
    }
  }
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  std::string get(std::string_view name) const {
    if (json_) return std::string(str(json_->root(), name));
    for (const auto& f : form_) {
      if (f.name == name) return f.value;
    }
    return {};
  }

 private:
  std::optional<detail::parsed> json_;
  std::vector<form_field> form_;
  bool ok_ = false;
  std::string why_;
};

slash_command decode_slash_unchecked(std::string_view body, core::timestamp at, std::string_view fallback_id) {
  slash_command out;
  field_source fields(body);
  if (!fields.ok()) {
    out.error = fields.why();
    return out;
  }
  out.command = fields.get("command");
  out.response_url = fields.get("response_url");
  out.trigger_id = fields.get("trigger_id");
  out.team_id = fields.get("team_id");
  auto& c = out.invoked;
  c.channel = fields.get("channel_id");
  c.user = fields.get("user_id");
  c.text = unescape_text(fields.get("text"));
  c.at = at;
  if (!out.trigger_id.empty()) {
    c.id = out.trigger_id;
  } else if (!fallback_id.empty()) {
    c.id = std::string(fallback_id);
  } else {
    c.id = c.channel + ":" + c.user + ":" + core::format_iso(at);
  }
  if (c.user.empty()) out.error = "no user_id";
  else if (c.channel.empty()) out.error = "no channel_id";
  return out;
}

bool is_word(std::string_view w) {
  if (w.empty()) return false;
  for (char ch : w) {
    const bool fine = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    if (!fine) return false;
  }
  return true;
}

// "command", or "command.<digits>" (the numbered buttons kintsugi posts).
bool is_command_action(std::string_view rest) {
  constexpr std::string_view word = "command";
  if (!rest.starts_with(word)) return false;
  rest.remove_prefix(word.size());
  if (rest.empty()) return true;
  if (rest.front() != '.' || rest.size() == 1) return false;
  return rest.find_first_not_of("0123456789", 1) == std::string_view::npos;
}

interaction decode_interactive_unchecked(std::string_view payload, core::timestamp at) {
  interaction out;
  std::string text;
  if (!looks_like_json(payload)) {
    auto fields = decode_form(payload);
    if (!fields) {
      out.error = "body is not a urlencoded form";
      return out;
    }
    for (auto& f : *fields) {
      if (f.name == "payload") text = std::move(f.value);
    }
    if (text.empty()) {
      out.error = "no payload field";
      return out;
    }
    payload = text;
  }
  const detail::parsed doc(payload);
  const element p = doc.root();
  if (!doc.ok() || !p.is_object()) {
    out.error = "payload is not a JSON object";
    return out;
  }
  out.type = str(p, "type");
  out.user = str(obj(p, "user"), "id");
  if (out.user.empty()) out.user = str(p, "user_id");
  out.channel = str(obj(p, "channel"), "id");
  if (out.channel.empty()) out.channel = str(obj(p, "container"), "channel_id");
  out.response_url = str(p, "response_url");
  out.trigger_id = str(p, "trigger_id");
  out.message_ts = str(obj(p, "container"), "message_ts");

  const auto actions = detail::arr(p, "actions");
  if (!actions || actions->begin() == actions->end()) return out;
  const element a = *actions->begin();
  out.action_id = str(a, "action_id");
  out.value = str(a, "value");
  if (out.value.empty()) out.value = str(obj(a, "selected_option"), "value");

  if (out.type != "block_actions" || out.user.empty() || out.channel.empty()) return out;
  auto command_text = command_for_action(out.action_id, out.value);
  if (!command_text) return out;
  core::command_invoked c;
  const std::string action_ts{str(a, "action_ts")};
  c.id = !out.trigger_id.empty() ? out.trigger_id : out.channel + ":" + out.user + ":" + action_ts;
  c.channel = out.channel;
  c.user = out.user;
  c.text = std::move(*command_text);
  c.at = parse_ts(action_ts).value_or(at);
  out.command = std::move(c);
  return out;
}

}  // namespace

slash_command decode_slash_command(std::string_view body, core::timestamp at, std::string_view fallback_id) {
  try {
    return decode_slash_unchecked(body, at, fallback_id);
  } catch (const std::exception& e) {  // allocation failure
    slash_command out;
    out.error = e.what();
    return out;
  }
}

std::optional<std::string> command_for_action(std::string_view action_id, std::string_view value) {
  if (!action_id.starts_with(action_prefix)) return std::nullopt;
  if (value.size() > 2000 || value.find_first_of("\r\n") != std::string_view::npos) return std::nullopt;
  std::string_view rest = action_id.substr(action_prefix.size());
  if (is_command_action(rest)) {
    if (value.find_first_not_of(' ') == std::string_view::npos) return std::nullopt;
    return std::string(value);
  }
  std::string text;
  while (true) {
    auto dot = rest.find('.');
    std::string_view word = rest.substr(0, dot);
    if (!is_word(word)) return std::nullopt;
    if (!text.empty()) text += ' ';
    text += word;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (!value.empty()) text.append(" ").append(value);
  return text;
}

interaction decode_interactive(std::string_view payload, core::timestamp at) {
  try {
    return decode_interactive_unchecked(payload, at);
  } catch (const std::exception& e) {  // allocation failure
    interaction out;
    out.error = e.what();
    return out;
  }
}

}  // namespace kintsugi::slack
