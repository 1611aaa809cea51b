#pragma once
// Keeping the reminder rows in step with what they follow up, and firing them when they come due.
//
// Commands change incidents and action items; these functions then set, move or cancel the one row each
// kind of follow-up has (store::set_reminder / cancel_reminder), so the next due time is always a row and
// a tick only reads the earliest rows (store::due_reminders). When a row fires, its message is queued and
// the row is moved or deleted in the same transaction: it fires once, and a restart finds the rest.
#include <string>

#include "core/engine.hpp"
#include "core/model.hpp"
#include "core/schedule.hpp"
#include "core/store.hpp"

namespace kintsugi::core::detail {

// A person's time zone for reminders: theirs when known, else the policy's.
std::string zone_of(store& db, const reminder_policy& p, const std::string& user);

// An incident was declared (`before` null) or saved. Sets role asks for open roles, the commander's update
// nudge, and on resolve the review ask; returns what to say right away (the review ask at resolve).
actions incident_changed(store& db, const engine_options& o, const incident* before, const incident& after,
                         timestamp now);
// An /incident update: the commander's nudge counts from now.
void update_posted(store& db, const engine_options& o, const incident& i, timestamp now);
// An action item was added (`before` null) or changed: its reminders, its look-back and the weekly digest.
void action_changed(store& db, const engine_options& o, const action_item* before, const action_item& after,
                    timestamp now);

// Everything due at or before `now`: the messages to send (and timeline entries written).
actions fire_due(store& db, const engine_options& o, timestamp now);

}  // namespace kintsugi::core::detail
