#include "slack/http_mode.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "slack/signature.hpp"
#include "slack/web_api_calls.hpp"

namespace kintsugi::slack {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace asio::experimental::awaitable_operators;
using net::http_reply;
using net::incoming_request;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
using outcome_channel = asio::experimental::channel<void(boost::system::error_code, core::event_outcome)>;

std::shared_ptr<spdlog::logger> or_silent(std::shared_ptr<spdlog::logger> log) {
  return log ? log : std::make_shared<spdlog::logger>("slack");
}

std::int64_t unix_seconds(core::timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A 200 whose body Slack shows to the user who ran the command (ephemeral).
http_reply tell_user(std::string_view text) { return http_reply::json(200, response_payload(text, false)); }

// A failure Slack should not deliver again: retrying would give the same answer.
http_reply refuse_for_good(unsigned status, std::string body) {
  auto reply = http_reply::text(status, std::move(body));
  reply.headers.push_back({"X-Slack-No-Retry", "1"});
  return reply;
}

// Stores one event and hands the outcome to whoever still waits for it (see on_slash_command).
asio::awaitable<void> submit_into(runtime::host& host, core::event e, std::shared_ptr<outcome_channel> out,
                                  std::shared_ptr<spdlog::logger> log,
                                  std::function<void(const std::vector<core::event>&)> stored) {
  core::event_outcome outcome;
  try {
    outcome = co_await host.submit(e);
  } catch (const std::exception& ex) {
    outcome.error = ex.what();
  }
  if (!outcome.error.empty()) log->error("slack slash command not stored: {}", outcome.error);
  out->try_send(boost::system::error_code{}, outcome);
  if (outcome.error.empty() && stored) {
    std::vector<core::event> done;
    done.push_back(std::move(e));
    stored(done);
  }
}

auto log_exception(std::shared_ptr<spdlog::logger> log) {
  return [log = std::move(log)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->error("slack slash command handling failed: {}", ex.what());
    }
  };
}

}  // namespace

std::string_view name(request_kind k) {
  switch (k) {
    case request_kind::events: return "events";
    case request_kind::interactivity: return "interactivity";
    case request_kind::slash_command: return "slash_command";
    case request_kind::unknown: return "unknown";
  }
  return "unknown";
}

request_kind classify_request(std::string_view media_type, std::string_view body) {
  auto first = body.find_first_not_of(" \t\r\n");
  const bool json_body = first != std::string_view::npos && body[first] == '{';
  if (media_type == "application/json" || (media_type != "application/x-www-form-urlencoded" && json_body))
    return json_body ? request_kind::events : request_kind::unknown;
  auto fields = decode_form(body);
  if (!fields || fields->empty()) return request_kind::unknown;
  for (const auto& f : *fields)
    if (f.name == "payload") return request_kind::interactivity;
  return request_kind::slash_command;
}

http_mode::http_mode(http_settings s, runtime::host& host, std::shared_ptr<spdlog::logger> log)
    : settings_(std::move(s)), host_(host), log_(or_silent(std::move(log))) {
  if (settings_.signing_secret.empty())
    log_->warn("slack http mode has no signing secret: every request will be refused (set slack.signing_secret)");
}

void http_mode::attach(net::http_server& server) {
  server.on(http::verb::post, settings_.path, [this](const incoming_request& r) { return handle_post(r); });
  server.on(http::verb::get, settings_.health_path, [this](const incoming_request& r) { return handle_health(r); });
}

void http_mode::set_context(context ctx) {
  std::lock_guard lock(mutex_);
  ctx_ = std::move(ctx);
}

context http_mode::current_context() const {
  std::lock_guard lock(mutex_);
  return ctx_;
}

core::timestamp http_mode::now() const {
  if (settings_.clock) return settings_.clock();
  return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now());
}

asio::awaitable<http_reply> http_mode::handle_health(incoming_request) { co_return http_reply::text(200, "ok"); }

asio::awaitable<http_reply> http_mode::handle_post(incoming_request req) {
  auto verdict = verify_request(settings_.signing_secret, req.header("X-Slack-Request-Timestamp"),
                                req.header("X-Slack-Signature"), req.body, unix_seconds(now()));
  if (verdict != verify_result::ok) {
    log_->warn("slack refused a request on {} from {}: {}", req.path, req.remote, name(verdict));
    co_return http_reply::text(401, "invalid request signature\n");
  }
  switch (classify_request(req.media_type(), req.body)) {
    case request_kind::events: co_return co_await on_events(std::move(req));
    case request_kind::slash_command: co_return co_await on_slash_command(std::move(req));
    case request_kind::interactivity: co_return co_await on_interaction(std::move(req));
    case request_kind::unknown: break;
  }
  log_->warn("slack sent a request kintsugi cannot read (content type \"{}\")", req.media_type());
  co_return refuse_for_good(400, "unreadable request\n");
}

