#include "core/model.hpp"

#include <algorithm>
#include <cctype>

namespace kintsugi::core {
namespace {

template <class Enum, std::size_t N>
struct names_table {
  std::array<std::string_view, N> names;
  std::string_view of(Enum v) const {
    auto i = static_cast<std::size_t>(v);
    return i < N ? names[i] : std::string_view{"?"};
  }
  std::optional<Enum> parse(std::string_view s) const {
    for (std::size_t i = 0; i < N; ++i) {
      if (s.size() == names[i].size() &&
          std::equal(s.begin(), s.end(), names[i].begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          }))
        return static_cast<Enum>(i);
    }
    return std::nullopt;
  }
};

constexpr names_table<severity, 5> severity_names{{"sev1", "sev2", "sev3", "sev4", "near-miss"}};
constexpr names_table<incident_status, 4> status_names{{"investigating", "identified", "monitoring", "resolved"}};
constexpr names_table<role, 3> role_names{{"commander", "scribe", "facilitator"}};
constexpr names_table<milestone, 5> milestone_names{{"began", "detected", "acknowledged", "mitigated", "resolved"}};
constexpr names_table<factor_kind, 4> factor_names{{"people", "process", "technology", "external"}};
constexpr names_table<lesson_kind, 4> lesson_names{{"helped", "slowed", "different", "knowledge"}};
constexpr names_table<action_kind, 4> action_kind_names{{"fix", "process", "detection", "mitigation"}};
constexpr names_table<action_status, 3> action_status_names{{"open", "done", "dropped"}};
constexpr names_table<entry_kind, 12> entry_names{{"message", "note", "update", "status", "severity", "role",
                                                   "milestone", "analysis", "action", "review", "postmortem",
                                                   "system"}};
constexpr names_table<reminder_kind, 6> reminder_names{
    {"role-ask", "update-nudge", "review-ask", "action-due", "lookback", "digest"}};
constexpr names_table<fix_check, 3> fix_check_names{{"held", "regressed", "unsure"}};
constexpr names_table<fix_check, 3> fix_answer_names{{"yes", "no", "not-sure"}};  // the buttons' words

}  // namespace

std::string_view name(severity v) { return severity_names.of(v); }
std::string_view name(incident_status v) { return status_names.of(v); }
std::string_view name(role v) { return role_names.of(v); }
std::string_view name(milestone v) { return milestone_names.of(v); }
std::string_view name(factor_kind v) { return factor_names.of(v); }
std::string_view name(lesson_kind v) { return lesson_names.of(v); }
std::string_view name(action_kind v) { return action_kind_names.of(v); }
std::string_view name(action_status v) { return action_status_names.of(v); }
std::string_view name(entry_kind v) { return entry_names.of(v); }
std::string_view name(reminder_kind v) { return reminder_names.of(v); }
std::string_view name(fix_check v) { return fix_check_names.of(v); }

std::optional<severity> parse_severity(std::string_view s) { return severity_names.parse(s); }
std::optional<incident_status> parse_status(std::string_view s) { return status_names.parse(s); }
std::optional<role> parse_role(std::string_view s) { return role_names.parse(s); }
std::optional<milestone> parse_milestone(std::string_view s) { return milestone_names.parse(s); }
std::optional<factor_kind> parse_factor_kind(std::string_view s) { return factor_names.parse(s); }
std::optional<lesson_kind> parse_lesson_kind(std::string_view s) { return lesson_names.parse(s); }
std::optional<action_kind> parse_action_kind(std::string_view s) { return action_kind_names.parse(s); }
std::optional<action_status> parse_action_status(std::string_view s) { return action_status_names.parse(s); }
std::optional<entry_kind> parse_entry_kind(std::string_view s) { return entry_names.parse(s); }
std::optional<reminder_kind> parse_reminder_kind(std::string_view s) { return reminder_names.parse(s); }
std::optional<fix_check> parse_fix_check(std::string_view s) {
  if (auto v = fix_check_names.parse(s)) return v;
  return fix_answer_names.parse(s);
}

std::string_view describe(severity v) {
  switch (v) {
    case severity::sev1: return "critical: a core service is down or data is at risk for many users";
    case severity::sev2: return "major: an important feature is broken or badly degraded for many users";
    case severity::sev3: return "minor: partial degradation for some users, a workaround exists";
    case severity::sev4: return "low: cosmetic or internal, no customer impact";
    case severity::near_miss: return "it could have hurt and did not: worth learning from";
  }
  return "";
}

std::string_view describe(role v) {
  switch (v) {
    case role::commander: return "coordinates the response, makes the calls and keeps updates flowing";
    case role::scribe: return "keeps the record: decisions, times and links on the timeline";
    case role::facilitator: return "runs the review afterwards and keeps it blameless";
  }
  return "";
}

std::string incident::key() const { return "INC-" + std::to_string(id); }

}  // namespace kintsugi::core
