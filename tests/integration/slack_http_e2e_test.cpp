// The real `kintsugi run --config F` in Slack HTTP mode (slack.mode "http"): the test acts as Slack and POSTs signed
// Events API, slash-command and url_verification requests to the bot's listener on 127.0.0.1 (plain HTTP: TLS is the
// reverse proxy's job); the bot answers through the fake Slack's Web API (tests/support/fake_slack, over TLS).
// The listener binds 127.0.0.1:0 and the test reads the port the bot logged. Signatures are computed here with
// OpenSSL, independently of the bot's own code, and checked against Slack's published test vector first.
#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "e2e_support.hpp"
#include "fake_slack.hpp"
#include "tls_test_ca.hpp"

using namespace kintsugi::test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

const std::string bot_token = "xoxb-TEST-SECRET";
const std::string signing_secret = "e2e-signing-SECRET-5f0c9d7b2a61";
const std::string channel = "C1";
const std::string listening_mark = "http listening on 127.0.0.1:";

// ---- Slack's side of request signing (PROTOCOLS.md §2.1) ----

std::string hmac_sha256_hex(const std::string& key, const std::string& message) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac.data(), &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

std::string signature(const std::string& secret, const std::string& timestamp, const std::string& body) {
  return "v0=" + hmac_sha256_hex(secret, "v0:" + timestamp + ":" + body);
}

std::string unix_now(std::chrono::seconds offset = 0s) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return std::to_string((now + offset).count());
}

// application/x-www-form-urlencoded, as Slack writes it ('+' for a space).
std::string form_encode(const json& fields) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const auto& [key, value] : fields.items()) {
    if (!out.empty()) out += '&';
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    out += key + '=';
    for (char ch : text) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
        out += ch;
      } else if (c == ' ') {
        out += '+';
      } else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
  }
  return out;
}

// ---- a plain HTTP/1.1 client for the bot's listener ----

struct http_ask {
  http::verb method = http::verb::post;
  std::string target = "/slack/events";
  std::string content_type;  // none when empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct http_answer {
  int status = 0;  // 0: no answer (see error)
  std::string body;
  std::chrono::milliseconds took{0};
  std::string error;
};

