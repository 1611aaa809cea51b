#pragma once
// The console adapter: the bot on a terminal. Two modes:
//  - JSON lines (`console --jsonl`), the machine interface of DESIGN.md: one JSON object a line in, one out;
//    time is whatever the input says, so a run is deterministic.
//  - text, for a person: plain lines are chat messages, "/incident …" lines are commands, ":"-lines steer
//    the console itself (":user bob", ":channel inc-db", ":edit 3 new text", ":help").
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/dispatcher.hpp"
#include "core/events.hpp"
#include "core/model.hpp"
#include "core/store.hpp"

namespace kintsugi::console {

// What one JSON line means.
struct user_info {  // {"type":"user","id":"alice","name":"Alice","tz":"Europe/Berlin"}: the directory
  core::user who;
};
struct unknown_command {  // "/deploy …": a slash command that is not ours
  std::string channel, user, command;
};
using input = std::variant<core::event, user_info, unknown_command>;

struct decode_result {
  std::optional<input> value;
  std::string error;  // why the line could not be taken
};

// Decodes one JSON line. `last_time` is the time of the previous line; it stands in for a missing "ts" and is
// updated with every "ts" read. `default_channel` stands in for a missing "channel".
decode_result decode_line(std::string_view line, std::optional<core::timestamp>& last_time,
                          std::string_view default_channel);

// One action as a JSON line (no newline): {"type":"post","channel":…,"text":…} and so on. Posts, ephemerals and
// DMs that offer buttons end with "buttons":[{"label":…,"command":"/incident …"}]; without buttons there is no
// such field.
std::string encode_action(const core::action& a);
// What a person types to do what the button does: "/incident role commander me".
std::string slash_command_of(const core::button& b);
std::string encode_error(std::size_t line, std::string_view message);

// Writes a published document into `dir` (created if missing) atomically; returns the path, or an error text
// starting with "cannot".
std::string write_document(const std::string& dir, const core::publish_document& d);

// Renders the engine's neutral mentions for a terminal: <@bob> -> @bob, <#inc-db> -> #inc-db.
std::string render_mentions(std::string_view text);

struct options {
  std::string user = "you";
  std::string channel = "general";
  std::string database;  // shown in the text console's banner
  std::string document_dir;  // postmortem.dir: where published documents are written; empty: not written
};

// Runs until end of input; returns the process exit code. Lines that arrive together are handled as one
// batch (one commit); output for a batch is written after it is durably stored.
int run_jsonl(std::istream& in, std::ostream& out, core::store& db, core::dispatcher& d, const options& opt);
int run_text(std::istream& in, std::ostream& out, core::store& db, core::dispatcher& d, const options& opt);

}  // namespace kintsugi::console
