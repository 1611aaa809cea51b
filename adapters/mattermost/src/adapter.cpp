#include "mattermost/adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

#include "core/mentions.hpp"
#include "core/overloaded.hpp"
#include "mattermost/outbound.hpp"
#include "mattermost/text.hpp"
#include "net/backoff.hpp"

namespace kintsugi::mattermost {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace asio::experimental::awaitable_operators;
using nlohmann::json;

namespace {

core::timestamp now() { return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now()); }

std::string path_part(std::string_view s) { return boost::urls::encode(s, boost::urls::unreserved_chars); }

// A field of a JSON object answer ("id" of a created post), or "".
std::string field_of(const std::string& body, const char* key) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

auto log_exception(std::shared_ptr<spdlog::logger> log, std::string what) {
  return [log = std::move(log), what = std::move(what)](std::exception_ptr e) {
    if (!e || !log) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log->warn("mattermost {} failed: {}", what, ex.what());
    }
  };
}

// Every id of a person an event names (with the "mm:" prefix).
void users_of(const core::event& e, std::set<std::string>& out) {
  std::visit(core::overloaded{[&](const core::message_posted& m) { if (!m.from_bot) out.insert(m.user); },
                              [&](const core::command_invoked& c) { out.insert(c.user); },
                              [&](const core::reaction_added& r) { out.insert(r.user); },
                              [&](const core::member_joined& j) { out.insert(j.user); }, [](const auto&) {}},
             e);
}

}  // namespace

// What the adapter learned of Mattermost's directory, by plain id: usernames for @mentions, channel names for
// ~mentions, DM channels by user, channels kintsugi created or found by name.
struct adapter::directory {
  std::map<std::string, std::string> usernames;      // user id -> username
  std::map<std::string, std::string> channel_names;  // channel id -> name
  std::map<std::string, std::string> dm_channels;    // user id -> DM channel id
  std::map<std::string, std::string> channel_ids;    // core channel ("mm:inc-…", "incidents") -> channel id
  std::set<std::string> reported_users;              // told to the core (user_updated)
  std::set<std::string> reported_channels;           // told to the core (channel_updated)
  std::map<std::string, std::shared_ptr<pending_lookup>> user_lookups;     // under way
  std::map<std::string, std::shared_ptr<pending_lookup>> channel_lookups;  // under way
};

adapter::adapter(asio::any_io_executor ex, asio::ssl::context& tls, settings s, runtime::host& host,
                 std::shared_ptr<spdlog::logger> log)
    : ex_(ex),
      tls_(tls),
      settings_(std::move(s)),
      host_(host),
      log_(std::move(log)),
      rest_(ex, tls, settings_.url, settings_.token, log_),
      sender_(ex, host,
              runtime::outbox_sender_settings{"mattermost", settings_.outbox_route, settings_.max_send_attempts},
              log_),
      action_key_(derive_action_key(settings_.token)),
      dir_(std::make_unique<directory>()),
      pause_(ex) {}

adapter::~adapter() = default;

void adapter::stop() {
  stopping_ = true;
  if (ws_) ws_->abort();
  pause_.cancel();  // a wait before a retry or a reconnect ends now
  sender_.stop();
}

void adapter::wake_sender() { sender_.wake(); }

asio::awaitable<std::string> adapter::run() {
  const bool known = co_await identify();
  if (known) {
    runtime::outbox_sender::deliver_fn send = [this](core::outbox_item item) -> asio::awaitable<bool> {
      // A post's client key: a retry after a lost answer creates no second post (the server dedupes it).
      pending_key_ = ctx_.bot_user_id + ":" + std::to_string(item.id);
      co_return co_await deliver(std::move(item.what));
    };
    auto reading = socket_loop();
    auto sending = sender_.run(std::move(send));
    co_await (std::move(reading) || std::move(sending));
  }
  if (ws_) ws_->abort();
  co_return stop_reason_.empty() ? std::string{"stopped"} : stop_reason_;
}

