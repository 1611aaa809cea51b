// JSON exports of the postmortem, the timeline, the incident and the stats. The keys named in
// docs/exports.hpp are a contract: add keys, never rename them.
#include "docs/exports.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/postmortem.hpp"

namespace kintsugi::docs {
namespace {

using nlohmann::json;
using namespace kintsugi::core;

json iso_or_null(const std::optional<timestamp>& t) { return t ? json(format_iso(*t)) : json(nullptr); }

json seconds_of(duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

// Earlier texts by entry, oldest first, built once per export.
using revision_index = std::unordered_map<id_t, std::vector<const revision*>>;
revision_index index_revisions(const incident_record& r) {
  revision_index idx;
  for (const auto& rev : r.revisions) idx[rev.entry_id].push_back(&rev);
  for (auto& [entry, list] : idx) {
    std::stable_sort(list.begin(), list.end(),
                     [](const revision* a, const revision* b) { return a->replaced_at < b->replaced_at; });
  }
  return idx;
}

std::string dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

// `channel_name`: what the platform calls the incident's channel, where known (then also in the object).
json incident_object(const incident& i, std::string_view channel_name = {}) {
  json roles = json::object();
  for (std::size_t k = 0; k < role_count; ++k) {
    roles[std::string(name(static_cast<role>(k)))] = i.roles[k].empty() ? json(nullptr) : json(i.roles[k]);
  }
  json milestones = json::object();
  for (std::size_t k = 0; k < milestone_count; ++k) {
    milestones[std::string(name(static_cast<milestone>(k)))] = iso_or_null(i.milestones[k]);
  }
  json out{
      {"id", i.id},
      {"key", i.key()},
      {"title", i.title},
      {"severity", name(i.level)},
      {"status", name(i.status)},
      {"channel", i.channel},
      {"declared_by", i.declared_by},
      {"declared_at", format_iso(i.declared_at)},
      {"service", i.service},
      {"roles", std::move(roles)},
      {"milestones", std::move(milestones)},
      {"summary", i.summary},
      {"impact", i.impact},
      {"review_at", iso_or_null(i.review_at)},
  };
  if (!channel_name.empty()) out["channel_name"] = std::string{channel_name};
  return out;
}

// Built key by key: an initializer list copies every value once more, which shows on 50k-entry timelines.
json entry_object(const incident_record& r, const timeline_entry& e, const revision_index& revs) {
  json o = json::object();
  o["id"] = e.id;
  o["at"] = format_iso(e.at);
  o["author"] = e.author;
  o["author_name"] = r.display(e.author);
  o["kind"] = name(e.kind);
  o["text"] = e.text;
  o["edited"] = e.edited;
  o["deleted"] = e.deleted;
  o["key"] = e.key;
  o["edited_at"] = iso_or_null(e.edited_at);
  o["deleted_at"] = iso_or_null(e.deleted_at);
  json& revisions = o["revisions"] = json::array();
  if (auto it = revs.find(e.id); it != revs.end()) {
    for (const revision* rev : it->second) {
      json& item = revisions.emplace_back(json::object());
      item["text"] = rev->text;
      item["replaced_at"] = format_iso(rev->replaced_at);
    }
  }
  return o;
}

json entries_array(const incident_record& r) {
  const revision_index revs = index_revisions(r);
  json entries = json::array();
  entries.get_ref<json::array_t&>().reserve(r.entries.size());
  for (const auto& e : r.entries) entries.emplace_back(entry_object(r, e, revs));
  return entries;
}

json metric_value(const std::optional<duration>& d) {
  if (!d) return nullptr;
  return json{{"seconds", seconds_of(*d)}, {"text", format_duration(*d)}};
}

json duration_stats_object(const duration_stats& d) {
  return json{
      {"count", d.count},
      {"mean_seconds", d.mean ? seconds_of(*d.mean) : json(nullptr)},
      {"median_seconds", d.median ? seconds_of(*d.median) : json(nullptr)},
      {"mean", d.mean ? json(format_duration(*d.mean)) : json(nullptr)},
      {"median", d.median ? json(format_duration(*d.median)) : json(nullptr)},
  };
}

}  // namespace

std::string incident_json(const incident& i) { return dump(incident_object(i)); }

std::string timeline_json(const incident_record& r) {
  return dump(json{{"incident", incident_object(r.inc, r.channel_name())}, {"entries", entries_array(r)}});
}

std::string postmortem_json(const incident_record& r) {
  const incident_metrics m = metrics_of(r.inc);
  json metrics{
      {"to_detect", metric_value(m.to_detect)},
      {"to_acknowledge", metric_value(m.to_acknowledge)},
      {"to_mitigate", metric_value(m.to_mitigate)},
      {"to_resolve", metric_value(m.to_resolve)},
  };

  json whys = json::array();
  for (std::size_t k = 0; k < r.whys.size(); ++k) {
    const why& w = r.whys[k];
    whys.push_back(json{{"position", k + 1}, {"text", w.text}, {"author", w.author},
                        {"author_name", r.display(w.author)}, {"at", format_iso(w.at)}});
  }

  json factors = json::object();
  for (std::size_t k = 0; k < 4; ++k) factors[std::string(name(static_cast<factor_kind>(k)))] = json::array();
  for (const auto& f : r.factors) {
    factors[std::string(name(f.kind))].push_back(
        json{{"text", f.text}, {"author", f.author}, {"author_name", r.display(f.author)}, {"at", format_iso(f.at)}});
  }

  json lessons = json::object();
  for (std::size_t k = 0; k < 4; ++k) lessons[std::string(name(static_cast<lesson_kind>(k)))] = json::array();
  for (const auto& l : r.lessons) {
    lessons[std::string(name(l.kind))].push_back(
        json{{"text", l.text}, {"author", l.author}, {"author_name", r.display(l.author)}, {"at", format_iso(l.at)}});
  }

  json actions = json::array();
  for (const auto& a : r.actions) {
    actions.push_back(json{
        {"id", a.id},
        {"text", a.text},
        {"owner", a.owner},
        {"owner_name", r.display(a.owner)},
        {"due", a.due ? json(format_date(*a.due)) : json(nullptr)},
        {"kind", name(a.kind)},
        {"status", name(a.status)},
        {"created_by", a.created_by},
        {"created_at", format_iso(a.created_at)},
        {"closed_at", iso_or_null(a.closed_at)},
        {"snoozed_until", iso_or_null(a.snoozed_until)},
    });
  }

  json notes = json::array();
  for (const auto& n : find_blame(r)) {
    notes.push_back(json{{"where", n.where}, {"phrase", n.phrase}, {"suggestion", n.suggestion}});
  }

  json missing = json::array();
  for (const auto& s : sections(r)) {
    if (!s.filled) missing.push_back(json{{"name", s.name}, {"command", s.command}});
  }

  return dump(json{
      {"incident", incident_object(r.inc, r.channel_name())},
      {"metrics", std::move(metrics)},
      {"summary", r.inc.summary},
      {"impact", r.inc.impact},
      {"timeline", entries_array(r)},
      {"whys", std::move(whys)},
      {"factors", std::move(factors)},
      {"lessons", std::move(lessons)},
      {"actions", std::move(actions)},
      {"review", iso_or_null(r.inc.review_at)},
      {"blameless_notes", std::move(notes)},
      {"missing_sections", std::move(missing)},
  });
}

std::string stats_json(const team_stats& s) {
  json by_severity = json::object();
  for (std::size_t k = 0; k < s.by_severity.size(); ++k) {
    by_severity[std::string(name(static_cast<severity>(k)))] = s.by_severity[k];
  }
  json repeats = json::array();
  for (const auto& g : s.repeats) repeats.push_back(json{{"reason", g.reason}, {"incidents", g.incidents}});
  json pct = nullptr;
  if (s.closed_on_time_pct) pct = std::round(*s.closed_on_time_pct * 10.0) / 10.0;
  return dump(json{
      {"days", s.days},
      {"since", format_iso(s.since)},
      {"now", format_iso(s.now)},
      {"incidents", s.incidents},
      {"open_incidents", s.open_incidents},
      {"by_severity", std::move(by_severity)},
      {"time_to_detect", duration_stats_object(s.detect)},
      {"time_to_acknowledge", duration_stats_object(s.acknowledge)},
      {"time_to_mitigate", duration_stats_object(s.mitigate)},
      {"time_to_resolve", duration_stats_object(s.resolve)},
      {"repeats", std::move(repeats)},
      {"actions", json{{"total", s.actions},
                       {"open", s.actions_open},
                       {"overdue", s.actions_overdue},
                       {"closed", s.actions_closed},
                       {"closed_on_time", s.actions_closed_on_time},
                       {"closed_on_time_pct", std::move(pct)},
                       {"fixes_checked", s.fixes_checked},
                       {"fixes_held", s.fixes_held},
                       {"fixes_regressed", s.fixes_regressed}}},
  });
}

}  // namespace kintsugi::docs
