// The real `kintsugi run --config F` against a fake Mattermost (tests/support/fake_mattermost) over TLS on
// 127.0.0.1: websocket events in, REST v4 out, the slash command and buttons posted to the bot's own listener, and
// the timeline in the database afterwards.
#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "e2e_support.hpp"
#include "fake_mattermost.hpp"
#include "fake_slack.hpp"
#include "tls_test_ca.hpp"

using namespace kintsugi::test;
using namespace std::chrono_literals;

namespace {

const std::string bot_token = "mm-bot-TEST-SECRET";
const std::string slash_token = "slash-TEST-SECRET";

// A port nobody listens on right now, for the bot's listener: Mattermost must be told the callback URL (with the
// port) before the bot starts.
std::uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a{io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return a.local_endpoint().port();
}

struct plain_answer {
  unsigned status = 0;
  std::string body;
};

// POSTs `body` as JSON to the bot's listener on 127.0.0.1:`port` `path`, as someone other than Mattermost would.
plain_answer post_json(std::uint16_t port, const std::string& path, const std::string& body) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket{io};
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return {res.result_int(), res.body()};
}

// The fake Mattermost with two people and a channel the bot is in, and the bot run against it.
struct mm_world {
  mm_world() : mm(ca), db(dir.file("kintsugi.db")), log(dir.file("kintsugi.stderr")), port(free_port()) {
    mm_user a;
    a.username = "alice";
    a.first_name = "Alice";
    a.last_name = "Archer";
    a.automatic_timezone = "Europe/Berlin";
    alice = mm.add_user(a);
    mm_user b;
    b.username = "bob";
    b.nickname = "Bobby";
    bob = mm.add_user(b);
    channel = mm.add_channel(mm.team_id(), "checkout-war-room", "Checkout war room");
    for (const auto& who : {alice, bob, mm.bot_id()}) mm.add_member(channel, who);
  }

  ~mm_world() {
    if (bot) bot->terminate(2000);
  }

  std::string listener() const { return "http://127.0.0.1:" + std::to_string(port); }

  void start(const std::string& token = bot_token) {
    const std::string config = dir.file("kintsugi.json");
    std::ofstream(config) << json{{"database", db},
                                  {"log_level", "debug"},
                                  {"tls", {{"ca_file", ca.ca_file()}}},
                                  {"http", {{"listen", "127.0.0.1:" + std::to_string(port)}}},
                                  {"mattermost",
                                   {{"url", mm.base_url()},
                                    {"token", token},
                                    {"slash_token", slash_token},
                                    {"callback_url", listener()}}}}
                                 .dump(2);
    clear_kintsugi_environment();
    bot = std::make_unique<child>(KINTSUGI_BINARY, std::vector<std::string>{"run", "--config", config}, log);
  }

  // Starts the bot and waits until it is connected and its listener answers.
  void start_connected() {
    start();
    INFO(diagnosis());
    REQUIRE(mm.wait_connected(1));
    REQUIRE(mm.wait_until([&] { return mm.hellos_sent() >= 1; }));
    REQUIRE(eventually([&] {
      const auto text = stderr_text();
      return contains(text, "http listening on 127.0.0.1:") && contains(text, "mattermost connected");
    }));
  }

  // "/incident <text>" typed by `user` in `in`; requires the listener's 200.
  mm_http_result command(const std::string& user, const std::string& text, const std::string& in = {}) {
    auto r = mm.send_command(listener(), slash_token, in.empty() ? channel : in, user, text);
    INFO(text << " -> " << r.status << " " << r.body << " " << r.error << "\n" << diagnosis());
    REQUIRE(r.status == 200);
    return r;
  }

  // The bot's posts in `ch` (not deleted) whose message contains `needle`.
  std::vector<mm_post> bot_posts(const std::string& ch, const std::string& needle) const {
    std::vector<mm_post> out;
    for (const auto& p : mm.posts_in(ch))
      if (p.user_id == mm.bot_id() && p.delete_at == 0 && contains(p.message, needle)) out.push_back(p);
    return out;
  }

