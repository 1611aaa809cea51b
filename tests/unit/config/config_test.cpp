#include "config/config.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "temp_dir.hpp"

namespace cfg = kintsugi::config;

namespace {

cfg::env_lookup no_env() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

cfg::env_lookup env_of(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

cfg::load_result parse(std::string_view text, const cfg::env_lookup& env = no_env()) {
  return cfg::parse(text, "test.json", env);
}

// Every problem, one per line, as it would be printed.
std::string all_problems(const cfg::load_result& r) {
  std::string out;
  for (const auto& p : r.problems) out += cfg::to_string(p) + "\n";
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

void write_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

constexpr std::string_view pem =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJ0\n-----END CERTIFICATE-----\n";

// A config with one JSON value at a key path: with_value("incident", "channel_prefix", "3").
std::string with_value(std::string_view section, std::string_view key, std::string_view value) {
  std::string inner = "\"" + std::string(key) + "\": " + std::string(value);
  if (section.empty()) return "{" + inner + "}";
  return "{\"" + std::string(section) + "\": {" + inner + "}}";
}

}  // namespace

TEST_CASE("defaults: no file and no environment") {
  const auto r = cfg::load(std::nullopt, no_env());
  REQUIRE(r.ok());
  CHECK(r.problems.empty());
  const cfg::config& c = *r.cfg;
  CHECK(c.database == "kintsugi.db");
  CHECK(c.log_level == "info");
  CHECK(c.incident.create_channel == false);
  CHECK(c.incident.channel_prefix == "inc-");
  CHECK(c.incident.default_due_days == 14);
  CHECK(c.tls.ca_file.empty());
  CHECK(c.http.listen == "127.0.0.1:3000");
  CHECK(c.slack.mode == "socket");
  CHECK(c.slack.app_token.empty());
  CHECK(c.slack.bot_token.empty());
  CHECK(c.slack.signing_secret.empty());
  CHECK(c.slack.api_base_url == "https://slack.com/api/");
  CHECK_FALSE(c.slack.enabled());
  CHECK(c.mattermost.url.empty());
  CHECK(c.mattermost.token.empty());
  CHECK(c.mattermost.slash_token.empty());
  CHECK_FALSE(c.mattermost.enabled());
  CHECK(c.postmortem.dir.empty());
  CHECK(c.source.empty());
}

TEST_CASE("an empty object is the defaults, with the source recorded") {
  const auto r = parse("{}");
  REQUIRE(r.ok());
  CHECK(r.cfg->database == "kintsugi.db");
  CHECK(r.cfg->source == "test.json");
}

TEST_CASE("a missing environment function counts as an empty environment") {
  CHECK(cfg::parse("{}", "", cfg::env_lookup{}).ok());
  CHECK(cfg::load(std::nullopt, cfg::env_lookup{}).ok());
  CHECK_FALSE(cfg::choose_file(std::nullopt, cfg::env_lookup{}).has_value());
}

TEST_CASE("every key is read") {
  kintsugi::test::temp_dir dir;
  const std::string ca = dir.file("ca.pem");
  write_file(ca, pem);
  const std::string text = R"({
    "database": "/var/lib/kintsugi/k.db",
    "log_level": "debug",
    "incident": {"create_channel": true, "channel_prefix": "sev_", "default_due_days": 30},
    "tls": {"ca_file": ")" + ca + R"("},
    "http": {"listen": "0.0.0.0:8080"},
    "slack": {"mode": "http", "app_token": "xapp-1-A", "bot_token": "xoxb-1-B", "signing_secret": "abc123",
              "api_base_url": "https://127.0.0.1:8443/api"},
    "mattermost": {"url": "https://chat.example.com/", "token": "mmtoken", "slash_token": "slashtok"},
    "postmortem": {"dir": ")" + dir.path().string() + R"("}
  })";
  const auto r = parse(text);
  INFO(all_problems(r));
  REQUIRE(r.ok());
  const cfg::config& c = *r.cfg;
  CHECK(c.database == "/var/lib/kintsugi/k.db");
  CHECK(c.log_level == "debug");
  CHECK(c.incident.create_channel);
  CHECK(c.incident.channel_prefix == "sev_");
  CHECK(c.incident.default_due_days == 30);
  CHECK(c.tls.ca_file == ca);
  CHECK(c.http.listen == "0.0.0.0:8080");
  CHECK(c.slack.mode == "http");
  CHECK(c.slack.app_token == "xapp-1-A");
  CHECK(c.slack.bot_token == "xoxb-1-B");
  CHECK(c.slack.signing_secret == "abc123");
  CHECK(c.slack.api_base_url == "https://127.0.0.1:8443/api/");  // the slash is added
  CHECK(c.slack.enabled());
  CHECK(c.mattermost.url == "https://chat.example.com");  // kept without a trailing slash
  CHECK(c.mattermost.token == "mmtoken");
  CHECK(c.mattermost.slash_token == "slashtok");
  CHECK(c.mattermost.enabled());
  CHECK(c.postmortem.dir == dir.path().string());
  CHECK(c.source == "test.json");
}

