#include "slack_load.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <deque>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <string_view>

#include "fake_text.hpp"
#include "net/ws_frame.hpp"

namespace kintsugi::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<beast::tcp_stream>;
namespace ws = net::ws;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string slack_ts(std::uint64_t micros) {
  std::array<char, 32> out{};
  const int n = std::snprintf(out.data(), out.size(), "%llu.%06llu", static_cast<unsigned long long>(micros / 1000000),
                              static_cast<unsigned long long>(micros % 1000000));
  return std::string(out.data(), static_cast<std::size_t>(n));
}

namespace {

constexpr std::string_view team = "T0BENCH";
constexpr std::string_view bot_user = "U0BOT";

std::string numbered(std::string_view prefix, std::size_t n) {
  std::array<char, 16> digits{};
  const int len = std::snprintf(digits.data(), digits.size(), "%04zu", n);
  return std::string(prefix) + std::string(digits.data(), static_cast<std::size_t>(len));
}

// What people say in an incident channel: a few sentences of the usual kind, made distinct by the message number.
// Only characters that need no JSON escaping.
std::string chatter(std::uint64_t seq) {
  static constexpr std::array<std::string_view, 6> lines{
      "checkout-api p99 is back under 300 ms in eu-west-1 after the rollback of deploy 4512, error rate still at 2.1 "
      "percent on the payment step, watching the dashboards before we call it mitigated",
      "the connection pool on orders-db hit its limit of 200 at 10:41 UTC, the retry storm from the cart service made "
      "it worse, proposing to lower client retries to 2 with jittered backoff until we know more",
      "status page updated: degraded performance for card payments in Europe, next update in 30 minutes or sooner if "
      "anything changes, support has the macro and is linking the page in replies",
      "canary for the fix is at 5 percent of traffic, no new 5xx in the last ten minutes, latency flat, going to 25 "
      "percent at the top of the hour unless someone objects here",
      "found it: the feature flag for the new tax service defaulted to on in the eu region only, the config diff is "
      "in the deploy log, flipping it off now and keeping the timeline open",
      "paging the storage on-call for a second pair of eyes on the replication lag graph, it climbed to 40 s during "
      "the spike and has not fully recovered yet, attaching the query we used"};
  std::string text{lines[seq % lines.size()]};
  text += " (note ";
  text += std::to_string(seq);
  text += ")";
  return text;
}

std::string client_msg_id(std::uint64_t seq) {
  std::array<char, 48> out{};
  const int n = std::snprintf(out.data(), out.size(), "%08llx-5e1c-4b7a-9d2f-%012llx",
                              static_cast<unsigned long long>(seq * 2654435761ULL & 0xffffffffULL),
                              static_cast<unsigned long long>(seq));
  return std::string(out.data(), static_cast<std::size_t>(n));
}

// Form fields, or the members of a JSON object body as text.
std::map<std::string, std::string> fields_of(const http::request<http::string_body>& req) {
  std::map<std::string, std::string> out;
  const std::string& body = req.body();
  if (req[http::field::content_type].starts_with("application/json")) {
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    if (!parsed.is_object()) return out;
    for (auto it = parsed.begin(); it != parsed.end(); ++it) out[it.key()] = test::fake_text::str(parsed, it.key().c_str());
    return out;
  }
  return test::fake_text::form_params(body);
}

// A Socket Mode websocket, server side, framed with kintsugi's ws_frame: one read of the socket yields every ack it
// holds, and the writer sends what is queued in one write. (Beast's stream, read one message per operation, made
// the load generator spend more on each ack than on the envelope it answers; what it spends, it takes from the bot
// it measures.)
struct socket_conn {
  socket_conn(tls_stream s, std::string_view already_read)
      : stream(std::move(s)), wake(stream.get_executor()), reader(1 << 20, ws::role::server) {
    auto into = received.prepare(already_read.size());
    std::memcpy(into.data(), already_read.data(), already_read.size());
    received.commit(already_read.size());
  }
  tls_stream stream;
  bool open = true;
  struct frame {
    std::size_t envelope;
    std::string text;
  };
  std::deque<frame> out;     // envelopes waiting for the writer
  std::string control;       // framed pings, pongs or the close: they go out first
  bool closing = false;      // the close is queued: nothing else goes out, and the socket ends once it is written
  asio::steady_timer wake;  // the writer waits on it while nothing is queued
  beast::flat_buffer received;
  ws::frame_reader reader;
};

// A message as the history lists it (and as the event carries it).
struct said {
  std::uint64_t micros;
  std::uint64_t seq;
};

}  // namespace

