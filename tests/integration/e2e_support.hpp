#pragma once
// Helpers for end-to-end tests that drive the real kintsugi binary through `console --jsonl`.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "temp_dir.hpp"

namespace kintsugi::test {

using json = nlohmann::json;

// The whole file (a bot's log), or "" when it cannot be read.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

// Polls `condition` every 20 ms for at most `timeout`, for what no fake can signal (the bot's log, its database).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return true;
}

// One input line: a chat message (a text starting with "/" is a command).
inline std::string say(const std::string& id, const std::string& user, const std::string& channel, const std::string& text,
                       const std::string& ts) {
  return json{{"type", "message"}, {"id", id}, {"user", user}, {"channel", channel}, {"text", text}, {"ts", ts}}.dump() + "\n";
}

inline process_result run_kintsugi(const std::vector<std::string>& args, const std::string& input = {},
                               const std::map<std::string, std::string>& env = {}) {
  return run_process(KINTSUGI_BINARY, args, input, env);
}

// Runs `console --jsonl` on `db` and returns every output line, parsed.
inline std::vector<json> console_jsonl(const std::string& db, const std::string& input, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"console", "--db", db, "--jsonl"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_kintsugi(args, input);
  if (r.exit_code != 0) throw std::runtime_error("kintsugi console exited with " + std::to_string(r.exit_code) + ": " + r.err);
  std::vector<json> out;
  for (const auto& line : lines_of(r.out)) out.push_back(json::parse(line));
  return out;
}

// Unsets every environment variable kintsugi reads, so a configuration file written by a test is the whole truth
// for the bot it starts, whatever the environment the tests run in.
inline void clear_kintsugi_environment() {
  for (const char* name : {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "KINTSUGI_DB",
                           "KINTSUGI_LOG_LEVEL", "KINTSUGI_CONFIG", "MATTERMOST_URL", "MATTERMOST_TOKEN",
                           "MATTERMOST_SLASH_TOKEN"})
    ::unsetenv(name);
}

inline std::vector<json> of_type(const std::vector<json>& lines, const std::string& type) {
  std::vector<json> out;
  for (const auto& l : lines)
    if (l.value("type", "") == type) out.push_back(l);
  return out;
}

inline bool any_text_contains(const std::vector<json>& lines, const std::string& type, const std::string& needle) {
  for (const auto& l : lines)
    if (l.value("type", "") == type && l.value("text", "").find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace kintsugi::test
