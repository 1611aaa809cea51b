// The kintsugi command line (README "Command line"): version and help, check-config, the export subcommands'
// errors, stats, a config file with incident.create_channel, and KINTSUGI_DB.
#include <doctest/doctest.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "e2e_support.hpp"

using namespace kintsugi::test;

namespace {

// Settings from the environment of whoever runs the tests must not leak in: an empty variable counts as unset.
std::map<std::string, std::string> clean_env(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env{
      {"KINTSUGI_CONFIG", ""},      {"KINTSUGI_DB", ""},      {"KINTSUGI_LOG_LEVEL", ""},
      {"SLACK_APP_TOKEN", ""},      {"SLACK_BOT_TOKEN", ""},  {"SLACK_SIGNING_SECRET", ""},
      {"MATTERMOST_URL", ""},       {"MATTERMOST_TOKEN", ""}, {"MATTERMOST_SLASH_TOKEN", ""},
  };
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

process_result cli(const std::vector<std::string>& args, const std::string& input = {},
                   const std::map<std::string, std::string>& extra_env = {}) {
  return run_kintsugi(args, input, clean_env(extra_env));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

// ISO 8601 for `base` minus `ago`.
std::string iso_ago(std::chrono::system_clock::time_point base, std::chrono::minutes ago) {
  auto t = std::chrono::system_clock::to_time_t(base - ago);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A small incident, declared two hours ago (so stats' window, which ends at the wall clock, holds it) and
// resolved 30 minutes later, with one action item.
std::string recent_incident(const std::string& channel = "inc-api") {
  using std::chrono::minutes;
  const auto now = std::chrono::system_clock::now();
  return say("c1", "alice", channel, "/incident start API latency high sev2", iso_ago(now, minutes{120})) +
         say("c2", "bob", channel, "/incident role commander me", iso_ago(now, minutes{115})) +
         say("m1", "bob", channel, "rolling back the deploy", iso_ago(now, minutes{110})) +
         say("c3", "bob", channel, "/incident action add Canary stage for deploys @carol due:+14d kind:process",
             iso_ago(now, minutes{100})) +
         say("c4", "bob", channel, "/incident resolve rolled back", iso_ago(now, minutes{90}));
}

// An existing database with INC-1 in it.
std::string db_with_incident(const temp_dir& dir) {
  auto db = dir.file("k.db");
  auto r = cli({"console", "--db", db, "--jsonl"}, recent_incident());
  REQUIRE(r.exit_code == 0);
  return db;
}

}  // namespace

TEST_CASE("version prints the name and a version") {
  auto r = cli({"version"});
  CHECK(r.exit_code == 0);
  REQUIRE(r.out.starts_with("kintsugi "));
  auto version = lines_of(r.out).at(0).substr(9);
  CHECK_FALSE(version.empty());
  CHECK(version.find_first_of("0123456789") == 0);
  CHECK(version.find('.') != std::string::npos);
  CHECK(r.err.empty());
  // --version says the same.
  auto flag = cli({"--version"});
  CHECK(flag.exit_code == 0);
  CHECK(has(flag.out, "kintsugi " + version));
}

TEST_CASE("--help lists every subcommand") {
  auto r = cli({"--help"});
  CHECK(r.exit_code == 0);
  for (auto sub : {"run", "console", "postmortem", "timeline", "stats", "check-config", "version"}) {
    CAPTURE(sub);
    CHECK(has(r.out, std::string{"\n  "} + sub + " "));
  }
  auto pm = cli({"postmortem", "--help"});
  CHECK(pm.exit_code == 0);
  CHECK(has(pm.out, "--format"));
  CHECK(has(pm.out, "--db"));
}

TEST_CASE("check-config accepts a good file") {
  temp_dir dir;
  auto good = dir.file("good.json");
  write_file(good, R"({
  "// a comment": "anything",
  "database": ")" + dir.file("bot.db") + R"(",
  "log_level": "warn",
  "incident": { "create_channel": true, "channel_prefix": "inc-", "default_due_days": 7 },
  "http": { "listen": "127.0.0.1:3999" }
})");
  auto r = cli({"check-config", "--config", good});
  CHECK(r.exit_code == 0);
  CHECK(has(r.out, good + ": OK"));
  CHECK(has(r.out, "a new channel each"));
  CHECK(has(r.out, dir.file("bot.db")));

  // The documented example is a good file too.
  auto example = cli({"check-config", "--config", std::string{KINTSUGI_SOURCE_DIR} + "/config/kintsugi.example.json"});
  CHECK(example.exit_code == 0);
  CHECK(has(example.out, ": OK"));
}

TEST_CASE("check-config lists every problem with its key path and never shows a secret") {
  temp_dir dir;
  auto bad = dir.file("bad.json");
  write_file(bad, R"({
  "databse": "x.db",
  "log_level": "verbose",
  "incident": { "channel_prefix": "INC ", "default_due_days": 0 },
  "slack": { "mode": "websocket", "app_token": "zzAPPSECRETzz" }
})");
  for (std::string token : {"xoxb-SECRET-abc123", "xoxb-SECRET-abc123\n", "xoxp-SECRET-abc123"}) {
    CAPTURE(token);
    auto r = cli({"check-config", "--config", bad}, {}, {{"SLACK_BOT_TOKEN", token}});
    CHECK(r.exit_code == 2);
    CAPTURE(r.err);
    CHECK(has(r.err, bad));
    CHECK(has(r.err, "databse: unknown key; did you mean `database`?"));
    CHECK(has(r.err, "log_level:"));
    CHECK(has(r.err, "incident.channel_prefix:"));
    CHECK(has(r.err, "incident.default_due_days:"));
    CHECK(has(r.err, "slack.mode:"));
    CHECK(has(r.err, "slack.app_token:"));
    for (const auto* text : {&r.out, &r.err}) {
      CHECK_FALSE(has(*text, "SECRET"));
      CHECK_FALSE(has(*text, "abc123"));
    }
  }
  // A token with a stray line break is named, redacted.
  auto newline = cli({"check-config", "--config", bad}, {}, {{"SLACK_BOT_TOKEN", "xoxb-SECRET-abc123\n"}});
  CHECK(has(newline.err, "slack.bot_token:"));
  CHECK(has(newline.err, "SLACK_BOT_TOKEN"));
}

TEST_CASE("check-config on a file that is not there names the file") {
  temp_dir dir;
  auto missing = dir.file("nowhere.json");
  auto r = cli({"check-config", "--config", missing});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, missing));
  CHECK(has(r.err, "not found"));
}

