// Help texts and usage lines of the /incident grammar, and the word helpers the parser shares.
#include "core/command.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "grammar.hpp"
#include "text_util.hpp"

namespace kintsugi::core {
namespace detail::grammar {
namespace {

using ascii::iequals;

enum class section { during, roles, material, actions, reports };

struct section_title {
  section which;
  std::string_view title;
};

constexpr std::array<section_title, 5> sections{{
    {section::during, "During the incident"},
    {section::roles, "Roles & milestones"},
    {section::material, "Postmortem material"},
    {section::actions, "Action items"},
    {section::reports, "Reports"},
}};

// One line of the overview.
struct overview_line {
  section part;
  std::string_view synopsis;
  std::string_view purpose;
};

constexpr std::array<overview_line, 28> overview_lines{{
    {section::during, "start <title> [severity] [service:NAME]", "declare an incident"},
    {section::during, "sev <level>", "change the severity"},
    {section::during, "status <investigating|identified|monitoring|resolved>", "say where the response stands"},
    {section::during, "update <text>", "post a status update"},
    {section::during, "note <text>", "add a key event to the timeline"},
    {section::during, "resolve [text]", "resolve the incident"},
    {section::roles, "role <commander|scribe|facilitator> [@user|me]", "take a role or hand it off"},
    {section::roles, "roles", "who holds which role"},
    {section::roles, "mark <began|detected|acknowledged|mitigated|resolved> [time]", "record when it happened"},
    {section::material, "summary <text>", "what happened, in a few sentences"},
    {section::material, "impact <text>", "who and what was affected, for how long"},
    {section::material, "why <text>", "the next of the five whys"},
    {section::material, "factor <people|process|technology|external> <text>", "a contributing factor"},
    {section::material, "learned <helped|slowed|different|knowledge> <text>", "a lesson"},
    {section::material, "postmortem", "write the postmortem document"},
    {section::material, "review <YYYY-MM-DD HH:MM>", "schedule the postmortem review"},
    {section::actions, "action add <text> @owner [due:…] [kind:…]", "an owned, dated follow-up"},
    {section::actions, "action list", "the open and closed actions"},
    {section::actions, "action done <id>", "close an action"},
    {section::actions, "action reopen <id>", "open it again"},
    {section::actions, "action snooze <id> <duration>", "quiet its reminders for a while"},
    {section::actions, "action reassign <id> @user", "give it a new owner"},
    {section::actions, "action drop <id>", "drop an action that no longer makes sense"},
    {section::actions, "action held <id> <yes|no|not-sure>", "did the fix hold? (the 90-day look-back)"},
    {section::during, "nudge <snooze <duration>|stop|resume> [INC-n]", "the commander's update reminders"},
    {section::reports, "timeline [n]", "the last n timeline entries"},
    {section::reports, "stats [days]", "detect, acknowledge, mitigate and resolve times; repeats; actions on time"},
    {section::reports, "help [command]", "this list, or one command in detail"},
}};

struct usage_line {
  std::string_view key;  // a subcommand, or "action <verb>"
  std::string_view line;
};

constexpr std::array<usage_line, 28> usage_lines{{
    {"start", "/incident start <title> [sev1|sev2|sev3|sev4|near-miss] [service:NAME]"},
    {"sev", "/incident sev <sev1|sev2|sev3|sev4|near-miss>"},
    {"role", "/incident role <commander|scribe|facilitator> [@user|me]"},
    {"roles", "/incident roles"},
    {"status", "/incident status <investigating|identified|monitoring|resolved>"},
    {"update", "/incident update <text>"},
    {"note", "/incident note <text>"},
    {"mark", "/incident mark <began|detected|acknowledged|mitigated|resolved> [HH:MM|YYYY-MM-DD HH:MM]"},
    {"summary", "/incident summary <text>"},
    {"impact", "/incident impact <text>"},
    {"why", "/incident why <text>"},
    {"factor", "/incident factor <people|process|technology|external> <text>"},
    {"learned", "/incident learned <helped|slowed|different|knowledge> <text>"},
    {"action add", "/incident action add <text> @owner [due:YYYY-MM-DD|due:+3d|due:+2w] [kind:fix|process|detection|mitigation]"},
    {"action list", "/incident action list"},
    {"action done", "/incident action done <id>"},
    {"action reopen", "/incident action reopen <id>"},
    {"action snooze", "/incident action snooze <id> <duration>"},
    {"action reassign", "/incident action reassign <id> @user"},
    {"action drop", "/incident action drop <id>"},
    {"action held", "/incident action held <id> <yes|no|not-sure>"},
    {"nudge", "/incident nudge <snooze <duration>|stop|resume> [INC-n]"},
    {"resolve", "/incident resolve [text]"},
    {"timeline", "/incident timeline [n]"},
    {"postmortem", "/incident postmortem"},
    {"review", "/incident review <YYYY-MM-DD HH:MM>"},
    {"stats", "/incident stats [days]"},
    {"help", "/incident help [command]"},
}};

// What `/incident help <topic>` adds below the usage.
struct topic_help {
  std::string_view name;
  std::string_view about;
  std::string_view example;
};

constexpr std::array<topic_help, 21> topics{{
    {"start",
     "Declares an incident and starts its timeline. The severity can go anywhere in the line but usually comes last; "
     "without one the team's default applies. `service:NAME` tags the affected service, so repeats can be found.",
     "/incident start Checkout errors after deploy sev2 service:payments"},
    {"sev", "Changes the severity; the timeline records the change. `severity` works too, and `sev 2` means sev2.",
     "/incident sev sev1"},
    {"role",
     "Takes a role yourself, or hands it to someone (a mention, or a plain user name); the hand-off goes on the timeline.",
     "/incident role scribe @alex"},
    {"roles", "Shows who holds each role, and which are still open.", "/incident roles"},
    {"status",
     "Says where the response stands: investigating (looking for the cause), identified (the cause is known), "
     "monitoring (a fix is in place, watching) or resolved.",
     "/incident status identified"},
    {"update", "Posts a status update for everyone following, and resets the commander's update reminder.",
     "/incident update Rolled back to 4.2.1; errors are falling"},
    {"note", "Adds a key event to the timeline. A 📌 reaction on a message does the same.",
     "/incident note Failover to the replica started"},
    {"mark",
     "Records when a milestone happened; without a time it is now. A time is `14:05` (today, in your time zone), "
     "`2026-11-20 14:05` or ISO 8601, and it cannot be in the future. `ack` is short for acknowledged.\n"
     "Milestones: began = impact started; detected = someone or something noticed; acknowledged = a responder took it on; "
     "mitigated = the impact stopped; resolved = fully fixed.\n"
     "Metrics: time to detect = detected − began; time to acknowledge, to mitigate and to resolve are measured from detected.",
     "/incident mark began 13:40"},
    {"summary", "Sets the postmortem's summary: what happened, in a few sentences. A new summary replaces the old one.",
     "/incident summary Checkout failed for 40 minutes after a config change"},
    {"impact", "Sets the impact: who and what was affected, how badly and for how long. A new one replaces the old one.",
     "/incident impact About 12% of orders failed between 10:05 and 10:45"},
    {"why",
     "Adds the next of the five whys: ask why the previous answer was possible. Look for conditions in the system, "
     "not for a person to blame.",
     "/incident why The deploy pipeline has no canary stage"},
    {"factor",
     "Records a contributing factor. Describe conditions, not culprits: \"the runbook had no rollback step\" "
     "rather than \"Sam forgot to roll back\".",
     "/incident factor process The runbook had no rollback step"},
    {"learned",
     "Records a lesson: what helped, what slowed us down, what we would do differently, or what we know now. "
     "`lesson` works too.",
     "/incident learned helped The dashboard link in the alert saved ten minutes"},
    {"action",
     "Every action needs an owner (the last mention) and gets a due date (the default when you give none); the owner "
     "is reminded until it is done. Kinds: fix (default), process, detection, mitigation; aim for at least one process "
     "action. Ids look like `3`, `#3` or `A3`; durations like `3d`, `1w`, `4h`, `90m`. `actions` is short for `action list`.",
     "/incident action add Add a canary stage to the deploy pipeline @sam due:+2w kind:process"},
    {"resolve",
     "Resolves the incident, with an optional closing note. Then schedule the review with `/incident review`.",
     "/incident resolve Error rate back to normal for 30 minutes"},
    {"timeline", "Shows the last n entries of the timeline (default 20, up to 500).", "/incident timeline 50"},
    {"postmortem",
     "Writes the postmortem document from everything recorded so far (Markdown, also JSON and HTML). Empty sections "
     "say which command fills them; run it again at any time.",
     "/incident postmortem"},
    {"review",
     "Schedules the postmortem review, in your time zone (ISO 8601 works too); it must be in the future. "
     "Hold it soon, while memories are fresh.",
     "/incident review 2026-11-23 14:00"},
    {"stats",
     "Shows the team's numbers over the last days (default 30, up to 3650; `90d` works too): time to detect, "
     "acknowledge, mitigate and resolve, repeat incidents, and actions closed on time.",
     "/incident stats 90"},
    {"nudge",
     "While an incident is open, its commander gets a direct message when no `/incident update` came for a while "
     "(15 minutes for sev1 up to 4 hours for sev4). `snooze` quiets it for a while, `stop` ends it for this "
     "incident, `resume` brings it back. From a DM, name the incident: `INC-7`.",
     "/incident nudge snooze 30m"},
    {"help", "Lists the commands, or explains one of them.", "/incident help action"},
}};

struct alias {
  std::string_view word;
  std::string_view topic;
};

constexpr std::array<alias, 4> aliases{
    {{"severity", "sev"}, {"lesson", "learned"}, {"actions", "action"}, {"nudges", "nudge"}}};

constexpr std::array<severity, 5> all_severities{severity::sev1, severity::sev2, severity::sev3, severity::sev4,
                                                 severity::near_miss};
constexpr std::array<role, role_count> all_roles{role::commander, role::scribe, role::facilitator};

std::string severity_lines() {
  std::string out;
  for (severity s : all_severities) out += "- " + std::string{name(s)} + " — " + std::string{describe(s)} + "\n";
  return out;
}

// Optimal string alignment distance: Levenshtein plus adjacent swaps ("strat" -> "start" is 1).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1, 0));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

// A word from the user, safe to show between backticks: at most 40 bytes (cut on a character
// boundary), backticks replaced.
std::string quoted(std::string_view s) {
  constexpr std::size_t limit = 40;
  bool cut = false;
  if (s.size() > limit) {
    std::size_t n = limit;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0u) == 0x80u) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = "`";
  for (char c : s) out += c == '`' ? '\'' : c;
  if (cut) out += "…";
  out += '`';
  return out;
}

// The closest candidate by edit distance, or one that the word begins (3 letters or more); empty if none is close.
std::string_view closest_word(std::string_view word, const std::vector<std::string_view>& candidates) {
  if (word.empty() || word.size() > 32) return {};
  std::string_view best;
  std::size_t best_distance = (word.size() <= 4 ? 1 : 2) + 1;  // farther than this is no suggestion
  for (std::string_view c : candidates) {
    const std::size_t dist = edit_distance(word, c);
    if (dist < best_distance) {
      best = c;
      best_distance = dist;
    }
  }
  if (!best.empty()) return best;
  if (word.size() >= 3) {
    for (std::string_view c : candidates)
      if (c.size() > word.size() && c.starts_with(word)) return c;
  }
  return {};
}

// "sev", "severity", "SEV" -> "sev"; empty for anything that is not a subcommand.
std::string_view canonical_topic(std::string_view word) {
  for (const topic_help& t : topics)
    if (iequals(word, t.name)) return t.name;
  for (const alias& a : aliases)
    if (iequals(word, a.word)) return a.topic;
  return {};
}

std::string usage_of(std::string_view key) {
  std::string out;
  const bool whole_action = key == "action";
  for (const usage_line& u : usage_lines) {
    if (u.key == key || (whole_action && u.key.starts_with("action "))) {
      if (!out.empty()) out += '\n';
      out += "`" + std::string{u.line} + "`";
    }
  }
  if (out.empty()) return overview_text();
  return out;
}

std::string overview_text() {
  std::string out =
      "kintsugi helps your team run an incident and learn from it, blamelessly. "
      "Every command starts with `/incident`; `/incident help <command>` explains one.\n";
  for (const section_title& s : sections) {
    out += "\n" + std::string{s.title} + "\n";
    for (const overview_line& l : overview_lines)
      if (l.part == s.which) out += "- `" + std::string{l.synopsis} + "` — " + std::string{l.purpose} + "\n";
  }
  out += "\nSeverities\n" + severity_lines();
  out +=
      "\nShort forms: `severity` = `sev`, `lesson` = `learned`, `actions` = `action list`, `ack` = acknowledged, "
      "`near_miss` = near-miss.";
  return out;
}

}  // namespace detail::grammar

std::string help_text(std::string_view topic) {
  using namespace detail::grammar;
  using detail::ascii::iequals;
  using detail::ascii::to_lower;
  // The first word of the topic: "action add" -> "action", "/incident start" -> "start".
  std::vector<std::string_view> words = detail::ascii::words(topic);
  if (!words.empty() && iequals(words.front(), "/incident")) words.erase(words.begin());
  if (words.empty()) return overview_text();

  const std::string_view word = words.front();
  const std::string_view canonical = canonical_topic(word);
  if (canonical.empty()) {
    std::vector<std::string_view> names;
    for (const topic_help& t : topics) names.push_back(t.name);
    std::string out = "No help for " + quoted(word) + ".";
    if (const std::string_view guess = closest_word(to_lower(word), names); !guess.empty())
      out += " Did you mean `" + std::string{guess} + "`?";
    return out + "\n\n" + overview_text();
  }

  const auto it = std::find_if(topics.begin(), topics.end(), [&](const topic_help& t) { return t.name == canonical; });
  std::string out = "Usage:\n" + usage_of(canonical) + "\n\n" + std::string{it->about} + "\n";
  if (canonical == "start" || canonical == "sev") out += "\nSeverities\n" + severity_lines();
  if (canonical == "role" || canonical == "roles") {
    out += "\nRoles\n";
    for (role r : all_roles) out += "- " + std::string{name(r)} + " — " + std::string{describe(r)} + "\n";
  }
  out += "\nExample: `" + std::string{it->example} + "`";
  return out;
}

}  // namespace kintsugi::core
