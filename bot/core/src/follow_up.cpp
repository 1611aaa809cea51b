#include "follow_up.hpp"

#include <algorithm>
#include <iterator>
#include <map>

#include "core/postmortem.hpp"
#include "core/record.hpp"
#include "engine_detail.hpp"

namespace kintsugi::core::detail {
namespace {

using namespace std::chrono;

constexpr std::size_t batch = 1000;  // rows read per query while firing

std::string role_title(role r) { return std::string{name(r)}; }

void system_entry(store& db, id_t incident_id, timestamp at, std::string text) {
  timeline_entry e;
  e.incident_id = incident_id;
  e.at = at;
  e.author = std::string{bot_author};
  e.kind = entry_kind::system;
  e.text = std::move(text);
  db.add_entry(e);
}

std::string minutes_text(duration d) { return format_duration(d); }

std::string ordinal(int n) {
  if (n % 100 >= 11 && n % 100 <= 13) return std::to_string(n) + "th";
  switch (n % 10) {
    case 1: return std::to_string(n) + "st";
    case 2: return std::to_string(n) + "nd";
    case 3: return std::to_string(n) + "rd";
    default: return std::to_string(n) + "th";
  }
}

// ---- setting rows ----

void ask_for_role(store& db, const reminder_policy& p, const incident& i, role r, timestamp since) {
  if (auto due = next_role_ask(r, since, 0, p)) {
    reminder row;
    row.kind = reminder_kind::role_ask;
    row.subject = i.id;
    row.detail = role_title(r);
    row.due = *due;
    row.since = since;
    db.set_reminder(row);
  }
}

void set_nudge(store& db, const incident& i, timestamp since, timestamp due, int count) {
  reminder row;
  row.kind = reminder_kind::update_nudge;
  row.subject = i.id;
  row.due = due;
  row.since = since;
  row.count = count;
  db.set_reminder(row);
}

void ensure_digest(store& db, const reminder_policy& p, timestamp now) {
  if (db.find_reminder(reminder_kind::digest, 0)) return;
  reminder row;
  row.kind = reminder_kind::digest;
  row.due = next_digest(now, p);
  row.since = now;
  db.set_reminder(row);
}

// Who is asked to schedule the review: the facilitator, else the commander, else whoever declared it.
std::string review_owner(const incident& i) {
  if (!i.holder(role::facilitator).empty()) return i.holder(role::facilitator);
  if (!i.holder(role::commander).empty()) return i.holder(role::commander);
  return i.declared_by;
}

std::string missing_sections(store& db, const incident& i) {
  std::string missing;
  if (auto rec = load_record(db, i.id))
    for (const auto& sec : sections(*rec))
      if (!sec.filled) missing += "\n• " + sec.name + ": `" + sec.command + "`";
  return missing;
}

actions ask_for_review(store& db, const reminder_policy& p, const incident& i, timestamp now) {
  const std::string who = review_owner(i);
  const std::string tz = zone_of(db, p, who);
  const date deadline = review_deadline(i.level, now, tz, p);
  const std::string within = i.level == severity::sev1 ? std::to_string(p.review_days_sev1) + " days, as for every sev1"
                                                       : std::to_string(p.review_business_days) + " working days";
  std::string text = "📅 " + i.key() + " (" + i.title + ") is resolved. Could you schedule its review by " +
                     format_date(deadline) + " (within " + within + ", while memories are fresh)? `/incident review "
                     "<YYYY-MM-DD HH:MM>` in " + channel_ref(i.channel) + ".";
  if (auto missing = missing_sections(db, i); !missing.empty())
    text += "\nThe postmortem still needs:" + missing;
  reminder row;
  row.kind = reminder_kind::review_ask;
  row.subject = i.id;
  row.due = next_working_time(at_local(deadline, p.hours.start, tz), tz, p.hours);
  row.since = now;
  db.set_reminder(row);
  system_entry(db, i.id, now, "Asked " + mention(who) + " to schedule the review by " + format_date(deadline));
  return {direct_message{who, std::move(text)}};
}

// ---- firing ----

struct firing {
  store& db;
  const engine_options& o;
  const reminder_policy& p;
  timestamp now;
  actions out;
  // Read once per pass: a tick that fires thousands of reminders (or a digest over every open item) meets the same
  // few incidents and owners again and again, and firing changes neither an incident nor a user.
  std::map<id_t, std::optional<incident>> incidents;
  std::map<std::string, std::string, std::less<>> zones;

  const std::optional<incident>& incident_of(id_t id) {
    auto it = incidents.find(id);
    if (it == incidents.end()) it = incidents.emplace(id, db.find_incident(id)).first;
    return it->second;
  }

