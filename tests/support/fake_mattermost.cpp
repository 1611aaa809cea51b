#include "fake_mattermost.hpp"
#include "fake_text.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "fake_tls_server.hpp"

namespace kintsugi::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using asio::ip::tcp;

namespace {

using fake_text::form_escape;
using fake_text::str;
const auto& url_decode = fake_text::form_decode;
const auto& query_params = fake_text::form_params;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view id_alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";
constexpr std::size_t max_post_runes = 16383;
constexpr std::size_t response_url_uses = 5;

// ---- small text helpers ----

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty()) out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path = path.substr(slash + 1);
  }
  return out;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Unicode code points in UTF-8 text (Mattermost limits a message to 16383 runes).
std::size_t runes(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; }));
}

std::string base64(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16U) |
                   (static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8U) |
                   static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    out += table[(n >> 18U) & 63U];
    out += table[(n >> 12U) & 63U];
    out += table[(n >> 6U) & 63U];
    out += table[n & 63U];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16U;
    if (i + 1 < in.size()) n |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8U;
    out += table[(n >> 18U) & 63U];
    out += table[(n >> 12U) & 63U];
    out += i + 1 < in.size() ? table[(n >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

// "POST /api/v4/posts" or "/api/v4/channels/*": does it cover this request?
bool pattern_matches(const std::string& pattern, const std::string& method, const std::string& path) {
  std::string_view p = pattern;
  if (const auto space = p.find(' '); space != std::string_view::npos) {
    if (p.substr(0, space) != method) return false;
    p = p.substr(space + 1);
  }
  if (!p.empty() && p.back() == '*') return path.starts_with(p.substr(0, p.size() - 1));
  return p == path;
}

// The token of "Authorization: Bearer <t>" (or "Token <t>"), as the real server reads it; nullopt without one.
std::optional<std::string> bearer_of(const http_request_t& req) {
  const std::string_view auth = req[http::field::authorization];
  auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  if (auth.size() > 7 && lower(auth.substr(0, 7)) == "bearer ") return std::string(auth.substr(7));
  if (auth.size() > 6 && lower(auth.substr(0, 6)) == "token ") return std::string(auth.substr(6));
  return std::nullopt;
}

// ---- an outgoing HTTP request (Mattermost calling the bot), on a private io_context in the caller's thread ----

struct outgoing {
  std::string url;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

struct incoming {
  int status = 0;
  std::string error;
  std::string body;
  std::string content_type;
};

struct parsed_url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";
};

std::optional<parsed_url> parse_http_url(std::string_view url) {
  parsed_url out;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    out.tls = true;
  } else {
    return std::nullopt;
  }
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.target = std::string(url.substr(slash));
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    out.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
  } else {
    out.port = out.tls ? "443" : "80";
  }
  if (authority.starts_with('[') && authority.ends_with(']')) authority = authority.substr(1, authority.size() - 2);
  out.host = std::string(authority);
  if (out.host.empty()) return std::nullopt;
  return out;
}

template <class Stream>
asio::awaitable<void> exchange(Stream& stream, http::request<http::string_body> req, incoming* out) {
  auto [write_ec, written] = co_await http::async_write(stream, req, use_tuple);
  if (write_ec) {
    out->error = "write: " + write_ec.message();
    co_return;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [read_ec, read] = co_await http::async_read(stream, buffer, res, use_tuple);
  if (read_ec) {
    out->error = "read: " + read_ec.message();
    co_return;
  }
  out->status = static_cast<int>(res.result_int());
  out->body = res.body();
  out->content_type = std::string(res[http::field::content_type]);
}

asio::awaitable<void> perform(outgoing request, parsed_url url, incoming* out) {
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(url.host, url.port, use_tuple);
  if (resolve_ec) {
    out->error = "resolve: " + resolve_ec.message();
    co_return;
  }
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_after(request.timeout);
  auto [connect_ec, endpoint] = co_await tcp_stream.async_connect(endpoints, use_tuple);
  if (connect_ec) {
    out->error = "connect: " + connect_ec.message();
    co_return;
  }
  http::request<http::string_body> req{http::verb::post, url.target, 11};
  req.set(http::field::host, url.host + ":" + url.port);
  req.set(http::field::user_agent, "Mattermost-Bot/1.1");
  req.set(http::field::accept, "application/json");
  if (!request.content_type.empty()) req.set(http::field::content_type, request.content_type);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = std::move(request.body);
  req.prepare_payload();
  if (!url.tls) {
    co_await exchange(tcp_stream, std::move(req), out);
  } else {
    // The fake does not check the bot's certificate (a test listener's); it only speaks TLS to it.
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), context);
    SSL_set_tlsext_host_name(tls_stream.native_handle(), url.host.c_str());
    auto [handshake_ec] = co_await tls_stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
    if (handshake_ec) {
      out->error = "tls: " + handshake_ec.message();
      co_return;
    }
    co_await exchange(tls_stream, std::move(req), out);
  }
  if (out->error.find("timeout") != std::string::npos || out->error.find("timed out") != std::string::npos)
    out->error = "timeout";
}

incoming http_post(outgoing request) {
  incoming out;
  auto url = parse_http_url(request.url);
  if (!url) {
    out.error = "bad url: " + request.url;
    return out;
  }
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, perform(std::move(request), std::move(*url), &out),
                 [&failure](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      out.error = e.what();
    }
  }
  return out;
}

// ---- the server's state ----

struct team_state {
  std::string id;
  std::string name;
  std::string display_name;
  std::int64_t create_at = 0;
};

struct channel_state {
  std::string id;
  std::string team_id;
  std::string name;
  std::string display_name;
  std::string type;  // O, P, D, G
  std::string header;
  std::string purpose;
  std::string creator_id;
  std::int64_t create_at = 0;
  std::int64_t update_at = 0;
  std::int64_t last_post_at = 0;
  std::int64_t total_msg_count = 0;
  std::set<std::string> members;
};

struct post_state {
  mm_post post;
  bool pinned = false;
  std::vector<json> reactions;
  std::uint64_t order = 0;  // creation order, to break create_at ties
};

// One item of a connection's send queue: an event (its seq is given when it is written) or a raw text.
struct out_item {
  bool event = false;
  json body;
  std::string text;
};

struct ws_sock;

// A connection id and what the real hub keeps for it: the next seq, the send queue (events not yet written, kept
// while no socket is attached) and the dead queue (the last events written, with their seq).
struct connection_state {
  std::string id;
  std::int64_t next_seq = 0;
  std::deque<out_item> outgoing;
  std::deque<std::pair<std::int64_t, std::string>> dead;
  std::shared_ptr<ws_sock> live;
};

// One accepted websocket. The timer and the session are used on the io thread only; the rest under the mutex.
struct ws_sock {
  explicit ws_sock(asio::any_io_executor ex) : wake(ex) {}
  std::size_t number = 0;
  std::shared_ptr<ws_session> session;
  asio::steady_timer wake;
  std::deque<mm_written> replay;  // written before the send queue: a resumed connection's dead queue, or a hello
  std::string connection_id;
  bool authenticated = false;
  bool closed = false;          // the reader saw the end
  bool drop_requested = false;  // close at once, without a close frame
  bool dropped = false;
  steady::time_point auth_deadline;
  steady::time_point last_heard;
  steady::time_point next_ping;
  std::size_t pongs_seen = 0;
};

struct fault {
  std::string pattern;
  int status = 0;  // 429 for a rate limit
  int reset_seconds = 1;
  std::size_t times = 0;
};

// A command's response_url: where its follow-ups go.
struct command_context {
  std::string channel_id;
  std::string user_id;
  std::string root_id;
  std::size_t uses = 0;
};

enum class reconnect_kind { fresh, resume, reject };

}  // namespace

// ---- ids ----

std::string new_mattermost_id() {
  static std::mutex m;
  static std::mt19937_64 random{std::random_device{}()};
  std::array<unsigned char, 16> bytes{};
  {
    std::lock_guard lock(m);
    const std::uint64_t a = random();
    const std::uint64_t b = random();
    for (std::size_t i = 0; i < 8; ++i) {
      bytes[i] = static_cast<unsigned char>(a >> (8 * i));
      bytes[8 + i] = static_cast<unsigned char>(b >> (8 * i));
    }
  }
  // base32 of the 128 bits with Mattermost's alphabet, cut to 26 characters.
  std::string out;
  unsigned buffer = 0;
  unsigned bits = 0;
  for (const unsigned char byte : bytes) {
    buffer = (buffer << 8U) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += id_alphabet[(buffer >> bits) & 31U];
    }
    buffer &= (1U << bits) - 1U;
  }
  if (bits > 0) out += id_alphabet[(buffer << (5 - bits)) & 31U];
  out.resize(26);
  return out;
}

