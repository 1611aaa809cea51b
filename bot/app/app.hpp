#pragma once
// The subcommands of the kintsugi executable. Each returns the process exit code:
// 0 fine, 1 a runtime failure (database, I/O), 2 a usage or configuration problem.
#include <optional>
#include <string>

namespace kintsugi::app {

struct run_options {
  std::optional<std::string> config;
};

struct console_options {
  std::optional<std::string> db;
  bool jsonl = false;
  std::optional<std::string> user;
  std::string channel = "general";
  std::optional<std::string> config;
};

struct export_options {
  std::optional<std::string> db;
  std::string incident;
  std::string format;
  std::optional<std::string> config;
};

struct stats_options {
  std::optional<std::string> db;
  int days = 30;
  std::string format;
  std::optional<std::string> config;
};

int run(const run_options& o);
int console(const console_options& o);
int postmortem(const export_options& o);
int timeline(const export_options& o);
int stats(const stats_options& o);
int check_config(const std::optional<std::string>& path);

}  // namespace kintsugi::app