TEST_CASE("check-config on a file that is not JSON") {
  temp_dir dir;
  auto broken = dir.file("broken.json");
  write_file(broken, R"({"slack": {"bot_token": "xoxb-SECRET-abc123)");
  auto r = cli({"check-config", "--config", broken});
  CHECK(r.exit_code == 2);
  CHECK(has(r.err, "not valid JSON"));
  CHECK_FALSE(has(r.err, "SECRET"));
  CHECK_FALSE(has(r.out, "SECRET"));
}

TEST_CASE("postmortem, timeline and stats on a database that is not there") {
  temp_dir dir;
  auto missing = dir.file("none.db");
  for (std::vector<std::string> args : {std::vector<std::string>{"postmortem", "--db", missing, "1"},
                                        std::vector<std::string>{"timeline", "--db", missing, "1"},
                                        std::vector<std::string>{"stats", "--db", missing}}) {
    CAPTURE(args.front());
    auto r = cli(args);
    CHECK(r.exit_code == 2);
    CHECK(has(r.err, missing));
    CHECK(has(r.err, "--db FILE"));
    CHECK(r.out.empty());
    // Nothing is created by looking.
    CHECK_FALSE(std::filesystem::exists(missing));
  }
}

TEST_CASE("postmortem of an incident that does not exist, or is not an incident reference") {
  temp_dir dir;
  auto db = db_with_incident(dir);
  auto none = cli({"postmortem", "--db", db, "99"});
  CHECK(none.exit_code != 0);
  CHECK(has(none.err, "no INC-99"));
  CHECK(none.out.empty());
  auto by_key = cli({"postmortem", "--db", db, "INC-99"});
  CHECK(by_key.exit_code != 0);
  CHECK(has(by_key.err, "no INC-99"));

  auto word = cli({"postmortem", "--db", db, "abc"});
  CHECK(word.exit_code == 2);
  CHECK(has(word.err, "abc"));
  CHECK(has(word.err, "INC-7"));

  // The real one is there, by number and by key.
  CHECK(cli({"postmortem", "--db", db, "1"}).exit_code == 0);
  CHECK(cli({"postmortem", "--db", db, "INC-1"}).exit_code == 0);
}

TEST_CASE("formats and windows that are not offered are rejected") {
  temp_dir dir;
  auto db = db_with_incident(dir);
  auto pdf = cli({"postmortem", "--db", db, "1", "--format", "pdf"});
  CHECK(pdf.exit_code != 0);
  CHECK(has(pdf.err, "pdf"));
  CHECK(pdf.out.empty());
  auto html_timeline = cli({"timeline", "--db", db, "1", "--format", "html"});
  CHECK(html_timeline.exit_code != 0);
  auto zero = cli({"stats", "--db", db, "--days", "0"});
  CHECK(zero.exit_code != 0);
  CHECK(has(zero.err, "--days"));
  auto xml = cli({"stats", "--db", db, "--format", "xml"});
  CHECK(xml.exit_code != 0);
}

