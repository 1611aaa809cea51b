#pragma once
// Everything known about one incident, loaded once, for the documents (postmortem, timeline) to render.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"
#include "core/store.hpp"

namespace kintsugi::core {

struct incident_record {
  incident inc;
  std::vector<timeline_entry> entries;  // time order
  std::vector<revision> revisions;      // earlier texts of edited entries
  std::vector<why> whys;                // by position
  std::vector<factor> factors;
  std::vector<lesson> lessons;
  std::vector<action_item> actions;     // by id
  std::map<std::string, std::string, std::less<>> names;  // user id -> display name, where known
  // channel id -> name where the platform told it (empty: asked, unknown); has the incident's channel if known.
  std::map<std::string, std::string, std::less<>> channel_names;

  // The display name of a user id (the id itself when no name is known); bot_author stays "kintsugi".
  std::string display(std::string_view user_id) const;
  // What the platform calls the incident's channel, or "" when it never said.
  std::string channel_name() const;
  // Earlier texts of one entry, oldest first.
  std::vector<const revision*> revisions_of(id_t entry_id) const;
};

// The user ids of everyone who took part in the incident: who declared it, the role holders, and the authors
// (and owners) of its timeline entries, whys, factors, lessons and actions. Each once, in id order; never an
// empty id, never bot_author. People only mentioned in the texts are not in it.
std::vector<std::string> participants_of(const incident_record& r);

// Loads the record of incident `id`; nullopt when there is no such incident.
std::optional<incident_record> load_record(store& s, id_t id);

// "7" or "INC-7" (any case) -> 7.
std::optional<id_t> parse_incident_ref(std::string_view text);

}  // namespace kintsugi::core
