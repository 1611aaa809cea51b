// The Mattermost codec, inbound commands: form bodies, custom slash commands and interactive-message actions.

#include <algorithm>
#include <exception>

#include "codec_detail.hpp"
#include "mattermost/codec.hpp"
#include "mattermost/text.hpp"

namespace kintsugi::mattermost {

using detail::json;
using detail::obj;
using detail::str;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "Token <t>" (the scheme in any case) -> "<t>"; "" for anything else.
std::string_view token_of(std::string_view header) {
  header = trim(header);
  constexpr std::string_view scheme = "token";
  if (header.size() <= scheme.size() || (header[scheme.size()] != ' ' && header[scheme.size()] != '\t')) return {};
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (lower(header[i]) != scheme[i]) return {};
  }
  return trim(header.substr(scheme.size()));
}

std::string normalized_username(std::string_view name) {
  name = trim(name);
  if (!name.empty() && name.front() == '@') name.remove_prefix(1);
  std::string out;
  out.reserve(name.size());
  for (char c : name) out += lower(c);
  return out;
}

class form {
 public:
  explicit form(std::vector<form_field> fields) : fields_(std::move(fields)) {}
  std::string get(std::string_view name) const {
    for (const auto& f : fields_) {
      if (f.name == name) return f.value;
    }
    return {};
  }
  std::vector<std::string> all(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& f : fields_) {
      if (f.name == name) out.push_back(f.value);
    }
    return out;
  }

 private:
  std::vector<form_field> fields_;
};

slash_command decode_command_unchecked(std::string_view form_body, std::string_view authorization_header,
                                       std::string_view expected_token, core::timestamp at) {
  slash_command out;
  auto fields = decode_form(form_body);
  if (!fields) {
    out.error = "body is not a urlencoded form";
    return out;
  }
  const form f(std::move(*fields));

  // Both comparisons always run, so the time taken does not say which one matched.
  const bool header_ok = detail::same_secret(token_of(authorization_header), expected_token);
  const bool field_ok = detail::same_secret(f.get("token"), expected_token);
  out.authorized = !expected_token.empty() && (header_ok || field_ok);

  out.command = f.get("command");
  out.response_url = f.get("response_url");
  out.trigger_id = f.get("trigger_id");
  out.team_id = f.get("team_id");
  out.channel_name = f.get("channel_name");
  out.user_name = f.get("user_name");

  // Parallel lists, as Mattermost's UserMentionMap writes them; unequal lengths mean the pairs cannot be trusted.
  const auto names = f.all("user_mentions");
  const auto ids = f.all("user_mentions_ids");
  if (names.size() == ids.size()) {
    for (std::size_t k = 0; k < names.size(); ++k) {
      std::string name = normalized_username(names[k]);
      if (!name.empty() && !ids[k].empty()) out.user_mentions.emplace(std::move(name), ids[k]);
    }
  }

  const std::string channel = f.get("channel_id");
  const std::string user = f.get("user_id");
  const std::string text = f.get("text");
  for (auto& name : find_usernames(text)) {
    if (!out.user_mentions.contains(name)) out.unresolved_usernames.push_back(std::move(name));
  }
  auto& c = out.invoked;
  c.channel = to_core(channel);
  c.user = to_core(user);
  c.text = replace_usernames(text, out.user_mentions);
  c.at = at;
  c.id = !out.trigger_id.empty() ? "mm:cmd:" + out.trigger_id
                                 : "mm:cmd:" + channel + ":" + user + ":" + core::format_iso(at);
  if (user.empty()) out.error = "no user_id";
  else if (channel.empty()) out.error = "no channel_id";
  return out;
}

action_request decode_action_unchecked(std::string_view json_body, std::string_view key, core::timestamp at) {
  action_request out;
  json j = detail::parse(json_body);
  if (j.is_discarded() || !j.is_object()) {
    out.error = j.is_discarded() ? "not JSON" : "not a JSON object";
    return out;
  }
  const std::string user = str(j, "user_id");
  const std::string channel = str(j, "channel_id");
  out.user_id = to_core(user);
  out.channel_id = to_core(channel);
  out.post_id = str(j, "post_id");
  out.trigger_id = str(j, "trigger_id");
  out.user_name = str(j, "user_name");
  out.team_id = str(j, "team_id");
  const json& context = obj(j, "context");
  out.command = str(context, "command");
  out.authorized = !out.command.empty() && detail::verify_action_signature(key, out.command, str(context, "sig"));

  if (str(j, "type") == "dialog_submission") {
    out.authorized = false;
    out.error = "a dialog submission, not a message action";
    return out;
  }
  if (user.empty()) {
    out.error = "no user_id";
    return out;
  }
  if (channel.empty()) {
    out.error = "no channel_id";
    return out;
  }
  if (!out.authorized) return out;
  core::command_invoked c;
  c.id = !out.trigger_id.empty() ? "mm:act:" + out.trigger_id
                                 : "mm:act:" + out.post_id + ":" + user + ":" + core::format_iso(at);
  c.channel = out.channel_id;
  c.user = out.user_id;
  c.text = out.command;
  c.at = at;
  out.invoked = std::move(c);
  return out;
}

}  // namespace

slash_command decode_command(std::string_view form_body, std::string_view authorization_header,
                             std::string_view expected_token, core::timestamp at) {
  try {
    return decode_command_unchecked(form_body, authorization_header, expected_token, at);
  } catch (const std::exception& e) {  // allocation failure
    slash_command out;
    out.error = e.what();
    return out;
  }
}

action_request decode_action(std::string_view json_body, std::string_view key, core::timestamp at) {
  try {
    return decode_action_unchecked(json_body, key, at);
  } catch (const std::exception& e) {  // allocation failure
    action_request out;
    out.error = e.what();
    return out;
  }
}

}  // namespace kintsugi::mattermost
