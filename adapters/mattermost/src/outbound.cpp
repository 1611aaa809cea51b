// The Mattermost codec, outbound: REST bodies, signed buttons, replies, message splitting and channel names.
#include "mattermost/outbound.hpp"

#include <algorithm>

#include "codec_detail.hpp"

namespace kintsugi::mattermost {

using detail::json;
using detail::utf8_length;
using detail::utf8_prefix;

namespace {

constexpr std::string_view fence = "```";
constexpr std::size_t max_label_chars = 80;
constexpr std::size_t max_command_bytes = 2000;

bool opens_or_closes_fence(std::string_view line) {
  auto first = line.find_first_not_of(' ');
  return first != std::string_view::npos && line.substr(first).starts_with(fence);
}

// Builds the pieces of split_message. Every piece keeps 4 characters spare, so that a ``` block open at its end can
// be closed there ("\n```") and opened again at the start of the next.
class splitter {
 public:
  explicit splitter(std::size_t limit) : budget_(limit - (fence.size() + 1)) {}

  void add_line(std::string_view line) {
    std::size_t chars = utf8_length(line);
    if (has_text_ && chars_ + 1 + chars > budget_) flush();
    while (chars > room()) {  // longer than what is left of a whole piece: cut it
      if (has_text_) {
        flush();
        continue;
      }
      const std::size_t take = room();
      std::size_t cut = utf8_prefix(line, take);
      std::string_view head = line.substr(0, cut);
      bool at_space = false;
      auto space = head.find_last_of(' ');
      if (space != std::string_view::npos && utf8_length(head.substr(0, space)) >= take / 2) {
        cut = space;
        at_space = true;
      }
      append(line.substr(0, cut));
      flush();
      line.remove_prefix(cut + (at_space ? 1 : 0));
      chars = utf8_length(line);
    }
    append(line);
    if (opens_or_closes_fence(line)) fence_open_ = !fence_open_;
  }

  std::vector<std::string> finish() {
    if (!current_.empty() || pieces_.empty()) pieces_.push_back(std::move(current_));
    return std::move(pieces_);
  }

 private:
  // What a line may still take in the current piece.
  std::size_t room() const {
    const std::size_t used = chars_ + (current_.empty() ? 0 : 1);
    return used >= budget_ ? 0 : budget_ - used;
  }

  void append(std::string_view part) {
    if (!current_.empty()) {
      current_ += '\n';
      ++chars_;
    }
    current_.append(part);
    chars_ += utf8_length(part);
    has_text_ = true;
  }

  void flush() {
    if (fence_open_) current_.append("\n").append(fence);
    pieces_.push_back(std::move(current_));
    current_.clear();
    chars_ = 0;
    has_text_ = false;
    if (fence_open_) {
      current_ = std::string(fence);
      chars_ = fence.size();
    }
  }

