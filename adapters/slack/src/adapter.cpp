#include "slack/adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
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

// One Socket Mode websocket. Several can be live at once: during a refresh the old one is still read until the new
// one said hello. Envelopes are acked on the connection that delivered them.
struct adapter::connection {
  connection(asio::any_io_executor ex, asio::ssl::context& tls, const settings& s, std::shared_ptr<spdlog::logger> log,
             std::size_t number)
      : id(number),
        ws(ex, tls, net::ws_config{std::chrono::seconds{10}, std::chrono::seconds{10}, s.idle_timeout}, std::move(log)),
        turn(ex),
        drained(ex) {
    turn.expires_at(asio::steady_timer::time_point::max());
  }

  std::size_t id;  // 1 for the first connection of this run, and so on (for the log)
  net::ws_client ws;
  bool said_hello = false;
  bool successor_wanted = false;  // Slack asked to move on (refresh_requested, warning): open the next, keep reading
  bool retiring = false;          // a newer connection said hello: this one is being closed
  bool ended = false;             // its read loop is over
  after_connection next = after_connection::reconnect;  // what socket_loop does once it stops waiting on this one
  std::size_t in_flight = 0;      // envelopes read and not yet acked
  asio::steady_timer turn;        // cancelled when successor_wanted or ended: socket_loop waits on it
  asio::steady_timer drained;     // cancelled when in_flight drops to 0: retire() waits on it
};

// What list_messages() found: the events of every page, and (history) the thread parents listed.
struct adapter::listing {
  std::vector<core::event> events;
  std::vector<thread_ref> threads;
  bool complete = true;  // false when a call failed (what came before it is still good)
};

adapter::adapter(asio::any_io_executor ex, asio::ssl::context& tls, settings s, runtime::host& host,
                 std::shared_ptr<spdlog::logger> log)
    : ex_(ex),
      tls_(tls),
      settings_(std::move(s)),
      host_(host),
      log_(std::move(log)),
      api_(ex, tls, settings_.api_base_url, log_),
      sender_(ex, host, runtime::outbox_sender_settings{"slack", settings_.outbox_route, settings_.max_send_attempts},
              log_) {}

adapter::~adapter() = default;

void adapter::stop() {
  stopping_ = true;
  for (const auto& c : live_) c->ws.abort();  // every read, connect and close of theirs ends now
  sender_.stop();
}

void adapter::wake_sender() { sender_.wake(); }

asio::awaitable<void> adapter::sender_loop() {
  runtime::outbox_sender::deliver_fn send = [this](core::outbox_item item) { return deliver(std::move(item.what)); };
  co_await sender_.run(std::move(send));
}

asio::awaitable<std::string> adapter::run() {
  const bool identified = co_await identify();
  if (identified) co_await (socket_loop() || sender_loop());
  for (const auto& c : live_) c->ws.abort();  // link_disabled or a refused token: nothing stays open
  co_return finish_reason();
}

asio::awaitable<std::string> adapter::run_sender_only(std::function<void(const context&)> identified) {
  const bool known = co_await identify();
  if (known) {
    if (identified) identified(ctx_);
    // No hello in HTTP mode: backfill once, for what was said while the bot was down (the gaps were opened before
    // the listener took its first request).
    start_backfill();
    co_await sender_loop();
  }
  co_return finish_reason();
}

