#include "app.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "chat.hpp"
#include "config/config.hpp"
#include "console/console.hpp"
#include "core/dispatcher.hpp"
#include "core/engine.hpp"
#include "core/metrics.hpp"
#include "core/postmortem.hpp"
#include "core/record.hpp"
#include "docs/exports.hpp"
#include "storage/sqlite_store.hpp"

namespace kintsugi::app {
namespace {

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  auto logger = spdlog::get("kintsugi");
  if (!logger) logger = spdlog::stderr_color_mt("kintsugi");
  logger->set_level(spdlog::level::from_str(level));
  return logger;
}

// The config to use, or nullopt after printing every problem.
std::optional<config::config> load_config(const std::optional<std::string>& path) {
  auto env = config::system_environment();
  auto result = config::load(config::choose_file(path, env), env);
  if (result.ok()) return result.cfg;
  std::cerr << "kintsugi: the configuration has " << result.problems.size() << " problem(s):\n";
  for (const auto& p : result.problems) std::cerr << "  " << config::to_string(p) << "\n";
  std::cerr << "Fix them, then check again with `kintsugi check-config --config FILE`.\n";
  return std::nullopt;
}

core::engine_options engine_options_of(const config::config& cfg) {
  core::engine_options o;
  o.create_channel = cfg.incident.create_channel;
  o.channel_prefix = cfg.incident.channel_prefix;
  o.default_due_days = cfg.incident.default_due_days;
  const auto& r = cfg.reminders;
  auto& p = o.reminders;
  p.enabled = r.enabled;
  p.timezone = r.timezone;
  p.hours.start = r.work_start;
  p.hours.end = r.work_end;
  p.hours.days = r.working_days;
  p.digest_channel = r.digest_channel;
  p.digest_weekday = r.digest_weekday;
  p.digest_time = r.digest_time;
  p.commander_first = r.commander_after;
  p.others_first = r.roles_after;
  p.role_repeat = r.role_every;
  p.role_max_asks = r.role_max_asks;
  for (std::size_t k = 0; k < p.update_every.size(); ++k) p.update_every[k] = r.update_every[k];
  p.review_days_sev1 = r.review_days_sev1;
  p.review_business_days = r.review_business_days;
  p.before_due_days = r.before_due_days;
  p.overdue_every = r.overdue_every_business_days;
  p.escalate_after = r.escalate_after;
  p.lookback_days = r.lookback_days;
  return o;
}

// Opens an existing database for reading out documents; a missing file is a usage error, not a new database.
std::unique_ptr<storage::sqlite_store> open_existing(const std::string& path) {
  if (path != ":memory:" && !std::filesystem::exists(path)) {
    std::cerr << "kintsugi: there is no database at " << path
              << ". Pass the file the bot uses with --db FILE (the console's default is ./kintsugi.db).\n";
    return nullptr;
  }
  return std::make_unique<storage::sqlite_store>(path);
}

core::timestamp wall_clock() {
  return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
}

struct opened {
  std::unique_ptr<storage::sqlite_store> db;
  std::optional<core::incident_record> record;
};

// Database + the incident's record for the export subcommands; prints what is wrong when it can't.
opened open_record(const export_options& o, int& code) {
  opened r;
  auto cfg = load_config(o.config);
  if (!cfg) {
    code = exit_usage;
    return r;
  }
  auto id = core::parse_incident_ref(o.incident);
  if (!id) {
    std::cerr << "kintsugi: `" << o.incident << "` is not an incident; use its number or key, like 7 or INC-7.\n";
    code = exit_usage;
    return r;
  }
  r.db = open_existing(o.db.value_or(cfg->database));
  if (!r.db) {
    code = exit_usage;
    return r;
  }
  r.record = core::load_record(*r.db, *id);
  if (!r.record) {
    std::cerr << "kintsugi: there is no INC-" << *id << " in " << o.db.value_or(cfg->database) << ".\n";
    code = exit_failure;
  }
  return r;
}

int run_console(const config::config& cfg, const std::string& db_path, bool jsonl, const std::string& user,
                const std::string& channel) {
  auto logger = make_logger(jsonl ? cfg.log_level : "warn");
  storage::sqlite_store db{db_path};
  core::engine engine{db, engine_options_of(cfg)};
  core::dispatcher dispatcher{db, engine};
  console::options opt{user, channel, db_path, cfg.postmortem.dir};
  logger->info("console started db={} mode={}", db_path, jsonl ? "jsonl" : "text");
  return jsonl ? console::run_jsonl(std::cin, std::cout, db, dispatcher, opt)
               : console::run_text(std::cin, std::cout, db, dispatcher, opt);
}

std::string default_user() {
  const char* u = std::getenv("USER");
  return u && *u ? u : "you";
}

}  // namespace

