// The Slack codec, outbound: actions to Web API calls, Markdown to mrkdwn, splitting long texts.
#include "slack/web_api_calls.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace core = kintsugi::core;
namespace slack = kintsugi::slack;
using json = nlohmann::json;

namespace {

json body(const slack::api_call& c) { return json::parse(c.json_body); }

std::string join(const std::vector<std::string>& pieces) {
  std::string out;
  for (std::size_t i = 0; i < pieces.size(); ++i) out += (i == 0 ? "" : "\n") + pieces[i];
  return out;
}

}  // namespace

TEST_SUITE("slack web api calls") {
  TEST_CASE("post_message and post_ephemeral") {
    auto calls = slack::to_calls(core::post_message{"C1", "**INC-7** declared"});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "chat.postMessage");
    CHECK(body(calls[0]) == json{{"channel", "C1"}, {"text", "*INC-7* declared"}});
    CHECK(calls[0].then_post.empty());

    calls = slack::to_calls(core::post_ephemeral{"C1", "U2", "usage: /incident role <role>"});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "chat.postEphemeral");
    CHECK(body(calls[0]) == json{{"channel", "C1"}, {"user", "U2"}, {"text", "usage: /incident role &lt;role&gt;"}});
  }

  TEST_CASE("a direct message opens the DM first, then posts to the channel it opened") {
    auto calls = slack::to_calls(core::direct_message{"U2", "Action 7 is due"});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "conversations.open");
    CHECK(body(calls[0]) == json{{"users", "U2"}});
    REQUIRE(calls[0].then_post.size() == 1);
    CHECK(json::parse(calls[0].then_post[0]) == json{{"text", "Action 7 is due"}});

    auto opened = slack::decode_api_response(
        "conversations.open", 200, R"({"ok":true,"no_op":true,"already_open":true,"channel":{"id":"D069C7QFK"}})");
    CHECK(opened.channel_id == "D069C7QFK");
    auto next = slack::follow_up_calls(calls[0], opened);
    REQUIRE(next.size() == 1);
    CHECK(next[0].method == "chat.postMessage");
    CHECK(body(next[0]) == json{{"channel", "D069C7QFK"}, {"text", "Action 7 is due"}});

    auto failed = slack::decode_api_response("conversations.open", 200, R"({"ok":false,"error":"user_not_found"})");
    CHECK(slack::follow_up_calls(calls[0], failed).empty());
    CHECK(slack::open_dm_call("U9") == slack::api_call{"conversations.open", R"({"users":"U9"})", {}});
  }

  TEST_CASE("a pinned post is pinned with the ts Slack answered, after its first message only") {
    auto calls = slack::to_calls(core::post_message{"C1", "🚨 *INC-7: DB down*", {{"I'll be commander", "role commander me", "primary"}}, true});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "chat.postMessage");
    CHECK(calls[0].then_pin);
    CHECK_FALSE(body(calls[0]).contains("pin"));  // not a chat.postMessage argument

    auto posted = slack::decode_api_response(
        "chat.postMessage", 200, R"({"ok":true,"channel":"C1","ts":"1700000000.000100","message":{"text":"x"}})");
    auto next = slack::follow_up_calls(calls[0], posted);
    REQUIRE(next.size() == 1);
    CHECK(next[0].method == "pins.add");
    CHECK(body(next[0]) == json{{"channel", "C1"}, {"timestamp", "1700000000.000100"}});
    CHECK(slack::follow_up_calls(next[0], slack::decode_api_response("pins.add", 200, R"({"ok":true})")).empty());

    auto failed = slack::decode_api_response("chat.postMessage", 200, R"({"ok":false,"error":"channel_not_found"})");
    CHECK(slack::follow_up_calls(calls[0], failed).empty());

    // An unpinned post asks for no pin; a long pinned one pins its first message (the header) only.
    auto plain = slack::to_calls(core::post_message{"C1", "hello"});
    REQUIRE(plain.size() == 1);
    CHECK_FALSE(plain[0].then_pin);
    CHECK(slack::follow_up_calls(plain[0], posted).empty());
    slack::outbound_context small;
    small.max_text_bytes = 100;
    auto split = slack::to_calls(core::post_message{"C1", std::string(80, 'a') + "\n" + std::string(80, 'b'), {}, true}, small);
    REQUIRE(split.size() == 2);
    CHECK(split[0].then_pin);
    CHECK_FALSE(split[1].then_pin);
  }

  TEST_CASE("pin_message pins the message its id names, already_pinned counts as done") {
    auto calls = slack::to_calls(core::pin_message{"C123:1700000000.000100"});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "pins.add");
    CHECK(body(calls[0]) == json{{"channel", "C123"}, {"timestamp", "1700000000.000100"}});
    CHECK(slack::to_calls(core::pin_message{"not-a-slack-id"}).empty());
    CHECK(slack::to_calls(core::pin_message{""}).empty());

    auto again = slack::decode_api_response("pins.add", 200, R"({"ok":false,"error":"already_pinned"})");
    CHECK_FALSE(again.ok);
    CHECK(again.already_done);
    CHECK_FALSE(again.retryable);
    auto missing = slack::decode_api_response("pins.add", 200, R"({"ok":false,"error":"missing_scope","needed":"pins:write"})");
    CHECK(missing.fatal);
    CHECK(missing.needed == "pins:write");
  }

  TEST_CASE("create, invite, topic, publish_document makes no call") {
    auto calls = slack::to_calls(core::create_channel{"INC-7 DB down.now"});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "conversations.create");
    CHECK(body(calls[0]) == json{{"name", "inc-7-db-down-now"}});
    CHECK(body(slack::to_calls(core::create_channel{std::string(100, 'a')})[0])["name"] == std::string(80, 'a'));

    calls = slack::to_calls(core::invite_user{"C1", "U2"});
    CHECK(calls[0].method == "conversations.invite");
    CHECK(body(calls[0]) == json{{"channel", "C1"}, {"users", "U2"}});

    calls = slack::to_calls(core::set_topic{"C1", "INC-7 sev1 · investigating · commander <@U2>"});
    CHECK(calls[0].method == "conversations.setTopic");
    CHECK(body(calls[0]) == json{{"channel", "C1"}, {"topic", "INC-7 sev1 · investigating · commander <@U2>"}});

    CHECK(slack::to_calls(core::publish_document{"C1", "INC-7.md", "# INC-7"}).empty());
  }

  TEST_CASE("a long topic is cut at a word, within 250 characters, with an ellipsis") {
    std::string words;
    while (words.size() < 400) words += "ünïcode word ";
    auto topic = body(slack::to_calls(core::set_topic{"C1", words})[0])["topic"].get<std::string>();
    std::size_t chars = 0;
    for (char c : topic) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    CHECK(chars <= 250);
    CHECK(chars > 200);
    CHECK(topic.ends_with("word…"));
    std::string exact(250, 'x');
    CHECK(body(slack::to_calls(core::set_topic{"C1", exact})[0])["topic"] == exact);
  }

  TEST_CASE("response payloads for slash replies") {
    CHECK(json::parse(slack::response_payload("**done**", false)) ==
          json{{"response_type", "ephemeral"}, {"text", "*done*"}});
    CHECK(json::parse(slack::response_payload("hi", true))["response_type"] == "in_channel");
  }
}

