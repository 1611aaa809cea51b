// The console adapter's JSON-lines codec (decode_line, encode_action, encode_error, render_mentions) and the
// JSON-lines runner on an in-memory store.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "console/console.hpp"
#include "core/dispatcher.hpp"
#include "core/engine.hpp"
#include "storage/sqlite_store.hpp"

namespace core = kintsugi::core;
namespace console = kintsugi::console;
using json = nlohmann::json;

namespace {

const core::timestamp ten = *core::parse_iso("2026-11-20T10:00:00Z");
const core::timestamp ten_five = *core::parse_iso("2026-11-20T10:05:00Z");

// Decodes one line with no earlier time.
console::decode_result decode(const std::string& line, std::string_view channel = "general") {
  std::optional<core::timestamp> last;
  return console::decode_line(line, last, channel);
}

// Decodes one line after a line at 10:00.
console::decode_result decode_after(const std::string& line, std::string_view channel = "general") {
  std::optional<core::timestamp> last = ten;
  return console::decode_line(line, last, channel);
}

// The event a decoded line holds (REQUIREs that it holds one of type T).
template <class T>
T event_of(const console::decode_result& r) {
  INFO("error: " << r.error);
  REQUIRE(r.value.has_value());
  const auto* ev = std::get_if<core::event>(&*r.value);
  REQUIRE(ev != nullptr);
  const auto* e = std::get_if<T>(ev);
  REQUIRE(e != nullptr);
  return *e;
}

void check_error(const console::decode_result& r, const std::string& needle) {
  CAPTURE(needle);
  CHECK_FALSE(r.value.has_value());
  CHECK(r.error.find(needle) != std::string::npos);
}

}  // namespace