TEST_CASE("comment keys are ignored at every level, even when repeated") {
  const auto r = parse(R"({
    "//": "top", "//": "again", "//database": "the file", "_comment": 1, "_comment_2": [1, 2],
    "slack": {"//": {"nested": true, "nested": false}, "_comment": null, "mode": "socket"}
  })");
  INFO(all_problems(r));
  CHECK(r.ok());
}

TEST_CASE("a syntax error is one problem with line and column") {
  const auto r = parse("{\n  \"database\": \"a.db\",\n  \"log_level\" \"info\"\n}");
  REQUIRE(r.problems.size() == 1);
  CHECK_FALSE(r.ok());
  CHECK(r.problems[0].path.empty());
  const std::string& m = r.problems[0].message;
  CHECK(contains(m, "test.json"));
  CHECK(contains(m, "not valid JSON"));
  CHECK(contains(m, "line 3"));
  CHECK(contains(m, "column"));
  CHECK_FALSE(contains(m, "[json.exception"));
}

TEST_CASE("a syntax error hides other problems and is the only one") {
  const auto r = parse(R"({"databse": 1, "database": 2,)");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path.empty());
}

TEST_CASE("empty text is a syntax error") {
  const auto r = parse("");
  REQUIRE(r.problems.size() == 1);
  CHECK(contains(r.problems[0].message, "not valid JSON"));
}

TEST_CASE("the top level must be an object") {
  for (std::string_view text : {"[1, 2]", "\"kintsugi.db\"", "null", "42"}) {
    CAPTURE(text);
    const auto r = parse(text);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path.empty());
    CHECK(contains(r.problems[0].message, "must be a JSON object"));
  }
}

TEST_CASE("a value of the wrong type is a problem at its path") {
  struct row {
    std::string_view section, key, value, message;
  };
  const row rows[] = {
      {"", "database", "5", "must be a string, got a number"},
      {"", "log_level", "null", "must be a string, got null"},
      {"incident", "create_channel", "\"yes\"", "must be true or false, got a string"},
      {"incident", "channel_prefix", "3", "must be a string, got a number"},
      {"incident", "default_due_days", "\"14\"", "must be a whole number from 1 to 365, got a string"},
      {"incident", "default_due_days", "14.5", "must be a whole number from 1 to 365, got 14.5"},
      {"tls", "ca_file", "false", "must be a string, got a boolean"},
      {"http", "listen", "3000", "must be a string, got a number"},
      {"slack", "mode", "[\"socket\"]", "must be a string, got an array"},
      {"slack", "bot_token", "{}", "must be a string, got an object"},
      {"slack", "api_base_url", "1", "must be a string, got a number"},
      {"mattermost", "url", "true", "must be a string, got a boolean"},
      {"mattermost", "slash_token", "7", "must be a string, got a number"},
      {"postmortem", "dir", "0", "must be a string, got a number"},
  };
  for (const auto& row : rows) {
    const std::string text = with_value(row.section, row.key, row.value);
    CAPTURE(text);
    const auto r = parse(text);
    REQUIRE(r.problems.size() == 1);
    const std::string path = row.section.empty() ? std::string(row.key) : std::string(row.section) + "." + std::string(row.key);
    CHECK(r.problems[0].path == path);
    CHECK(r.problems[0].message == row.message);
  }
}

TEST_CASE("incident.default_due_days must be 1..365") {
  for (std::string_view value : {"1", "365", "14"}) {
    CAPTURE(value);
    CHECK(parse(with_value("incident", "default_due_days", value)).ok());
  }
  for (std::string_view value : {"0", "366", "-3", "99999999999999999999", "18446744073709551615"}) {
    CAPTURE(value);
    const auto r = parse(with_value("incident", "default_due_days", value));
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "incident.default_due_days");
    CHECK(contains(r.problems[0].message, "from 1 to 365"));
  }
}

