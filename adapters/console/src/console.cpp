#include "console/console.hpp"

#include "core/mentions.hpp"
#include "core/overloaded.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <istream>
#include <ostream>
#include <vector>

namespace kintsugi::console {
namespace {

using json = nlohmann::ordered_json;
using namespace std::string_literals;

constexpr std::size_t max_line_bytes = 1 << 20;

using core::overloaded;

// A field that must be a non-empty string when present. Returns an error text, or "" when fine.
std::string read_string(const json& j, const char* key, std::string& out, bool required) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return required ? "\""s + key + "\" is missing" : "";
  if (!it->is_string()) return "\""s + key + "\" must be a string";
  out = it->get<std::string>();
  if (required && out.empty()) return "\""s + key + "\" must not be empty";
  return "";
}

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

std::string strip_colons(std::string s) {
  if (s.size() >= 2 && s.front() == ':' && s.back() == ':') s = s.substr(1, s.size() - 2);
  return s;
}

}  // namespace

decode_result decode_line(std::string_view line, std::optional<core::timestamp>& last_time,
                          std::string_view default_channel) {
  if (line.size() > max_line_bytes) return {std::nullopt, "line is longer than 1 MiB"};
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) return {std::nullopt, "not valid JSON"};
  if (!j.is_object()) return {std::nullopt, "expected a JSON object"};
  std::string type;
  if (auto err = read_string(j, "type", type, true); !err.empty()) return {std::nullopt, err};

  std::string ts_text;
  if (auto err = read_string(j, "ts", ts_text, false); !err.empty()) return {std::nullopt, err};
  core::timestamp at{};
  if (!ts_text.empty()) {
    auto parsed = core::parse_iso(ts_text);
    if (!parsed) return {std::nullopt, "\"ts\" must be an ISO 8601 time like 2026-11-20T10:00:00Z, got \"" + ts_text + "\""};
    at = *parsed;
  } else if (last_time) {
    at = *last_time;
  } else if (type != "user") {
    return {std::nullopt, "\"ts\" is missing (the first line needs a time; later lines reuse the last one)"};
  }

  std::string id, user, text, channel, emoji;
  auto fail = [](std::string e) { return decode_result{std::nullopt, std::move(e)}; };
  decode_result result;
  if (type == "message") {
    for (auto err : {read_string(j, "user", user, true), read_string(j, "text", text, false),
                     read_string(j, "id", id, false), read_string(j, "channel", channel, false)})
      if (!err.empty()) return fail(err);
    if (!j.contains("text")) return fail("\"text\" is missing");
    if (channel.empty()) channel = default_channel;
    if (id.empty())  // a stable id, so replaying the same line is still recognised as the same message
      id = "auto-" + std::to_string(fnv1a(channel + '\n' + user + '\n' + ts_text + '\n' + text));
    if (text.starts_with('/')) {
      auto space = text.find_first_of(" \t\n");
      std::string word = text.substr(0, space);
      std::string rest = space == std::string::npos ? "" : text.substr(space + 1);
      if (word == "/incident") result.value = core::event{core::command_invoked{id, channel, user, rest, at}};
      else result.value = unknown_command{channel, user, word};
    } else {
      bool from_bot = false;
      if (auto it = j.find("bot"); it != j.end() && !it->is_null()) {
        if (!it->is_boolean()) return fail("\"bot\" must be true or false");
        from_bot = it->get<bool>();
      }
      std::string thread;
      if (auto err = read_string(j, "thread", thread, false); !err.empty()) return fail(err);
      result.value = core::event{core::message_posted{id, channel, user, text, at, from_bot, thread}};
    }
  } else if (type == "edit") {
    for (auto err : {read_string(j, "id", id, true), read_string(j, "text", text, false)})
      if (!err.empty()) return fail(err);
    if (!j.contains("text")) return fail("\"text\" is missing");
    result.value = core::event{core::message_edited{id, text, at}};
  } else if (type == "delete") {
    if (auto err = read_string(j, "id", id, true); !err.empty()) return fail(err);
    result.value = core::event{core::message_deleted{id, at}};
  } else if (type == "reaction") {
    for (auto err : {read_string(j, "id", id, true), read_string(j, "user", user, true), read_string(j, "emoji", emoji, true)})
      if (!err.empty()) return fail(err);
    result.value = core::event{core::reaction_added{id, user, strip_colons(emoji), at}};
  } else if (type == "tick") {
    if (ts_text.empty()) return fail("\"ts\" is missing: a tick moves the clock to that time");
    result.value = core::event{core::clock_tick{at}};
  } else if (type == "user") {
    core::user u;
    for (auto err : {read_string(j, "id", u.id, true), read_string(j, "name", u.display_name, false),
                     read_string(j, "tz", u.tz, false)})
      if (!err.empty()) return fail(err);
    result.value = user_info{u};
  } else {
    return fail("unknown type \"" + type + "\" (expected message, edit, delete, reaction, tick or user)");
  }
  if (!ts_text.empty()) last_time = at;
  return result;
}

std::string render_mentions(std::string_view text) {
  return core::render_mentions(text, [](std::string_view id) { return std::string{id}; });
}

std::string slash_command_of(const core::button& b) { return "/incident " + b.command; }