  std::size_t ephemerals_for(const std::string& user, const std::string& needle) const {
    std::size_t n = 0;
    for (const auto& e : mm.ephemerals())
      if (e.user_id == user && contains(e.message, needle)) ++n;
    return n;
  }

  // "/incident start Checkout errors sev2" by alice; waits for the welcome post and the header.
  void declare() {
    command(alice, "start Checkout errors sev2");
    INFO(diagnosis());
    REQUIRE(mm.wait_until([&] {
      return !bot_posts(channel, "INC-1").empty() && contains(mm.channel(channel).value("header", ""), "INC-1");
    }));
  }

  // Starts the bot, declares the incident and has alice say `first`; returns once it is on the timeline.
  void running_incident_with(const std::string& first) {
    start_connected();
    declare();
    mm.post_as_user(channel, alice, first);
    REQUIRE(messages_once(1).size() == 1);
  }

  std::vector<json> timeline(const std::string& kind, int incident = 1) const {
    auto r = run_kintsugi({"timeline", "--db", db, std::to_string(incident), "--format", "json"});
    INFO("timeline stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<json> out;
    const json exported = json::parse(r.out);  // (a loop over a member of a temporary would dangle)
    for (const auto& e : exported["entries"])
      if (e["kind"] == kind) out.push_back(e);
    return out;
  }

  // Waits until the incident's timeline has `n` messages.
  std::vector<json> messages_once(std::size_t n) const {
    std::vector<json> got;
    const bool arrived = eventually([&] {
      got = timeline("message");
      return got.size() >= n;
    });
    if (!arrived) {
      std::string written;
      for (const auto& f : mm.frames_written()) written += std::to_string(f.seq) + " " + f.event + " " + f.text.substr(0, 300) + "\n";
      MESSAGE("timeline messages: " << got.size() << " of " << n << "; frames written:\n" << written << "bot log:\n" << stderr_text());
    }
    return got;
  }

  void stop() {
    REQUIRE(bot);
    const int code = bot->terminate(20000);
    bot.reset();
    INFO(diagnosis());
    CHECK(code == 0);
    const std::string err = stderr_text();
    CHECK_FALSE(contains(err, bot_token));
    CHECK_FALSE(contains(err, slash_token));
    CHECK_FALSE(contains(err, "TEST-SECRET"));
  }

  std::string stderr_text() const { return read_text(log); }

  std::string diagnosis() {
    std::string state = "running";
    if (!bot) state = "stopped";
    else if (auto code = bot->wait_for(0)) state = "exited with " + std::to_string(*code), bot.reset();
    return "bot " + state + "; its stderr:\n" + stderr_text();
  }

  tls_test_ca ca;
  fake_mattermost mm;
  temp_dir dir;
  std::string db;
  std::string log;
  std::uint16_t port;
  std::string alice, bob, channel;
  std::unique_ptr<child> bot;
};

std::vector<std::string> texts_of(const std::vector<json>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.value("text", ""));
  return out;
}

}  // namespace

