// /incident start, sev, role(s), status, update, note, mark, resolve.
#include <cctype>

#include "core/postmortem.hpp"
#include "core/metrics.hpp"
#include "engine_detail.hpp"
#include "follow_up.hpp"

namespace kintsugi::core::detail {
namespace {

// "Checkout errors: 502s!" -> "checkout-errors-502s", at most `max` characters, never empty.
std::string slug(std::string_view title, std::size_t max) {
  std::string out;
  for (char ch : title) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) && c < 0x80) {
      out += static_cast<char>(std::tolower(c));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= max) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "incident" : out;
}

std::string yyyymmdd(timestamp t) {
  auto d = format_date(date_of(t));
  return d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2);
}

std::string welcome(const incident& i, const engine_options&) {
  std::string w = "🚨 *" + i.key() + ": " + i.title + "* — " + severity_line(i.level) + "\n";
  w += "Declared by " + mention(i.declared_by) + " at " + format_clock(i.declared_at) +
       " UTC. Everything said here goes on the timeline, with exact times; react with 📌 to mark a key event.\n";
  w += "Three roles keep this calm:\n";
  for (std::size_t r = 0; r < role_count; ++r) {
    auto which = static_cast<role>(r);
    std::string title{name(which)};
    title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
    w += "• *" + title + "* — " + std::string{describe(which)} + "\n";
  }
  w += "Who takes them? `/incident role commander me` (likewise scribe, facilitator). `/incident help` lists everything.";
  return w;
}

void start(command_scope& s, const cmd::start& c) {
  const auto& opt = s.options;
  std::string channel = s.ev.channel;
  bool dedicated = channel.starts_with(opt.channel_prefix);
  bool create = false;
  if (!dedicated && opt.create_channel) {
    // A platform beside the first one gets the channel created where the command came from: the name carries
    // that platform's route until the platform tells the channel's id (channel_created).
    const auto route = route_of(s.ev.channel);
    std::string base = (route.empty() ? std::string{} : std::string{route} + ":") + opt.channel_prefix +
                       yyyymmdd(s.ev.at) + "-";
    std::string name = base + slug(c.title, 60 - base.size());
    for (int n = 2; s.db.incident_in_channel(name); ++n) name = base + slug(c.title, 56 - base.size()) + "-" + std::to_string(n);
    channel = name;
    dedicated = true;
    create = true;
  }
  if (auto existing = s.db.incident_in_channel(channel); existing && existing->open()) {
    s.tell(existing->key() + " (" + existing->title + ") is still open in this channel. Resolve it first with "
           "`/incident resolve`, or declare the new one from another channel.");
    return;
  }
  incident i;
  i.title = c.title;
  i.level = c.level.value_or(severity::sev3);
  i.channel = channel;
  i.origin_channel = s.ev.channel;
  i.dedicated_channel = dedicated;
  i.declared_by = s.ev.user;
  i.declared_at = s.ev.at;
  i.service = c.service;
  i.at(milestone::detected) = s.ev.at;
  i.id = s.db.create_incident(i);
  s.record(i, entry_kind::system,
           i.key() + " declared by " + mention(i.declared_by) + ": " + i.title + " (" + std::string{name(i.level)} + ")",
           true);
  if (create) {
    s.out.push_back(create_channel{channel});
    s.out.push_back(invite_user{channel, s.ev.user});
    s.say("🚨 " + i.key() + " declared by " + mention(i.declared_by) + ": *" + i.title + "* (" +
          std::string{name(i.level)} + "). Join " + channel_ref(channel) + " to help.");
  }
  // The welcome post is the incident's header: pinned, so it stays at hand however long the channel gets.
  s.out.push_back(post_message{
      channel, welcome(i, opt) + (c.level ? "" : "\nSeverity defaults to sev3; change it with `/incident sev <level>`."),
      open_role_buttons(i), true});
  s.out.push_back(set_topic{channel, topic_of(i)});
  for (auto& a : incident_changed(s.db, opt, nullptr, i, s.ev.at)) s.out.push_back(std::move(a));
  s.inc = i;
}

void set_severity(command_scope& s, const cmd::set_severity& c) {
  incident after = *s.inc;
  if (after.level == c.level) {
    s.tell(after.key() + " is already " + std::string{name(c.level)} + ".");
    return;
  }
  after.level = c.level;
  s.record(after, entry_kind::severity,
           "Severity " + std::string{name(s.inc->level)} + " → " + std::string{name(c.level)} + " (by " +
               mention(s.ev.user) + ")",
           true);
  s.save(*s.inc, after);
  s.say("Severity is now " + severity_line(c.level) + ".");
}

