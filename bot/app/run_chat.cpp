// `kintsugi run` with a chat platform configured: one io_context for the adapters, the engine and the store on
// the runtime's own thread, SIGINT/SIGTERM for a clean stop.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "chat.hpp"
#include "net/tls.hpp"
#include "runtime/host.hpp"
#include "slack/adapter.hpp"
#include "storage/sqlite_store.hpp"

namespace kintsugi::app {

namespace asio = boost::asio;

int run_chat(const config::config& cfg, const core::engine_options& options, std::shared_ptr<spdlog::logger> log) {
  if (cfg.mattermost.enabled()) {
    std::cerr << "kintsugi: the Mattermost adapter is not part of this build yet; remove the mattermost settings.\n";
    return 2;
  }
  if (cfg.slack.mode == "http") {
    std::cerr << "kintsugi: slack.mode \"http\" is not part of this build yet; use \"socket\" (Socket Mode).\n";
    return 2;
  }
  storage::sqlite_store db{cfg.database};
  core::engine engine{db, options};
  runtime::host host{db, engine};
  asio::io_context io;
  auto tls = net::make_client_context(cfg.tls.ca_file);

  slack::settings s;
  s.app_token = cfg.slack.app_token;
  s.bot_token = cfg.slack.bot_token;
  s.api_base_url = cfg.slack.api_base_url;
  slack::adapter slack{io.get_executor(), tls, s, host, log};
  host.on_commit([&slack] { slack.wake_sender(); });

  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log->info("signal {}: stopping", signal);
    slack.stop();
  });
  int code = 0;
  log->info("kintsugi starting: slack socket mode, database {}", cfg.database);
  asio::co_spawn(io, slack.run(), [&](std::exception_ptr e, std::string reason) {
    signals.cancel();
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log->error("slack adapter failed: {}", ex.what());
      }
      code = 1;
      return;
    }
    log->info("slack adapter stopped: {}", reason);
    if (reason != "stopped") code = 1;
  });
  io.run();
  host.on_commit({});
  return code;
}

}  // namespace kintsugi::app