TEST_CASE("a whole incident from Mattermost: slash commands, posts, edit, deletion, 📌, DM, postmortem") {
  mm_world w;
  w.start_connected();
  w.declare();
  // The welcome is pinned; the header carries severity, status and roles.
  const auto welcome = w.bot_posts(w.channel, "INC-1: Checkout errors");
  REQUIRE_FALSE(welcome.empty());
  CHECK(w.mm.count("POST", "/api/v4/posts/" + welcome.front().id + "/pin") == 1);
  CHECK(w.mm.post(welcome.front().id)->is_pinned);
  CHECK(contains(w.mm.channel(w.channel).value("header", ""), "sev2"));

  w.command(w.alice, "role commander me");
  INFO("header: " << w.mm.channel(w.channel).value("header", ""));
  REQUIRE(w.mm.wait_until([&] { return contains(w.mm.channel(w.channel).value("header", ""), "commander: @alice"); }));

  const auto p1 = w.mm.post_as_user(w.channel, w.alice, "checkout returns 502 since 10:02");
  const auto p2 = w.mm.post_as_user(w.channel, w.bob, "rolled back the deploy");
  const auto p3 = w.mm.post_as_user(w.channel, w.bob, "ignore this, wrong channel");
  const auto reply = w.mm.post_as_user(w.channel, w.alice, "errors are dropping", p2);
  w.mm.edit_post(p2, "rolled back deploy 4821");
  w.mm.delete_post(p3);
  w.mm.add_reaction(w.alice, p1, "pushpin");

  w.command(w.alice, "action add Add a canary for checkout @bob due:+3d");
  // bob's reminder goes by DM: a direct channel of the bot and bob, and a post in it.
  INFO(w.diagnosis());
  REQUIRE(w.mm.wait_until([&] {
    const auto dm = w.mm.direct_channel(w.mm.bot_id(), w.bob);
    return !w.bot_posts(dm, "Add a canary for checkout").empty();
  }));
  // Errors and help go to the person who typed, ephemeral.
  w.command(w.bob, "role astronaut");
  REQUIRE(w.mm.wait_until([&] { return w.ephemerals_for(w.bob, "commander") >= 1; }));

  w.command(w.alice, "resolve");
  REQUIRE(w.mm.wait_until([&] { return !w.bot_posts(w.channel, "is resolved").empty(); }));
  w.command(w.alice, "postmortem");
  REQUIRE(w.mm.wait_until([&] { return !w.bot_posts(w.channel, "# INC-1").empty(); }));
  // The postmortem names people by their Mattermost names, never by ids.
  const auto doc = w.bot_posts(w.channel, "# INC-1").front().message;
  CHECK_FALSE(contains(doc, "<@"));
  CHECK_FALSE(contains(doc, "mm:"));
  CHECK(contains(doc, "Checkout errors"));

  auto messages = w.messages_once(4);
  w.stop();
  messages = w.timeline("message");
  std::string dumped;
  for (const auto& m : messages) dumped += m.dump() + "\n";
  INFO("timeline messages:\n" << dumped);
  REQUIRE(messages.size() == 4);
  CHECK(texts_of(messages) == std::vector<std::string>{"checkout returns 502 since 10:02", "rolled back deploy 4821",
                                                       "ignore this, wrong channel", "errors are dropping"});
  CHECK(messages[0]["key"] == true);  // the 📌
  CHECK(messages[0]["author_name"] == "Alice Archer");
  CHECK(messages[1]["edited"] == true);
  CHECK(messages[1]["author_name"] == "Bobby");
  CHECK(messages[2]["deleted"] == true);
  // Each person looked up once.
  CHECK(w.mm.count("GET", "/api/v4/users/" + w.alice) == 1);
  // bob was named in a command: found by his username unless he was known already, and by id at most once.
  CHECK(w.mm.count("GET", "/api/v4/users/" + w.bob) <= 1);
  CHECK(w.mm.count("GET", "/api/v4/users/username/bob") <= 1);
  // Every REST call carried the bot token.
  for (const auto& c : w.mm.calls()) {
    CAPTURE(c.path);
    CHECK(c.authorized);
  }
  (void)reply;
}