asio::awaitable<http_reply> http_mode::on_events(incoming_request req) {
  auto r = decode_events_api(req.body, current_context());
  if (!r.error.empty()) {
    log_->warn("slack events body unreadable: {}", r.error);
    co_return refuse_for_good(400, "unreadable event\n");
  }
  if (r.type == "url_verification") {
    log_->info("slack url_verification answered");
    co_return http_reply::text(200, r.challenge);
  }
  if (r.type == "app_rate_limited") {
    log_->warn("slack is dropping events for this app: it sent more than its rate limit allows");
    co_return http_reply::text(200, "");
  }
  auto retry = req.header("X-Slack-Retry-Num");
  log_->debug("slack event id={} type={} retry={} reason={}", r.event_id, r.event_type, retry.empty() ? "0" : retry,
              req.header("X-Slack-Retry-Reason"));
  // Answer only once stored: on an error, Slack delivers the event again (up to 3 times).
  const auto error = co_await submit_all(std::move(r.events));  // (not in the if: GCC 12 miscompiles that)
  if (!error.empty()) {
    log_->error("slack event id={} not stored: {}", r.event_id, error);
    co_return http_reply::text(500, "not stored\n");
  }
  co_return http_reply::text(200, "");
}

asio::awaitable<http_reply> http_mode::on_slash_command(incoming_request req) {
  auto sc = decode_slash_command(req.body, now());
  if (!sc.error.empty()) {
    log_->warn("slack slash command unreadable: {}", sc.error);
    co_return tell_user("kintsugi could not read this command (" + sc.error + ").");
  }
  log_->debug("slack slash command {} id={}", sc.command, sc.invoked.id);
  // Slack gives up after 3 s and does not send a command again: store it in a coroutine of its own, so that a
  // slow commit still gets the 200 in time, and the command is stored all the same.
  auto ex = co_await asio::this_coro::executor;
  auto outcome_slot = std::make_shared<outcome_channel>(ex, 1);
  asio::co_spawn(ex, submit_into(host_, sc.invoked, outcome_slot, log_, settings_.stored), log_exception(log_));
  asio::steady_timer deadline{ex, settings_.command_ack_within};
  // (both operations named before the co_await: GCC 12 miscompiles temporaries built inside one)
  auto stored = outcome_slot->async_receive(use_tuple);
  auto late = deadline.async_wait(use_tuple);
  auto first = co_await (std::move(stored) || std::move(late));
  if (first.index() == 1) {
    log_->warn("slack slash command id={} not stored within {}ms; acknowledged anyway", sc.invoked.id,
               settings_.command_ack_within.count());
    co_return http_reply::text(200, "");
  }
  const auto& outcome = std::get<1>(std::get<0>(first));
  if (!outcome.error.empty()) co_return tell_user("kintsugi could not save this command; please try again.");
  co_return http_reply::text(200, "");
}

asio::awaitable<http_reply> http_mode::on_interaction(incoming_request req) {
  auto it = decode_interactive(req.body, now());
  if (!it.error.empty()) {
    log_->warn("slack interaction unreadable: {}", it.error);
    co_return refuse_for_good(400, "unreadable interaction\n");
  }
  log_->debug("slack interaction type={} action={} command={}", it.type, it.action_id, it.command.has_value());
  if (!it.command) co_return http_reply::text(200, "");
  std::vector<core::event> events;  // (GCC 12 cannot take a braced list as a coroutine argument)
  events.emplace_back(std::move(*it.command));
  const auto error = co_await submit_all(std::move(events));
  if (!error.empty()) {
    log_->error("slack interaction not stored: {}", error);
    co_return http_reply::text(500, "not stored\n");
  }
  co_return http_reply::text(200, "");
}

asio::awaitable<std::string> http_mode::submit_all(std::vector<core::event> events) {
  for (const auto& e : events) {
    auto outcome = co_await host_.submit(e);
    if (!outcome.error.empty()) co_return outcome.error;
  }
  if (settings_.stored && !events.empty()) settings_.stored(events);
  co_return std::string{};
}

}  // namespace kintsugi::slack
