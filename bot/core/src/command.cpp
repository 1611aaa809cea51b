// The /incident command parser: text -> typed command, or a kind error with the usage line.
// The help texts and the usage lines live in help.cpp (namespace detail::grammar).
#include "core/command.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <exception>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "grammar.hpp"
#include "text_util.hpp"

namespace kintsugi::core {
namespace {

namespace grammar = detail::grammar;
using grammar::quoted;
using detail::ascii::all_digits;
using detail::ascii::iequals;
using detail::ascii::is_alnum;
using detail::ascii::is_digit;
using detail::ascii::is_space;
using detail::ascii::to_lower;

constexpr std::string_view replacement_char = "\xEF\xBF\xBD";  // U+FFFD

// ---- text ---------------------------------------------------------------------------------------

// Valid UTF-8 without control characters (tab, newline and carriage return stay): invalid bytes
// become U+FFFD, NUL and the rest of C0 and DEL are dropped. Everything downstream (JSON, SQLite,
// Markdown) can then take the text as it is.
std::string clean_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (c >= 0x20 ? c != 0x7F : (c == '\t' || c == '\n' || c == '\r')) out += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    }
    bool ok = len != 0 && n - i >= len;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(in[i + k]);
      if ((cc & 0xC0u) != 0x80u) ok = false;
      else cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (ok && len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok && len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ok = false;
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out.append(replacement_char);
      ++i;
    }
  }
  return out;
}

// Bytes of whitespace at s[i]: ASCII blanks and U+00A0 (phones type it). 0 if none.
std::size_t space_at(std::string_view s, std::size_t i) {
  const char c = s[i];
  if (is_space(c)) return 1;
  if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') return 2;
  return 0;
}