bool is_mattermost_id(const std::string& id) {
  return id.size() == 26 &&
         std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

struct fake_mattermost::impl {
  impl(const options& o, const tls_test_ca* ca) : opt(o), secure(ca != nullptr), work(asio::make_work_guard(io)) {
    server = ca != nullptr ? std::make_unique<fake_tls_server>(io, ca->server_context())
                           : std::make_unique<fake_tls_server>(io);
    team_id_ = new_mattermost_id();
    teams_[team_id_] = team_state{team_id_, opt.team_name, opt.team_display_name, now()};
    mm_user bot;
    bot.username = opt.bot_username;
    bot.first_name = opt.bot_username;
    bot.is_bot = true;
    bot_id_ = add_user(std::move(bot));
  }

  const options& opt;
  const bool secure;
  mutable std::mutex mu;
  mutable std::condition_variable changed;
  std::uint64_t version = 0;
  bool stopping = false;
  std::optional<std::int64_t> fixed_ms;

  // The server's data.
  std::string bot_id_;
  std::string team_id_;
  std::map<std::string, team_state> teams_;
  std::map<std::string, mm_user> users_;
  std::map<std::string, channel_state> channels_;
  std::map<std::string, post_state> posts_;
  std::uint64_t post_counter_ = 0;
  std::map<std::string, std::string> pending_posts_;  // pending_post_id -> the post it made
  std::map<std::string, command_context> commands_;  // response_url id -> its command
  std::vector<fault> faults_;
  std::map<std::string, connection_state> connections_;

  // Records.
  std::vector<mm_call> calls_;
  std::vector<mm_ephemeral> ephemerals_;
  std::vector<mm_frame> frames_;
  std::vector<mm_written> written_;
  std::size_t hellos_ = 0;
  std::size_t replays_ = 0;
  std::size_t auth_failures_ = 0;
  std::size_t auth_timeouts_ = 0;
  std::size_t rejected_ = 0;
  std::size_t pongs_ = 0;

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::unique_ptr<fake_tls_server> server;
  std::vector<std::shared_ptr<ws_sock>> socks_;  // after io: destroyed before it (and cleared by stop())
  std::thread thread;
  std::future<void> finished;

  // ---- lifecycle ----

  void start() {
    for (const auto verb : {http::verb::get, http::verb::post, http::verb::put, http::verb::delete_}) {
      server->on(verb, "/api/v4/*", [this](const http_request_t& req) { return rest(req); });
      server->on(verb, "/hooks/*", [this](const http_request_t& req) { return rest(req); });
    }
    for (const char* path : {"/api/v4/websocket", "/api/v4/websocket/"}) {
      server->on_websocket(
          path, [this](std::shared_ptr<ws_session> s) { return serve_socket(std::move(s)); },
          [this](const http_request_t& req) { return check_upgrade(req); });
    }
    std::promise<void> done;
    finished = done.get_future();
    thread = std::thread([this, done = std::move(done)]() mutable {
      io.run();
      done.set_value();
    });
  }

  void stop() {
    asio::post(io, [this] {
      server->stop();
      std::lock_guard lock(mu);
      stopping = true;
      wake_all();
      bump();
    });
    work.reset();
    if (finished.wait_for(std::chrono::seconds(5)) != std::future_status::ready) io.stop();
    thread.join();
    std::lock_guard lock(mu);
    connections_.clear();
    socks_.clear();
  }

  // ---- helpers, all under the lock ----

  std::int64_t now() const {
    if (fixed_ms) return *fixed_ms;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void bump() {
    ++version;
    changed.notify_all();
  }

  // On the io thread.
  void wake_all() {
    for (const auto& s : socks_) s->wake.cancel();
  }

  // From any thread, after a change: the socket writers look again.
  void wake_soon() {
    asio::post(io, [this] {
      std::lock_guard lock(mu);
      wake_all();
    });
  }

  std::string add_user(mm_user u) {
    if (u.id.empty()) u.id = new_mattermost_id();
    if (u.email.empty()) u.email = u.username + "@example.com";
    std::string id = u.id;
    users_[id] = std::move(u);
    return id;
  }

  const mm_user* find_user(const std::string& id) const {
    auto it = users_.find(id);
    return it == users_.end() ? nullptr : &it->second;
  }
  const mm_user* find_username(const std::string& name) const {
    for (const auto& [id, u] : users_)
      if (u.username == name) return &u;
    return nullptr;
  }
  channel_state* find_channel(const std::string& id) {
    auto it = channels_.find(id);
    return it == channels_.end() ? nullptr : &it->second;
  }
  post_state* find_post(const std::string& id) {
    auto it = posts_.find(id);
    return it == posts_.end() ? nullptr : &it->second;
  }
  std::string username_of(const std::string& id) const {
    const mm_user* u = find_user(id);
    return u == nullptr ? std::string{} : u->username;
  }
  bool member(const std::string& channel, const std::string& user) const {
    auto it = channels_.find(channel);
    return it != channels_.end() && it->second.members.contains(user);
  }

  // ---- the JSON the API shows ----

  json user_json(const mm_user& u) const {
    json j{{"id", u.id},
           {"create_at", 1700000000000},
           {"update_at", 1700000000000},
           {"delete_at", 0},
           {"username", u.username},
           {"auth_data", ""},
           {"auth_service", ""},
           {"email", u.email},
           {"nickname", u.nickname},
           {"first_name", u.first_name},
           {"last_name", u.last_name},
           {"position", ""},
           {"roles", u.is_bot ? "system_user system_post_all" : "system_user"},
           {"locale", "en"},
           {"timezone",
            {{"useAutomaticTimezone", u.use_automatic_timezone ? "true" : "false"},
             {"automaticTimezone", u.automatic_timezone},
             {"manualTimezone", u.manual_timezone}}},
           {"is_bot", u.is_bot},
           {"disable_welcome_email", false}};
    if (u.is_bot) j["bot_description"] = "";
    return j;
  }

  static json team_json(const team_state& t) {
    return json{{"id", t.id},
                {"create_at", t.create_at},
                {"update_at", t.create_at},
                {"delete_at", 0},
                {"display_name", t.display_name},
                {"name", t.name},
                {"description", ""},
                {"email", ""},
                {"type", "O"},
                {"company_name", ""},
                {"allowed_domains", ""},
                {"invite_id", ""},
                {"allow_open_invite", false},
                {"scheme_id", nullptr},
                {"group_constrained", nullptr},
                {"policy_id", nullptr}};
  }

  static json channel_json(const channel_state& c) {
    return json{{"id", c.id},
                {"create_at", c.create_at},
                {"update_at", c.update_at},
                {"delete_at", 0},
                {"team_id", c.team_id},
                {"type", c.type},
                {"display_name", c.display_name},
                {"name", c.name},
                {"header", c.header},
                {"purpose", c.purpose},
                {"last_post_at", c.last_post_at},
                {"total_msg_count", c.total_msg_count},
                {"extra_update_at", 0},
                {"creator_id", c.creator_id},
                {"scheme_id", nullptr},
                {"props", nullptr},
                {"group_constrained", nullptr},
                {"shared", nullptr},
                {"total_msg_count_root", c.total_msg_count},
                {"policy_id", nullptr},
                {"last_root_post_at", c.last_post_at}};
  }

  json member_json(const channel_state& c, const std::string& user) const {
    return json{{"channel_id", c.id},
                {"user_id", user},
                {"roles", "channel_user"},
                {"last_viewed_at", 0},
                {"msg_count", 0},
                {"mention_count", 0},
                {"mention_count_root", 0},
                {"msg_count_root", 0},
                {"notify_props",
                 {{"desktop", "default"},
                  {"email", "default"},
                  {"ignore_channel_mentions", "default"},
                  {"mark_unread", "all"},
                  {"push", "default"}}},
                {"last_update_at", now()},
                {"scheme_guest", false},
                {"scheme_user", true},
                {"scheme_admin", false},
                {"explicit_roles", ""}};
  }

  json post_json(const post_state& s) const {
    const mm_post& p = s.post;
    const std::string root = p.root_id.empty() ? p.id : p.root_id;
    std::int64_t reply_count = 0;
    std::int64_t last_reply_at = 0;
    for (const auto& [id, other] : posts_) {
      if (other.post.root_id != root || other.post.delete_at != 0) continue;
      ++reply_count;
      last_reply_at = std::max(last_reply_at, other.post.create_at);
    }
    json metadata = json::object();
    if (!s.reactions.empty()) metadata["reactions"] = s.reactions;
    json j{{"id", p.id},
           {"create_at", p.create_at},
           {"update_at", p.update_at},
           {"edit_at", p.edit_at},
           {"delete_at", p.delete_at},
           {"is_pinned", s.pinned},
           {"user_id", p.user_id},
           {"channel_id", p.channel_id},
           {"root_id", p.root_id},
           {"original_id", ""},
           {"message", p.message},
           {"type", p.type},
           {"props", p.props},
           {"hashtags", ""},
           {"pending_post_id", p.pending_post_id},
           {"reply_count", reply_count},
           {"last_reply_at", last_reply_at},
           {"participants", nullptr},
           {"metadata", metadata}};
    if (!s.reactions.empty()) j["has_reactions"] = true;
    return j;
  }

  mm_post record_of(const post_state& s) const {
    mm_post out = s.post;
    out.is_pinned = s.pinned;
    out.wire = post_json(s);
    return out;
  }

  // ---- websocket events ----

  static json broadcast_json(const std::string& channel, const std::string& user = {}) {
    return json{{"omit_users", nullptr}, {"user_id", user}, {"channel_id", channel}, {"team_id", ""}};
  }

  // Queues an item for a connection, as the hub does; a connection whose send queue is full is closed and forgotten.
  void enqueue(connection_state& c, out_item item) {
    if (c.outgoing.size() >= opt.send_queue_size) {
      if (c.live) {
        c.live->drop_requested = true;
        c.live.reset();
      }
      const std::string id = c.id;
      connections_.erase(id);
      return;
    }
    c.outgoing.push_back(std::move(item));
  }

  // An event for the bot's connections: when it is in `channel` (or for every event with no channel), or when it is
  // `user`.
  void broadcast(const std::string& event, json data, const std::string& channel, const std::string& user = {}) {
    const bool to_bot = !user.empty() ? user == bot_id_ : channel.empty() || member(channel, bot_id_);
    if (!to_bot) return;
    const json body{{"event", event}, {"data", std::move(data)}, {"broadcast", broadcast_json(channel, user)}};
    std::vector<std::string> ids;
    for (const auto& [id, c] : connections_) ids.push_back(id);
    for (const auto& id : ids) {
      auto it = connections_.find(id);
      if (it != connections_.end()) enqueue(it->second, out_item{true, body, {}});
    }
    wake_soon();
  }

  // Is "@name" in `text` (lower case), as a whole word (trailing '.', '-', '_' allowed after it)?
  static bool mentions_name(const std::string& text, const std::string& name) {
    for (auto at = text.find('@'); at != std::string::npos; at = text.find('@', at + 1)) {
      std::size_t end = at + 1;
      while (end < text.size()) {
        const char c = text[end];
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-' && c != '_') break;
        ++end;
      }
      std::string word = text.substr(at + 1, end - at - 1);
      for (;;) {
        if (word == name) return true;
        if (word.empty() || (word.back() != '.' && word.back() != '-' && word.back() != '_')) break;
        word.pop_back();
      }
    }
    return false;
  }

  json mentions_of(const channel_state& c, const mm_post& p) const {
    json ids = json::array();
    std::string text = p.message;
    std::transform(text.begin(), text.end(), text.begin(),
                   [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
    const bool everyone = mentions_name(text, "channel") || mentions_name(text, "all") || mentions_name(text, "here");
    for (const auto& m : c.members) {
      if (m == p.user_id) continue;
      const mm_user* u = find_user(m);
      if (u == nullptr) continue;
      if (c.type == "D" || everyone || mentions_name(text, u->username)) ids.push_back(m);
    }
    return ids;
  }

  void broadcast_posted(const post_state& s) {
    const channel_state* c = find_channel(s.post.channel_id);
    if (c == nullptr) return;
    const std::string sender = "@" + username_of(s.post.user_id);
    json data{{"channel_display_name", c->type == "D" ? sender : c->display_name},
              {"channel_name", c->name},
              {"channel_type", c->type},
              {"post", post_json(s).dump()},
              {"sender_name", sender},
              {"set_online", true},
              {"team_id", c->team_id}};
    if (json ids = mentions_of(*c, s.post); !ids.empty()) data["mentions"] = ids.dump();
    broadcast("posted", std::move(data), c->id);
  }

  void broadcast_post(const std::string& event, const post_state& s) {
    broadcast(event, json{{"post", post_json(s).dump()}}, s.post.channel_id);
  }

  // Stores a post and broadcasts it as posted.
  post_state& create_post(const std::string& channel, const std::string& user, std::string message,
                          const std::string& root, json props, std::string type = {}, std::string pending = {}) {
    const std::int64_t at = now();
    post_state s;
    s.post.id = new_mattermost_id();
    s.post.channel_id = channel;
    s.post.user_id = user;
    s.post.root_id = root;
    s.post.message = std::move(message);
    s.post.type = std::move(type);
    s.post.pending_post_id = std::move(pending);
    s.post.create_at = s.post.update_at = at;
    s.post.props = props.is_object() ? std::move(props) : json::object();
    if (const mm_user* u = find_user(user); u != nullptr && u->is_bot && s.post.type.empty())
      s.post.props["from_bot"] = "true";
    s.order = ++post_counter_;
    const std::string id = s.post.id;
    auto& stored = posts_[id] = std::move(s);
    if (channel_state* c = find_channel(channel)) {
      c->last_post_at = at;
      ++c->total_msg_count;
    }
    if (!stored.post.pending_post_id.empty()) pending_posts_[stored.post.pending_post_id] = id;
    broadcast_posted(stored);
    bump();
    return stored;
  }

  std::string system_post(const std::string& channel, const std::string& user, const std::string& type,
                          std::string message, json props) {
    return create_post(channel, user, std::move(message), {}, std::move(props), type).post.id;
  }

  // user_added, then the system post (join or add), as the real AddChannelMember does. "" when already in.
  std::string join(channel_state& c, const std::string& user, const std::string& actor) {
    if (!c.members.insert(user).second) return {};
    c.update_at = now();
    broadcast("user_added", json{{"team_id", c.team_id}, {"user_id", user}}, c.id);
    const std::string name = username_of(user);
    if (actor == user)
      return system_post(c.id, user, "system_join_channel", name + " joined the channel.", json{{"username", name}});
    const std::string by = username_of(actor);
    return system_post(c.id, actor, "system_add_to_channel", name + " added to the channel by " + by + ".",
                       json{{"userId", actor}, {"username", by}, {"addedUserId", user}, {"addedUsername", name}});
  }

  std::string leave(channel_state& c, const std::string& user, const std::string& actor) {
    if (c.members.erase(user) == 0) return {};
    c.update_at = now();
    broadcast("user_removed", json{{"remover_id", actor}, {"user_id", user}}, c.id);
    broadcast("user_removed", json{{"channel_id", c.id}, {"remover_id", actor}}, {}, user);
    const std::string name = username_of(user);
    if (actor == user)
      return system_post(c.id, user, "system_leave_channel", name + " left the channel.", json{{"username", name}});
    return system_post(c.id, actor, "system_remove_from_channel", name + " removed from the channel.",
                       json{{"removedUserId", user}, {"removedUsername", name}});
  }

  channel_state& direct(const std::string& a, const std::string& b) {
    const std::string name = std::min(a, b) + "__" + std::max(a, b);
    for (auto& [id, c] : channels_)
      if (c.type == "D" && c.name == name) return c;
    channel_state c;
    c.id = new_mattermost_id();
    c.name = name;
    c.type = "D";
    c.create_at = c.update_at = now();
    c.creator_id = a;
    c.members = {a, b};
    const std::string id = c.id;
    auto& stored = channels_[id] = std::move(c);
    broadcast("direct_added", json{{"creator_id", a}, {"teammate_id", b}}, id);
    return stored;
  }

  void edit(post_state& s, std::string message) {
    const std::int64_t at = now();
    if (s.post.message != message) s.post.edit_at = at;
    s.post.message = std::move(message);
    s.post.update_at = at;
    broadcast_post("post_edited", s);
    bump();
  }

  void remove_post(post_state& s) {
    const std::int64_t at = now();
    s.post.delete_at = s.post.update_at = at;
    if (s.post.root_id.empty()) {
      for (auto& [id, reply] : posts_) {
        if (reply.post.root_id != s.post.id || reply.post.delete_at != 0) continue;
        reply.post.delete_at = reply.post.update_at = at;
      }
    }
    broadcast_post("post_deleted", s);
    bump();
  }

  json reaction_json(const std::string& user, const post_state& s, const std::string& emoji, std::int64_t at) const {
    return json{{"user_id", user},     {"post_id", s.post.id}, {"emoji_name", emoji},
                {"create_at", at},     {"update_at", at},      {"delete_at", 0},
                {"remote_id", ""},     {"channel_id", s.post.channel_id}};
  }

  // Adds a reaction (once per user and emoji) and bumps the post's update_at, as the real server does.
  json react(const std::string& user, post_state& s, const std::string& emoji) {
    for (const auto& r : s.reactions)
      if (str(r, "user_id") == user && str(r, "emoji_name") == emoji) return r;
    const std::int64_t at = now();
    json r = reaction_json(user, s, emoji, at);
    s.reactions.push_back(r);
    s.post.update_at = at;
    broadcast("reaction_added", json{{"reaction", r.dump()}}, s.post.channel_id);
    bump();
    return r;
  }

  bool unreact(const std::string& user, post_state& s, const std::string& emoji) {
    auto it = std::find_if(s.reactions.begin(), s.reactions.end(), [&](const json& r) {
      return str(r, "user_id") == user && str(r, "emoji_name") == emoji;
    });
    if (it == s.reactions.end()) return false;
    const std::int64_t at = now();
    json r = *it;
    r["delete_at"] = at;
    s.reactions.erase(it);
    s.post.update_at = at;
    broadcast("reaction_removed", json{{"reaction", r.dump()}}, s.post.channel_id);
    bump();
    return true;
  }

  // ---- the websocket ----

  json hello_event(const std::string& connection_id) const {
    return json{{"event", "hello"},
                {"data",
                 {{"connection_id", connection_id},
                  {"server_hostname", "fake-mattermost"},
                  {"server_version", opt.server_version}}},
                {"broadcast", broadcast_json({}, bot_id_)}};
  }

  connection_state* attached(const ws_sock& s) {
    if (s.connection_id.empty()) return nullptr;
    auto it = connections_.find(s.connection_id);
    if (it == connections_.end() || it->second.live.get() != &s) return nullptr;
    return &it->second;
  }

  void detach(const ws_sock& s) {
    if (connection_state* c = attached(s)) c->live.reset();
  }

  // A new connection id for an authenticated socket; hello first.
  void fresh(const std::shared_ptr<ws_sock>& s) {
    connection_state c;
    c.id = new_mattermost_id();
    c.outgoing.push_back(out_item{true, hello_event(c.id), {}});
    c.live = s;
    s->connection_id = c.id;
    s->authenticated = true;
    connections_[c.id] = std::move(c);
  }

  // A header-authenticated reconnect to an inactive connection, as web_conn.go's writePump starts it.
  void resume(const std::shared_ptr<ws_sock>& s, connection_state c, std::int64_t sequence) {
    s->authenticated = true;
    if (sequence != 0) {
      auto at = std::find_if(c.dead.begin(), c.dead.end(), [&](const auto& d) { return d.first == sequence; });
      if (at != c.dead.end()) {
        for (; at != c.dead.end(); ++at) {
          const std::string event = str(json::parse(at->second, nullptr, false), "event");
          s->replay.push_back(mm_written{s->number, c.id, at->first, event, true, at->second});
        }
        ++replays_;
      } else if (!c.dead.empty() && c.dead.back().first != sequence - 1) {
        // Lost: a new id and a hello with seq 0 before whatever is still queued.
        c.dead.clear();
        c.id = new_mattermost_id();
        json hello = hello_event(c.id);
        hello["seq"] = 0;
        const std::string text = hello.dump();
        c.dead.emplace_back(0, text);
        c.next_seq = 1;
        s->replay.push_back(mm_written{s->number, c.id, 0, "hello", false, text});
      } else {
        ++replays_;
      }
    } else {
      ++replays_;
    }
    c.live = s;
    s->connection_id = c.id;
    const std::string id = c.id;
    connections_[id] = std::move(c);
  }

  // What a header-authenticated upgrade asks for. A known, inactive connection is taken out of the map (the real
  // hub's CheckConn removes it), even when the request turns out bad.
  reconnect_kind classify(const std::map<std::string, std::string>& params, std::optional<connection_state>& taken,
                          std::int64_t& sequence) {
    auto id = params.find("connection_id");
    if (id == params.end() || id->second.empty()) return reconnect_kind::fresh;
    if (!is_mattermost_id(id->second)) return reconnect_kind::reject;
    auto known = connections_.find(id->second);
    if (known == connections_.end() || known->second.live) return reconnect_kind::fresh;
    taken = std::move(known->second);
    connections_.erase(known);
    auto seq = params.find("sequence_number");
    const auto n = seq == params.end() ? std::nullopt : to_int(seq->second);
    if (!n || *n < 0) return reconnect_kind::reject;
    sequence = *n;
    return reconnect_kind::resume;
  }

  static std::map<std::string, std::string> params_of(const http_request_t& req) {
    const std::string_view target = req.target();
    const auto q = target.find('?');
    return q == std::string_view::npos ? std::map<std::string, std::string>{} : query_params(target.substr(q + 1));
  }

  http_response_t api_error(http::status status, const std::string& id, const std::string& message,
                            const std::string& detailed = {}) const {
    const json body{{"id", id},
                    {"message", message},
                    {"detailed_error", detailed},
                    {"request_id", new_mattermost_id()},
                    {"status_code", static_cast<int>(status)},
                    {"is_oauth", false}};
    auto r = make_response(status, body.dump(), "application/json");
    r.set("X-Request-Id", body["request_id"].get<std::string>());
    r.set("X-Version-Id", opt.server_version);
    return r;
  }

  // On the io thread: a wrong bearer token gets 401 instead of the upgrade (the API handler refuses the session).
  std::optional<http_response_t> check_upgrade(const http_request_t& req) {
    const auto token = bearer_of(req);
    std::lock_guard lock(mu);
    if (token && *token != opt.bot_token) {
      ++auth_failures_;
      bump();
      return api_error(http::status::unauthorized, "api.context.session_expired.app_error",
                       "Invalid or expired session, please login again.");
    }
    if (token && opt.bad_reconnect_is_400) {
      std::optional<connection_state> taken;
      std::int64_t sequence = 0;
      const auto kind = classify(params_of(req), taken, sequence);
      if (taken && kind != reconnect_kind::reject) connections_[taken->id] = std::move(*taken);  // serve_socket decides
      if (kind == reconnect_kind::reject) {
        ++rejected_;
        bump();
        return api_error(http::status::bad_request, "api.web_socket.connect.upgrade.app_error",
                         "Failed to upgrade websocket connection.", "sequence number not present in websocket request");
      }
    }
    return std::nullopt;
  }

  asio::awaitable<void> serve_socket(std::shared_ptr<ws_session> session) {
    auto s = std::make_shared<ws_sock>(io.get_executor());
    s->session = session;
    const auto token = bearer_of(session->upgrade_request());
    const auto params = params_of(session->upgrade_request());
    {
      std::lock_guard lock(mu);
      s->number = socks_.size() + 1;
      socks_.push_back(s);
      const auto t = steady::now();
      s->auth_deadline = t + opt.auth_timeout;
      s->last_heard = t;
      s->next_ping = t + opt.ping_interval;
      if (token && *token == opt.bot_token) {
        std::optional<connection_state> taken;
        std::int64_t sequence = 0;
        switch (classify(params, taken, sequence)) {
          case reconnect_kind::fresh:
            fresh(s);
            break;
          case reconnect_kind::resume:
            resume(s, std::move(*taken), sequence);
            break;
          case reconnect_kind::reject:
            ++rejected_;
            s->drop_requested = true;
            break;
        }
      }
      bump();
    }
    asio::co_spawn(io, read_loop(s), asio::detached);
    co_await write_loop(s);
  }

  // Answers a client request on the socket's connection (nothing before authentication, as the real router).
  void respond(ws_sock& s, json response) {
    if (connection_state* c = attached(s)) enqueue(*c, out_item{false, {}, response.dump()});
  }

  void respond_error(ws_sock& s, std::int64_t seq, const std::string& id, int status) {
    respond(s, json{{"status", "FAIL"},
                    {"seq_reply", seq},
                    {"error",
                     {{"id", id},
                      {"message", id},
                      {"detailed_error", ""},
                      {"request_id", ""},
                      {"status_code", status}}}});
  }

  std::string version_of_server() const {
    std::string v;
    int dots = 0;
    for (const char c : opt.server_version) {
      if (c == '.' && ++dots == 3) break;
      v += c;
    }
    return v;
  }

  // A frame from the bot (under the lock, on the io thread).
  void handle_frame(const std::shared_ptr<ws_sock>& s, const json& j) {
    if (!j.is_object()) {
      s->drop_requested = true;  // the real read pump returns on a frame it cannot decode
      return;
    }
    const std::string action = str(j, "action");
    std::int64_t seq = 0;
    if (auto it = j.find("seq"); it != j.end() && it->is_number_integer()) seq = it->get<std::int64_t>();
    if (action.empty()) return respond_error(*s, seq, "api.web_socket_router.no_action.app_error", 400);
    if (seq <= 0) return respond_error(*s, seq, "api.web_socket_router.bad_seq.app_error", 400);
    if (action == "authentication_challenge") {
      if (s->authenticated) return;
      const json data = j.value("data", json::object());
      const auto token = data.is_object() ? data.find("token") : data.end();
      const bool valid = data.is_object() && token != data.end() && token->is_string() &&
                         token->get<std::string>() == opt.bot_token;
      if (!valid) {
        ++auth_failures_;
        s->drop_requested = true;
        return;
      }
      fresh(s);  // hello, then the answer (the hub registers the connection before the router answers)
      return respond(*s, json{{"status", "OK"}, {"seq_reply", seq}});
    }
    if (!s->authenticated) return;
    if (action == "ping") {
      return respond(*s, json{{"status", "OK"},
                              {"seq_reply", seq},
                              {"data",
                               {{"text", "pong"},
                                {"version", version_of_server()},
                                {"server_time", now()},
                                {"node_id", ""}}}});
    }
    if (action == "user_typing" || action == "presence" || action == "posted_ack" ||
        action == "user_update_active_status") {
      return respond(*s, json{{"status", "OK"}, {"seq_reply", seq}});
    }
    if (action == "get_statuses" || action == "get_statuses_by_ids") {
      return respond(*s, json{{"status", "OK"}, {"seq_reply", seq}, {"data", json::object()}});
    }
    respond_error(*s, seq, "api.web_socket_router.bad_action.app_error", 500);
  }

  asio::awaitable<void> read_loop(std::shared_ptr<ws_sock> s) {
    for (;;) {
      auto text = co_await s->session->read();
      std::lock_guard lock(mu);
      if (!text) {
        s->closed = true;
        detach(*s);
        s->wake.cancel();
        bump();
        break;
      }
      s->last_heard = steady::now();
      json j = json::parse(*text, nullptr, false);
      frames_.push_back(mm_frame{s->number, s->connection_id, *text, j});
      handle_frame(s, j);
      s->wake.cancel();
      bump();
    }
  }

  // The next frame for the socket: its replay, then its connection's send queue (an event gets its seq here and
  // goes into the dead queue).
  std::optional<mm_written> take_next(ws_sock& s) {
    if (!s.replay.empty()) {
      mm_written w = std::move(s.replay.front());
      s.replay.pop_front();
      return w;
    }
    connection_state* c = attached(s);
    if (c == nullptr || c->outgoing.empty()) return std::nullopt;
    out_item item = std::move(c->outgoing.front());
    c->outgoing.pop_front();
    mm_written w{s.number, c->id, -1, {}, false, {}};
    if (item.event) {
      w.seq = c->next_seq++;
      item.body["seq"] = w.seq;
      w.event = str(item.body, "event");
      w.text = item.body.dump();
      c->dead.emplace_back(w.seq, w.text);
      while (c->dead.size() > std::max<std::size_t>(opt.dead_queue_size, 1)) c->dead.pop_front();
    } else {
      w.text = std::move(item.text);
    }
    return w;
  }

  // The socket's one writer: frames, transport pings, the auth and pong deadlines, and drops.
  asio::awaitable<void> write_loop(std::shared_ptr<ws_sock> s) {
    for (;;) {
      std::optional<mm_written> frame;
      bool drop = false;
      bool ping = false;
      auto deadline = asio::steady_timer::time_point::max();
      {
        std::lock_guard lock(mu);
        if (stopping || s->closed) break;
        const auto t = steady::now();
        if (const auto pongs = s->session->pongs_received(); pongs != s->pongs_seen) {
          pongs_ += pongs - s->pongs_seen;
          s->pongs_seen = pongs;
          s->last_heard = t;
          bump();
        }
        if (s->dropped) {
          // waiting for the reader to see the end
        } else if (s->drop_requested) {
          drop = true;
        } else if ((frame = take_next(*s))) {
        } else if (!s->authenticated && t >= s->auth_deadline) {
          ++auth_timeouts_;
          drop = true;
        } else if (t - s->last_heard >= opt.pong_wait) {
          drop = true;
        } else if (t >= s->next_ping) {
          ping = true;
          s->next_ping = t + opt.ping_interval;
        } else {
          deadline = std::min(s->next_ping, s->last_heard + opt.pong_wait);
          if (!s->authenticated) deadline = std::min(deadline, s->auth_deadline);
        }
        if (drop) {
          detach(*s);
          s->dropped = true;
          bump();
        }
      }
      if (drop) {
        s->session->drop();  // the reader sees the end and sets closed
        continue;
      }
      if (frame) {
        {
          // Recorded before the write completes, so that a test that read the frame sees it counted.
          std::lock_guard lock(mu);
          if (frame->event == "hello") ++hellos_;
          written_.push_back(*frame);
          bump();
        }
        co_await s->session->send(std::move(frame->text));
        continue;
      }
      if (ping) {
        co_await s->session->ping();
        continue;
      }
      s->wake.expires_at(deadline);
      co_await s->wake.async_wait(use_tuple);
    }
    std::lock_guard lock(mu);
    detach(*s);
    bump();
  }

  // ---- socket controls (any thread, under the lock) ----

  void drop_all() {
    for (const auto& s : socks_) {
      if (s->closed || s->dropped) continue;
      s->drop_requested = true;
      detach(*s);
    }
    wake_soon();
    bump();
  }

  // ---- REST ----

  http_response_t reply(const json& body, http::status status = http::status::ok) const {
    auto r = make_response(status, body.dump(), "application/json");
    r.set("X-Request-Id", new_mattermost_id());
    r.set("X-Version-Id", opt.server_version);
    return r;
  }

  http_response_t forbidden() const {
    return api_error(http::status::forbidden, "api.context.permissions.app_error",
                     "You do not have the appropriate permissions.");
  }
  http_response_t bad_param(const std::string& name) const {
    return api_error(http::status::bad_request, "api.context.invalid_body_param.app_error",
                     "Invalid or missing " + name + " in request body.");
  }
  http_response_t no_user() const {
    return api_error(http::status::not_found, "app.user.missing_account.const", "Unable to find the user.");
  }
  http_response_t no_channel() const {
    return api_error(http::status::not_found, "app.channel.get.existing.app_error",
                     "Unable to find the existing channel.");
  }
  http_response_t no_post() const {
    return api_error(http::status::not_found, "app.post.get.app_error", "Unable to get the post.");
  }

  // On the io thread: one REST request, recorded.
  std::optional<http_response_t> rest(const http_request_t& req) {
    mm_call call;
    call.method = std::string(req.method_string());
    const std::string_view target = req.target();
    const auto q = target.find('?');
    call.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) call.query = std::string(target.substr(q + 1));
    call.params = query_params(call.query);
    if (!req.body().empty()) {
      call.body = json::parse(req.body(), nullptr, false);
      if (call.body.is_discarded()) call.body = nullptr;
    }
    const auto token = bearer_of(req);
    call.at = steady::now();
    std::lock_guard lock(mu);
    call.authorized = token && *token == opt.bot_token;
    http_response_t response;
    try {
      response = answer(call, !req.body().empty());
    } catch (const std::exception& e) {  // a bug of the fake: answered like a server error, recorded
      response = api_error(http::status::internal_server_error, "app.fake.exception", e.what());
    }
    call.status = static_cast<int>(response.result_int());
    call.response = response.body();
    calls_.push_back(std::move(call));
    bump();
    return response;
  }

  // Injected failures first (the real rate limiter runs before authentication), then the route, then the token.
  http_response_t answer(const mm_call& call, bool has_body) {
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
      if (!pattern_matches(it->pattern, call.method, call.path)) continue;
      const int status = it->status;
      const int reset = it->reset_seconds;
      if (--it->times == 0) faults_.erase(it);
      if (status == 429) {
        auto r = make_response(http::status::too_many_requests, "limit exceeded\n", "text/plain; charset=utf-8");
        r.set("X-Ratelimit-Limit", "10");
        r.set("X-Ratelimit-Remaining", "0");
        r.set("X-Ratelimit-Reset", std::to_string(reset));
        r.set(http::field::retry_after, std::to_string(reset));
        return r;
      }
      return api_error(static_cast<http::status>(status), "app.fake.injected_failure.app_error",
                       "The fake Mattermost was told to fail this request.");
    }
    const auto seg = split_path(call.path);
    if (seg.size() >= 2 && seg[0] == "hooks" && seg[1] == "commands") {
      if (call.method != "POST" || seg.size() != 3) return not_found(call);
      return command_hook(seg[2], call, has_body);
    }
    if (seg.size() < 2 || seg[0] != "api" || seg[1] != "v4") return not_found(call);
    const std::vector<std::string> route(seg.begin() + 2, seg.end());
    if (route.size() == 2 && route[0] == "system" && route[1] == "ping" && call.method == "GET")
      return reply(json{{"status", "OK"}});
    if (route.size() == 1 && route[0] == "websocket")
      return api_error(http::status::bad_request, "api.web_socket.connect.upgrade.app_error",
                       "Failed to upgrade websocket connection.");
    auto handler = resolve(call, route);
    if (!handler) return not_found(call);
    if (!call.authorized)
      return api_error(http::status::unauthorized, "api.context.session_expired.app_error",
                       "Invalid or expired session, please login again.");
    if (has_body && call.body.is_null() && (call.method == "POST" || call.method == "PUT"))
      return api_error(http::status::bad_request, "api.context.invalid_body_param.app_error",
                       "Invalid or missing body in request body.");
    return handler();
  }

  http_response_t not_found(const mm_call& call) const {
    return api_error(http::status::not_found, "api.context.404.app_error", "Sorry, we could not find the page.",
                     "There doesn't appear to be an api call for the url='" + call.path + "'.");
  }

  // Does `route` match `pattern` ("{}" takes any one segment into args)?
  static bool is(const std::vector<std::string>& route, std::initializer_list<std::string_view> pattern,
                 std::vector<std::string>& args) {
    if (route.size() != pattern.size()) return false;
    std::vector<std::string> taken;
    std::size_t i = 0;
    for (const auto part : pattern) {
      if (part == "{}") taken.push_back(route[i]);
      else if (part != route[i]) return false;
      ++i;
    }
    args = std::move(taken);
    return true;
  }

  // The handler of a request, or an empty function for a route the server does not have.
  std::function<http_response_t()> resolve(const mm_call& call, const std::vector<std::string>& route) {
    std::vector<std::string> a;
    const std::string& m = call.method;
    const json& body = call.body;
    if (m == "GET" && is(route, {"users", "me"}, a)) return [this] { return reply(user_json(users_.at(bot_id_))); };
    if (m == "GET" && is(route, {"users", "me", "teams"}, a)) {
      return [this] {
        json out = json::array();
        for (const auto& [id, t] : teams_) out.push_back(team_json(t));
        return reply(out);
      };
    }
    if (m == "GET" && is(route, {"users", "username", "{}"}, a)) {
      return [this, a] {
        const mm_user* u = find_username(a[0]);
        if (u == nullptr)
          return api_error(http::status::not_found, "app.user.get_by_username.app_error",
                           "Unable to find an existing account matching your username for this team.");
        return reply(user_json(*u));
      };
    }
    if (m == "POST" && (is(route, {"users", "usernames"}, a) || is(route, {"users", "ids"}, a))) {
      const bool by_name = route[1] == "usernames";
      return [this, &body, by_name] {
        if (!body.is_array()) return bad_param(by_name ? "usernames" : "user_ids");
        json out = json::array();
        for (const auto& v : body) {
          if (!v.is_string()) continue;
          const mm_user* u = by_name ? find_username(v.get<std::string>()) : find_user(v.get<std::string>());
          if (u != nullptr) out.push_back(user_json(*u));
        }
        return reply(out);
      };
    }
    if (m == "GET" && is(route, {"users", "{}"}, a)) {
      return [this, a] {
        const mm_user* u = find_user(a[0]);
        return u == nullptr ? no_user() : reply(user_json(*u));
      };
    }
    if (m == "GET" && is(route, {"teams", "name", "{}"}, a)) {
      return [this, a] {
        for (const auto& [id, t] : teams_)
          if (t.name == a[0]) return reply(team_json(t));
        return api_error(http::status::not_found, "app.team.get_by_name.missing.app_error", "Unable to find the team.");
      };
    }
    if (m == "GET" && is(route, {"teams", "{}", "channels", "name", "{}"}, a)) {
      return [this, a] {
        for (const auto& [id, c] : channels_)
          if (c.team_id == a[0] && c.name == a[1]) return reply(channel_json(c));
        return no_channel();
      };
    }
    if (m == "GET" && is(route, {"teams", "{}"}, a)) {
      return [this, a] {
        auto it = teams_.find(a[0]);
        if (it == teams_.end())
          return api_error(http::status::not_found, "app.team.get.find.app_error", "Unable to find the team.");
        return reply(team_json(it->second));
      };
    }
    if (m == "POST" && is(route, {"posts"}, a)) return [this, &call] { return create_post_api(call); };
    if (m == "POST" && is(route, {"posts", "ephemeral"}, a)) return [this, &body] { return ephemeral_api(body); };
    if (m == "GET" && is(route, {"posts", "{}"}, a)) {
      return [this, a] {
        const post_state* s = find_post(a[0]);
        return s == nullptr || s->post.delete_at != 0 ? no_post() : reply(post_json(*s));
      };
    }
    if (m == "GET" && is(route, {"posts", "{}", "thread"}, a)) return [this, a] { return thread_api(a[0]); };
    if (m == "POST" && (is(route, {"posts", "{}", "pin"}, a) || is(route, {"posts", "{}", "unpin"}, a))) {
      const bool pin = route.back() == "pin";
      return [this, a, pin] {
        post_state* s = find_post(a[0]);
        if (s == nullptr || s->post.delete_at != 0) return no_post();
        if (!member(s->post.channel_id, bot_id_)) return forbidden();
        // As the real server: the post's update_at moves and a post_edited tells the channel.
        s->pinned = pin;
        s->post.update_at = std::max(now(), s->post.update_at + 1);
        broadcast_post("post_edited", *s);
        return reply(json{{"status", "OK"}});
      };
    }
    if (m == "PUT" && (is(route, {"posts", "{}", "patch"}, a) || is(route, {"posts", "{}"}, a))) {
      const bool patch = route.size() == 3;
      return [this, a, &body, patch] { return update_post_api(a[0], body, patch); };
    }
    if (m == "DELETE" && is(route, {"posts", "{}"}, a)) {
      return [this, a] {
        post_state* s = find_post(a[0]);
        if (s == nullptr || s->post.delete_at != 0) return no_post();
        if (s->post.user_id != bot_id_) return forbidden();
        remove_post(*s);
        return reply(json{{"status", "OK"}});
      };
    }
    if (m == "POST" && is(route, {"reactions"}, a)) {
      return [this, &body] {
        post_state* s = find_post(str(body, "post_id"));
        if (str(body, "user_id") != bot_id_) return forbidden();
        if (s == nullptr || s->post.delete_at != 0) return no_post();
        if (str(body, "emoji_name").empty()) return bad_param("emoji_name");
        return reply(react(bot_id_, *s, str(body, "emoji_name")), http::status::created);
      };
    }
    if (m == "DELETE" && is(route, {"users", "{}", "posts", "{}", "reactions", "{}"}, a)) {
      return [this, a] {
        if (a[0] != bot_id_) return forbidden();
        post_state* s = find_post(a[1]);
        if (s == nullptr) return no_post();
        unreact(a[0], *s, a[2]);
        return reply(json{{"status", "OK"}});
      };
    }
    if (m == "POST" && is(route, {"channels"}, a)) return [this, &body] { return create_channel_api(body); };
    if (m == "POST" && is(route, {"channels", "direct"}, a)) return [this, &body] { return direct_api(body); };
    if (m == "GET" && is(route, {"channels", "{}"}, a)) {
      return [this, a] {
        const channel_state* c = find_channel(a[0]);
        if (c == nullptr) return no_channel();
        if (c->type != "O" && !c->members.contains(bot_id_)) return forbidden();
        return reply(channel_json(*c));
      };
    }
    if (m == "PUT" && is(route, {"channels", "{}", "patch"}, a))
      return [this, a, &body] { return patch_channel_api(a[0], body); };
    if (m == "GET" && is(route, {"channels", "{}", "posts"}, a))
      return [this, a, &call] { return channel_posts_api(a[0], call.params); };
    if (m == "GET" && is(route, {"channels", "{}", "members"}, a)) {
      return [this, a] {
        const channel_state* c = find_channel(a[0]);
        if (c == nullptr) return no_channel();
        json out = json::array();
        for (const auto& u : c->members) out.push_back(member_json(*c, u));
        return reply(out);
      };
    }
    if (m == "POST" && is(route, {"channels", "{}", "members"}, a)) {
      return [this, a, &body] {
        channel_state* c = find_channel(a[0]);
        if (c == nullptr) return no_channel();
        const std::string user = str(body, "user_id");
        if (user.empty()) return bad_param("user_id");
        if (find_user(user) == nullptr) return no_user();
        if (c->type == "D" || c->type == "G")
          return api_error(http::status::bad_request, "api.channel.add_user_to_channel.type.app_error",
                           "Can not add user to this channel type.");
        if (c->type == "P" && !c->members.contains(bot_id_)) return forbidden();
        join(*c, user, bot_id_);
        return reply(member_json(*c, user), http::status::created);
      };
    }
    if (m == "DELETE" && is(route, {"channels", "{}", "members", "{}"}, a)) {
      return [this, a] {
        channel_state* c = find_channel(a[0]);
        if (c == nullptr) return no_channel();
        if (!c->members.contains(a[1])) return no_user();
        leave(*c, a[1], bot_id_);
        return reply(json{{"status", "OK"}});
      };
    }
    return {};
  }

  http_response_t create_post_api(const mm_call& call) {
    const json& body = call.body;
    const std::string channel = str(body, "channel_id");
    if (!body.is_object() || channel.empty()) return bad_param("channel_id");
    const std::string pending = str(body, "pending_post_id");
    if (!pending.empty()) {
      if (auto seen = pending_posts_.find(pending); seen != pending_posts_.end())
        if (const post_state* s = find_post(seen->second)) return reply(post_json(*s), http::status::created);
    }
    channel_state* c = find_channel(channel);
    if (c == nullptr || !c->members.contains(bot_id_)) return forbidden();
    const std::string message = str(body, "message");
    if (runes(message) > max_post_runes)
      return api_error(http::status::bad_request, "model.post.is_valid.message_length.app_error",
                       "Invalid Message property for post.", "id=");
    const std::string root = str(body, "root_id");
    if (!root.empty()) {
      const post_state* r = find_post(root);
      if (r == nullptr || r->post.channel_id != channel || !r->post.root_id.empty() || r->post.delete_at != 0)
        return api_error(http::status::bad_request, "api.post.create_post.root_id.app_error",
                         "Invalid RootId parameter.");
    }
    json props = body.value("props", json::object());
    const post_state& s = create_post(channel, bot_id_, message, root, props, {}, pending);
    return reply(post_json(s), http::status::created);
  }

  http_response_t ephemeral_api(const json& body) {
    const std::string user = str(body, "user_id");
    const json post = body.is_object() ? body.value("post", json::object()) : json::object();
    if (user.empty()) return bad_param("user_id");
    if (!post.is_object() || str(post, "channel_id").empty()) return bad_param("post.channel_id");
    if (find_channel(str(post, "channel_id")) == nullptr) return forbidden();
    const std::int64_t at = now();
    mm_ephemeral e{user, str(post, "channel_id"), str(post, "root_id"), str(post, "message"),
                   post.value("props", json::object()), "api"};
    json out{{"id", new_mattermost_id()}, {"create_at", at},       {"update_at", at},
             {"edit_at", 0},              {"delete_at", 0},         {"is_pinned", false},
             {"user_id", bot_id_},        {"channel_id", e.channel_id}, {"root_id", e.root_id},
             {"original_id", ""},         {"message", e.message},   {"type", "system_ephemeral"},
             {"props", e.props},          {"hashtags", ""},         {"pending_post_id", ""},
             {"reply_count", 0},          {"metadata", json::object()}};
    ephemerals_.push_back(std::move(e));
    return reply(out, http::status::created);
  }

  http_response_t update_post_api(const std::string& id, const json& body, bool patch) {
    post_state* s = find_post(id);
    if (s == nullptr || s->post.delete_at != 0) return no_post();
    if (!body.is_object()) return bad_param("post");
    if (!patch && str(body, "id") != id) return bad_param("id");
    if (s->post.user_id != bot_id_) return forbidden();
    std::string message = body.contains("message") || !patch ? str(body, "message") : s->post.message;
    if (runes(message) > max_post_runes)
      return api_error(http::status::bad_request, "model.post.is_valid.message_length.app_error",
                       "Invalid Message property for post.", "id=" + id);
    if (auto props = body.find("props"); props != body.end() && props->is_object()) {
      json kept = *props;
      if (s->post.props.contains("from_bot")) kept["from_bot"] = s->post.props["from_bot"];
      s->post.props = kept;
    }
    edit(*s, std::move(message));
    return reply(post_json(*s));
  }

  // A PostList: `order` as given, `posts` those plus `extra`.
  json post_list(const std::vector<const post_state*>& ordered, const std::vector<const post_state*>& extra) const {
    json order = json::array();
    json posts = json::object();
    for (const auto* s : ordered) {
      order.push_back(s->post.id);
      posts[s->post.id] = post_json(*s);
    }
    for (const auto* s : extra) posts[s->post.id] = post_json(*s);
    return json{{"order", order}, {"posts", posts}, {"next_post_id", ""}, {"prev_post_id", ""}, {"has_next", false}};
  }

  static bool newer(const post_state* a, const post_state* b) {
    if (a->post.create_at != b->post.create_at) return a->post.create_at > b->post.create_at;
    return a->order > b->order;
  }

  http_response_t thread_api(const std::string& id) {
    const post_state* s = find_post(id);
    if (s == nullptr || s->post.delete_at != 0) return no_post();
    const std::string root = s->post.root_id.empty() ? s->post.id : s->post.root_id;
    std::vector<const post_state*> in_thread;
    for (const auto& [pid, p] : posts_)
      if ((pid == root || p.post.root_id == root) && p.post.delete_at == 0) in_thread.push_back(&p);
    std::sort(in_thread.begin(), in_thread.end(), newer);
    return reply(post_list(in_thread, {}));
  }

  http_response_t channel_posts_api(const std::string& channel, const std::map<std::string, std::string>& params) {
    const channel_state* c = find_channel(channel);
    if (c == nullptr) return no_channel();
    if (c->type != "O" && !c->members.contains(bot_id_)) return forbidden();
    auto param = [&](const char* name) {
      auto it = params.find(name);
      return it == params.end() ? std::string{} : it->second;
    };
    if (const std::string since = param("since"); !since.empty()) {
      const auto t = to_int(since);
      if (!t)
        return api_error(http::status::bad_request, "api.context.invalid_url_param.app_error",
                         "Invalid or missing since parameter in request URL.");
      // Every post changed after `since`, deleted ones included, and the roots of changed replies.
      std::vector<const post_state*> touched;
      std::set<std::string> ids;
      for (const auto& [id, s] : posts_) {
        if (s.post.channel_id == channel && s.post.update_at > *t) {
          touched.push_back(&s);
          ids.insert(id);
        }
      }
      const std::size_t direct_hits = touched.size();
      for (std::size_t i = 0; i < direct_hits; ++i) {
        const std::string& root = touched[i]->post.root_id;
        if (root.empty() || ids.contains(root)) continue;
        if (const post_state* r = find_post(root)) {
          touched.push_back(r);
          ids.insert(root);
        }
      }
      std::sort(touched.begin(), touched.end(), newer);
      return reply(post_list(touched, {}));
    }
    std::vector<const post_state*> all;  // newest first, without deleted posts
    for (const auto& [id, s] : posts_)
      if (s.post.channel_id == channel && s.post.delete_at == 0) all.push_back(&s);
    std::sort(all.begin(), all.end(), newer);
    const auto page = static_cast<std::size_t>(std::max<std::int64_t>(0, to_int(param("page")).value_or(0)));
    const auto per_page =
        static_cast<std::size_t>(std::clamp<std::int64_t>(to_int(param("per_page")).value_or(60), 1, 200));
    auto index_of = [&](const std::string& id) -> std::optional<std::size_t> {
      for (std::size_t i = 0; i < all.size(); ++i)
        if (all[i]->post.id == id) return i;
      return std::nullopt;
    };
    std::vector<const post_state*> window;  // in paging direction
    const std::string before = param("before");
    const std::string after = param("after");
    if (!after.empty()) {
      if (auto at = index_of(after)) window.assign(all.rbegin() + static_cast<std::ptrdiff_t>(all.size() - *at),
                                                   all.rend());  // newer ones, oldest first
    } else if (!before.empty()) {
      if (auto at = index_of(before)) window.assign(all.begin() + static_cast<std::ptrdiff_t>(*at + 1), all.end());
    } else {
      window = all;
    }
    std::vector<const post_state*> slice;
    for (std::size_t i = page * per_page; i < window.size() && i < (page + 1) * per_page; ++i)
      slice.push_back(window[i]);
    std::sort(slice.begin(), slice.end(), newer);
    std::vector<const post_state*> roots;
    for (const auto* s : slice) {
      if (s->post.root_id.empty()) continue;
      if (std::any_of(slice.begin(), slice.end(), [&](const post_state* o) { return o->post.id == s->post.root_id; }))
        continue;
      if (const post_state* r = find_post(s->post.root_id)) roots.push_back(r);
    }
    json list = post_list(slice, roots);
    if (!slice.empty()) {
      const std::size_t newest = *index_of(slice.front()->post.id);
      const std::size_t oldest = *index_of(slice.back()->post.id);
      if (newest > 0) list["next_post_id"] = all[newest - 1]->post.id;
      if (oldest + 1 < all.size()) list["prev_post_id"] = all[oldest + 1]->post.id;
    }
    list["has_next"] = (page + 1) * per_page < window.size();
    return reply(list);
  }

  static bool valid_channel_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
  }

  http_response_t create_channel_api(const json& body) {
    if (!body.is_object()) return bad_param("channel");
    const std::string team = str(body, "team_id");
    const std::string name = str(body, "name");
    const std::string display = str(body, "display_name");
    const std::string type = str(body, "type");
    if (!teams_.contains(team)) return forbidden();
    if (!valid_channel_name(name))
      return api_error(http::status::bad_request, "model.channel.is_valid.name.app_error", "Invalid name.");
    if (display.empty() || display.size() > 64)
      return api_error(http::status::bad_request, "model.channel.is_valid.display_name.app_error",
                       "Invalid display name.");
    if (type != "O" && type != "P")
      return api_error(http::status::bad_request, "model.channel.is_valid.type.app_error", "Invalid type.");
    for (const auto& [id, c] : channels_)
      if (c.team_id == team && c.name == name)
        return api_error(http::status::bad_request, "store.sql_channel.save_channel.exists.app_error",
                         "A channel with that name already exists on the same team.");
    channel_state c;
    c.id = new_mattermost_id();
    c.team_id = team;
    c.name = name;
    c.display_name = display;
    c.type = type;
    c.header = str(body, "header");
    c.purpose = str(body, "purpose");
    c.creator_id = bot_id_;
    c.create_at = c.update_at = now();
    c.members.insert(bot_id_);
    const std::string id = c.id;
    const auto& stored = channels_[id] = std::move(c);
    broadcast("channel_created", json{{"channel_id", id}, {"team_id", team}}, {}, bot_id_);
    return reply(channel_json(stored), http::status::created);
  }

  http_response_t direct_api(const json& body) {
    if (!body.is_array() || body.size() != 2 || !body[0].is_string() || !body[1].is_string())
      return bad_param("user_ids");
    const std::string a = body[0].get<std::string>();
    const std::string b = body[1].get<std::string>();
    if (find_user(a) == nullptr || find_user(b) == nullptr) return no_user();
    if (a != bot_id_ && b != bot_id_) return forbidden();
    return reply(channel_json(direct(a, b)), http::status::created);
  }

  http_response_t patch_channel_api(const std::string& id, const json& body) {
    channel_state* c = find_channel(id);
    if (c == nullptr) return no_channel();
    if (!body.is_object()) return bad_param("channel");
    if (!c->members.contains(bot_id_) && c->type != "O") return forbidden();
    const std::string by = username_of(bot_id_);
    const std::string old_header = c->header;
    const std::string old_purpose = c->purpose;
    if (body.contains("display_name")) c->display_name = str(body, "display_name");
    if (body.contains("name")) {
      if (!valid_channel_name(str(body, "name")))
        return api_error(http::status::bad_request, "model.channel.is_valid.name.app_error", "Invalid name.");
      c->name = str(body, "name");
    }
    if (body.contains("header")) c->header = str(body, "header");
    if (body.contains("purpose")) c->purpose = str(body, "purpose");
    c->update_at = now();
    broadcast("channel_updated", json{{"channel", channel_json(*c).dump()}}, c->id);
    if (c->header != old_header) {
      std::string message;
      if (old_header.empty()) message = by + " updated the channel header to: " + c->header;
      else if (c->header.empty()) message = by + " removed the channel header (was: " + old_header + ")";
      else message = by + " updated the channel header from: " + old_header + " to: " + c->header;
      system_post(c->id, bot_id_, "system_header_change", message,
                  json{{"username", by}, {"old_header", old_header}, {"new_header", c->header}});
    }
    if (c->purpose != old_purpose) {
      std::string message;
      if (old_purpose.empty()) message = by + " updated the channel purpose to: " + c->purpose;
      else if (c->purpose.empty()) message = by + " removed the channel purpose (was: " + old_purpose + ")";
      else message = by + " updated the channel purpose from: " + old_purpose + " to: " + c->purpose;
      system_post(c->id, bot_id_, "system_purpose_change", message,
                  json{{"username", by}, {"old_purpose", old_purpose}, {"new_purpose", c->purpose}});
    }
    return reply(channel_json(*c));
  }

  // ---- integrations ----

  // A command's answer (or a follow-up on its response_url), applied as the real server does. Returns the posts made.
  std::vector<std::string> apply_command_response(const command_context& ctx, const json& r) {
    std::vector<std::string> made;
    if (!r.is_object()) return made;
    const std::string text = str(r, "text");
    const json attachments = r.value("attachments", json());
    std::string channel = str(r, "channel_id");
    if (channel.empty() || find_channel(channel) == nullptr) channel = ctx.channel_id;
    if (!text.empty() || (attachments.is_array() && !attachments.empty())) {
      json props = r.value("props", json::object());
      if (!props.is_object()) props = json::object();
      if (attachments.is_array() && !attachments.empty()) props["attachments"] = attachments;
      if (str(r, "response_type") == "in_channel") {
        props["from_webhook"] = "true";
        if (!str(r, "username").empty()) props["override_username"] = str(r, "username");
        if (!str(r, "icon_url").empty()) props["override_icon_url"] = str(r, "icon_url");
        made.push_back(create_post(channel, ctx.user_id, text, ctx.root_id, props, str(r, "type")).post.id);
      } else {
        ephemerals_.push_back(mm_ephemeral{ctx.user_id, channel, ctx.root_id, text, props, "command"});
      }
    }
    if (auto extra = r.find("extra_responses"); extra != r.end() && extra->is_array()) {
      for (const auto& e : *extra) {
        auto more = apply_command_response(ctx, e);
        made.insert(made.end(), more.begin(), more.end());
      }
    }
    bump();
    return made;
  }

  http_response_t command_hook(const std::string& id, const mm_call& call, bool has_body) {
    auto it = commands_.find(id);
    if (it == commands_.end())
      return api_error(http::status::not_found, "app.command_webhook.get.missing", "Unable to find the webhook.");
    if (!has_body || !call.body.is_object()) return bad_param("body");
    if (it->second.uses >= response_url_uses)
      return api_error(http::status::bad_request, "app.command_webhook.try_use.invalid",
                       "Invalid webhook: it was used too many times.");
    ++it->second.uses;
    apply_command_response(it->second, call.body);
    return make_response(http::status::ok, "ok", "text/plain");
  }
};

namespace {

std::string trigger_id_for(const std::string& user, std::int64_t at) {
  return base64(new_mattermost_id() + ":" + user + ":" + std::to_string(at) + ":fake-signature");
}

json parsed_or_null(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

}  // namespace

fake_mattermost::fake_mattermost() : fake_mattermost(options{}) {}

fake_mattermost::fake_mattermost(options o) : options_(std::move(o)), impl_(std::make_unique<impl>(options_, nullptr)) {
  impl_->start();
}

fake_mattermost::fake_mattermost(const tls_test_ca& ca) : fake_mattermost(ca, options{}) {}

fake_mattermost::fake_mattermost(const tls_test_ca& ca, options o)
    : options_(std::move(o)), impl_(std::make_unique<impl>(options_, &ca)) {
  impl_->start();
}

fake_mattermost::~fake_mattermost() { impl_->stop(); }

bool fake_mattermost::tls() const { return impl_->secure; }
std::uint16_t fake_mattermost::port() const { return impl_->server->port(); }
std::string fake_mattermost::base_url() const { return impl_->server->url(tls() ? "https" : "http", ""); }
std::string fake_mattermost::api_url() const { return base_url() + "/api/v4"; }
std::string fake_mattermost::websocket_url() const {
  return impl_->server->url(tls() ? "wss" : "ws", "/api/v4/websocket");
}

// ---- the clock ----

void fake_mattermost::set_time_ms(std::int64_t ms) {
  std::lock_guard lock(impl_->mu);
  impl_->fixed_ms = ms;
}

void fake_mattermost::advance_time(std::chrono::milliseconds by) {
  std::lock_guard lock(impl_->mu);
  impl_->fixed_ms = impl_->now() + by.count();
}

void fake_mattermost::use_real_time() {
  std::lock_guard lock(impl_->mu);
  impl_->fixed_ms.reset();
}

std::int64_t fake_mattermost::now_ms() const {
  std::lock_guard lock(impl_->mu);
  return impl_->now();
}

// ---- users, teams and channels ----

std::string fake_mattermost::bot_id() const {
  std::lock_guard lock(impl_->mu);
  return impl_->bot_id_;
}

std::string fake_mattermost::team_id() const {
  std::lock_guard lock(impl_->mu);
  return impl_->team_id_;
}

std::string fake_mattermost::add_team(const std::string& name, const std::string& display_name) {
  std::lock_guard lock(impl_->mu);
  const std::string id = new_mattermost_id();
  impl_->teams_[id] = team_state{id, name, display_name, impl_->now()};
  return id;
}

std::string fake_mattermost::add_user(mm_user u) {
  std::lock_guard lock(impl_->mu);
  return impl_->add_user(std::move(u));
}

std::string fake_mattermost::add_user(const std::string& username) {
  mm_user u;
  u.username = username;
  return add_user(std::move(u));
}

std::optional<mm_user> fake_mattermost::user(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  const mm_user* u = impl_->find_user(id);
  return u == nullptr ? std::nullopt : std::optional<mm_user>(*u);
}

std::string fake_mattermost::add_channel(const std::string& team, const std::string& name,
                                         const std::string& display_name, const std::string& type) {
  std::lock_guard lock(impl_->mu);
  channel_state c;
  c.id = new_mattermost_id();
  c.team_id = team;
  c.name = name;
  c.display_name = display_name;
  c.type = type;
  c.creator_id = impl_->bot_id_;
  c.create_at = c.update_at = impl_->now();
  const std::string id = c.id;
  impl_->channels_[id] = std::move(c);
  return id;
}

void fake_mattermost::add_member(const std::string& channel, const std::string& user) {
  std::lock_guard lock(impl_->mu);
  channel_state* c = impl_->find_channel(channel);
  if (c == nullptr) throw std::invalid_argument("fake_mattermost: no channel " + channel);
  c->members.insert(user);
  impl_->bump();
}

bool fake_mattermost::is_member(const std::string& channel, const std::string& user) const {
  std::lock_guard lock(impl_->mu);
  return impl_->member(channel, user);
}

std::string fake_mattermost::direct_channel(const std::string& user_a, const std::string& user_b) {
  std::lock_guard lock(impl_->mu);
  return impl_->direct(user_a, user_b).id;
}

nlohmann::json fake_mattermost::channel(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  const channel_state* c = impl_->find_channel(id);
  return c == nullptr ? json() : impl_->channel_json(*c);
}

// ---- what people do ----

std::string fake_mattermost::post_as_user(const std::string& channel, const std::string& user,
                                          const std::string& message, const std::string& root_id,
                                          const nlohmann::json& props) {
  std::lock_guard lock(impl_->mu);
  if (impl_->find_channel(channel) == nullptr) throw std::invalid_argument("fake_mattermost: no channel " + channel);
  if (impl_->find_user(user) == nullptr) throw std::invalid_argument("fake_mattermost: no user " + user);
  if (!root_id.empty() && impl_->find_post(root_id) == nullptr)
    throw std::invalid_argument("fake_mattermost: no post " + root_id);
  return impl_->create_post(channel, user, message, root_id, props).post.id;
}

void fake_mattermost::edit_post(const std::string& post_id, const std::string& message) {
  std::lock_guard lock(impl_->mu);
  post_state* s = impl_->find_post(post_id);
  if (s == nullptr) throw std::invalid_argument("fake_mattermost: no post " + post_id);
  impl_->edit(*s, message);
}

void fake_mattermost::delete_post(const std::string& post_id) {
  std::lock_guard lock(impl_->mu);
  post_state* s = impl_->find_post(post_id);
  if (s == nullptr) throw std::invalid_argument("fake_mattermost: no post " + post_id);
  impl_->remove_post(*s);
}

void fake_mattermost::add_reaction(const std::string& user, const std::string& post_id, const std::string& emoji) {
  std::lock_guard lock(impl_->mu);
  post_state* s = impl_->find_post(post_id);
  if (s == nullptr) throw std::invalid_argument("fake_mattermost: no post " + post_id);
  impl_->react(user, *s, emoji);
}

void fake_mattermost::remove_reaction(const std::string& user, const std::string& post_id, const std::string& emoji) {
  std::lock_guard lock(impl_->mu);
  post_state* s = impl_->find_post(post_id);
  if (s == nullptr) throw std::invalid_argument("fake_mattermost: no post " + post_id);
  impl_->unreact(user, *s, emoji);
}

std::string fake_mattermost::user_joins(const std::string& channel, const std::string& user) {
  std::lock_guard lock(impl_->mu);
  channel_state* c = impl_->find_channel(channel);
  if (c == nullptr) throw std::invalid_argument("fake_mattermost: no channel " + channel);
  if (impl_->find_user(user) == nullptr) throw std::invalid_argument("fake_mattermost: no user " + user);
  return impl_->join(*c, user, user);
}

std::string fake_mattermost::user_leaves(const std::string& channel, const std::string& user) {
  std::lock_guard lock(impl_->mu);
  channel_state* c = impl_->find_channel(channel);
  if (c == nullptr) throw std::invalid_argument("fake_mattermost: no channel " + channel);
  return impl_->leave(*c, user, user);
}

void fake_mattermost::broadcast_event(const std::string& event, const nlohmann::json& data,
                                      const std::string& channel) {
  std::lock_guard lock(impl_->mu);
  impl_->broadcast(event, data, channel);
  impl_->bump();
}

void fake_mattermost::push_raw(std::string text) {
  std::lock_guard lock(impl_->mu);
  std::vector<std::string> ids;
  for (const auto& [id, c] : impl_->connections_) ids.push_back(id);
  for (const auto& id : ids) {
    auto it = impl_->connections_.find(id);
    if (it != impl_->connections_.end()) impl_->enqueue(it->second, out_item{false, {}, text});
  }
  impl_->wake_soon();
  impl_->bump();
}

// ---- the sockets ----

void fake_mattermost::drop_connections() {
  std::lock_guard lock(impl_->mu);
  impl_->drop_all();
}

void fake_mattermost::restart() {
  std::lock_guard lock(impl_->mu);
  impl_->drop_all();
  impl_->connections_.clear();
  impl_->bump();
}

// ---- injected failures ----

void fake_mattermost::rate_limit(const std::string& path, std::size_t times, int reset_seconds) {
  if (times == 0) return;
  std::lock_guard lock(impl_->mu);
  impl_->faults_.push_back(fault{path, 429, reset_seconds, times});
}

void fake_mattermost::fail_next(const std::string& path, int status, std::size_t times) {
  if (times == 0) return;
  std::lock_guard lock(impl_->mu);
  impl_->faults_.push_back(fault{path, status, 1, times});
}

// ---- Mattermost calling the bot ----

mm_http_result fake_mattermost::send_command(const std::string& bot_listener_url, const std::string& token,
                                             const std::string& channel_id, const std::string& user_id,
                                             const std::string& text, const std::string& command) {
  command_context context;
  std::vector<std::pair<std::string, std::string>> fields;
  mm_http_result result;
  {
    std::lock_guard lock(impl_->mu);
    const channel_state* c = impl_->find_channel(channel_id);
    if (c == nullptr) throw std::invalid_argument("fake_mattermost: no channel " + channel_id);
    const mm_user* u = impl_->find_user(user_id);
    if (u == nullptr) throw std::invalid_argument("fake_mattermost: no user " + user_id);
    const std::string team = c->team_id.empty() ? impl_->team_id_ : c->team_id;
    auto t = impl_->teams_.find(team);
    const std::string hook = new_mattermost_id();
    context = command_context{channel_id, user_id, {}, 0};
    impl_->commands_[hook] = context;
    result.trigger_id = trigger_id_for(user_id, impl_->now());
    // The fixture's fields, in its (Go's url.Values) order.
    fields = {{"channel_id", channel_id},
              {"channel_name", c->name},
              {"command", command},
              {"response_url", base_url() + "/hooks/commands/" + hook},
              {"team_domain", t == impl_->teams_.end() ? std::string{} : t->second.name},
              {"team_id", team},
              {"text", text},
              {"token", token},
              {"trigger_id", result.trigger_id},
              {"user_id", user_id},
              {"user_name", u->username}};
  }
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += form_escape(name) + "=" + form_escape(value);
  }
  std::string url = bot_listener_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  const incoming in = http_post(outgoing{url + "/mattermost/command",
                                         std::move(body),
                                         "application/x-www-form-urlencoded",
                                         {{"Authorization", "Token " + token}},
                                         options_.integration_timeout});
  result.status = in.status;
  result.error = in.error;
  result.body = in.body;
  result.json = parsed_or_null(in.body);
  if (in.status != 200) return result;
  // As model.CommandResponseFromHTTPBody: JSON when the type says so, else the body is the text of an ephemeral.
  std::string type = in.content_type.substr(0, in.content_type.find(';'));
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  const json response = type == "application/json" ? result.json : json{{"text", in.body}};
  std::lock_guard lock(impl_->mu);
  result.post_ids = impl_->apply_command_response(context, response);
  return result;
}

mm_http_result fake_mattermost::click_button(const std::string& post_id, std::size_t action_index,
                                             const std::string& user_id, std::size_t attachment) {
  std::string url;
  json request;
  std::string channel_id;
  mm_http_result result;
  {
    std::lock_guard lock(impl_->mu);
    const post_state* s = impl_->find_post(post_id);
    if (s == nullptr) throw std::invalid_argument("fake_mattermost: no post " + post_id);
    const json attachments = s->post.props.value("attachments", json());
    if (!attachments.is_array() || attachment >= attachments.size())
      throw std::invalid_argument("fake_mattermost: post " + post_id + " has no attachment " +
                                  std::to_string(attachment));
    const json actions = attachments[attachment].value("actions", json());
    if (!actions.is_array() || action_index >= actions.size())
      throw std::invalid_argument("fake_mattermost: post " + post_id + " has no action " +
                                  std::to_string(action_index));
    const json& action = actions[action_index];
    const json integration = action.value("integration", json::object());
    url = str(integration, "url");
    channel_id = s->post.channel_id;
    const channel_state* c = impl_->find_channel(channel_id);
    const std::string team = c == nullptr || c->team_id.empty() ? impl_->team_id_ : c->team_id;
    auto t = impl_->teams_.find(team);
    result.trigger_id = trigger_id_for(user_id, impl_->now());
    request = json{{"user_id", user_id},
                   {"user_name", impl_->username_of(user_id)},
                   {"channel_id", channel_id},
                   {"channel_name", c == nullptr ? std::string{} : c->name},
                   {"team_id", team},
                   {"team_domain", t == impl_->teams_.end() ? std::string{} : t->second.name},
                   {"post_id", post_id},
                   {"trigger_id", result.trigger_id},
                   {"type", action.value("type", "button")},
                   {"data_source", action.value("data_source", "")},
                   {"context", integration.value("context", json::object())}};
  }
  const incoming in = http_post(outgoing{url, request.dump(), "application/json", {}, options_.integration_timeout});
  result.status = in.status;
  result.error = in.error;
  result.body = in.body;
  result.json = parsed_or_null(in.body);
  if (in.status != 200 || in.body.empty() || !result.json.is_object()) return result;
  std::lock_guard lock(impl_->mu);
  post_state* s = impl_->find_post(post_id);
  if (s == nullptr) return result;
  if (auto update = result.json.find("update"); update != result.json.end() && update->is_object()) {
    // The update replaces the message; its props replace the post's (keeping who wrote it) unless it has none.
    if (auto props = update->find("props"); props != update->end() && props->is_object()) {
      json kept = *props;
      for (const char* key : {"from_bot", "from_webhook", "override_username", "override_icon_url"})
        if (s->post.props.contains(key)) kept[key] = s->post.props[key];
      s->post.props = kept;
    }
    impl_->edit(*s, str(*update, "message"));
  }
  if (const std::string text = str(result.json, "ephemeral_text"); !text.empty()) {
    impl_->ephemerals_.push_back(mm_ephemeral{user_id, channel_id,
                                              s->post.root_id.empty() ? s->post.id : s->post.root_id, text,
                                              json::object(), "action"});
  }
  impl_->bump();
  return result;
}

// ---- records ----

std::vector<mm_call> fake_mattermost::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls_;
}