TEST_CASE("Mattermost buttons: a role button on the welcome, clicked, takes the role, and a forged context is refused") {
  mm_world w;
  w.start_connected();
  w.declare();
  const auto welcome = w.bot_posts(w.channel, "INC-1: Checkout errors").front();
  const auto& actions = welcome.props["attachments"][0]["actions"];
  REQUIRE(actions.is_array());
  REQUIRE_FALSE(actions.empty());
  std::size_t commander = actions.size();
  for (std::size_t i = 0; i < actions.size(); ++i)
    if (contains(actions[i]["integration"]["context"].value("command", ""), "role commander")) commander = i;
  REQUIRE(commander < actions.size());
  CHECK(actions[commander]["integration"]["url"] == w.listener() + "/mattermost/action");

  auto clicked = w.mm.click_button(welcome.id, commander, w.bob);
  CHECK(clicked.status == 200);
  REQUIRE(w.mm.wait_until([&] { return contains(w.mm.channel(w.channel).value("header", ""), "commander: @bob"); }));

  // A request with a context the bot did not sign: 401, nothing stored.
  const auto before = w.timeline("system").size();
  json body{{"user_id", w.alice}, {"channel_id", w.channel}, {"post_id", welcome.id}, {"trigger_id", "t-forged"},
            {"type", "button"}, {"context", {{"command", "role commander @alice"}, {"sig", std::string(64, 'a')}}}};
  auto r = post_json(w.port, "/mattermost/action", body.dump());
  CHECK(r.status == 401);
  CHECK(w.timeline("system").size() == before);
  CHECK(contains(w.mm.channel(w.channel).value("header", ""), "commander: @bob"));
  w.stop();
}

