#include "core/engine.hpp"

#include <algorithm>
#include <utility>

#include "core/command.hpp"
#include "core/postmortem.hpp"
#include "engine_detail.hpp"
#include "follow_up.hpp"

namespace kintsugi::core {

using detail::overloaded;

std::string mention(std::string_view user_id) { return "<@" + std::string{user_id} + ">"; }
std::string channel_ref(std::string_view channel_id) { return "<#" + std::string{channel_id} + ">"; }

engine::engine(store& s, engine_options options) : store_(s), options_(std::move(options)) {}

actions engine::handle(const event& e) {
  return std::visit(overloaded{
                        [this](const message_posted& m) { return on_message(m); },
                        [this](const message_edited& m) { return on_edit(m); },
                        [this](const message_deleted& m) { return on_delete(m); },
                        [this](const reaction_added& r) { return on_reaction(r); },
                        [this](const command_invoked& c) { return on_command(c); },
                        [this](const clock_tick& t) { return on_tick(t); },
                        [this](const message_pinned& p) { return on_pin(p); },
                        [this](const channel_created& c) { return on_channel_created(c); },
                        [this](const user_updated& u) { return on_user(u); },
                        [this](const member_joined& m) { return on_membership(m.channel, m.user, m.at, true); },
                        [this](const member_left& m) { return on_membership(m.channel, m.user, m.at, false); },
                        [this](const channel_updated& c) { return on_channel(c.what); },
                    },
                    e);
}

namespace {

// A channel's messages go on the timeline while its incident is open, and afterwards too when the
// channel exists for that incident (the follow-up talk belongs to it).
// A message from before the resolution counts too, however late it arrives: a platform's stream of messages may lag
// behind its slash commands (Mattermost sends them on different connections).
bool captures(const incident& i, timestamp at) {
  if (i.open() || i.dedicated_channel) return true;
  const auto& resolved = i.at(milestone::resolved);
  return resolved && at <= *resolved;
}

bool is_key_emoji(std::string_view emoji) { return emoji == "pushpin" || emoji == "round_pushpin"; }

}  // namespace

actions engine::on_message(const message_posted& m) {
  capture(m);
  return {};
}

capture_outcome engine::capture(const message_posted& m) {
  if (m.from_bot || (!options_.bot_user.empty() && m.user == options_.bot_user)) return capture_outcome::ignored;
  const auto inc = store_.incident_in_channel(m.channel);
  if (!inc || !captures(*inc, m.at)) return capture_outcome::ignored;
  timeline_entry e;
  e.incident_id = inc->id;
  e.at = m.at;
  e.author = m.user;
  e.kind = entry_kind::message;
  e.text = m.text;
  e.source_id = m.id;
  // The unique source id makes a redelivered message a no-op here, without a lookup first.
  return store_.add_entry_if_new(e) ? capture_outcome::added : capture_outcome::already_there;
}

actions engine::on_edit(const message_edited& m) {
  auto e = store_.entry_by_source(m.id);
  if (!e || e->text == m.text) return {};
  store_.add_revision(revision{e->id, m.at, e->text});
  e->text = m.text;
  e->edited = true;
  e->edited_at = m.at;
  store_.update_entry(*e);
  return {};
}

actions engine::on_delete(const message_deleted& m) {
  auto e = store_.entry_by_source(m.id);
  if (!e || e->deleted) return {};
  e->deleted = true;
  e->deleted_at = m.at;
  store_.update_entry(*e);
  return {};
}

namespace {
// A captured message becomes a key event (a 📌 reaction or a pin). True when it was not one before.
bool mark_key(store& s, const std::string& source_id) {
  auto e = s.entry_by_source(source_id);
  if (!e || e->key) return false;
  e->key = true;
  s.update_entry(*e);
  return true;
}
}  // namespace

// A 📌 that makes a message a key event also pins it, so the channel's pinned items list the key events.
actions engine::on_reaction(const reaction_added& r) {
  if (!is_key_emoji(r.emoji) || !mark_key(store_, r.id)) return {};
  actions out;
  out.push_back(pin_message{r.id});
  return out;
}

actions engine::on_pin(const message_pinned& p) {
  mark_key(store_, p.id);  // already pinned: nothing to send
  return {};
}

actions engine::on_channel_created(const channel_created& c) {
  // The incident was declared with the channel's name; the platform's messages will carry its id.
  if (c.id.empty() || c.id == c.name) return {};
  if (auto inc = store_.incident_in_channel(c.name)) {
    inc->channel = c.id;
    store_.update_incident(*inc);
  }
  // The name the engine chose carries the platform's route ("mm:inc-…"); the channel itself is called without it.
  std::string_view bare = c.name;
  if (auto route = route_of(bare); !route.empty()) bare.remove_prefix(route.size() + 1);
  return on_channel(channel_info{c.id, std::string{bare}});
}

actions engine::on_channel(const channel_info& c) {
  if (c.id.empty() || c.name.empty()) return {};
  if (auto known = store_.find_channel(c.id); !known || *known != c) store_.upsert_channel(c);
  return {};
}

actions engine::on_user(const user_updated& u) {
  if (u.who.id.empty()) return {};
  auto known = store_.find_user(u.who.id);
  if (!known || known->display_name != u.who.display_name || known->tz != u.who.tz) store_.upsert_user(u.who);
  return {};
}

// "<@U…> joined the channel" on the incident's timeline. Slack tells a join twice (member_joined_channel and a
// channel_join message) and the two need not carry the same time, so a join right after the same person's join
// (a leave after a leave) is the same one told again. A later issue frees the roles of a holder who leaves.
actions engine::on_membership(const std::string& channel, const std::string& user, timestamp at, bool joined) {
  if (user.empty() || (!options_.bot_user.empty() && user == options_.bot_user)) return {};
  auto inc = store_.incident_in_channel(channel);
  if (!inc || !captures(*inc, at)) return {};
  const std::string who = mention(user);
  const std::string text = who + (joined ? " joined the channel" : " left the channel");
  const auto recent = store_.timeline(inc->id, 50);
  for (auto e = recent.rbegin(); e != recent.rend(); ++e) {
    if (e->kind != entry_kind::system || e->author != bot_author || !e->text.starts_with(who + " ")) continue;
    if (!e->text.ends_with(" joined the channel") && !e->text.ends_with(" left the channel")) continue;
    const auto apart = e->at > at ? e->at - at : at - e->at;
    if (e->text == text && apart <= std::chrono::minutes{1}) return {};
    break;  // only this person's latest join or leave counts
  }
  timeline_entry e;
  e.incident_id = inc->id;
  e.at = at;
  e.author = std::string{bot_author};
  e.kind = entry_kind::system;
  e.text = text;
  store_.add_entry(e);
  if (joined || !inc->open()) return {};
  // A role holder who left frees the role, and the asks for it start again.
  incident after = *inc;
  std::string freed;
  for (std::size_t r = 0; r < role_count; ++r) {
    auto which = static_cast<role>(r);
    if (after.holder(which) != user) continue;
    after.holder(which).clear();
    freed += (freed.empty() ? "" : " and ") + std::string{name(which)};
  }
  if (freed.empty()) return {};
  store_.update_incident(after);
  timeline_entry note = e;
  note.text = "The " + freed + " role is open again (" + who + " left the channel)";
  store_.add_entry(note);
  actions out;
  out.push_back(post_message{inc->channel,
                             who + " left the channel, so the " + freed + " role is open again. Who takes it over?",
                             detail::open_role_buttons(after)});
  out.push_back(set_topic{inc->channel, detail::topic_of(after)});
  for (auto& a : detail::incident_changed(store_, options_, &*inc, after, at)) out.push_back(std::move(a));
  return out;
}

actions engine::on_tick(const clock_tick& t) { return detail::fire_due(store_, options_, t.at); }

actions engine::on_command(const command_invoked& c) {
  parse_context ctx{c.user, c.at, {}};
  if (auto u = store_.find_user(c.user)) ctx.tz = u->tz;
  detail::command_scope s{store_, options_, c, store_.incident_in_channel(c.channel), {}, ctx.tz, {}};
  auto parsed = parse_command(c.text, ctx);
  if (!parsed.ok()) {
    std::string text = parsed.error ? parsed.error->message : "I could not read that command.";
    if (parsed.error && !parsed.error->usage.empty()) text += "\n" + parsed.error->usage;
    s.tell(std::move(text));
    return std::move(s.out);
  }
  const command& cmd = *parsed.cmd;
  std::visit(overloaded{
                 [&](const cmd::help& h) { s.tell(help_text(h.topic)); },
                 [&](const cmd::start&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::set_severity&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::take_role&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::list_roles&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::set_status&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::update&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::note&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::mark&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::resolve&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::summary&) { detail::run_analysis_command(s, cmd); },
                 [&](const cmd::impact&) { detail::run_analysis_command(s, cmd); },
                 [&](const cmd::add_why&) { detail::run_analysis_command(s, cmd); },
                 [&](const cmd::add_factor&) { detail::run_analysis_command(s, cmd); },
                 [&](const cmd::add_lesson&) { detail::run_analysis_command(s, cmd); },
                 [&](const cmd::review&) { detail::run_analysis_command(s, cmd); },
                 [&](const cmd::action_add&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::action_list&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::action_done&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::action_reopen&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::action_snooze&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::action_reassign&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::action_drop&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::action_held&) { detail::run_action_command(s, cmd); },
                 [&](const cmd::nudge&) { detail::run_incident_command(s, cmd); },
                 [&](const cmd::show_timeline&) { detail::run_report_command(s, cmd); },
                 [&](const cmd::postmortem&) { detail::run_report_command(s, cmd); },
                 [&](const cmd::stats&) { detail::run_report_command(s, cmd); },
             },
             cmd);
  for (auto& a : s.later) s.out.push_back(std::move(a));
  // The topic follows what was said about the change.
  std::stable_partition(s.out.begin(), s.out.end(), [](const action& a) { return !std::holds_alternative<set_topic>(a); });
  return std::move(s.out);
}

namespace detail {

void command_scope::record(const incident& i, entry_kind kind, std::string text, bool key, std::optional<timestamp> at) {
  timeline_entry e;
  e.incident_id = i.id;
  e.at = at.value_or(ev.at);
  e.author = std::string{bot_author};
  e.kind = kind;
  e.text = std::move(text);
  e.key = key;
  db.add_entry(e);
}

void command_scope::save(const incident& before, const incident& after) {
  db.update_incident(after);
  auto topic = topic_of(after);
  if (topic != topic_of(before)) out.push_back(set_topic{after.channel, std::move(topic)});
  for (auto& a : incident_changed(db, options, &before, after, ev.at)) later.push_back(std::move(a));
  if (inc && inc->id == after.id) inc = after;
}

std::vector<button> open_role_buttons(const incident& i) {
  std::vector<button> out;
  for (std::size_t r = 0; r < role_count; ++r) {
    auto which = static_cast<role>(r);
    if (!i.holder(which).empty()) continue;
    const std::string role_name{name(which)};
    out.push_back(button{"I'll be " + role_name, "role " + role_name + " me", which == role::commander ? "primary" : ""});
  }
  return out;
}

std::vector<button> action_owner_buttons(const action_item& a) {
  if (a.status != action_status::open) return {};
  const std::string n = std::to_string(a.id);
  return {button{"Mark done", "action done " + n, "primary"}, button{"Snooze 1 day", "action snooze " + n + " 1d", ""}};
}

std::string topic_of(const incident& i) {
  std::string t = (i.open() ? "🚨 " : "✅ ") + i.key() + " " + std::string{name(i.level)} + " · " +
                  std::string{name(i.status)};
  for (std::size_t r = 0; r < role_count; ++r) {
    auto which = static_cast<role>(r);
    t += " · " + std::string{name(which)} + ": " + (i.holder(which).empty() ? "open" : mention(i.holder(which)));
  }
  return t;
}

std::string roles_line(const incident& i) {
  std::string line;
  for (std::size_t r = 0; r < role_count; ++r) {
    auto which = static_cast<role>(r);
    if (!line.empty()) line += " · ";
    line += std::string{name(which)} + ": " + (i.holder(which).empty() ? "open" : mention(i.holder(which)));
  }
  return line;
}

std::string severity_line(severity s) { return std::string{name(s)} + " (" + std::string{describe(s)} + ")"; }

std::string blame_hint(store& db, const incident& i, std::string_view text, std::string_view where) {
  // The people of this incident: role holders, the declarer, owners, and who spoke lately.
  std::vector<std::string> people;
  for (const auto& holder : i.roles)
    if (!holder.empty()) people.push_back(holder);
  if (!i.declared_by.empty()) people.push_back(i.declared_by);
  for (const auto& a : db.actions_of(i.id)) people.push_back(a.owner);
  for (const auto& e : db.timeline(i.id, 200))
    if (e.author != bot_author) people.push_back(e.author);
  std::sort(people.begin(), people.end());
  people.erase(std::unique(people.begin(), people.end()), people.end());
  for (std::size_t k = 0, n = people.size(); k < n; ++k)
    if (auto u = db.find_user(people[k]); u && !u->display_name.empty()) people.push_back(u->display_name);
  auto notes = scan_blame(text, where, people);
  if (notes.empty()) return {};
  std::string hint = "A blameless nudge: \"" + notes.front().phrase + "\" reads as blame. " + notes.front().suggestion;
  return hint;
}

bool need_incident(command_scope& s) {
  if (s.inc) return true;
  s.tell("There is no incident in this channel. Declare one with `/incident start <title> [sev1-sev4|near-miss]`, "
         "or run this in the incident's channel.");
  return false;
}

}  // namespace detail
}  // namespace kintsugi::core