TEST_CASE("a section that is not an object is one problem, and its defaults stay unchecked") {
  const auto r = parse(R"({"slack": "xoxb-1-2", "incident": []})");
  REQUIRE(r.problems.size() == 2);
  CHECK(r.problems[0].path == "slack");
  CHECK(r.problems[0].message == "must be an object with the keys mode, app_token, bot_token, signing_secret, "
                                 "api_base_url, got a string");
  CHECK(r.problems[1].path == "incident");
  CHECK(contains(r.problems[1].message, "got an array"));
}

TEST_CASE("database must not be empty") {
  const auto r = parse(R"({"database": ""})");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "database");
  CHECK(contains(r.problems[0].message, "must not be empty"));
}

TEST_CASE("log_level must be a known level") {
  for (std::string_view level : {"trace", "debug", "info", "warn", "error", "off"}) {
    CAPTURE(level);
    CHECK(parse(with_value("", "log_level", "\"" + std::string(level) + "\"")).ok());
  }
  const auto r = parse(R"({"log_level": "warning"})");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "log_level");
  CHECK(r.problems[0].message ==
        "must be one of trace, debug, info, warn, error, off, got \"warning\" (did you mean \"warn\"?)");
  CHECK(contains(parse(R"({"log_level": "err"})").problems.at(0).message, "did you mean \"error\"?"));
  const auto loud = parse(R"({"log_level": "INFO"})");
  REQUIRE(loud.problems.size() == 1);
  CHECK(contains(loud.problems[0].message, "did you mean \"info\"?"));
}

TEST_CASE("incident.channel_prefix becomes a channel name") {
  for (std::string_view prefix : {"inc-", "incident_", "sev2-", "x"}) {
    CAPTURE(prefix);
    CHECK(parse(with_value("incident", "channel_prefix", "\"" + std::string(prefix) + "\"")).ok());
  }
  for (std::string_view prefix : {"", "INC-", "inc ", "inc.", "inç-", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    CAPTURE(prefix);
    const auto r = parse(with_value("incident", "channel_prefix", "\"" + std::string(prefix) + "\""));
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "incident.channel_prefix");
  }
  const auto r = parse(R"({"incident": {"channel_prefix": "Inc-"}})");
  REQUIRE(r.problems.size() == 1);
  CHECK(contains(r.problems[0].message, "only lowercase letters, digits, '-' and '_'"));
  CHECK(contains(r.problems[0].message, "\"Inc-\""));
}

TEST_CASE("tls.ca_file must exist, be readable and hold a PEM certificate") {
  kintsugi::test::temp_dir dir;
  const std::string good = dir.file("ca.pem");
  write_file(good, pem);
  const std::string der = dir.file("ca.der");
  write_file(der, std::string_view("\x30\x82\x01\xb3", 4));

  auto ca = [](const std::string& path) { return parse(with_value("tls", "ca_file", "\"" + path + "\"")); };
  CHECK(ca(good).ok());
  CHECK(parse(R"({"tls": {"ca_file": ""}})").ok());

  const auto missing = ca(dir.file("nope.pem"));
  REQUIRE(missing.problems.size() == 1);
  CHECK(missing.problems[0].path == "tls.ca_file");
  CHECK(contains(missing.problems[0].message, "file not found"));
  CHECK(contains(missing.problems[0].message, "nope.pem"));

  const auto directory = ca(dir.path().string());
  REQUIRE(directory.problems.size() == 1);
  CHECK(contains(directory.problems[0].message, "is a directory"));

  const auto not_pem = ca(der);
  REQUIRE(not_pem.problems.size() == 1);
  CHECK(contains(not_pem.problems[0].message, "no PEM certificate"));

  ::chmod(good.c_str(), 0);
  if (!std::ifstream(good)) {  // root reads anything; only check where the permission bites
    const auto unreadable = ca(good);
    REQUIRE(unreadable.problems.size() == 1);
    CHECK(contains(unreadable.problems[0].message, "cannot be read"));
  }
  ::chmod(good.c_str(), 0600);
}

