#include "slack/adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <random>

#include "core/overloaded.hpp"
#include "net/backoff.hpp"

namespace kintsugi::slack {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using core::overloaded;

namespace {

core::timestamp now() { return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now()); }

// application/x-www-form-urlencoded value.
std::string form_value(std::string_view v) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// Logs what ends a detached coroutine; one failing handler never takes the others down.
auto log_exception(std::shared_ptr<spdlog::logger> log, std::string what) {
  return [log = std::move(log), what = std::move(what)](std::exception_ptr e) {
    if (!e || !log) return;
    try {
      std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
      if (ex.code() != asio::error::operation_aborted) log->error("slack {} failed: {}", what, ex.what());
    } catch (const std::exception& ex) {
      log->error("slack {} failed: {}", what, ex.what());
    }
  };
}

std::string channel_of(core::action& a) {
  return std::visit(overloaded{[](core::post_message& p) { return p.channel; },
                               [](core::post_ephemeral& p) { return p.channel; },
                               [](core::invite_user& p) { return p.channel; },
                               [](core::set_topic& p) { return p.channel; },
                               [](core::publish_document& p) { return p.channel; },
                               [](auto&) { return std::string{}; }},
                    a);
}

void set_channel(core::action& a, const std::string& id) {
  std::visit(overloaded{[&](core::post_message& p) { p.channel = id; }, [&](core::post_ephemeral& p) { p.channel = id; },
                        [&](core::invite_user& p) { p.channel = id; }, [&](core::set_topic& p) { p.channel = id; },
                        [&](core::publish_document& p) { p.channel = id; }, [](auto&) {}},
             a);
}

}  // namespace

adapter::adapter(asio::any_io_executor ex, asio::ssl::context& tls, settings s, runtime::host& host,
                 std::shared_ptr<spdlog::logger> log)
    : ex_(ex),
      tls_(tls),
      settings_(std::move(s)),
      host_(host),
      log_(std::move(log)),
      api_(ex, tls, settings_.api_base_url, log_),
      ws_(ex, tls, net::ws_config{std::chrono::seconds{10}, std::chrono::seconds{10}, settings_.idle_timeout}, log_),
      wake_(ex) {}

adapter::~adapter() = default;

void adapter::stop() {
  stopping_ = true;
  ws_.abort();
  wake_.cancel();
}

void adapter::wake_sender() {
  asio::post(ex_, [this] {
    wake_requested_ = true;
    wake_.cancel();
  });
}

asio::awaitable<std::string> adapter::run() {
  const bool identified = co_await identify();
  if (identified) co_await (socket_loop() || sender_loop());
  co_return finish_reason();
}

asio::awaitable<std::string> adapter::run_sender_only(std::function<void(const context&)> identified) {
  const bool known = co_await identify();
  if (known) {
    if (identified) identified(ctx_);
    // No hello in HTTP mode: backfill once, for what was said while the bot was down.
    asio::co_spawn(ex_, backfill(), log_exception(log_, "backfill"));
    co_await sender_loop();
  }
  co_return finish_reason();
}

void adapter::note_stored(const std::vector<core::event>& events) {
  std::vector<std::string> unknown;
  note_users(events, unknown);
  if (!unknown.empty()) asio::co_spawn(ex_, learn_users(std::move(unknown)), log_exception(log_, "users.info"));
}

std::string adapter::finish_reason() const { return stop_reason_.empty() ? std::string{"stopped"} : stop_reason_; }

