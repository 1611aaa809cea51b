#include "fake_slack.hpp"
#include "fake_text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "fake_tls_server.hpp"

namespace kintsugi::test {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

namespace {

using fake_text::form_decode;
using fake_text::str;

constexpr const char* team_id = "TTEST";
constexpr const char* app_id = "AFAKE01";
constexpr const char* bot_user = "UBOT";
constexpr const char* bot_id = "BBOT";

std::atomic<std::uint64_t> id_counter{0};

std::uint64_t next_id() { return ++id_counter; }

// Per-process, so that ids from two runs of the tests do not look alike.
std::uint32_t run_prefix() {
  static const std::uint32_t prefix = std::random_device{}();
  return prefix;
}

std::string uuid_like() {
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "%08x-%04x-4%03x-8%03x-%012llx", run_prefix(), 0x5eed, 0x100, 0x200,
                static_cast<unsigned long long>(next_id()));
  return buf.data();
}

std::string event_id() { return "Ev0FAKE" + std::to_string(next_id()); }

// "1613563664.001200" -> microseconds since the epoch; nullopt when it is not digits[.digits].
std::optional<std::int64_t> ts_micros(std::string_view ts) {
  const auto dot = ts.find('.');
  const std::string_view whole = ts.substr(0, dot);
  std::string frac = dot == std::string_view::npos ? std::string{} : std::string(ts.substr(dot + 1));
  if (whole.empty()) return std::nullopt;
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc{} || end != whole.data() + whole.size()) return std::nullopt;
  if (!std::all_of(frac.begin(), frac.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  frac.resize(6, '0');
  return seconds * 1'000'000 + std::stoll(frac);
}

// application/x-www-form-urlencoded -> {"name":"value",…}
json form_fields(std::string_view body) {
  json out = json::object();
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string value = eq == std::string_view::npos ? std::string{} : form_decode(pair.substr(eq + 1));
    out[form_decode(pair.substr(0, eq))] = std::move(value);
  }
  return out;
}

http_response_t reply(const json& body, http::status status = http::status::ok) {
  return make_response(status, body.dump(), "application/json; charset=utf-8");
}

json error_body(const std::string& code) { return json{{"ok", false}, {"error", code}}; }

struct channel_state {
  std::string id;
  std::string name;
  bool member = false;
  std::string topic;
  std::set<std::string> people;
  std::vector<json> history;  // oldest first
  std::map<std::string, std::vector<json>> threads;  // thread_ts -> its replies, oldest first
  std::set<std::string> pinned{};  // ts of the pinned messages
};

json channel_json(const channel_state& c) {
  return json{{"id", c.id},
              {"name", c.name},
              {"is_channel", c.id.starts_with("C")},
              {"is_im", c.id.starts_with("D")},
              {"is_private", false},
              {"is_archived", false},
              {"is_member", c.member},
              {"created", 1763632800},
              {"creator", bot_user},
              {"topic", {{"value", c.topic}, {"creator", c.topic.empty() ? "" : bot_user}, {"last_set", 0}}},
              {"purpose", {{"value", ""}, {"creator", ""}, {"last_set", 0}}}};
}

void insert_by_ts(std::vector<json>& history, json message) {
  const auto at = ts_micros(str(message, "ts")).value_or(0);
  auto pos = std::find_if(history.begin(), history.end(),
                          [&](const json& m) { return ts_micros(str(m, "ts")).value_or(0) > at; });
  history.insert(pos, std::move(message));
}

// A message into the channel: a thread reply into its thread (and the history when broadcast), with its parent's
// reply_count, latest_reply and reply_users brought up to date; anything else into the history.
void record_message(channel_state& c, json message) {
  const std::string ts = str(message, "ts");
  const std::string thread_ts = str(message, "thread_ts");
  if (thread_ts.empty() || thread_ts == ts) {
    insert_by_ts(c.history, std::move(message));
    return;
  }
  if (str(message, "subtype") == "thread_broadcast") insert_by_ts(c.history, message);
  auto& replies = c.threads[thread_ts];
  insert_by_ts(replies, std::move(message));
  for (auto& parent : c.history) {
    if (str(parent, "ts") != thread_ts) continue;
    json users = json::array();
    for (const auto& r : replies) {
      const std::string who = str(r, "user");
      if (!who.empty() && std::find(users.begin(), users.end(), who) == users.end()) users.push_back(who);
    }
    parent["thread_ts"] = thread_ts;
    parent["reply_count"] = replies.size();
    parent["reply_users_count"] = users.size();
    parent["reply_users"] = users;
    parent["latest_reply"] = str(replies.back(), "ts");
    break;
  }
}

// One accepted websocket. The timer and the session are touched on the io thread only; the flags under the mutex.
struct ws_conn {
  explicit ws_conn(asio::any_io_executor ex) : wake(ex) { wake.expires_at(asio::steady_timer::time_point::max()); }
  std::size_t id = 0;
  std::shared_ptr<ws_session> session;
  asio::steady_timer wake;
  std::deque<std::string> own;  // frames for this connection only (a disconnect)
  bool closed = false;          // the reader saw the end
  bool dropped = false;         // drop requested
  bool retiring = false;        // sent a disconnect: takes no more queued frames
};

}  // namespace

