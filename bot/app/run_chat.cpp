// `kintsugi run` with chat platforms configured: one io_context for the adapters, the engine and the store on the
// runtime's own thread, SIGINT/SIGTERM for a clean stop. Slack and Mattermost may run side by side: each delivers
// only its own outbox items (core::route_of) and the bot's HTTP listener carries both platforms' routes.
//
// Slack Socket Mode: slack::adapter::run() (websocket in, Web API out).
// Slack HTTP mode: slack::http_mode on POST /slack/events (in) beside slack::adapter::run_sender_only() (out).
// Mattermost: mattermost::adapter::run() (websocket in, REST out) and its routes POST /mattermost/command and
// POST /mattermost/action on the listener.
// GET /healthz answers on the listener whenever there is one. When any part ends (a refused token, link_disabled,
// a listener that fails), everything stops and the exit code says so.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <functional>
#include <iostream>
#include <optional>

#include "chat.hpp"
#include "mattermost/adapter.hpp"
#include "net/http_server.hpp"
#include "net/tls.hpp"
#include "runtime/host.hpp"
#include "runtime/reminder_clock.hpp"
#include "slack/adapter.hpp"
#include "slack/http_mode.hpp"
#include "storage/sqlite_store.hpp"

namespace kintsugi::app {

namespace asio = boost::asio;

int run_chat(const config::config& cfg, const core::engine_options& options, std::shared_ptr<spdlog::logger> log) {
  const bool slack_on = cfg.slack.enabled();
  const bool mattermost_on = cfg.mattermost.enabled();
  const bool both = slack_on && mattermost_on;
  const bool slack_http = slack_on && cfg.slack.mode == "http";
  const bool listening = slack_http || mattermost_on;
  storage::sqlite_store db{cfg.database};
  core::engine engine{db, options};
  runtime::host host{db, engine};
  asio::io_context io;
  auto tls = net::make_client_context(cfg.tls.ca_file);

  // Beside another platform each adapter takes only the outbox items of its route; alone, all of them.
  std::optional<slack::adapter> slack;
  if (slack_on) {
    slack::settings s;
    s.app_token = cfg.slack.app_token;
    s.bot_token = cfg.slack.bot_token;
    s.api_base_url = cfg.slack.api_base_url;
    if (both) s.outbox_route = std::string{};
    slack.emplace(io.get_executor(), tls, std::move(s), host, log);
  }
  std::optional<mattermost::adapter> mm;
  if (mattermost_on) {
    mattermost::settings s;
    s.url = cfg.mattermost.url;
    s.token = cfg.mattermost.token;
    s.slash_token = cfg.mattermost.slash_token;
    s.callback_url = cfg.mattermost.callback_url;
    s.team = cfg.mattermost.team;
    if (both) s.outbox_route = std::string{core::mattermost_route};
    try {
      mm.emplace(io.get_executor(), tls, std::move(s), host, log);
    } catch (const std::invalid_argument& e) {
      std::cerr << "kintsugi: " << e.what() << "\n";
      return 2;
    }
    if (cfg.mattermost.slash_token.empty())
      log->warn("mattermost.slash_token is not set: /incident commands from Mattermost will be refused");
  }
  // Reminders fire from one timer at the earliest due row; a commit may have set an earlier one.
  runtime::reminder_clock clock{io.get_executor(), host, [] {
                                  return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
                                }};
  host.on_commit([&slack, &mm, &clock] {
    if (slack) slack->wake_sender();
    if (mm) mm->wake_sender();
    clock.wake();
  });

  // The listener: Slack HTTP mode, Mattermost's slash command and buttons, and /healthz.
  net::http_server server{io.get_executor(), {}, log};
  std::optional<slack::http_mode> receiver;
  if (slack_http) {
    slack::http_settings hs;
    hs.signing_secret = cfg.slack.signing_secret;
    hs.stored = [&slack](const std::vector<core::event>& events) { slack->note_stored(events); };
    receiver.emplace(std::move(hs), host, log);
    receiver->attach(server);
  }
  if (mm) mm->attach(server);
  if (listening) {
    if (!slack_http) {
      server.on(boost::beast::http::verb::get, "/healthz",
                [](const net::incoming_request&) -> asio::awaitable<net::http_reply> {
                  co_return net::http_reply::text(200, "ok\n");
                });
    }
    auto bound = server.listen(cfg.http.listen);
    if (!bound) {
      std::cerr << "kintsugi: " << bound.error().message << " (http.listen in the configuration)\n";
      host.on_commit({});
      return 1;
    }
  }
  std::string parts;
  auto add_part = [&parts](const std::string& part) { parts += (parts.empty() ? "" : ", ") + part; };
  if (slack_on) add_part(slack_http ? "slack http mode (POST /slack/events)" : "slack socket mode");
  if (mm) add_part("mattermost " + cfg.mattermost.url + " (POST /mattermost/command, /mattermost/action)");
  if (listening) add_part("listener on port " + std::to_string(server.port()));
  log->info("kintsugi starting: {}; database {}", parts, cfg.database);

  asio::signal_set signals{io, SIGINT, SIGTERM};
  auto stop_all = [&] {
    signals.cancel();
    if (slack) slack->stop();
    if (mm) mm->stop();
    server.stop();
    clock.stop();
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log->info("signal {}: stopping", signal);
    stop_all();
  });
  int code = 0;
  // When one part ends, everything ends: a bot half connected would look alive and miss what it is there for.
  auto ended = [&](std::string part) {
    return [&, part](std::exception_ptr e, std::string reason) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          log->error("{} failed: {}", part, ex.what());
        }
        code = 1;
      } else {
        log->info("{} stopped: {}", part, reason);
        if (reason != "stopped") code = 1;
      }
      stop_all();
    };
  };
  asio::co_spawn(io, clock.run(), [log](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->error("reminders stopped: {}", ex.what());
    }
  });
  if (listening) {
    // Slack's HTTP mode hears nothing while the bot is down: where each channel's capture stopped is written down
    // before the first request is read, and the backfill (after auth.test) starts there.
    auto serving = [](net::http_server* s, runtime::host* h, bool gaps_first) -> asio::awaitable<std::string> {
      if (gaps_first) {
        const auto error = co_await runtime::open_capture_gaps(*h, std::string{});
        if (!error.empty()) co_return "could not note where the capture stopped: " + error;
      }
      co_await s->run();
      co_return std::string{"stopped"};
    };
    asio::co_spawn(io, serving(&server, &host, slack_http), ended("http listener"));
  }
  if (slack_http) {
    std::function<void(const slack::context&)> identified = [&receiver](const slack::context& ctx) {
      receiver->set_context(ctx);
    };
    asio::co_spawn(io, slack->run_sender_only(std::move(identified)), ended("slack adapter"));
  } else if (slack) {
    asio::co_spawn(io, slack->run(), ended("slack adapter"));
  }
  if (mm) asio::co_spawn(io, mm->run(), ended("mattermost adapter"));
  io.run();
  host.on_commit({});
  return code;
}

}  // namespace kintsugi::app
