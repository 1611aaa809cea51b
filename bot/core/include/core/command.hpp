#pragma once
// The /incident command grammar of DESIGN.md: one parser for every platform.
// parse_command() turns the text after "/incident" into a typed command or a clear error that says
// what was wrong and shows the usage line. It resolves "me", mentions, dates and times, so the
// engine only ever sees valid values.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/model.hpp"
#include "core/time.hpp"

namespace kintsugi::core {

namespace cmd {
struct help { std::string topic; };  // empty: the overview
struct start { std::string title; std::optional<severity> level; std::string service; };
struct set_severity { severity level; };
struct take_role { role which; std::string user; };  // user id; "me" already resolved
struct list_roles {};
struct set_status { incident_status status; };
struct update { std::string text; };
struct note { std::string text; };
struct mark { milestone which; timestamp at; };  // `at` is now when no time was given
struct summary { std::string text; };
struct impact { std::string text; };
struct add_why { std::string text; };
struct add_factor { factor_kind kind; std::string text; };
struct add_lesson { lesson_kind kind; std::string text; };
struct action_add {
  std::string text;
  std::string owner;          // user id
  std::optional<date> due;    // nullopt: the engine applies the default
  action_kind kind = action_kind::fix;
};
struct action_list {};
struct action_done { id_t id; };
struct action_reopen { id_t id; };
struct action_snooze { id_t id; duration by; };
struct action_reassign { id_t id; std::string user; };
struct action_drop { id_t id; };
struct action_held { id_t id; fix_check answer; };  // the answer to the 90-day look-back
// The commander's status-update nudges: snooze for a while, stop, or resume. `incident` names the incident
// when the command comes from elsewhere (a DM); 0 means the channel's.
struct nudge {
  enum class what { snooze, stop, resume } verb = what::snooze;
  duration by{};
  id_t incident = 0;
};
struct resolve { std::string text; };
struct show_timeline { std::size_t count = 20; };
struct postmortem {};
struct review { timestamp at; };
struct stats { int days = 30; };
}  // namespace cmd

using command = std::variant<cmd::help, cmd::start, cmd::set_severity, cmd::take_role, cmd::list_roles,
                             cmd::set_status, cmd::update, cmd::note, cmd::mark, cmd::summary, cmd::impact,
                             cmd::add_why, cmd::add_factor, cmd::add_lesson, cmd::action_add, cmd::action_list,
                             cmd::action_done, cmd::action_reopen, cmd::action_snooze, cmd::action_reassign,
                             cmd::action_drop, cmd::resolve, cmd::show_timeline, cmd::postmortem, cmd::review,
                             cmd::stats, cmd::action_held, cmd::nudge>;

// What the parser needs to know about the moment and the person.
struct parse_context {
  std::string user;  // who typed it ("me" resolves to this id)
  timestamp now{};
  std::string tz;    // the user's IANA zone, empty = UTC
};

struct parse_error {
  std::string message;  // what was wrong, in one kind sentence
  std::string usage;    // the usage line(s) of the subcommand, or the overview
};

struct parse_result {
  std::optional<command> cmd;
  std::optional<parse_error> error;
  bool ok() const { return cmd.has_value(); }
};

parse_result parse_command(std::string_view text, const parse_context& ctx);

// "@bob" -> "bob", "<@U123>" / "<@U123|bob>" -> "U123", "<@mm:abc>" -> "mm:abc", "me"/"@me" -> ctx user.
// nullopt otherwise.
std::optional<std::string> parse_mention(std::string_view token, std::string_view me);

// The overview (`/incident help`) or one subcommand's help (`/incident help action`).
// Unknown topics get the overview with a line saying the topic is unknown.
std::string help_text(std::string_view topic = {});

}  // namespace kintsugi::core
