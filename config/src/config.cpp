#include "config/config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <tuple>
#include <utility>
#include <variant>

#include <date/tz.h>
#include <nlohmann/json.hpp>

namespace kintsugi::config {
namespace {

// ordered_json keeps the file's key order, so problems come out in the order a reader meets them.
using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------------
// The schema: every key the file may hold, where it lives in the aggregate and what type it has.

using string_target = std::string& (*)(config&);
using bool_target = bool& (*)(config&);
struct int_target {
  int& (*get)(config&);
  int min;
  int max;
};

// A span of time written with units ("5m", "4h", "1h30m"): more than 0 and at most max_span.
using span_target = std::chrono::minutes& (*)(config&);
// Text of a given shape, parsed into typed values ("09:00-18:00" into two times).
struct text_target {
  bool (*store)(config&, std::string_view);  // false: the text is not of the shape and nothing was stored
  std::string_view shape;                    // what it must be, for "must be <shape>, got …"
};

struct field {
  std::string_view section;  // "" at the top level
  std::string_view key;
  std::variant<string_target, bool_target, int_target, span_target, text_target> target;
};

using std::chrono::minutes;
constexpr minutes max_span{7 * 24 * 60};

// clang-format off
const std::array fields{
  field{"", "database", string_target{[](config& c) -> std::string& { return c.database; }}},
  field{"", "log_level", string_target{[](config& c) -> std::string& { return c.log_level; }}},
  field{"incident", "create_channel", bool_target{[](config& c) -> bool& { return c.incident.create_channel; }}},
  field{"incident", "channel_prefix", string_target{[](config& c) -> std::string& { return c.incident.channel_prefix; }}},
  field{"incident", "default_due_days", int_target{[](config& c) -> int& { return c.incident.default_due_days; }, 1, 365}},
  field{"tls", "ca_file", string_target{[](config& c) -> std::string& { return c.tls.ca_file; }}},
  field{"http", "listen", string_target{[](config& c) -> std::string& { return c.http.listen; }}},
  field{"slack", "mode", string_target{[](config& c) -> std::string& { return c.slack.mode; }}},
  field{"slack", "app_token", string_target{[](config& c) -> std::string& { return c.slack.app_token; }}},
  field{"slack", "bot_token", string_target{[](config& c) -> std::string& { return c.slack.bot_token; }}},
  field{"slack", "signing_secret", string_target{[](config& c) -> std::string& { return c.slack.signing_secret; }}},
  field{"slack", "api_base_url", string_target{[](config& c) -> std::string& { return c.slack.api_base_url; }}},
  field{"mattermost", "url", string_target{[](config& c) -> std::string& { return c.mattermost.url; }}},
  field{"mattermost", "token", string_target{[](config& c) -> std::string& { return c.mattermost.token; }}},
  field{"mattermost", "slash_token", string_target{[](config& c) -> std::string& { return c.mattermost.slash_token; }}},
  field{"mattermost", "callback_url", string_target{[](config& c) -> std::string& { return c.mattermost.callback_url; }}},
  field{"mattermost", "team", string_target{[](config& c) -> std::string& { return c.mattermost.team; }}},
  field{"postmortem", "dir", string_target{[](config& c) -> std::string& { return c.postmortem.dir; }}},
  field{"reminders", "enabled", bool_target{[](config& c) -> bool& { return c.reminders.enabled; }}},
  field{"reminders", "timezone", string_target{[](config& c) -> std::string& { return c.reminders.timezone; }}},
  field{"reminders", "working_hours", text_target{[](config& c, std::string_view text) {
    const auto hours = parse_hours_range(text);
    if (hours) std::tie(c.reminders.work_start, c.reminders.work_end) = *hours;
    return hours.has_value();
  }, "\"HH:MM-HH:MM\" with start before end"}},
  field{"reminders", "working_days", text_target{[](config& c, std::string_view text) {
    const auto days = parse_weekdays(text);
    if (days) c.reminders.working_days = *days;
    return days.has_value();
  }, "days like \"mon-fri\", \"sun-thu\" or \"mon,tue,thu\" (sun, mon, tue, wed, thu, fri, sat)"}},
  field{"reminders", "digest_channel", string_target{[](config& c) -> std::string& { return c.reminders.digest_channel; }}},
  field{"reminders", "digest", text_target{[](config& c, std::string_view text) {
    const auto weekly = parse_weekly(text);
    if (weekly) std::tie(c.reminders.digest_weekday, c.reminders.digest_time) = *weekly;
    return weekly.has_value();
  }, "a weekday and a 24-hour time like \"mon 09:00\""}},
  field{"reminders", "commander_after", span_target{[](config& c) -> minutes& { return c.reminders.commander_after; }}},
  field{"reminders", "roles_after", span_target{[](config& c) -> minutes& { return c.reminders.roles_after; }}},
  field{"reminders", "role_every", span_target{[](config& c) -> minutes& { return c.reminders.role_every; }}},
  field{"reminders", "role_max_asks", int_target{[](config& c) -> int& { return c.reminders.role_max_asks; }, 0, 50}},
  field{"reminders", "update_sev1", span_target{[](config& c) -> minutes& { return c.reminders.update_every[0]; }}},
  field{"reminders", "update_sev2", span_target{[](config& c) -> minutes& { return c.reminders.update_every[1]; }}},
  field{"reminders", "update_sev3", span_target{[](config& c) -> minutes& { return c.reminders.update_every[2]; }}},
  field{"reminders", "update_sev4", span_target{[](config& c) -> minutes& { return c.reminders.update_every[3]; }}},
  field{"reminders", "update_near_miss", span_target{[](config& c) -> minutes& { return c.reminders.update_every[4]; }}},
  field{"reminders", "review_days_sev1", int_target{[](config& c) -> int& { return c.reminders.review_days_sev1; }, 1, 30}},
  field{"reminders", "review_business_days", int_target{[](config& c) -> int& { return c.reminders.review_business_days; }, 1, 30}},
  field{"reminders", "before_due_days", int_target{[](config& c) -> int& { return c.reminders.before_due_days; }, 0, 30}},
  field{"reminders", "overdue_every_business_days", int_target{[](config& c) -> int& { return c.reminders.overdue_every_business_days; }, 1, 30}},
  field{"reminders", "escalate_after", int_target{[](config& c) -> int& { return c.reminders.escalate_after; }, 1, 50}},
  field{"reminders", "lookback_days", int_target{[](config& c) -> int& { return c.reminders.lookback_days; }, 0, 730}},
};
// clang-format on

constexpr std::array<std::string_view, 7> sections{"incident", "tls",        "http",     "slack",
                                                   "mattermost", "postmortem", "reminders"};

// Environment variables that override the file; they win over it.
struct env_binding {
  std::string_view variable;
  std::string_view path;
  string_target target;
};

// clang-format off
const std::array env_bindings{
  env_binding{"KINTSUGI_DB", "database", [](config& c) -> std::string& { return c.database; }},
  env_binding{"KINTSUGI_LOG_LEVEL", "log_level", [](config& c) -> std::string& { return c.log_level; }},
  env_binding{"SLACK_APP_TOKEN", "slack.app_token", [](config& c) -> std::string& { return c.slack.app_token; }},
  env_binding{"SLACK_BOT_TOKEN", "slack.bot_token", [](config& c) -> std::string& { return c.slack.bot_token; }},
  env_binding{"SLACK_SIGNING_SECRET", "slack.signing_secret", [](config& c) -> std::string& { return c.slack.signing_secret; }},
  env_binding{"MATTERMOST_URL", "mattermost.url", [](config& c) -> std::string& { return c.mattermost.url; }},
  env_binding{"MATTERMOST_TOKEN", "mattermost.token", [](config& c) -> std::string& { return c.mattermost.token; }},
  env_binding{"MATTERMOST_SLASH_TOKEN", "mattermost.slash_token", [](config& c) -> std::string& { return c.mattermost.slash_token; }},
};
// clang-format on

constexpr std::array<std::string_view, 6> log_levels{"trace", "debug", "info", "warn", "error", "off"};
constexpr std::array<std::string_view, 3> token_prefixes{"xoxb-", "xapp-", "xoxp-"};
constexpr std::array<std::string_view, 7> weekday_names{"sunday",   "monday", "tuesday", "wednesday",
                                                        "thursday", "friday", "saturday"};

// ---------------------------------------------------------------------------------------------------------
// Small text helpers.

std::string join_path(std::string_view section, std::string_view key) {
  if (section.empty()) return std::string(key);
  std::string out(section);
  out += '.';
  out += key;
  return out;
}

bool is_comment_key(std::string_view key) { return key.starts_with("//") || key.starts_with("_comment"); }

bool looks_like_token(std::string_view s) {
  return std::any_of(token_prefixes.begin(), token_prefixes.end(), [&](std::string_view p) { return s.starts_with(p); });
}

// A key as it may appear in a message: a key that is itself a token (pasted in the wrong place) is redacted.
std::string shown_key(std::string_view key) { return looks_like_token(key) ? redact(key) : std::string(key); }

// A value quoted as JSON would quote it (escapes, invalid UTF-8 replaced), cut short when long.
std::string in_quotes(std::string_view value) {
  constexpr std::size_t max_shown = 80;
  std::string cut(value.substr(0, max_shown));
  std::string out = json(cut).dump(-1, ' ', false, json::error_handler_t::replace);
  if (value.size() > max_shown) out += "…";
  return out;
}

std::string type_phrase(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::binary: return "binary data";
    case json::value_t::discarded: return "nothing";
    default: return "a number";
  }
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alpha(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_lower_alpha(ascii_lower(c)); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_digit); }

// The digits at the front of `s`, taken off it; nullopt when there are none. Large numbers stop growing at
// `cap`, which is past every limit, so they cannot overflow.
std::optional<std::int64_t> take_number(std::string_view& s) {
  constexpr std::int64_t cap = 100'000'000;
  std::size_t n = 0;
  std::int64_t value = 0;
  for (; n < s.size() && is_digit(s[n]); ++n)
    value = std::min(cap, value * 10 + static_cast<std::int64_t>(s[n] - '0'));
  if (n == 0) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

// "H:MM" or "HH:MM", 24-hour; "24:00" only when `end_of_day` is allowed.
std::optional<minutes> parse_clock(std::string_view s, bool end_of_day) {
  const auto colon = s.find(':');
  if (colon == 0 || colon > 2 || s.size() != colon + 3) return std::nullopt;  // npos fails `colon > 2`
  std::string_view hours_text = s.substr(0, colon);
  std::string_view minutes_text = s.substr(colon + 1);
  if (!all_digits(hours_text) || !all_digits(minutes_text)) return std::nullopt;
  const auto hours = take_number(hours_text);
  const auto mins = take_number(minutes_text);
  if (*mins > 59 || *hours > 24 || (*hours == 24 && (!end_of_day || *mins != 0))) return std::nullopt;
  return minutes{*hours * 60 + *mins};
}

// "mon" or "monday", any case: Sunday = 0.
std::optional<int> parse_weekday(std::string_view s) {
  std::string lower;
  for (char c : s) lower += ascii_lower(c);
  for (std::size_t i = 0; i < weekday_names.size(); ++i)
    if (lower == weekday_names[i] || lower == weekday_names[i].substr(0, 3)) return static_cast<int>(i);
  return std::nullopt;
}

// "1h30m" as minutes, without the range check: nullopt when it is not a span at all.
std::optional<minutes> read_span(std::string_view text) {
  struct unit {
    char letter;
    std::int64_t minutes;
  };
  constexpr std::array<unit, 3> units{{{'d', 24 * 60}, {'h', 60}, {'m', 1}}};
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  std::size_t next_unit = 0;  // units come largest first, each at most once
  std::int64_t total = 0;
  while (!s.empty()) {
    const auto n = take_number(s);
    if (!n || s.empty()) return std::nullopt;
    const auto u = std::find_if(units.begin() + static_cast<std::ptrdiff_t>(next_unit), units.end(),
                                [&](const unit& x) { return x.letter == s.front(); });
    if (u == units.end()) return std::nullopt;
    total += *n * u->minutes;
    next_unit = static_cast<std::size_t>(u - units.begin()) + 1;
    s = trim(s.substr(1));
  }
  return minutes{total};
}

// Levenshtein distance, case-insensitive, with '-' and '_' counted as the same: enough to catch a typo.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto norm = [](char c) { return c == '-' ? '_' : ascii_lower(c); };
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t cost = norm(a[i - 1]) == norm(b[j - 1]) ? 0 : 1;
      row[j] = std::min({above + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::size_t typo_budget(std::string_view key) { return key.size() < 5 ? 1 : 2; }

// The closest candidate within the typo budget, if any.
std::optional<std::string> closest(std::string_view key, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = typo_budget(key) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(key, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

std::vector<std::string> keys_in(std::string_view section) {
  std::vector<std::string> keys;
  for (const auto& f : fields)
    if (f.section == section) keys.emplace_back(f.key);
  if (section.empty())
    for (auto s : sections) keys.emplace_back(s);
  return keys;
}

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// What to say about a key the schema does not know.
std::string unknown_key_message(std::string_view section, std::string_view key) {
  // {"slack.mode": "http"}: a dotted path written flat.
  if (section.empty()) {
    for (const auto& f : fields) {
      if (!f.section.empty() && join_path(f.section, f.key) == key)
        return "unknown key; nest it instead: \"" + std::string(f.section) + "\": { \"" + std::string(f.key) + "\": … }";
    }
  }
  const std::vector<std::string> here = keys_in(section);
  if (auto near = closest(key, here)) return "unknown key; did you mean `" + join_path(section, *near) + "`?";
  // The right key in the wrong section ("bot_token" at the top level, "url" under slack).
  std::optional<std::string> best;
  std::size_t best_distance = typo_budget(key) + 1;
  for (const auto& f : fields) {
    if (f.section == section) continue;
    const std::size_t d = edit_distance(key, f.key);
    if (d < best_distance) {
      best_distance = d;
      best = join_path(f.section, f.key);
    }
  }
  if (best) return "unknown key; did you mean `" + *best + "`?";
  return "unknown key; the keys here are: " + list(here);
}

// ---------------------------------------------------------------------------------------------------------
// Building and checking a config.

class builder {
 public:
  builder(std::string_view source, std::vector<problem> problems) : problems_(std::move(problems)) {
    cfg_.source = std::string(source);
  }

  // The environment, then every check; the config only when nothing is wrong.
  load_result finish(const env_lookup& env) && {
    apply_environment(env);
    check_values();
    check_combinations();
    if (!problems_.empty()) return {std::nullopt, std::move(problems_)};
    return {std::move(cfg_), {}};
  }

  void read_root(const json& root) {
    if (!root.is_object()) {
      add("", "the top level must be a JSON object ({ \"key\": value, … }), got " + type_phrase(root));
      return;
    }
    for (const auto& [key, value] : root.items()) {
      if (is_comment_key(key)) continue;
      if (std::find(sections.begin(), sections.end(), key) != sections.end()) {
        read_section(key, value);
      } else if (const field* f = find_field("", key)) {
        read_field(*f, value);
      } else {
        add(shown_key(key), unknown_key_message("", key));
      }
    }
  }

 private:
  void apply_environment(const env_lookup& env) {
    if (!env) return;
    for (const auto& binding : env_bindings) {
      std::optional<std::string> value = env(binding.variable);
      if (!value || value->empty()) continue;  // an empty variable counts as unset
      binding.target(cfg_) = std::move(*value);
      origin_[std::string(binding.path)] = binding.variable;
      broken_.erase(std::string(binding.path));
    }
  }

  // Value checks, after the environment so values from it are checked too.
  void check_values() {
    if (usable("database") && cfg_.database.empty())
      add("database", "must not be empty (the SQLite file, e.g. \"kintsugi.db\")" + from("database"));
    if (usable("log_level")) check_log_level();
    if (usable("incident.channel_prefix")) check_channel_prefix();
    if (usable("tls.ca_file") && !cfg_.tls.ca_file.empty()) check_ca_file();
    if (usable("http.listen")) check_listen();
    if (usable("slack.mode") && cfg_.slack.mode != "socket" && cfg_.slack.mode != "http")
      add("slack.mode", "must be \"socket\" or \"http\", got " + in_quotes(cfg_.slack.mode));
    if (usable("slack.api_base_url")) check_slack_base_url();
    if (usable("mattermost.url") && !cfg_.mattermost.url.empty()) check_mattermost_url();
    if (usable("mattermost.callback_url") && !cfg_.mattermost.callback_url.empty()) check_callback_url();
    if (usable("postmortem.dir") && !cfg_.postmortem.dir.empty()) check_postmortem_dir();
    if (usable("reminders.timezone")) check_timezone();
    if (usable("reminders.digest_channel")) check_digest_channel();
    for (const auto* path : {"slack.app_token", "slack.bot_token", "slack.signing_secret", "mattermost.token",
                             "mattermost.slash_token"})
      check_secret_text(path);
  }

  // Rules that tie keys together.
  void check_combinations() {
    const auto& slack = cfg_.slack;
    if (usable("slack.bot_token") && !slack.bot_token.empty() && !slack.bot_token.starts_with("xoxb-"))
      add("slack.bot_token", "must be a bot token starting with \"xoxb-\", got " + redact(slack.bot_token) +
                                 from("slack.bot_token"));
    if (usable("slack.app_token") && !slack.app_token.empty() && !slack.app_token.starts_with("xapp-"))
      add("slack.app_token", "must be an app-level token starting with \"xapp-\", got " + redact(slack.app_token) +
                                 from("slack.app_token"));
    if (usable("slack.bot_token") && usable("slack.mode")) {
      if (slack.enabled()) {
        if (slack.mode == "socket" && slack.app_token.empty() && usable("slack.app_token"))
          add("slack.app_token",
              "required in Socket Mode (slack.mode \"socket\"): an app-level token with connections:write; "
              "set it in the file or SLACK_APP_TOKEN");
        if (slack.mode == "http" && slack.signing_secret.empty() && usable("slack.signing_secret"))
          add("slack.signing_secret",
              "required when slack.mode is \"http\" (it verifies Slack's requests); set it in the file or "
              "SLACK_SIGNING_SECRET");
      } else if (!slack.app_token.empty() || !slack.signing_secret.empty()) {
        add("slack.bot_token",
            "required when slack.app_token or slack.signing_secret is set (Slack is enabled by the bot token); "
            "set it in the file or SLACK_BOT_TOKEN");
      }
    }
    const auto& mm = cfg_.mattermost;
    if (usable("mattermost.url") && usable("mattermost.token")) {
      if (mm.enabled() && mm.token.empty())
        add("mattermost.token",
            "required when mattermost.url is set (the bot account's access token); set it in the file or "
            "MATTERMOST_TOKEN");
      if (!mm.enabled() && (!mm.token.empty() || !mm.slash_token.empty()))
        add("mattermost.url",
            "required when mattermost.token or mattermost.slash_token is set (Mattermost is enabled by its URL); "
            "set it in the file or MATTERMOST_URL");
    }
  }

  static const field* find_field(std::string_view section, std::string_view key) {
    for (const auto& f : fields)
      if (f.section == section && f.key == key) return &f;
    return nullptr;
  }

  void read_section(const std::string& section, const json& value) {
    if (!value.is_object()) {
      add(section, "must be an object with the keys " + list(keys_in(section)) + ", got " + type_phrase(value));
      for (const auto& key : keys_in(section)) broken_.insert(join_path(section, key));
      return;
    }
    for (const auto& [key, item] : value.items()) {
      if (is_comment_key(key)) continue;
      if (const field* f = find_field(section, key)) {
        read_field(*f, item);
      } else {
        add(join_path(section, shown_key(key)), unknown_key_message(section, key));
      }
    }
  }

  void read_field(const field& f, const json& value) {
    const std::string path = join_path(f.section, f.key);
    auto wrong_type = [&](std::string_view expected) {
      add(path, "must be " + std::string(expected) + ", got " + type_phrase(value));
      broken_.insert(path);
    };
    if (const auto* s = std::get_if<string_target>(&f.target)) {
      if (!value.is_string()) return wrong_type("a string");
      (*s)(cfg_) = value.get<std::string>();
    } else if (const auto* b = std::get_if<bool_target>(&f.target)) {
      if (!value.is_boolean()) return wrong_type("true or false");
      (*b)(cfg_) = value.get<bool>();
    } else if (const auto* i = std::get_if<int_target>(&f.target)) {
      const std::string range = "from " + std::to_string(i->min) + " to " + std::to_string(i->max);
      if (!value.is_number_integer()) {
        const std::string got = value.is_number() ? value.dump() : type_phrase(value);
        add(path, "must be a whole number " + range + ", got " + got);
        broken_.insert(path);
        return;
      }
      bool in_range = false;
      if (value.is_number_unsigned()) {  // nlohmann reads every non-negative integer as unsigned
        const auto n = value.get<std::uint64_t>();
        in_range = i->max >= 0 && n <= static_cast<std::uint64_t>(i->max) &&
                   (i->min <= 0 || n >= static_cast<std::uint64_t>(i->min));
      } else {
        const auto n = value.get<std::int64_t>();
        in_range = n >= i->min && n <= i->max;
      }
      if (!in_range) {
        add(path, "must be " + range + ", got " + value.dump());
        broken_.insert(path);
        return;
      }
      i->get(cfg_) = value.get<int>();
    } else if (const auto* t = std::get_if<text_target>(&f.target)) {
      if (!value.is_string() || !t->store(cfg_, value.get_ref<const std::string&>()))
        bad_value(path, "must be " + std::string(t->shape), value);
    } else if (const auto* span = std::get_if<span_target>(&f.target)) {
      read_span_field(path, *span, value);
    }
  }

  void read_span_field(const std::string& path, span_target target, const json& value) {
    const std::string text = value.is_string() ? value.get<std::string>() : std::string();
    const std::optional<minutes> span = value.is_string() ? read_span(text) : std::nullopt;
    if (span && *span > minutes{0} && *span <= max_span) {
      target(cfg_) = *span;
      return;
    }
    const std::string_view number = value.is_string() ? trim(text) : std::string_view();
    const std::string n = value.is_string() ? std::string(number) : value.dump();
    if ((value.is_number_unsigned() || all_digits(number)) && n.find_first_not_of('0') != std::string::npos) {
      // 15 or "15": 15 what?
      return bad_value(path, "needs a unit: \"" + n + "m\" (minutes), \"" + n + "h\" (hours) or \"" + n +
                                 "d\" (days)", value);
    }
    if (span) return bad_value(path, "must be more than 0 and at most 7 days (\"7d\")", value);
    bad_value(path, "must be a span of time like \"5m\", \"90m\", \"4h\", \"1d\" or \"1h30m\"", value);
  }

  // "<must …>, got "<text>"" (or the type when it is not a string); the key keeps its default unchecked.
  void bad_value(const std::string& path, const std::string& must, const json& value) {
    add(path, must + ", got " + (value.is_string() ? in_quotes(value.get_ref<const std::string&>())
                                                  : value.is_number() ? value.dump() : type_phrase(value)));
    broken_.insert(path);
  }

  void check_log_level() {
    const std::string& level = cfg_.log_level;
    if (std::find(log_levels.begin(), log_levels.end(), level) != log_levels.end()) return;
    std::vector<std::string> names(log_levels.begin(), log_levels.end());
    std::string message = "must be one of " + list(names) + ", got " + in_quotes(level);
    std::optional<std::string> near = closest(level, names);
    for (std::size_t i = 0; !near && i < names.size(); ++i)  // "warning", "err"
      if (level.size() >= 3 && (level.starts_with(names[i]) || names[i].starts_with(level))) near = names[i];
    if (near) message += " (did you mean \"" + *near + "\"?)";
    add("log_level", message + from("log_level"));
  }

  void check_channel_prefix() {
    const std::string& prefix = cfg_.incident.channel_prefix;
    constexpr std::size_t max_length = 32;
    if (prefix.empty()) {
      add("incident.channel_prefix", "must not be empty (incident channels are named <prefix>YYYYMMDD-<slug>)");
      return;
    }
    const bool allowed = std::all_of(prefix.begin(), prefix.end(),
                                     [](char c) { return is_lower_alpha(c) || is_digit(c) || c == '-' || c == '_'; });
    if (!allowed)
      add("incident.channel_prefix",
          "must contain only lowercase letters, digits, '-' and '_' (it becomes part of a channel name), got " +
              in_quotes(prefix));
    else if (prefix.size() > max_length)
      add("incident.channel_prefix", "must be at most " + std::to_string(max_length) +
                                         " characters (the date and a slug follow it, and Mattermost allows 64)");
  }

  void check_ca_file() {
    const std::string& file = cfg_.tls.ca_file;
    std::error_code ec;
    const auto status = fs::status(file, ec);
    if (ec || !fs::exists(status)) {
      add("tls.ca_file", "file not found: " + in_quotes(file) +
                             " (a PEM CA bundle; relative paths start at the working directory; leave it empty for "
                             "the system trust store)");
      return;
    }
    if (fs::is_directory(status)) {
      add("tls.ca_file", in_quotes(file) + " is a directory; it must be a PEM file of CA certificates");
      return;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      add("tls.ca_file", in_quotes(file) + " cannot be read (" + std::generic_category().message(errno) +
                             "); check its permissions");
      return;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos)
      add("tls.ca_file", in_quotes(file) + " holds no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" line)");
  }

  void check_listen() {
    const std::string& listen = cfg_.http.listen;
    const std::string shape =
        " (\"host:port\" with a port from 0 to 65535, e.g. \"127.0.0.1:3000\" or \"[::1]:3000\"), got " +
        in_quotes(listen);
    std::string_view rest = listen;
    std::string_view host;
    if (rest.starts_with('[')) {
      const auto close = rest.find(']');
      if (close == std::string_view::npos) return add("http.listen", "has an unclosed '['" + shape);
      host = rest.substr(1, close - 1);
      rest.remove_prefix(close + 1);
      const bool ipv6 = !host.empty() && host.find(':') != std::string_view::npos &&
                        std::all_of(host.begin(), host.end(), [](char c) {
                          return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'f') || c == ':' ||
                                 c == '.';
                        });
      if (!ipv6) return add("http.listen", "must hold an IPv6 address between '[' and ']'" + shape);
    } else {
      const auto colon = rest.rfind(':');
      if (colon == std::string_view::npos) return add("http.listen", "needs a port" + shape);
      host = rest.substr(0, colon);
      rest.remove_prefix(colon);
      if (host.find(':') != std::string_view::npos)
        return add("http.listen", "an IPv6 address goes in brackets, like \"[::1]:3000\"" + shape);
      if (host.empty()) return add("http.listen", "needs a host; use 0.0.0.0 to listen on every interface" + shape);
      const bool valid_host = std::all_of(host.begin(), host.end(),
                                          [](char c) { return is_alpha(c) || is_digit(c) || c == '.' || c == '-'; });
      if (!valid_host) return add("http.listen", "has an invalid host name" + shape);
    }
    if (!rest.starts_with(':')) return add("http.listen", "needs ':' and a port after the address" + shape);
    rest.remove_prefix(1);
    if (rest.empty() || rest.size() > 5 || !std::all_of(rest.begin(), rest.end(), is_digit))
      return add("http.listen", "has an invalid port" + shape);
    int port = 0;
    for (char c : rest) port = port * 10 + (c - '0');
    // Port 0 takes any free port (the bot logs the one it got): for tests, not for a Request URL.
    if (port > 65535) return add("http.listen", "has a port out of range" + shape);
  }

  // The part after "http://" or "https://", or nullopt for another scheme.
  static std::optional<std::string_view> after_scheme(std::string_view url) {
    for (std::string_view scheme : {"https://", "http://"})
      if (url.starts_with(scheme)) return url.substr(scheme.size());
    return std::nullopt;
  }

  void check_slack_base_url() {
    std::string& url = cfg_.slack.api_base_url;
    const auto rest = after_scheme(url);
    if (!rest || rest->empty() || rest->front() == '/') {
      add("slack.api_base_url", "must be an http:// or https:// URL with a host, e.g. \"https://slack.com/api/\", got " +
                                    in_quotes(url));
      return;
    }
    if (!url.ends_with('/')) url += '/';  // methods are appended to it: "…/api/" + "chat.postMessage"
  }

  void check_mattermost_url() {
    std::string& url = cfg_.mattermost.url;
    const auto rest = after_scheme(url);
    if (!rest || rest->empty() || rest->front() == '/') {
      add("mattermost.url", "must be an http:// or https:// URL with a host, e.g. \"https://chat.example.com\", got " +
                                in_quotes(url) + from("mattermost.url"));
      return;
    }
    // Kept without a trailing slash: adapters append "/api/v4/…".
    while (url.ends_with('/')) url.pop_back();
  }

  void check_callback_url() {
    std::string& url = cfg_.mattermost.callback_url;
    const auto rest = after_scheme(url);
    if (!rest || rest->empty() || rest->front() == '/') {
      add("mattermost.callback_url",
          "must be the http:// or https:// URL where Mattermost reaches the bot's listener (http.listen), e.g. "
          "\"http://kintsugi.internal:3000\", got " + in_quotes(url) + from("mattermost.callback_url"));
      return;
    }
    while (url.ends_with('/')) url.pop_back();  // "/mattermost/action" is appended
  }

  void check_postmortem_dir() {
    std::error_code ec;
    const auto status = fs::status(cfg_.postmortem.dir, ec);
    if (!ec && fs::exists(status) && !fs::is_directory(status))
      add("postmortem.dir", in_quotes(cfg_.postmortem.dir) + " exists and is not a directory");
  }

  void check_timezone() {
    const std::string& zone = cfg_.reminders.timezone;
    if (zone == "UTC" || zone == "Etc/UTC") return;  // known without the database
    const std::string forms = "an IANA time zone name like \"Europe/Berlin\", \"America/New_York\" or \"UTC\"";
    if (zone.empty()) return add("reminders.timezone", "must not be empty; use " + forms);
    try {
      date::locate_zone(zone);
      return;
    } catch (const std::exception&) {
      // Unknown, or no database at all: told apart below.
    }
    std::vector<std::string> names;
    try {
      const date::tzdb& db = date::get_tzdb();
      for (const auto& z : db.zones) names.emplace_back(z.name());
#if !USE_OS_TZDB
      for (const auto& l : db.links) names.emplace_back(l.name());  // with the system database links are zones
#endif
    } catch (const std::exception& e) {
      return add("reminders.timezone", "cannot be checked: the system time zone database cannot be read (" +
                                           std::string(e.what()) + "); install tzdata, or use \"UTC\"");
    }
    std::string message = "unknown time zone " + in_quotes(zone) + "; use " + forms;
    std::optional<std::string> near = closest(zone, names);
    // "Berlin", "new york": the city alone.
    std::string city;
    for (char c : zone) city += c == ' ' ? '_' : ascii_lower(c);
    for (std::size_t i = 0; !near && i < names.size(); ++i) {
      const auto slash = names[i].rfind('/');
      if (slash != std::string::npos && edit_distance(names[i].substr(slash + 1), city) == 0) near = names[i];
    }
    if (near) message += " (did you mean \"" + *near + "\"?)";
    add("reminders.timezone", message);
  }

  void check_digest_channel() {
    std::string& channel = cfg_.reminders.digest_channel;
    const std::string given = channel;
    if (channel.starts_with('#')) channel.erase(0, 1);
    constexpr std::size_t max_length = 80;
    if (channel.empty())
      add("reminders.digest_channel", "must name a channel, e.g. \"incidents\" (where the weekly digest goes)");
    else if (std::any_of(channel.begin(), channel.end(), [](char c) { return is_space(c) || c == '#' || c == ','; }))
      add("reminders.digest_channel",
          "must be one channel name without spaces, e.g. \"incidents\" (a leading '#' is fine), got " +
              in_quotes(given));
    else if (channel.size() > max_length)
      add("reminders.digest_channel", "must be at most " + std::to_string(max_length) + " characters, got " +
                                          in_quotes(given));
  }

  void check_secret_text(const std::string& path) {
    if (!usable(path)) return;
    const std::string& value = secret_at(path);
    if (std::any_of(value.begin(), value.end(), is_space))
      add(path, "contains a space or line break (a stray newline when it was copied?), " + redact(value) + from(path));
  }

  const std::string& secret_at(std::string_view path) {
    for (const auto& f : fields)
      if (join_path(f.section, f.key) == path) return std::get<string_target>(f.target)(cfg_);
    static const std::string none;
    return none;
  }

  // Whether a key holds a value worth checking: one read with the wrong type is already a problem.
  bool usable(const std::string& path) const { return broken_.count(path) == 0; }

  // " (from SLACK_BOT_TOKEN)" when the value came from the environment.
  std::string from(const std::string& path) const {
    const auto it = origin_.find(path);
    return it == origin_.end() ? std::string() : " (from " + std::string(it->second) + ")";
  }

  void add(std::string path, std::string message) { problems_.push_back({std::move(path), std::move(message)}); }

  config cfg_;
  std::vector<problem> problems_;
  std::set<std::string> broken_;                        // keys whose file value had the wrong type
  std::map<std::string, std::string_view> origin_;     // key -> environment variable it came from
};


// Duplicate keys: JSON allows them and nlohmann keeps the last, so a second "database" would silently win.
class duplicate_finder {
 public:
  explicit duplicate_finder(std::vector<problem>& problems) : problems_(problems) {}

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start: {
        std::string path;
        bool comment = false;  // inside a comment's value: anything goes
        if (!frames_.empty()) {
          const frame& parent = frames_.back();
          path = parent.is_object ? join_path(parent.path, shown_key(parent.last_key)) : parent.path + "[]";
          comment = parent.comment || (parent.is_object && is_comment_key(parent.last_key));
        }
        frames_.push_back({std::move(path), event == json::parse_event_t::object_start, comment, {}, {}});
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key: {
        if (frames_.empty() || !parsed.is_string()) break;
        frame& f = frames_.back();
        f.last_key = parsed.get<std::string>();
        if (!f.comment && !is_comment_key(f.last_key) && !f.seen.insert(f.last_key).second)
          problems_.push_back({join_path(f.path, shown_key(f.last_key)),
                               "duplicate key; JSON keeps only the last one, so remove the other"});
        break;
      }
      case json::parse_event_t::value: break;
    }
    return true;
  }

 private:
  struct frame {
    std::string path;
    bool is_object = true;
    bool comment = false;
    std::set<std::string> seen;
    std::string last_key;
  };
  std::vector<problem>& problems_;
  std::vector<frame> frames_;
};

// nlohmann's parse_error text without its "[json.exception…]" tag and without "last read: '…'", which
// echoes the raw input and so could hold part of a secret (an unterminated token string, for one).
std::string syntax_message(std::string_view source, const json::parse_error& e) {
  std::string what = e.what();
  if (const auto tag_end = what.find("] "); what.starts_with("[json.exception") && tag_end != std::string::npos)
    what.erase(0, tag_end + 2);
  if (const auto last_read = what.find("; last read:"); last_read != std::string::npos) what.erase(last_read);
  if (what.starts_with("parse error at ")) what.erase(0, std::string_view("parse error at ").size());
  const std::string name = source.empty() ? std::string("the configuration") : std::string(source);
  return name + " is not valid JSON: " + what;
}

}  // namespace

std::string to_string(const problem& p) { return p.path.empty() ? p.message : p.path + ": " + p.message; }

env_lookup system_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

load_result parse(std::string_view json_text, std::string_view source, const env_lookup& env) {
  std::vector<problem> problems;
  json root;
  try {
    duplicate_finder duplicates(problems);
    root = json::parse(json_text.begin(), json_text.end(),
                       [&duplicates](int depth, json::parse_event_t event, json& parsed) {
                         return duplicates(depth, event, parsed);
                       });
  } catch (const json::parse_error& e) {
    return {std::nullopt, {{"", syntax_message(source, e)}}};
  } catch (const json::exception&) {
    return {std::nullopt, {{"", std::string(source.empty() ? "the configuration" : source) + " cannot be read as JSON"}}};
  }
  builder b(source, std::move(problems));
  b.read_root(root);
  return std::move(b).finish(env);
}

load_result load(const std::optional<std::string>& path, const env_lookup& env) {
  if (!path) {
    return builder("", {}).finish(env);
  }
  const std::string& file = *path;
  const std::string hint =
      "; pass --config FILE or set KINTSUGI_CONFIG to an existing file (config/kintsugi.example.json is a "
      "documented starting point)";
  if (file.empty()) return {std::nullopt, {{"", "the config file name is empty" + hint}}};
  std::error_code ec;
  const auto status = fs::status(file, ec);
  if (ec || !fs::exists(status)) return {std::nullopt, {{"", "config file " + in_quotes(file) + " not found" + hint}}};
  if (fs::is_directory(status))
    return {std::nullopt, {{"", "config file " + in_quotes(file) + " is a directory; pass the JSON file itself"}}};
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return {std::nullopt,
            {{"", "config file " + in_quotes(file) + " cannot be read (" + std::generic_category().message(errno) +
                      "); check its permissions and the user kintsugi runs as"}}};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return {std::nullopt, {{"", "config file " + in_quotes(file) + " could not be read to the end"}}};
  return parse(text.str(), file, env);
}

std::optional<std::string> choose_file(const std::optional<std::string>& cli_path, const env_lookup& env) {
  if (cli_path && !cli_path->empty()) return cli_path;
  if (env) {
    if (auto from_env = env("KINTSUGI_CONFIG"); from_env && !from_env->empty()) return from_env;
  }
  return std::nullopt;
}

std::optional<minutes> parse_span(std::string_view text) {
  const auto span = read_span(text);
  if (!span || *span <= minutes{0} || *span > max_span) return std::nullopt;
  return span;
}

std::optional<std::pair<minutes, minutes>> parse_hours_range(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto start = parse_clock(trim(text.substr(0, dash)), false);
  const auto end = parse_clock(trim(text.substr(dash + 1)), true);
  if (!start || !end || *start >= *end) return std::nullopt;
  return std::pair{*start, *end};
}

std::optional<std::array<bool, 7>> parse_weekdays(std::string_view text) {
  std::array<bool, 7> days{};
  for (std::string_view rest = text;;) {  // items between commas: "mon" or "mon-fri"
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const auto dash = item.find('-');
    const auto first = parse_weekday(trim(item.substr(0, dash)));
    const auto last = dash == std::string_view::npos ? first : parse_weekday(trim(item.substr(dash + 1)));
    if (!first || !last) return std::nullopt;
    for (int d = *first;; d = (d + 1) % 7) {  // "sat-wed" wraps past Saturday
      days[static_cast<std::size_t>(d)] = true;
      if (d == *last) break;
    }
    if (comma == std::string_view::npos) return days;
    rest.remove_prefix(comma + 1);
  }
}

std::optional<std::pair<int, minutes>> parse_weekly(std::string_view text) {
  const std::string_view s = trim(text);
  const auto space = std::find_if(s.begin(), s.end(), is_space);
  if (space == s.end()) return std::nullopt;
  const auto split = static_cast<std::size_t>(space - s.begin());
  const auto day = parse_weekday(s.substr(0, split));
  const auto time = parse_clock(trim(s.substr(split)), false);
  if (!day || !time) return std::nullopt;
  return std::pair{*day, *time};
}

std::string redact(std::string_view secret) {
  if (secret.empty()) return "(empty)";
  std::string out;
  for (std::string_view prefix : token_prefixes) {
    if (secret.starts_with(prefix)) {
      out = prefix;
      break;
    }
  }
  out += "…(" + std::to_string(secret.size()) + " chars)";
  return out;
}

}  // namespace kintsugi::config