std::string_view trim(std::string_view s) {
  std::size_t b = 0;
  while (b < s.size()) {
    const std::size_t w = space_at(s, b);
    if (w == 0) break;
    b += w;
  }
  std::size_t e = s.size();
  while (e > b) {
    const char c = s[e - 1];
    if (is_space(c)) --e;
    else if (e - b >= 2 && c == '\xA0' && s[e - 2] == '\xC2') e -= 2;
    else break;
  }
  return s.substr(b, e - b);
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// A user name as people type it on a console or in Mattermost: [A-Za-z0-9._-]+, starting with a
// letter, digit or underscore.
bool is_username(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(is_alnum(s.front()) || s.front() == '_')) return false;
  for (char c : s)
    if (!(is_alnum(c) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

// @here, @channel, @all, @everyone address a crowd, not an owner.
bool is_group_mention(std::string_view s) {
  return iequals(s, "here") || iequals(s, "channel") || iequals(s, "all") || iequals(s, "everyone");
}

// A number made of digits only, within [lo, hi].
std::optional<long long> parse_count(std::string_view s, long long lo, long long hi) {
  if (!all_digits(s) || s.size() > 12) return std::nullopt;
  long long v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || v < lo || v > hi) return std::nullopt;
  return v;
}

// "3", "#3", "A3", "a3".
std::optional<id_t> parse_id(std::string_view s) {
  if (!s.empty() && (s.front() == '#' || s.front() == 'A' || s.front() == 'a')) s.remove_prefix(1);
  if (!all_digits(s)) return std::nullopt;
  id_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

// ---- dates in the user's zone -------------------------------------------------------------------

date local_today(timestamp now, std::string_view tz) {
  if (!tz.empty()) {
    try {
      const ::date::time_zone* zone = ::date::locate_zone(std::string{tz});
      const auto local = zone->to_local(now);
      const auto day = std::chrono::floor<std::chrono::days>(local.time_since_epoch());
      return date{std::chrono::sys_days{day}};
    } catch (const std::exception&) {
      // Unknown zone: UTC, as parse_user_time does.
    }
  }
  return date_of(now);
}

date add_days(date d, long long n) { return date{std::chrono::sys_days{d} + std::chrono::days{n}}; }

// ---- keywords -----------------------------------------------------------------------------------

constexpr std::string_view severity_choices = "Use sev1, sev2, sev3, sev4 or near-miss.";
constexpr std::string_view role_choices = "Use commander, scribe or facilitator.";
constexpr std::string_view status_choices = "Use investigating, identified, monitoring or resolved.";
constexpr std::string_view milestone_choices = "Use began, detected, acknowledged, mitigated or resolved.";
constexpr std::string_view factor_choices = "Use people, process, technology or external.";
constexpr std::string_view lesson_choices = "Use helped, slowed, different or knowledge.";
constexpr std::string_view kind_choices = "Use fix, process, detection or mitigation.";
constexpr std::string_view action_verb_choices = "Use add, list, done, reopen, snooze, reassign, drop or held.";

// Exactly a severity name (or a near-miss spelling): what `start` may take out of a title.
std::optional<severity> severity_word(std::string_view s) {
  if (iequals(s, "near_miss") || iequals(s, "nearmiss")) return severity::near_miss;
  return parse_severity(s);
}

// `sev` also takes a bare level: "sev 2".
std::optional<severity> severity_arg(std::string_view s) {
  if (s.size() == 1 && s[0] >= '1' && s[0] <= '4') return static_cast<severity>(s[0] - '1');
  return severity_word(s);
}

std::optional<milestone> milestone_arg(std::string_view s) {
  if (iequals(s, "ack")) return milestone::acknowledged;
  return parse_milestone(s);
}

// "sev5", "SEV0": looks like a severity but is not one.
bool looks_like_severity(std::string_view s) { return s.size() > 3 && starts_with_ci(s, "sev") && all_digits(s.substr(3)); }

// "9:05" -> "09:05": parse_user_time wants two-digit hours.
std::string pad_clock(std::string s) {
  if (s.size() == 4 && is_digit(s[0]) && s[1] == ':' && is_digit(s[2]) && is_digit(s[3])) s.insert(0, "0");
  return s;
}

bool is_clock(std::string_view s) {
  return s.size() == 5 && is_digit(s[0]) && is_digit(s[1]) && s[2] == ':' && is_digit(s[3]) && is_digit(s[4]);
}

// ---- the parser ---------------------------------------------------------------------------------

struct token {
  std::string_view text;
  std::size_t begin = 0;
  std::size_t end = 0;
};

std::vector<token> tokenize(std::string_view s) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t w = space_at(s, i);
    if (w != 0) {
      i += w;
      continue;
    }
    const std::size_t b = i;
    while (i < s.size() && space_at(s, i) == 0) ++i;
    out.push_back({s.substr(b, i - b), b, i});
  }
  return out;
}

parse_result success(command c) {
  parse_result r;
  r.cmd = std::move(c);
  return r;
}

parse_result failure(std::string message, std::string usage) {
  parse_result r;
  r.error = parse_error{std::move(message), std::move(usage)};
  return r;
}

class parser {
 public:
  parser(std::string text, const parse_context& ctx) : text_{std::move(text)}, ctx_{ctx} {
    tokens_ = tokenize(text_);
  }

  parse_result run();

 private:
  std::size_t nargs() const { return tokens_.size() - base_; }
  std::string_view arg(std::size_t i) const { return tokens_[base_ + i].text; }

  // Everything from argument i on, as typed (inner spacing and newlines kept), trimmed.
  std::string rest(std::size_t i) const {
    if (i >= nargs()) return {};
    const std::size_t b = tokens_[base_ + i].begin;
    return std::string{trim(std::string_view{text_}.substr(b, tokens_.back().end - b))};
  }

  // Arguments from i on, joined by single spaces (for times: "2026-11-20   14:05" reads fine).
  std::string joined(std::size_t i) const {
    std::string out;
    for (std::size_t k = i; k < nargs(); ++k) {
      if (!out.empty()) out += ' ';
      out.append(arg(k));
    }
    return out;
  }

  // Arguments from i on without the dropped ones, with the spacing that preceded each kept word.
  std::string kept(std::size_t i, const std::vector<bool>& dropped) const {
    std::string out;
    for (std::size_t k = i; k < nargs(); ++k) {
      if (dropped[k]) continue;
      const token& t = tokens_[base_ + k];
      if (!out.empty()) {
        const std::size_t gap = tokens_[base_ + k - 1].end;
        out.append(std::string_view{text_}.substr(gap, t.begin - gap));
      }
      out.append(t.text);
    }
    return out;
  }

  parse_result fail(std::string_view usage_key, std::string message) const {
    return failure(std::move(message), grammar::usage_of(usage_key));
  }

  // A user named by a mention, "me", or (when bare_ok) a plain user name.
  std::optional<std::string> user_arg(std::string_view s, bool bare_ok) const {
    if (auto m = parse_mention(s, ctx_.user)) return m;
    if (bare_ok && is_username(s) && !is_group_mention(s)) return std::string{s};
    return std::nullopt;
  }

  std::string not_a_user(std::string_view s) const {
    if (iequals(s, "me") || iequals(s, "@me")) return "I could not tell who you are here. Name the person, like `@sam`.";
    return quoted(s) + " is not a user I can name. Mention them, like `@sam`, or use `me`.";
  }

  std::string example_review_time() const { return format_date(add_days(local_today(ctx_.now, ctx_.tz), 2)) + " 14:00"; }

  parse_result text_command(std::string_view key, std::string_view example, command (*make)(std::string));
  parse_result help(std::size_t from) const;
  parse_result unknown(std::string_view word) const;
  parse_result start();
  parse_result sev();
  parse_result role_cmd();
  parse_result roles();
  parse_result status();
  parse_result mark();
  parse_result factor();
  parse_result learned();
  parse_result action(bool list_when_bare);
  parse_result action_add();
  std::optional<parse_result> bad_id(std::string_view verb, std::optional<id_t>& id);
  parse_result resolve();
  parse_result timeline();
  parse_result postmortem();
  parse_result review();
  parse_result stats();
  parse_result nudge();

  std::string text_;
  const parse_context& ctx_;
  std::vector<token> tokens_;
  std::size_t base_ = 0;  // the first argument of the subcommand being parsed
};

parse_result parser::run() {
  std::size_t first = 0;
  if (!tokens_.empty() && iequals(tokens_[0].text, "/incident")) first = 1;
  if (first >= tokens_.size()) return success(cmd::help{});
  const std::string word = to_lower(tokens_[first].text);
  base_ = first + 1;
  if (word == "help" || word == "--help" || word == "-h" || word == "?") return help(0);

  const std::string_view sub = grammar::canonical_topic(word);
  if (sub.empty()) return unknown(tokens_[first].text);
  if (nargs() == 1 && (arg(0) == "--help" || arg(0) == "-h")) return success(cmd::help{std::string{sub}});

  if (sub == "start") return start();
  if (sub == "sev") return sev();
  if (sub == "role") return role_cmd();
  if (sub == "roles") return roles();
  if (sub == "status") return status();
  if (sub == "update")
    return text_command(sub, "/incident update Rolled back to 4.2.1; errors are falling",
                        [](std::string t) -> command { return cmd::update{std::move(t)}; });
  if (sub == "note")
    return text_command(sub, "/incident note Failover to the replica started",
                        [](std::string t) -> command { return cmd::note{std::move(t)}; });
  if (sub == "mark") return mark();
  if (sub == "summary")
    return text_command(sub, "/incident summary Checkout failed for 40 minutes after a config change",
                        [](std::string t) -> command { return cmd::summary{std::move(t)}; });
  if (sub == "impact")
    return text_command(sub, "/incident impact About 12% of orders failed between 10:05 and 10:45",
                        [](std::string t) -> command { return cmd::impact{std::move(t)}; });
  if (sub == "why")
    return text_command(sub, "/incident why The deploy pipeline has no canary stage",
                        [](std::string t) -> command { return cmd::add_why{std::move(t)}; });
  if (sub == "factor") return factor();
  if (sub == "learned") return learned();
  if (sub == "action") return action(word == "actions");
  if (sub == "resolve") return resolve();
  if (sub == "timeline") return timeline();
  if (sub == "postmortem") return postmortem();
  if (sub == "review") return review();
  if (sub == "stats") return stats();
  if (sub == "nudge") return nudge();
  return unknown(tokens_[first].text);  // a topic without a parser: cannot happen, but stay kind
}

parse_result parser::help(std::size_t from) const {
  if (from >= nargs()) return success(cmd::help{});
  const std::string_view topic = grammar::canonical_topic(to_lower(arg(from)));
  return success(cmd::help{topic.empty() ? std::string{arg(from)} : std::string{topic}});
}

parse_result parser::unknown(std::string_view word) const {
  static const std::vector<std::string_view> subcommands{
      "start",  "sev",    "severity", "role",    "roles",   "status", "update",  "note",     "mark",
      "summary", "impact", "why",     "factor",  "learned", "lesson", "action",  "actions",  "resolve",
      "timeline", "postmortem", "review", "stats", "nudge", "help"};
  const std::string_view guess = grammar::closest_word(to_lower(word), subcommands);
  std::string message = "Unknown subcommand " + quoted(word) + ".";
  if (!guess.empty()) message += " Did you mean `" + std::string{guess} + "`?";
  else message += " Pick one below; to declare an incident, use `/incident start <title>`.";
  return failure(std::move(message), grammar::overview_text());
}

parse_result parser::text_command(std::string_view key, std::string_view example, command (*make)(std::string)) {
  std::string text = rest(0);
  if (text.empty()) return fail(key, "Add the text after `" + std::string{key} + "`, like `" + std::string{example} + "`.");
  return success(make(std::move(text)));
}

parse_result parser::start() {
  if (nargs() == 0) return fail("start", "Give the incident a title, like `/incident start Checkout errors sev2`.");
  std::vector<bool> dropped(nargs(), false);
  cmd::start out;
  // The severity is normally last; take the last word that is exactly one.
  for (std::size_t k = nargs(); k-- > 0;) {
    if (auto level = severity_word(arg(k))) {
      out.level = level;
      dropped[k] = true;
      break;
    }
  }
  bool have_service = false;
  for (std::size_t k = 0; k < nargs(); ++k) {
    if (dropped[k]) continue;
    const std::string_view w = arg(k);
    if (looks_like_severity(w) && !severity_word(w)) return fail("start", quoted(w) + " is not a severity. " + std::string{severity_choices});
    if (!starts_with_ci(w, "service:")) continue;
    const std::string_view service = w.substr(8);
    if (service.empty()) return fail("start", "`service:` needs a name, like `service:payments`.");
    if (have_service) return fail("start", "Give one service, like `service:payments`.");
    have_service = true;
    out.service = std::string{service};
    dropped[k] = true;
  }
  out.title = kept(0, dropped);
  if (out.title.empty())
    return fail("start", "Give the incident a title as well, like `/incident start Checkout errors sev2`.");
  return success(std::move(out));
}

parse_result parser::sev() {
  if (nargs() == 0) return fail("sev", "Which severity? " + std::string{severity_choices});
  const auto level = severity_arg(arg(0));
  if (!level) return fail("sev", quoted(arg(0)) + " is not a severity. " + std::string{severity_choices});
  if (nargs() > 1) return fail("sev", "Give just the level, like `/incident sev sev2`.");
  return success(cmd::set_severity{*level});
}

parse_result parser::role_cmd() {
  if (nargs() == 0) return fail("role", "Which role? " + std::string{role_choices});
  std::size_t role_at = 0;
  auto which = parse_role(arg(0));
  if (!which && nargs() == 2 && parse_role(arg(1))) {  // "role @sam commander"
    role_at = 1;
    which = parse_role(arg(1));
  }
  if (!which) return fail("role", quoted(arg(0)) + " is not a role. " + std::string{role_choices});
  if (nargs() > 2) return fail("role", "Name one person, like `@sam`, or use `me`.");
  std::string user;
  if (nargs() == 1) {
    if (ctx_.user.empty()) return fail("role", "I could not tell who you are here. Name the person, like `@sam`.");
    user = ctx_.user;
  } else {
    const std::string_view who = arg(1 - role_at);
    auto u = user_arg(who, true);
    if (!u) return fail("role", not_a_user(who));
    user = std::move(*u);
  }
  return success(cmd::take_role{*which, std::move(user)});
}

parse_result parser::roles() {
  if (nargs() > 0) return fail("roles", "`roles` needs nothing after it: just `/incident roles`.");
  return success(cmd::list_roles{});
}

parse_result parser::status() {
  if (nargs() == 0) return fail("status", "Which status? " + std::string{status_choices});
  const auto s = parse_status(arg(0));
  if (!s) return fail("status", quoted(arg(0)) + " is not a status. " + std::string{status_choices});
  if (nargs() > 1)
    return fail("status", "Give just the status, like `/incident status identified`; use `update` for the details.");
  return success(cmd::set_status{*s});
}

parse_result parser::mark() {
  if (nargs() == 0) return fail("mark", "Which milestone? " + std::string{milestone_choices});
  const auto which = milestone_arg(arg(0));
  if (!which) return fail("mark", quoted(arg(0)) + " is not a milestone. " + std::string{milestone_choices});
  const std::string when = pad_clock(joined(1));
  if (when.empty() || iequals(when, "now")) return success(cmd::mark{*which, ctx_.now});
  const auto at = parse_user_time(when, ctx_.now, ctx_.tz);
  if (!at)
    return fail("mark", quoted(when) + " is not a time I can read. Use `14:05`, `2026-11-20 14:05` or ISO 8601.");
  if (*at > ctx_.now + std::chrono::minutes{1}) {
    if (is_clock(when)) {
      const std::string yesterday = format_date(add_days(local_today(ctx_.now, ctx_.tz), -1));
      return fail("mark", quoted(when) + " today has not come yet. For an earlier day, give the date too, like `" +
                              yesterday + " " + when + "`.");
    }
    return fail("mark", quoted(when) + " is in the future. Mark a milestone once it has happened.");
  }
  return success(cmd::mark{*which, *at});
}

parse_result parser::factor() {
  if (nargs() == 0) return fail("factor", "Which kind of factor? " + std::string{factor_choices});
  const auto kind = parse_factor_kind(arg(0));
  if (!kind) return fail("factor", quoted(arg(0)) + " is not a kind of factor. " + std::string{factor_choices});
  std::string text = rest(1);
  if (text.empty())
    return fail("factor", "Describe the factor after its kind, like `/incident factor process The runbook had no rollback step`.");
  return success(cmd::add_factor{*kind, std::move(text)});
}

parse_result parser::learned() {
  if (nargs() == 0) return fail("learned", "Which kind of lesson? " + std::string{lesson_choices});
  const auto kind = parse_lesson_kind(arg(0));
  if (!kind) return fail("learned", quoted(arg(0)) + " is not a kind of lesson. " + std::string{lesson_choices});
  std::string text = rest(1);
  if (text.empty())
    return fail("learned", "Describe the lesson after its kind, like `/incident learned helped The dashboard link in the alert`.");
  return success(cmd::add_lesson{*kind, std::move(text)});
}

parse_result parser::action(bool list_when_bare) {
  if (nargs() == 0) {
    if (list_when_bare) return success(cmd::action_list{});
    return fail("action", "Which action command? " + std::string{action_verb_choices});
  }
  const std::string verb = to_lower(arg(0));
  const std::string_view shown = arg(0);
  ++base_;  // from here on, arguments follow the verb
  if (verb == "add") return action_add();
  if (verb == "list") {
    if (nargs() > 0) return fail("action list", "`action list` needs nothing after it: just `/incident action list`.");
    return success(cmd::action_list{});
  }
  if (verb == "done" || verb == "reopen" || verb == "drop") {
    std::optional<id_t> id;
    if (auto err = bad_id(verb, id)) return std::move(*err);
    if (nargs() > 1)
      return fail("action " + verb, "One action at a time, like `/incident action " + verb + " 3`.");
    if (verb == "done") return success(cmd::action_done{*id});
    if (verb == "reopen") return success(cmd::action_reopen{*id});
    return success(cmd::action_drop{*id});
  }
  if (verb == "snooze") {
    std::optional<id_t> id;
    if (auto err = bad_id(verb, id)) return std::move(*err);
    if (nargs() < 2) return fail("action snooze", "How long? Give a duration, like `/incident action snooze 3 1w`.");
    const std::string text = joined(1);
    const auto by = parse_duration(text);
    if (!by)
      return fail("action snooze",
                  quoted(text) + " is not a duration. Use a number and a unit, like `3d`, `1w`, `4h` or `90m`.");
    return success(cmd::action_snooze{*id, *by});
  }
  if (verb == "reassign") {
    std::optional<id_t> id;
    if (auto err = bad_id(verb, id)) return std::move(*err);
    if (nargs() < 2)
      return fail("action reassign", "Who takes it over? Mention them, like `/incident action reassign 3 @sam`.");
    if (nargs() > 2) return fail("action reassign", "Name one person, like `@sam`, or use `me`.");
    auto user = user_arg(arg(1), true);
    if (!user) return fail("action reassign", not_a_user(arg(1)));
    return success(cmd::action_reassign{*id, std::move(*user)});
  }
  if (verb == "held") {
    std::optional<id_t> id;
    if (auto err = bad_id(verb, id)) return std::move(*err);
    if (nargs() != 2)
      return fail("action held", "Did the fix hold? Answer with yes, no or not-sure, like `/incident action held 3 yes`.");
    const auto answer = parse_fix_check(arg(1));
    if (!answer)
      return fail("action held", quoted(arg(1)) + " is not an answer I know. Use yes, no (it regressed) or not-sure.");
    return success(cmd::action_held{*id, *answer});
  }
  static const std::vector<std::string_view> verbs{"add", "list", "done", "reopen", "snooze", "reassign", "drop", "held"};
  const std::string_view guess = grammar::closest_word(verb, verbs);
  std::string message = "Unknown action command " + quoted(shown) + ".";
  if (!guess.empty()) message += " Did you mean `" + std::string{guess} + "`?";
  else message += " To add one, start with `add`: `/incident action add <text> @owner`.";
  return fail("action", std::move(message));
}

// Reads the id that follows an action verb into `id`; the error when it is missing or not a number.
std::optional<parse_result> parser::bad_id(std::string_view verb, std::optional<id_t>& id) {
  const std::string key = "action " + std::string{verb};
  if (nargs() == 0) return fail(key, "Which action? Give its id, like `/incident " + key + " 3`" +
                                         (verb == "snooze" ? std::string{" 1w"} : verb == "reassign" ? " @sam" : "") + ".");
  id = parse_id(arg(0));
  if (!id) return fail(key, quoted(arg(0)) + " is not an action id. Action ids are numbers, like `3`.");
  return std::nullopt;
}

parse_result parser::action_add() {
  constexpr std::string_view example = "`/incident action add Add a canary stage to deploys @sam due:+2w kind:process`";
  if (nargs() == 0) return fail("action add", "Describe the action and name its owner, like " + std::string{example} + ".");
  std::vector<bool> dropped(nargs(), false);
  cmd::action_add out;
  bool have_due = false;
  bool have_kind = false;
  const date today = local_today(ctx_.now, ctx_.tz);
  for (std::size_t k = 0; k < nargs(); ++k) {
    const std::string_view w = arg(k);
    if (starts_with_ci(w, "due:")) {
      if (have_due) return fail("action add", "Give one due date, like `due:2026-12-01` or `due:+2w`.");
      have_due = true;
      dropped[k] = true;
      std::string_view v = w.substr(4);
      if (v.empty()) return fail("action add", "`due:` needs a date, like `due:2026-12-01`, `due:+3d` or `due:+2w`.");
      const bool relative = v.front() == '+' || (v.size() >= 2 && all_digits(v.substr(0, v.size() - 1)));
      if (relative) {
        if (v.front() == '+') v.remove_prefix(1);
        const char unit = v.empty() ? '\0' : static_cast<char>(v.back() | 0x20);
        const auto n = v.size() >= 2 && (unit == 'd' || unit == 'w')
                           ? parse_count(v.substr(0, v.size() - 1), 1, unit == 'w' ? 522 : 3650)
                           : std::nullopt;
        if (!n)
          return fail("action add", quoted(w) + " is not a due date I can read. Use `due:+3d` or `due:+2w` (up to ten years), or a date like `due:" +
                                        format_date(add_days(today, 14)) + "`.");
        out.due = add_days(today, unit == 'w' ? *n * 7 : *n);
      } else {
        const auto d = parse_date(v);
        if (!d || !d->ok())
          return fail("action add", quoted(w) + " is not a real date. Use `due:YYYY-MM-DD`, like `due:" +
                                        format_date(add_days(today, 14)) + "`, or `due:+2w`.");
        if (*d < today)
          return fail("action add", quoted(w) + " is in the past. Pick today or a later date, like `due:" +
                                        format_date(add_days(today, 14)) + "`.");
        out.due = *d;
      }
    } else if (starts_with_ci(w, "kind:")) {
      if (have_kind) return fail("action add", "Give one kind, like `kind:process`.");
      have_kind = true;
      dropped[k] = true;
      const auto kind = parse_action_kind(w.substr(5));
      if (!kind) return fail("action add", quoted(w) + " is not an action kind. " + std::string{kind_choices});
      out.kind = *kind;
    }
  }
  // The owner is the last mention.
  bool have_owner = false;
  for (std::size_t k = nargs(); k-- > 0;) {
    if (dropped[k]) continue;
    const std::string_view w = arg(k);
    if (w.front() != '@' && !w.starts_with("<@")) continue;
    if (auto owner = parse_mention(w, ctx_.user)) {
      out.owner = std::move(*owner);
      dropped[k] = true;
      have_owner = true;
      break;
    }
  }
  if (!have_owner)
    return fail("action add", "Every action needs an owner, so it gets done: add a mention, like `@sam`, or `@me`.");
  out.text = kept(0, dropped);
  if (out.text.empty()) return fail("action add", "Say what the action is, like " + std::string{example} + ".");
  return success(std::move(out));
}

parse_result parser::resolve() { return success(cmd::resolve{rest(0)}); }

parse_result parser::timeline() {
  if (nargs() == 0) return success(cmd::show_timeline{});
  const auto n = parse_count(arg(0), 1, 500);
  if (!n || nargs() > 1)
    return fail("timeline", quoted(joined(0)) + " is not a number of entries. Give one from 1 to 500, like `/incident timeline 50`.");
  return success(cmd::show_timeline{static_cast<std::size_t>(*n)});
}

parse_result parser::postmortem() {
  if (nargs() > 0) return fail("postmortem", "`postmortem` needs nothing after it: just `/incident postmortem`.");
  return success(cmd::postmortem{});
}

parse_result parser::review() {
  const std::string example = "`/incident review " + example_review_time() + "`";
  if (nargs() == 0) return fail("review", "When should the review be? Give a date and time, like " + example + ".");
  const std::string when = pad_clock(joined(0));
  const auto at = parse_user_time(when, ctx_.now, ctx_.tz);
  if (!at) return fail("review", quoted(when) + " is not a time I can read. Use `YYYY-MM-DD HH:MM`, like " + example + ".");
  if (*at <= ctx_.now) return fail("review", quoted(when) + " has already passed. Pick a time ahead, like " + example + ".");
  return success(cmd::review{*at});
}

// nudge snooze <duration> [INC-n] | nudge stop [INC-n] | nudge resume [INC-n]
parse_result parser::nudge() {
  constexpr std::string_view choices = "Use `snooze <duration>`, `stop` or `resume`, like `/incident nudge snooze 30m`.";
  if (nargs() == 0) return fail("nudge", "What about the update nudges? " + std::string{choices});
  cmd::nudge out;
  const std::string verb = to_lower(arg(0));
  std::size_t used = 1;
  if (verb == "snooze") {
    if (nargs() < 2) return fail("nudge", "How long? Give a duration, like `/incident nudge snooze 30m`.");
    const auto by = parse_duration(arg(1));
    if (!by) return fail("nudge", quoted(arg(1)) + " is not a duration. Use a number and a unit, like `30m`, `2h` or `1d`.");
    out.by = *by;
    used = 2;
  } else if (verb == "stop" || verb == "off") {
    out.verb = cmd::nudge::what::stop;
  } else if (verb == "resume" || verb == "on" || verb == "start") {
    out.verb = cmd::nudge::what::resume;
  } else {
    return fail("nudge", quoted(arg(0)) + " is not something nudges do. " + std::string{choices});
  }
  if (nargs() > used) {
    std::string_view ref = arg(used);
    if (ref.size() > 4 && iequals(ref.substr(0, 4), "INC-")) ref.remove_prefix(4);
    const auto id = parse_id(ref);
    if (!id || nargs() > used + 1)
      return fail("nudge", quoted(joined(used)) + " is not an incident. Name it like `INC-7`, or run this in its channel.");
    out.incident = *id;
  }
  return success(out);
}

parse_result parser::stats() {
  if (nargs() == 0) return success(cmd::stats{});
  std::string_view w = arg(0);
  if (w.size() > 1 && (w.back() == 'd' || w.back() == 'D')) w.remove_suffix(1);  // "90d"
  const auto n = parse_count(w, 1, 3650);
  if (!n || nargs() > 1)
    return fail("stats", quoted(joined(0)) + " is not a number of days. Give one from 1 to 3650, like `/incident stats 90`.");
  return success(cmd::stats{static_cast<int>(*n)});
}

}  // namespace

