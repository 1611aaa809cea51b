#pragma once
// kintsugi's configuration: one JSON file (--config, else KINTSUGI_CONFIG, else none) plus environment
// overrides for secrets. Loaded and validated once at start-up; then passed as const& and never changed.
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kintsugi::config {

struct slack_config {
  std::string mode = "socket";  // "socket" (Socket Mode) or "http" (Events API on http.listen)
  std::string app_token;        // xapp-…, Socket Mode only        (env SLACK_APP_TOKEN)
  std::string bot_token;        // xoxb-…                           (env SLACK_BOT_TOKEN)
  std::string signing_secret;   // HTTP mode request signing        (env SLACK_SIGNING_SECRET)
  std::string api_base_url = "https://slack.com/api/";
  bool enabled() const { return !bot_token.empty(); }
};

struct mattermost_config {
  std::string url;          // http(s) base URL                       (env MATTERMOST_URL)
  std::string token;        // bot access token                       (env MATTERMOST_TOKEN)
  std::string slash_token;  // the /incident slash command's token    (env MATTERMOST_SLASH_TOKEN)
  // Where Mattermost reaches the bot's listener (http.listen), for the buttons' callbacks; empty: no buttons
  // (every message also says what to type).
  std::string callback_url;
  std::string team;         // team name or id where incident channels are created; empty: the bot's only team
  bool enabled() const { return !url.empty(); }
};

struct incident_config {
  bool create_channel = false;         // start outside an incident channel creates inc-YYYYMMDD-<slug>
  std::string channel_prefix = "inc-";
  int default_due_days = 14;           // an action item added without due: gets this many days
};

struct tls_config {
  std::string ca_file;  // extra CA bundle (PEM); empty: the system trust store
};

struct http_config {
  std::string listen = "127.0.0.1:3000";  // host:port of the bot's own HTTP listener
};

struct postmortem_config {
  std::string dir;  // where /incident postmortem also writes INC-<n>.md; empty: not written to disk
};

// When the bot speaks up on its own: role prompts, status-update nudges, the review ask, action-item reminders,
// the weekly digest and the look-back. Spans are whole minutes; weekdays are indexed Sunday = 0.
struct reminders_config {
  bool enabled = true;                      // false: no prompt, nudge or reminder at all
  std::string timezone = "UTC";             // IANA name: for people whose zone is unknown, and for the digest
  std::chrono::minutes work_start{9 * 60};  // "working_hours": "09:00-18:00", local time, start < end
  std::chrono::minutes work_end{18 * 60};
  std::array<bool, 7> working_days{false, true, true, true, true, true, false};  // "working_days": "mon-fri"
  std::string digest_channel = "incidents";  // where the weekly digest goes (no leading '#')
  int digest_weekday = 1;                    // "digest": "mon 09:00", in `timezone`
  std::chrono::minutes digest_time{9 * 60};
  std::chrono::minutes commander_after{5};  // ask for a commander this long after the start
  std::chrono::minutes roles_after{15};     // ask for a scribe and a facilitator this long after the start
  std::chrono::minutes role_every{10};      // then ask again this often
  int role_max_asks = 5;                    // at most this many asks per role
  // A nudge to the commander after this long without an update: sev1, sev2, sev3, sev4, near miss.
  std::array<std::chrono::minutes, 5> update_every{std::chrono::minutes{15}, std::chrono::minutes{30},
                                                   std::chrono::minutes{60}, std::chrono::minutes{240},
                                                   std::chrono::minutes{240}};
  int review_days_sev1 = 3;               // the review is due this many calendar days after a sev1 resolves
  int review_business_days = 5;           // and this many business days after any other
  int before_due_days = 2;                // an action item's "due soon" reminder (0: none)
  int overdue_every_business_days = 2;    // an overdue item's reminder repeats this often
  int escalate_after = 3;                 // overdue reminders before the commander is told
  int lookback_days = 90;                 // ask whether a closed item's fix held (0: never)
};

struct config {
  std::string database = "kintsugi.db";  // SQLite file                 (env KINTSUGI_DB)
  std::string log_level = "info";        // trace|debug|info|warn|error|off
  incident_config incident;
  tls_config tls;
  http_config http;
  slack_config slack;
  mattermost_config mattermost;
  postmortem_config postmortem;
  reminders_config reminders;
  std::string source;  // the file it was read from ("" when none)
};

// One thing wrong with the configuration, at its key path ("slack.mode").
struct problem {
  std::string path;
  std::string message;
};
// One line to print: "slack.mode: must be …", or the message alone when the path is empty.
std::string to_string(const problem& p);

struct load_result {
  std::optional<config> cfg;      // set when there are no problems
  std::vector<problem> problems;  // every problem found, not only the first
  bool ok() const { return cfg.has_value(); }
};

// Reads an environment variable; a function so tests can give their own environment.
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;
env_lookup system_environment();

// Parses and validates JSON text (`source` names it in messages), then applies the environment.
load_result parse(std::string_view json_text, std::string_view source, const env_lookup& env);
// The file at `path`; with no path, defaults plus the environment. A missing or unreadable file is a problem.
load_result load(const std::optional<std::string>& path, const env_lookup& env);
// The config file to use: `cli_path` if given, else $KINTSUGI_CONFIG, else none.
std::optional<std::string> choose_file(const std::optional<std::string>& cli_path, const env_lookup& env);

// The reminders section's value parsers, for the app and for tests; nullopt when the text does not fit.
// "5m", "90m", "4h", "1d", "1h30m", "1d 12h": days, hours and minutes in that order, each at most once; more
// than 0 and at most 7 days. A bare number has no unit and is not a span.
std::optional<std::chrono::minutes> parse_span(std::string_view text);
// "09:00-18:00": [start, end) in minutes after midnight, 24-hour "H:MM" or "HH:MM", start before end; the end
// may be "24:00".
std::optional<std::pair<std::chrono::minutes, std::chrono::minutes>> parse_hours_range(std::string_view text);
// "mon-fri", "sun-thu", "sat-wed" (a range wraps past Saturday), "mon,tue,thu", "mon-wed,fri": days by their
// first three letters or full name, any case; indexed Sunday = 0. At least one day.
std::optional<std::array<bool, 7>> parse_weekdays(std::string_view text);
// "mon 09:00": a weekday (Sunday = 0) and a 24-hour time from 00:00 to 23:59.
std::optional<std::pair<int, std::chrono::minutes>> parse_weekly(std::string_view text);

// "xoxb-…(56 chars)": the kind of token (only a known Slack prefix: xoxb-, xapp-, xoxp-) and its length,
// enough to spot a token in the wrong place; never any other part of the secret. "" gives "(empty)".
std::string redact(std::string_view secret);

}  // namespace kintsugi::config