void adapter::note_stored(const std::vector<core::event>& events) {
  auto unknown = note_unknown(events);
  if (!unknown.empty()) asio::co_spawn(ex_, learn(std::move(unknown)), log_exception(log_, "users.info"));
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

// Opens one connection after the other: the next when the current one ends (after a backoff if it dropped) or as
// soon as Slack asks for a new one, while the current one is still read (serve() runs each on its own).
asio::awaitable<void> adapter::socket_loop() {
  net::backoff delay{net::backoff_config{settings_.reconnect_base, settings_.reconnect_cap, net::jitter::full}};
  std::minstd_rand random{std::random_device{}()};
  while (!stopping_) {
    auto r = co_await api_.call("apps.connections.open", "", settings_.app_token, false);
    auto opened = decode_connections_open(r.body, r.status);
    after_connection next = after_connection::reconnect;
    if (r.result.ok && opened.result.ok && !opened.url.empty()) {
      auto c = std::make_shared<connection>(ex_, tls_, settings_, log_, ++connections_opened_);
      live_.push_back(c);  // from now on stop() aborts it, even while it connects
      auto connected = co_await c->ws.connect(opened.url);
      if (!connected) {
        forget(c);
        if (log_ && !stopping_)
          log_->warn("slack websocket conn={} connect failed: {}", c->id, connected.error().message());
      } else {
        asio::co_spawn(ex_, serve(c), log_exception(log_, "connection"));
        while (!c->ended && !c->successor_wanted && !stopping_)
          co_await c->turn.async_wait(asio::as_tuple(asio::use_awaitable));
        next = c->next;
        if (next != after_connection::reconnect) delay.reset();
      }
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

// Reads one connection until it ends. Each envelope is handled on its own and acked on this connection.
asio::awaitable<void> adapter::serve(connection_ptr c) {
  for (;;) {
    auto text = co_await c->ws.read();
    if (!text) {
      if (text.error() == net::errc::binary_frame) continue;
      if (log_ && !stopping_ && !c->retiring && c->next == after_connection::reconnect)
        log_->warn("slack websocket conn={} dropped: {}", c->id, text.error().message());
      break;
    }
    auto incoming = decode_frame(*text, ctx_);
    if (auto* h = std::get_if<hello>(&incoming)) {
      if (on_hello(c, *h)) {
        // Where each channel's capture stopped is written down before anything this connection delivers is
        // stored; the backfill starts there, and so does the next one should this one be cut short.
        const auto error = co_await runtime::open_capture_gaps(host_, std::string{});
        if (!error.empty() && log_) log_->error("slack could not note where the capture stopped: {}", error);
        start_backfill();
      }
    } else if (auto* d = std::get_if<disconnect>(&incoming)) {
      if (d->reason == disconnect_reason::link_disabled) {
        stop_reason_ = "Socket Mode was turned off for this app (link_disabled); turn it on again in the app's settings";
        if (log_) log_->error("slack {}", stop_reason_);
        stopping_ = true;
        c->next = after_connection::stop;
        co_await c->ws.close();
        break;
      }
      if (d->reason == disconnect_reason::refresh_requested || d->reason == disconnect_reason::warning) {
        // Open the next connection now and keep reading this one until the next one says hello.
        if (!c->successor_wanted) {
          if (log_)
            log_->info("slack asked for a new connection ({}); conn={} is read until it is up", d->reason_text, c->id);
          c->successor_wanted = true;
          c->next = after_connection::refresh;
          c->turn.cancel();
        }
        continue;
      }
      // too_many_websockets and reasons not known yet: a new connection would not be welcome beside this one.
      if (log_) log_->info("slack asked to reconnect ({}); closing conn={} first", d->reason_text, c->id);
      c->next = after_connection::refresh;
      co_await c->ws.close();
      break;
    } else if (auto* env = std::get_if<envelope>(&incoming)) {
      handle_envelope(c, std::move(*env));
    } else if (auto* bad = std::get_if<malformed>(&incoming)) {
      if (log_) log_->warn("slack sent a frame kintsugi cannot read ({}); the connection stays up", bad->why);
    }
  }
  c->ended = true;
  forget(c);
  c->turn.cancel();
  if (log_) log_->debug("slack conn={} ended", c->id);
}

// A connection is ready. Older connections that Slack asked to leave are closed now. True when none of them was up
// until this moment: something may have been said meanwhile.
bool adapter::on_hello(const connection_ptr& c, const hello& h) {
  c->said_hello = true;
  bool covered = false;
  const auto others = live_;  // a copy: co_spawn may start retire() right here
  for (const auto& other : others) {
    if (other == c || other->ended) continue;
    if (other->said_hello && other->ws.is_open()) covered = true;
    if (other->successor_wanted && !other->retiring) {
      other->retiring = true;
      asio::co_spawn(ex_, retire(other), log_exception(log_, "retire"));
    }
  }
  if (log_)
    log_->info("slack socket ready conn={} app={} connections={}{}", c->id, h.app_id, h.num_connections,
               covered ? " (took over without a gap)" : "");
  if (!covered) heard_live_since_.clear();  // a new gap: what was heard before it bounds nothing
  return !covered;
}

// Closes a connection a newer one took over from, once the envelopes it delivered are acked (bounded by Slack's
// 3 s ack deadline). It is read until the close completes, so nothing it still delivers is lost.
asio::awaitable<void> adapter::retire(connection_ptr c) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{3};
  while (c->in_flight > 0 && !c->ended && std::chrono::steady_clock::now() < deadline) {
    c->drained.expires_at(deadline);
    co_await c->drained.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (log_) log_->info("slack closing conn={}: a newer connection took over", c->id);
  co_await c->ws.close();
}

void adapter::forget(const connection_ptr& c) { std::erase(live_, c); }

// An envelope counts as in flight on its connection until it is acked, or given up whichever way.
class adapter::in_flight_guard {
 public:
  explicit in_flight_guard(connection_ptr c) : c_(std::move(c)) { ++c_->in_flight; }
  in_flight_guard(in_flight_guard&& other) noexcept = default;
  in_flight_guard& operator=(in_flight_guard&&) = delete;
  ~in_flight_guard() { settle(); }
  const connection_ptr& connection() const { return c_; }
  void settle() {
    if (c_ && --c_->in_flight == 0) c_->drained.cancel();
    c_.reset();
  }

 private:
  connection_ptr c_;
};

// What an envelope's ack needs once its events are stored.
struct adapter::pending_ack {
  in_flight_guard guard;
  std::string envelope_id;
  envelope_type type;
  bool accepts_response_payload;
  std::string tell;  // shown to whoever typed a slash command, in the ack's payload
  directory_gap unknown;
};

// Decodes the envelope's events and hands them to the store; acknowledge() acks it once they are stored. No
// coroutine: this runs for every envelope, and the store's answer comes back as a plain completion.
void adapter::handle_envelope(connection_ptr c, envelope env) {
  std::vector<core::event> events;
  // What kintsugi answers to a stored command goes through the outbox (durable, retried, sent once), so the ack's
  // payload is only for what cannot: a command that could not be read or stored. Slack does not send a slash
  // command again, so such a command is acked too.
  std::string tell;
  switch (env.type) {
    case envelope_type::events_api: {
      auto r = env.events ? std::move(*env.events) : decode_events_api(env, ctx_);
      if (!r.error.empty() && log_) log_->warn("slack events_api payload unreadable: {}", r.error);
      if (log_)
        log_->debug("slack event id={} type={} retry={} conn={}", r.event_id, r.event_type, env.retry_attempt, c->id);
      events = std::move(r.events);
      if (backfills_running_ > 0 && env.retry_attempt == 0) note_heard_live(events);
      break;
    }
    case envelope_type::slash_commands: {
      auto sc = decode_slash_command(env.payload, now(), env.envelope_id);
      if (sc.error.empty()) {
        events.push_back(sc.invoked);
      } else {
        if (log_) log_->warn("slack slash command unreadable: {}", sc.error);
        tell = "kintsugi could not read this command (" + sc.error + ").";
      }
      break;
    }
    case envelope_type::interactive: {
      auto it = decode_interactive(env.payload, now());
      if (it.command) events.push_back(*it.command);
      break;
    }
    case envelope_type::other: break;
  }
  auto unknown = note_unknown(events);
  pending_ack ack{in_flight_guard{std::move(c)}, std::move(env.envelope_id), env.type, env.accepts_response_payload,
                  std::move(tell), std::move(unknown)};
  // Acknowledge only what is stored: if storing fails, Slack delivers the envelope again.
  host_.async_submit_all(std::move(events), runtime::host::lane::live,
                         asio::bind_executor(ex_, [this, ack = std::move(ack)](core::event_outcome o) mutable {
                           acknowledge(std::move(ack), o);
                         }));
}

void adapter::acknowledge(pending_ack ack, const core::event_outcome& outcome) {
  if (!outcome.error.empty()) {
    if (log_) log_->error("slack event not stored: {}", outcome.error);
    if (ack.type != envelope_type::slash_commands) return;
    ack.tell = "kintsugi could not save this command; please try again.";
  }
  const std::string payload =
      ack.tell.empty() || !ack.accepts_response_payload ? std::string{} : response_payload(ack.tell, false);
  // On the connection that delivered it, whichever is the newest now.
  const auto& c = ack.guard.connection();
  if (auto sent = c->ws.write_front(encode_ack(ack.envelope_id, payload)); !sent && log_)
    log_->warn("slack could not ack envelope={} on conn={}: {}", ack.envelope_id, c->id, sent.error().message());
  ack.guard.settle();
  if (!ack.unknown.empty()) asio::co_spawn(ex_, learn(std::move(ack.unknown)), log_exception(log_, "users.info"));
}

asio::awaitable<bool> adapter::submit_all(std::vector<core::event> events, runtime::host::lane lane) {
  auto outcome = co_await host_.submit_all(std::move(events), lane);
  if (outcome.error.empty()) co_return true;
  if (log_) log_->error("slack event not stored: {}", outcome.error);
  co_return false;
}

adapter::directory_gap adapter::note_unknown(const std::vector<core::event>& events) {
  directory_gap out;
  auto see = [&](const std::string& id) {
    if (!id.empty() && id != ctx_.bot_user_id && known_users_.insert(id).second) out.users.push_back(id);
  };
  // Channels where incidents are run or declared: their names make documents readable.
  auto see_channel = [&](const std::string& id) {
    if (!id.empty() && known_channels_.insert(id).second) out.channels.push_back(id);
  };
  for (const auto& e : events)
    std::visit(overloaded{[&](const core::message_posted& m) { if (!m.from_bot) see(m.user); },
                          [&](const core::command_invoked& c) {
                            see(c.user);
                            see_channel(c.channel);
                          },
                          [&](const core::reaction_added& r) { see(r.user); },
                          [&](const core::member_joined& j) { see(j.user); }, [](const auto&) {}},
               e);
  return out;
}

// users.info for people seen for the first time: display names for documents, time zones for "HH:MM".
// conversations.info for channels: their names.
asio::awaitable<void> adapter::learn(directory_gap gap) {
  for (const auto& id : gap.users) {
    if (stopping_) co_return;
    auto r = co_await api_.call("users.info", "user=" + form_value(id), settings_.bot_token, false);
    auto info = decode_users_info(r.body, r.status);
    if (info.who) {
      core::event e = core::user_updated{*info.who, now()};
      co_await host_.submit(std::move(e));
    } else if (log_) {
      log_->debug("slack users.info {} failed: {}", id, r.result.description);
    }
  }
  for (const auto& id : gap.channels) {
    if (stopping_) co_return;
    auto r = co_await api_.call("conversations.info", "channel=" + form_value(id), settings_.bot_token, false);
    auto info = decode_conversations_info(r.body, r.status);
    if (info.channel) {
      core::event e = core::channel_updated{*info.channel, now()};
      co_await host_.submit(std::move(e));
    } else if (log_) {
      log_->debug("slack conversations.info {} failed: {}", id, r.result.description);
    }
  }
}

void adapter::start_backfill() {
  ++backfills_running_;
  asio::co_spawn(ex_, backfill(), [this, log = log_](std::exception_ptr e) {
    --backfills_running_;
    if (e) log_exception(log, "backfill")(e);
  });
}

// A message Slack delivers on its first attempt was posted while this connection was up, or was held for it: in
// either case Slack sends everything posted after it here too (what it could not deliver comes again, with
// retry_attempt > 0). So a channel's gap ends at the oldest such message, and a backfill need not list the
// messages after it, which the socket brings anyway (after a short outage, most of the channel's history).
void adapter::note_heard_live(const std::vector<core::event>& events) {
  for (const auto& e : events)
    if (const auto* m = std::get_if<core::message_posted>(&e)) {
      auto [it, added] = heard_live_since_.try_emplace(m->channel, m->at);
      if (!added && m->at < it->second) it->second = m->at;
    }
}

// After a reconnect that left a gap: what was said in open incident channels while the bot was away, each message
// once and in time order. Channel messages come from conversations.history after the channel's gap opened (the last
// message captured before it); thread replies from conversations.replies of every thread replied to since then,
// whether its parent is new or older (history since the incident was declared lists those parents with their
// latest_reply). A channel's gap is closed once all of it was listed and stored.
asio::awaitable<void> adapter::backfill() {
  const auto gaps = co_await runtime::capture_gaps(host_, std::string{});
  const std::string history = "conversations.history";
  const std::string replies = "conversations.replies";
  const std::string none;
  for (const auto& g : gaps) {
    const std::string& channel = g.gap.channel;
    const std::string oldest = format_ts(g.gap.since);
    // Up to the first message heard live in the channel since the gap, if one was: the socket has the rest.
    const auto heard = heard_live_since_.find(channel);
    const std::string until = heard == heard_live_since_.end() ? none : format_ts(heard->second);
    auto found = co_await list_messages(history, channel, none, oldest, until);
    bool complete = found.complete;
    std::vector<thread_ref> threads = std::move(found.threads);
    if (found.complete && g.declared < g.gap.since) {
      // Older parents: only their threads matter, their own messages were captured before.
      const std::string declared = format_ts(g.declared);
      auto older = co_await list_messages(history, channel, none, declared, oldest);
      complete = complete && older.complete;
      threads.insert(threads.end(), older.threads.begin(), older.threads.end());
    }
    const auto replied = threads_replied_after(threads, g.gap.since);
    for (const auto& thread_ts : replied) {
      auto in_thread = co_await list_messages(replies, channel, thread_ts, oldest, none);
      complete = complete && in_thread.complete;
      for (auto& e : in_thread.events) found.events.push_back(std::move(e));
    }
    auto events = order_backfill(std::move(found.events));
    const std::size_t count = events.size();
    auto unknown = note_unknown(events);
    if (known_channels_.insert(channel).second) unknown.channels.push_back(channel);
    const bool stored = co_await submit_all(std::move(events), runtime::host::lane::backfill);
    if (!unknown.empty()) co_await learn(std::move(unknown));
    if (log_ && count > 0) log_->info("slack backfilled channel={} messages={}", channel, count);
    if (!complete || !stored) {
      if (log_) log_->warn("slack backfill of {} is incomplete; the next connection picks it up again", channel);
      continue;
    }
    const auto error = co_await runtime::close_capture_gap(host_, g.gap);
    if (!error.empty() && log_) log_->warn("slack backfill of {} done, but its gap stays noted: {}", channel, error);
  }
}

// Every page of conversations.history (or .replies of `thread_ts`) between `oldest` and `latest` (both optional):
// after `oldest` when there is no `latest`; with one, both bounds included.
asio::awaitable<adapter::listing> adapter::list_messages(std::string method, std::string channel, std::string thread_ts,
                                                         std::string oldest, std::string latest) {
  listing out;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    std::string body = "channel=" + form_value(channel) + "&limit=200";
    if (!thread_ts.empty()) body += "&ts=" + form_value(thread_ts);
    if (!oldest.empty()) body += "&oldest=" + form_value(oldest);
    if (!latest.empty()) body += "&latest=" + form_value(latest);
    body += latest.empty() ? "&inclusive=false" : "&inclusive=true";
    if (!cursor.empty()) body += "&cursor=" + form_value(cursor);
    auto r = co_await api_.call(method, body, settings_.bot_token, false);
    auto h = thread_ts.empty() ? decode_history(r.body, channel, ctx_, r.status)
                               : decode_replies(r.body, channel, ctx_, r.status);
    if (!h.result.ok) {
      if (log_) log_->warn("slack backfill of {} stopped: {}", channel, h.result.description);
      out.complete = false;
      break;
    }
    for (auto& e : h.events) out.events.push_back(std::move(e));
    for (auto& t : h.threads) out.threads.push_back(std::move(t));
    if (!h.has_more || h.next_cursor.empty()) break;
    cursor = h.next_cursor;
  }
  co_return out;
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
      known_channels_.insert(r.result.channel_id);  // its name is the one kintsugi gave it
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
    // Pinning a post is best effort: the post is out, and retrying the action would post it again.
    const bool optional = next.method == "pins.add";
    const bool done = co_await perform(std::move(next));
    if (!done && !optional) co_return false;
  }
  co_return true;
}

}  // namespace kintsugi::slack