asio::awaitable<http_answer> exchange(std::uint16_t port, http_ask ask) {
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  http_answer out;
  const auto started = std::chrono::steady_clock::now();
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream{ex};
  stream.expires_after(10s);  // every step below together: a bot that does not answer fails the request
  const asio::ip::tcp::endpoint bot{asio::ip::make_address("127.0.0.1"), port};
  auto [connect_error] = co_await stream.async_connect(bot, use_tuple);
  if (connect_error) {
    out.error = "connect: " + connect_error.message();
    co_return out;
  }
  http::request<http::string_body> req{ask.method, ask.target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::user_agent, "Slackbot 1.0 (+https://api.slack.com/robots)");
  if (!ask.content_type.empty()) req.set(http::field::content_type, ask.content_type);
  for (const auto& [name, value] : ask.headers) req.set(name, value);
  req.body() = ask.body;
  req.prepare_payload();
  auto [write_error, written] = co_await http::async_write(stream, req, use_tuple);
  if (write_error) {
    out.error = "write: " + write_error.message();
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto [read_error, read] = co_await http::async_read(stream, buffer, res, use_tuple);
  if (read_error) {
    out.error = "read: " + read_error.message();
    co_return out;
  }
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  co_return out;
}

http_answer send(std::uint16_t port, http_ask ask) {
  asio::io_context io;
  http_answer answer;
  answer.error = "no answer";
  auto done = [&answer](std::exception_ptr e, http_answer a) {
    if (e) answer.error = "the client threw";
    else answer = std::move(a);
  };
  asio::co_spawn(io, exchange(port, std::move(ask)), done);
  io.run();  // bounded by the stream's expiry
  return answer;
}

// A POST on /slack/events as Slack sends it: X-Slack-Request-Timestamp and X-Slack-Signature over the raw body.
http_ask signed_post(const std::string& content_type, std::string body, const std::string& secret = signing_secret,
                     std::chrono::seconds clock_offset = 0s) {
  http_ask ask;
  ask.content_type = content_type;
  const std::string timestamp = unix_now(clock_offset);
  ask.headers = {{"X-Slack-Request-Timestamp", timestamp}, {"X-Slack-Signature", signature(secret, timestamp, body)}};
  ask.body = std::move(body);
  return ask;
}

http_ask signed_event(const json& event_envelope, const std::string& secret = signing_secret,
                      std::chrono::seconds clock_offset = 0s) {
  // Over HTTP the Events API body is what Socket Mode wraps as the envelope's payload.
  return signed_post("application/json", event_envelope.at("payload").dump(), secret, clock_offset);
}

http_ask signed_slash_command(const std::string& user, const std::string& text) {
  return signed_post("application/x-www-form-urlencoded",
                     form_encode(slash_command_envelope(channel, user, text).at("payload")));
}

std::string describe(const http_answer& a) {
  return "status " + std::to_string(a.status) + " after " + std::to_string(a.took.count()) + "ms, body \"" + a.body +
         "\"" + (a.error.empty() ? "" : ", error " + a.error);
}

// The fake Slack with two people and channel C1 (the bot is a member), and the bot in HTTP mode against it.
struct http_world {
  http_world() : slack(ca), db(dir.file("kintsugi.db")), log(dir.file("kintsugi.stderr")) {
    slack.add_user({"U1", "alice", "Alice Archer", "Europe/Berlin"});
    slack.add_user({"U2", "bob", "Bob Baker", "America/New_York"});
    slack.add_channel(channel, "checkout-war-room", true);
  }

  ~http_world() {
    if (bot) bot->terminate(2000);
  }

  // Writes the configuration, starts the bot and returns once it listens (the port it logged) and has asked
  // auth.test who it is. Every start truncates the log.
  void start() {
    const std::string config = dir.file("kintsugi.json");
    std::ofstream(config) << json{{"database", db},
                                  {"log_level", "debug"},
                                  {"tls", {{"ca_file", ca.ca_file()}}},
                                  {"http", {{"listen", "127.0.0.1:0"}}},
                                  {"slack",
                                   {{"mode", "http"},
                                    {"bot_token", bot_token},
                                    {"signing_secret", signing_secret},
                                    {"api_base_url", slack.api_base_url()}}}}
                                 .dump(2);
    clear_kintsugi_environment();  // the configuration file is the whole truth
    const std::size_t auth_before = slack.count("auth.test");
    bot = std::make_unique<child>(KINTSUGI_BINARY, std::vector<std::string>{"run", "--config", config}, log);
    INFO(diagnosis());
    REQUIRE(eventually([&] { return port_from_log().has_value() || exited(); }));
    REQUIRE(port_from_log().has_value());
    port = *port_from_log();
    REQUIRE(slack.wait_until([&] { return slack.count("auth.test") > auth_before; }));
  }

  // The port in the bot's "http listening on 127.0.0.1:<port>" line.
  std::optional<std::uint16_t> port_from_log() const {
    const std::string err = stderr_text();
    const auto at = err.find(listening_mark);
    if (at == std::string::npos) return std::nullopt;
    std::size_t end = at + listening_mark.size();
    unsigned value = 0;
    bool digits = false;
    for (; end < err.size() && err[end] >= '0' && err[end] <= '9'; ++end, digits = true)
      value = value * 10 + static_cast<unsigned>(err[end] - '0');
    if (!digits || value == 0 || value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
  }

  bool exited() {
    if (!bot) return true;
    if (auto code = bot->wait_for(0)) {
      exit_code = *code;
      bot.reset();
      return true;
    }
    return false;
  }

  http_answer post(http_ask ask) const { return send(port, std::move(ask)); }

  // "/incident start Checkout errors sev2" in C1 by U1: 200 within Slack's 3 s, then the welcome and the topic.
  void declare() {
    const auto answer = post(signed_slash_command("U1", "start Checkout errors sev2"));
    INFO(describe(answer) << "\n" << diagnosis());
    REQUIRE(answer.status == 200);
    CHECK(answer.took < 3000ms);
    REQUIRE(slack.wait_until([&] { return !slack.posts_in(channel).empty() && !slack.topic(channel).empty(); }));
  }

  // SIGTERM: the bot stops at once with exit code 0 and never wrote a secret to its log.
  void stop() {
    REQUIRE(bot);
    const auto asked = std::chrono::steady_clock::now();
    const int code = bot->terminate(20000);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - asked);
    bot.reset();
    INFO(diagnosis());
    CHECK(code == 0);
    CHECK(took < 3000ms);
    check_no_secrets();
  }

  void check_no_secrets() const {
    const std::string err = stderr_text();
    CHECK_FALSE(contains(err, bot_token));
    CHECK_FALSE(contains(err, signing_secret));
    CHECK_FALSE(contains(err, "SECRET"));
  }

  std::string stderr_text() const { return read_text(log); }

  std::string diagnosis() {
    std::string state = "running";
    if (!bot) state = exit_code ? "exited with " + std::to_string(*exit_code) : "stopped";
    else if (exited()) state = "exited with " + std::to_string(*exit_code);
    return "bot " + state + "; its stderr:\n" + stderr_text();
  }

  // The incident's timeline entries of kind "message", from `kintsugi timeline --format json`.
  std::vector<json> timeline_messages(int incident = 1) const {
    auto r = run_kintsugi({"timeline", "--db", db, std::to_string(incident), "--format", "json"});
    INFO("timeline stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    const json exported = json::parse(r.out);
    std::vector<json> out;
    for (const auto& e : exported["entries"])
      if (e["kind"] == "message") out.push_back(e);
    return out;
  }

  tls_test_ca ca;
  fake_slack slack;
  temp_dir dir;
  std::string db;
  std::string log;
  std::unique_ptr<child> bot;
  std::optional<int> exit_code;
  std::uint16_t port = 0;
};

std::size_t posts_containing(const fake_slack& slack, const std::string& channel_id, const std::string& needle) {
  std::size_t n = 0;
  for (const auto& p : slack.posts_in(channel_id))
    if (contains(p.text, needle)) ++n;
  return n;
}

std::string all_posts(const fake_slack& slack) {
  std::string out;
  for (const auto& p : slack.posts()) out += p.channel + ": " + p.text + "\n";
  for (const auto& p : slack.ephemerals()) out += p.channel + " (to " + p.user + "): " + p.text + "\n";
  return out;
}

}  // namespace

TEST_SUITE("slack http e2e") {

TEST_CASE("the test signs requests as Slack does (Slack's published test vector)") {
  const std::string body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar"
      "&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack."
      "com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
      "803a0bc887a14d10d2c447fce8b6703c";
  const json vector = json::parse(read_text(std::string(KINTSUGI_FIXTURES_DIR) + "/slack/slash_commands/request_signing_vector.json"));
  REQUIRE(vector["body"] == body);
  CHECK(signature(vector["signing_secret"].get<std::string>(), vector["x_slack_request_timestamp"].get<std::string>(),
                  body) == vector["x_slack_signature"].get<std::string>());
}

TEST_CASE("url_verification is answered with the challenge, /healthz with 200, and unsigned or stale requests with 401") {
  http_world w;
  w.start();
  INFO(w.diagnosis());

  const json verification{{"token", "Jhj5dZrVaK7ZwHHjRyZWjbDl"},
                          {"challenge", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"},
                          {"type", "url_verification"}};
  const auto challenge = w.post(signed_post("application/json", verification.dump()));
  CHECK(challenge.status == 200);
  CHECK(challenge.body == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");

  http_ask health;
  health.method = http::verb::get;
  health.target = "/healthz";
  const auto healthy = w.post(health);
  CHECK(healthy.status == 200);

  // A command that would declare an incident, and a message, each refused: signed with another secret, signed
  // six minutes ago (outside Slack's five-minute window), or not signed at all.
  const std::string command = form_encode(slash_command_envelope(channel, "U1", "start Not an incident sev1").at("payload"));
  const json message = message_envelope(channel, "U2", "forged message", next_slack_ts());
  std::vector<std::pair<std::string, http_ask>> refused{
      {"wrong secret", signed_post("application/x-www-form-urlencoded", command, "another-secret")},
      {"stale", signed_post("application/x-www-form-urlencoded", command, signing_secret, -360s)},
      {"event, wrong secret", signed_event(message, "another-secret")},
      {"event, stale", signed_event(message, signing_secret, -360s)},
  };
  http_ask unsigned_command;
  unsigned_command.content_type = "application/x-www-form-urlencoded";
  unsigned_command.body = command;
  refused.emplace_back("unsigned", unsigned_command);
  // Signed correctly, but the body was changed on the way.
  http_ask tampered = signed_post("application/x-www-form-urlencoded", command);
  tampered.body += "x";
  refused.emplace_back("tampered", tampered);
  for (auto& [what, ask] : refused) {
    CAPTURE(what);
    const auto answer = w.post(ask);
    INFO(describe(answer));
    CHECK(answer.status == 401);
  }
  CHECK(contains(w.stderr_text(), "slack refused a request"));

  w.stop();
  // Nothing was stored: no incident, no reply, nobody looked up.
  auto r = run_kintsugi({"timeline", "--db", w.db, "1", "--format", "json"});
  CHECK(r.exit_code != 0);
  CHECK(contains(r.err, "no INC-1"));
  CHECK(w.slack.count("chat.postMessage") == 0);
  CHECK(w.slack.count("chat.postEphemeral") == 0);
  CHECK(w.slack.count("users.info") == 0);
}

TEST_CASE("a slash command, a message event and its retry over HTTP: stored once, answered through the Web API") {
  http_world w;
  w.start();
  // Who the bot is, with the bot token.
  auto auth = w.slack.calls("auth.test");
  REQUIRE(auth.size() == 1);
  CHECK(auth[0].token == bot_token);

  w.declare();
  INFO("posts:\n" << all_posts(w.slack) << w.diagnosis());
  CHECK(posts_containing(w.slack, channel, "INC-1") >= 1);
  CHECK(contains(w.slack.topic(channel), "INC-1"));
  CHECK(contains(w.slack.topic(channel), "sev2"));

  // A person's message in the incident channel, then Slack's retry of the very same event (as after a timeout).
  const std::string ts = next_slack_ts();
  const std::string text = "Checkout returns 500 for a third of carts";
  const json message = message_envelope(channel, "U2", text, ts);
  const auto first = w.post(signed_event(message));
  INFO(describe(first));
  CHECK(first.status == 200);
  http_ask retry = signed_event(message);
  retry.headers.emplace_back("X-Slack-Retry-Num", "1");
  retry.headers.emplace_back("X-Slack-Retry-Reason", "http_timeout");
  const auto again = w.post(retry);
  INFO(describe(again));
  CHECK(again.status == 200);

  // A forged copy of another message in the same channel: refused, never captured.
  const auto forged = w.post(signed_event(message_envelope(channel, "U2", "forged in the channel", next_slack_ts()),
                                          "another-secret"));
  CHECK(forged.status == 401);

  // A command answered to the person who ran it.
  const auto roles = w.post(signed_slash_command("U1", "role commander me"));
  CHECK(roles.status == 200);
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "took the commander role") >= 1; }));

  // People seen for the first time are looked up once each (http_mode's stored hook -> adapter::note_stored).
  REQUIRE(w.slack.wait_until([&] { return w.slack.count("users.info") >= 2; }));
  std::multiset<std::string> asked;
  for (const auto& c : w.slack.calls("users.info")) asked.insert(c.body.value("user", ""));
  CHECK(asked == std::multiset<std::string>{"U1", "U2"});
  for (const auto& c : w.slack.calls()) {
    CAPTURE(c.method);
    CHECK(c.token == bot_token);
  }
  CHECK(w.slack.count("apps.connections.open") == 0);  // no Socket Mode here

  w.stop();
  auto messages = w.timeline_messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["text"] == text);
  CHECK(messages[0]["at"] == iso_of_ts(ts));
  CHECK(messages[0]["author"] == "U2");
  CHECK(messages[0]["author_name"] == "Bob Baker");
}