// Bug (bot/app/main.cpp): README says "Exit codes: 0 fine, 1 a runtime failure, 2 a usage or configuration
// problem", but a command line CLI11 rejects returns CLI11's own code from `cli.exit(e)`: 105 for a value not
// allowed (`--format pdf`, `--days 0`), 106 for a missing argument (`postmortem` with no incident), 109 for an
// unknown subcommand or extra argument. Expected: 2 for each.
TEST_CASE("every usage error exits 2") {
  temp_dir dir;
  auto db = db_with_incident(dir);
  for (std::vector<std::string> args : {std::vector<std::string>{"postmortem", "--db", db, "1", "--format", "pdf"},
                                        std::vector<std::string>{"stats", "--db", db, "--days", "0"},
                                        std::vector<std::string>{"postmortem", "--db", db},
                                        std::vector<std::string>{"bogus"},
                                        std::vector<std::string>{"timeline", "--db", db, "1", "--colour"}}) {
    CAPTURE(args.back());
    CHECK(cli(args).exit_code == 2);
  }
}

TEST_CASE("stats as JSON counts the incidents and action items") {
  temp_dir dir;
  auto db = db_with_incident(dir);
  auto r = cli({"stats", "--db", db, "--format", "json"});
  REQUIRE(r.exit_code == 0);
  json s;
  REQUIRE_NOTHROW(s = json::parse(r.out));
  CHECK(s["days"] == 30);
  CHECK(s["incidents"] == 1);
  CHECK(s["open_incidents"] == 0);
  CHECK(s["by_severity"]["sev2"] == 1);
  CHECK(s["by_severity"]["sev1"] == 0);
  CHECK(s["actions"]["total"] == 1);
  CHECK(s["actions"]["open"] == 1);
  CHECK(s["time_to_resolve"]["count"] == 1);
  CHECK(s["time_to_resolve"]["median_seconds"] == 30 * 60);

  auto week = cli({"stats", "--db", db, "--days", "7", "--format", "json"});
  REQUIRE(week.exit_code == 0);
  CHECK(json::parse(week.out)["days"] == 7);
  auto text = cli({"stats", "--db", db});
  CHECK(text.exit_code == 0);
  CHECK(has(text.out, "1 incident"));
}

TEST_CASE("with incident.create_channel, a start from general opens, announces and captures a new channel") {
  temp_dir dir;
  auto cfg = dir.file("kintsugi.json");
  write_file(cfg, R"({"incident": {"create_channel": true}})");
  auto db = dir.file("k.db");
  const std::string created = "inc-20261120-payment-api-down";
  auto input = say("c1", "alice", "general", "/incident start Payment API down sev2", "2026-11-20T10:00:00Z") +
               say("m1", "bob", created, "card authorisations failing at 40%", "2026-11-20T10:01:00Z") +
               say("m2", "bob", "general", "lunch anyone?", "2026-11-20T10:02:00Z") +
               say("c2", "bob", created, "/incident role commander me", "2026-11-20T10:03:00Z");
  auto r = cli({"console", "--config", cfg, "--db", db, "--jsonl"}, input);
  REQUIRE(r.exit_code == 0);
  std::vector<json> out;
  for (const auto& l : lines_of(r.out)) out.push_back(json::parse(l));
  REQUIRE(out.size() >= 4);

  // In this order: the channel, the declarer in it, the announcement where it was declared, the welcome there.
  CHECK(out[0] == json{{"type", "create_channel"}, {"name", created}});
  CHECK(out[1] == json{{"type", "invite"}, {"channel", created}, {"user", "alice"}});
  CHECK(out[2]["type"] == "post");
  CHECK(out[2]["channel"] == "general");
  CHECK(has(out[2]["text"].get<std::string>(), "#" + created));
  CHECK(has(out[2]["text"].get<std::string>(), "INC-1"));
  CHECK(out[3]["type"] == "post");
  CHECK(out[3]["channel"] == created);
  CHECK(has(out[3]["text"].get<std::string>(), "INC-1: Payment API down"));
  CHECK(has(out[3]["text"].get<std::string>(), "Who takes them"));
  CHECK(any_text_contains(out, "topic", "INC-1 sev2"));
  for (const auto& l : of_type(out, "topic")) CHECK(l["channel"] == created);
  CHECK(of_type(out, "error").empty());

  // What is said in the new channel is on the timeline; what is said in general is not.
  auto t = cli({"timeline", "--db", db, "1", "--format", "json"});
  REQUIRE(t.exit_code == 0);
  auto tl = json::parse(t.out);
  CHECK(tl["incident"]["channel"] == created);
  bool captured = false;
  for (const auto& e : tl["entries"]) {
    CHECK(e["text"] != "lunch anyone?");
    if (e["text"] == "card authorisations failing at 40%") {
      captured = true;
      CHECK(e["author"] == "bob");
      CHECK(e["at"] == "2026-11-20T10:01:00Z");
    }
  }
  CHECK(captured);

  // The same title again from general gets a channel of its own.
  auto again = cli({"console", "--config", cfg, "--db", db, "--jsonl"},
                        say("c3", "carol", "general", "/incident start Payment API down", "2026-11-20T11:00:00Z"));
  REQUIRE(again.exit_code == 0);
  auto again_out = json::parse(lines_of(again.out).at(0));
  CHECK(again_out == json{{"type", "create_channel"}, {"name", created + "-2"}});

  // A start inside a channel with the prefix uses that channel.
  auto inside = cli({"console", "--config", cfg, "--db", db, "--jsonl"},
                         say("c4", "dave", "inc-manual", "/incident start Manual one", "2026-11-20T12:00:00Z"));
  REQUIRE(inside.exit_code == 0);
  std::vector<json> inside_out;
  for (const auto& l : lines_of(inside.out)) inside_out.push_back(json::parse(l));
  CHECK(of_type(inside_out, "create_channel").empty());
  CHECK(any_text_contains(inside_out, "post", "INC-3: Manual one"));
}