std::vector<mm_call> fake_mattermost::calls(const std::string& method, const std::string& path) const {
  std::lock_guard lock(impl_->mu);
  std::vector<mm_call> out;
  for (const auto& c : impl_->calls_)
    if ((method.empty() || c.method == method) && pattern_matches(path, c.method, c.path)) out.push_back(c);
  return out;
}

std::size_t fake_mattermost::count(const std::string& method, const std::string& path) const {
  return calls(method, path).size();
}

std::optional<mm_post> fake_mattermost::post(const std::string& id) const {
  std::lock_guard lock(impl_->mu);
  const post_state* s = impl_->find_post(id);
  return s == nullptr ? std::nullopt : std::optional<mm_post>(impl_->record_of(*s));
}

std::vector<mm_post> fake_mattermost::posts_in(const std::string& channel) const {
  std::lock_guard lock(impl_->mu);
  std::vector<const post_state*> found;
  for (const auto& [id, s] : impl_->posts_)
    if (s.post.channel_id == channel) found.push_back(&s);
  std::sort(found.begin(), found.end(), [](const post_state* a, const post_state* b) { return a->order < b->order; });
  std::vector<mm_post> out;
  for (const auto* s : found) out.push_back(impl_->record_of(*s));
  return out;
}

std::vector<mm_post> fake_mattermost::posts_by(const std::string& user) const {
  std::lock_guard lock(impl_->mu);
  std::vector<const post_state*> found;
  for (const auto& [id, s] : impl_->posts_)
    if (s.post.user_id == user) found.push_back(&s);
  std::sort(found.begin(), found.end(), [](const post_state* a, const post_state* b) { return a->order < b->order; });
  std::vector<mm_post> out;
  for (const auto* s : found) out.push_back(impl_->record_of(*s));
  return out;
}

