// kintsugi's command line (DESIGN.md "Command-line contract").
#include <CLI/CLI.hpp>

#include <iostream>

#include "app.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  CLI::App cli{"kintsugi — incident response and blameless postmortems for Slack, Mattermost and the terminal"};
  cli.set_version_flag("--version", std::string{"kintsugi "} + KINTSUGI_VERSION);
  cli.require_subcommand(0, 1);
  cli.fallthrough();

  kintsugi::app::run_options run;
  auto* run_cmd = cli.add_subcommand("run", "Run the bot: the adapters in the config; with none configured, the console");
  for (auto* app : {&cli, static_cast<CLI::App*>(run_cmd)})
    app->add_option("--config", run.config, "Config file (else $KINTSUGI_CONFIG)");

  kintsugi::app::console_options con;
  auto* console_cmd = cli.add_subcommand("console", "Talk to the bot in this terminal (a chat room of your own)");
  console_cmd->add_option("--db", con.db, "SQLite database file (default: the config's database, ./kintsugi.db)");
  console_cmd->add_flag("--jsonl", con.jsonl, "JSON lines on stdin and stdout (the machine interface)");
  console_cmd->add_option("--user", con.user, "Who you are in the text console (default: $USER)");
  console_cmd->add_option("--channel", con.channel, "The channel you start in (default: general)");
  console_cmd->add_option("--config", con.config, "Config file (else $KINTSUGI_CONFIG)");

  kintsugi::app::export_options pm;
  auto* pm_cmd = cli.add_subcommand("postmortem", "Print an incident's postmortem document");
  pm_cmd->add_option("--db", pm.db, "SQLite database file");
  pm_cmd->add_option("incident", pm.incident, "Incident number or key (7 or INC-7)")->required();
  pm_cmd->add_option("--format", pm.format, "markdown, json or html")
      ->check(CLI::IsMember({"markdown", "json", "html"}))->default_val("markdown");
  pm_cmd->add_option("--config", pm.config, "Config file (for the database path)");

  kintsugi::app::export_options tl;
  auto* tl_cmd = cli.add_subcommand("timeline", "Print an incident's timeline");
  tl_cmd->add_option("--db", tl.db, "SQLite database file");
  tl_cmd->add_option("incident", tl.incident, "Incident number or key (7 or INC-7)")->required();
  tl_cmd->add_option("--format", tl.format, "markdown, json or csv")
      ->check(CLI::IsMember({"markdown", "json", "csv"}))->default_val("markdown");
  tl_cmd->add_option("--config", tl.config, "Config file (for the database path)");

  kintsugi::app::stats_options st;
  auto* st_cmd = cli.add_subcommand("stats", "How the team is doing: incidents, response times, repeats, action items");
  st_cmd->add_option("--db", st.db, "SQLite database file");
  st_cmd->add_option("--days", st.days, "The window, in days")->check(CLI::Range(1, 3650))->default_val(30);
  st_cmd->add_option("--format", st.format, "text or json")->check(CLI::IsMember({"text", "json"}))->default_val("text");
  st_cmd->add_option("--config", st.config, "Config file (for the database path)");

  std::optional<std::string> check_path;
  auto* check_cmd = cli.add_subcommand("check-config", "Check a config file and report every problem with its key path");
  check_cmd->add_option("--config", check_path, "Config file (else $KINTSUGI_CONFIG)");

  auto* version_cmd = cli.add_subcommand("version", "Print the version");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage problem: exit 2, as documented.
    return cli.exit(e) == 0 ? 0 : 2;
  }

  try {
    if (*version_cmd) {
      std::cout << "kintsugi " << KINTSUGI_VERSION << "\n";
      return 0;
    }
    if (*console_cmd) return kintsugi::app::console(con);
    if (*pm_cmd) return kintsugi::app::postmortem(pm);
    if (*tl_cmd) return kintsugi::app::timeline(tl);
    if (*st_cmd) return kintsugi::app::stats(st);
    if (*check_cmd) return kintsugi::app::check_config(check_path);
    return kintsugi::app::run(run);
  } catch (const std::exception& e) {
    std::cerr << "kintsugi: " << e.what() << "\n";
    return 1;
  }
}