struct fake_slack::impl {
  impl(const tls_test_ca& ca, const options& o)
      : opt(o), work(asio::make_work_guard(io)), server(io, ca.server_context()) {}

  const options& opt;
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  std::uint64_t version = 0;
  bool stopping = false;

  // The workspace.
  std::map<std::string, channel_state> channels;
  std::map<std::string, slack_user> users;
  std::map<std::string, std::string> dm_of;  // user -> D channel
  std::set<std::string> tickets;             // issued, not used yet
  std::uint64_t next_ticket = 0;
  std::size_t created_channels = 0;
  int rate_limit_next_post = 0;
  std::size_t failing_history = 0;  // conversations.history calls still to answer missing_scope
  bool hold_hellos = false;

  // Records.
  std::vector<slack_call> calls;
  std::vector<slack_post> posts;
  std::vector<slack_post> ephemerals;
  std::vector<slack_ack> acks;
  std::vector<std::string> envelopes_sent;
  std::vector<std::string> other_frames;
  std::size_t hellos = 0;
  std::size_t rejected = 0;

  std::deque<std::string> pending;  // frames for the newest live websocket

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  fake_tls_server server;
  std::vector<std::shared_ptr<ws_conn>> conns;  // after io: destroyed before it
  std::thread thread;
  std::future<void> finished;

  void bump() {
    ++version;
    changed.notify_all();
  }

  // Under the lock.
  std::shared_ptr<ws_conn> newest(bool include_retiring) const {
    std::shared_ptr<ws_conn> best;
    for (const auto& c : conns) {
      if (c->closed || c->dropped || (c->retiring && !include_retiring)) continue;
      if (!best || c->id > best->id) best = c;
    }
    return best;
  }

  // On the io thread.
  void wake_all() {
    for (const auto& c : conns) c->wake.cancel();
  }

  void start() {
    server.on(http::verb::post, "/api/*", [this](const http_request_t& req) { return api(req); });
    server.on_websocket(
        "/link", [this](std::shared_ptr<ws_session> s) { return serve_socket(std::move(s)); },
        [this](const http_request_t& req) { return check_ticket(req); });
    std::promise<void> done;
    finished = done.get_future();
    thread = std::thread([this, done = std::move(done)]() mutable {
      io.run();
      done.set_value();
    });
  }

  void stop() {
    asio::post(io, [this] {
      server.stop();
      std::lock_guard lock(mu);
      stopping = true;
      wake_all();
      bump();
    });
    work.reset();
    if (finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready) io.stop();
    thread.join();
    std::lock_guard lock(mu);
    conns.clear();
  }

  // ---- the websocket ----

  std::optional<http_response_t> check_ticket(const http_request_t& req) {
    const std::string_view target = req.target();
    const auto q = target.find("ticket=");
    std::string ticket = q == std::string_view::npos ? std::string{} : std::string(target.substr(q + 7));
    ticket = ticket.substr(0, ticket.find('&'));
    std::lock_guard lock(mu);
    if (tickets.erase(ticket) == 1) return std::nullopt;
    ++rejected;
    bump();
    return reply(error_body("invalid_ticket"), http::status::unauthorized);
  }

  json hello_frame(std::size_t id, std::size_t live) const {
    return json{{"type", "hello"},
                {"num_connections", live},
                {"debug_info",
                 {{"host", "applink-fake-" + std::to_string(id)},
                  {"build_number", 1},
                  {"approximate_connection_time", 18060}}},
                {"connection_info", {{"app_id", app_id}}}};
  }

  asio::awaitable<void> read_loop(std::shared_ptr<ws_conn> conn) {
    for (;;) {
      auto text = co_await conn->session->read();
      if (!text) break;
      json j = json::parse(*text, nullptr, false);
      std::lock_guard lock(mu);
      if (j.is_object() && j.contains("envelope_id") && j["envelope_id"].is_string()) {
        acks.push_back({j["envelope_id"].get<std::string>(), conn->id, j.value("payload", json())});
      } else {
        other_frames.push_back(*text);
      }
      bump();
    }
    std::lock_guard lock(mu);
    conn->closed = true;
    wake_all();
    bump();
  }