TEST_CASE("http.listen is host:port or [ipv6]:port") {
  for (std::string_view listen : {"127.0.0.1:3000", "0.0.0.0:1", "localhost:65535", "[::1]:3000",
                                  "[::]:8080", "[fe80::1:2]:443", "bot.internal-net.example:80", "127.0.0.1:0"}) {
    CAPTURE(listen);
    const auto r = parse(with_value("http", "listen", "\"" + std::string(listen) + "\""));
    INFO(all_problems(r));
    CHECK(r.ok());
  }
  for (std::string_view listen : {"", "3000", ":3000", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                                  "127.0.0.1:99999999", "127.0.0.1:30a0", "::1:3000", "[::1]3000", "[::1:3000",
                                  "[]:3000", "[host]:3000", "my host:3000", "127.0.0.1:-1"}) {
    CAPTURE(listen);
    const auto r = parse(with_value("http", "listen", "\"" + std::string(listen) + "\""));
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "http.listen");
    CHECK(contains(r.problems[0].message, "e.g. \"127.0.0.1:3000\" or \"[::1]:3000\""));
  }
  const auto v6 = parse(R"({"http": {"listen": "::1:3000"}})");
  REQUIRE(v6.problems.size() == 1);
  CHECK(contains(v6.problems[0].message, "goes in brackets"));
}

TEST_CASE("slack.mode is socket or http") {
  const auto r = parse(R"({"slack": {"mode": "sockets"}})");
  REQUIRE(r.problems.size() == 1);
  CHECK(cfg::to_string(r.problems[0]) == R"(slack.mode: must be "socket" or "http", got "sockets")");
}

TEST_CASE("slack.api_base_url must be http(s) and gets a trailing slash") {
  CHECK(parse(R"({"slack": {"api_base_url": "http://127.0.0.1:9000/api/"}})").cfg->slack.api_base_url ==
        "http://127.0.0.1:9000/api/");
  CHECK(parse(R"({"slack": {"api_base_url": "https://slack.com/api"}})").cfg->slack.api_base_url ==
        "https://slack.com/api/");
  for (std::string_view url : {"ftp://slack.com/api/", "slack.com/api/", "https://", "https:///api/", ""}) {
    CAPTURE(url);
    const auto r = parse(with_value("slack", "api_base_url", "\"" + std::string(url) + "\""));
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "slack.api_base_url");
    CHECK(contains(r.problems[0].message, "http:// or https://"));
  }
}

TEST_CASE("mattermost.url must be http(s)") {
  CHECK(parse(R"({"mattermost": {"url": "http://localhost:8065", "token": "t"}})").ok());
  for (std::string_view url : {"chat.example.com", "ws://chat.example.com", "https://"}) {
    CAPTURE(url);
    const auto r = parse(R"({"mattermost": {"token": "t", "url": ")" + std::string(url) + "\"}}");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "mattermost.url");
    CHECK(contains(r.problems[0].message, "http:// or https://"));
  }
}

TEST_CASE("mattermost.callback_url and team: an http(s) URL without its trailing slash, and any team name") {
  const auto good = parse(R"({"mattermost": {"url": "http://localhost:8065", "token": "t",
                                             "callback_url": "http://kintsugi.internal:3000/", "team": "ops"}})");
  REQUIRE(good.ok());
  CHECK(good.cfg->mattermost.callback_url == "http://kintsugi.internal:3000");
  CHECK(good.cfg->mattermost.team == "ops");
  for (std::string_view url : {"kintsugi.internal:3000", "ws://kintsugi", "https://"}) {
    CAPTURE(url);
    const auto r = parse(R"({"mattermost": {"url": "http://localhost:8065", "token": "t", "callback_url": ")" +
                         std::string(url) + "\"}}");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "mattermost.callback_url");
    CHECK(contains(r.problems[0].message, "where Mattermost reaches the bot"));
  }
}

TEST_CASE("postmortem.dir must not be a file") {
  kintsugi::test::temp_dir dir;
  write_file(dir.file("file"), "x");
  CHECK(parse(with_value("postmortem", "dir", "\"" + dir.file("not-yet") + "\"")).ok());
  const auto r = parse(with_value("postmortem", "dir", "\"" + dir.file("file") + "\""));
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "postmortem.dir");
  CHECK(contains(r.problems[0].message, "not a directory"));
}

TEST_CASE("several problems are reported at once, in file order") {
  const auto r = parse(R"({
    "databse": "x.db",
    "log_level": "loud",
    "incident": {"channel_prefix": 3, "default_due_days": 0},
    "http": {"listen": "nowhere"},
    "slack": {"mode": "sockets", "bot_tokn": "x"}
  })");
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.cfg.has_value());
  REQUIRE(r.problems.size() == 7);
  CHECK(r.problems[0].path == "databse");
  CHECK(r.problems[1].path == "incident.channel_prefix");
  CHECK(r.problems[2].path == "incident.default_due_days");
  CHECK(r.problems[3].path == "slack.bot_tokn");
  CHECK(r.problems[4].path == "log_level");
  CHECK(r.problems[5].path == "http.listen");
  CHECK(r.problems[6].path == "slack.mode");
}

