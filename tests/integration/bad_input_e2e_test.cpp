// Bad input through the real binary (`kintsugi console --jsonl`): lines it cannot take come back as error lines
// with the right number, commands it cannot do come back to the user as ephemeral messages, the process goes
// on and exits 0, and nothing of it reaches the incident's record.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "e2e_support.hpp"

using namespace kintsugi::test;
using namespace std::string_literals;

namespace {

const std::string ch = "inc-db";

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l;
  return s;
}

std::string message_line(const std::string& id, const std::string& channel, const std::string& text) {
  return json{{"type", "message"}, {"id", id}, {"user", "alice"}, {"channel", channel}, {"text", text}}.dump() + "\n";
}

// A small valid incident: start, a commander, a message, a why, an action.
std::vector<std::string> setup_script() {
  return {
      say("s01", "alice", ch, "/incident start Orders database refuses writes sev2", "2026-11-20T10:00:00Z"),
      say("s02", "bob", ch, "/incident role commander me", "2026-11-20T10:01:00Z"),
      say("s03", "carol", ch, "primary disk is full", "2026-11-20T10:02:00Z"),
      say("s04", "bob", ch, "/incident why WAL archiving failed silently", "2026-11-20T10:03:00Z"),
      say("s05", "bob", ch, "/incident action add Alert on WAL archive failures @carol due:2026-11-27 kind:detection",
          "2026-11-20T10:04:00Z"),
  };
}

enum class expect { error, ephemeral, nothing };

struct step {
  std::string line;    // one input line, with its newline
  expect what;
  std::string needle;  // in the error's message or the ephemeral's text
  std::string name;    // for failure messages
};

// What the incident's record looks like from outside.
struct snapshot {
  json timeline;
  json postmortem;
};

snapshot take_snapshot(const std::string& db) {
  auto t = run_kintsugi({"timeline", "--db", db, "1", "--format", "json"});
  REQUIRE(t.exit_code == 0);
  auto p = run_kintsugi({"postmortem", "--db", db, "1", "--format", "json"});
  REQUIRE(p.exit_code == 0);
  return {json::parse(t.out), json::parse(p.out)};
}

// After every step a `/incident roles`, which answers with a post and changes nothing: it shows the line after a
// bad one is still handled, and in order.
std::string probe(std::size_t n) { return message_line("probe-" + std::to_string(n), ch, "/incident roles"); }

// Runs the steps, each followed by a probe, and checks the output line by line.
void run_steps(const std::string& db, const std::vector<step>& steps) {
  // The first line of a run needs a time; later lines reuse it.
  std::string input = say("probe-start", "alice", ch, "/incident roles", "2026-11-20T11:00:00Z");
  for (std::size_t k = 0; k < steps.size(); ++k) input += steps[k].line + probe(k);
  auto out = console_jsonl(db, input);

  std::size_t at = 0;
  auto next = [&]() -> const json& {
    REQUIRE(at < out.size());
    return out[at++];
  };
  auto check_probe = [&](const std::string& after) {
    CAPTURE(after);
    const json& p = next();
    CHECK(p["type"] == "post");
    CHECK(p["channel"] == ch);
    CHECK(p.value("text", "").find("INC-1 roles") != std::string::npos);
  };
  check_probe("the first line");
  for (std::size_t k = 0; k < steps.size(); ++k) {
    const step& s = steps[k];
    const std::size_t line_number = 2 * k + 2;  // line 1 is the first probe
    CAPTURE(s.name);
    CAPTURE(line_number);
    switch (s.what) {
      case expect::error: {
        const json& e = next();
        CAPTURE(e.dump());
        CHECK(e["type"] == "error");
        CHECK(e["line"] == line_number);
        CHECK(e.value("message", "").find(s.needle) != std::string::npos);
        break;
      }
      case expect::ephemeral: {
        const json& e = next();
        CAPTURE(e.dump());
        CHECK(e["type"] == "ephemeral");
        CHECK(e["user"] == "alice");
        CHECK(e.value("text", "").find(s.needle) != std::string::npos);
        break;
      }
      case expect::nothing: break;
    }
    check_probe(s.name);
  }
  CHECK(at == out.size());
  CHECK(of_type(out, "dm").empty());
  CHECK(of_type(out, "topic").empty());
  CHECK(of_type(out, "create_channel").empty());
}