TEST_SUITE("console decode_line") {
  TEST_CASE("a message with every field") {
    auto r = decode(
        R"({"type":"message","id":"m1","user":"alice","channel":"inc-db","text":"disk is full","ts":"2026-11-20T10:00:00Z","bot":true,"thread":"m0"})");
    CHECK(r.error.empty());
    auto m = event_of<core::message_posted>(r);
    CHECK(m.id == "m1");
    CHECK(m.user == "alice");
    CHECK(m.channel == "inc-db");
    CHECK(m.text == "disk is full");
    CHECK(m.at == ten);
    CHECK(m.from_bot);
    CHECK(m.thread_id == "m0");
  }

  TEST_CASE("a message without channel, bot and thread takes the defaults") {
    auto m = event_of<core::message_posted>(
        decode(R"({"type":"message","id":"m1","user":"alice","text":"hi","ts":"2026-11-20T10:00:00Z"})", "lobby"));
    CHECK(m.channel == "lobby");
    CHECK_FALSE(m.from_bot);
    CHECK(m.thread_id.empty());
  }

  TEST_CASE("an empty text is a message") {
    auto m = event_of<core::message_posted>(decode_after(R"({"type":"message","id":"m1","user":"alice","text":""})"));
    CHECK(m.text.empty());
  }

  TEST_CASE("an edit") {
    auto e = event_of<core::message_edited>(
        decode(R"({"type":"edit","id":"m1","text":"disk was full","ts":"2026-11-20T10:05:00Z"})"));
    CHECK(e.id == "m1");
    CHECK(e.text == "disk was full");
    CHECK(e.at == ten_five);
  }

  TEST_CASE("a deletion") {
    auto d = event_of<core::message_deleted>(decode(R"({"type":"delete","id":"m1","ts":"2026-11-20T10:05:00Z"})"));
    CHECK(d.id == "m1");
    CHECK(d.at == ten_five);
  }

  TEST_CASE("a reaction, with and without colons around the emoji") {
    auto a = event_of<core::reaction_added>(
        decode(R"({"type":"reaction","id":"m1","user":"bob","emoji":"pushpin","ts":"2026-11-20T10:05:00Z"})"));
    CHECK(a.id == "m1");
    CHECK(a.user == "bob");
    CHECK(a.emoji == "pushpin");
    CHECK(a.at == ten_five);
    auto b = event_of<core::reaction_added>(decode_after(R"({"type":"reaction","id":"m1","user":"bob","emoji":":pushpin:"})"));
    CHECK(b.emoji == "pushpin");
    // Only a pair of colons around the name is stripped.
    auto c = event_of<core::reaction_added>(decode_after(R"({"type":"reaction","id":"m1","user":"bob","emoji":":pushpin"})"));
    CHECK(c.emoji == ":pushpin");
  }

  TEST_CASE("a tick") {
    auto t = event_of<core::clock_tick>(decode(R"({"type":"tick","ts":"2026-11-20T10:05:00Z"})"));
    CHECK(t.at == ten_five);
  }

  TEST_CASE("a tick needs its own time") {
    check_error(decode_after(R"({"type":"tick"})"), "\"ts\" is missing");
  }

  TEST_CASE("a user line, with and without a time") {
    auto r = decode(R"({"type":"user","id":"alice","name":"Alice","tz":"Europe/Berlin"})");
    INFO(r.error);
    REQUIRE(r.value.has_value());
    const auto* u = std::get_if<console::user_info>(&*r.value);
    REQUIRE(u != nullptr);
    CHECK(u->who.id == "alice");
    CHECK(u->who.display_name == "Alice");
    CHECK(u->who.tz == "Europe/Berlin");

    auto only_id = decode(R"({"type":"user","id":"bob"})");
    REQUIRE(only_id.value.has_value());
    const auto* b = std::get_if<console::user_info>(&*only_id.value);
    REQUIRE(b != nullptr);
    CHECK(b->who.id == "bob");
    CHECK(b->who.display_name.empty());
    CHECK(b->who.tz.empty());

    // A user line with a time sets the clock for the lines after it.
    std::optional<core::timestamp> last;
    auto timed = console::decode_line(R"({"type":"user","id":"carol","ts":"2026-11-20T10:05:00Z"})", last, "general");
    CHECK(timed.value.has_value());
    CHECK(last == ten_five);
  }

  TEST_CASE("a line without ts reuses the time of the last line that had one") {
    std::optional<core::timestamp> last;
    auto first = console::decode_line(R"({"type":"message","id":"m1","user":"a","text":"x","ts":"2026-11-20T10:00:00Z"})", last, "g");
    CHECK(event_of<core::message_posted>(first).at == ten);
    CHECK(last == ten);
    auto second = console::decode_line(R"({"type":"message","id":"m2","user":"a","text":"y"})", last, "g");
    CHECK(event_of<core::message_posted>(second).at == ten);
    auto third = console::decode_line(R"({"type":"delete","id":"m2","ts":"2026-11-20T10:05:00Z"})", last, "g");
    CHECK(event_of<core::message_deleted>(third).at == ten_five);
    CHECK(last == ten_five);
    auto fourth = console::decode_line(R"({"type":"edit","id":"m1","text":"z"})", last, "g");
    CHECK(event_of<core::message_edited>(fourth).at == ten_five);
    // A user line without a time does not move the clock.
    auto user = console::decode_line(R"({"type":"user","id":"alice"})", last, "g");
    CHECK(user.value.has_value());
    CHECK(last == ten_five);
  }

  TEST_CASE("a line that fails does not move the clock") {
    std::optional<core::timestamp> last = ten;
    auto r = console::decode_line(R"({"type":"message","id":"m1","text":"no user","ts":"2026-11-20T10:05:00Z"})", last, "g");
    CHECK_FALSE(r.value.has_value());
    CHECK(last == ten);
  }

  TEST_CASE("the first line without ts is an error") {
    std::optional<core::timestamp> last;
    auto r = console::decode_line(R"({"type":"message","id":"m1","user":"a","text":"x"})", last, "g");
    check_error(r, "\"ts\" is missing");
    CHECK_FALSE(last.has_value());
    for (auto line : {R"({"type":"edit","id":"m1","text":"x"})", R"({"type":"delete","id":"m1"})",
                      R"({"type":"reaction","id":"m1","user":"a","emoji":"pushpin"})", R"({"type":"tick"})"}) {
      const std::string shown{line};
      CAPTURE(shown);
      check_error(decode(line), "\"ts\" is missing");
    }
  }

  TEST_CASE("a ts that is not an ISO 8601 time") {
    for (auto ts : {"yesterday", "2026-11-20", "2026-13-01T10:00:00Z", "10:00", "2026-11-20T25:00:00Z"}) {
      const std::string shown{ts};
      CAPTURE(shown);
      auto r = decode_after(json{{"type", "message"}, {"id", "m1"}, {"user", "a"}, {"text", "x"}, {"ts", ts}}.dump());
      check_error(r, "\"ts\" must be an ISO 8601 time");
      CHECK(r.error.find(ts) != std::string::npos);
    }
  }

  TEST_CASE("ts with an offset and a fraction") {
    auto m = event_of<core::message_posted>(
        decode(R"({"type":"message","id":"m1","user":"a","text":"x","ts":"2026-11-20T11:00:00.5+01:00"})"));
    CHECK(m.at == ten + std::chrono::milliseconds{500});
  }

  TEST_CASE("JSON that is not an object") {
    for (auto line : {"[]", "[1,2]", "42", "\"message\"", "null", "true"}) {
      const std::string shown{line};
      CAPTURE(shown);
      check_error(decode_after(line), "expected a JSON object");
    }
  }

  TEST_CASE("text that is not JSON") {
    for (auto line : {"hello", "{", R"({"type":"message")", "{'type':'message'}", "\x01\x02\xff", "{} {}"}) {
      const std::string shown{line};
      CAPTURE(shown);
      check_error(decode_after(line), "not valid JSON");
    }
  }

  TEST_CASE("invalid UTF-8 inside a string is not valid JSON") {
    check_error(decode_after("{\"type\":\"message\",\"id\":\"m1\",\"user\":\"a\",\"text\":\"bad \xff\xfe bytes\"}"), "not valid JSON");
  }

  TEST_CASE("a line longer than 1 MiB") {
    std::string line = R"({"type":"message","id":"m1","user":"a","text":")" + std::string(std::size_t{1} << 20, 'x') + "\"}";
    check_error(decode_after(line), "longer than 1 MiB");
  }

  TEST_CASE("an unknown or missing type") {
    check_error(decode_after(R"({"type":"shout","text":"x"})"), "unknown type \"shout\"");
    check_error(decode_after(R"({"text":"x"})"), "\"type\" is missing");
    check_error(decode_after(R"({})"), "\"type\" is missing");
    check_error(decode_after(R"({"type":""})"), "\"type\" must not be empty");
    check_error(decode_after(R"({"type":null})"), "\"type\" is missing");
  }

  TEST_CASE("each required field missing") {
    struct missing_case {
      const char* line;
      const char* field;
    };
    for (auto c : {
             missing_case{R"({"type":"message","id":"m1","text":"x"})", "user"},
             missing_case{R"({"type":"message","id":"m1","user":"a"})", "text"},
             missing_case{R"({"type":"edit","text":"x"})", "id"},
             missing_case{R"({"type":"edit","id":"m1"})", "text"},
             missing_case{R"({"type":"delete"})", "id"},
             missing_case{R"({"type":"reaction","user":"a","emoji":"pushpin"})", "id"},
             missing_case{R"({"type":"reaction","id":"m1","emoji":"pushpin"})", "user"},
             missing_case{R"({"type":"reaction","id":"m1","user":"a"})", "emoji"},
             missing_case{R"({"type":"user","name":"Alice"})", "id"},
         }) {
      const std::string shown{c.line};
      CAPTURE(shown);
      check_error(decode_after(c.line), std::string{"\""} + c.field + "\" is missing");
    }
  }

  TEST_CASE("required fields given as empty strings") {
    check_error(decode_after(R"({"type":"message","id":"m1","user":"","text":"x"})"), "\"user\" must not be empty");
    check_error(decode_after(R"({"type":"edit","id":"","text":"x"})"), "\"id\" must not be empty");
    check_error(decode_after(R"({"type":"delete","id":""})"), "\"id\" must not be empty");
    check_error(decode_after(R"({"type":"reaction","id":"m1","user":"a","emoji":""})"), "\"emoji\" must not be empty");
    check_error(decode_after(R"({"type":"user","id":""})"), "\"id\" must not be empty");
  }

  TEST_CASE("fields of the wrong type") {
    struct type_case {
      const char* line;
      const char* field;
    };
    for (auto c : {
             type_case{R"({"type":7})", "type"},
             type_case{R"({"type":"message","id":"m1","user":"a","text":"x","ts":1700000000})", "ts"},
             type_case{R"({"type":"message","id":"m1","user":42,"text":"x"})", "user"},
             type_case{R"({"type":"message","id":"m1","user":"a","text":42})", "text"},
             type_case{R"({"type":"message","id":7,"user":"a","text":"x"})", "id"},
             type_case{R"({"type":"message","id":"m1","user":"a","text":"x","channel":3})", "channel"},
             type_case{R"({"type":"message","id":"m1","user":"a","text":"x","thread":3})", "thread"},
             type_case{R"({"type":"message","id":"m1","user":["a"],"text":"x"})", "user"},
             type_case{R"({"type":"edit","id":1,"text":"x"})", "id"},
             type_case{R"({"type":"edit","id":"m1","text":{"a":1}})", "text"},
             type_case{R"({"type":"delete","id":1.5})", "id"},
             type_case{R"({"type":"reaction","id":"m1","user":"a","emoji":1})", "emoji"},
             type_case{R"({"type":"reaction","id":"m1","user":false,"emoji":"pushpin"})", "user"},
             type_case{R"({"type":"user","id":"alice","tz":1})", "tz"},
             type_case{R"({"type":"user","id":"alice","name":2})", "name"},
         }) {
      const std::string shown{c.line};
      CAPTURE(shown);
      check_error(decode_after(c.line), std::string{"\""} + c.field + "\" must be a string");
    }
  }

  // A wrongly typed flag is an error for that line, never an exception out of the decoder.
  TEST_CASE("a bot flag that is not a boolean is an error, not an exception") {
    for (auto line : {R"({"type":"message","id":"m1","user":"a","text":"x","bot":"yes"})",
                      R"({"type":"message","id":"m1","user":"a","text":"x","bot":1})"}) {
      const std::string shown{line};
      CAPTURE(shown);
      console::decode_result r;
      CHECK_NOTHROW(r = decode_after(line));
      CHECK_FALSE(r.value.has_value());
      CHECK(r.error.find("\"bot\"") != std::string::npos);
    }
  }

  TEST_CASE("a null bot flag means absent, like every other optional field") {
    auto m = event_of<core::message_posted>(decode_after(R"({"type":"message","id":"m1","user":"a","text":"x","bot":null})"));
    CHECK_FALSE(m.from_bot);
  }

  TEST_CASE("a message without id gets one that is stable for the same line") {
    const std::string line = R"({"type":"message","user":"alice","channel":"inc-db","text":"disk full","ts":"2026-11-20T10:00:00Z"})";
    auto a = event_of<core::message_posted>(decode(line));
    auto b = event_of<core::message_posted>(decode(line));
    CHECK_FALSE(a.id.empty());
    CHECK(a.id.starts_with("auto-"));
    CHECK(a.id == b.id);
    // Another text, user, channel or time is another message.
    for (auto other : {
             R"({"type":"message","user":"alice","channel":"inc-db","text":"disk fine","ts":"2026-11-20T10:00:00Z"})",
             R"({"type":"message","user":"bob","channel":"inc-db","text":"disk full","ts":"2026-11-20T10:00:00Z"})",
             R"({"type":"message","user":"alice","channel":"inc-web","text":"disk full","ts":"2026-11-20T10:00:00Z"})",
             R"({"type":"message","user":"alice","channel":"inc-db","text":"disk full","ts":"2026-11-20T10:00:01Z"})",
         }) {
      const std::string shown{other};
      CAPTURE(shown);
      CHECK(event_of<core::message_posted>(decode(other)).id != a.id);
    }
    // An empty id counts as none.
    auto empty = event_of<core::message_posted>(
        decode(R"({"type":"message","id":"","user":"alice","channel":"inc-db","text":"disk full","ts":"2026-11-20T10:00:00Z"})"));
    CHECK(empty.id == a.id);
  }

  TEST_CASE("a command without id gets a stable id too") {
    const std::string line = R"({"type":"message","user":"alice","channel":"inc-db","text":"/incident note x","ts":"2026-11-20T10:00:00Z"})";
    auto a = event_of<core::command_invoked>(decode(line));
    auto b = event_of<core::command_invoked>(decode(line));
    CHECK(a.id.starts_with("auto-"));
    CHECK(a.id == b.id);
    auto c = event_of<core::command_invoked>(
        decode(R"({"type":"message","user":"alice","channel":"inc-db","text":"/incident note y","ts":"2026-11-20T10:00:00Z"})"));
    CHECK(c.id != a.id);
  }

  TEST_CASE("/incident is a command with the text after the word") {
    auto c = event_of<core::command_invoked>(decode(
        R"({"type":"message","id":"c1","user":"alice","channel":"inc-db","text":"/incident start DB down sev1","ts":"2026-11-20T10:00:00Z"})"));
    CHECK(c.id == "c1");
    CHECK(c.channel == "inc-db");
    CHECK(c.user == "alice");
    CHECK(c.text == "start DB down sev1");
    CHECK(c.at == ten);

    CHECK(event_of<core::command_invoked>(decode_after(R"({"type":"message","id":"c2","user":"a","text":"/incident"})")).text.empty());
    CHECK(event_of<core::command_invoked>(decode_after(R"({"type":"message","id":"c3","user":"a","text":"/incident help"})")).text == "help");
    CHECK(event_of<core::command_invoked>(decode_after(R"({"type":"message","id":"c4","user":"a","text":"/incident\tnote x"})")).text == "note x");
    auto no_channel = event_of<core::command_invoked>(decode_after(R"({"type":"message","id":"c5","user":"a","text":"/incident roles"})", "war-room"));
    CHECK(no_channel.channel == "war-room");
  }

  TEST_CASE("other slash commands are not ours") {
    struct other_case {
      const char* text;
      const char* word;
    };
    for (auto c : {other_case{"/incidentx start", "/incidentx"}, other_case{"/deploy now", "/deploy"},
                   other_case{"/deploy", "/deploy"}, other_case{"/", "/"}, other_case{"/INCIDENT start x", "/INCIDENT"}}) {
      const std::string shown{c.text};
      CAPTURE(shown);
      auto r = decode(json{{"type", "message"}, {"id", "x1"}, {"user", "bob"}, {"channel", "inc-db"}, {"text", c.text},
                           {"ts", "2026-11-20T10:00:00Z"}}
                          .dump());
      INFO(r.error);
      REQUIRE(r.value.has_value());
      const auto* u = std::get_if<console::unknown_command>(&*r.value);
      REQUIRE(u != nullptr);
      CHECK(u->command == c.word);
      CHECK(u->channel == "inc-db");
      CHECK(u->user == "bob");
    }
  }

  TEST_CASE("a text with a slash later on is a plain message") {
    auto m = event_of<core::message_posted>(decode_after(R"({"type":"message","id":"m1","user":"a","text":" /incident start x"})"));
    CHECK(m.text == " /incident start x");
  }
}