  asio::awaitable<void> serve_socket(std::shared_ptr<ws_session> session) {
    auto conn = std::make_shared<ws_conn>(io.get_executor());
    conn->session = session;
    std::size_t live = 0;
    {
      std::lock_guard lock(mu);
      conn->id = conns.size() + 1;
      conns.push_back(conn);
      for (const auto& c : conns)
        if (!c->closed) ++live;
      bump();
    }
    for (;;) {  // hold_hellos(): the connection waits, greeted by nothing
      {
        std::lock_guard lock(mu);
        if (!hold_hellos || stopping || conn->closed) break;
      }
      co_await conn->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (opt.send_hello) {
      // Awaited into a variable: GCC 12 miscompiles a co_await inside an if condition.
      const bool greeted = co_await session->send(hello_frame(conn->id, live).dump());
      std::lock_guard lock(mu);
      if (greeted) ++hellos;
      bump();
    }
    asio::co_spawn(io, read_loop(conn), asio::detached);
    for (;;) {
      std::optional<std::string> frame;
      bool from_queue = false;
      bool drop = false;
      {
        std::lock_guard lock(mu);
        if (stopping || conn->closed) break;
        if (conn->dropped && conn->session) {
          drop = true;
        } else if (!conn->own.empty()) {
          frame = std::move(conn->own.front());
          conn->own.pop_front();
        } else if (!conn->dropped && !pending.empty() && newest(false) == conn) {
          frame = std::move(pending.front());
          pending.pop_front();
          from_queue = true;
        }
      }
      if (drop) {
        session->drop();  // the reader sees the end and sets closed
        conn->session = nullptr;
        continue;
      }
      if (frame) {
        const bool sent = co_await session->send(*frame);
        std::lock_guard lock(mu);
        if (sent) {
          json j = json::parse(*frame, nullptr, false);
          if (j.is_object() && j.contains("envelope_id") && j["envelope_id"].is_string())
            envelopes_sent.push_back(j["envelope_id"].get<std::string>());
        } else if (from_queue) {
          pending.push_front(std::move(*frame));  // for the next connection
        }
        bump();
        continue;
      }
      co_await conn->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    std::lock_guard lock(mu);
    conn->session = nullptr;
  }

  // Runs `f` under the lock on the io thread, then wakes the socket writers.
  template <class F>
  void on_io(F f) {
    asio::post(io, [this, f = std::move(f)]() mutable {
      std::lock_guard lock(mu);
      f();
      wake_all();
      bump();
    });
  }

  // ---- the Web API ----

  std::optional<http_response_t> api(const http_request_t& req) {
    const std::string_view target = req.target();
    std::string method(target.substr(5, target.find('?') - 5));  // after "/api/"
    slack_call call;
    call.method = method;
    call.at = clock_type::now();
    const std::string_view content_type = req[http::field::content_type];
    call.json_body = content_type.find("json") != std::string_view::npos;
    if (call.json_body) {
      call.body = req.body().empty() ? json::object() : json::parse(req.body(), nullptr, false);
      if (call.body.is_discarded()) call.body = json::object();
    } else {
      call.body = form_fields(req.body());
    }
    const std::string_view auth = req[http::field::authorization];
    call.authorized = auth.starts_with("Bearer ") && auth.size() > 7;
    if (call.authorized) call.token = std::string(auth.substr(7));

    std::lock_guard lock(mu);
    auto response = answer(call);
    call.status = static_cast<int>(response.result_int());
    json answered = json::parse(response.body(), nullptr, false);
    if (!answered.is_discarded() && !answered.value("ok", false)) call.error = str(answered, "error");
    calls.push_back(std::move(call));
    bump();
    return response;
  }

  // Under the lock.
  http_response_t answer(const slack_call& call) {
    const bool app_method = call.method == "apps.connections.open";
    if (!call.authorized) return reply(error_body("not_authed"));
    const std::string& wanted = app_method ? opt.app_token : opt.bot_token;
    if (call.token != wanted) {
      const bool other_kind = call.token == (app_method ? opt.bot_token : opt.app_token);
      return reply(error_body(other_kind ? "not_allowed_token_type" : "invalid_auth"));
    }
    const json& b = call.body;
    const std::string& m = call.method;
    if (m == "auth.test") {
      return reply({{"ok", true}, {"url", "https://kintsugi-test.slack.com/"}, {"team", "kintsugi-test"},
                    {"user", "kintsugi"}, {"team_id", team_id}, {"user_id", bot_user}, {"bot_id", bot_id},
                    {"is_enterprise_install", false}});
    }
    if (app_method) {
      const std::string ticket = std::to_string(++next_ticket);
      tickets.insert(ticket);
      return reply({{"ok", true}, {"url", server.url("wss", "/link?ticket=" + ticket)}});
    }
    if (m == "chat.postMessage") return post_message(b);
    if (m == "chat.postEphemeral") {
      auto* c = find_channel(str(b, "channel"));
      if (c == nullptr) return reply(error_body("channel_not_found"));
      if (str(b, "user").empty()) return reply(error_body("user_not_found"));
      const std::string ts = next_slack_ts();
      ephemerals.push_back({c->id, str(b, "text"), ts, str(b, "user"), clock_type::now()});
      return reply({{"ok", true}, {"message_ts", ts}});
    }
    if (m == "conversations.open") {
      const std::string who = str(b, "users");
      if (who.empty()) return reply(error_body("users_list_not_supplied"));
      const bool known = dm_of.contains(who);
      if (!known) {
        const std::string id = (who.find(',') == std::string::npos ? "D0" : "G0") + std::to_string(next_id());
        dm_of[who] = id;
        channels[id] = channel_state{id, "", true, "", {}, {}, {}};
      }
      json out{{"ok", true}, {"channel", {{"id", dm_of[who]}}}};
      if (known) out["no_op"] = out["already_open"] = true;
      return reply(out);
    }
    if (m == "conversations.create") {
      const std::string name = str(b, "name");
      if (name.empty()) return reply(error_body("invalid_name_required"));
      for (const auto& [id, c] : channels)
        if (c.name == name) return reply(error_body("name_taken"));
      const std::string id = "C0NEW" + std::to_string(++created_channels);
      channels[id] = channel_state{id, name, true, "", {}, {}, {}};
      return reply({{"ok", true}, {"channel", channel_json(channels[id])}});
    }
    if (m == "conversations.info") {
      // Any channel the workspace has, member or not (channels:read), as Slack answers it.
      auto* c = find_channel(str(b, "channel"));
      if (c == nullptr) return reply(error_body("channel_not_found"));
      return reply({{"ok", true}, {"channel", channel_json(*c)}});
    }
    if (m == "conversations.join") {
      auto* c = find_channel(str(b, "channel"));
      if (c == nullptr) return reply(error_body("channel_not_found"));
      json out{{"ok", true}, {"channel", nullptr}};
      if (c->member) out["warning"] = "already_in_channel";
      c->member = true;
      out["channel"] = channel_json(*c);
      return reply(out);
    }
    if (m == "conversations.invite" || m == "conversations.setTopic" || m == "conversations.history" ||
        m == "conversations.replies") {
      auto* c = find_channel(str(b, "channel"));
      if (c == nullptr) return reply(error_body("channel_not_found"));
      if (!c->member) return reply(error_body("not_in_channel"));
      if (m == "conversations.setTopic") {
        c->topic = str(b, "topic");
        return reply({{"ok", true}, {"channel", channel_json(*c)}});
      }
      if (m == "conversations.history" && failing_history > 0) {
        --failing_history;
        return reply(error_body("missing_scope"));
      }
      if (m == "conversations.history") return history(*c, b);
      if (m == "conversations.replies") return replies(*c, b);
      std::string list = str(b, "users");
      bool added = false;
      while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string who = list.substr(0, comma);
        list = comma == std::string::npos ? std::string{} : list.substr(comma + 1);
        if (who == bot_user) return reply(error_body("cant_invite_self"));
        added = c->people.insert(who).second || added;
      }
      if (!added) return reply(error_body("already_in_channel"));
      return reply({{"ok", true}, {"channel", channel_json(*c)}});
    }
    if (m == "users.info") {
      auto it = users.find(str(b, "user"));
      if (it == users.end()) return reply(error_body("user_not_found"));
      const slack_user& u = it->second;
      return reply({{"ok", true},
                    {"user",
                     {{"id", u.id},
                      {"team_id", team_id},
                      {"name", u.name},
                      {"deleted", false},
                      {"real_name", u.display_name},
                      {"tz", u.tz},
                      {"tz_label", u.tz},
                      {"tz_offset", 0},
                      {"profile",
                       {{"real_name", u.display_name},
                        {"display_name", u.display_name},
                        {"display_name_normalized", u.display_name},
                        {"team", team_id}}},
                      {"is_admin", false},
                      {"is_bot", false},
                      {"updated", 1763632800}}}});
    }
    if (m == "pins.add") return pin(b);
    return reply(error_body("unknown_method"));
  }

  // pins.add {channel, timestamp}: as Slack answers it, already_pinned the second time.
  http_response_t pin(const json& b) {
    auto* c = find_channel(str(b, "channel"));
    if (c == nullptr) return reply(error_body("channel_not_found"));
    const std::string ts = str(b, "timestamp");
    if (ts.empty()) return reply(error_body("no_item_specified"));
    if (!c->member) return reply(error_body("not_in_channel"));
    bool found = false;
    for (const auto& message : c->history) found = found || str(message, "ts") == ts;
    for (const auto& [parent, replies] : c->threads)
      for (const auto& message : replies) found = found || str(message, "ts") == ts;
    if (!found) return reply(error_body("message_not_found"));
    if (!c->pinned.insert(ts).second) return reply(error_body("already_pinned"));
    return reply({{"ok", true}});
  }

  channel_state* find_channel(const std::string& id) {
    auto it = channels.find(id);
    return it == channels.end() ? nullptr : &it->second;
  }

  http_response_t post_message(const json& b) {
    if (rate_limit_next_post > 0) {
      auto r = reply(error_body("ratelimited"), http::status::too_many_requests);
      r.set(http::field::retry_after, std::to_string(rate_limit_next_post));
      rate_limit_next_post = 0;
      return r;
    }
    auto* c = find_channel(str(b, "channel"));
    if (c == nullptr) return reply(error_body("channel_not_found"));
    if (!c->member) return reply(error_body("not_in_channel"));
    const std::string text = str(b, "text");
    if (text.empty() && !b.contains("blocks")) return reply(error_body("no_text"));
    const std::string ts = next_slack_ts();
    json message{{"type", "message"}, {"text", text},   {"user", bot_user}, {"bot_id", bot_id},
                 {"app_id", app_id},  {"ts", ts},       {"team", team_id},
                 {"bot_profile", {{"id", bot_id}, {"name", "kintsugi"}, {"app_id", app_id}, {"team_id", team_id}}}};
    const std::string thread_ts = str(b, "thread_ts");
    if (!thread_ts.empty()) message["thread_ts"] = thread_ts;
    if (!thread_ts.empty() && str(b, "reply_broadcast") == "true") message["subtype"] = "thread_broadcast";
    record_message(*c, message);
    posts.push_back({c->id, text, ts, {}, clock_type::now()});
    return reply({{"ok", true}, {"channel", c->id}, {"ts", ts}, {"message", message}});
  }

  // `oldest`/`latest`, exclusive unless `inclusive`, as conversations.history and .replies read them.
  struct window {
    std::optional<std::int64_t> oldest, latest;
    bool inclusive = false;
    bool holds(const json& message) const {
      const auto at = ts_micros(str(message, "ts")).value_or(0);
      if (oldest && (inclusive ? at < *oldest : at <= *oldest)) return false;
      if (latest && (inclusive ? at > *latest : at >= *latest)) return false;
      return true;
    }
  };
  static window window_of(const json& b) {
    const std::string inclusive = str(b, "inclusive");
    return window{ts_micros(str(b, "oldest")), ts_micros(str(b, "latest")), inclusive == "true" || inclusive == "1"};
  }

  // The page size: min(limit, history_page_cap); and where the cursor says to start (nullopt: a bad cursor).
  std::size_t page_size(const json& b) const {
    std::size_t limit = 100;
    if (const std::string l = str(b, "limit"); !l.empty()) limit = std::clamp<std::size_t>(std::stoul(l), 1, 999);
    return std::min(limit, std::max<std::size_t>(opt.history_page_cap, 1));
  }
  static constexpr std::string_view cursor_prefix = "bmV4dF90czo";
  static std::optional<std::size_t> cursor_start(const json& b) {
    const std::string cursor = str(b, "cursor");
    if (cursor.empty()) return 0;
    if (!cursor.starts_with(cursor_prefix)) return std::nullopt;
    return std::stoul(cursor.substr(cursor_prefix.size()));
  }

  // conversations.replies: the parent first on every page, then its replies in the window, oldest first, in pages
  // of min(limit, history_page_cap) replies with an opaque cursor. thread_not_found for a ts that is no message.
  http_response_t replies(const channel_state& c, const json& b) {
    const std::string ts = str(b, "ts");
    auto parent = std::find_if(c.history.begin(), c.history.end(), [&](const json& m) { return str(m, "ts") == ts; });
    if (ts.empty() || parent == c.history.end()) return reply(error_body("thread_not_found"));
    const auto from = cursor_start(b);
    if (!from) return reply(error_body("invalid_cursor"));
    const window w = window_of(b);
    std::vector<json> matching;
    if (auto it = c.threads.find(ts); it != c.threads.end())
      for (const auto& r : it->second)
        if (w.holds(r)) matching.push_back(r);
    const std::size_t page = page_size(b);
    json messages = json::array({*parent});
    for (std::size_t k = *from; k < std::min(matching.size(), *from + page); ++k) messages.push_back(matching[k]);
    const bool more = *from + page < matching.size();
    return reply({{"ok", true},
                  {"messages", messages},
                  {"has_more", more},
                  {"response_metadata",
                   {{"next_cursor", more ? std::string(cursor_prefix) + std::to_string(*from + page) : ""}}}});
  }

  // conversations.history: newest first, `oldest`/`latest` exclusive unless inclusive, pages of
  // min(limit, history_page_cap) with an opaque cursor.
  http_response_t history(const channel_state& c, const json& b) {
    const window w = window_of(b);
    std::vector<json> matching;
    for (auto it = c.history.rbegin(); it != c.history.rend(); ++it)
      if (w.holds(*it)) matching.push_back(*it);
    const auto from = cursor_start(b);
    if (!from) return reply(error_body("invalid_cursor"));
    const std::size_t page = page_size(b);
    json messages = json::array();
    for (std::size_t k = *from; k < std::min(matching.size(), *from + page); ++k) messages.push_back(matching[k]);
    const bool more = *from + page < matching.size();
    return reply({{"ok", true},
                  {"messages", messages},
                  {"has_more", more},
                  {"pin_count", 0},
                  {"response_metadata",
                   {{"next_cursor", more ? std::string(cursor_prefix) + std::to_string(*from + page) : ""}}}});
  }
};

fake_slack::fake_slack(const tls_test_ca& ca) : fake_slack(ca, options{}) {}

fake_slack::fake_slack(const tls_test_ca& ca, options o)
    : options_(std::move(o)), impl_(std::make_unique<impl>(ca, options_)) {
  impl_->start();
}

fake_slack::~fake_slack() { impl_->stop(); }

std::uint16_t fake_slack::port() const { return impl_->server.port(); }
std::string fake_slack::api_base_url() const { return impl_->server.url("https", "/api/"); }

void fake_slack::add_user(slack_user u) {
  std::lock_guard lock(impl_->mu);
  std::string id = u.id;
  impl_->users[id] = std::move(u);
}

void fake_slack::add_channel(const std::string& id, const std::string& name, bool bot_member) {
  std::lock_guard lock(impl_->mu);
  impl_->channels[id] = channel_state{id, name, bot_member, "", {}, {}, {}};
}

void fake_slack::add_history(const std::string& channel, json message) {
  std::lock_guard lock(impl_->mu);
  record_message(impl_->channels[channel], std::move(message));
}

std::string fake_slack::topic(const std::string& channel) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->channels.find(channel);
  return it == impl_->channels.end() ? std::string{} : it->second.topic;
}