struct slack_load::impl : std::enable_shared_from_this<impl> {
  impl(asio::io_context& ctx, asio::ssl::context t, std::size_t ch, std::size_t us)
      : io(ctx), tls(std::move(t)), acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        channels(ch), users(us), wake(ctx, bench_clock::time_point::max()), watchdog(ctx), history(ch) {}

  asio::io_context& io;
  asio::ssl::context tls;
  tcp::acceptor acceptor;
  std::size_t channels;
  std::size_t users;
  asio::steady_timer wake;  // the scenario coroutine waits on it; cancelled on every ack and connection change
  asio::steady_timer watchdog;  // notifies when the deadline of the current wait passes
  bench_clock::time_point watchdog_at{};
  bool stopping = false;
  std::shared_ptr<socket_conn> live;
  std::size_t sockets = 0;
  std::size_t window = 1000;
  std::size_t in_flight = 0;
  std::size_t pushed = 0;
  std::size_t last_envelope = 0;
  std::uint64_t last_micros = 0;
  std::uint64_t next_seq = 0;  // envelope numbers ("e<seq>") and message numbers alike
  std::vector<bench_clock::time_point> sent_at;  // by envelope number
  std::vector<bool> acked;
  std::size_t measure_from = 0;  // latencies() covers envelopes from this number on
  std::vector<double> latency_ms;
  bench_clock::time_point last_ack{};
  std::map<std::string, std::size_t> call_count;
  std::map<std::string, bench_clock::time_point> call_last;
  std::vector<std::vector<said>> history;  // per channel, oldest first
  FILE* trace = std::getenv("KINTSUGI_BENCH_TRACE") ? std::fopen(std::getenv("KINTSUGI_BENCH_TRACE"), "w") : nullptr;

  void notify() { wake.cancel(); }

  // Waits for notify() or the deadline; false once the deadline passed. `wake` never expires (re-arming a timer
  // for every ack would cost a timerfd update each); a watchdog set once per deadline notifies when it passes.
  asio::awaitable<bool> wait(bench_clock::time_point deadline) {
    if (bench_clock::now() >= deadline) co_return false;
    if (watchdog_at != deadline) {
      watchdog_at = deadline;
      watchdog.expires_at(deadline);
      watchdog.async_wait([self = weak_from_this()](boost::system::error_code ec) {
        if (auto s = self.lock(); s && !ec) s->notify();
      });
    }
    co_await wake.async_wait(use_tuple);
    co_return bench_clock::now() < deadline;
  }

  std::uint64_t now_micros() {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    const auto us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
    last_micros = std::max(us, last_micros + 1);
    return last_micros;
  }

  std::string channel_id(std::size_t c) const { return numbered("C0BENCH", c); }
  std::string user_id(std::uint64_t seq) const { return numbered("U", 1 + seq % users); }
  std::size_t channel_of(std::uint64_t seq) const { return seq % channels; }

