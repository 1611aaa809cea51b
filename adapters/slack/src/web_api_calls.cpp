// The Slack codec, outbound: core actions to Web API calls, Markdown to mrkdwn, and message splitting.
#include "slack/web_api_calls.hpp"

#include <optional>
#include <variant>

#include "codec_detail.hpp"
#include "core/overloaded.hpp"

namespace kintsugi::slack {

using detail::json;

namespace {

constexpr std::size_t max_topic_chars = 250;
constexpr std::size_t max_channel_name_chars = 80;
constexpr std::string_view fence = "```";

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Bytes taken by the first `chars` UTF-8 characters of `s` (all of it when shorter).
std::size_t utf8_prefix(std::string_view s, std::size_t chars) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < s.size() && n < chars; ++n) {
    ++i;
    while (i < s.size() && is_continuation(s[i])) ++i;
  }
  return i;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if (!is_continuation(c)) ++n;
  }
  return n;
}

api_call make_call(std::string method, json body) {
  return api_call{std::move(method), detail::dump(body), {}, false};
}

std::vector<std::string> chunks(std::string_view text, const outbound_context& ctx) {
  std::string converted = ctx.convert_markdown ? to_mrkdwn(text) : escape_text(text);
  return split_text(converted, ctx.max_text_bytes);
}

// ---- Block Kit (PROTOCOLS.md §5; docs.slack.dev/reference/block-kit) ----

constexpr std::size_t max_section_chars = 3000;    // a section's text
constexpr std::size_t max_label_chars = 75;        // a button's plain_text
constexpr std::size_t max_value_chars = 2000;      // a button's value
constexpr std::size_t max_actions_elements = 25;   // elements of one actions block

// One button element, or nothing for a button Slack would refuse or kintsugi could not read back (no command,
// a command too long for a value or spread over lines: command_for_action() takes neither).
std::optional<json> button_element(const core::button& b, std::size_t number) {
  if (b.command.find_first_not_of(' ') == std::string::npos || b.command.size() > max_value_chars ||
      b.command.find_first_of("\r\n") != std::string::npos) {
    return std::nullopt;
  }
  std::string label = b.label.empty() ? b.command : b.label;
  if (utf8_length(label) > max_label_chars) label = label.substr(0, utf8_prefix(label, max_label_chars - 1)) + "…";
  json element{{"type", "button"},
               {"text", {{"type", "plain_text"}, {"text", std::move(label)}, {"emoji", true}}},
               {"action_id", std::string(command_action_id) + "." + std::to_string(number)},
               {"value", b.command}};
  if (b.style == "primary" || b.style == "danger") element["style"] = b.style;
  return element;
}