  const std::string& zone(const std::string& user) {
    auto it = zones.find(user);
    if (it == zones.end()) it = zones.emplace(user, zone_of(db, p, user)).first;
    return it->second;
  }

  // Moves the row to its next time, or deletes it when there is none. A time already passed (the clock jumped
  // over several) becomes the next minute, so one tick never repeats a reminder.
  void reschedule(reminder r, std::optional<timestamp> next) {
    if (!next || !p.enabled) return db.cancel_reminder(r.kind, r.subject, r.detail);
    r.due = std::max(*next, now + minutes{1});
    db.set_reminder(r);
  }

  void role_ask(reminder r) {
    auto which = parse_role(r.detail);
    const auto& i = incident_of(r.subject);
    if (!which || !i || !i->open() || !i->holder(*which).empty()) return reschedule(r, std::nullopt);
    r.count += 1;
    const std::string role_name = role_title(*which);
    out.push_back(post_message{i->channel,
                               "👋 " + i->key() + " still needs a " + role_name + ": someone who " +
                                   std::string{describe(*which)} + ". `/incident role " + role_name + " me` takes it.",
                               {button{"I'll be " + role_name, "role " + role_name + " me", "primary"}}});
    system_entry(db, i->id, now,
                 "Asked for a " + role_name + " (" + std::to_string(r.count) + " of " + std::to_string(p.role_max_asks) + ")");
    reschedule(r, next_role_ask(*which, r.since, r.count, p));
  }

  void update_nudge(reminder r) {
    const auto& i = incident_of(r.subject);
    if (!i || !i->open() || !i->nudges) return reschedule(r, std::nullopt);
    const duration every = update_interval(i->level, p);
    const std::string& commander = i->holder(role::commander);
    if (!commander.empty()) {
      r.count += 1;
      out.push_back(direct_message{
          commander, "⏰ " + i->key() + " (" + i->title + ", " + std::string{name(i->level)} + "): no update for " +
                         minutes_text(now - r.since) + ". A line with `/incident update <what we know now>` in " +
                         channel_ref(i->channel) + " keeps everyone in step. Busy? `/incident nudge snooze 30m " +
                         i->key() + "` or `/incident nudge stop " + i->key() + "`.",
          {button{"Snooze 30 min", "nudge snooze 30m " + i->key(), ""}, button{"Stop nudges", "nudge stop " + i->key(), ""}}});
      system_entry(db, i->id, now, "Nudged " + mention(commander) + " for a status update (" + minutes_text(now - r.since) +
                                       " since the last)");
    }
    reschedule(r, now + every);
  }

  void review_ask(reminder r) {
    const auto& i = incident_of(r.subject);
    db.cancel_reminder(r.kind, r.subject, r.detail);
    if (!i || i->open() || i->review_at) return;
    const std::string who = review_owner(*i);
    const date deadline = local_date_of(r.due, zone(who));
    out.push_back(direct_message{who, "📅 The review of " + i->key() + " (" + i->title + ") isn't scheduled yet; it was "
                                      "meant to happen by " + format_date(deadline) + ". `/incident review <YYYY-MM-DD HH:MM>` in " +
                                      channel_ref(i->channel) + " sets it; even a short review helps."});
    system_entry(db, i->id, now, "Reminded " + mention(who) + " that the review is not scheduled yet");
  }

  void action_due(reminder r) {
    auto a = db.find_action(r.subject);
    if (!a || a->status != action_status::open || !a->due) return reschedule(r, std::nullopt);
    const auto& i = incident_of(a->incident_id);
    if (!i) return reschedule(r, std::nullopt);
    const std::string& tz = zone(a->owner);
    const date today = local_date_of(now, tz);
    const auto days_left = (sys_days{*a->due} - sys_days{today}).count();
    const std::string n = std::to_string(a->id);
    const std::string what = "Action #" + n + " from " + i->key() + " (" + i->title + "): " + a->text;
    std::string text;
    std::string entry;
    if (days_left > 0) {
      text = "🔔 " + what + " — due in " + std::to_string(days_left) + (days_left == 1 ? " day" : " days") + ", on " +
             format_date(*a->due) + ".";
      entry = "Reminded " + mention(a->owner) + " that action #" + n + " is due " + format_date(*a->due);
    } else if (days_left == 0) {
      text = "🔔 " + what + " — due today.";
      entry = "Reminded " + mention(a->owner) + " that action #" + n + " is due today";
    } else {
      r.count += 1;
      text = "🔔 " + what + " — was due " + format_date(*a->due) + ". Is it still the right plan? Moving the date is fine: `/incident action snooze " + n + " 1w`; or hand it on with `reassign " + n + " @user`.";
      entry = "Reminded " + mention(a->owner) + " about overdue action #" + n + " (" + ordinal(r.count) + " overdue reminder)";
    }
    text += " `/incident action done " + n + "` when it's done.";
    out.push_back(direct_message{a->owner, std::move(text),
                                 {button{"Mark done", "action done " + n, "primary"},
                                  button{"Snooze 1 week", "action snooze " + n + " 1w", ""}}});
    system_entry(db, i->id, now, entry);
    if (days_left < 0 && r.count == p.escalate_after) {
      const std::string& commander = i->holder(role::commander);
      const std::string tell = !commander.empty() && commander != a->owner ? commander : i->declared_by;
      if (!tell.empty() && tell != a->owner) {
        out.push_back(direct_message{tell, "🧭 Action #" + n + " from " + i->key() + " (" + a->text + ", owned by " +
                                               mention(a->owner) + ") was due " + format_date(*a->due) +
                                               " and is still open after " + std::to_string(r.count) +
                                               " reminders. Maybe it needs help, a new date or another owner?"});
        system_entry(db, i->id, now, "Told " + mention(tell) + " that action #" + n + " is still open after " +
                                         std::to_string(r.count) + " overdue reminders");
      }
    }
    auto next = next_action_reminder(*a->due, a->snoozed_until, now, tz, p);
    reschedule(r, next ? std::optional<timestamp>{next->at} : std::nullopt);
  }