  // The message fields shared by the event and the history: {"client_msg_id":…,"type":"message",…,"ts":…}.
  std::string message_json(const said& m, bool with_blocks) const {
    const std::string text = chatter(m.seq);
    const std::string ts = slack_ts(m.micros);
    std::string out;
    out.reserve(1400);
    out += R"({"client_msg_id":")" + client_msg_id(m.seq) + R"(","type":"message","text":")" + text +
           R"(","user":")" + user_id(m.seq) + R"(","ts":")" + ts + R"(","team":")" + std::string(team) + '"';
    if (with_blocks) {
      out += R"(,"blocks":[{"type":"rich_text","block_id":")" + std::to_string(m.seq % 99991) +
             R"(","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":")" + text + R"("}]}]}])";
      out += R"(,"channel":")" + channel_id(channel_of(m.seq)) + R"(","event_ts":")" + ts +
             R"(","channel_type":"channel")";
    }
    out += '}';
    return out;
  }

  std::string message_envelope(std::uint64_t envelope, const said& m) const {
    const std::string channel = channel_id(channel_of(m.seq));
    std::string out;
    out.reserve(1600);
    out += R"({"envelope_id":"e)" + std::to_string(envelope) + R"(","payload":{"token":"bench-verification-token",)";
    out += R"("team_id":")" + std::string(team) + R"(","context_team_id":")" + std::string(team) +
           R"(","context_enterprise_id":null,"api_app_id":"A0BENCH","event":)";
    out += message_json(m, true);
    out += R"(,"type":"event_callback","event_id":"Ev0BENCH)" + std::to_string(m.seq) +
           R"(","event_time":)" + std::to_string(m.micros / 1000000);
    out += R"(,"authorizations":[{"enterprise_id":null,"team_id":")" + std::string(team) + R"(","user_id":")" +
           std::string(bot_user) + R"(","is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":false,)";
    out += R"("event_context":"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMEJFTkNIIiwiYWlkIjoiQTBCRU5DSCIsImNpZCI6Ig-)" + channel +
           R"("},"type":"events_api","accepts_response_payload":false,"retry_attempt":0,"retry_reason":""})";
    return out;
  }

  // ---- the Web API ----
  std::string history_page(const std::map<std::string, std::string>& f) const {
    auto get = [&](const char* k) {
      auto it = f.find(k);
      return it == f.end() ? std::string{} : it->second;
    };
    const std::string channel = get("channel");
    std::size_t c = channels;
    for (std::size_t i = 0; i < channels; ++i)
      if (channel_id(i) == channel) c = i;
    if (c == channels) return R"({"ok":false,"error":"channel_not_found"})";
    auto micros_of = [](const std::string& ts) -> std::uint64_t {
      if (ts.empty()) return 0;
      const auto dot = ts.find('.');
      std::uint64_t us = std::stoull(ts.substr(0, dot)) * 1000000;
      if (dot != std::string::npos) {
        std::string frac = ts.substr(dot + 1, 6);
        frac.resize(6, '0');
        us += std::stoull(frac);
      }
      return us;
    };
    const bool inclusive = get("inclusive") == "true" || get("inclusive") == "1";
    const std::uint64_t oldest = micros_of(get("oldest"));
    const std::string latest_text = get("latest");
    const std::uint64_t latest = latest_text.empty() ? UINT64_MAX : micros_of(latest_text);
    std::size_t limit = get("limit").empty() ? 100 : std::stoul(get("limit"));
    limit = std::clamp<std::size_t>(limit, 1, 200);
    const std::size_t skip = get("cursor").empty() ? 0 : std::stoul(get("cursor").substr(4));
    const auto& all = history[c];
    auto lo = std::partition_point(all.begin(), all.end(), [&](const said& m) {
      return inclusive ? m.micros < oldest : m.micros <= oldest;
    });
    auto hi = std::partition_point(lo, all.end(), [&](const said& m) {
      return inclusive ? m.micros <= latest : m.micros < latest;
    });
    const auto in_range = static_cast<std::size_t>(hi - lo);
    std::string out = R"({"ok":true,"messages":[)";
    std::size_t n = 0;
    for (std::size_t i = skip; i < in_range && n < limit; ++i, ++n) {
      if (n > 0) out += ',';
      out += message_json(*(hi - 1 - static_cast<std::ptrdiff_t>(i)), false);
    }
    const bool more = skip + n < in_range;
    out += R"(],"has_more":)";
    out += more ? "true" : "false";
    out += R"(,"response_metadata":{"next_cursor":")" + (more ? "bmV4" + std::to_string(skip + n) : std::string{}) +
           R"("}})";
    return out;
  }

  std::string answer(const std::string& method, const std::map<std::string, std::string>& f) {
    auto get = [&](const char* k) {
      auto it = f.find(k);
      return it == f.end() ? std::string{} : it->second;
    };
    using nlohmann::json;
    if (method == "auth.test")
      return json{{"ok", true}, {"url", "https://bench.example/"}, {"team", "Bench"}, {"user", "kintsugi"},
                  {"team_id", team}, {"user_id", bot_user}, {"bot_id", "B0BOT"}, {"is_enterprise_install", false}}
          .dump();
    if (method == "apps.connections.open")
      return json{{"ok", true},
                  {"url", "wss://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/link?ticket=" +
                              std::to_string(sockets + 1)}}
          .dump();
    if (method == "chat.postMessage" || method == "chat.postEphemeral") {
      const std::string ts = slack_ts(now_micros());
      return json{{"ok", true}, {"channel", get("channel")}, {"ts", ts}, {"message_ts", ts},
                  {"message", {{"type", "message"}, {"user", bot_user}, {"bot_id", "B0BOT"}, {"ts", ts}}}}
          .dump();
    }
    if (method == "conversations.history") return history_page(f);
    if (method == "conversations.replies") return R"({"ok":true,"messages":[],"has_more":false})";
    if (method == "conversations.info" || method == "conversations.join" || method == "conversations.setTopic" ||
        method == "conversations.invite")
      return json{{"ok", true},
                  {"channel", {{"id", get("channel")}, {"name", "bench-" + get("channel")}, {"is_channel", true},
                               {"is_member", true}, {"is_archived", false}}}}
          .dump();
    if (method == "conversations.open")
      return json{{"ok", true}, {"channel", {{"id", "D" + get("users")}}}}.dump();
    if (method == "conversations.create")
      return json{{"ok", true}, {"channel", {{"id", "C0NEW" + std::to_string(now_micros() % 100000)}, {"name", get("name")}}}}
          .dump();
    if (method == "users.info") {
      const std::string id = get("user");
      return json{{"ok", true},
                  {"user", {{"id", id}, {"name", "person-" + id}, {"real_name", "Person " + id}, {"tz", "UTC"},
                            {"profile", {{"display_name", "Person " + id}, {"real_name", "Person " + id}}}}}}
          .dump();
    }
    return R"({"ok":true})";
  }

  // ---- connections ----
  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) break;
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    tls_stream stream(beast::tcp_stream(std::move(socket)), tls);
    auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (hs) co_return;
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 20);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec) co_return;
      auto req = parser.release();
      if (websocket::is_upgrade(req)) {
        http::response<http::empty_body> res{http::status::switching_protocols, req.version()};
        res.set(http::field::upgrade, "websocket");
        res.set(http::field::connection, "Upgrade");
        res.set(http::field::sec_websocket_accept, ws::accept_key(req[http::field::sec_websocket_key]));
        auto [uec, un] = co_await http::async_write(stream, res, use_tuple);
        if (uec) co_return;
        const std::string_view early(static_cast<const char*>(buffer.data().data()), buffer.size());
        co_await run_socket(std::make_shared<socket_conn>(std::move(stream), early));
        co_return;
      }
      const std::string target{req.target()};
      const std::string method = target.starts_with("/api/") ? target.substr(5, target.find('?') - 5) : target;
      ++call_count[method];
      call_last[method] = bench_clock::now();
      http::response<http::string_body> res{http::status::ok, req.version()};
      res.set(http::field::content_type, "application/json; charset=utf-8");
      res.body() = answer(method, fields_of(req));
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, written] = co_await http::async_write(stream, res, use_tuple);
      if (wec || !req.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> run_socket(std::shared_ptr<socket_conn> c) {
    ++sockets;
    const std::string hello =
        R"({"type":"hello","num_connections":1,"debug_info":{"host":"bench-applink","build_number":1,)"
        R"("approximate_connection_time":18060},"connection_info":{"app_id":"A0BENCH"}})";
    std::string framed;
    ws::append_frame(framed, ws::opcode::text, hello);
    auto [hec, hn] = co_await asio::async_write(c->stream, asio::buffer(framed), use_tuple);
    if (hec) co_return;
    live = c;
    notify();
    asio::co_spawn(io, pinger(c), asio::detached);
    asio::co_spawn(io, writer(c), asio::detached);
    co_await read_frames(c);
  }

  // Queues a control frame ahead of the envelopes.
  static void send_control(socket_conn& c, ws::opcode op, std::string_view payload) {
    if (c.closing) return;
    ws::append_frame(c.control, op, payload);
    if (op == ws::opcode::close) c.closing = true;
    c.wake.cancel();
  }

  // Slack pings every live socket; Bolt's client closes a socket that went 30 s without a ping.
  asio::awaitable<void> pinger(std::shared_ptr<socket_conn> c) {
    asio::steady_timer timer(io);
    while (c->open && !stopping) {
      timer.expires_after(std::chrono::seconds(5));
      co_await timer.async_wait(use_tuple);
      if (!c->open || stopping) break;
      send_control(*c, ws::opcode::ping, {});
    }
  }

  // Reads the client's frames: acks (each stamped with the time its read completed), pings, the close.
  asio::awaitable<void> read_frames(std::shared_ptr<socket_conn> c) {
    constexpr std::size_t read_chunk = 64 * 1024;
    bool reading = true;
    auto at = bench_clock::now();
    while (reading) {
      std::size_t used = 0;
      for (;;) {
        const std::string_view held(static_cast<const char*>(c->received.data().data()) + used, c->received.size() - used);
        const auto ev = c->reader.next(held);
        using kind = ws::frame_event::kind;
        if (ev.what == kind::need_more) break;
        if (ev.what == kind::error) {
          send_control(*c, ws::opcode::close, ws::close_payload(ev.close_code, {}));
          reading = false;
          break;
        }
        used += ev.used;
        if (ev.what == kind::message) on_frame(ev.payload, at);
        if (ev.what == kind::ping) send_control(*c, ws::opcode::pong, ev.payload);
        if (ev.what == kind::close) {
          send_control(*c, ws::opcode::close, ws::close_payload(ws::close_normal, {}));
          reading = false;
          break;
        }
      }
      c->received.consume(used);
      if (!reading) break;
      auto [ec, n] = co_await c->stream.async_read_some(c->received.prepare(read_chunk), use_tuple);
      if (ec) break;
      c->received.commit(n);
      at = bench_clock::now();
    }
    c->open = !c->closing ? false : c->open;  // a queued close is still written, then the writer ends the socket
    c->wake.cancel();
    if (live == c) live.reset();
    notify();
  }

  void on_frame(std::string_view frame, bench_clock::time_point at) {
    auto key = frame.find("\"envelope_id\"");
    if (key == std::string_view::npos) return;
    auto pos = frame.find('"', frame.find(':', key + 13));
    if (pos == std::string_view::npos || pos + 2 >= frame.size() || frame[pos + 1] != 'e') return;
    std::size_t seq = 0;
    std::size_t i = pos + 2;
    for (; i < frame.size() && frame[i] >= '0' && frame[i] <= '9'; ++i) seq = seq * 10 + static_cast<std::size_t>(frame[i] - '0');
    if (i == pos + 2 || seq >= sent_at.size() || acked[seq]) return;
    acked[seq] = true;
    --in_flight;
    last_ack = at;
    if (seq >= measure_from)
      latency_ms.push_back(std::chrono::duration<double, std::milli>(at - sent_at[seq]).count());
    if (trace) std::fprintf(trace, "%zu %.3f %.3f\n", seq, std::chrono::duration<double, std::milli>(sent_at[seq].time_since_epoch()).count(), std::chrono::duration<double, std::milli>(at.time_since_epoch()).count());
    notify();
  }

  // Queues one envelope for the live socket's writer, waiting for room in the window first.
  asio::awaitable<bool> write_envelope(std::string frame, bench_clock::time_point deadline) {
    // A full window is refilled once it has room for a few: what is written together then leaves together.
    if (in_flight >= window || !live)
      while (in_flight + std::min<std::size_t>(refill_step, window) > window || !live)
        if (!(co_await wait(deadline))) co_return false;
    auto c = live;
    c->out.push_back(socket_conn::frame{sent_at.size(), std::move(frame)});
    sent_at.push_back(bench_clock::now());
    acked.push_back(false);
    ++in_flight;
    c->wake.cancel();
    co_return true;
  }

  // The socket's one writer. What was queued while it wrote goes out in one socket write (one sendmsg), as a
  // server with a buffered writer sends under load; one envelope per write would make the load generator spend
  // a quarter of its time in sendmsg, taken from the two cores the bot under test shares with it.
  static constexpr std::size_t max_write_bytes = 64 * 1024;
  static constexpr std::size_t refill_step = 16;

  asio::awaitable<void> writer(std::shared_ptr<socket_conn> c) {
    std::string wire;
    std::vector<std::size_t> batch;  // the envelopes in this write
    while (c->open && !stopping) {
      if (c->out.empty() && c->control.empty()) {
        c->wake.expires_at(asio::steady_timer::time_point::max());
        co_await c->wake.async_wait(use_tuple);
        continue;
      }
      wire.swap(c->control);
      c->control.clear();
      batch.clear();
      for (; !c->closing && !c->out.empty() && wire.size() < max_write_bytes; c->out.pop_front()) {
        ws::append_frame(wire, ws::opcode::text, c->out.front().text);
        batch.push_back(c->out.front().envelope);
      }
      auto [ec, n] = co_await asio::async_write(c->stream, asio::buffer(wire), use_tuple);
      wire.clear();
      if (ec || (c->closing && c->control.empty())) {
        // Lost with the socket, or never sent after the close: they will never be acked.
        for (const auto envelope : batch) if (ec) lost(envelope);
        for (const auto& f : c->out) lost(f.envelope);
        c->out.clear();
        break;
      }
    }
    for (const auto& f : c->out) lost(f.envelope);  // never written: never acked
    c->out.clear();
    c->open = false;
    boost::system::error_code ignored;
    beast::get_lowest_layer(c->stream).socket().close(ignored);
  }

  void lost(std::size_t envelope) {
    if (acked[envelope]) return;
    acked[envelope] = true;
    --in_flight;
  }
};

