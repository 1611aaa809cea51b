// Measuring the team: durations per incident from its milestones, and stats over a window of days.
#include "core/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "text_util.hpp"

namespace kintsugi::core {
namespace {

std::optional<duration> between(const std::optional<timestamp>& from, const std::optional<timestamp>& to) {
  if (!from || !to || *to < *from) return std::nullopt;
  return *to - *from;
}

duration_stats stats_of(std::vector<duration> values) {
  duration_stats s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  duration::rep sum = 0;
  for (auto v : values) sum += v.count();
  s.mean = duration{sum / static_cast<duration::rep>(values.size())};
  const std::size_t mid = values.size() / 2;
  s.median = values.size() % 2 == 1 ? values[mid] : duration{(values[mid - 1].count() + values[mid].count()) / 2};
  return s;
}

// Words that say nothing about which failure it was.
constexpr std::string_view stop_words[] = {
    "the",   "and",     "for",     "with",   "from",    "into",     "onto",   "after",   "before", "during",
    "was",   "were",    "are",     "not",    "but",     "our",      "out",    "off",     "over",   "under",
    "all",   "any",     "some",    "has",    "had",     "have",     "this",   "that",    "these",  "those",
    "when",  "while",   "then",    "than",   "via",     "per",      "due",    "its",     "it's",   "again",
    "near",  "miss",    "nearmiss", "sev",   "sev1",    "sev2",     "sev3",   "sev4",    "severity", "incident",
    "issue", "issues",  "outage",  "problem", "problems", "can't",  "cannot",  "won't",  "don't",
    "didn't", "isn't",  "aren't",  "wasn't", "more",    "less",     "very",   "too",     "now",    "still"};

std::set<std::string> significant_words(std::string_view title) {
  std::set<std::string> words;
  std::string w;
  auto flush = [&] {
    if (w.size() >= 3 && std::find(std::begin(stop_words), std::end(stop_words), w) == std::end(stop_words)) {
      words.insert(w);
    }
    w.clear();
  };
  for (char c : title) {
    if (detail::ascii::is_alnum(c) || static_cast<unsigned char>(c) >= 0x80) {
      w.push_back(detail::ascii::to_lower(c));
    } else if (c == '\'' && !w.empty()) {
      w.push_back(c);
    } else {
      flush();
    }
  }
  flush();
  return words;
}

std::string lower_trimmed(std::string_view s) { return detail::ascii::to_lower(detail::ascii::trim_blanks(s)); }

std::vector<repeat_group> find_repeats(const std::vector<const incident*>& incs) {
  std::vector<repeat_group> groups;

  // Same service tag.
  std::map<std::string, std::vector<id_t>> by_service;
  for (const incident* i : incs) {
    if (auto tag = lower_trimmed(i->service); !tag.empty()) by_service[tag].push_back(i->id);
  }
  for (auto& [tag, ids] : by_service) {
    if (ids.size() >= 2) groups.push_back({"service " + tag, std::move(ids)});
  }

  // Two or more significant title words in common. The oldest ungrouped incident and the first later one
  // that shares ≥ 2 words with it set the group's words; later incidents with all those words join.
  std::vector<std::set<std::string>> words;
  words.reserve(incs.size());
  for (const incident* i : incs) words.push_back(significant_words(i->title));
  std::vector<bool> grouped(incs.size(), false);
  for (std::size_t a = 0; a < incs.size(); ++a) {
    if (grouped[a] || words[a].size() < 2) continue;
    for (std::size_t b = a + 1; b < incs.size(); ++b) {
      if (grouped[b]) continue;
      std::vector<std::string> shared;
      std::set_intersection(words[a].begin(), words[a].end(), words[b].begin(), words[b].end(),
                            std::back_inserter(shared));
      if (shared.size() < 2) continue;
      repeat_group g;
      g.reason = "title words: ";
      for (std::size_t k = 0; k < shared.size(); ++k) g.reason.append(k ? ", " : "").append(shared[k]);
      g.incidents = {incs[a]->id, incs[b]->id};
      grouped[a] = grouped[b] = true;
      for (std::size_t c = b + 1; c < incs.size(); ++c) {
        if (grouped[c]) continue;
        if (std::includes(words[c].begin(), words[c].end(), shared.begin(), shared.end())) {
          g.incidents.push_back(incs[c]->id);
          grouped[c] = true;
        }
      }
      groups.push_back(std::move(g));
      break;
    }
  }
  return groups;
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

void append_duration_line(std::string& out, std::string_view label, const duration_stats& d, std::string_view mark) {
  out.append(label).append(": ");
  if (d.count == 0 || !d.mean || !d.median) {
    out.append("no data yet (").append(mark).append(" records it)\n");
    return;
  }
  out.append("mean ").append(format_duration(*d.mean)).append(", median ").append(format_duration(*d.median));
  out.append(" (").append(plural(d.count, "incident", "incidents")).append(")\n");
}

}  // namespace

incident_metrics metrics_of(const incident& i) {
  incident_metrics m;
  const auto& detected = i.at(milestone::detected);
  const std::optional<timestamp> start = detected ? detected : std::optional<timestamp>{i.declared_at};
  m.to_detect = between(i.at(milestone::began), detected);
  m.to_acknowledge = between(start, i.at(milestone::acknowledged));
  m.to_mitigate = between(start, i.at(milestone::mitigated));
  m.to_resolve = between(start, i.at(milestone::resolved));
  return m;
}

team_stats compute_stats(const std::vector<incident>& incidents, const std::vector<action_item>& actions,
                         timestamp now, int days) {
  team_stats s;
  s.days = days;
  s.now = now;
  s.since = now - std::chrono::days{std::max(days, 0)};

  std::vector<const incident*> window;
  for (const auto& i : incidents) {
    if (i.declared_at >= s.since) window.push_back(&i);
  }
  std::stable_sort(window.begin(), window.end(), [](const incident* a, const incident* b) {
    return a->declared_at != b->declared_at ? a->declared_at < b->declared_at : a->id < b->id;
  });

  std::vector<duration> detect, ack, mitigate, resolve;
  std::unordered_set<id_t> ids;
  for (const incident* i : window) {
    ids.insert(i->id);
    ++s.incidents;
    if (i->open()) ++s.open_incidents;
    if (auto k = static_cast<std::size_t>(i->level); k < s.by_severity.size()) ++s.by_severity[k];
    const incident_metrics m = metrics_of(*i);
    if (m.to_detect) detect.push_back(*m.to_detect);
    if (m.to_acknowledge) ack.push_back(*m.to_acknowledge);
    if (m.to_mitigate) mitigate.push_back(*m.to_mitigate);
    if (m.to_resolve) resolve.push_back(*m.to_resolve);
  }
  s.detect = stats_of(std::move(detect));
  s.acknowledge = stats_of(std::move(ack));
  s.mitigate = stats_of(std::move(mitigate));
  s.resolve = stats_of(std::move(resolve));
  s.repeats = find_repeats(window);

  const date today = date_of(now);
  std::size_t done_with_due = 0;
  for (const auto& a : actions) {
    if (!ids.contains(a.incident_id)) continue;
    ++s.actions;
    if (a.fix_held) {
      ++s.fixes_checked;
      if (*a.fix_held == fix_check::held) ++s.fixes_held;
      if (*a.fix_held == fix_check::regressed) ++s.fixes_regressed;
    }
    if (a.status == action_status::open) {
      ++s.actions_open;
      if (a.due && *a.due < today) ++s.actions_overdue;
    } else if (a.status == action_status::done) {
      ++s.actions_closed;
      if (a.due) {
        ++done_with_due;
        if (a.closed_at && date_of(*a.closed_at) <= *a.due) ++s.actions_closed_on_time;
      }
    }
  }
  if (done_with_due > 0) {
    s.closed_on_time_pct = static_cast<double>(s.actions_closed_on_time) / static_cast<double>(done_with_due) * 100.0;
  }
  return s;
}

std::string render_stats_text(const team_stats& s) {
  std::string out;
  const std::string window = s.days == 1 ? "Last day" : "Last " + std::to_string(s.days) + " days";
  if (s.incidents == 0) {
    out.append(s.days == 1 ? "No incidents in the last day" : "No incidents in the last " + std::to_string(s.days) + " days");
    out.append(" — quiet is good.\n");
    return out;
  }
  out.append(window).append(": ").append(plural(s.incidents, "incident", "incidents")).append(" (");
  bool first = true;
  for (std::size_t k = 0; k < s.by_severity.size(); ++k) {
    if (s.by_severity[k] == 0) continue;
    out.append(first ? "" : ", ").append(name(static_cast<severity>(k))).append(" ").append(std::to_string(s.by_severity[k]));
    first = false;
  }
  out.append("), ").append(std::to_string(s.open_incidents)).append(" open\n");

  append_duration_line(out, "Time to detect", s.detect, "/incident mark began and detected");
  append_duration_line(out, "Time to acknowledge", s.acknowledge, "/incident mark acknowledged");
  append_duration_line(out, "Time to mitigate", s.mitigate, "/incident mark mitigated");
  append_duration_line(out, "Time to resolve", s.resolve, "/incident mark resolved");

  out.append("Repeats: ");
  if (s.repeats.empty()) {
    out.append("none seen (no service tag or title words shared)\n");
  } else {
    for (std::size_t g = 0; g < s.repeats.size(); ++g) {
      out.append(g ? "; " : "").append(s.repeats[g].reason).append(" (");
      for (std::size_t k = 0; k < s.repeats[g].incidents.size(); ++k) {
        out.append(k ? ", " : "").append("INC-").append(std::to_string(s.repeats[g].incidents[k]));
      }
      out.append(")");
    }
    out.append("\n");
  }

  out.append("Action items: ");
  if (s.actions == 0) {
    out.append("none yet\n");
    return out;
  }
  out.append(std::to_string(s.actions)).append(" — ").append(std::to_string(s.actions_open)).append(" open");
  if (s.actions_overdue > 0) out.append(" (").append(std::to_string(s.actions_overdue)).append(" overdue)");
  out.append(", ").append(std::to_string(s.actions_closed)).append(" closed");
  if (s.closed_on_time_pct) {
    out.append(", ").append(std::to_string(std::llround(*s.closed_on_time_pct))).append("% on time");
  }
  out.append("\n");
  if (s.fixes_checked > 0) {
    out.append("Fixes that held (90-day look-back): ").append(std::to_string(s.fixes_held)).append(" of ");
    out.append(std::to_string(s.fixes_checked)).append(" answered");
    if (s.fixes_regressed > 0) out.append(", ").append(std::to_string(s.fixes_regressed)).append(" regressed and reopened");
    out.append("\n");
  }
  return out;
}

}  // namespace kintsugi::core
