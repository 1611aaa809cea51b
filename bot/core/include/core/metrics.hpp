#pragma once
// Measuring the team: per-incident durations from milestones, and stats over a window.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"

namespace kintsugi::core {

// Time to detect = detected - began; to acknowledge / mitigate / resolve = that milestone - detected
// (declared_at stands in for detected when detected is not set). nullopt where a milestone is missing
// or the difference would be negative.
struct incident_metrics {
  std::optional<duration> to_detect;
  std::optional<duration> to_acknowledge;
  std::optional<duration> to_mitigate;
  std::optional<duration> to_resolve;
};
incident_metrics metrics_of(const incident& i);

struct duration_stats {
  std::size_t count = 0;
  std::optional<duration> mean;
  std::optional<duration> median;
};

// Incidents that look like the same failure again: same service tag, or the same significant title words.
struct repeat_group {
  std::string reason;          // "service payments" or "title words: database, failover"
  std::vector<id_t> incidents; // oldest first
};

struct team_stats {
  int days = 30;
  timestamp since{};
  timestamp now{};
  std::size_t incidents = 0;
  std::size_t open_incidents = 0;
  std::array<std::size_t, 5> by_severity{};  // indexed by severity
  duration_stats detect, acknowledge, mitigate, resolve;
  std::vector<repeat_group> repeats;
  std::size_t actions = 0;
  std::size_t actions_open = 0;
  std::size_t actions_overdue = 0;         // open and past due
  std::size_t actions_closed = 0;          // done (dropped items are not counted as closed)
  std::size_t actions_closed_on_time = 0;  // done on or before the due date
  std::optional<double> closed_on_time_pct;  // of done items that had a due date
  // The 90-day look-back: items whose owner answered whether the fix held.
  std::size_t fixes_checked = 0;
  std::size_t fixes_held = 0;
  std::size_t fixes_regressed = 0;  // reopened by the answer
};

// `incidents` declared in the window; `actions` belonging to them.
team_stats compute_stats(const std::vector<incident>& incidents, const std::vector<action_item>& actions,
                         timestamp now, int days);

// A short, readable text block for chat and the terminal.
std::string render_stats_text(const team_stats& s);

}  // namespace kintsugi::core