std::vector<mm_ephemeral> fake_mattermost::ephemerals() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ephemerals_;
}

std::vector<mm_frame> fake_mattermost::frames_from_bot() const {
  std::lock_guard lock(impl_->mu);
  return impl_->frames_;
}

std::vector<mm_written> fake_mattermost::frames_written() const {
  std::lock_guard lock(impl_->mu);
  return impl_->written_;
}

std::size_t fake_mattermost::sockets_opened() const {
  std::lock_guard lock(impl_->mu);
  return impl_->socks_.size();
}

std::size_t fake_mattermost::live_connections() const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(std::count_if(impl_->connections_.begin(), impl_->connections_.end(),
                                                [](const auto& c) { return c.second.live != nullptr; }));
}

std::size_t fake_mattermost::hellos_sent() const {
  std::lock_guard lock(impl_->mu);
  return impl_->hellos_;
}

std::size_t fake_mattermost::replays() const {
  std::lock_guard lock(impl_->mu);
  return impl_->replays_;
}

std::size_t fake_mattermost::auth_failures() const {
  std::lock_guard lock(impl_->mu);
  return impl_->auth_failures_;
}

std::size_t fake_mattermost::auth_timeouts() const {
  std::lock_guard lock(impl_->mu);
  return impl_->auth_timeouts_;
}

std::size_t fake_mattermost::rejected_reconnects() const {
  std::lock_guard lock(impl_->mu);
  return impl_->rejected_;
}

std::size_t fake_mattermost::pongs_received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->pongs_;
}

std::string fake_mattermost::current_connection_id() const {
  std::lock_guard lock(impl_->mu);
  for (auto it = impl_->socks_.rbegin(); it != impl_->socks_.rend(); ++it)
    if (impl_->attached(**it) != nullptr) return (*it)->connection_id;
  return {};
}

bool fake_mattermost::wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) const {
  const auto deadline = steady::now() + timeout;
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

bool fake_mattermost::wait_connected(std::size_t n, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return live_connections() >= n; }, timeout);
}

}  // namespace kintsugi::test