TEST_CASE("without create_channel, a start stays in the channel where it was declared") {
  temp_dir dir;
  auto db = dir.file("k.db");
  auto out = console_jsonl(db, say("c1", "alice", "general", "/incident start Payment API down sev2", "2026-11-20T10:00:00Z"));
  CHECK(of_type(out, "create_channel").empty());
  CHECK(of_type(out, "invite").empty());
  REQUIRE_FALSE(out.empty());
  CHECK(out[0]["channel"] == "general");
}

TEST_CASE("console --jsonl uses KINTSUGI_DB when there is no --db") {
  temp_dir dir;
  auto db = dir.file("from-env.db");
  auto r = cli({"console", "--jsonl"}, say("c1", "alice", "inc-db", "/incident start Env database sev3", "2026-11-20T10:00:00Z"),
                    {{"KINTSUGI_DB", db}});
  REQUIRE(r.exit_code == 0);
  CHECK(has(r.out, "INC-1: Env database"));
  REQUIRE(std::filesystem::exists(db));
  auto pm = cli({"postmortem", "--db", db, "1", "--format", "json"});
  REQUIRE(pm.exit_code == 0);
  CHECK(json::parse(pm.out)["incident"]["title"] == "Env database");
  // The export subcommands read it too.
  auto tl = cli({"timeline", "1", "--format", "json"}, {}, {{"KINTSUGI_DB", db}});
  REQUIRE(tl.exit_code == 0);
  CHECK(json::parse(tl.out)["incident"]["title"] == "Env database");
  // --db wins over the environment.
  auto other = dir.file("other.db");
  auto r2 = cli({"console", "--db", other, "--jsonl"}, say("c1", "alice", "inc-db", "/incident start Flag database", "2026-11-20T10:00:00Z"),
                     {{"KINTSUGI_DB", db}});
  REQUIRE(r2.exit_code == 0);
  CHECK(json::parse(cli({"postmortem", "--db", other, "1", "--format", "json"}).out)["incident"]["title"] == "Flag database");
  CHECK(json::parse(cli({"postmortem", "--db", db, "1", "--format", "json"}).out)["incident"]["title"] == "Env database");
}

TEST_CASE("console --jsonl with no input says nothing and exits 0") {
  temp_dir dir;
  auto r = cli({"console", "--db", dir.file("k.db"), "--jsonl"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
}

TEST_CASE("postmortem.dir: /incident postmortem also writes INC-<n>.md there") {
  temp_dir dir;
  auto db = dir.file("k.db");
  auto cfg = dir.file("kintsugi.json");
  auto docs = dir.file("postmortems");
  {
    std::ofstream f{cfg};
    f << R"({"postmortem": {"dir": ")" << docs << R"("}})";
  }
  auto out = console_jsonl(db,
                           say("c1", "alice", "inc-api", "/incident start API latency sev3", "2026-11-20T10:00:00Z") +
                               say("c2", "alice", "inc-api", "/incident summary Latency doubled for an hour", "2026-11-20T11:00:00Z") +
                               say("c3", "alice", "inc-api", "/incident postmortem", "2026-11-20T11:05:00Z"),
                           {"--config", cfg});
  // The jsonl stream carries the post only; the file is written beside it.
  for (const auto& line : out) CHECK(line["type"] != "document");
  std::ifstream written{docs + "/INC-1.md"};
  REQUIRE(written.good());
  std::string text{std::istreambuf_iterator<char>{written}, {}};
  CHECK(text.starts_with("# INC-1: API latency"));
  CHECK(text.find("Latency doubled for an hour") != std::string::npos);
}
