// Loading everything known about one incident, and reading incident references ("7", "INC-7").
#include "core/record.hpp"

#include "core/mentions.hpp"
#include "text_util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <string>
#include <system_error>
#include <utility>

namespace kintsugi::core {

std::string incident_record::channel_name() const {
  auto it = channel_names.find(inc.channel);
  return it == channel_names.end() ? std::string{} : it->second;
}

std::string incident_record::display(std::string_view user_id) const {
  if (user_id == bot_author) return std::string(bot_author);
  if (auto it = names.find(user_id); it != names.end() && !it->second.empty()) return it->second;
  return std::string(user_id);
}

std::vector<const revision*> incident_record::revisions_of(id_t entry_id) const {
  std::vector<const revision*> out;
  for (const auto& rev : revisions) {
    if (rev.entry_id == entry_id) out.push_back(&rev);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const revision* a, const revision* b) { return a->replaced_at < b->replaced_at; });
  return out;
}

std::vector<std::string> participants_of(const incident_record& r) {
  std::set<std::string, std::less<>> people;
  auto add = [&people](const std::string& user_id) {
    if (!user_id.empty() && user_id != bot_author) people.insert(user_id);
  };
  add(r.inc.declared_by);
  for (const auto& holder : r.inc.roles) add(holder);
  for (const auto& e : r.entries) add(e.author);
  for (const auto& w : r.whys) add(w.author);
  for (const auto& f : r.factors) add(f.author);
  for (const auto& l : r.lessons) add(l.author);
  for (const auto& a : r.actions) {
    add(a.owner);
    add(a.created_by);
  }
  return {people.begin(), people.end()};
}

std::optional<incident_record> load_record(store& s, id_t id) {
  auto inc = s.find_incident(id);
  if (!inc) return std::nullopt;

  incident_record r;
  r.inc = std::move(*inc);
  r.entries = s.timeline(id);
  r.revisions = s.revisions_of_incident(id);
  r.whys = s.whys(id);
  std::stable_sort(r.whys.begin(), r.whys.end(), [](const why& a, const why& b) { return a.position < b.position; });
  r.factors = s.factors(id);
  r.lessons = s.lessons(id);
  r.actions = s.actions_of(id);
  std::stable_sort(r.actions.begin(), r.actions.end(),
                   [](const action_item& a, const action_item& b) { return a.id < b.id; });

  // Everyone who appears in the document, asked once each.
  const std::vector<std::string> participants = participants_of(r);
  std::set<std::string, std::less<>> people(participants.begin(), participants.end());
  auto add = [&people](const std::string& user_id) {
    if (!user_id.empty() && user_id != bot_author) people.insert(user_id);
  };
  // People mentioned in the texts too, so mentions read as names.
  auto mentioned = [&add, &people](const std::string& text) {
    for_each_mention(text, [&add, &people](char kind, std::string_view who) {
      if (kind == '@' && people.find(who) == people.end()) add(std::string{who});  // a copy only when new
    });
  };
  for (const auto& e : r.entries) mentioned(e.text);
  for (const auto& rev : r.revisions) mentioned(rev.text);
  for (const auto& user_id : people) {
    if (auto u = s.find_user(user_id); u && !u->display_name.empty()) r.names.emplace(user_id, u->display_name);
  }
  // Documents are for people: <@U123> becomes @Name everywhere.
  auto name_of = [&r](std::string_view who) { return r.display(who); };
  // <#C…> becomes #name where the platform told the channel's name.
  if (auto c = s.find_channel(r.inc.channel); c && !c->name.empty()) r.channel_names.emplace(c->id, c->name);
  auto channel_of = [&r, &s](std::string_view channel_id) -> std::string {
    if (auto it = r.channel_names.find(channel_id); it != r.channel_names.end()) return it->second;
    auto c = s.find_channel(channel_id);
    std::string name = c ? c->name : std::string{};
    r.channel_names.emplace(std::string{channel_id}, name);
    return name;
  };
  auto render = [&name_of, &channel_of](std::string& text) {
    if (text.find('<') != std::string::npos) text = render_mentions(text, name_of, channel_of);
  };
  for (auto& e : r.entries) render(e.text);
  for (auto& rev : r.revisions) render(rev.text);
  for (auto& w : r.whys) render(w.text);
  for (auto& f : r.factors) render(f.text);
  for (auto& l : r.lessons) render(l.text);
  for (auto& a : r.actions) render(a.text);
  render(r.inc.summary);
  render(r.inc.impact);
  return r;
}

std::optional<id_t> parse_incident_ref(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() > 4 && (text[0] == 'i' || text[0] == 'I') && (text[1] == 'n' || text[1] == 'N') &&
      (text[2] == 'c' || text[2] == 'C') && text[3] == '-') {
    text.remove_prefix(4);
  }
  if (!detail::ascii::all_digits(text)) {
    return std::nullopt;
  }
  id_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace kintsugi::core