bool fake_slack::bot_is_member(const std::string& channel) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->channels.find(channel);
  return it != impl_->channels.end() && it->second.member;
}

void fake_slack::push(std::string frame) {
  impl_->on_io([this, frame = std::move(frame)]() mutable { impl_->pending.push_back(std::move(frame)); });
}

std::string fake_slack::push_envelope(const json& envelope) {
  push(envelope.dump());
  return envelope.value("envelope_id", "");
}

std::string fake_slack::push_to(std::size_t connection, const json& frame) {
  impl_->on_io([this, connection, text = frame.dump()] {
    for (const auto& c : impl_->conns)
      if (c->id == connection && !c->closed && !c->dropped) c->own.push_back(text);
  });
  return frame.value("envelope_id", "");
}

void fake_slack::hold_hellos(bool on) {
  impl_->on_io([this, on] { impl_->hold_hellos = on; });
}

void fake_slack::send_disconnect(const std::string& reason) {
  json frame{{"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "wss-fake"}}}};
  impl_->on_io([this, text = frame.dump()] {
    if (auto c = impl_->newest(true)) {
      c->own.push_back(text);
      c->retiring = true;
    }
  });
}

void fake_slack::drop_socket() {
  impl_->on_io([this] {
    if (auto c = impl_->newest(true)) c->dropped = true;
  });
}

void fake_slack::rate_limit_next_post(int retry_after_s) {
  std::lock_guard lock(impl_->mu);
  impl_->rate_limit_next_post = retry_after_s;
}

void fake_slack::fail_history(std::size_t calls) {
  std::lock_guard lock(impl_->mu);
  impl_->failing_history = calls;
}

std::vector<slack_call> fake_slack::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls;
}

std::vector<slack_call> fake_slack::calls(const std::string& method) const {
  std::lock_guard lock(impl_->mu);
  std::vector<slack_call> out;
  for (const auto& c : impl_->calls)
    if (c.method == method) out.push_back(c);
  return out;
}

std::size_t fake_slack::count(const std::string& method) const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(
      std::count_if(impl_->calls.begin(), impl_->calls.end(), [&](const slack_call& c) { return c.method == method; }));
}

