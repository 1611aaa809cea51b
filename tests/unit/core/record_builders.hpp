#pragma once
// Building incident records for the core and docs tests: the chrono names they use, moments on a fixed day,
// timeline entries, and the failover incident their sample records start from.
#include <chrono>
#include <string>
#include <utility>

#include "core/model.hpp"
#include "core/record.hpp"
#include "core/time.hpp"

namespace kintsugi::test::records {

using std::chrono::day;
using std::chrono::days;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::month;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::year;
using id = core::id_t;
using dur = core::duration;

// y-mo-d h:mi:s UTC.
inline core::timestamp at(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return core::timestamp{sys_days{year{y} / month{mo} / day{d}}} + hours{h} + minutes{mi} + seconds{s};
}
// The day the sample incident happened.
inline core::timestamp nov20(int h, int mi, int s = 0) { return at(2026, 11, 20, h, mi, s); }

inline core::timeline_entry entry(id ident, core::timestamp when, std::string author, std::string text,
                                  core::entry_kind kind = core::entry_kind::message, id incident_id = 7) {
  core::timeline_entry e;
  e.id = ident;
  e.incident_id = incident_id;
  e.at = when;
  e.author = std::move(author);
  e.text = std::move(text);
  e.kind = kind;
  return e;
}

// Incident 7, "Database failover stalled": sev2 on payments, declared on 2026-11-20 at 10:00 by U1, who commands
// it; it began at 9:50, was detected at 9:55 and acknowledged at 10:02. Status, later milestones and texts are
// left to the test.
inline core::incident failover_incident() {
  core::incident i;
  i.id = 7;
  i.title = "Database failover stalled";
  i.level = core::severity::sev2;
  i.declared_by = "U1";
  i.declared_at = nov20(10, 0);
  i.service = "payments";
  i.at(core::milestone::began) = nov20(9, 50);
  i.at(core::milestone::detected) = nov20(9, 55);
  i.at(core::milestone::acknowledged) = nov20(10, 2);
  i.holder(core::role::commander) = "U1";
  return i;
}

}  // namespace kintsugi::test::records