std::string with_invalid_utf8() {
  return std::string{R"({"type":"message","id":"u8","user":"alice","channel":"inc-db","text":"bad )"} + "\xff\xfe\xc3" +
         R"( bytes"})" + "\n";
}

std::vector<step> undecodable_lines() {
  const std::string garbage = "\x01\x02garbage\x00\xff\xfe\x7f{{"s;
  std::string two_mb = message_line("big2", ch, std::string(std::size_t{2} << 20, 'y'));
  return {
      {garbage + "\n", expect::error, "not valid JSON", "garbage bytes"},
      {R"({"type":"message","id":"t1","user":"alice","chan)" "\n", expect::error, "not valid JSON", "truncated JSON"},
      {"[]\n", expect::error, "expected a JSON object", "an array"},
      {"{}\n", expect::error, "\"type\" is missing", "an empty object"},
      {R"({"type":"shout","id":"x1","text":"hello"})" "\n", expect::error, "unknown type \"shout\"", "unknown type"},
      {R"({"type":"edit","text":"a new text","ts":"2026-11-20T11:00:00Z"})" "\n", expect::error, "\"id\" is missing",
       "edit without id"},
      {json{{"type", "message"}, {"id", "y1"}, {"user", "alice"}, {"channel", ch}, {"text", "yesterday's news"}, {"ts", "yesterday"}}
               .dump() + "\n",
       expect::error, "\"ts\" must be an ISO 8601 time", "ts yesterday"},
      {two_mb, expect::error, "longer than 1 MiB", "a 2 MB line"},
      {with_invalid_utf8(), expect::error, "not valid JSON", "invalid UTF-8 in text"},
      {R"({"type":"message","id":7,"user":"alice","channel":"inc-db","text":"x"})" "\n", expect::error,
       "\"id\" must be a string", "a number for the id"},
      {R"({"type":"message","id":"n1","user":42,"channel":"inc-db","text":"x"})" "\n", expect::error,
       "\"user\" must be a string", "a number for the user"},
      {R"({"type":"reaction","id":"s03","user":"bob"})" "\n", expect::error, "\"emoji\" is missing", "reaction without emoji"},
      {R"({"type":"tick"})" "\n", expect::error, "\"ts\" is missing", "tick without ts"},
  };
}

std::vector<step> refused_commands() {
  return {
      {message_line("k1", ch, "/incident strat Something else"), expect::ephemeral, "Did you mean `start`?",
       "unknown subcommand"},
      {message_line("k2", ch, "/incident sev"), expect::ephemeral, "Which severity?", "missing severity"},
      {message_line("k3", ch, "/incident why"), expect::ephemeral, "Add the text after `why`", "missing text"},
      {message_line("k4", ch, "/incident action add Fix it @bob due:2026-02-30"), expect::ephemeral,
       "`due:2026-02-30` is not a real date", "bad date"},
      {message_line("k5", ch, "/incident sev sev5"), expect::ephemeral, "`sev5` is not a severity", "unknown severity"},
      {message_line("k6", ch, "/incident action done 99"), expect::ephemeral, "There is no action #99", "no such action"},
      {message_line("k7", "random", "/incident note the cache is cold"), expect::ephemeral,
       "There is no incident in this channel", "no incident here"},
      {message_line("k8", ch, "/incident review 2020-01-01 10:00"), expect::ephemeral, "has already passed",
       "review in the past"},
      {message_line("k9", ch, "/incident start Another outage sev1"), expect::ephemeral, "is still open in this channel",
       "a second start"},
      {message_line("k10", ch, "/deploy production"), expect::ephemeral, "I only know `/incident`", "not our command"},
  };
}