std::vector<slack_post> fake_slack::posts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->posts;
}

std::vector<slack_post> fake_slack::posts_in(const std::string& channel) const {
  std::lock_guard lock(impl_->mu);
  std::vector<slack_post> out;
  for (const auto& p : impl_->posts)
    if (p.channel == channel) out.push_back(p);
  return out;
}

std::vector<slack_post> fake_slack::ephemerals() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ephemerals;
}

std::vector<slack_ack> fake_slack::acks() const {
  std::lock_guard lock(impl_->mu);
  return impl_->acks;
}

std::size_t fake_slack::acks_of(const std::string& envelope_id) const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(std::count_if(impl_->acks.begin(), impl_->acks.end(),
                                                [&](const slack_ack& a) { return a.envelope_id == envelope_id; }));
}

std::vector<std::string> fake_slack::envelopes_sent() const {
  std::lock_guard lock(impl_->mu);
  return impl_->envelopes_sent;
}

std::vector<std::string> fake_slack::other_frames() const {
  std::lock_guard lock(impl_->mu);
  return impl_->other_frames;
}

std::size_t fake_slack::websockets_opened() const {
  std::lock_guard lock(impl_->mu);
  return impl_->conns.size();
}

std::size_t fake_slack::hellos_sent() const {
  std::lock_guard lock(impl_->mu);
  return impl_->hellos;
}