slack_load::slack_load(asio::io_context& io, asio::ssl::context tls, std::size_t channels, std::size_t users)
    : impl_(std::make_shared<impl>(io, std::move(tls), std::max<std::size_t>(channels, 1), std::max<std::size_t>(users, 1))) {
  asio::co_spawn(io, impl_->accept_loop(), asio::detached);
}

slack_load::~slack_load() {
  impl_->stopping = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  if (impl_->live) beast::get_lowest_layer(impl_->live->stream).close();
}

std::uint16_t slack_load::port() const { return impl_->acceptor.local_endpoint().port(); }
std::string slack_load::api_url() const { return "https://127.0.0.1:" + std::to_string(port()) + "/api/"; }
std::string slack_load::channel(std::size_t i) const { return impl_->channel_id(i); }
std::size_t slack_load::websockets_opened() const { return impl_->sockets; }
void slack_load::set_window(std::size_t w) { impl_->window = std::max<std::size_t>(w, 1); }

asio::awaitable<bool> slack_load::connected(std::chrono::milliseconds timeout) {
  const auto deadline = bench_clock::now() + timeout;
  while (!impl_->live)
    if (!(co_await impl_->wait(deadline))) co_return false;
  co_return true;
}

void slack_load::drop_socket() {
  if (!impl_->live) return;
  beast::get_lowest_layer(impl_->live->stream).close();
  impl_->live.reset();
}