parse_result parse_command(std::string_view text, const parse_context& ctx) {
  try {
    parser p{clean_utf8(text), ctx};
    return p.run();
  } catch (const std::exception&) {
    // Not expected (out of memory at most); the contract is an error value, never an exception.
    std::string usage;
    try {
      usage = grammar::overview_text();
    } catch (const std::exception&) {
    }
    return failure("Sorry, I could not read that command. Try `/incident help`.", std::move(usage));
  }
}

std::optional<std::string> parse_mention(std::string_view token, std::string_view me) {
  token = trim(token);
  // Trailing punctuation from a sentence: "@sam," "@sam." "<@U1>)".
  while (token.size() > 1 && (token.back() == ',' || token.back() == '.' || token.back() == ';' ||
                              token.back() == ':' || token.back() == '!' || token.back() == '?' || token.back() == ')'))
    token.remove_suffix(1);
  if (iequals(token, "me") || iequals(token, "@me")) {
    if (me.empty()) return std::nullopt;
    return std::string{me};
  }
  if (token.size() > 3 && token.starts_with("<@") && token.back() == '>') {
    std::string_view id = token.substr(2, token.size() - 3);
    id = id.substr(0, id.find('|'));
    if (!id.empty() && id.size() <= 64 &&
        // ':' for ids an adapter prefixes with its platform ("mm:<user id>" from Mattermost).
        std::all_of(id.begin(), id.end(),
                    [](char c) { return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == ':'; }))
      return std::string{id};
    return std::nullopt;
  }
  if (token.size() > 1 && token.front() == '@') {
    const std::string_view name = token.substr(1);
    if (is_username(name) && !is_group_mention(name)) return std::string{name};
  }
  return std::nullopt;
}

}  // namespace kintsugi::core