std::size_t fake_slack::live_websockets() const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(
      std::count_if(impl_->conns.begin(), impl_->conns.end(), [](const auto& c) { return !c->closed; }));
}

std::size_t fake_slack::rejected_upgrades() const {
  std::lock_guard lock(impl_->mu);
  return impl_->rejected;
}

bool fake_slack::wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) const {
  const auto deadline = clock_type::now() + timeout;
  for (;;) {
    std::unique_lock lock(impl_->mu);
    const auto seen = impl_->version;
    lock.unlock();
    if (condition()) return true;
    lock.lock();
    if (!impl_->changed.wait_until(lock, deadline, [&] { return impl_->version != seen; })) {
      lock.unlock();
      return condition();
    }
  }
}

// ---- envelopes ----

std::string next_slack_ts() {
  static std::mutex m;
  static std::int64_t last = 0;
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::lock_guard lock(m);
  last = std::max<std::int64_t>(now, last + 100);
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%lld.%06lld", static_cast<long long>(last / 1'000'000),
                static_cast<long long>(last % 1'000'000));
  return buf.data();
}

std::string iso_of_ts(const std::string& ts) {
  const auto us = ts_micros(ts).value_or(0);
  const std::chrono::sys_time<std::chrono::microseconds> t{std::chrono::microseconds{us}};
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss<std::chrono::microseconds> tod{t - day};
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02lld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()),
                static_cast<int>(tod.minutes().count()), static_cast<long long>(tod.seconds().count()));
  std::string out = buf.data();
  const auto frac = tod.subseconds().count();
  if (frac != 0) {
    if (frac % 1000 == 0) std::snprintf(buf.data(), buf.size(), ".%03lld", static_cast<long long>(frac / 1000));
    else std::snprintf(buf.data(), buf.size(), ".%06lld", static_cast<long long>(frac));
    out += buf.data();
  }
  return out + "Z";
}