int run(const run_options& o) {
  auto cfg = load_config(o.config);
  if (!cfg) return exit_usage;
  if (cfg->slack.enabled() || cfg->mattermost.enabled()) return run_chat(*cfg, engine_options_of(*cfg), make_logger(cfg->log_level));
  std::cout << "No Slack or Mattermost is configured, so kintsugi runs as a console in this terminal.\n\n";
  return run_console(*cfg, cfg->database, false, default_user(), "general");
}

int console(const console_options& o) {
  auto cfg = load_config(o.config);
  if (!cfg) return exit_usage;
  return run_console(*cfg, o.db.value_or(cfg->database), o.jsonl, o.user.value_or(o.jsonl ? "console" : default_user()),
                     o.channel);
}

int postmortem(const export_options& o) {
  int code = 0;
  auto r = open_record(o, code);
  if (!r.record) return code;
  if (o.format == "json") std::cout << docs::postmortem_json(*r.record) << "\n";
  else if (o.format == "html") std::cout << docs::postmortem_html(*r.record);
  else std::cout << core::render_postmortem_markdown(*r.record);
  return 0;
}

int timeline(const export_options& o) {
  int code = 0;
  auto r = open_record(o, code);
  if (!r.record) return code;
  if (o.format == "json") std::cout << docs::timeline_json(*r.record) << "\n";
  else if (o.format == "csv") std::cout << docs::timeline_csv(*r.record);
  else std::cout << core::render_timeline_markdown(*r.record);
  return 0;
}

int stats(const stats_options& o) {
  auto cfg = load_config(o.config);
  if (!cfg) return exit_usage;
  auto db = open_existing(o.db.value_or(cfg->database));
  if (!db) return exit_usage;
  auto now = wall_clock();
  auto since = now - std::chrono::days{o.days};
  auto s = core::compute_stats(db->incidents_since(since), db->actions_since(since), now, o.days);
  if (o.format == "json") std::cout << docs::stats_json(s) << "\n";
  else std::cout << core::render_stats_text(s) << "\n";
  return 0;
}

int check_config(const std::optional<std::string>& path) {
  auto env = config::system_environment();
  auto file = config::choose_file(path, env);
  auto result = config::load(file, env);
  std::string name = file.value_or("(no file: defaults and environment)");
  if (!result.ok()) {
    std::cerr << name << ": " << result.problems.size() << " problem(s)\n";
    for (const auto& p : result.problems) std::cerr << "  " << config::to_string(p) << "\n";
    return exit_usage;
  }
  const auto& c = *result.cfg;
  std::cout << name << ": OK\n"
            << "  database: " << c.database << "\n"
            << "  incidents: " << (c.incident.create_channel ? "a new channel each, " : "in the channel where declared, ")
            << "prefix " << c.incident.channel_prefix << "\n";
  if (c.slack.enabled())
    std::cout << "  slack: " << c.slack.mode << " mode, bot token " << config::redact(c.slack.bot_token) << "\n";
  if (c.mattermost.enabled())
    std::cout << "  mattermost: " << c.mattermost.url << ", token " << config::redact(c.mattermost.token)
              << (c.mattermost.slash_token.empty() ? ", no slash_token (/incident will be refused)" : "")
              << (c.mattermost.callback_url.empty() ? ", no callback_url (no buttons)"
                                                    : ", buttons via " + c.mattermost.callback_url)
              << "\n";
  if (!c.slack.enabled() && !c.mattermost.enabled()) std::cout << "  adapters: none (kintsugi runs the console)\n";
  return 0;
}

}  // namespace kintsugi::app