TEST_CASE("unknown keys are problems, with a suggestion when one is close") {
  SUBCASE("a typo at the top level") {
    const auto r = parse(R"({"databse": "x.db"})");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "databse");
    CHECK(r.problems[0].message == "unknown key; did you mean `database`?");
  }
  SUBCASE("a typo in a section") {
    const auto r = parse(R"({"slack": {"bot_tokn": "x"}})");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "slack.bot_tokn");
    CHECK(r.problems[0].message == "unknown key; did you mean `slack.bot_token`?");
  }
  SUBCASE("a misspelt section") {
    const auto r = parse(R"({"slak": {"mode": "socket"}})");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].message == "unknown key; did you mean `slack`?");
  }
  SUBCASE("case and dashes") {
    CHECK(parse(R"({"Database": "x"})").problems.at(0).message == "unknown key; did you mean `database`?");
    CHECK(parse(R"({"log-level": "info"})").problems.at(0).message == "unknown key; did you mean `log_level`?");
  }
  SUBCASE("the right key in the wrong section") {
    const auto top = parse(R"({"bot_token": "x"})");
    REQUIRE(top.problems.size() == 1);
    CHECK(top.problems[0].message == "unknown key; did you mean `slack.bot_token`?");
    const auto nested = parse(R"({"slack": {"url": "https://x"}})");
    REQUIRE(nested.problems.size() == 1);
    CHECK(nested.problems[0].path == "slack.url");
    CHECK(nested.problems[0].message == "unknown key; did you mean `mattermost.url`?");
  }
  SUBCASE("a dotted path written flat") {
    const auto r = parse(R"({"slack.mode": "http"})");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "slack.mode");
    CHECK(contains(r.problems[0].message, "nest it instead"));
  }
  SUBCASE("nothing close: the known keys are listed") {
    const auto r = parse(R"({"tls": {"verify_peer": false}})");
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].path == "tls.verify_peer");
    CHECK(r.problems[0].message == "unknown key; the keys here are: ca_file");
  }
}

TEST_CASE("duplicate keys are problems") {
  const auto r = parse(R"({"database": "a.db", "slack": {"mode": "http", "mode": "socket"}, "database": "b.db"})");
  REQUIRE(r.problems.size() == 2);
  CHECK(r.problems[0].path == "slack.mode");
  CHECK(contains(r.problems[0].message, "duplicate key"));
  CHECK(r.problems[1].path == "database");
}

TEST_CASE("environment overrides win over the file") {
  const auto env = env_of({{"KINTSUGI_DB", "/env/k.db"},
                           {"KINTSUGI_LOG_LEVEL", "trace"},
                           {"SLACK_APP_TOKEN", "xapp-env"},
                           {"SLACK_BOT_TOKEN", "xoxb-env"},
                           {"SLACK_SIGNING_SECRET", "env-signing"},
                           {"MATTERMOST_URL", "https://mm.env.example"},
                           {"MATTERMOST_TOKEN", "env-mm-token"},
                           {"MATTERMOST_SLASH_TOKEN", "env-slash"}});
  const auto r = parse(R"({
    "database": "file.db", "log_level": "warn",
    "slack": {"app_token": "xapp-file", "bot_token": "xoxb-file", "signing_secret": "file-signing"},
    "mattermost": {"url": "https://mm.file.example", "token": "file-mm", "slash_token": "file-slash"}
  })",
                       env);
  INFO(all_problems(r));
  REQUIRE(r.ok());
  const cfg::config& c = *r.cfg;
  CHECK(c.database == "/env/k.db");
  CHECK(c.log_level == "trace");
  CHECK(c.slack.app_token == "xapp-env");
  CHECK(c.slack.bot_token == "xoxb-env");
  CHECK(c.slack.signing_secret == "env-signing");
  CHECK(c.mattermost.url == "https://mm.env.example");
  CHECK(c.mattermost.token == "env-mm-token");
  CHECK(c.mattermost.slash_token == "env-slash");
}