namespace {

json event_envelope(const std::string& channel, json event) {
  const std::string ts = str(event, "event_ts");
  const auto seconds = ts_micros(ts).value_or(0) / 1'000'000;
  const std::string type = str(event, "type");
  return json{{"envelope_id", uuid_like()},
              {"payload",
               {{"token", "verification-token"},
                {"team_id", team_id},
                {"api_app_id", app_id},
                {"event", std::move(event)},
                {"type", "event_callback"},
                {"event_id", event_id()},
                {"event_time", seconds},
                {"authorizations",
                 json::array({{{"enterprise_id", nullptr},
                               {"team_id", team_id},
                               {"user_id", bot_user},
                               {"is_bot", true},
                               {"is_enterprise_install", false}}})},
                {"is_ext_shared_channel", false},
                {"event_context", "1-" + type + "-" + std::string(team_id) + "-" + channel}}},
              {"type", "events_api"},
              {"accepts_response_payload", false},
              {"retry_attempt", 0},
              {"retry_reason", ""}};
}

}  // namespace

json history_message(const std::string& user, const std::string& text, const std::string& ts) {
  return json{{"client_msg_id", uuid_like()}, {"type", "message"}, {"text", text},
              {"user", user},                 {"ts", ts},          {"team", team_id}};
}

json thread_reply_message(const std::string& user, const std::string& text, const std::string& ts,
                          const std::string& thread_ts) {
  json message = history_message(user, text, ts);
  message["thread_ts"] = thread_ts;
  return message;
}

json thread_reply_envelope(const std::string& channel, const std::string& user, const std::string& text,
                           const std::string& ts, const std::string& thread_ts) {
  json event = thread_reply_message(user, text, ts, thread_ts);
  event["channel"] = channel;
  event["event_ts"] = ts;
  event["channel_type"] = "channel";
  return event_envelope(channel, std::move(event));
}

json member_joined_envelope(const std::string& channel, const std::string& user, const std::string& event_ts,
                            const std::string& inviter) {
  json event{{"type", "member_joined_channel"}, {"user", user},         {"channel", channel},
             {"channel_type", "C"},             {"team", team_id},      {"event_ts", event_ts}};
  if (!inviter.empty()) event["inviter"] = inviter;
  return event_envelope(channel, std::move(event));
}

json channel_join_envelope(const std::string& channel, const std::string& user, const std::string& ts,
                           const std::string& inviter) {
  json event{{"type", "message"},   {"subtype", "channel_join"}, {"ts", ts},
             {"user", user},        {"text", "<@" + user + "> has joined the channel"},
             {"channel", channel},  {"event_ts", ts},            {"channel_type", "channel"}};
  if (!inviter.empty()) event["inviter"] = inviter;
  return event_envelope(channel, std::move(event));
}