// GET /api/v4/users/me until it answers: who the bot is, so its own posts are not captured as people's.
asio::awaitable<bool> adapter::identify() {
  net::backoff delay{net::backoff_config{settings_.reconnect_base, settings_.reconnect_cap, net::jitter::full}};
  std::minstd_rand random{std::random_device{}()};
  while (!stopping_) {
    auto r = co_await rest_.request(http::verb::get, "/api/v4/users/me", {}, 1);
    if (r.ok()) {
      auto me = parse_user(r.body);
      if (me.error.empty()) {
        ctx_.bot_user_id = me.id;
        dir_->usernames[me.id] = me.username;
        if (log_) log_->info("mattermost: signed in as @{} ({})", me.username, settings_.url);
        co_return true;
      }
    }
    if (r.error.auth_failed) {
      stop_reason_ = "Mattermost refused the bot token (mattermost.token / MATTERMOST_TOKEN): " + r.error.message;
      if (log_) log_->error("{}", stop_reason_);
      co_return false;
    }
    const auto wait = delay.next(random);
    if (log_)
      log_->warn("mattermost: {} did not answer users/me ({} {}); trying again in {} ms", settings_.url, r.status,
                 r.error.message, wait.count());
    pause_.expires_after(wait);
    co_await pause_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return false;
}

asio::awaitable<void> adapter::socket_loop() {
  net::backoff delay{net::backoff_config{settings_.reconnect_base, settings_.reconnect_cap, net::jitter::full}};
  std::minstd_rand random{std::random_device{}()};
  std::string connection_id;  // from the last hello: a reconnect asks the server to resume it
  std::int64_t next_seq = 0;  // the seq of the next event not yet stored
  while (!stopping_) {
    std::string url = rest_.websocket_url();
    if (!connection_id.empty())
      url += "?connection_id=" + path_part(connection_id) + "&sequence_number=" + std::to_string(next_seq);
    net::ws_config wc;
    wc.idle_timeout = settings_.idle_timeout;
    ws_ = std::make_unique<net::ws_client>(ex_, tls_, wc, log_);
    std::vector<net::http_header> headers{{"Authorization", "Bearer " + settings_.token}};
    auto connected = co_await ws_->connect(url, std::move(headers));
    bool gap = false;
    if (!connected) {
      const unsigned status = ws_->last_handshake_status();
      if (status == 401) {
        stop_reason_ = "Mattermost refused the bot token on the websocket (mattermost.token / MATTERMOST_TOKEN)";
        if (log_) log_->error("{}", stop_reason_);
        stopping_ = true;
        sender_.stop();
        co_return;
      }
      if (status == 400 && !connection_id.empty()) connection_id.clear();  // the server will not resume it
      if (log_ && !stopping_) log_->warn("mattermost websocket: cannot connect: {}", connected.error().message());
    } else {
      if (log_) log_->debug("mattermost websocket open (resuming: {})", !connection_id.empty());
      for (;;) {
        auto text = co_await ws_->read();
        if (!text) {
          if (text.error() == net::errc::binary_frame) continue;
          if (log_ && !stopping_) log_->warn("mattermost websocket closed: {}", text.error().message());
          break;
        }
        delay.reset();
        auto f = decode_frame(*text);
        if (auto* h = std::get_if<hello>(&f)) {
          const bool fresh = h->connection_id != connection_id;
          if (fresh) {
            // A new session: what happened since the last one (or while the bot was down) is not replayed.
            if (log_)
              log_->info("mattermost connected (server {}{})", h->server_version,
                         connection_id.empty() ? "" : "; could not resume, resyncing open incident channels");
            connection_id = h->connection_id;
            // Where each channel's capture stopped is written down before anything of this session is stored; the
            // resync starts there, and so does the next one should this one be cut short.
            const std::string route{core::mattermost_route};
            const auto error = co_await runtime::open_capture_gaps(host_, route);
            if (!error.empty() && log_) log_->error("mattermost could not note where the capture stopped: {}", error);
            asio::co_spawn(ex_, resync(), log_exception(log_, "resync"));
          }
          next_seq = h->seq + 1;
          continue;
        }
        if (auto* m = std::get_if<malformed>(&f)) {
          if (log_) log_->warn("mattermost frame unreadable ({}); connection kept", m->why);
          continue;
        }
        if (auto* r = std::get_if<reply>(&f)) {
          if (log_ && !r->ok()) log_->debug("mattermost request {} failed: {}", r->seq_reply, r->error_id);
          continue;
        }
        auto& ev = std::get<event_frame>(f);
        if (ev.seq) {
          if (*ev.seq < next_seq) continue;  // replayed, and already stored
          if (*ev.seq > next_seq) {
            if (log_)
              log_->warn("mattermost events {}..{} missing; reconnecting to have them replayed", next_seq, *ev.seq - 1);
            gap = true;
            break;
          }
        }
        auto decoded = decode_event(ev, ctx_, now());
        if (log_) log_->debug("mattermost event {} seq={} events={}", ev.event, ev.seq ? *ev.seq : -1, decoded.events.size());
        if (!decoded.error.empty() && log_) log_->warn("mattermost {} unreadable: {}", ev.event, decoded.error);
        if (!decoded.events.empty()) {
          auto events = decoded.events;
          const bool stored = co_await submit_all(std::move(events));
          if (!stored) break;  // reconnect: the server replays from next_seq
          asio::co_spawn(ex_, learn(std::move(decoded.events)), log_exception(log_, "users lookup"));
        }
        if (ev.seq) next_seq = *ev.seq + 1;
      }
    }
    if (gap) co_await ws_->close(static_cast<boost::beast::websocket::close_code>(4001), "sequence gap");
    else ws_->abort();
    if (stopping_) break;
    const auto wait = gap ? std::chrono::milliseconds{0} : delay.next(random);
    if (log_ && wait.count() > 0) log_->info("mattermost reconnecting in {} ms", wait.count());
    pause_.expires_after(wait);
    co_await pause_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<bool> adapter::submit_all(std::vector<core::event> events, runtime::host::lane lane) {
  auto outcome = co_await host_.submit_all(std::move(events), lane);
  if (outcome.error.empty()) co_return true;
  if (log_) log_->error("mattermost event not stored: {}", outcome.error);
  co_return false;
}

// Every open incident channel of Mattermost with a capture gap, from where the gap opened (the newest post captured
// before it, else the declaration): all posts changed since, over REST. The inbox keeps each once, so overlapping
// with the socket or an earlier resync is harmless. A channel's gap is closed once every page was stored.
asio::awaitable<void> adapter::resync() {
  const auto gaps = co_await runtime::capture_gaps(host_, std::string{core::mattermost_route});
  for (const auto& g : gaps) {
    auto id = from_core(g.gap.channel);
    if (!id || !is_object_id(*id)) continue;  // not created yet
    std::int64_t since = to_millis(g.gap.since) - 1;
    std::size_t count = 0;
    bool complete = false;
    for (int page = 0; page < 100 && !stopping_; ++page) {
      auto r = co_await rest_.request(http::verb::get,
                                      "/api/v4/channels/" + path_part(*id) + "/posts?since=" + std::to_string(since));
      if (!settled(r, "resync of a channel") || !r.ok()) break;
      auto list = parse_post_list(r.body, ctx_);
      if (!list.error.empty()) {
        if (log_) log_->warn("mattermost resync of {}: {}", *id, list.error);
        break;
      }
      count += list.posts.size();
      auto events = list.events;
      const bool stored = co_await submit_all(std::move(events), runtime::host::lane::backfill);
      if (!stored) break;
      asio::co_spawn(ex_, learn(std::move(list.events)), log_exception(log_, "users lookup"));
      // since= answers at most 1000 posts: ask again from the newest one listed until a page comes back short.
      if (list.posts.size() < 1000 || list.latest_update_at <= since) {
        complete = true;
        break;
      }
      since = list.latest_update_at;
    }
    if (log_ && count > 0) log_->info("mattermost resynced channel={} posts={}", *id, count);
    if (!complete) {
      if (log_ && !stopping_) log_->warn("mattermost resync of {} is incomplete; the next session picks it up again", *id);
      continue;
    }
    const auto error = co_await runtime::close_capture_gap(host_, g.gap);
    if (!error.empty() && log_) log_->warn("mattermost resync of {} done, but its gap stays noted: {}", *id, error);
  }
}

// People and channels seen for the first time: their names, for documents and for @mentions in what the bot says.
asio::awaitable<void> adapter::learn(std::vector<core::event> events) {
  std::set<std::string> users;
  std::set<std::string> channels;
  for (const auto& e : events) {
    users_of(e, users);
    if (const auto* c = std::get_if<core::command_invoked>(&e)) channels.insert(c->channel);
  }
  for (const auto& u : users) {
    auto id = from_core(u);
    if (!id || *id == ctx_.bot_user_id || dir_->reported_users.contains(*id)) continue;
    co_await username_of(*id);
  }
  for (const auto& c : channels) {
    auto id = from_core(c);
    if (!id || dir_->reported_channels.contains(*id)) continue;
    co_await channel_name_of(*id);
  }
}

// One lookup per id at a time: a second asker waits for the first one's answer.
struct adapter::pending_lookup {
  explicit pending_lookup(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;
};

asio::awaitable<std::string> adapter::username_of(std::string user_id) {
  if (auto it = dir_->usernames.find(user_id); it != dir_->usernames.end()) co_return it->second;
  if (auto p = dir_->user_lookups.find(user_id); p != dir_->user_lookups.end()) {
    auto waiting = p->second;
    co_await waiting->done.async_wait(asio::as_tuple(asio::use_awaitable));
    auto it = dir_->usernames.find(user_id);
    co_return it == dir_->usernames.end() ? std::string{} : it->second;
  }
  if (dir_->reported_users.contains(user_id)) co_return std::string{};  // asked before: not found
  dir_->reported_users.insert(user_id);
  auto waiting = std::make_shared<pending_lookup>(ex_);
  dir_->user_lookups[user_id] = waiting;
  auto r = co_await rest_.request(http::verb::get, "/api/v4/users/" + path_part(user_id));
  std::string name;
  if (r.ok()) {
    auto u = parse_user(r.body);
    if (u.error.empty()) {
      name = u.username;
      dir_->usernames[u.id] = u.username;
      core::event e = to_user_updated(u, now());
      co_await host_.submit(std::move(e));
    }
  } else if (log_) {
    log_->debug("mattermost users/{} failed: {} {}", user_id, r.status, r.error.message);
  }
  dir_->user_lookups.erase(user_id);
  waiting->done.cancel();
  co_return name;
}

asio::awaitable<std::string> adapter::channel_name_of(std::string channel_id) {
  if (auto it = dir_->channel_names.find(channel_id); it != dir_->channel_names.end()) co_return it->second;
  if (auto p = dir_->channel_lookups.find(channel_id); p != dir_->channel_lookups.end()) {
    auto waiting = p->second;
    co_await waiting->done.async_wait(asio::as_tuple(asio::use_awaitable));
    auto it = dir_->channel_names.find(channel_id);
    co_return it == dir_->channel_names.end() ? std::string{} : it->second;
  }
  if (dir_->reported_channels.contains(channel_id)) co_return std::string{};
  dir_->reported_channels.insert(channel_id);
  auto waiting = std::make_shared<pending_lookup>(ex_);
  dir_->channel_lookups[channel_id] = waiting;
  auto r = co_await rest_.request(http::verb::get, "/api/v4/channels/" + path_part(channel_id));
  std::string name;
  if (r.ok()) {
    auto c = parse_channel(r.body);
    if (c.error.empty() && !c.name.empty() && c.type != "D" && c.type != "G") {
      name = c.name;
      dir_->channel_names[c.id] = c.name;
      core::event e = core::channel_updated{core::channel_info{to_core(c.id), c.name}, now()};
      co_await host_.submit(std::move(e));
    }
  }
  dir_->channel_lookups.erase(channel_id);
  waiting->done.cancel();
  co_return name;
}

// Core text -> Mattermost Markdown, with every person and channel it mentions looked up first.
asio::awaitable<std::string> adapter::render(std::string core_text) {
  std::vector<std::pair<char, std::string>> mentioned;
  core::for_each_mention(core_text, [&](char kind, std::string_view id) { mentioned.emplace_back(kind, std::string{id}); });
  for (const auto& [kind, id] : mentioned) {
    auto plain = from_core(id);
    if (!plain || !is_object_id(*plain)) continue;
    if (kind == '@' && !dir_->usernames.contains(*plain)) co_await username_of(*plain);
    if (kind == '#' && !dir_->channel_names.contains(*plain)) co_await channel_name_of(*plain);
  }
  name_lookup user = [this](std::string_view id) -> std::string {
    auto plain = from_core(id);
    auto it = plain ? dir_->usernames.find(*plain) : dir_->usernames.end();
    return it == dir_->usernames.end() ? std::string{} : it->second;
  };
  name_lookup channel = [this](std::string_view id) -> std::string {
    auto plain = from_core(id);
    auto it = plain ? dir_->channel_names.find(*plain) : dir_->channel_names.end();
    return it == dir_->channel_names.end() ? std::string{} : it->second;
  };
  co_return to_mattermost_text(core_text, user, channel);
}

// True when the outcome is final: done, or failed for good (logged). False when trying again later may help.
bool adapter::settled(const rest_response& r, std::string_view what) {
  if (r.ok()) return true;
  if (r.error.auth_failed) {
    if (log_) log_->error("mattermost {}: the bot token was refused", what);
    return false;
  }
  if (r.error.retryable) {
    if (log_) log_->warn("mattermost {} failed for now: {} {}", what, r.status, r.error.message);
    return false;
  }
  if (log_) log_->error("mattermost {} failed: {} {} ({})", what, r.status, r.error.message, r.error.id);
  return true;
}

asio::awaitable<std::string> adapter::team_id() {
  if (!team_id_.empty()) co_return team_id_;
  if (!settings_.team.empty()) {
    const std::string path = is_object_id(settings_.team) ? "/api/v4/teams/" + path_part(settings_.team)
                                                          : "/api/v4/teams/name/" + path_part(settings_.team);
    auto r = co_await rest_.request(http::verb::get, path);
    if (r.ok()) team_id_ = field_of(r.body, "id");
    else if (log_) log_->error("mattermost: team {} not found ({}); check mattermost.team", settings_.team, r.error.message);
    co_return team_id_;
  }
  auto r = co_await rest_.request(http::verb::get, "/api/v4/users/me/teams");
  auto teams = json::parse(r.body, nullptr, false);
  if (r.ok() && teams.is_array() && teams.size() == 1 && teams[0].is_object())
    team_id_ = teams[0].value("id", std::string{});
  else if (log_)
    log_->error("mattermost: the bot is in {} teams; set mattermost.team to the one for incident channels",
                teams.is_array() ? teams.size() : 0);
  co_return team_id_;
}

// The Mattermost id of a core channel: "mm:<id>", a channel kintsugi created ("mm:inc-…"), or a name ("incidents",
// the digest channel) looked up in the team. "" when there is none.
asio::awaitable<std::string> adapter::channel_id_of(std::string core_channel) {
  if (auto it = dir_->channel_ids.find(core_channel); it != dir_->channel_ids.end()) co_return it->second;
  auto plain = from_core(core_channel);
  std::string name = plain ? *plain : core_channel;
  if (is_object_id(name)) co_return name;
  if (!name.empty() && name.front() == '#') name.erase(0, 1);
  const std::string team = co_await team_id();
  if (team.empty()) co_return std::string{};
  auto r = co_await rest_.request(http::verb::get, "/api/v4/teams/" + path_part(team) + "/channels/name/" +
                                                       path_part(channel_name_for(name)));
  if (!r.ok()) {
    if (log_) log_->warn("mattermost: no channel named {} ({})", name, r.error.message);
    co_return std::string{};
  }
  auto c = parse_channel(r.body);
  if (c.id.empty()) co_return std::string{};
  dir_->channel_ids[core_channel] = c.id;
  co_return c.id;
}

asio::awaitable<bool> adapter::post(std::string channel_id, std::string text, std::vector<core::button> buttons,
                                    bool pin) {
  const auto pieces = split_message(text);
  const std::string callback = settings_.callback_url.empty() ? std::string{} : settings_.callback_url + "/mattermost/action";
  bool joined = false;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const bool last = i + 1 == pieces.size();
    auto body = json::parse(encode_create_post(channel_id, pieces[i], {}, last ? buttons : std::vector<core::button>{},
                                               callback, action_key_));
    body["pending_post_id"] = pending_key_ + "." + std::to_string(i);
    auto r = co_await rest_.request(http::verb::post, "/api/v4/posts", body.dump());
    if (r.status == 403 && !joined) {
      // A public channel the bot is not in yet (an incident declared in an existing channel): join, then post.
      joined = true;
      auto j = co_await rest_.request(http::verb::post, "/api/v4/channels/" + path_part(channel_id) + "/members",
                                      encode_add_member(ctx_.bot_user_id));
      if (j.ok()) {
        r = co_await rest_.request(http::verb::post, "/api/v4/posts", body.dump());
      }
    }
    if (!r.ok()) co_return settled(r, "post");
    if (pin && i == 0) {
      const std::string id = field_of(r.body, "id");
      if (!id.empty()) {
        auto p = co_await rest_.request(http::verb::post, "/api/v4/posts/" + path_part(id) + "/pin");
        if (!p.ok() && log_) log_->warn("mattermost could not pin the post: {}", p.error.message);
      }
    }
  }
  co_return true;
}

asio::awaitable<bool> adapter::deliver(core::action a) {
  if (auto* p = std::get_if<core::post_message>(&a)) {
    const std::string channel = co_await channel_id_of(p->channel);
    if (channel.empty()) co_return true;  // logged: nowhere to post
    std::string text = co_await render(p->text);
    co_return co_await post(channel, std::move(text), p->buttons, p->pin);
  }
  if (auto* e = std::get_if<core::post_ephemeral>(&a)) {
    const std::string channel = co_await channel_id_of(e->channel);
    auto user = from_core(e->user);
    if (channel.empty() || !user) co_return true;
    const std::string text = co_await render(e->text);
    for (const auto& piece : split_message(text)) {
      auto r = co_await rest_.request(http::verb::post, "/api/v4/posts/ephemeral",
                                      encode_ephemeral_post(*user, channel, piece));
      if (!r.ok()) co_return settled(r, "ephemeral post");
    }
    co_return true;
  }
  if (auto* d = std::get_if<core::direct_message>(&a)) {
    auto user = from_core(d->user);
    if (!user) co_return true;
    std::string channel;
    if (auto it = dir_->dm_channels.find(*user); it != dir_->dm_channels.end()) channel = it->second;
    if (channel.empty()) {
      auto r = co_await rest_.request(http::verb::post, "/api/v4/channels/direct",
                                      encode_direct_channel(ctx_.bot_user_id, *user));
      if (!r.ok()) co_return settled(r, "direct channel");
      channel = parse_channel(r.body).id;
      if (channel.empty()) co_return true;
      dir_->dm_channels[*user] = channel;
    }
    std::string text = co_await render(d->text);
    co_return co_await post(channel, std::move(text), d->buttons, false);
  }
  if (auto* c = std::get_if<core::create_channel>(&a)) {
    if (dir_->channel_ids.contains(c->name)) co_return true;
    auto name = from_core(c->name);
    const std::string wanted = name ? *name : c->name;
    const std::string team = co_await team_id();
    if (team.empty()) co_return true;  // logged: no team to create it in
    auto r = co_await rest_.request(http::verb::post, "/api/v4/channels", encode_create_channel(team, wanted, wanted));
    std::string id;
    if (r.ok()) {
      id = parse_channel(r.body).id;
    } else if (r.status == 400 && r.error.id.find("exists") != std::string::npos) {
      auto found = co_await rest_.request(http::verb::get, "/api/v4/teams/" + path_part(team) + "/channels/name/" +
                                                               path_part(channel_name_for(wanted)));
      if (found.ok()) id = parse_channel(found.body).id;
    } else {
      co_return settled(r, "channel creation");
    }
    if (id.empty()) co_return true;
    dir_->channel_ids[c->name] = id;
    dir_->channel_names[id] = channel_name_for(wanted);
    core::event e = core::channel_created{c->name, to_core(id), now()};
    co_await host_.submit(std::move(e));
    co_return true;
  }
  if (auto* inv = std::get_if<core::invite_user>(&a)) {
    const std::string channel = co_await channel_id_of(inv->channel);
    auto user = from_core(inv->user);
    if (channel.empty() || !user) co_return true;
    auto r = co_await rest_.request(http::verb::post, "/api/v4/channels/" + path_part(channel) + "/members",
                                    encode_add_member(*user));
    co_return settled(r, "invite");
  }
  if (auto* t = std::get_if<core::set_topic>(&a)) {
    const std::string channel = co_await channel_id_of(t->channel);
    if (channel.empty()) co_return true;
    const std::string text = co_await render(t->text);
    auto r = co_await rest_.request(http::verb::put, "/api/v4/channels/" + path_part(channel) + "/patch",
                                    encode_patch_header(text));
    co_return settled(r, "channel header");
  }
  if (auto* pin = std::get_if<core::pin_message>(&a)) {
    auto post_id = from_core(pin->message_id);
    if (!post_id) co_return true;
    auto r = co_await rest_.request(http::verb::post, "/api/v4/posts/" + path_part(*post_id) + "/pin");
    co_return settled(r, "pin");
  }
  co_return true;  // publish_document: the same text is posted as well
}

void adapter::attach(net::http_server& server) {
  server.on(http::verb::post, "/mattermost/command",
            [this](const net::incoming_request& req) { return on_command(req); });
  server.on(http::verb::post, "/mattermost/action",
            [this](const net::incoming_request& req) { return on_action(req); });
}

asio::awaitable<net::http_reply> adapter::on_command(const net::incoming_request& req) {
  auto c = decode_command(req.body, req.header("Authorization"), settings_.slash_token, now());
  if (!c.authorized) {
    if (log_)
      log_->warn("mattermost slash command refused: its token does not match mattermost.slash_token{}",
                 settings_.slash_token.empty() ? " (which is not set)" : "");
    co_return net::http_reply::text(401, "unauthorized\n");
  }
  if (!c.error.empty()) {
    if (log_) log_->warn("mattermost slash command unreadable: {}", c.error);
    co_return net::http_reply::json(
        200, encode_command_response("ephemeral", "kintsugi could not read this command (" + c.error + ")."));
  }
  // @names Mattermost did not resolve in the request: ask the server.
  if (!c.unresolved_usernames.empty()) {
    std::map<std::string, std::string> found;
    for (const auto& name : c.unresolved_usernames) {
      // Someone seen before is known by name already.
      const auto known = std::find_if(dir_->usernames.begin(), dir_->usernames.end(),
                                      [&name](const auto& entry) { return entry.second == name; });
      if (known != dir_->usernames.end()) {
        found[name] = known->first;
        continue;
      }
      auto r = co_await rest_.request(http::verb::get, "/api/v4/users/username/" + path_part(name));
      if (!r.ok()) continue;
      auto u = parse_user(r.body);
      if (u.error.empty()) {
        found[u.username] = u.id;
        if (!dir_->reported_users.contains(u.id)) {
          dir_->reported_users.insert(u.id);
          dir_->usernames[u.id] = u.username;
          core::event learned = to_user_updated(u, now());
          co_await host_.submit(std::move(learned));
        }
      }
    }
    if (!found.empty()) c.invoked.text = replace_usernames(c.invoked.text, found);
  }
  if (log_) log_->debug("mattermost slash command id={}", c.invoked.id);
  core::event e = c.invoked;
  auto outcome = co_await host_.submit(std::move(e));
  if (!outcome.error.empty()) {
    if (log_) log_->error("mattermost slash command not stored: {}", outcome.error);
    co_return net::http_reply::json(
        200, encode_command_response("ephemeral", "kintsugi could not save this command; please try again."));
  }
  std::vector<core::event> seen{core::event{c.invoked}};
  asio::co_spawn(ex_, learn(std::move(seen)), log_exception(log_, "users lookup"));
  // The answer goes out through the outbox (an ephemeral post); an empty ephemeral reply shows nothing.
  co_return net::http_reply::json(200, encode_command_response("ephemeral", ""));
}

asio::awaitable<net::http_reply> adapter::on_action(const net::incoming_request& req) {
  auto a = decode_action(req.body, action_key_, now());
  if (!a.error.empty()) {
    if (log_) log_->warn("mattermost action unreadable: {}", a.error);
    co_return net::http_reply::json(400, encode_action_error("kintsugi could not read this button press."));
  }
  if (!a.authorized) {
    if (log_) log_->warn("mattermost action refused: its context is not signed by this bot");
    co_return net::http_reply::json(401, encode_action_error("This button was not made by this kintsugi."));
  }
  if (!a.invoked) co_return net::http_reply::json(200, encode_action_response(""));
  core::event e = *a.invoked;
  auto outcome = co_await host_.submit(std::move(e));
  if (!outcome.error.empty()) {
    if (log_) log_->error("mattermost action not stored: {}", outcome.error);
    co_return net::http_reply::json(500, encode_action_error("kintsugi could not save this; please try again."));
  }
  co_return net::http_reply::json(200, encode_action_response(""));
}

}  // namespace kintsugi::mattermost