TEST_CASE("the environment applies without a file, and an empty variable counts as unset") {
  const auto r = cfg::load(std::nullopt, env_of({{"KINTSUGI_DB", ""}, {"SLACK_BOT_TOKEN", "xoxb-1"},
                                                  {"SLACK_APP_TOKEN", "xapp-1"}}));
  INFO(all_problems(r));
  REQUIRE(r.ok());
  CHECK(r.cfg->database == "kintsugi.db");
  CHECK(r.cfg->slack.enabled());
}

TEST_CASE("values from the environment are checked and say where they came from") {
  const auto r = parse("{}", env_of({{"KINTSUGI_LOG_LEVEL", "verbose"}, {"MATTERMOST_URL", "chat.example.com"},
                                     {"MATTERMOST_TOKEN", "t"}}));
  REQUIRE(r.problems.size() == 2);
  CHECK(r.problems[0].path == "log_level");
  CHECK(contains(r.problems[0].message, "(from KINTSUGI_LOG_LEVEL)"));
  CHECK(r.problems[1].path == "mattermost.url");
  CHECK(contains(r.problems[1].message, "(from MATTERMOST_URL)"));
}

TEST_CASE("an environment value replaces a file value of the wrong type, whose problem stays") {
  const auto r = parse(R"({"database": 5})", env_of({{"KINTSUGI_DB", ""}}));
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "database");
  const auto fixed = parse(R"({"slack": {"bot_token": 5}})", env_of({{"SLACK_BOT_TOKEN", "bad"}}));
  REQUIRE(fixed.problems.size() == 3);  // the file's type, then the env value's prefix and the missing app token
  CHECK(fixed.problems[0].path == "slack.bot_token");
  CHECK(fixed.problems[1].path == "slack.bot_token");
  CHECK(contains(fixed.problems[1].message, "(from SLACK_BOT_TOKEN)"));
  CHECK(fixed.problems[2].path == "slack.app_token");
}

TEST_CASE("Slack: Socket Mode needs the app token") {
  const auto r = parse(R"({"slack": {"bot_token": "xoxb-1-2"}})");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "slack.app_token");
  CHECK(contains(r.problems[0].message, "set it in the file or SLACK_APP_TOKEN"));
  CHECK(parse(R"({"slack": {"bot_token": "xoxb-1-2", "app_token": "xapp-1"}})").ok());
}

TEST_CASE("Slack: HTTP mode needs the signing secret, not the app token") {
  const auto r = parse(R"({"slack": {"mode": "http", "bot_token": "xoxb-1-2"}})");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "slack.signing_secret");
  CHECK(contains(r.problems[0].message, "SLACK_SIGNING_SECRET"));
  CHECK(parse(R"({"slack": {"mode": "http", "bot_token": "xoxb-1-2", "signing_secret": "s"}})").ok());
}

TEST_CASE("Slack: tokens must be of the right kind") {
  const auto r = parse(R"({"slack": {"bot_token": "xoxp-user-token", "app_token": "xoxb-bot-token"}})");
  REQUIRE(r.problems.size() == 2);
  CHECK(r.problems[0].path == "slack.bot_token");
  CHECK(r.problems[0].message == "must be a bot token starting with \"xoxb-\", got xoxp-…(15 chars)");
  CHECK(r.problems[1].path == "slack.app_token");
  CHECK(r.problems[1].message == "must be an app-level token starting with \"xapp-\", got xoxb-…(14 chars)");
}

TEST_CASE("Slack: an app token or signing secret without a bot token is a problem") {
  const auto r = parse("{}", env_of({{"SLACK_APP_TOKEN", "xapp-1"}}));
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "slack.bot_token");
  CHECK(contains(r.problems[0].message, "SLACK_BOT_TOKEN"));
  CHECK(parse(R"({"slack": {"signing_secret": "s"}})").problems.at(0).path == "slack.bot_token");
}

TEST_CASE("Mattermost: a URL needs a token, and a token needs a URL") {
  const auto r = parse(R"({"mattermost": {"url": "https://chat.example.com"}})");
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "mattermost.token");
  CHECK(contains(r.problems[0].message, "MATTERMOST_TOKEN"));
  const auto no_url = parse(R"({"mattermost": {"slash_token": "s"}})");
  REQUIRE(no_url.problems.size() == 1);
  CHECK(no_url.problems[0].path == "mattermost.url");
}