void take_role(command_scope& s, const cmd::take_role& c) {
  incident after = *s.inc;
  auto& holder = after.holder(c.which);
  std::string role_name{name(c.which)};
  if (holder == c.user) {
    s.tell(mention(c.user) + " already holds the " + role_name + " role.");
    return;
  }
  std::string previous = holder;
  holder = c.user;
  std::string what;
  if (c.user == s.ev.user) what = mention(c.user) + " took the " + role_name + " role";
  else if (previous == s.ev.user) what = mention(previous) + " handed the " + role_name + " role to " + mention(c.user);
  else what = mention(s.ev.user) + " made " + mention(c.user) + " " + role_name;
  if (!previous.empty() && previous != s.ev.user) what += " (was " + mention(previous) + ")";
  s.record(after, entry_kind::role, what, false);
  std::string reply = what + ". " + mention(c.user) + " " + std::string{describe(c.which)} + ".";
  if (c.which == role::commander && after.open() && !after.at(milestone::acknowledged)) {
    after.at(milestone::acknowledged) = s.ev.at;
    s.record(after, entry_kind::milestone, "Acknowledged: a commander took the incident", true);
  }
  s.save(*s.inc, after);
  std::string open;
  for (std::size_t r = 0; r < role_count; ++r) {
    auto which = static_cast<role>(r);
    if (after.holder(which).empty()) open += (open.empty() ? "" : ", ") + std::string{name(which)};
  }
  if (!open.empty()) reply += " Still open: " + open + ".";
  s.say(reply, open_role_buttons(after));
}

void set_status(command_scope& s, const cmd::set_status& c) {
  incident after = *s.inc;
  if (after.status == c.status) {
    s.tell(after.key() + " is already " + std::string{name(c.status)} + ".");
    return;
  }
  after.status = c.status;
  bool reopened = !s.inc->open();
  s.record(after, entry_kind::status,
           (reopened ? "Reopened: status " : "Status ") + std::string{name(s.inc->status)} + " → " +
               std::string{name(c.status)} + " (by " + mention(s.ev.user) + ")",
           true);
  // A reopened incident is resolved again later; its resolution time is that later one.
  if (reopened) after.at(milestone::resolved).reset();
  if (c.status == incident_status::monitoring && !after.at(milestone::mitigated)) {
    after.at(milestone::mitigated) = s.ev.at;
    s.record(after, entry_kind::milestone, "Mitigated: status moved to monitoring", true);
  }
  s.save(*s.inc, after);
  s.say(reopened ? "🚨 " + after.key() + " is open again: *" + std::string{name(c.status)} + "*. `/incident resolve` when it is over."
                 : "Status: *" + std::string{name(c.status)} + "*.");
}

void post_text_entry(command_scope& s, entry_kind kind, const std::string& text, std::string_view label) {
  timeline_entry e;
  e.incident_id = s.inc->id;
  e.at = s.ev.at;
  e.author = s.ev.user;
  e.kind = kind;
  e.text = text;
  e.key = kind == entry_kind::note;
  s.db.add_entry(e);
  if (kind == entry_kind::update) update_posted(s.db, s.options, *s.inc, s.ev.at);
  s.say(std::string{label} + " from " + mention(s.ev.user) + ": " + text);
  if (auto hint = blame_hint(s.db, *s.inc, text, label); !hint.empty()) s.tell(hint);
}

std::string milestone_label(milestone m) {
  switch (m) {
    case milestone::began: return "Impact began";
    case milestone::detected: return "Detected";
    case milestone::acknowledged: return "Acknowledged";
    case milestone::mitigated: return "Mitigated";
    case milestone::resolved: return "Resolved";
  }
  return "Milestone";
}

void mark(command_scope& s, const cmd::mark& c) {
  incident after = *s.inc;
  auto& slot = after.at(c.which);
  std::string m = milestone_label(c.which);
  std::string text = m + " — marked by " + mention(s.ev.user) + " at " + format_clock(s.ev.at) + " UTC";
  if (slot) text += " (was " + format_minute(*slot) + ")";
  slot = c.at;
  s.record(after, entry_kind::milestone, text, true, c.at);
  s.save(*s.inc, after);
  std::string reply = "⏱ " + m + ": " + format_minute(c.at) + " UTC.";
  auto metrics = metrics_of(after);
  auto add = [&](const char* label, const std::optional<duration>& d) {
    if (d) reply += std::string{" "} + label + " " + format_duration(*d) + ".";
  };
  switch (c.which) {
    case milestone::began:
    case milestone::detected: add("Time to detect:", metrics.to_detect); break;
    case milestone::acknowledged: add("Time to acknowledge:", metrics.to_acknowledge); break;
    case milestone::mitigated: add("Time to mitigate:", metrics.to_mitigate); break;
    case milestone::resolved: add("Time to resolve:", metrics.to_resolve); break;
  }
  auto detected = after.at(milestone::detected);
  if (detected && c.which != milestone::began && c.which != milestone::detected && c.at < *detected)
    reply += " Note: that is before the incident was detected (" + format_minute(*detected) +
             "); if detection was earlier, `/incident mark detected <time>`.";
  if (c.which == milestone::resolved && after.open()) reply += " When it is over for everyone, `/incident resolve`.";
  s.say(reply);
}

