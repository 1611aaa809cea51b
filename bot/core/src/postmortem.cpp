// The postmortem document in Markdown (the source of the HTML export too). Every section is always there;
// an empty one says what is missing and which command fills it, so the document reads as a checklist
// while it is young and as a record once it is done.
#include "core/postmortem.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/metrics.hpp"
#include "text_util.hpp"

namespace kintsugi::core {
namespace {

constexpr std::string_view cmd_summary = "/incident summary <text>";
constexpr std::string_view cmd_impact = "/incident impact <text>";
constexpr std::string_view cmd_mark = "/incident mark <began|detected|acknowledged|mitigated|resolved> [time]";
constexpr std::string_view cmd_note = "/incident note <text>";
constexpr std::string_view cmd_why = "/incident why <text>";
constexpr std::string_view cmd_factor = "/incident factor <people|process|technology|external> <text>";
constexpr std::string_view cmd_learned = "/incident learned <helped|slowed|different|knowledge> <text>";
constexpr std::string_view cmd_action =
    "/incident action add <text> @owner [due:YYYY-MM-DD] [kind:fix|process|detection|mitigation]";
constexpr std::string_view cmd_review = "/incident review <YYYY-MM-DD HH:MM>";

using detail::ascii::trim;

void append_two(std::string& out, long long v) {
  out.push_back(static_cast<char>('0' + (v / 10) % 10));
  out.push_back(static_cast<char>('0' + v % 10));
}

// "HH:MM:SS" (UTC).
void append_time_of_day(std::string& out, timestamp t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  auto secs = duration_cast<seconds>(t - day).count();
  append_two(out, secs / 3600);
  out.push_back(':');
  append_two(out, (secs % 3600) / 60);
  out.push_back(':');
  append_two(out, secs % 60);
}

// Where the next line break ('\r' or '\n') is, or npos. One pass over the text: find_first_of("\r\n") searches the
// two-character set once per character of the text, which showed up when rendering long timelines.
std::size_t line_break(std::string_view text) {
  const auto it = std::find_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; });
  return it == text.end() ? std::string_view::npos : static_cast<std::size_t>(it - text.begin());
}

// Free text on one line (titles, table cells, list items that must not break): line breaks become one space.
void append_one_line(std::string& out, std::string_view text) {
  text = trim(text);
  while (!text.empty()) {
    auto brk = line_break(text);
    out.append(text.substr(0, brk));
    if (brk == std::string_view::npos) break;
    text = trim(text.substr(brk));
    if (!text.empty() && out.back() != ' ') out.push_back(' ');
  }
}

