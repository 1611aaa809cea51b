// Buttons on Slack: core buttons become Block Kit (a mrkdwn section and an actions block) on chat.postMessage,
// chat.postEphemeral and the post of a direct message; a click on one comes back through decode_interactive as
// the command the button carries.
#include "slack/web_api_calls.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "slack/codec.hpp"
#include "slack_test_util.hpp"

namespace core = kintsugi::core;
namespace slack = kintsugi::slack;
using json = nlohmann::json;
using slack_test::fixture;

namespace {

const core::timestamp now = core::parse_iso("2026-11-20T10:00:00Z").value();

json body(const slack::api_call& c) { return json::parse(c.json_body); }

const std::vector<core::button> roles{{"I'll be commander", "role commander me", "primary"},
                                      {"I'll be scribe", "role scribe me", ""},
                                      {"I'll be facilitator", "role facilitator me", ""}};

json button(const std::string& label, const std::string& command, int n, const std::string& style = "") {
  json b{{"type", "button"},
         {"text", {{"type", "plain_text"}, {"text", label}, {"emoji", true}}},
         {"action_id", "kintsugi.command." + std::to_string(n)},
         {"value", command}};
  if (!style.empty()) b["style"] = style;
  return b;
}

std::size_t chars(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// The elements of every actions block of a message body, in order.
std::vector<json> elements_of(const json& message) {
  std::vector<json> out;
  for (const auto& block : message["blocks"])
    if (block["type"] == "actions")
      for (const auto& e : block["elements"]) out.push_back(e);
  return out;
}

// What Slack sends when `user` clicks `element` of the message `posted` (a chat.postMessage body) in `channel`:
// the Socket Mode fixture's block_actions payload, with that message and that action.
std::string click(const json& posted, const json& element, const std::string& channel, const std::string& user) {
  json payload = json::parse(fixture("socket_mode/envelope_interactive_block_actions_button.json"))["payload"];
  payload["user"]["id"] = user;
  payload["channel"] = {{"id", channel}, {"name", "directmessage"}};
  payload["container"]["channel_id"] = channel;
  payload["message"]["text"] = posted["text"];
  payload["message"]["blocks"] = posted["blocks"];
  payload["actions"] = json::array({{{"action_id", element["action_id"]},
                                     {"block_id", "Xy1"},
                                     {"text", element["text"]},
                                     {"value", element["value"]},
                                     {"type", "button"},
                                     {"action_ts", "1763632860.000100"}}});
  if (element.contains("style")) payload["actions"][0]["style"] = element["style"];
  return payload.dump();
}

}  // namespace

TEST_SUITE("slack buttons: outbound") {
  TEST_CASE("a post with buttons: the text as a mrkdwn section, then one numbered button per core button") {
    auto calls = slack::to_calls(core::post_message{"C1", "Who takes the **roles**?", roles});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "chat.postMessage");
    CHECK(body(calls[0]) ==
          json{{"channel", "C1"},
               {"text", "Who takes the *roles*?"},
               {"blocks",
                {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "Who takes the *roles*?"}}}},
                 {{"type", "actions"},
                  {"elements",
                   {button("I'll be commander", "role commander me", 1, "primary"),
                    button("I'll be scribe", "role scribe me", 2), button("I'll be facilitator", "role facilitator me", 3)}}}}}});
  }

  TEST_CASE("no buttons, no blocks") {
    CHECK(body(slack::to_calls(core::post_message{"C1", "hi", {}})[0]) == json{{"channel", "C1"}, {"text", "hi"}});
    CHECK(body(slack::to_calls(core::post_ephemeral{"C1", "U2", "hi", {}})[0]) ==
          json{{"channel", "C1"}, {"user", "U2"}, {"text", "hi"}});
  }

  TEST_CASE("an ephemeral with buttons") {
    auto calls = slack::to_calls(core::post_ephemeral{"C1", "U2", "Only you <see> this", {{"Write the postmortem", "postmortem", ""}}});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "chat.postEphemeral");
    auto b = body(calls[0]);
    CHECK(b["channel"] == "C1");
    CHECK(b["user"] == "U2");
    CHECK(b["text"] == "Only you &lt;see&gt; this");
    CHECK(b["blocks"][0]["text"]["text"] == "Only you &lt;see&gt; this");
    CHECK(b["blocks"][1] == json{{"type", "actions"}, {"elements", {button("Write the postmortem", "postmortem", 1)}}});
  }

  TEST_CASE("a direct message carries its buttons through conversations.open to the post in the DM") {
    const std::vector<core::button> owner{{"Mark done", "action done 7", "primary"}, {"Snooze 1 day", "action snooze 7 1d", ""}};
    auto calls = slack::to_calls(core::direct_message{"U2", "You own action #7", owner});
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].method == "conversations.open");
    CHECK(body(calls[0]) == json{{"users", "U2"}});

    auto opened = slack::decode_api_response("conversations.open", 200, R"({"ok":true,"channel":{"id":"D069C7QFK"}})");
    auto next = slack::follow_up_calls(calls[0], opened);
    REQUIRE(next.size() == 1);
    CHECK(next[0].method == "chat.postMessage");
    CHECK(body(next[0]) == json{{"channel", "D069C7QFK"},
                                {"text", "You own action #7"},
                                {"blocks",
                                 {{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "You own action #7"}}}},
                                  {{"type", "actions"},
                                   {"elements", {button("Mark done", "action done 7", 1, "primary"),
                                                 button("Snooze 1 day", "action snooze 7 1d", 2)}}}}}});
  }

  TEST_CASE("a text longer than a section: the tail is split so the last message's section fits, nothing is lost") {
    std::string text;
    for (int line = 0; text.size() < 7000; ++line) text += "line " + std::to_string(line) + " of a long röles list\n";
    text += "Who takes them?";
    auto calls = slack::to_calls(core::post_message{"C1", text, roles});
    REQUIRE(calls.size() >= 3);
    std::string joined;
    for (std::size_t k = 0; k < calls.size(); ++k) {
      CAPTURE(k);
      auto b = body(calls[k]);
      joined += (k == 0 ? "" : "\n") + b["text"].get<std::string>();
      if (k + 1 < calls.size()) {
        CHECK_FALSE(b.contains("blocks"));
      } else {
        REQUIRE(b.contains("blocks"));
        CHECK(b["blocks"][0]["type"] == "section");
        CHECK(b["blocks"][0]["text"]["text"] == b["text"]);
        CHECK(chars(b["text"].get<std::string>()) <= 3000);
        CHECK(b["blocks"][1]["type"] == "actions");
        CHECK(b["blocks"][1]["elements"].size() == 3);
      }
    }
    CHECK(joined == text);
    // Without buttons the same text is one message (Slack's limit for plain text is 40,000 characters).
    CHECK(slack::to_calls(core::post_message{"C1", text}).size() == 1);
  }

  TEST_CASE("an empty text with buttons: only the actions block") {
    auto b = body(slack::to_calls(core::post_message{"C1", "", {{"Mark done", "action done 7", ""}}})[0]);
    CHECK(b["blocks"] == json{{{"type", "actions"}, {"elements", {button("Mark done", "action done 7", 1)}}}});
  }

  TEST_CASE("Slack's limits: labels cut at 75 characters, unusable buttons left out, 25 buttons an actions block") {
    const std::string long_label = std::string(70, 'x') + "ünïcödé";  // 77 characters
    const std::vector<core::button> mixed{
        {long_label, "help", ""},
        {"Too long", std::string(2001, 'a'), ""},
        {"Two lines", "note one\ntwo", ""},
        {"Blank", "  ", ""},
        {"", "roles", "loud"},  // no label: the command stands in; an unknown style is left out
        {"Drop it", "action drop 7", "danger"},
    };
    auto elements = elements_of(body(slack::to_calls(core::post_message{"C1", "t", mixed})[0]));
    REQUIRE(elements.size() == 3);
    CHECK(elements[0]["text"]["text"] == std::string(70, 'x') + "ünïc…");
    CHECK(chars(elements[0]["text"]["text"].get<std::string>()) == 75);
    CHECK(elements[1] == button("roles", "roles", 2));
    CHECK(elements[2] == button("Drop it", "action drop 7", 3, "danger"));
    // A value of exactly 2,000 characters is fine.
    CHECK(elements_of(body(slack::to_calls(core::post_message{"C1", "t", {{"x", std::string(2000, 'a'), ""}}})[0])).size() == 1);

    // Only unusable buttons: a plain message.
    auto plain = body(slack::to_calls(core::post_message{"C1", "t", {mixed[1], mixed[2]}})[0]);
    CHECK(plain == json{{"channel", "C1"}, {"text", "t"}});

    std::vector<core::button> many;
    for (int n = 1; n <= 30; ++n) many.push_back({"B" + std::to_string(n), "action done " + std::to_string(n), ""});
    auto b = body(slack::to_calls(core::post_message{"C1", "t", many})[0]);
    REQUIRE(b["blocks"].size() == 3);
    CHECK(b["blocks"][1]["elements"].size() == 25);
    CHECK(b["blocks"][2]["elements"].size() == 5);
    auto all = elements_of(b);
    REQUIRE(all.size() == 30);
    for (std::size_t k = 0; k < all.size(); ++k) CHECK(all[k]["action_id"] == "kintsugi.command." + std::to_string(k + 1));
  }
}