TEST_CASE("a Mattermost slash command with the wrong token gets 401 and nothing is stored") {
  mm_world w;
  w.start_connected();
  auto r = w.mm.send_command(w.listener(), "not-the-token", w.channel, w.alice, "start Checkout errors sev2");
  CHECK(r.status == 401);
  auto listed = run_kintsugi({"stats", "--db", w.db, "--format", "json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(json::parse(listed.out).value("incidents", -1) == 0);
  CHECK(w.bot_posts(w.channel, "INC-1").empty());
  // The right token still works.
  w.declare();
  w.stop();
}

TEST_CASE("a dropped Mattermost socket: reconnect with the sequence number, the missed events replayed, each once") {
  mm_world w;
  w.running_incident_with("A: before the drop");
  const auto hellos = w.mm.hellos_sent();
  w.mm.drop_connections();
  w.mm.post_as_user(w.channel, w.bob, "B: during the gap");
  w.mm.post_as_user(w.channel, w.alice, "C: still during the gap");
  INFO(w.diagnosis());
  REQUIRE(w.mm.wait_until([&] { return w.mm.replays() >= 1 && w.mm.live_connections() == 1; }, 20s));
  CHECK(w.mm.hellos_sent() == hellos);  // resumed: no new hello
  bool asked_to_resume = false;
  for (const auto& c : w.mm.frames_written())
    if (c.seq > 0) asked_to_resume = true;
  CHECK(asked_to_resume);
  w.mm.post_as_user(w.channel, w.bob, "D: after the reconnect");
  auto messages = w.messages_once(4);
  w.stop();
  messages = w.timeline("message");
  CHECK(texts_of(messages) == std::vector<std::string>{"A: before the drop", "B: during the gap",
                                                       "C: still during the gap", "D: after the reconnect"});
}

TEST_CASE("a Mattermost restart: no replay, a new hello, and the gap resynced over REST, each post once") {
  mm_world w;
  w.running_incident_with("A: before the restart");
  const auto hellos = w.mm.hellos_sent();
  w.mm.restart();
  w.mm.post_as_user(w.channel, w.bob, "B: while the server was down");
  const auto edited = w.mm.post_as_user(w.channel, w.alice, "C: typo");
  w.mm.edit_post(edited, "C: while down, edited");
  INFO(w.diagnosis());
  REQUIRE(w.mm.wait_until([&] { return w.mm.hellos_sent() > hellos && w.mm.live_connections() == 1; }, 20s));
  REQUIRE(w.mm.wait_until([&] { return w.mm.count("GET", "/api/v4/channels/" + w.channel + "/posts") >= 1; }));
  auto messages = w.messages_once(3);
  w.mm.post_as_user(w.channel, w.bob, "D: after");
  messages = w.messages_once(4);
  w.stop();
  messages = w.timeline("message");
  CHECK(texts_of(messages) == std::vector<std::string>{"A: before the restart", "B: while the server was down",
                                                       "C: while down, edited", "D: after"});
  bool since_asked = false;
  for (const auto& c : w.mm.calls("GET", "/api/v4/channels/" + w.channel + "/posts"))
    if (c.params.contains("since")) since_asked = true;
  CHECK(since_asked);
}

TEST_CASE("a Mattermost resync cut short, then a crash: the restarted bot resyncs from where the capture stopped") {
  mm_world w;
  w.running_incident_with("A: before the restart");
  const auto hellos = w.mm.hellos_sent();
  w.mm.fail_next("GET /api/v4/channels/*", 403);  // the resync cannot list the channel
  w.mm.restart();
  w.mm.post_as_user(w.channel, w.bob, "B: while the server was down");
  w.mm.post_as_user(w.channel, w.alice, "C: still down");
  INFO(w.diagnosis());
  REQUIRE(w.mm.wait_until([&] { return w.mm.hellos_sent() > hellos && w.mm.live_connections() == 1; }, 20s));
  REQUIRE(w.mm.wait_until([&] { return w.mm.count("GET", "/api/v4/channels/" + w.channel + "/posts") >= 1; }));
  CHECK(eventually([&] { return contains(w.stderr_text(), "is incomplete; the next session picks it up again"); }));
  // Heard live on the new session and stored: now the newest post captured in the channel.
  w.mm.post_as_user(w.channel, w.bob, "D: after");
  REQUIRE(w.messages_once(2).size() == 2);
  // The bot dies before anything filled the gap.
  w.bot->kill_hard();
  w.bot.reset();
  w.start_connected();
  const auto messages = w.messages_once(4);
  w.stop();
  CHECK(texts_of(w.timeline("message")) == std::vector<std::string>{"A: before the restart",
                                                                     "B: while the server was down", "C: still down",
                                                                     "D: after"});
  (void)messages;
}

TEST_CASE("malformed Mattermost frames and every websocket fixture: logged or handled, the connection kept") {
  mm_world w;
  w.start_connected();
  w.declare();
  const auto sockets = w.mm.sockets_opened();
  w.mm.push_raw("{\"event\":");
  w.mm.push_raw("[]");
  w.mm.push_raw("{\"event\":\"posted\",\"data\":{\"post\":\"{not json\"},\"broadcast\":{}}");
  for (const auto& file : std::filesystem::directory_iterator(std::string{KINTSUGI_FIXTURES_DIR} + "/mattermost/websocket")) {
    auto frame = json::parse(read_text(file.path().string()), nullptr, false);
    // (a hello mid-stream would be a new session, which a real server never sends: the codec's tests read that one)
    if (frame.is_discarded() || frame.value("event", "") == "hello") continue;
    frame.erase("seq");  // the fake's sequence is the live one
    w.mm.push_raw(frame.dump());
  }
  w.mm.post_as_user(w.channel, w.bob, "still listening");
  auto messages = w.messages_once(1);
  w.stop();
  CHECK(texts_of(w.timeline("message")) == std::vector<std::string>{"still listening"});
  CHECK(w.mm.sockets_opened() == sockets);
  CHECK(contains(w.stderr_text(), "unreadable"));
}

TEST_CASE("a 429 on POST /api/v4/posts: the post arrives once, after the wait") {
  mm_world w;
  w.start_connected();
  w.mm.rate_limit("POST /api/v4/posts", 2, 1);
  w.declare();
  CHECK(w.bot_posts(w.channel, "INC-1: Checkout errors").size() == 1);
  std::size_t limited = 0;
  for (const auto& c : w.mm.calls("POST", "/api/v4/posts"))
    if (c.status == 429) ++limited;
  CHECK(limited == 2);
  w.stop();
}

TEST_CASE("Slack and Mattermost in one bot: each incident runs on its own platform, and each says only its own") {
  mm_world w;
  fake_slack slack{w.ca};
  slack.add_user({"U1", "carol", "Carol Chen", "UTC"});
  slack.add_channel("C1", "payments-war-room", true);
  {
    const std::string config = w.dir.file("kintsugi.json");
    std::ofstream(config) << json{{"database", w.db},
                                  {"log_level", "debug"},
                                  {"tls", {{"ca_file", w.ca.ca_file()}}},
                                  {"http", {{"listen", "127.0.0.1:" + std::to_string(w.port)}}},
                                  {"slack",
                                   {{"app_token", slack.settings().app_token},
                                    {"bot_token", slack.settings().bot_token},
                                    {"api_base_url", slack.api_base_url()}}},
                                  {"mattermost",
                                   {{"url", w.mm.base_url()},
                                    {"token", bot_token},
                                    {"slash_token", slash_token},
                                    {"callback_url", w.listener()}}}}
                                 .dump(2);
    clear_kintsugi_environment();
    w.bot = std::make_unique<child>(KINTSUGI_BINARY, std::vector<std::string>{"run", "--config", config}, w.log);
  }
  INFO(w.diagnosis());
  REQUIRE(slack.wait_until([&] { return slack.hellos_sent() >= 1; }));
  REQUIRE(w.mm.wait_connected(1));
  REQUIRE(eventually([&] { return contains(w.stderr_text(), "http listening on 127.0.0.1:"); }));

  // INC-1 from Slack, INC-2 from Mattermost.
  const auto slack_start = slack.push_envelope(slash_command_envelope("C1", "U1", "start Payments failing sev1"));
  REQUIRE(slack.wait_until([&] { return slack.acks_of(slack_start) == 1 && !slack.topic("C1").empty(); }));
  w.command(w.alice, "start Checkout errors sev2");
  REQUIRE(w.mm.wait_until([&] { return !w.bot_posts(w.channel, "INC-2").empty(); }));

  const std::string ts = next_slack_ts();
  slack.add_history("C1", history_message("U1", "card auth times out", ts));
  const auto said = slack.push_envelope(message_envelope("C1", "U1", "card auth times out", ts));
  REQUIRE(slack.wait_until([&] { return slack.acks_of(said) == 1; }));
  w.mm.post_as_user(w.channel, w.bob, "checkout 502s");
  REQUIRE(eventually([&] { return w.timeline("message", 2).size() == 1; }));

  w.command(w.alice, "role commander me");
  REQUIRE(w.mm.wait_until([&] { return contains(w.mm.channel(w.channel).value("header", ""), "commander: @alice"); }));
  w.stop();

  // Each platform heard about its own incident only.
  for (const auto& p : slack.posts()) {
    CAPTURE(p.text);
    CHECK(p.channel == "C1");
    CHECK_FALSE(contains(p.text, "INC-2"));
  }
  CHECK(contains(slack.topic("C1"), "INC-1"));
  for (const auto& p : w.mm.posts_by(w.mm.bot_id())) {
    CAPTURE(p.message);
    CHECK_FALSE(contains(p.message, "INC-1"));
  }
  CHECK(texts_of(w.timeline("message", 1)) == std::vector<std::string>{"card auth times out"});
  CHECK(texts_of(w.timeline("message", 2)) == std::vector<std::string>{"checkout 502s"});
}

TEST_CASE("Mattermost unreachable: the bot keeps trying, says so, and still stops at once on SIGTERM") {
  temp_dir dir;
  const std::string config = dir.file("kintsugi.json");
  const std::string log = dir.file("kintsugi.stderr");
  std::ofstream(config) << json{{"database", dir.file("kintsugi.db")},
                                {"http", {{"listen", "127.0.0.1:0"}}},
                                {"mattermost",
                                 {{"url", "http://127.0.0.1:" + std::to_string(free_port())},
                                  {"token", bot_token},
                                  {"slash_token", slash_token}}}}
                               .dump(2);
  clear_kintsugi_environment();
  child bot{KINTSUGI_BINARY, {"run", "--config", config}, log};
  REQUIRE(eventually([&] { return contains(read_text(log), "did not answer users/me"); }));
  const auto before = std::chrono::steady_clock::now();
  CHECK(bot.terminate(5000) == 0);
  CHECK(std::chrono::steady_clock::now() - before < 2s);
  CHECK_FALSE(contains(read_text(log), bot_token));
}