TEST_CASE("a secret with a space or line break is a problem") {
  const auto r = parse("{}", env_of({{"MATTERMOST_URL", "https://m"}, {"MATTERMOST_TOKEN", "abc\n"}}));
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "mattermost.token");
  CHECK(contains(r.problems[0].message, "line break"));
  CHECK(contains(r.problems[0].message, "(from MATTERMOST_TOKEN)"));
}

TEST_CASE("secrets never appear in problems") {
  const std::string bot = "xoxp-9f8e7d6c5b4a-SECRETBOT";
  const std::string app = "xoxb-SECRETAPP-1234";
  const std::string signing = "SECRET signing 42";
  const std::string mm = "SECRETmm token";
  const std::string slash = "SECRETslash\n";
  const std::string text = R"({
    "slack": {"mode": "http", "bot_token": ")" + bot + R"(", "app_token": ")" + app + R"(",
              "signing_secret": ")" + signing + R"("},
    "mattermost": {"token": "SECRETfilemm"},
    "xoxb-SECRETKEY-000": true,
    "tls": {"xapp-SECRETKEY-111": 1}
  })";
  const auto r = parse(text, env_of({{"MATTERMOST_TOKEN", mm}, {"MATTERMOST_SLASH_TOKEN", slash}}));
  const std::string all = all_problems(r);
  INFO(all);
  CHECK(r.problems.size() >= 7);
  CHECK_FALSE(contains(all, "SECRET"));
  CHECK_FALSE(contains(all, "9f8e7d6c5b4a"));
  CHECK(contains(all, "xoxp-…(27 chars)"));

  SUBCASE("not in syntax errors either") {
    for (std::string_view broken : {R"({"slack": {"bot_token": "xoxb-SECRET-unterminated}})",
                                    "{\"slack\": {\"bot_token\": \"xoxb-SECRET\tcontrol\"}}",
                                    R"({"slack": {"bot_token": xoxb-SECRET-unquoted}})",
                                    R"({"slack": {"bot_token": "xoxb-1" "SECRET"}})"}) {
      CAPTURE(broken);
      const auto e = parse(broken);
      REQUIRE(e.problems.size() == 1);
      CHECK_FALSE(contains(e.problems[0].message, "SECRET"));
    }
  }
}

TEST_CASE("the example file parses clean and holds every key at its default") {
  const std::string path = KINTSUGI_SOURCE_DIR "/config/kintsugi.example.json";
  const auto r = cfg::load(path, no_env());
  INFO(all_problems(r));
  REQUIRE(r.ok());
  const cfg::config& c = *r.cfg;
  const cfg::config d;
  CHECK(c.source == path);
  CHECK(c.database == d.database);
  CHECK(c.log_level == d.log_level);
  CHECK(c.incident.create_channel == d.incident.create_channel);
  CHECK(c.incident.channel_prefix == d.incident.channel_prefix);
  CHECK(c.incident.default_due_days == d.incident.default_due_days);
  CHECK(c.tls.ca_file == d.tls.ca_file);
  CHECK(c.http.listen == d.http.listen);
  CHECK(c.slack.mode == d.slack.mode);
  CHECK(c.slack.api_base_url == d.slack.api_base_url);
  CHECK(c.mattermost.url == d.mattermost.url);
  CHECK(c.postmortem.dir == d.postmortem.dir);

  const std::string text = read_file(path);
  for (std::string_view key : {"database", "log_level", "incident", "create_channel", "channel_prefix",
                               "default_due_days", "tls", "ca_file", "http", "listen", "slack", "mode", "app_token",
                               "bot_token", "signing_secret", "api_base_url", "mattermost", "url", "token",
                               "slash_token", "postmortem", "dir"}) {
    CAPTURE(key);
    CHECK(contains(text, "\"" + std::string(key) + "\":"));    // the key with its default
    CHECK(contains(text, "\"//" + std::string(key) + "\":"));  // and a sentence on it
  }
}

TEST_CASE("load reads a file and names it in problems") {
  kintsugi::test::temp_dir dir;
  const std::string file = dir.file("kintsugi.json");
  write_file(file, R"({"database": "from-file.db", "slack": {"mode": "sockets"}})");
  const auto r = cfg::load(file, no_env());
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].path == "slack.mode");

  write_file(file, R"({"database": "from-file.db"})");
  const auto ok = cfg::load(file, no_env());
  REQUIRE(ok.ok());
  CHECK(ok.cfg->database == "from-file.db");
  CHECK(ok.cfg->source == file);

  write_file(file, "{\"database\": ");
  const auto syntax = cfg::load(file, no_env());
  REQUIRE(syntax.problems.size() == 1);
  CHECK(contains(syntax.problems[0].message, file));
}