TEST_CASE("after a restart in HTTP mode the bot backfills what was said while it was down") {
  http_world w;
  w.start();
  w.declare();
  const std::string ts_before = next_slack_ts();
  const auto answer = w.post(signed_event(message_envelope(channel, "U1", "before the restart", ts_before)));
  CHECK(answer.status == 200);
  w.stop();

  // Said while the bot was down: in the channel's history only (Slack gave up delivering it).
  const std::string ts_gap = next_slack_ts();
  w.slack.add_history(channel, history_message("U2", "while the bot was down", ts_gap));
  const std::size_t history_before = w.slack.count("conversations.history");
  w.start();
  INFO(w.diagnosis());
  REQUIRE(eventually([&] { return contains(w.stderr_text(), "slack backfilled channel=C1"); }));
  auto history = w.slack.calls("conversations.history");
  REQUIRE(history.size() > history_before);
  CHECK(history[history_before].body["oldest"] == ts_before);  // from the last message captured
  w.stop();

  auto messages = w.timeline_messages();
  REQUIRE(messages.size() == 2);
  CHECK(messages[0]["text"] == "before the restart");
  CHECK(messages[1]["text"] == "while the bot was down");
  CHECK(messages[1]["at"] == iso_of_ts(ts_gap));
}

TEST_CASE("SIGTERM while the bot is sending: each reply goes out exactly once, across a restart") {
  http_world w;
  w.start();
  w.declare();
  // Stopped as soon as the command is stored, while its reply is on its way out (or about to be).
  const auto answer = w.post(signed_slash_command("U1", "role commander me"));
  CHECK(answer.status == 200);
  w.stop();
  w.start();
  // The outbox goes out in order: once a later reply is there, whatever was left over went out before it.
  const auto later = w.post(signed_slash_command("U2", "role scribe me"));
  CHECK(later.status == 200);
  INFO("posts:\n" << all_posts(w.slack) << w.diagnosis());
  REQUIRE(w.slack.wait_until([&] { return posts_containing(w.slack, channel, "took the scribe role") >= 1; }));
  w.stop();
  CHECK(posts_containing(w.slack, channel, "took the commander role") == 1);
  CHECK(posts_containing(w.slack, channel, "took the scribe role") == 1);
  CHECK(posts_containing(w.slack, channel, "INC-1: Checkout errors") == 1);
}