// A table cell: one line, and pipes (and the backslashes that could un-escape them) escaped.
void append_cell(std::string& out, std::string_view text) {
  std::string line;
  append_one_line(line, text);
  for (char c : line) {
    if (c == '|' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
}

// Free text inside a list item: later lines are indented so they stay in the item. Appended a line at a time,
// not a character at a time: this runs over every entry of long timelines.
void append_block(std::string& out, std::string_view text, std::string_view indent) {
  text = trim(text);
  while (!text.empty()) {
    auto brk = line_break(text);
    out.append(text.substr(0, brk));
    if (brk == std::string_view::npos) break;
    out.append("\n").append(indent);
    text.remove_prefix(text.substr(brk, 2) == "\r\n" ? brk + 2 : brk + 1);
  }
}

void append_hint(std::string& out, std::string_view what, std::string_view command) {
  out.append("_").append(what).append(" `").append(command).append("`._\n");
}

std::string when(timestamp t) { return format_minute(t) + " UTC"; }

// Earlier texts by entry, oldest first: built once so a long timeline is not scanned per entry.
using revision_index = std::unordered_map<id_t, std::vector<const revision*>>;
revision_index index_revisions(const incident_record& r) {
  revision_index idx;
  if (r.revisions.empty()) return idx;
  idx.reserve(r.revisions.size());
  for (const auto& rev : r.revisions) idx[rev.entry_id].push_back(&rev);
  for (auto& [entry, list] : idx) {
    std::stable_sort(list.begin(), list.end(),
                     [](const revision* a, const revision* b) { return a->replaced_at < b->replaced_at; });
  }
  return idx;
}

void append_entry(std::string& out, const incident_record& r, const timeline_entry& e, const revision_index& revs) {
  out.append("- `");
  append_time_of_day(out, e.at);
  out.append("` ");
  if (e.key) out.append("📌 ");
  if (e.kind != entry_kind::message) out.append("_[").append(name(e.kind)).append("]_ ");
  if (e.key) out.append("**");
  out.append(r.display(e.author)).append(": ");
  std::string_view text = trim(e.text);
  if (text.empty()) {
    out.append("_(no text)_");
  } else if (e.deleted) {
    out.append("~~");
    append_block(out, text, "  ");
    out.append("~~");
  } else {
    append_block(out, text, "  ");
  }
  if (e.key) out.append("**");
  if (e.edited) {
    out.append(" _(edited)_");
    if (auto it = revs.find(e.id); it != revs.end() && !it->second.empty()) {
      out.append(" — earlier: ");
      bool first = true;
      for (const revision* rev : it->second) {
        if (!first) out.append(" · ");
        first = false;
        out.append("“");
        append_one_line(out, rev->text);
        out.append("”");
      }
    }
  }
  if (e.deleted) {
    out.append(" _(deleted");
    if (e.deleted_at) out.append(" ").append(format_clock(*e.deleted_at));
    out.append(")_");
  }
  out.push_back('\n');
}

std::size_t timeline_size_hint(const incident_record& r) {
  std::size_t n = 256;
  for (const auto& e : r.entries) n += e.text.size() + e.author.size() + 48;
  for (const auto& rev : r.revisions) n += rev.text.size() + 16;
  return n;
}

void append_timeline_body(std::string& out, const incident_record& r) {
  if (r.entries.empty()) {
    out.append("_No timeline entries yet. Messages in the incident channel are captured as they are posted; "
               "record a key event with `").append(cmd_note).append("`._\n");
    return;
  }
  const revision_index revs = index_revisions(r);
  out.append("_Times in UTC. 📌 marks a key event; bot entries show their kind in brackets._\n");
  std::optional<std::chrono::sys_days> day;
  for (const auto& e : r.entries) {
    auto d = std::chrono::floor<std::chrono::days>(e.at);
    if (!day || *day != d) {
      day = d;
      out.append("\n**").append(format_date(date{d})).append("**\n\n");
    }
    append_entry(out, r, e, revs);
  }
}

void append_title(std::string& out, const incident_record& r) {
  const incident& i = r.inc;
  out.append("# ").append(i.key()).append(": ");
  if (trim(i.title).empty()) {
    out.append("(untitled)");
  } else {
    append_one_line(out, i.title);
  }
  out.append("\n\n**Severity:** ").append(name(i.level));
  out.append(" · **Status:** ").append(name(i.status));
  out.append(" · **Declared:** ").append(when(i.declared_at));
  if (!i.declared_by.empty()) out.append(" by ").append(r.display(i.declared_by));
  if (const auto channel = r.channel_name(); !channel.empty()) {
    out.append(" · **Channel:** #");
    append_one_line(out, channel);
  }
  if (!trim(i.service).empty()) {
    out.append(" · **Service:** ");
    append_one_line(out, i.service);
  }
  out.append("\n\n");
  constexpr std::array<std::string_view, role_count> labels{"Commander", "Scribe", "Facilitator"};
  for (std::size_t k = 0; k < role_count; ++k) {
    if (k > 0) out.append(" · ");
    out.append("**").append(labels[k]).append(":** ");
    const std::string& holder = i.roles[k];
    if (holder.empty()) {
      out.append("_open (`/incident role ").append(name(static_cast<role>(k))).append(" me`)_");
    } else {
      out.append(r.display(holder));
    }
  }
  out.append("\n");
}

void append_text_section(std::string& out, std::string_view title, std::string_view text, std::string_view missing,
                         std::string_view command) {
  out.append("\n## ").append(title).append("\n\n");
  if (trim(text).empty()) {
    append_hint(out, missing, command);
  } else {
    out.append(trim(text)).append("\n");
  }
}

void append_metric(std::string& out, std::string_view label, const std::optional<duration>& value,
                   const incident& i, milestone to) {
  out.append("- **").append(label).append(":** ");
  const bool detect = to == milestone::detected;
  const milestone from = detect ? milestone::began : milestone::detected;
  const auto& end = i.at(to);
  std::optional<timestamp> start = i.at(from);
  std::string_view start_name = name(from);
  if (!detect && !start) {
    start = i.declared_at;
    start_name = "declared";
  }
  if (value) {
    out.append(format_duration(*value)).append(" (").append(start_name).append(" ");
    out.append(format_minute(*start)).append(" → ").append(name(to)).append(" ").append(format_minute(*end));
    out.append(")\n");
    return;
  }
  if (start && end) {
    out.append("_the recorded times are out of order (").append(name(to)).append(" ").append(format_minute(*end));
    out.append(" is before ").append(start_name).append(" ").append(format_minute(*start));
    out.append("); correct one with `/incident mark ").append(name(to)).append(" <time>`_\n");
    return;
  }
  out.append("_not recorded yet; ");
  if (!start) {
    out.append("`/incident mark began <time>` (when impact started)");
    if (!end) out.append(" and ");
  }
  if (!end) out.append("`/incident mark ").append(name(to)).append(" [time]`");
  out.append(!start && !end ? " fill it_\n" : " fills it_\n");
}

void append_metrics(std::string& out, const incident_record& r) {
  out.append("\n## Key metrics\n\n_Times in UTC. Detect is measured from when impact began; the others from "
             "detection (or the declaration when detection was not marked)._\n\n");
  const incident_metrics m = metrics_of(r.inc);
  append_metric(out, "Time to detect", m.to_detect, r.inc, milestone::detected);
  append_metric(out, "Time to acknowledge", m.to_acknowledge, r.inc, milestone::acknowledged);
  append_metric(out, "Time to mitigate", m.to_mitigate, r.inc, milestone::mitigated);
  append_metric(out, "Time to resolve", m.to_resolve, r.inc, milestone::resolved);
}

void append_root_cause(std::string& out, const incident_record& r) {
  out.append("\n## Root cause\n\n");
  if (r.whys.empty()) {
    append_hint(out, "No whys yet. Start the five whys (why did this happen?) with", cmd_why);
    return;
  }
  for (std::size_t k = 0; k < r.whys.size(); ++k) {
    out.append(std::to_string(k + 1)).append(". ");
    append_block(out, r.whys[k].text, "   ");
    out.push_back('\n');
  }
  if (r.whys.size() < 3) {
    out.append("\n_").append(std::to_string(r.whys.size())).append(r.whys.size() == 1 ? " why" : " whys");
    out.append(" so far. Dig further with `").append(cmd_why).append("`: five is a guide, not a rule._\n");
  } else if (r.whys.size() < 5) {
    out.append("\n_If the chain goes deeper, add the next with `").append(cmd_why).append("`._\n");
  }
}

void append_factors(std::string& out, const incident_record& r) {
  out.append("\n## Contributing factors\n");
  if (r.factors.empty()) {
    out.append("\n");
    append_hint(out, "No contributing factors yet. Look at people, process, technology and external conditions with",
                cmd_factor);
  }
  constexpr std::array<std::string_view, 4> titles{"People", "Process", "Technology", "External"};
  for (std::size_t k = 0; k < titles.size(); ++k) {
    out.append("\n### ").append(titles[k]).append("\n\n");
    bool any = false;
    for (const auto& f : r.factors) {
      if (static_cast<std::size_t>(f.kind) != k) continue;
      any = true;
      out.append("- ");
      append_block(out, f.text, "  ");
      out.push_back('\n');
    }
    if (!any) out.append("_none recorded_\n");
  }
}

void append_lessons(std::string& out, const incident_record& r) {
  out.append("\n## Lessons\n");
  if (r.lessons.empty()) {
    out.append("\n");
    append_hint(out, "No lessons yet. Add what helped, what slowed us down, what we would do differently and what "
                     "we know now with", cmd_learned);
  }
  constexpr std::array<std::string_view, 4> titles{"What helped", "What slowed us down", "What we would do differently",
                                                   "What we know now"};
  for (std::size_t k = 0; k < titles.size(); ++k) {
    out.append("\n### ").append(titles[k]).append("\n\n");
    bool any = false;
    for (const auto& l : r.lessons) {
      if (static_cast<std::size_t>(l.kind) != k) continue;
      any = true;
      out.append("- ");
      append_block(out, l.text, "  ");
      out.push_back('\n');
    }
    if (!any) {
      out.append("_none recorded (`/incident learned ").append(name(static_cast<lesson_kind>(k)));
      out.append(" <text>`)_\n");
    }
  }
}

void append_actions(std::string& out, const incident_record& r) {
  out.append("\n## Action items\n\n");
  if (r.actions.empty()) {
    append_hint(out, "No action items yet. Each one is specific, owned and dated; add one with", cmd_action);
    return;
  }
  out.append("| # | Action | Owner | Due | Kind | Status |\n|---|---|---|---|---|---|\n");
  bool process = false;
  for (const auto& a : r.actions) {
    if (a.kind == action_kind::process && a.status != action_status::dropped) process = true;
    out.append("| ").append(std::to_string(a.id)).append(" | ");
    append_cell(out, a.text);
    out.append(" | ");
    append_cell(out, a.owner.empty() ? std::string("_unassigned_") : r.display(a.owner));
    out.append(" | ").append(a.due ? format_date(*a.due) : std::string("—"));
    out.append(" | ").append(name(a.kind)).append(" | ").append(name(a.status));
    if (a.status == action_status::done && a.closed_at) out.append(" ").append(format_date(date_of(*a.closed_at)));
    out.append(" |\n");
  }
  if (!process) {
    out.append("\n_None of these changes how we work yet. Fixes matter, and the team learns in its process too: "
               "a checklist, a review step or a runbook change. Add one with "
               "`/incident action add <text> @owner kind:process`._\n");
  }
}

void append_review(std::string& out, const incident_record& r) {
  out.append("\n## Review\n\n");
  if (r.inc.review_at) {
    out.append("Scheduled for ").append(when(*r.inc.review_at)).append(".\n");
  } else {
    append_hint(out, "No review scheduled yet. Meet while memories are fresh (days, not weeks); schedule it with",
                cmd_review);
  }
}

void append_blame_notes(std::string& out, const std::vector<blame_note>& notes) {
  if (notes.empty()) return;
  out.append("\n## Blameless check\n\n_Some words here read as blame. Systems phrasing keeps the review safe for "
             "everyone to say what they saw; a suggestion for each:_\n\n");
  for (const auto& n : notes) {
    out.append("- **");
    append_one_line(out, n.where);
    out.append("** — “");
    append_one_line(out, n.phrase);
    out.append("”: ");
    append_one_line(out, n.suggestion);
    out.push_back('\n');
  }
}

}  // namespace

std::vector<section_state> sections(const incident_record& r) {
  const incident_metrics m = metrics_of(r.inc);
  auto state = [](std::string_view section, bool filled, std::string_view command) {
    return section_state{std::string(section), filled, std::string(command)};
  };
  return {
      state("Summary", !trim(r.inc.summary).empty(), cmd_summary),
      state("Impact", !trim(r.inc.impact).empty(), cmd_impact),
      state("Key metrics", m.to_detect && m.to_acknowledge && m.to_mitigate && m.to_resolve, cmd_mark),
      state("Timeline", !r.entries.empty(), cmd_note),
      state("Root cause", !r.whys.empty(), cmd_why),
      state("Contributing factors", !r.factors.empty(), cmd_factor),
      state("Lessons", !r.lessons.empty(), cmd_learned),
      state("Action items", !r.actions.empty(), cmd_action),
      state("Review", r.inc.review_at.has_value(), cmd_review),
  };
}

std::string render_postmortem_markdown(const incident_record& r) {
  std::string out;
  std::size_t hint = timeline_size_hint(r) + 4096 + r.inc.summary.size() + r.inc.impact.size();
  for (const auto& w : r.whys) hint += w.text.size() + 8;
  for (const auto& f : r.factors) hint += f.text.size() + 8;
  for (const auto& l : r.lessons) hint += l.text.size() + 8;
  for (const auto& a : r.actions) hint += a.text.size() + 64;
  out.reserve(hint);

  append_title(out, r);
  append_text_section(out, "Summary", r.inc.summary, "No summary yet. Add one with", cmd_summary);
  append_text_section(out, "Impact", r.inc.impact,
                      "No impact recorded yet. Say who was affected, how and for how long with", cmd_impact);
  append_metrics(out, r);
  out.append("\n## Timeline\n\n");
  append_timeline_body(out, r);
  append_root_cause(out, r);
  append_factors(out, r);
  append_lessons(out, r);
  append_actions(out, r);
  append_review(out, r);
  append_blame_notes(out, find_blame(r));
  return out;
}

std::string render_timeline_markdown(const incident_record& r) {
  std::string out;
  out.reserve(timeline_size_hint(r));
  out.append("# ").append(r.inc.key()).append(" timeline: ");
  append_one_line(out, trim(r.inc.title).empty() ? std::string_view("(untitled)") : std::string_view(r.inc.title));
  out.append("\n\n**Severity:** ").append(name(r.inc.level)).append(" · **Status:** ").append(name(r.inc.status));
  out.append(" · **Entries:** ").append(std::to_string(r.entries.size())).append("\n\n");
  append_timeline_body(out, r);
  return out;
}

}  // namespace kintsugi::core