TEST_SUITE("slack mrkdwn") {
  TEST_CASE("bold, headings and links") {
    CHECK(slack::to_mrkdwn("**bold** and **more bold**") == "*bold* and *more bold*");
    CHECK(slack::to_mrkdwn("# INC-7: db down\n## Timeline ##\ntext") == "*INC-7: db down*\n*Timeline*\ntext");
    CHECK(slack::to_mrkdwn("### **Already** bold") == "*Already bold*");
    CHECK(slack::to_mrkdwn("see [the runbook](https://wiki.example.com/rb?a=1&b=2) now") ==
          "see <https://wiki.example.com/rb?a=1&amp;b=2|the runbook> now");
  }

  TEST_CASE("what is not converted") {
    CHECK(slack::to_mrkdwn("#channel-name is not a heading") == "#channel-name is not a heading");
    CHECK(slack::to_mrkdwn("####### seven") == "####### seven");
    CHECK(slack::to_mrkdwn("[x](javascript:alert(1))") == "[x](javascript:alert(1))");
    CHECK(slack::to_mrkdwn("** not bold **") == "** not bold **");
    CHECK(slack::to_mrkdwn("2 ** 3 is 8") == "2 ** 3 is 8");
    CHECK(slack::to_mrkdwn("`**kept**` and **bold**") == "`**kept**` and *bold*");
    CHECK(slack::to_mrkdwn("```\n# not a heading\n**x**\n```\n# Heading") == "```\n# not a heading\n**x**\n```\n*Heading*");
  }

  TEST_CASE("escaping keeps Slack's own <…> forms") {
    CHECK(slack::escape_text("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d");
    CHECK(slack::escape_text("<@U123> <#C1|ops> <!here> <https://x.io/?a=1&b=2|docs>") ==
          "<@U123> <#C1|ops> <!here> <https://x.io/?a=1&amp;b=2|docs>");
    CHECK(slack::escape_text("<@ x> <b>bold</b> <javascript:x>") ==
          "&lt;@ x&gt; &lt;b&gt;bold&lt;/b&gt; &lt;javascript:x&gt;");
    CHECK(slack::escape_text("<@U1\n>") == "&lt;@U1\n&gt;");
    CHECK(slack::escape_text("&lt; typed literally") == "&amp;lt; typed literally");
  }
}

TEST_SUITE("slack message splitting") {
  TEST_CASE("short texts are one piece, long ones split at lines and lose nothing") {
    CHECK(slack::split_text("", 100) == std::vector<std::string>{""});
    CHECK(slack::split_text("one\ntwo", 100) == std::vector<std::string>{"one\ntwo"});

    std::string text;
    for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + ": the database was slow\n";
    auto pieces = slack::split_text(text, 40'000);
    CHECK(text.size() > 4 * 40'000);
    CHECK(pieces.size() == 5);
    for (const auto& p : pieces) CHECK(p.size() <= 40'000);
    CHECK(join(pieces) == text);
    CHECK(pieces[1].starts_with("line "));
  }

  TEST_CASE("through to_calls: several chat.postMessage calls") {
    std::string text;
    for (int i = 0; i < 100; ++i) text += "entry " + std::to_string(i) + "\n";
    auto calls = slack::to_calls(core::post_message{"C1", text}, slack::outbound_context{200, true});
    CHECK(calls.size() > 3);
    std::vector<std::string> texts;
    for (const auto& c : calls) {
      CHECK(c.method == "chat.postMessage");
      texts.push_back(body(c)["text"].get<std::string>());
      CHECK(texts.back().size() <= 200);
    }
    CHECK(join(texts) == text);
  }

  TEST_CASE("a line longer than a message is cut at a space, else at a character boundary") {
    std::string words;
    for (int i = 0; i < 50; ++i) words += "word" + std::to_string(i) + " ";
    auto pieces = slack::split_text(words, 64);
    for (const auto& p : pieces) {
      CHECK(p.size() <= 64);
      CHECK_FALSE(p.starts_with(" "));
    }
    CHECK(pieces.size() > 4);
    std::string glued;
    for (std::size_t i = 0; i < pieces.size(); ++i) glued += (i == 0 ? "" : " ") + pieces[i];
    CHECK(glued == words);  // only the spaces the text was cut at are gone

    std::string runes;
    for (int i = 0; i < 100; ++i) runes += "✓";  // three bytes each, no spaces
    pieces = slack::split_text(runes, 50);
    std::string back;
    for (const auto& p : pieces) {
      CHECK(p.size() <= 50);
      CHECK(p.size() % 3 == 0);  // never cut inside a character
      back += p;
    }
    CHECK(back == runes);
  }

  TEST_CASE("a code block split across messages is closed and reopened") {
    std::string text = "before\n```\n";
    for (int i = 0; i < 40; ++i) text += "log line " + std::to_string(i) + "\n";
    text += "```\nafter";
    auto pieces = slack::split_text(text, 120);
    REQUIRE(pieces.size() > 2);
    for (const auto& p : pieces) {
      CHECK(p.size() <= 120);
      std::size_t fences = 0;
      for (auto at = p.find("```"); at != std::string::npos; at = p.find("```", at + 3)) ++fences;
      CHECK(fences % 2 == 0);
    }
  }
}
