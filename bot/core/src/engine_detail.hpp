#pragma once
// Internals shared by the engine's source files.
#include <optional>
#include <string>
#include <vector>

#include "core/command.hpp"
#include "core/engine.hpp"
#include "core/model.hpp"
#include "core/overloaded.hpp"
#include "core/store.hpp"

namespace kintsugi::core::detail {

using core::overloaded;

// One /incident invocation being handled: who, where, when, the incident of the channel (if any), and the
// replies gathered so far.
struct command_scope {
  store& db;
  const engine_options& options;
  const command_invoked& ev;
  std::optional<incident> inc;  // the channel's incident
  actions out;
  std::string tz;  // the person's time zone (empty: UTC): "today" is their day
  actions later;   // follow-ups (the review ask at resolve) that read best after the command's own replies

  date today() const { return local_date_of(ev.at, tz); }

  // Seen only by the person who typed the command.
  void tell(std::string text, std::vector<button> buttons = {}) {
    out.push_back(post_ephemeral{ev.channel, ev.user, std::move(text), std::move(buttons)});
  }
  // Seen by the whole channel the command ran in.
  void say(std::string text, std::vector<button> buttons = {}) {
    out.push_back(post_message{ev.channel, std::move(text), std::move(buttons)});
  }
  // Posted in a given channel.
  void post(const std::string& channel, std::string text, std::vector<button> buttons = {}) {
    out.push_back(post_message{channel, std::move(text), std::move(buttons)});
  }
  void dm(const std::string& user, std::string text, std::vector<button> buttons = {}) {
    out.push_back(direct_message{user, std::move(text), std::move(buttons)});
  }

  // Adds a bot-written entry to the incident's timeline.
  void record(const incident& i, entry_kind kind, std::string text, bool key = false, std::optional<timestamp> at = {});
  // Saves the incident and refreshes the channel topic when what it shows changed.
  void save(const incident& before, const incident& after);
};

// Buttons that stand for commands a person would otherwise type (see core::button).
// One "I'll be <role>" button per role nobody holds yet, in role order.
std::vector<button> open_role_buttons(const incident& i);
// For the owner of an open action item: mark it done, or snooze it a day.
std::vector<button> action_owner_buttons(const action_item& a);

std::string topic_of(const incident& i);
std::string roles_line(const incident& i);
std::string severity_line(severity s);

// Gentle blameless nudge for a text the user just wrote; empty when the words are fine.
std::string blame_hint(store& db, const incident& i, std::string_view text, std::string_view where);

void run_incident_command(command_scope& s, const command& c);
void run_analysis_command(command_scope& s, const command& c);
void run_action_command(command_scope& s, const command& c);
void run_report_command(command_scope& s, const command& c);

// "There is no incident in this channel…" when the scope has none; true when there is one.
bool need_incident(command_scope& s);

}  // namespace kintsugi::core::detail