asio::awaitable<bool> slack_load::push_command(std::size_t c, const std::string& text) {
  const std::uint64_t envelope = impl_->sent_at.size();
  const std::string channel = impl_->channel_id(c % impl_->channels);
  nlohmann::json frame{
      {"envelope_id", "e" + std::to_string(envelope)},
      {"payload",
       {{"token", "bench-verification-token"}, {"team_id", team}, {"team_domain", "bench"}, {"channel_id", channel},
        {"channel_name", "bench-" + channel}, {"user_id", impl_->user_id(0)}, {"user_name", "person-1"},
        {"command", "/incident"}, {"text", text}, {"api_app_id", "A0BENCH"}, {"is_enterprise_install", "false"},
        {"response_url", api_url() + "response/" + std::to_string(envelope)},
        {"trigger_id", "1." + std::to_string(envelope) + ".bench"}}},
      {"type", "slash_commands"},
      {"accepts_response_payload", true}};
  co_return co_await impl_->write_envelope(frame.dump(), bench_clock::now() + std::chrono::seconds(30));
}

asio::awaitable<std::size_t> slack_load::push_messages(std::size_t count, double rate, std::chrono::milliseconds max_time) {
  auto& s = *impl_;
  const auto start = bench_clock::now();
  const auto stop_at = start + max_time;
  asio::steady_timer pace(s.io);
  std::size_t done = 0;
  while (done < count && bench_clock::now() < stop_at) {
    if (rate > 0) {
      const auto due = start + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(
                                   static_cast<double>(done) / rate));
      if (bench_clock::now() < due) {
        pace.expires_at(due);
        co_await pace.async_wait(use_tuple);
      }
    }
    const std::uint64_t seq = s.next_seq++;
    const said m{s.now_micros(), seq};
    s.history[s.channel_of(seq)].push_back(m);  // the channel holds it, whether the bot hears it or not
    std::string frame = s.message_envelope(s.sent_at.size(), m);
    s.last_envelope = frame.size();
    if (!(co_await s.write_envelope(std::move(frame), stop_at + std::chrono::seconds(30)))) break;
    ++done;
    ++s.pushed;
  }
  co_return done;
}