namespace {

// Adds "buttons":[{"label":…,"command":"/incident …"}] after the other fields, only when there are buttons: a
// line without buttons reads exactly as before they existed. The command is what one would type (or send as a
// message's text) to do the same as pressing the button.
json with_buttons(json j, const std::vector<core::button>& buttons) {
  if (buttons.empty()) return j;
  json list = json::array();
  for (const auto& b : buttons) list.push_back(json{{"label", b.label}, {"command", slash_command_of(b)}});
  j["buttons"] = std::move(list);
  return j;
}

}  // namespace

std::string encode_action(const core::action& a) {
  json j = std::visit(
      overloaded{
          [](const core::post_message& p) {
            // (A post's `pin` is for chat platforms; the console has nothing to pin, and the line stays as DESIGN.md
            // gives it.)
            return with_buttons(json{{"type", "post"}, {"channel", p.channel}, {"text", render_mentions(p.text)}},
                                p.buttons);
          },
          [](const core::post_ephemeral& p) {
            return with_buttons(
                json{{"type", "ephemeral"}, {"channel", p.channel}, {"user", p.user}, {"text", render_mentions(p.text)}},
                p.buttons);
          },
          [](const core::direct_message& p) {
            return with_buttons(json{{"type", "dm"}, {"user", p.user}, {"text", render_mentions(p.text)}}, p.buttons);
          },
          [](const core::create_channel& p) { return json{{"type", "create_channel"}, {"name", p.name}}; },
          [](const core::invite_user& p) { return json{{"type", "invite"}, {"channel", p.channel}, {"user", p.user}}; },
          [](const core::publish_document& p) {
            return json{{"type", "document"}, {"channel", p.channel}, {"filename", p.filename}};
          },
          [](const core::set_topic& p) { return json{{"type", "topic"}, {"channel", p.channel}, {"text", render_mentions(p.text)}}; },
          [](const core::pin_message& p) { return json{{"type", "pin"}, {"id", p.message_id}}; },
      },
      a);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string write_document(const std::string& dir, const core::publish_document& d) {
  namespace fs = std::filesystem;
  std::string name = d.filename;
  for (char& c : name)
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  if (name.empty() || name == "." || name == "..") name = "document.md";
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path target = fs::path{dir} / name;
  fs::path temp = fs::path{dir} / ("." + name + ".tmp");
  {
    std::ofstream f{temp, std::ios::binary | std::ios::trunc};
    f << d.content;
    f.flush();
    if (!f) return "cannot write " + temp.string();
  }
  fs::rename(temp, target, ec);
  if (ec) return "cannot write " + target.string() + ": " + ec.message();
  return target.string();
}

std::string encode_error(std::size_t line, std::string_view message) {
  return json{{"type", "error"}, {"line", line}, {"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

int run_jsonl(std::istream& in, std::ostream& out, core::store& db, core::dispatcher& d, const options& opt) {
  std::optional<core::timestamp> clock;
  std::vector<core::event> batch;
  std::vector<std::size_t> lines;
  auto now = [&] { return clock.value_or(core::timestamp{std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now())}); };
  auto print = [&](const core::action& a) {
    if (const auto* doc = std::get_if<core::publish_document>(&a)) {
      // The document's text is already in the post; here it only becomes a file, when configured.
      if (!opt.document_dir.empty()) {
        auto written = write_document(opt.document_dir, *doc);
        if (written.starts_with("cannot")) std::cerr << "kintsugi: " << written << "\n";
      }
      return true;
    }
    // Pins are chat-platform housekeeping: the console has none, and the jsonl contract no such line.
    if (std::holds_alternative<core::pin_message>(a)) return true;
    out << encode_action(a) << '\n';
    return true;
  };
  auto flush = [&] {
    if (!batch.empty()) {
      auto outcomes = d.process(batch);
      d.deliver(print, now());
      for (std::size_t k = 0; k < outcomes.size(); ++k)
        if (!outcomes[k].error.empty()) out << encode_error(lines[k], "could not handle this line: " + outcomes[k].error) << '\n';
      batch.clear();
      lines.clear();
    }
    out.flush();
  };
  d.deliver(print, now());  // anything a previous run stored but did not get to send
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    auto decoded = decode_line(line, clock, opt.channel);
    if (!decoded.value) {
      flush();
      out << encode_error(number, decoded.error) << '\n';
      out.flush();
      continue;
    }
    bool handled = std::visit(overloaded{
                                  [&](core::event& e) {
                                    batch.push_back(std::move(e));
                                    lines.push_back(number);
                                    return true;
                                  },
                                  [&](user_info& u) {
                                    flush();
                                    db.upsert_user(u.who);
                                    return true;
                                  },
                                  [&](unknown_command& u) {
                                    flush();
                                    out << encode_action(core::post_ephemeral{
                                               u.channel, u.user, "I only know `/incident`. `" + u.command +
                                                                      "` is not one of mine; try `/incident help`."})
                                        << '\n';
                                    return true;
                                  },
                              },
                              *decoded.value);
    (void)handled;
    if (batch.size() >= 1000 || in.rdbuf()->in_avail() <= 0) flush();
  }
  flush();
  return 0;
}

}  // namespace kintsugi::console