TEST_CASE("load: a missing, empty-named, directory or unreadable file is one problem") {
  kintsugi::test::temp_dir dir;
  const auto missing = cfg::load(dir.file("nope.json"), no_env());
  REQUIRE(missing.problems.size() == 1);
  CHECK_FALSE(missing.ok());
  CHECK(missing.problems[0].path.empty());
  CHECK(contains(missing.problems[0].message, "nope.json"));
  CHECK(contains(missing.problems[0].message, "not found"));
  CHECK(contains(missing.problems[0].message, "--config"));
  CHECK(contains(missing.problems[0].message, "KINTSUGI_CONFIG"));

  const auto empty_name = cfg::load(std::string(), no_env());
  REQUIRE(empty_name.problems.size() == 1);
  CHECK(contains(empty_name.problems[0].message, "empty"));

  const auto directory = cfg::load(dir.path().string(), no_env());
  REQUIRE(directory.problems.size() == 1);
  CHECK(contains(directory.problems[0].message, "is a directory"));

  const std::string locked = dir.file("locked.json");
  write_file(locked, "{}");
  ::chmod(locked.c_str(), 0);
  if (!std::ifstream(locked)) {  // root reads anything
    const auto unreadable = cfg::load(locked, no_env());
    REQUIRE(unreadable.problems.size() == 1);
    CHECK(contains(unreadable.problems[0].message, "cannot be read"));
    CHECK(contains(unreadable.problems[0].message, "locked.json"));
  }
}

TEST_CASE("choose_file: --config, else KINTSUGI_CONFIG, else none") {
  const auto env = env_of({{"KINTSUGI_CONFIG", "/etc/kintsugi.json"}});
  CHECK(cfg::choose_file(std::string("cli.json"), env) == std::optional<std::string>("cli.json"));
  CHECK(cfg::choose_file(std::nullopt, env) == std::optional<std::string>("/etc/kintsugi.json"));
  CHECK(cfg::choose_file(std::string(), env) == std::optional<std::string>("/etc/kintsugi.json"));
  CHECK_FALSE(cfg::choose_file(std::nullopt, no_env()).has_value());
  CHECK_FALSE(cfg::choose_file(std::nullopt, env_of({{"KINTSUGI_CONFIG", ""}})).has_value());
}

TEST_CASE("system_environment reads the process environment") {
  const auto env = cfg::system_environment();
  ::setenv("KINTSUGI_CONFIG_TEST_VAR", "value 1", 1);
  CHECK(env("KINTSUGI_CONFIG_TEST_VAR") == std::optional<std::string>("value 1"));
  ::unsetenv("KINTSUGI_CONFIG_TEST_VAR");
  CHECK_FALSE(env("KINTSUGI_CONFIG_TEST_VAR").has_value());
  const std::string_view longer = "KINTSUGI_CONFIG_TEST_VARX";
  ::setenv("KINTSUGI_CONFIG_TEST_VAR", "v", 1);
  CHECK(env(longer.substr(0, longer.size() - 1)) == std::optional<std::string>("v"));  // not NUL-terminated
  ::unsetenv("KINTSUGI_CONFIG_TEST_VAR");
}

TEST_CASE("redact shows the token kind and length, never the secret") {
  CHECK(cfg::redact("") == "(empty)");
  CHECK(cfg::redact("xoxb-123-secretvalue") == "xoxb-…(20 chars)");
  CHECK(cfg::redact("xapp-1-A0-abc") == "xapp-…(13 chars)");
  CHECK(cfg::redact("xoxp-42") == "xoxp-…(7 chars)");
  CHECK(cfg::redact("deadbeefcafe") == "…(12 chars)");
  CHECK(cfg::redact("abc-secret") == "…(10 chars)");  // a '-' alone is no known prefix
  CHECK(cfg::redact("xoxb") == "…(4 chars)");
  const std::string token = "xoxb-111-222-TAILSECRET";
  CHECK_FALSE(contains(cfg::redact(token), "TAIL"));
  CHECK_FALSE(contains(cfg::redact(token), "111"));
}

TEST_CASE("to_string joins path and message") {
  CHECK(cfg::to_string({"slack.mode", "must be x"}) == "slack.mode: must be x");
  CHECK(cfg::to_string({"", "file not found"}) == "file not found");
}