void resolve(command_scope& s, const cmd::resolve& c) {
  incident after = *s.inc;
  if (!after.open()) {
    s.tell(after.key() + " was already resolved. The postmortem material can still be added here.");
    return;
  }
  after.status = incident_status::resolved;
  if (!after.at(milestone::resolved)) after.at(milestone::resolved) = s.ev.at;
  if (!after.at(milestone::mitigated)) after.at(milestone::mitigated) = after.at(milestone::resolved);
  std::string text = "Resolved by " + mention(s.ev.user) + (c.text.empty() ? "" : ": " + c.text);
  s.record(after, entry_kind::status, text, true);
  s.save(*s.inc, after);
  auto m = metrics_of(after);
  std::string reply = "✅ *" + after.key() + " is resolved*";
  if (m.to_resolve) reply += " after " + format_duration(*m.to_resolve);
  reply += ". Thank you, everyone.";
  if (!c.text.empty()) reply += "\n> " + c.text;
  if (auto rec = load_record(s.db, after.id)) {
    std::string missing;
    for (const auto& sec : sections(*rec))
      if (!sec.filled) missing += "\n• " + sec.name + ": `" + sec.command + "`";
    if (!missing.empty()) reply += "\nFor the postmortem, still missing:" + missing;
  }
  reply += "\nWhen you're ready: `/incident review <YYYY-MM-DD HH:MM>` to schedule the review, `/incident postmortem` "
           "to write the document.";
  s.say(reply, {button{"Write the postmortem", "postmortem", ""}});
  if (after.origin_channel != after.channel && !after.origin_channel.empty())
    s.post(after.origin_channel, "✅ " + after.key() + " (" + after.title + ") is resolved.");
}

void nudge(command_scope& s, const cmd::nudge& c) {
  if (c.incident != 0) {
    s.inc = s.db.find_incident(c.incident);
    if (!s.inc) return s.tell("There is no INC-" + std::to_string(c.incident) + ".");
  } else if (!need_incident(s)) {
    return;
  }
  incident after = *s.inc;
  if (!after.open()) return s.tell(after.key() + " is resolved; there are no update nudges for it.");
  const std::string& commander = after.holder(role::commander);
  const std::string who = commander.empty() ? std::string{"the commander"} : mention(commander);
  switch (c.verb) {
    case cmd::nudge::what::snooze: {
      if (!after.nudges) return s.tell("Update nudges for " + after.key() + " are stopped; `/incident nudge resume " + after.key() + "` brings them back.");
      auto row = s.db.find_reminder(reminder_kind::update_nudge, after.id);
      reminder r = row.value_or(reminder{});
      r.kind = reminder_kind::update_nudge;
      r.subject = after.id;
      if (!row) r.since = s.ev.at;
      r.due = s.ev.at + c.by;
      s.db.set_reminder(r);
      s.record(after, entry_kind::system, "Update nudges snoozed for " + format_duration(c.by) + " by " + mention(s.ev.user));
      return s.tell("💤 No update nudges for " + after.key() + " until " + format_minute(r.due) + " UTC.");
    }
    case cmd::nudge::what::stop:
      if (!after.nudges) return s.tell("Update nudges for " + after.key() + " are already stopped.");
      after.nudges = false;
      s.record(after, entry_kind::system, "Update nudges stopped by " + mention(s.ev.user));
      s.save(*s.inc, after);
      return s.tell("Update nudges for " + after.key() + " are off. `/incident nudge resume " + after.key() +
                    "` turns them on again.");
    case cmd::nudge::what::resume:
      if (after.nudges) return s.tell("Update nudges for " + after.key() + " are already on.");
      after.nudges = true;
      s.record(after, entry_kind::system, "Update nudges resumed by " + mention(s.ev.user));
      s.save(*s.inc, after);
      return s.tell("Update nudges for " + after.key() + " are on again; " + who + " hears from me when updates go quiet.");
  }
}

}  // namespace

void run_incident_command(command_scope& s, const command& c) {
  if (auto* st = std::get_if<cmd::start>(&c)) return start(s, *st);
  if (auto* n = std::get_if<cmd::nudge>(&c)) return nudge(s, *n);
  if (!need_incident(s)) return;
  std::visit(overloaded{
                 [&](const cmd::set_severity& v) { set_severity(s, v); },
                 [&](const cmd::take_role& v) { take_role(s, v); },
                 [&](const cmd::list_roles&) {
                   s.say(s.inc->key() + " roles — " + roles_line(*s.inc) +
                             "\nTake one with `/incident role <commander|scribe|facilitator> [@user|me]`.",
                         open_role_buttons(*s.inc));
                 },
                 [&](const cmd::set_status& v) {
                   if (v.status == incident_status::resolved) return resolve(s, cmd::resolve{});
                   set_status(s, v);
                 },
                 [&](const cmd::update& v) { post_text_entry(s, entry_kind::update, v.text, "📣 Update"); },
                 [&](const cmd::note& v) { post_text_entry(s, entry_kind::note, v.text, "📝 Key event"); },
                 [&](const cmd::mark& v) { mark(s, v); },
                 [&](const cmd::resolve& v) { resolve(s, v); },
                 [&](const auto&) {},
             },
             c);
}

}  // namespace kintsugi::core::detail
