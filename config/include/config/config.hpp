#pragma once
// kintsugi's configuration: one JSON file (--config, else KINTSUGI_CONFIG, else none) plus environment
// overrides for secrets. Loaded and validated once at start-up; then passed as const& and never changed.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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

struct config {
  std::string database = "kintsugi.db";  // SQLite file                 (env KINTSUGI_DB)
  std::string log_level = "info";        // trace|debug|info|warn|error|off
  incident_config incident;
  tls_config tls;
  http_config http;
  slack_config slack;
  mattermost_config mattermost;
  postmortem_config postmortem;
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

// "xoxb-…(56 chars)": the kind of token (only a known Slack prefix: xoxb-, xapp-, xoxp-) and its length,
// enough to spot a token in the wrong place; never any other part of the secret. "" gives "(empty)".
std::string redact(std::string_view secret);

}  // namespace kintsugi::config