TEST_CASE("a listener that cannot bind: a clear message and a non-zero exit") {
  http_world w;
  w.start();
  // A second bot on the first one's port.
  const std::string config = w.dir.file("second.json");
  std::ofstream(config) << json{{"database", w.dir.file("second.db")},
                                {"tls", {{"ca_file", w.ca.ca_file()}}},
                                {"http", {{"listen", "127.0.0.1:" + std::to_string(w.port)}}},
                                {"slack",
                                 {{"mode", "http"},
                                  {"bot_token", bot_token},
                                  {"signing_secret", signing_secret},
                                  {"api_base_url", w.slack.api_base_url()}}}}
                               .dump(2);
  auto r = run_kintsugi({"run", "--config", config});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "cannot listen on 127.0.0.1:" + std::to_string(w.port)));
  CHECK(contains(r.err, "http.listen"));
  CHECK_FALSE(contains(r.err, signing_secret));
  w.stop();
}

TEST_CASE("HTTP mode without a signing secret is refused by the configuration, naming the key and the variable") {
  temp_dir dir;
  const std::string config = dir.file("kintsugi.json");
  std::ofstream(config) << json{{"database", dir.file("kintsugi.db")},
                                {"slack", {{"mode", "http"}, {"bot_token", bot_token}}}}
                               .dump(2);
  ::unsetenv("SLACK_SIGNING_SECRET");
  auto r = run_kintsugi({"run", "--config", config});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "slack.signing_secret"));
  CHECK(contains(r.err, "SLACK_SIGNING_SECRET"));
}

}  // TEST_SUITE
