#pragma once
// Machine-readable and web exports of the documents. These formats are contracts: extend, never rename.
#include <string>

#include "core/metrics.hpp"
#include "core/record.hpp"

namespace kintsugi::docs {

// {"incident":{…},"metrics":{…},"summary":…,"impact":…,"timeline":[…],"whys":[…],"factors":{…},
//  "lessons":{…},"actions":[…],"review":…,"blameless_notes":[…],"missing_sections":[…]}
std::string postmortem_json(const core::incident_record& r);
// A self-contained HTML page rendered from the Markdown by cmark-gfm (safe mode: raw HTML in user text is
// not passed through; tables extension on).
std::string postmortem_html(const core::incident_record& r);

// {"incident":{…},"entries":[{"at":"<ISO 8601 UTC>","author":…,"kind":…,"text":…,"edited":bool,
//  "deleted":bool,"key":bool}, …]}
std::string timeline_json(const core::incident_record& r);
// RFC 4180 CSV with a header row: at,author,kind,text,edited,deleted,key
std::string timeline_csv(const core::incident_record& r);

std::string stats_json(const core::team_stats& s);

// The incident object shared by the JSON exports:
// {"id":7,"key":"INC-7","title":…,"severity":"sev2","status":…,"channel":…,"declared_by":…,
//  "declared_at":…,"service":…,"roles":{"commander":…|null,…},"milestones":{"began":…|null,…},
//  "summary":…,"impact":…,"review_at":…|null}
std::string incident_json(const core::incident& i);

}  // namespace kintsugi::docs
