// /incident summary, impact, why, factor, learned, review: the postmortem material.
#include "core/postmortem.hpp"
#include "engine_detail.hpp"

namespace kintsugi::core::detail {
namespace {

std::string_view lesson_heading(lesson_kind k) {
  switch (k) {
    case lesson_kind::helped: return "what helped";
    case lesson_kind::slowed: return "what slowed us down";
    case lesson_kind::different: return "what we would do differently";
    case lesson_kind::knowledge: return "what we know now";
  }
  return "";
}

void nudge(command_scope& s, std::string_view text, std::string_view where) {
  if (auto hint = blame_hint(s.db, *s.inc, text, where); !hint.empty()) s.tell(hint);
}

void set_text(command_scope& s, bool summary, const std::string& text) {
  incident after = *s.inc;
  std::string& field = summary ? after.summary : after.impact;
  const char* label = summary ? "Summary" : "Impact";
  bool replaced = !field.empty();
  field = text;
  s.record(after, entry_kind::analysis, std::string{label} + (replaced ? " updated" : " written") + " by " + mention(s.ev.user));
  s.save(*s.inc, after);
  s.say(std::string{label} + (replaced ? " updated" : " saved") + " for the postmortem: " + text);
  nudge(s, text, label);
}

// A factor or a lesson: stored with its kind, author and moment, written on the timeline as `line`, said in the
// channel, and checked for blame words.
template <class Item, class Kind>
void add_kinded(command_scope& s, id_t (store::*add)(const Item&), Kind kind, const std::string& text,
                const std::string& line, std::string_view where) {
  Item item;
  item.incident_id = s.inc->id;
  item.kind = kind;
  item.text = text;
  item.author = s.ev.user;
  item.at = s.ev.at;
  (s.db.*add)(item);
  s.record(*s.inc, entry_kind::analysis, line);
  s.say(line);
  nudge(s, text, where);
}

}  // namespace

void run_analysis_command(command_scope& s, const command& c) {
  if (!need_incident(s)) return;
  const incident& inc = *s.inc;
  std::visit(overloaded{
                 [&](const cmd::summary& v) { set_text(s, true, v.text); },
                 [&](const cmd::impact& v) { set_text(s, false, v.text); },
                 [&](const cmd::add_why& v) {
                   why w;
                   w.incident_id = inc.id;
                   w.position = static_cast<int>(s.db.whys(inc.id).size()) + 1;
                   w.text = v.text;
                   w.author = s.ev.user;
                   w.at = s.ev.at;
                   s.db.add_why(w);
                   s.record(inc, entry_kind::analysis, "Why #" + std::to_string(w.position) + ": " + v.text);
                   std::string reply = "Why #" + std::to_string(w.position) + ": " + v.text;
                   if (w.position < 5) reply += "\nAnd why was that? `/incident why <text>`";
                   else if (w.position == 5) reply += "\nThat's five. If a system cause is in sight, name the contributing "
                                                      "factors: `/incident factor <people|process|technology|external> <text>`";
                   s.say(reply);
                   nudge(s, v.text, "Why #" + std::to_string(w.position));
                 },
                 [&](const cmd::add_factor& v) {
                   add_kinded(s, &store::add_factor, v.kind, v.text,
                              "Contributing factor (" + std::string{name(v.kind)} + "): " + v.text, "Contributing factor");
                 },
                 [&](const cmd::add_lesson& v) {
                   add_kinded(s, &store::add_lesson, v.kind, v.text,
                              "Lesson, " + std::string{lesson_heading(v.kind)} + ": " + v.text, "Lesson");
                 },
                 [&](const cmd::review& v) {
                   incident after = inc;
                   bool moved = after.review_at.has_value();
                   after.review_at = v.at;
                   s.record(after, entry_kind::review,
                            std::string{"Review "} + (moved ? "moved to " : "scheduled for ") + format_minute(v.at) + " UTC by " +
                                mention(s.ev.user));
                   s.save(inc, after);
                   const auto& facilitator = after.holder(role::facilitator);
                   s.say("🗓 Postmortem review " + std::string{moved ? "moved to " : "scheduled for "} + format_minute(v.at) +
                         " UTC. " +
                         (facilitator.empty() ? "No facilitator yet: `/incident role facilitator me` to run it."
                                              : mention(facilitator) + " facilitates; the aim is learning, not blame."));
                 },
                 [&](const auto&) {},
             },
             c);
}

}  // namespace kintsugi::core::detail