  std::size_t budget_;
  std::vector<std::string> pieces_;
  std::string current_;
  std::size_t chars_ = 0;
  bool has_text_ = false;  // current_ holds more than a reopened fence
  bool fence_open_ = false;
};

// One button as an attachment action, or nothing for a button kintsugi could not read back.
std::optional<json> button_action(const core::button& b, std::size_t number, std::string_view callback_url,
                                  std::string_view key) {
  if (b.command.find_first_not_of(' ') == std::string::npos || b.command.size() > max_command_bytes ||
      b.command.find_first_of("\r\n") != std::string::npos) {
    return std::nullopt;
  }
  std::string sig = action_signature(key, b.command);
  if (sig.empty()) return std::nullopt;
  json action{{"id", "kintsugi" + std::to_string(number)},
              {"name", truncate_text(b.label.empty() ? b.command : b.label, max_label_chars)},
              {"type", "button"},
              {"integration",
               {{"url", std::string(callback_url)}, {"context", {{"command", b.command}, {"sig", std::move(sig)}}}}}};
  if (b.style == "primary" || b.style == "danger") action["style"] = b.style;
  return action;
}

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::vector<std::string> split_message(std::string_view text, std::size_t max_chars) {
  max_chars = std::max<std::size_t>(max_chars, 16);
  if (utf8_length(text) <= max_chars) return {std::string(text)};
  splitter s(max_chars);
  std::size_t start = 0;
  while (true) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    s.add_line(text.substr(start, end - start));
    if (end == text.size()) break;
    start = end + 1;
  }
  return s.finish();
}

std::string truncate_text(std::string_view text, std::size_t max_chars) {
  if (utf8_length(text) <= max_chars) return std::string(text);
  if (max_chars == 0) return {};
  return std::string(text.substr(0, utf8_prefix(text, max_chars - 1))) + "…";
}

std::string encode_create_post(std::string_view channel_id, std::string_view message, std::string_view root_id,
                               const std::vector<core::button>& buttons, std::string_view callback_url,
                               std::string_view key) {
  json body{{"channel_id", std::string(channel_id)}, {"message", truncate_text(message, max_post_chars)}};
  if (!root_id.empty()) body["root_id"] = std::string(root_id);
  if (!callback_url.empty() && !key.empty()) {
    json actions = json::array();
    for (const auto& b : buttons) {
      if (auto a = button_action(b, actions.size(), callback_url, key)) actions.push_back(std::move(*a));
    }
    if (!actions.empty()) body["props"] = {{"attachments", json::array({json{{"actions", std::move(actions)}}})}};
  }
  return detail::dump(body);
}

std::string encode_ephemeral_post(std::string_view user_id, std::string_view channel_id, std::string_view message) {
  json body{{"user_id", std::string(user_id)},
            {"post", {{"channel_id", std::string(channel_id)}, {"message", truncate_text(message, max_post_chars)}}}};
  return detail::dump(body);
}

std::string encode_direct_channel(std::string_view bot_user_id, std::string_view user_id) {
  return detail::dump(json::array({std::string(bot_user_id), std::string(user_id)}));
}

std::string channel_name_for(std::string_view wanted) {
  std::string name;
  for (char c : wanted) {
    c = lower(c);
    if (alnum(c)) {
      name += c;
    } else if (c == '_' && !name.empty() && name.back() != '_' && name.back() != '-') {
      name += '_';
    } else if (!name.empty() && name.back() != '-' && name.back() != '_') {
      name += '-';  // anything else, non-ASCII included: one '-' per run
    }
  }
  if (name.size() > max_channel_name_chars) name.resize(max_channel_name_chars);
  while (!name.empty() && !alnum(name.back())) name.pop_back();
  if (name.size() < 2) return "incident";
  return name;
}

std::string encode_create_channel(std::string_view team_id, std::string_view name, std::string_view display_name,
                                  std::string_view type) {
  std::string_view shown = display_name.empty() ? name : display_name;
  json body{{"team_id", std::string(team_id)},
            {"name", channel_name_for(name)},
            {"display_name", truncate_text(shown, max_channel_name_chars)},
            {"type", type == "P" ? "P" : "O"}};
  return detail::dump(body);
}

std::string encode_add_member(std::string_view user_id) {
  return detail::dump(json{{"user_id", std::string(user_id)}});
}

std::string encode_patch_header(std::string_view header) {
  return detail::dump(json{{"header", truncate_text(header, max_header_chars)}});
}

std::string encode_command_response(std::string_view response_type, std::string_view text) {
  json body{{"response_type", response_type == "in_channel" ? "in_channel" : "ephemeral"},
            {"text", truncate_text(text, max_post_chars)}};
  return detail::dump(body);
}

std::string encode_action_response(std::string_view ephemeral_text) {
  json body = json::object();
  if (!ephemeral_text.empty()) body["ephemeral_text"] = truncate_text(ephemeral_text, max_post_chars);
  return detail::dump(body);
}

std::string encode_action_error(std::string_view message) {
  return detail::dump(json{{"error", {{"message", std::string(message)}}}});
}

}  // namespace kintsugi::mattermost