// Lines that are fine to take and change nothing of INC-1.
std::vector<step> harmless_lines() {
  return {
      {"   \t\n", expect::nothing, "", "a blank line (still counted)"},
      {message_line("h1", "random", std::string(500 * 1024, 'z')), expect::nothing, "", "500 KB of text elsewhere"},
      {message_line("h2", "random", "nul \0 inside"s), expect::nothing, "", "\\u0000 in a text elsewhere"},
      {R"({"type":"edit","id":"no-such-message","text":"x"})" "\r\n", expect::nothing, "", "an edit of an unknown message, CRLF"},
      {R"({"type":"delete","id":"no-such-message"})" "\n", expect::nothing, "", "a deletion of an unknown message"},
      {R"({"type":"reaction","id":"s03","user":"bob","emoji":"thumbsup"})" "\n", expect::nothing, "", "a reaction that is not a pin"},
      {say("s03", "carol", ch, "primary disk is full", "2026-11-20T10:02:00Z"), expect::nothing, "", "a redelivered message"},
      {say("s05", "bob", ch, "/incident action add Alert on WAL archive failures @carol due:2026-11-27 kind:detection",
           "2026-11-20T10:04:00Z"),
       expect::nothing, "", "a redelivered command"},
  };
}

}  // namespace

TEST_CASE("lines that cannot be taken are error lines with their number, and the lines after still run") {
  temp_dir dir;
  auto db = dir.file("k.db");
  console_jsonl(db, join(setup_script()));
  run_steps(db, undecodable_lines());
}

TEST_CASE("commands that cannot be done come back to the user, ephemeral") {
  temp_dir dir;
  auto db = dir.file("k.db");
  console_jsonl(db, join(setup_script()));
  run_steps(db, refused_commands());
}

TEST_CASE("after every kind of bad input, the incident's record is unchanged") {
  temp_dir dir;
  auto db = dir.file("k.db");
  auto setup = console_jsonl(db, join(setup_script()));
  REQUIRE(of_type(setup, "error").empty());
  auto before = take_snapshot(db);
  REQUIRE(before.timeline["entries"].size() > 3);
  REQUIRE(before.postmortem["actions"].size() == 1);

  std::vector<step> all;
  for (auto part : {undecodable_lines(), refused_commands(), harmless_lines()}) all.insert(all.end(), part.begin(), part.end());
  run_steps(db, all);

  auto after = take_snapshot(db);
  CHECK(after.timeline == before.timeline);
  CHECK(after.postmortem == before.postmortem);
  // And the process that follows still works on the same database.
  auto more = console_jsonl(db, say("s06", "carol", ch, "disk freed, writes resume", "2026-11-20T12:00:00Z"));
  CHECK(more.empty());
  CHECK(take_snapshot(db).timeline["entries"].size() == before.timeline["entries"].size() + 1);
}

TEST_CASE("a NUL escape and a long text in the incident channel are captured as sent") {
  temp_dir dir;
  auto db = dir.file("k.db");
  console_jsonl(db, join(setup_script()));
  const std::string nul = "before \0 after"s;
  const std::string long_text = "start " + std::string(500 * 1024, 'w') + " end";
  auto out = console_jsonl(db, say("x1", "carol", ch, nul, "2026-11-20T11:00:00Z") + say("x2", "carol", ch, long_text, "2026-11-20T11:01:00Z") +
                                   message_line("x3", ch, "/incident roles"));
  CHECK(of_type(out, "error").empty());
  CHECK(any_text_contains(out, "post", "INC-1 roles"));
  auto t = take_snapshot(db).timeline;
  bool saw_nul = false, saw_long = false;
  for (const auto& e : t["entries"]) {
    if (e["text"] == nul) saw_nul = true;
    if (e["text"] == long_text) saw_long = true;
  }
  CHECK(saw_nul);
  CHECK(saw_long);
}

// A wrongly typed flag is an error line, and the lines before and after it are still handled.
TEST_CASE("a bot flag that is not a boolean is an error line, not the end of the process") {
  temp_dir dir;
  auto db = dir.file("k.db");
  console_jsonl(db, join(setup_script()));
  auto r = run_kintsugi({"console", "--db", db, "--jsonl"},
                        say("p1", "alice", ch, "/incident roles", "2026-11-20T11:00:00Z") +
                            R"({"type":"message","id":"b1","user":"alice","channel":"inc-db","text":"x","bot":"yes"})" "\n" +
                            message_line("p2", ch, "/incident roles"));
  CHECK(r.exit_code == 0);
  std::vector<json> out;
  for (const auto& l : lines_of(r.out)) out.push_back(json::parse(l));
  REQUIRE(out.size() == 3);
  CHECK(out[0]["type"] == "post");
  CHECK(out[1]["type"] == "error");
  CHECK(out[1]["line"] == 2);
  CHECK(out[2]["type"] == "post");
}