asio::awaitable<bool> slack_load::drained(std::chrono::milliseconds timeout) {
  const auto deadline = bench_clock::now() + timeout;
  while (impl_->in_flight > 0)
    if (!(co_await impl_->wait(deadline))) co_return false;
  co_return true;
}

void slack_load::add_history(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t seq = impl_->next_seq++;
    impl_->history[impl_->channel_of(seq)].push_back(said{impl_->now_micros(), seq});
  }
}

std::size_t slack_load::calls(const std::string& method) const {
  auto it = impl_->call_count.find(method);
  return it == impl_->call_count.end() ? 0 : it->second;
}

bench_clock::time_point slack_load::last_call(const std::string& method) const {
  auto it = impl_->call_last.find(method);
  return it == impl_->call_last.end() ? bench_clock::time_point{} : it->second;
}

std::vector<double> slack_load::latencies() const { return impl_->latency_ms; }
void slack_load::clear_latencies() {
  impl_->latency_ms.clear();
  impl_->measure_from = impl_->sent_at.size();
}
bench_clock::time_point slack_load::last_ack() const { return impl_->last_ack; }
std::size_t slack_load::messages_pushed() const { return impl_->pushed; }
std::size_t slack_load::unacked() const { return impl_->in_flight; }
std::size_t slack_load::envelope_bytes() const { return impl_->last_envelope; }

}  // namespace kintsugi::bench
