#pragma once
// The postmortem document (Markdown, the source for HTML) and the blameless-language check.
#include <string>
#include <string_view>
#include <vector>

#include "core/record.hpp"

namespace kintsugi::core {

// A phrase that reads as blame, where it was found, and a kinder, systems-first way to say it.
struct blame_note {
  std::string where;       // "Why 2", "Summary", "Timeline 10:04 (bob)", "Action 3", …
  std::string phrase;      // the words found ("should have", "bob forgot")
  std::string suggestion;  // one gentle sentence
};

// Scans one text. `people` are display names and ids of the people involved: a person as the subject of
// a failure ("bob forgot", "Alice broke …") is flagged too.
std::vector<blame_note> scan_blame(std::string_view text, std::string_view where, const std::vector<std::string>& people);
// Scans the whole record: summary, impact, whys, factors, lessons, actions, notes and updates.
std::vector<blame_note> find_blame(const incident_record& r);

// A section of the document and whether it has content yet, with the command that fills it.
struct section_state {
  std::string name;     // "Summary", "Impact", "Root cause", …
  bool filled = false;
  std::string command;  // "/incident summary <text>"
};
std::vector<section_state> sections(const incident_record& r);

// The whole document. Order: title (key, severity), Summary, Impact, Key metrics, Timeline, Root cause,
// Contributing factors, Lessons, Action items, Review; then the blameless notes where there are any.
std::string render_postmortem_markdown(const incident_record& r);

// The timeline alone, as a Markdown document.
std::string render_timeline_markdown(const incident_record& r);

}  // namespace kintsugi::core
