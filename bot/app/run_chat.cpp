// `kintsugi run` with a chat platform configured: one io_context for the adapters, the engine and the store on
// the runtime's own thread, SIGINT/SIGTERM for a clean stop.
//
// Slack Socket Mode: slack::adapter::run() (websocket in, Web API out).
// Slack HTTP mode: net::http_server on http.listen with slack::http_mode on POST /slack/events and GET /healthz
// (in), side by side with slack::adapter::run_sender_only() (the Web API out); whichever ends first ends the other.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <functional>
#include <iostream>
#include <optional>

#include "chat.hpp"
#include "net/http_server.hpp"
#include "net/tls.hpp"
#include "runtime/host.hpp"
#include "runtime/reminder_clock.hpp"
#include "slack/adapter.hpp"
#include "slack/http_mode.hpp"
#include "storage/sqlite_store.hpp"

namespace kintsugi::app {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

// Slack HTTP mode until the server or the adapter ends (stop(), a refused token); the adapter's reason, or "stopped".
// (Pointers, not references: coroutines take their parameters by value. All three outlive io.run().)
asio::awaitable<std::string> serve_slack_http(net::http_server* server, slack::adapter* adapter,
                                              slack::http_mode* receiver) {
  std::function<void(const slack::context&)> identified = [receiver](const slack::context& ctx) {
    receiver->set_context(ctx);
  };
  auto listening = server->run();
  auto sending = adapter->run_sender_only(std::move(identified));
  auto ended = co_await (std::move(listening) || std::move(sending));
  if (ended.index() == 1) co_return std::get<1>(std::move(ended));
  co_return std::string{"stopped"};
}

}  // namespace

int run_chat(const config::config& cfg, const core::engine_options& options, std::shared_ptr<spdlog::logger> log) {
  if (cfg.mattermost.enabled()) {
    std::cerr << "kintsugi: the Mattermost adapter is not part of this build yet; remove the mattermost settings.\n";
    return 2;
  }
  const bool http_mode = cfg.slack.mode == "http";
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
  // Reminders fire from one timer at the earliest due row; a commit may have set an earlier one.
  runtime::reminder_clock clock{io.get_executor(), host, [] {
                                  return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
                                }};
  host.on_commit([&slack, &clock] {
    slack.wake_sender();
    clock.wake();
  });

  // HTTP mode only: the listener and what answers Slack's requests on it.
  net::http_server server{io.get_executor(), {}, log};
  std::optional<slack::http_mode> receiver;
  if (http_mode) {
    slack::http_settings hs;
    hs.signing_secret = cfg.slack.signing_secret;
    hs.stored = [&slack](const std::vector<core::event>& events) { slack.note_stored(events); };
    receiver.emplace(std::move(hs), host, log);
    receiver->attach(server);
    auto listening = server.listen(cfg.http.listen);
    if (!listening) {
      std::cerr << "kintsugi: " << listening.error().message << " (http.listen in the configuration)\n";
      host.on_commit({});
      return 1;
    }
    // (net::http_server has logged "http listening on <address>:<port>", the actual port when http.listen has :0)
    log->info("kintsugi starting: slack http mode on port {} (POST /slack/events, GET /healthz), database {}",
              server.port(), cfg.database);
  } else {
    log->info("kintsugi starting: slack socket mode, database {}", cfg.database);
  }

  asio::signal_set signals{io, SIGINT, SIGTERM};
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log->info("signal {}: stopping", signal);
    slack.stop();
    server.stop();
    clock.stop();
  });
  int code = 0;
  auto done = [&](std::exception_ptr e, std::string reason) {
    signals.cancel();
    clock.stop();
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
  };
  asio::co_spawn(io, clock.run(), [log](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->error("reminders stopped: {}", ex.what());
    }
  });
  if (http_mode) asio::co_spawn(io, serve_slack_http(&server, &slack, &*receiver), done);
  else asio::co_spawn(io, slack.run(), done);
  io.run();
  host.on_commit({});
  return code;
}

}  // namespace kintsugi::app