json message_envelope(const std::string& channel, const std::string& user, const std::string& text,
                      const std::string& ts) {
  json event = history_message(user, text, ts);
  event["channel"] = channel;
  event["event_ts"] = ts;
  event["channel_type"] = "channel";
  return event_envelope(channel, std::move(event));
}

json message_changed_envelope(const std::string& channel, const std::string& user, const std::string& ts,
                              const std::string& old_text, const std::string& new_text, const std::string& edit_ts) {
  json now = history_message(user, new_text, ts);
  now["edited"] = {{"user", user}, {"ts", edit_ts}};
  now["source_team"] = team_id;
  now["user_team"] = team_id;
  json before = history_message(user, old_text, ts);
  before["client_msg_id"] = now["client_msg_id"];
  json event{{"type", "message"},       {"subtype", "message_changed"}, {"hidden", true},
             {"message", now},           {"channel", channel},           {"previous_message", before},
             {"event_ts", edit_ts},      {"ts", edit_ts},                {"channel_type", "channel"}};
  return event_envelope(channel, std::move(event));
}

json message_deleted_envelope(const std::string& channel, const std::string& user, const std::string& ts,
                              const std::string& old_text, const std::string& event_ts) {
  json event{{"type", "message"},
             {"subtype", "message_deleted"},
             {"hidden", true},
             {"channel", channel},
             {"deleted_ts", ts},
             {"previous_message", history_message(user, old_text, ts)},
             {"event_ts", event_ts},
             {"ts", event_ts},
             {"channel_type", "channel"}};
  return event_envelope(channel, std::move(event));
}

json reaction_added_envelope(const std::string& channel, const std::string& user, const std::string& item_ts,
                             const std::string& item_user, const std::string& reaction, const std::string& event_ts) {
  json event{{"type", "reaction_added"},
             {"user", user},
             {"item", {{"type", "message"}, {"channel", channel}, {"ts", item_ts}}},
             {"reaction", reaction},
             {"item_user", item_user},
             {"event_ts", event_ts}};
  return event_envelope(channel, std::move(event));
}

json slash_command_envelope(const std::string& channel, const std::string& user, const std::string& text,
                            const std::string& command) {
  const auto n = next_id();
  return json{{"envelope_id", uuid_like()},
              {"payload",
               {{"token", "verification-token"},
                {"team_id", team_id},
                {"team_domain", "kintsugi-test"},
                {"channel_id", channel},
                {"channel_name", "incident"},
                {"user_id", user},
                {"user_name", "user-" + user},
                {"command", command},
                {"text", text},
                {"api_app_id", app_id},
                {"is_enterprise_install", "false"},
                {"response_url",
                 "https://hooks.slack.com/commands/" + std::string(team_id) + "/" + std::to_string(n) + "/x"},
                {"trigger_id", std::to_string(run_prefix()) + "." + std::to_string(n) + ".fake"}}},
              {"type", "slash_commands"},
              {"accepts_response_payload", true}};
}

json block_actions_envelope(const std::string& channel, const std::string& user, const json& message,
                            const std::string& message_ts, const json& element) {
  const auto n = next_id();
  const std::string action_ts = next_slack_ts();
  json action{{"action_id", element.value("action_id", "")},
              {"block_id", "b" + std::to_string(n)},
              {"text", element.value("text", json::object())},
              {"value", element.value("value", "")},
              {"type", "button"},
              {"action_ts", action_ts}};
  if (element.contains("style")) action["style"] = element["style"];
  return json{{"envelope_id", uuid_like()},
              {"payload",
               {{"type", "block_actions"},
                {"user", {{"id", user}, {"username", "user-" + user}, {"name", "user-" + user}, {"team_id", team_id}}},
                {"api_app_id", app_id},
                {"token", "verification-token"},
                {"container",
                 {{"type", "message"}, {"message_ts", message_ts}, {"channel_id", channel}, {"is_ephemeral", false}}},
                {"trigger_id", std::to_string(run_prefix()) + "." + std::to_string(n) + ".fake"},
                {"team", {{"id", team_id}, {"domain", "kintsugi-test"}}},
                {"channel", {{"id", channel}, {"name", channel.starts_with("D") ? "directmessage" : "incident"}}},
                {"message",
                 {{"bot_id", bot_id},
                  {"type", "message"},
                  {"text", message.value("text", "")},
                  {"user", bot_user},
                  {"ts", message_ts},
                  {"team", team_id},
                  {"blocks", message.value("blocks", json::array())}}},
                {"response_url",
                 "https://hooks.slack.com/actions/" + std::string(team_id) + "/" + std::to_string(n) + "/x"},
                {"actions", json::array({action})}}},
              {"type", "interactive"},
              {"accepts_response_payload", false}};
}

json redelivery(const json& envelope, int retry_attempt, const std::string& retry_reason) {
  json again = envelope;
  again["envelope_id"] = uuid_like();
  again["retry_attempt"] = retry_attempt;
  again["retry_reason"] = retry_reason;
  return again;
}

}  // namespace kintsugi::test