TEST_SUITE("console encode") {
  TEST_CASE("each action as one JSON line with type first") {
    CHECK(console::encode_action(core::post_message{"inc-db", "hello"}) == R"({"type":"post","channel":"inc-db","text":"hello"})");
    CHECK(console::encode_action(core::post_ephemeral{"inc-db", "bob", "only you"}) ==
          R"({"type":"ephemeral","channel":"inc-db","user":"bob","text":"only you"})");
    CHECK(console::encode_action(core::direct_message{"carol", "your action"}) == R"({"type":"dm","user":"carol","text":"your action"})");
    CHECK(console::encode_action(core::create_channel{"inc-20261120-db"}) == R"({"type":"create_channel","name":"inc-20261120-db"})");
    CHECK(console::encode_action(core::invite_user{"inc-20261120-db", "alice"}) ==
          R"({"type":"invite","channel":"inc-20261120-db","user":"alice"})");
    CHECK(console::encode_action(core::set_topic{"inc-db", "INC-1 sev1"}) == R"({"type":"topic","channel":"inc-db","text":"INC-1 sev1"})");
  }

  TEST_CASE("buttons are added after the other fields, only when there are some") {
    const std::vector<core::button> two{{"I'll be commander", "role commander me", "primary"}, {"Mark done", "action done 3", ""}};
    CHECK(console::encode_action(core::post_message{"inc-db", "hello", two}) ==
          R"({"type":"post","channel":"inc-db","text":"hello","buttons":[{"label":"I'll be commander","command":"/incident role commander me"},{"label":"Mark done","command":"/incident action done 3"}]})");
    CHECK(console::encode_action(core::post_ephemeral{"inc-db", "bob", "only you", {two[1]}}) ==
          R"({"type":"ephemeral","channel":"inc-db","user":"bob","text":"only you","buttons":[{"label":"Mark done","command":"/incident action done 3"}]})");
    CHECK(console::encode_action(core::direct_message{"carol", "your action", {two[1]}}) ==
          R"({"type":"dm","user":"carol","text":"your action","buttons":[{"label":"Mark done","command":"/incident action done 3"}]})");
    // No buttons, no field: the lines are what they were before buttons existed.
    CHECK(console::encode_action(core::post_message{"inc-db", "hello", {}}) == R"({"type":"post","channel":"inc-db","text":"hello"})");
    CHECK(console::encode_action(core::direct_message{"carol", "x", {}}) == R"({"type":"dm","user":"carol","text":"x"})");
    CHECK(console::slash_command_of(two[0]) == "/incident role commander me");
  }

  TEST_CASE("a pinned post reads like any post in jsonl (the console has nothing to pin)") {
    CHECK(console::encode_action(core::post_message{"inc-db", "INC-1", {}, true}) ==
          R"({"type":"post","channel":"inc-db","text":"INC-1"})");
    CHECK(console::encode_action(core::post_message{"inc-db", "INC-1", {{"Go", "roles", ""}}, true}) ==
          R"({"type":"post","channel":"inc-db","text":"INC-1","buttons":[{"label":"Go","command":"/incident roles"}]})");
    CHECK(console::encode_action(core::post_message{"inc-db", "hello", {}, false}) ==
          R"({"type":"post","channel":"inc-db","text":"hello"})");
    CHECK(console::encode_action(core::pin_message{"m1"}) == R"({"type":"pin","id":"m1"})");
  }

  TEST_CASE("texts are escaped as JSON and stay on one line") {
    auto line = console::encode_action(core::post_message{"c", "line one\nline \"two\"\t\\ 🚨"});
    CHECK(line.find('\n') == std::string::npos);
    CHECK(json::parse(line)["text"] == "line one\nline \"two\"\t\\ 🚨");
    auto nul = console::encode_action(core::post_message{"c", std::string{"a\0b", 3}});
    CHECK(nul == R"({"type":"post","channel":"c","text":"a\u0000b"})");
  }

  TEST_CASE("invalid UTF-8 in a text is replaced, not thrown") {
    std::string line;
    CHECK_NOTHROW(line = console::encode_action(core::post_message{"c", "bad \xff\xfe bytes"}));
    auto j = json::parse(line);
    CHECK(j["text"] == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
    CHECK_NOTHROW(line = console::encode_error(3, "bad \xc3"));
    CHECK(json::parse(line)["line"] == 3);
  }

  TEST_CASE("mentions are rendered for a terminal") {
    CHECK(console::encode_action(core::post_message{"inc-x", "ask <@bob> in <#inc-x>"}) ==
          R"({"type":"post","channel":"inc-x","text":"ask @bob in #inc-x"})");
    CHECK(console::encode_action(core::post_ephemeral{"c", "u", "<@U1|bob> took it"}) ==
          R"({"type":"ephemeral","channel":"c","user":"u","text":"@U1 took it"})");
    CHECK(console::encode_action(core::direct_message{"bob", "Hi <@bob>"}) == R"({"type":"dm","user":"bob","text":"Hi @bob"})");
    CHECK(console::encode_action(core::set_topic{"c", "commander: <@alice>"}) == R"({"type":"topic","channel":"c","text":"commander: @alice"})");
    // Names are not rendered: they are not texts.
    CHECK(console::encode_action(core::create_channel{"<#x>"}) == R"({"type":"create_channel","name":"<#x>"})");
  }

  TEST_CASE("render_mentions leaves what is not a mention alone") {
    CHECK(console::render_mentions("<@bob>") == "@bob");
    CHECK(console::render_mentions("<#inc-x>") == "#inc-x");
    CHECK(console::render_mentions("<@U1|bob>") == "@U1");
    CHECK(console::render_mentions("<@bob><@carol>") == "@bob@carol");
    CHECK(console::render_mentions("a < b") == "a < b");
    CHECK(console::render_mentions("<") == "<");
    CHECK(console::render_mentions("x <") == "x <");
    CHECK(console::render_mentions("<@ x>") == "<@ x>");
    CHECK(console::render_mentions("<@>") == "<@>");
    CHECK(console::render_mentions("<@bob") == "<@bob");
    CHECK(console::render_mentions("<@a\nb>") == "<@a\nb>");
    CHECK(console::render_mentions("<https://example.com>") == "<https://example.com>");
    CHECK(console::render_mentions("<< <@bob> >>") == "<< @bob >>");
    CHECK(console::render_mentions("") == "");
  }

  TEST_CASE("an error line") {
    CHECK(console::encode_error(7, "not valid JSON") == R"({"type":"error","line":7,"message":"not valid JSON"})");
    CHECK(console::encode_error(1, "\"ts\" is missing") == R"({"type":"error","line":1,"message":"\"ts\" is missing"})");
  }
}

namespace {

// An in-memory bot with the console's JSON-lines runner.
struct jsonl_bot {
  kintsugi::storage::sqlite_store db{":memory:"};
  core::engine engine{db, core::engine_options{}};
  core::dispatcher dispatcher{db, engine};
  console::options opt{};

  std::vector<json> run(const std::string& input, int* code = nullptr) {
    std::istringstream in{input};
    std::ostringstream out;
    int rc = console::run_jsonl(in, out, db, dispatcher, opt);
    if (code) *code = rc;
    std::vector<json> lines;
    std::istringstream text{out.str()};
    std::string line;
    while (std::getline(text, line)) {
      INFO(line);
      REQUIRE_NOTHROW(lines.push_back(json::parse(line)));
    }
    return lines;
  }
};

std::string msg(const std::string& id, const std::string& user, const std::string& channel, const std::string& text,
                const std::string& ts = {}) {
  json j{{"type", "message"}, {"id", id}, {"user", user}, {"channel", channel}, {"text", text}};
  if (!ts.empty()) j["ts"] = ts;
  return j.dump() + "\n";
}

bool contains(const json& line, const std::string& key, const std::string& needle) {
  return line.contains(key) && line[key].is_string() && line[key].get<std::string>().find(needle) != std::string::npos;
}

}  // namespace

TEST_SUITE("console run_jsonl") {
  TEST_CASE("outputs come in input order, an error names its line and the lines after still run") {
    jsonl_bot bot;
    std::string input = msg("c1", "alice", "inc-db", "/incident start DB down sev1", "2026-11-20T10:00:00Z") +  // 1
                        "this is not json\n" +                                                               // 2
                        "\n" +                                                                               // 3 (blank)
                        msg("c2", "bob", "inc-db", "/incident role commander me") +                          // 4
                        msg("x1", "carol", "inc-db", "/deploy now") +                                        // 5
                        "[]\r\n" +                                                                           // 6
                        msg("m1", "carol", "inc-db", "replica lag is zero", "2026-11-20T10:02:00Z") +        // 7
                        R"({"type":"edit","text":"no id"})" + "\n" +                                         // 8
                        msg("c3", "carol", "inc-db", "/incident roles");                                     // 9
    int code = -1;
    auto out = bot.run(input, &code);
    CHECK(code == 0);

    // What each input line should produce, in order.
    std::vector<std::pair<std::string, std::string>> expected{
        {"post", "INC-1: DB down"},           // 1: the welcome
        {"topic", "INC-1 sev1"},              // 1
        {"error", "not valid JSON"},          // 2
        {"post", "@bob took the commander role"},  // 4
        {"topic", "commander: @bob"},         // 4
        {"ephemeral", "/deploy"},             // 5
        {"error", "expected a JSON object"},  // 6
        {"error", "\"id\" is missing"},       // 8
        {"post", "INC-1 roles"},              // 9
    };
    REQUIRE(out.size() == expected.size());
    for (std::size_t k = 0; k < expected.size(); ++k) {
      CAPTURE(k);
      CAPTURE(out[k].dump());
      CHECK(out[k]["type"] == expected[k].first);
      CHECK((contains(out[k], "text", expected[k].second) || contains(out[k], "message", expected[k].second)));
    }
    CHECK(out[2]["line"] == 2);
    CHECK(out[6]["line"] == 6);
    CHECK(out[7]["line"] == 8);
    CHECK(out[5]["user"] == "carol");
    CHECK(out[5]["channel"] == "inc-db");

    // The store has what the good lines did.
    auto inc = bot.db.incident_in_channel("inc-db");
    REQUIRE(inc.has_value());
    CHECK(inc->title == "DB down");
    CHECK(inc->holder(core::role::commander) == "bob");
    auto entry = bot.db.entry_by_source("m1");
    REQUIRE(entry.has_value());
    CHECK(entry->text == "replica lag is zero");
    CHECK(entry->at == *core::parse_iso("2026-11-20T10:02:00Z"));
    CHECK(entry->author == "carol");
  }

  TEST_CASE("buttons come out with their commands, and sending a button's command does what it says") {
    jsonl_bot bot;
    auto out = bot.run(msg("c1", "alice", "inc-db", "/incident start DB down sev1", "2026-11-20T10:00:00Z"));
    REQUIRE(out.size() == 2);
    REQUIRE(out[0]["type"] == "post");
    CHECK(out[0]["buttons"] == json::parse(R"([{"label":"I'll be commander","command":"/incident role commander me"},
                                               {"label":"I'll be scribe","command":"/incident role scribe me"},
                                               {"label":"I'll be facilitator","command":"/incident role facilitator me"}])"));
    CHECK_FALSE(out[1].contains("buttons"));  // the topic

    // bob presses "I'll be scribe": the console's equivalent is sending the command as bob.
    out = bot.run(msg("c2", "bob", "inc-db", out[0]["buttons"][1]["command"].get<std::string>(), "2026-11-20T10:01:00Z"));
    REQUIRE_FALSE(out.empty());
    CHECK(contains(out[0], "text", "@bob took the scribe role"));
    CHECK(out[0]["buttons"] == json::parse(R"([{"label":"I'll be commander","command":"/incident role commander me"},
                                               {"label":"I'll be facilitator","command":"/incident role facilitator me"}])"));
    CHECK(bot.db.incident_in_channel("inc-db")->holder(core::role::scribe) == "bob");
  }

  TEST_CASE("a first line without a time is an error and the next timed line works") {
    jsonl_bot bot;
    auto out = bot.run(msg("c1", "alice", "inc-db", "/incident start DB down") +
                       msg("c2", "alice", "inc-db", "/incident start DB down", "2026-11-20T10:00:00Z"));
    REQUIRE(out.size() >= 2);
    CHECK(out[0]["type"] == "error");
    CHECK(out[0]["line"] == 1);
    CHECK(contains(out[0], "message", "\"ts\" is missing"));
    CHECK(out[1]["type"] == "post");
    CHECK(contains(out[1], "text", "INC-1"));
  }

  TEST_CASE("user lines are stored in the directory and produce no output") {
    jsonl_bot bot;
    auto out = bot.run(R"({"type":"user","id":"alice","name":"Alice","tz":"Europe/Berlin"})"
                       "\n");
    CHECK(out.empty());
    auto u = bot.db.find_user("alice");
    REQUIRE(u.has_value());
    CHECK(u->display_name == "Alice");
    CHECK(u->tz == "Europe/Berlin");
  }

  TEST_CASE("a message without channel goes to the default channel") {
    jsonl_bot bot;
    bot.opt.channel = "inc-web";
    auto out = bot.run(R"({"type":"message","id":"c1","user":"alice","text":"/incident start Web down","ts":"2026-11-20T10:00:00Z"})"
                       "\n");
    REQUIRE_FALSE(out.empty());
    CHECK(out[0]["channel"] == "inc-web");
    CHECK(bot.db.incident_in_channel("inc-web").has_value());
  }

  TEST_CASE("a replayed input changes nothing and says nothing, a second run sends nothing again") {
    jsonl_bot bot;
    std::string input = msg("c1", "alice", "inc-db", "/incident start DB down sev2", "2026-11-20T10:00:00Z") +
                        msg("m1", "bob", "inc-db", "looking") + msg("c2", "bob", "inc-db", "/incident note failover started");
    auto first = bot.run(input);
    CHECK_FALSE(first.empty());
    auto inc = bot.db.incident_in_channel("inc-db");
    REQUIRE(inc.has_value());
    auto before = bot.db.timeline(inc->id);
    CHECK(bot.run(input).empty());
    CHECK(bot.run("").empty());
    CHECK(bot.db.timeline(inc->id).size() == before.size());
  }

  TEST_CASE("edits, deletions and pins through the runner") {
    jsonl_bot bot;
    std::string input = msg("c1", "alice", "inc-db", "/incident start DB down", "2026-11-20T10:00:00Z") +
                        msg("m1", "bob", "inc-db", "primary is down", "2026-11-20T10:01:00Z") +
                        R"({"type":"edit","id":"m1","text":"primary refuses writes","ts":"2026-11-20T10:02:00Z"})" "\n"
                        R"({"type":"reaction","id":"m1","user":"carol","emoji":":pushpin:"})" "\n" +
                        msg("m2", "bob", "inc-db", "oops", "2026-11-20T10:03:00Z") +
                        R"({"type":"delete","id":"m2","ts":"2026-11-20T10:04:00Z"})" "\n";
    auto out = bot.run(input);
    for (const auto& l : out) CHECK(l["type"] != "error");
    // Pins are for chat platforms: no pin lines and no "pin" field in the jsonl contract.
    for (const auto& l : out) {
      CHECK(l["type"] != "pin");
      CHECK_FALSE(l.contains("pin"));
    }
    auto m1 = bot.db.entry_by_source("m1");
    REQUIRE(m1.has_value());
    CHECK(m1->text == "primary refuses writes");
    CHECK(m1->edited);
    CHECK(m1->key);
    auto m2 = bot.db.entry_by_source("m2");
    REQUIRE(m2.has_value());
    CHECK(m2->deleted);
  }

  TEST_CASE("input that ends without a newline is still read, garbage only yields errors") {
    jsonl_bot bot;
    auto out = bot.run("garbage\n{\"type\":\"tick\"}\n" +
                       msg("c1", "alice", "inc-db", "/incident help", "2026-11-20T10:00:00Z").substr(0, 40) + "\n" +
                       R"({"type":"message","id":"c2","user":"alice","channel":"inc-db","text":"/incident help","ts":"2026-11-20T10:00:00Z"})");
    REQUIRE(out.size() == 4);
    CHECK(out[0]["line"] == 1);
    CHECK(out[1]["line"] == 2);
    CHECK(contains(out[1], "message", "\"ts\" is missing"));
    CHECK(out[2]["line"] == 3);
    CHECK(out[3]["type"] == "ephemeral");
    CHECK(out[3]["user"] == "alice");
  }

  TEST_CASE("many lines in one batch all come out") {
    jsonl_bot bot;
    std::string input = msg("c0", "alice", "inc-db", "/incident start Big one", "2026-11-20T10:00:00Z");
    for (int k = 0; k < 1500; ++k) input += msg("m" + std::to_string(k), "bob", "inc-db", "line " + std::to_string(k));
    input += msg("c1", "alice", "inc-db", "/incident roles");
    auto out = bot.run(input);
    REQUIRE_FALSE(out.empty());
    CHECK(contains(out.back(), "text", "INC-1 roles"));
    auto inc = bot.db.incident_in_channel("inc-db");
    REQUIRE(inc.has_value());
    std::size_t messages = 0;
    for (const auto& e : bot.db.timeline(inc->id))
      if (e.kind == core::entry_kind::message) ++messages;
    CHECK(messages == 1500);
  }
}

namespace {
// What the text console prints for `input`, typed by alice in #inc-db on a fresh in-memory database.
std::string text_console_output(const std::string& input) {
  kintsugi::storage::sqlite_store db{":memory:"};
  core::engine engine{db, core::engine_options{}};
  core::dispatcher dispatcher{db, engine};
  console::options opt;
  opt.user = "alice";
  opt.channel = "inc-db";
  std::istringstream in{input};
  std::ostringstream out;
  CHECK(console::run_text(in, out, db, dispatcher, opt) == 0);
  return out.str();
}
}  // namespace

TEST_SUITE("console run_text") {
  TEST_CASE("buttons show as hints of what to type") {
    const std::string text = text_console_output("/incident start DB down sev1\n");
    INFO(text);
    CHECK(text.find("\n  [I'll be commander: /incident role commander me]\n"
                    "  [I'll be scribe: /incident role scribe me]\n"
                    "  [I'll be facilitator: /incident role facilitator me]\n") != std::string::npos);
  }
  TEST_CASE(":wait moves the console's clock on, and what comes due shows up") {
    const std::string text = text_console_output("/incident start DB down sev1\n:wait 6m\n:wait soon\n");
    INFO(text);
    CHECK(text.find("⏩ 6m later: ") != std::string::npos);
    CHECK(text.find("kintsugi: 👋 INC-1 still needs a commander") != std::string::npos);
    CHECK(text.find("How long? Like :wait 30m") != std::string::npos);
  }

  TEST_CASE("a pushpin on a numbered message shows that kintsugi pinned it") {
    const std::string text = text_console_output("/incident start DB down sev1\nprimary refuses writes\n:pin 1\n:pin 1\n");
    INFO(text);
    const std::string pinned = "— 📌 kintsugi pinned [1]\n";
    const auto first = text.find(pinned);
    REQUIRE(first != std::string::npos);
    CHECK(text.find(pinned, first + pinned.size()) == std::string::npos);  // the second 📌 pins nothing again
  }
}