TEST_SUITE("slack buttons: the click comes back") {
  TEST_CASE("numbered command action ids take the command from the value") {
    CHECK(slack::command_for_action("kintsugi.command.1", "role commander me") == "role commander me");
    CHECK(slack::command_for_action("kintsugi.command.25", "action done 7") == "action done 7");
    CHECK_FALSE(slack::command_for_action("kintsugi.command.", "roles").has_value());
    CHECK_FALSE(slack::command_for_action("kintsugi.command.3", " ").has_value());
    CHECK_FALSE(slack::command_for_action("kintsugi.command.3", "note a\nb").has_value());
    // Not a number: read as words like any other kintsugi action id, not as a command button.
    CHECK(slack::command_for_action("kintsugi.command.x", "y") == "command x y");
  }

  TEST_CASE("round trip: every button of a post, clicked, is its command from that user in that channel") {
    auto posted = body(slack::to_calls(core::post_message{"C42", "Who takes the roles?", roles})[0]);
    auto elements = elements_of(posted);
    REQUIRE(elements.size() == roles.size());
    for (std::size_t k = 0; k < roles.size(); ++k) {
      CAPTURE(k);
      auto i = slack::decode_interactive(click(posted, elements[k], "C42", "U7"), now);
      CHECK(i.error.empty());
      CHECK(i.type == "block_actions");
      CHECK(i.action_id == "kintsugi.command." + std::to_string(k + 1));
      REQUIRE(i.command.has_value());
      CHECK(i.command->text == roles[k].command);
      CHECK(i.command->user == "U7");
      CHECK(i.command->channel == "C42");
      CHECK(i.command->at == slack_test::iso("2025-11-20T10:01:00.0001Z"));
    }
  }

  TEST_CASE("round trip through the HTTP form body") {
    auto posted = body(slack::to_calls(core::post_ephemeral{"C42", "U7", "x", {{"Write the postmortem", "postmortem", ""}}})[0]);
    auto elements = elements_of(posted);
    REQUIRE(elements.size() == 1);
    std::string form = "payload=";
    for (char ch : click(posted, elements[0], "C42", "U7")) {
      const auto c = static_cast<unsigned char>(ch);
      const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
      static const char* hex = "0123456789ABCDEF";
      form += plain ? std::string(1, static_cast<char>(c)) : std::string{'%', hex[c >> 4], hex[c & 15]};
    }
    auto i = slack::decode_interactive(form, now);
    REQUIRE(i.command.has_value());
    CHECK(i.command->text == "postmortem");
  }

  TEST_CASE("round trip from a direct message: the command comes from the DM channel") {
    auto calls = slack::to_calls(core::direct_message{"U7", "You own action #7", {{"Mark done", "action done 7", "primary"},
                                                                                  {"Snooze 1 day", "action snooze 7 1d", ""}}});
    auto opened = slack::decode_api_response("conversations.open", 200, R"({"ok":true,"channel":{"id":"D069C7QFK"}})");
    auto posts = slack::follow_up_calls(calls[0], opened);
    REQUIRE(posts.size() == 1);
    auto posted = body(posts[0]);
    auto elements = elements_of(posted);
    REQUIRE(elements.size() == 2);
    auto done = slack::decode_interactive(click(posted, elements[0], "D069C7QFK", "U7"), now);
    REQUIRE(done.command.has_value());
    CHECK(done.command->text == "action done 7");
    CHECK(done.command->channel == "D069C7QFK");
    CHECK(done.command->user == "U7");
    auto snooze = slack::decode_interactive(click(posted, elements[1], "D069C7QFK", "U7"), now);
    REQUIRE(snooze.command.has_value());
    CHECK(snooze.command->text == "action snooze 7 1d");
  }
}