// The message's text as a mrkdwn section (when there is text), then the buttons in actions blocks of at most 25.
json blocks_for(const std::string& converted_text, const std::vector<json>& elements) {
  json blocks = json::array();
  if (!converted_text.empty()) {
    blocks.push_back(json{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", converted_text}}}});
  }
  for (std::size_t from = 0; from < elements.size(); from += max_actions_elements) {
    json row = json::array();
    for (std::size_t k = from; k < elements.size() && k < from + max_actions_elements; ++k) row.push_back(elements[k]);
    blocks.push_back(json{{"type", "actions"}, {"elements", std::move(row)}});
  }
  return blocks;
}

// The bodies of the messages for one text, without "channel" (and "user"): {"text": piece} each, and on the last
// one the blocks with the buttons (none when no button is usable). Once a message has blocks Slack shows them
// instead of "text" (which stays as the notification's words), so the last piece must fit one section: a longer
// tail is split into more messages first.
std::vector<json> message_bodies(std::string_view text, const std::vector<core::button>& buttons,
                                 const outbound_context& ctx) {
  std::vector<json> elements;
  for (const auto& b : buttons) {
    if (auto element = button_element(b, elements.size() + 1)) elements.push_back(std::move(*element));
  }
  auto pieces = chunks(text, ctx);
  if (!elements.empty() && utf8_length(pieces.back()) > max_section_chars) {
    auto tail = split_text(pieces.back(), max_section_chars);  // bytes >= characters
    pieces.pop_back();
    for (auto& piece : tail) pieces.push_back(std::move(piece));
  }
  std::vector<json> bodies;
  for (const auto& piece : pieces) bodies.push_back(json{{"text", piece}});
  if (!elements.empty()) bodies.back()["blocks"] = blocks_for(pieces.back(), elements);
  return bodies;
}

api_call post_call(std::string_view channel, json body) {
  body["channel"] = channel;
  return make_call("chat.postMessage", std::move(body));
}

// Slack channel names: lowercase letters, digits, '-' and '_', at most 80 characters.
std::string channel_name(std::string_view wanted) {
  std::string name;
  for (char c : wanted) {
    if (c >= 'A' && c <= 'Z') name += static_cast<char>(c - 'A' + 'a');
    else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') name += c;
    else if (static_cast<unsigned char>(c) >= 0x80) name += c;  // Slack keeps non-ASCII letters
    else name += '-';
  }
  name.resize(utf8_prefix(name, max_channel_name_chars));
  return name;
}

// At most 250 characters: cut at the last space that keeps it short, and end with "…".
std::string topic(std::string_view text) {
  if (utf8_length(text) <= max_topic_chars) return std::string(text);
  std::string_view head = text.substr(0, utf8_prefix(text, max_topic_chars - 1));
  if (auto space = head.find_last_of(" \n"); space != std::string_view::npos && space > head.size() / 2) {
    head = head.substr(0, space);
  }
  while (!head.empty() && (head.back() == ' ' || head.back() == '\n')) head.remove_suffix(1);
  return std::string(head) + "…";
}

}  // namespace

std::vector<api_call> post_message_calls(std::string_view channel, std::string_view text,
                                         const std::vector<core::button>& buttons, const outbound_context& ctx) {
  std::vector<api_call> calls;
  for (auto& body : message_bodies(text, buttons, ctx)) calls.push_back(post_call(channel, std::move(body)));
  return calls;
}

api_call open_dm_call(std::string_view user) { return make_call("conversations.open", json{{"users", user}}); }

namespace {
api_call pin_call(std::string_view channel, std::string_view ts) {
  return make_call("pins.add", json{{"channel", channel}, {"timestamp", ts}});
}
}  // namespace

std::vector<api_call> follow_up_calls(const api_call& done, const api_result& result) {
  std::vector<api_call> calls;
  if (!result.ok || result.channel_id.empty()) return calls;
  for (const auto& body : done.then_post) {
    json j = json_access::parse(body);
    if (!j.is_object()) continue;  // only ever what to_calls() wrote
    calls.push_back(post_call(result.channel_id, std::move(j)));
  }
  if (done.then_pin && !result.ts.empty()) calls.push_back(pin_call(result.channel_id, result.ts));
  return calls;
}

std::vector<api_call> to_calls(const core::action& a, const outbound_context& ctx) {
  return std::visit(
      core::overloaded{
          [&](const core::post_message& m) {
            auto calls = post_message_calls(m.channel, m.text, m.buttons, ctx);
            if (m.pin && !calls.empty()) calls.front().then_pin = true;
            return calls;
          },
          [&](const core::post_ephemeral& m) {
            std::vector<api_call> calls;
            for (auto& body : message_bodies(m.text, m.buttons, ctx)) {
              body["channel"] = m.channel;
              body["user"] = m.user;
              calls.push_back(make_call("chat.postEphemeral", std::move(body)));
            }
            return calls;
          },
          [&](const core::direct_message& m) {
            api_call open = open_dm_call(m.user);
            for (const auto& body : message_bodies(m.text, m.buttons, ctx)) open.then_post.push_back(detail::dump(body));
            return std::vector<api_call>{std::move(open)};
          },
          [&](const core::create_channel& c) {
            return std::vector<api_call>{make_call("conversations.create", json{{"name", channel_name(c.name)}})};
          },
          [&](const core::invite_user& i) {
            return std::vector<api_call>{
                make_call("conversations.invite", json{{"channel", i.channel}, {"users", i.user}})};
          },
          [&](const core::set_topic& t) {
            return std::vector<api_call>{make_call(
                "conversations.setTopic", json{{"channel", t.channel}, {"topic", escape_text(topic(t.text))}})};
          },
          [&](const core::publish_document&) { return std::vector<api_call>{}; },
          [&](const core::pin_message& p) {
            std::vector<api_call> calls;
            if (auto ref = split_message_id(p.message_id)) calls.push_back(pin_call(ref->channel, ref->ts));
            return calls;
          },
      },
      a);
}

std::string response_payload(std::string_view text, bool in_channel, const outbound_context& ctx) {
  auto pieces = chunks(text, ctx);
  json body{{"response_type", in_channel ? "in_channel" : "ephemeral"}, {"text", pieces.empty() ? "" : pieces.front()}};
  return detail::dump(body);
}

// ---- splitting ----

std::vector<std::string> split_text(std::string_view text, std::size_t max_bytes) {
  if (max_bytes < 16) max_bytes = 16;  // room for a fence and a 4-byte character
  if (text.size() <= max_bytes) return {std::string(text)};

  std::vector<std::string> pieces;
  std::string current;
  bool in_fence = false;  // after the lines in `current`
  const std::size_t budget = max_bytes - (fence.size() + 1);  // keep room to close an open fence
  auto flush = [&] {
    if (current.empty()) return;
    if (in_fence) current.append("\n").append(fence);
    pieces.push_back(std::move(current));
    current.clear();
    if (in_fence) current = std::string(fence);
  };
  auto add = [&](std::string_view part) {
    if (!current.empty() && current.size() + 1 + part.size() > budget) flush();
    if (!current.empty()) current += '\n';
    current.append(part);
  };

  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    const std::size_t room = budget - (in_fence ? fence.size() + 1 : 0);
    while (line.size() > room) {  // a line longer than a message: cut it at a space or a character
      std::size_t cut = line.substr(0, room).find_last_of(' ');
      if (cut == std::string_view::npos || cut < room / 2) {
        cut = room;
        while (cut > 0 && is_continuation(line[cut])) --cut;
        if (cut == 0) cut = room;  // not UTF-8: any cut will do
      }
      flush();
      add(line.substr(0, cut));
      flush();
      line.remove_prefix(cut);
      if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    }
    add(line);
    if (line.starts_with(fence)) in_fence = !in_fence;
    if (end == text.size()) break;
    start = end + 1;
  }
  if (!current.empty()) {
    const bool closing = in_fence;
    in_fence = false;
    if (closing) current.append("\n").append(fence);
    pieces.push_back(std::move(current));
  }
  return pieces;
}

}  // namespace kintsugi::slack
