#pragma once
// The incident domain: what kintsugi remembers about an incident and its follow-up.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace kintsugi::core {

using id_t = std::int64_t;

enum class severity { sev1, sev2, sev3, sev4, near_miss };
enum class incident_status { investigating, identified, monitoring, resolved };
enum class role { commander, scribe, facilitator };
// `began` is when impact started (time to detect is measured from it); the rest follow DESIGN.md.
enum class milestone { began, detected, acknowledged, mitigated, resolved };
enum class factor_kind { people, process, technology, external };
enum class lesson_kind { helped, slowed, different, knowledge };
enum class action_kind { fix, process, detection, mitigation };
enum class action_status { open, done, dropped };
// What a timeline entry is. `message` is a person's chat message; the rest are recorded by the bot.
enum class entry_kind { message, note, update, status, severity, role, milestone, analysis, action_entry, review, postmortem, system };
// (action_entry is named "action" in documents and JSON.)
// What the bot follows up on its own (core/schedule.hpp has the rules).
enum class reminder_kind { role_ask, update_nudge, review_ask, action_due, lookback, digest };
// The answer to the look-back: did the fix hold?
enum class fix_check { held, regressed, unsure };

inline constexpr std::size_t role_count = 3;
inline constexpr std::size_t milestone_count = 5;

// Names as they appear in commands, documents and JSON ("sev1", "near-miss", "commander", …).
std::string_view name(severity v);
std::string_view name(incident_status v);
std::string_view name(role v);
std::string_view name(milestone v);
std::string_view name(factor_kind v);
std::string_view name(lesson_kind v);
std::string_view name(action_kind v);
std::string_view name(action_status v);
std::string_view name(entry_kind v);
std::string_view name(reminder_kind v);
std::string_view name(fix_check v);

// The inverse of name(); case-insensitive; nullopt for anything else.
std::optional<severity> parse_severity(std::string_view s);
std::optional<incident_status> parse_status(std::string_view s);
std::optional<role> parse_role(std::string_view s);
std::optional<milestone> parse_milestone(std::string_view s);
std::optional<factor_kind> parse_factor_kind(std::string_view s);
std::optional<lesson_kind> parse_lesson_kind(std::string_view s);
std::optional<action_kind> parse_action_kind(std::string_view s);
std::optional<action_status> parse_action_status(std::string_view s);
std::optional<entry_kind> parse_entry_kind(std::string_view s);
std::optional<reminder_kind> parse_reminder_kind(std::string_view s);
std::optional<fix_check> parse_fix_check(std::string_view s);  // also "yes", "no", "not-sure"

// One line: what the level means ("sev1 — critical outage: …").
std::string_view describe(severity v);
// One line: what the role does.
std::string_view describe(role v);

struct incident {
  id_t id = 0;  // 1, 2, 3… per database
  std::string title;
  severity level = severity::sev3;
  incident_status status = incident_status::investigating;
  std::string channel;         // where the incident is run (platform channel id)
  std::string origin_channel;  // where it was declared
  bool dedicated_channel = false;  // the channel exists for this incident (created or prefixed)
  std::string declared_by;     // user id
  timestamp declared_at{};
  std::string service;         // optional service tag ("service:payments" on start)
  std::array<std::optional<timestamp>, milestone_count> milestones{};  // by milestone
  std::array<std::string, role_count> roles{};  // by role; empty = open
  std::string summary;
  std::string impact;
  std::optional<timestamp> review_at;
  bool nudges = true;  // false after /incident nudge stop: no status-update nudges for this incident

  std::string key() const;  // "INC-7"
  bool open() const { return status != incident_status::resolved; }
  std::optional<timestamp>& at(milestone m) { return milestones[static_cast<std::size_t>(m)]; }
  const std::optional<timestamp>& at(milestone m) const { return milestones[static_cast<std::size_t>(m)]; }
  std::string& holder(role r) { return roles[static_cast<std::size_t>(r)]; }
  const std::string& holder(role r) const { return roles[static_cast<std::size_t>(r)]; }
};

struct timeline_entry {
  id_t id = 0;
  id_t incident_id = 0;
  timestamp at{};
  std::string author;     // user id; the bot's own entries use bot_author
  entry_kind kind = entry_kind::message;
  std::string text;       // the latest text
  std::string source_id;  // platform message id (unique); empty for the bot's entries
  bool edited = false;
  bool deleted = false;
  bool key = false;       // a key event (pushpin, note, or a milestone)
  std::optional<timestamp> edited_at;
  std::optional<timestamp> deleted_at;
};

inline constexpr std::string_view bot_author = "kintsugi";

// An earlier text of an edited message.
struct revision {
  id_t entry_id = 0;
  timestamp replaced_at{};  // when this text was replaced by a newer one
  std::string text;
};

struct why {
  id_t id = 0;
  id_t incident_id = 0;
  int position = 0;  // 1-based, in the order they were asked
  std::string text;
  std::string author;
  timestamp at{};
};

struct factor {
  id_t id = 0;
  id_t incident_id = 0;
  factor_kind kind = factor_kind::technology;
  std::string text;
  std::string author;
  timestamp at{};
};

struct lesson {
  id_t id = 0;
  id_t incident_id = 0;
  lesson_kind kind = lesson_kind::helped;
  std::string text;
  std::string author;
  timestamp at{};
};

struct action_item {
  id_t id = 0;  // global per database, so "/incident action done 7" works from a DM too
  id_t incident_id = 0;
  std::string text;
  std::string owner;  // user id
  std::optional<date> due;
  action_kind kind = action_kind::fix;
  action_status status = action_status::open;
  std::string created_by;
  timestamp created_at{};
  std::optional<timestamp> closed_at;      // done or dropped
  std::optional<timestamp> snoozed_until;  // reminders are quiet until then
  std::optional<fix_check> fix_held;       // the owner's answer to the look-back
};

// One thing the bot will say when `due` comes: at most one per (kind, subject, detail). The row is updated or
// deleted in the same transaction that queues what it says, so it fires once.
struct reminder {
  id_t id = 0;
  reminder_kind kind = reminder_kind::role_ask;
  id_t subject = 0;    // the incident (role_ask, update_nudge, review_ask), the action item (action_due,
                       // lookback), 0 for the digest
  std::string detail;  // the role's name for role_ask; else empty
  timestamp due{};
  timestamp since{};   // what the schedule counts from (the start, the last update, the role's release)
  int count = 0;       // how many times it has fired so far
};

struct user {
  std::string id;
  std::string display_name;  // empty: show the id
  std::string tz;            // IANA zone; empty: unknown (UTC)
};

struct channel_info {
  std::string id;
  std::string name;  // without '#' or '~'; empty: unknown

  bool operator==(const channel_info&) const = default;
};

// A channel whose capture has a gap that no backfill has filled yet: the bot could not hear it from `since` (its
// connection was down, or the bot was) until a connection came back. `openings` counts the times the gap was
// opened again before a backfill closed it, so that a backfill closes only the gap it read.
struct capture_gap {
  std::string channel;
  timestamp since{};
  std::int64_t openings = 1;

  bool operator==(const capture_gap&) const = default;
};

}  // namespace kintsugi::core
