// /incident timeline, postmortem, stats.
#include "core/metrics.hpp"
#include "core/postmortem.hpp"
#include "engine_detail.hpp"

namespace kintsugi::core::detail {
namespace {

std::string entry_line(const timeline_entry& e, const incident_record& r) {
  std::string line = format_clock(e.at) + " ";
  line += e.kind == entry_kind::message || e.kind == entry_kind::note || e.kind == entry_kind::update
              ? r.display(e.author) + ": "
              : "· ";
  if (e.key) line += "📌 ";
  line += e.deleted ? "~" + e.text + "~ (deleted)" : e.text;
  if (e.edited && !e.deleted) line += " (edited)";
  return line;
}

void timeline(command_scope& s, std::size_t count) {
  auto rec = load_record(s.db, s.inc->id);
  if (!rec) return;
  auto total = rec->entries.size();
  std::size_t first = total > count ? total - count : 0;
  std::string text = s.inc->key() + " timeline (UTC, " + (first ? "last " + std::to_string(total - first) + " of " : "") +
                     std::to_string(total) + " entries):";
  for (std::size_t k = first; k < total; ++k) text += "\n" + entry_line(rec->entries[k], *rec);
  s.tell(text);
}

void postmortem(command_scope& s) {
  auto rec = load_record(s.db, s.inc->id);
  if (!rec) return;
  document_version d;
  d.incident_id = s.inc->id;
  d.written_at = s.ev.at;
  d.markdown = render_postmortem_markdown(*rec);
  s.db.save_document(d);
  std::size_t missing = 0;
  for (const auto& sec : sections(*rec)) missing += sec.filled ? 0 : 1;
  s.record(*s.inc, entry_kind::postmortem, "Postmortem written by " + mention(s.ev.user));
  std::string head = "📄 Postmortem for " + s.inc->key() + (missing ? " — a living document, " + std::to_string(missing) +
                                                                       " section(s) still empty; run it again any time."
                                                                 : " — every section has content.");
  s.say(head + "\n\n" + d.markdown);
  s.out.push_back(publish_document{s.inc->channel, s.inc->key() + ".md", std::move(d.markdown)});
}

void stats(command_scope& s, int days) {
  auto since = s.ev.at - std::chrono::days{days};
  auto st = compute_stats(s.db.incidents_since(since), s.db.actions_since(since), s.ev.at, days);
  auto text = render_stats_text(st);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  s.say(std::move(text));
}

}  // namespace

void run_report_command(command_scope& s, const command& c) {
  if (const auto* st = std::get_if<cmd::stats>(&c)) return stats(s, st->days);
  if (!need_incident(s)) return;
  std::visit(overloaded{
                 [&](const cmd::show_timeline& v) { timeline(s, v.count); },
                 [&](const cmd::postmortem&) { postmortem(s); },
                 [&](const auto&) {},
             },
             c);
}

}  // namespace kintsugi::core::detail
