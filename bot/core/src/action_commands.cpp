// /incident action add|list|done|reopen|snooze|reassign|drop. Action ids are global, so every subcommand but
// add works from anywhere, a DM included.
#include <algorithm>

#include "engine_detail.hpp"
#include "follow_up.hpp"

namespace kintsugi::core::detail {
namespace {

std::string describe_item(const action_item& a) {
  std::string line = "#" + std::to_string(a.id) + " " + a.text + " — " + mention(a.owner);
  if (a.due) line += ", due " + format_date(*a.due);
  line += " (" + std::string{name(a.kind)} + ")";
  return line;
}

std::string how_to_close(const action_item& a) {
  return "`/incident action done " + std::to_string(a.id) + "` when it's done; `snooze " + std::to_string(a.id) +
         " <3d>` if the date moves.";
}

// Posts `text` in the incident's channel; tells the person too when they ran the command elsewhere.
void announce(command_scope& s, const incident& i, const std::string& text) {
  s.post(i.channel, text);
  if (s.ev.channel != i.channel) s.tell(text);
}

void add(command_scope& s, const cmd::action_add& c) {
  const incident& inc = *s.inc;
  action_item a;
  a.incident_id = inc.id;
  a.text = c.text;
  a.owner = c.owner;
  a.due = c.due ? *c.due
                : date{std::chrono::sys_days{s.today()} + std::chrono::days{s.options.default_due_days}};
  a.kind = c.kind;
  a.created_by = s.ev.user;
  a.created_at = s.ev.at;
  a.id = s.db.add_action(a);
  action_changed(s.db, s.options, nullptr, a, s.ev.at);
  s.record(inc, entry_kind::action_entry, "Action " + describe_item(a) + " added by " + mention(s.ev.user));
  std::string reply = "✅ Action #" + std::to_string(a.id) + " for " + mention(a.owner) + ": " + a.text + ". Due " +
                      format_date(*a.due) +
                      (c.due ? "" : " (the default, " + std::to_string(s.options.default_due_days) +
                                        " days out; `due:YYYY-MM-DD` picks another)") +
                      ", kind " + std::string{name(a.kind)} + ". Closed with `/incident action done " + std::to_string(a.id) + "`.";
  s.say(reply);
  s.dm(a.owner, "Hi " + mention(a.owner) + ", you own action #" + std::to_string(a.id) + " from " + inc.key() + " (" +
                    inc.title + "): " + a.text + ". Due " + format_date(*a.due) + ". " + how_to_close(a) +
                    " If it should be someone else's, `/incident action reassign " + std::to_string(a.id) + " @user`.",
       action_owner_buttons(a));
  if (auto hint = blame_hint(s.db, inc, a.text, "Action"); !hint.empty()) s.tell(hint);
}

void list(command_scope& s) {
  std::vector<action_item> items;
  std::string heading;
  if (s.inc) {
    items = s.db.actions_of(s.inc->id);
    heading = "Action items of " + s.inc->key();
  } else {
    for (auto& a : s.db.open_actions())
      if (a.owner == s.ev.user) items.push_back(std::move(a));
    heading = "Your open action items";
  }
  if (items.empty()) {
    s.tell(s.inc ? "No action items yet. Add one: `/incident action add <text> @owner [due:YYYY-MM-DD] [kind:fix|process|detection|mitigation]`"
                 : "You have no open action items. Nice.");
    return;
  }
  auto today = s.today();
  std::string text = heading + ":";
  for (const auto& a : items) {
    text += "\n• " + describe_item(a) + " — " + std::string{name(a.status)};
    if (a.status == action_status::open && a.due && *a.due < today) text += ", overdue";
  }
  s.tell(text);
}

void change(command_scope& s, id_t id, const command& c) {
  auto found = s.db.find_action(id);
  if (!found) {
    s.tell("There is no action #" + std::to_string(id) + ". `/incident action list` shows " +
           (s.inc ? "this incident's actions." : "your open actions."));
    return;
  }
  action_item a = *found;
  const action_item was = a;
  auto inc = s.db.find_incident(a.incident_id);
  if (!inc) throw store_error("action #" + std::to_string(id) + " belongs to a missing incident");
  const std::string n = "#" + std::to_string(a.id);
  std::visit(overloaded{
                 [&](const cmd::action_done&) {
                   if (a.status == action_status::done) return s.tell("Action " + n + " is already done.");
                   a.status = action_status::done;
                   a.closed_at = s.ev.at;
                   s.db.update_action(a);
                   s.record(*inc, entry_kind::action_entry, "Action " + n + " done (by " + mention(s.ev.user) + ")");
                   auto all = s.db.actions_of(inc->id);
                   auto closed = std::count_if(all.begin(), all.end(), [](const action_item& x) { return x.status != action_status::open; });
                   announce(s, *inc, "🎉 Action " + n + " is done: " + a.text + ". Thank you, " + mention(s.ev.user) + ". (" +
                                         std::to_string(closed) + " of " + std::to_string(all.size()) + " closed)");
                 },
                 [&](const cmd::action_reopen&) {
                   if (a.status == action_status::open) return s.tell("Action " + n + " is already open.");
                   a.status = action_status::open;
                   a.closed_at.reset();
                   s.db.update_action(a);
                   s.record(*inc, entry_kind::action_entry, "Action " + n + " reopened (by " + mention(s.ev.user) + ")");
                   announce(s, *inc, "Action " + n + " is open again: " + describe_item(a) + ".");
                 },
                 [&](const cmd::action_snooze& v) {
                   if (a.status != action_status::open) return s.tell("Action " + n + " is " + std::string{name(a.status)} + "; only open items can be snoozed.");
                   a.snoozed_until = s.ev.at + v.by;
                   std::string text = "Action " + n + " snoozed until " + format_minute(*a.snoozed_until) + " UTC";
                   auto until = date_of(*a.snoozed_until);
                   if (!a.due || *a.due < until) {
                     a.due = until;
                     text += "; due moved to " + format_date(until);
                   }
                   s.db.update_action(a);
                   s.record(*inc, entry_kind::action_entry, text + " (by " + mention(s.ev.user) + ")");
                   announce(s, *inc, "💤 " + text + ".");
                 },
                 [&](const cmd::action_reassign& v) {
                   if (a.owner == v.user) return s.tell("Action " + n + " is already " + mention(v.user) + "'s.");
                   std::string before = a.owner;
                   a.owner = v.user;
                   s.db.update_action(a);
                   s.record(*inc, entry_kind::action_entry, "Action " + n + " moved from " + mention(before) + " to " + mention(v.user) +
                                                          " (by " + mention(s.ev.user) + ")");
                   announce(s, *inc, "Action " + n + " now belongs to " + mention(v.user) + ": " + a.text + ".");
                   s.dm(v.user, "Hi " + mention(v.user) + ", action " + n + " from " + inc->key() + " (" + inc->title +
                                    ") is now yours: " + a.text + (a.due ? ". Due " + format_date(*a.due) : std::string{}) +
                                    ". " + how_to_close(a),
                        action_owner_buttons(a));
                 },
                 [&](const cmd::action_held& v) {
                   if (a.status != action_status::done)
                     return s.tell("Action " + n + " is " + std::string{name(a.status)} +
                                   "; the look-back asks about items that are done.");
                   a.fix_held = v.answer;
                   if (v.answer == fix_check::held) {
                     s.db.update_action(a);
                     s.record(*inc, entry_kind::action_entry, "The fix of action " + n + " held, says " + mention(s.ev.user));
                     return s.tell("🎉 Thank you! Noted that the fix of action " + n + " held.");
                   }
                   if (v.answer == fix_check::unsure) {
                     s.db.update_action(a);
                     s.record(*inc, entry_kind::action_entry, mention(s.ev.user) + " is not sure the fix of action " + n + " held");
                     return s.tell("Thanks, noted as not sure. If it turns out it did not hold, `/incident action reopen " +
                                   std::to_string(a.id) + "`.");
                   }
                   a.status = action_status::open;
                   a.closed_at.reset();
                   a.due = date{std::chrono::sys_days{s.today()} + std::chrono::days{s.options.default_due_days}};
                   s.db.update_action(a);
                   s.record(*inc, entry_kind::action_entry,
                            "The fix of action " + n + " did not hold, says " + mention(s.ev.user) + "; reopened, due " + format_date(*a.due));
                   s.tell("Thank you for saying so; that is how fixes get better. Action " + n + " is open again, due " +
                          format_date(*a.due) + ". " + how_to_close(a));
                   const std::string& commander = inc->holder(role::commander);
                   const std::string tell = !commander.empty() ? commander : inc->declared_by;
                   if (!tell.empty() && tell != s.ev.user)
                     s.dm(tell, "🔁 The fix of action " + n + " from " + inc->key() + " (" + a.text + ") did not hold, per " +
                                    mention(s.ev.user) + ". It is open again, due " + format_date(*a.due) + ".");
                 },
                 [&](const cmd::action_drop&) {
                   if (a.status == action_status::dropped) return s.tell("Action " + n + " is already dropped.");
                   a.status = action_status::dropped;
                   a.closed_at = s.ev.at;
                   s.db.update_action(a);
                   s.record(*inc, entry_kind::action_entry, "Action " + n + " dropped (by " + mention(s.ev.user) + ")");
                   announce(s, *inc, "Action " + n + " dropped: " + a.text + ". (`/incident action reopen " +
                                         std::to_string(a.id) + "` brings it back.)");
                 },
                 [&](const auto&) {},
             },
             c);
  action_changed(s.db, s.options, &was, a, s.ev.at);
}

}  // namespace

void run_action_command(command_scope& s, const command& c) {
  std::visit(overloaded{
                 [&](const cmd::action_add& v) {
                   if (need_incident(s)) add(s, v);
                 },
                 [&](const cmd::action_list&) { list(s); },
                 [&](const cmd::action_done& v) { change(s, v.id, c); },
                 [&](const cmd::action_reopen& v) { change(s, v.id, c); },
                 [&](const cmd::action_snooze& v) { change(s, v.id, c); },
                 [&](const cmd::action_reassign& v) { change(s, v.id, c); },
                 [&](const cmd::action_drop& v) { change(s, v.id, c); },
                 [&](const cmd::action_held& v) { change(s, v.id, c); },
                 [&](const auto&) {},
             },
             c);
}

}  // namespace kintsugi::core::detail