  void lookback(reminder r) {
    db.cancel_reminder(r.kind, r.subject, r.detail);
    auto a = db.find_action(r.subject);
    if (!a || a->status != action_status::done || a->fix_held) return;
    const auto& i = incident_of(a->incident_id);
    if (!i) return;
    const std::string n = std::to_string(a->id);
    out.push_back(direct_message{
        a->owner, "🔍 On " + format_date(local_date_of(a->closed_at.value_or(now), zone(a->owner))) +
                      " you closed action #" + n + " from " + i->key() + " (" + i->title + "): " + a->text +
                      ". Did the fix hold? `/incident action held " + n + " yes`, `… " + n +
                      " no` (it regressed; the item reopens) or `… " + n + " not-sure`.",
        {button{"Yes, it held", "action held " + n + " yes", "primary"},
         button{"No, it regressed", "action held " + n + " no", "danger"},
         button{"Not sure", "action held " + n + " not-sure", ""}}});
    system_entry(db, i->id, now, "Asked " + mention(a->owner) + " whether the fix of action #" + n + " held");
  }

  void digest(reminder r) {
    auto items = db.open_actions();
    if (!items.empty()) {
      const date today = local_date_of(now, p.timezone);
      auto overdue = [&](const action_item& a) { return a.due && *a.due < today; };
      // Owners with overdue items first; in each owner's list, overdue first, then by due date.
      std::map<std::string, std::vector<action_item>> by_owner;
      for (auto& a : items) by_owner[a.owner].push_back(std::move(a));
      std::vector<std::pair<std::string, std::vector<action_item>>> owners(std::make_move_iterator(by_owner.begin()),
                                                                         std::make_move_iterator(by_owner.end()));
      for (auto& [owner, list] : owners)
        std::stable_sort(list.begin(), list.end(), [&](const action_item& x, const action_item& y) {
          if (overdue(x) != overdue(y)) return overdue(x);
          return x.due < y.due;
        });
      std::stable_sort(owners.begin(), owners.end(), [&](const auto& x, const auto& y) {
        return overdue(x.second.front()) && !overdue(y.second.front());
      });
      std::size_t late = 0;
      std::string body;
      for (const auto& [owner, list] : owners) {
        body += "\n*" + mention(owner) + "*";
        for (const auto& a : list) {
          const auto& i = incident_of(a.incident_id);
          body += "\n• #" + std::to_string(a.id) + " " + a.text + " — " + (i ? i->key() : std::string{"?"});
          if (a.due) body += ", due " + format_date(*a.due);
          if (overdue(a)) {
            body += " (overdue)";
            ++late;
          }
        }
      }
      out.push_back(post_message{p.digest_channel, "🗓 Open action items this week: " + std::to_string(items.size()) +
                                                       (late ? ", " + std::to_string(late) + " overdue" : std::string{}) +
                                                       "." + body + "\nClose one with `/incident action done <id>`."});
    }
    r.count += 1;
    reschedule(r, next_digest(now, p));
  }
};

}  // namespace

std::string zone_of(store& db, const reminder_policy& p, const std::string& user) {
  if (auto u = db.find_user(user); u && !u->tz.empty()) return u->tz;
  return p.timezone;
}

actions incident_changed(store& db, const engine_options& o, const incident* before, const incident& after,
                         timestamp now) {
  const reminder_policy& p = o.reminders;
  if (!p.enabled) return {};
  actions out;
  const bool was_open = before ? before->open() : false;
  if (after.open()) {
    for (std::size_t k = 0; k < role_count; ++k) {
      const auto r = static_cast<role>(k);
      const bool held = !after.holder(r).empty();
      const bool was_held = before && was_open && !before->holder(r).empty();
      if (held) db.cancel_reminder(reminder_kind::role_ask, after.id, name(r));
      else if (!was_open || was_held) ask_for_role(db, p, after, r, now);  // declared, reopened, or freed
    }
    if (!after.nudges) {
      db.cancel_reminder(reminder_kind::update_nudge, after.id);
    } else if (!was_open) {
      set_nudge(db, after, now, now + update_interval(after.level, p), 0);
    } else if (before->level != after.level || !before->nudges) {
      auto row = db.find_reminder(reminder_kind::update_nudge, after.id);
      const timestamp since = row && before->nudges ? row->since : now;
      set_nudge(db, after, since, std::max(since + update_interval(after.level, p), now), row ? row->count : 0);
    }
    if (before && !was_open) db.cancel_reminder(reminder_kind::review_ask, after.id);
  } else {
    for (std::size_t k = 0; k < role_count; ++k) db.cancel_reminder(reminder_kind::role_ask, after.id, name(static_cast<role>(k)));
    db.cancel_reminder(reminder_kind::update_nudge, after.id);
    if (was_open && !after.review_at) out = ask_for_review(db, p, after, now);
  }
  if (after.review_at) db.cancel_reminder(reminder_kind::review_ask, after.id);
  return out;
}

void update_posted(store& db, const engine_options& o, const incident& i, timestamp now) {
  if (!o.reminders.enabled || !i.open() || !i.nudges) return;
  set_nudge(db, i, now, now + update_interval(i.level, o.reminders), 0);
}

void action_changed(store& db, const engine_options& o, const action_item* before, const action_item& after,
                    timestamp now) {
  const reminder_policy& p = o.reminders;
  if (!p.enabled) return;
  if (after.status == action_status::open) {
    db.cancel_reminder(reminder_kind::lookback, after.id);
    ensure_digest(db, p, now);
    if (!after.due) return db.cancel_reminder(reminder_kind::action_due, after.id);
    const bool same_course = before && before->status == action_status::open && before->owner == after.owner &&
                             before->due == after.due && before->snoozed_until == after.snoozed_until;
    if (same_course) return;
    auto row = db.find_reminder(reminder_kind::action_due, after.id);
    const bool same_owner = before && before->status == action_status::open && before->owner == after.owner;
    auto next = next_action_reminder(*after.due, after.snoozed_until, now, zone_of(db, p, after.owner), p);
    if (!next) return db.cancel_reminder(reminder_kind::action_due, after.id);
    reminder r;
    r.kind = reminder_kind::action_due;
    r.subject = after.id;
    r.due = next->at;
    r.since = now;
    r.count = row && same_owner ? row->count : 0;  // a new owner starts with a clean slate
    db.set_reminder(r);
    return;
  }
  db.cancel_reminder(reminder_kind::action_due, after.id);
  const bool newly_done = after.status == action_status::done && (!before || before->status != action_status::done);
  if (newly_done && p.lookback_days > 0 && !after.fix_held) {
    reminder r;
    r.kind = reminder_kind::lookback;
    r.subject = after.id;
    r.due = lookback_time(after.closed_at.value_or(now), zone_of(db, p, after.owner), p);
    r.since = now;
    db.set_reminder(r);
  } else if (after.status == action_status::dropped) {
    db.cancel_reminder(reminder_kind::lookback, after.id);
  }
}

actions fire_due(store& db, const engine_options& o, timestamp now) {
  firing f{db, o, o.reminders, now, {}, {}, {}};
  for (;;) {
    auto rows = db.due_reminders(now, batch);
    for (auto& r : rows) {
      if (!o.reminders.enabled) {  // turned off in the config since the row was set: drop it quietly
        db.cancel_reminder(r.kind, r.subject, r.detail);
        continue;
      }
      switch (r.kind) {
        case reminder_kind::role_ask: f.role_ask(std::move(r)); break;
        case reminder_kind::update_nudge: f.update_nudge(std::move(r)); break;
        case reminder_kind::review_ask: f.review_ask(std::move(r)); break;
        case reminder_kind::action_due: f.action_due(std::move(r)); break;
        case reminder_kind::lookback: f.lookback(std::move(r)); break;
        case reminder_kind::digest: f.digest(std::move(r)); break;
      }
    }
    if (rows.size() < batch) break;
  }
  return std::move(f.out);
}

}  // namespace kintsugi::core::detail