// auth.test: who the bot is, so its own messages are not captured as people's. Retries while Slack is unreachable.
asio::awaitable<bool> adapter::identify() {
  net::backoff delay{net::backoff_config{settings_.reconnect_base, settings_.reconnect_cap, net::jitter::full}};
  std::minstd_rand random{std::random_device{}()};
  while (!stopping_) {
    auto r = co_await api_.call("auth.test", "", settings_.bot_token, false);
    auto info = decode_auth_test(r.body, r.status);
    if (r.result.ok && info.result.ok) {
      ctx_.bot_user_id = info.user_id;
      ctx_.bot_id = info.bot_id;
      if (log_) log_->info("slack connected as user={} bot={} team={}", info.user_id, info.bot_id, info.team);
      co_return true;
    }
    if (r.result.fatal) {
      stop_reason_ = "Slack refused the bot token (" + r.result.error + "): check slack.bot_token / SLACK_BOT_TOKEN";
      if (log_) log_->error("{}", stop_reason_);
      co_return false;
    }
    auto wait = delay.next(random);
    if (log_) log_->warn("slack auth.test failed ({}); retrying in {}ms", r.result.description, wait.count());
    asio::steady_timer t{ex_, wait};
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return false;
}

asio::awaitable<void> adapter::socket_loop() {
  net::backoff delay{net::backoff_config{settings_.reconnect_base, settings_.reconnect_cap, net::jitter::full}};
  std::minstd_rand random{std::random_device{}()};
  while (!stopping_) {
    auto r = co_await api_.call("apps.connections.open", "", settings_.app_token, false);
    auto opened = decode_connections_open(r.body, r.status);
    after_connection next = after_connection::reconnect;
    if (r.result.ok && opened.result.ok && !opened.url.empty()) {
      next = co_await serve(opened.url);
      if (next != after_connection::reconnect) delay.reset();
    } else if (r.result.fatal || opened.result.fatal) {
      stop_reason_ = "Slack refused the app token (" + r.result.error +
                     "): check slack.app_token / SLACK_APP_TOKEN (an xapp- token with connections:write)";
      if (log_) log_->error("{}", stop_reason_);
      co_return;
    } else if (log_) {
      log_->warn("slack apps.connections.open failed: {}", r.result.description);
    }
    if (next == after_connection::stop || stopping_) co_return;
    if (next == after_connection::refresh) continue;
    auto wait = delay.next(random);
    if (log_) log_->warn("slack reconnecting in {}ms", wait.count());
    asio::steady_timer t{ex_, wait};
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<adapter::after_connection> adapter::serve(std::string url) {
  auto connected = co_await ws_.connect(url);
  if (!connected) {
    if (log_) log_->warn("slack websocket connect failed: {}", connected.error().message());
    co_return after_connection::reconnect;
  }
  for (;;) {
    auto text = co_await ws_.read();
    if (!text) {
      if (text.error() == net::errc::binary_frame) continue;
      if (stopping_) co_return after_connection::stop;
      if (log_) log_->warn("slack websocket dropped: {}", text.error().message());
      co_return after_connection::reconnect;
    }
    auto incoming = decode_frame(*text);
    if (auto* h = std::get_if<hello>(&incoming)) {
      if (log_) log_->info("slack socket ready app={} connections={}", h->app_id, h->num_connections);
      asio::co_spawn(ex_, backfill(), log_exception(log_, "backfill"));
    } else if (auto* d = std::get_if<disconnect>(&incoming)) {
      if (d->reason == disconnect_reason::link_disabled) {
        stop_reason_ = "Socket Mode was turned off for this app (link_disabled); turn it on again in the app's settings";
        if (log_) log_->error("slack {}", stop_reason_);
        stopping_ = true;
        co_await ws_.close();
        co_return after_connection::stop;
      }
      if (log_) log_->info("slack asked to reconnect ({})", d->reason_text);
      co_await ws_.close();
      co_return after_connection::refresh;
    } else if (auto* env = std::get_if<envelope>(&incoming)) {
      asio::co_spawn(ex_, handle_envelope(std::move(*env)), log_exception(log_, "envelope"));
    } else if (auto* bad = std::get_if<malformed>(&incoming)) {
      if (log_) log_->warn("slack sent a frame kintsugi cannot read ({}); the connection stays up", bad->why);
    }
  }
}

asio::awaitable<void> adapter::handle_envelope(envelope env) {
  std::vector<core::event> events;
  switch (env.type) {
    case envelope_type::events_api: {
      auto r = decode_events_api(env.payload, ctx_);
      if (!r.error.empty() && log_) log_->warn("slack events_api payload unreadable: {}", r.error);
      if (log_) log_->debug("slack event id={} type={} retry={}", r.event_id, r.event_type, env.retry_attempt);
      events = std::move(r.events);
      break;
    }
    case envelope_type::slash_commands: {
      auto sc = decode_slash_command(env.payload, now(), env.envelope_id);
      if (sc.error.empty()) events.push_back(sc.invoked);
      else if (log_) log_->warn("slack slash command unreadable: {}", sc.error);
      break;
    }
    case envelope_type::interactive: {
      auto it = decode_interactive(env.payload, now());
      if (it.command) events.push_back(*it.command);
      break;
    }
    case envelope_type::other: break;
  }
  std::vector<std::string> unknown;
  note_users(events, unknown);
  // Acknowledge only what is stored: if storing fails, Slack delivers the envelope again.
  const bool stored = co_await submit_all(std::move(events));
  if (!stored) co_return;
  if (auto sent = ws_.write_front(encode_ack(env.envelope_id)); !sent && log_)
    log_->warn("slack could not ack envelope={}: {}", env.envelope_id, sent.error().message());
  if (!unknown.empty()) co_await learn_users(std::move(unknown));
}

asio::awaitable<bool> adapter::submit_all(std::vector<core::event> events) {
  for (auto& e : events) {
    auto outcome = co_await host_.submit(std::move(e));
    if (!outcome.error.empty()) {
      if (log_) log_->error("slack event not stored: {}", outcome.error);
      co_return false;
    }
  }
  co_return true;
}

void adapter::note_users(const std::vector<core::event>& events, std::vector<std::string>& out) {
  auto see = [&](const std::string& id) {
    if (!id.empty() && id != ctx_.bot_user_id && known_users_.insert(id).second) out.push_back(id);
  };
  for (const auto& e : events)
    std::visit(overloaded{[&](const core::message_posted& m) { if (!m.from_bot) see(m.user); },
                          [&](const core::command_invoked& c) { see(c.user); },
                          [&](const core::reaction_added& r) { see(r.user); }, [](const auto&) {}},
               e);
}

// users.info for people seen for the first time: display names for documents, time zones for "HH:MM".
asio::awaitable<void> adapter::learn_users(std::vector<std::string> ids) {
  for (const auto& id : ids) {
    if (stopping_) co_return;
    auto r = co_await api_.call("users.info", "user=" + form_value(id), settings_.bot_token, false);
    auto info = decode_users_info(r.body, r.status);
    if (info.who) {
      core::event e = core::user_updated{*info.who, now()};
      co_await host_.submit(std::move(e));
    }
    else if (log_) log_->debug("slack users.info {} failed: {}", id, r.result.description);
  }
}

// After every (re)connect: what was said in open incident channels while the bot was away, each message once.
asio::awaitable<void> adapter::backfill() {
  using channel_since = std::vector<std::pair<std::string, std::string>>;
  // (a named std::function: GCC 12 miscompiles a lambda temporary passed inside co_await)
  std::function<channel_since(core::store&)> since = [](core::store& s) {
    channel_since out;
    for (const auto& inc : s.open_incidents()) {
      core::timestamp last = inc.declared_at;
      for (const auto& e : s.timeline(inc.id)) {
        if (e.kind != core::entry_kind::message) continue;
        if (auto ref = split_message_id(e.source_id); ref && ref->channel == inc.channel)
          if (auto t = parse_ts(ref->ts); t && *t > last) last = *t;
      }
      out.emplace_back(inc.channel, format_ts(last));
    }
    return out;
  };
  auto channels = co_await host_.run<channel_since>(std::move(since));
  for (const auto& [channel, oldest] : channels) {
    if (stopping_) co_return;
    std::vector<std::vector<core::event>> pages;  // newest page first
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      if (stopping_) co_return;  // a partial backfill would store newer pages without older ones: a gap
      std::string body = "channel=" + form_value(channel) + "&oldest=" + form_value(oldest) + "&inclusive=false&limit=200";
      if (!cursor.empty()) body += "&cursor=" + form_value(cursor);
      auto r = co_await api_.call("conversations.history", body, settings_.bot_token, false);
      auto h = decode_history(r.body, channel, ctx_, r.status);
      if (!h.result.ok) {
        if (log_) log_->warn("slack backfill of {} stopped: {}", channel, r.result.description);
        break;
      }
      pages.push_back(std::move(h.events));
      if (!h.has_more || h.next_cursor.empty()) break;
      cursor = h.next_cursor;
    }
    std::size_t count = 0;
    for (auto page = pages.rbegin(); page != pages.rend(); ++page) {
      count += page->size();
      std::vector<std::string> unknown;
      note_users(*page, unknown);
      co_await submit_all(std::move(*page));
      if (!unknown.empty()) co_await learn_users(std::move(unknown));
    }
    if (log_ && count > 0) log_->info("slack backfilled channel={} messages={}", channel, count);
  }
}

asio::awaitable<void> adapter::sender_loop() {
  net::backoff delay{net::backoff_config{std::chrono::milliseconds{500}, std::chrono::seconds{30}, net::jitter::equal}};
  std::minstd_rand random{std::random_device{}()};
  while (!stopping_) {
    std::function<std::vector<core::outbox_item>(core::store&)> pending = [](core::store& s) { return s.pending(100); };
    auto items = co_await host_.run<std::vector<core::outbox_item>>(std::move(pending));
    if (items.empty()) {
      if (!wake_requested_) {
        wake_.expires_after(std::chrono::seconds{30});
        co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      wake_requested_ = false;
      continue;
    }
    std::vector<core::id_t> done, failed;
    bool interrupted = false;  // cancelled halfway through the batch: the bot is stopping
    for (auto& item : items) {
      bool ok = false;
      try {
        ok = co_await deliver(item.what);
      } catch (const boost::system::system_error& e) {
        if (e.code() != asio::error::operation_aborted) throw;
        interrupted = true;
      }
      if (interrupted) break;
      if (ok) {
        done.push_back(item.id);
      } else if (static_cast<std::size_t>(item.attempts) + 1 >= settings_.max_send_attempts) {
        if (log_) log_->error("slack gave up sending outbox item {} after {} attempts", item.id, item.attempts + 1);
        done.push_back(item.id);
      } else {
        failed.push_back(item.id);
      }
    }
    auto at = now();
    std::function<int(core::store&)> record = [done, failed, at](core::store& s) {
      core::transaction tx{s};
      for (auto id : done) s.mark_sent(id, at);
      for (auto id : failed) s.mark_failed_attempt(id);
      tx.commit();
      return 0;
    };
    // What went out is recorded even when cancelled (a stop): else it would be sent again after a restart.
    const bool throwing = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await host_.run<int>(std::move(record));
    co_await asio::this_coro::throw_if_cancelled(throwing);
    if (interrupted) co_return;
    if (failed.empty()) {
      delay.reset();
    } else {
      asio::steady_timer t{ex_, delay.next(random)};
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

std::string adapter::resolve_channel(const std::string& channel) const {
  auto it = created_channels_.find(channel);
  return it == created_channels_.end() ? channel : it->second;
}

asio::awaitable<bool> adapter::deliver(core::action a) {
  if (auto* create = std::get_if<core::create_channel>(&a)) {
    if (created_channels_.contains(create->name)) co_return true;
    for (const auto& call : to_calls(a)) {
      auto r = co_await api_.call(call.method, call.json_body, settings_.bot_token);
      if (!r.result.ok) {
        if (log_) log_->warn("slack could not create channel {}: {}", create->name, r.result.description);
        co_return r.result.fatal;  // a refused token will not get better by retrying
      }
      created_channels_[create->name] = r.result.channel_id;
      core::event e = core::channel_created{create->name, r.result.channel_id, now()};
      co_await host_.submit(std::move(e));
    }
    co_return true;
  }
  if (auto channel = channel_of(a); !channel.empty()) set_channel(a, resolve_channel(channel));
  for (auto& call : to_calls(a)) {
    const bool done = co_await perform(std::move(call));
    if (!done) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> adapter::perform(api_call call) {
  auto r = co_await api_.call(call.method, call.json_body, settings_.bot_token);
  if (!r.result.ok && r.result.error == "not_in_channel" &&
      (call.method == "chat.postMessage" || call.method == "chat.postEphemeral")) {
    // A channel the bot was not in yet (an incident declared in an existing channel): join it, then post.
    auto channel = r.result.channel_id;
    auto body = call.json_body;
    if (auto pos = body.find("\"channel\":\""); pos != std::string::npos) {
      auto start = pos + 11;
      channel = body.substr(start, body.find('"', start) - start);
    }
    auto joined = co_await api_.call("conversations.join", "channel=" + form_value(channel), settings_.bot_token, false);
    if (joined.result.ok) r = co_await api_.call(call.method, call.json_body, settings_.bot_token);
  }
  if (!r.result.ok && !r.result.already_done) {
    if (log_) (r.result.fatal ? log_->error("slack {}", r.result.description) : log_->warn("slack {}", r.result.description));
    co_return false;
  }
  for (auto& next : follow_up_calls(call, r.result)) {
    const bool done = co_await perform(std::move(next));
    if (!done) co_return false;
  }
  co_return true;
}

}  // namespace kintsugi::slack
