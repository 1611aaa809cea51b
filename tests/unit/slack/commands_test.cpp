// The Slack codec, inbound commands: form bodies, slash commands (HTTP form and Socket Mode JSON) and
// interactivity (block_actions buttons and menus), against fixtures/slack/slash_commands, interactivity and
// the interactive/slash Socket Mode envelopes.
#include "slack/codec.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

#include "slack_test_util.hpp"

namespace core = kintsugi::core;
namespace slack = kintsugi::slack;
using json = nlohmann::json;
using slack_test::fixture;
using slack_test::form_fixture;
using slack_test::iso;

namespace {

const core::timestamp now = core::parse_iso("2026-11-20T10:00:00Z").value();

std::string envelope_payload(const char* file) {
  auto f = slack::decode_frame(fixture(file));
  REQUIRE(std::holds_alternative<slack::envelope>(f));
  return std::get<slack::envelope>(f).payload;
}

}  // namespace

TEST_SUITE("slack codec: form bodies") {
  TEST_CASE("fields in order, '+' as space, %XX as bytes") {
    auto f = slack::decode_form("a=1&b=&c&text=start+db+down+%26+slow%20sev1&utf=%E2%9C%93&plus=a%2Bb");
    REQUIRE(f.has_value());
    REQUIRE(f->size() == 6);
    CHECK((*f)[0].name == "a");
    CHECK((*f)[0].value == "1");
    CHECK((*f)[1].value.empty());
    CHECK((*f)[2].name == "c");
    CHECK((*f)[2].value.empty());
    CHECK((*f)[3].value == "start db down & slow sev1");
    CHECK((*f)[4].value == "✓");
    CHECK((*f)[5].value == "a+b");
    CHECK(slack::decode_form("")->empty());
    CHECK_FALSE(slack::decode_form("text=%ZZ").has_value());
    CHECK_FALSE(slack::decode_form("text=100%").has_value());
  }
}

TEST_SUITE("slack codec: slash commands") {
  TEST_CASE("the HTTP form capture (slash_command_body.urlencoded)") {
    auto s = slack::decode_slash_command(form_fixture("slash_commands/slash_command_body.urlencoded"), now);
    CHECK(s.error.empty());
    CHECK(s.command == "/testcommand");
    CHECK(s.team_id == "T01ND2P8N91");
    CHECK(s.response_url == "https://hooks.slack.com/commands/T01ND2P8N91/2086715431956/xyP8iEhnQ0BjWLowcMLSPaSX");
    CHECK(s.trigger_id == "2093168434705.1761091294307.7f8d01a322363a013721e32e83af484b");
    CHECK(s.invoked.id == s.trigger_id);
    CHECK(s.invoked.channel == "C01N639ECTY");
    CHECK(s.invoked.user == "U01NK1K9L68");
    CHECK(s.invoked.text.empty());
    CHECK(s.invoked.at == now);
  }

  TEST_CASE("the signed body of the signing vector is a slash command too") {
    json vector = json::parse(fixture("slash_commands/request_signing_vector.json"));
    auto s = slack::decode_slash_command(vector["body"].get<std::string>(), now);
    CHECK(s.error.empty());
    CHECK(s.command == "/webhook-collect");
    CHECK(s.invoked.channel == "G8PSS9T3V");
    CHECK(s.invoked.user == "U2CERLKJA");
    CHECK(s.invoked.id == "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c");
  }

  TEST_CASE("the Socket Mode payload (envelope_slash_commands.json)") {
    auto s = slack::decode_slash_command(envelope_payload("socket_mode/envelope_slash_commands.json"), now,
                                         "1d3c79ab-0ffb-41f3-a080-d19e85f53649");
    CHECK(s.error.empty());
    CHECK(s.command == "/hello-socket-mode");
    CHECK(s.invoked.id == "111.222.xxx");
    CHECK(s.invoked.channel == "C111");
    CHECK(s.invoked.user == "U111");
    CHECK(s.response_url == "https://hooks.slack.com/commands/T111/111/xxx");
  }

  TEST_CASE("the union sample decodes and says what is missing") {
    slack::slash_command s;
    CHECK_NOTHROW(s = slack::decode_slash_command(fixture("slash_commands/schema_java_sdk/SlashCommandPayload.json"),
                                                  now, "env-7"));
    CHECK(s.error == "no user_id");
    CHECK(s.invoked.id == "env-7");  // no trigger_id: the envelope id
  }

  TEST_CASE("typed text: '+', %XX and Slack's escapes") {
    auto s = slack::decode_slash_command(
        "command=%2Fincident&channel_id=C1&user_id=U1&text=start+db+%26lt%3Bprimary%26gt%3B+down+%26amp%3B+slow+"
        "%3C%40U2%7Cbob%3E+sev1",
        now);
    CHECK(s.error.empty());
    CHECK(s.invoked.text == "start db <primary> down & slow <@U2|bob> sev1");
    CHECK(s.invoked.id == "C1:U1:2026-11-20T10:00:00Z");  // neither trigger nor envelope id
  }

  TEST_CASE("unreadable bodies are errors, not exceptions") {
    for (const char* body : {"text=%G1", "{", "[1]", "{\"user_id\":5}", ""}) {
      CAPTURE(body);
      slack::slash_command s;
      CHECK_NOTHROW(s = slack::decode_slash_command(body, now));
      CHECK_FALSE(s.error.empty());
    }
  }
}

TEST_SUITE("slack codec: interactivity") {
  TEST_CASE("kintsugi's action ids map to command text") {
    CHECK(slack::command_for_action("kintsugi.action.done", "7") == "action done 7");
    CHECK(slack::command_for_action("kintsugi.action.snooze", "7 3d") == "action snooze 7 3d");
    CHECK(slack::command_for_action("kintsugi.role", "commander me") == "role commander me");
    CHECK(slack::command_for_action("kintsugi.roles", "") == "roles");
    CHECK(slack::command_for_action("kintsugi.command", "status monitoring") == "status monitoring");
    CHECK_FALSE(slack::command_for_action("kintsugi.command", " ").has_value());
    CHECK_FALSE(slack::command_for_action("button-action", "click_me_123").has_value());
    CHECK_FALSE(slack::command_for_action("kintsugi.", "7").has_value());
    CHECK_FALSE(slack::command_for_action("kintsugi.action..done", "7").has_value());
    CHECK_FALSE(slack::command_for_action("kintsugi.Action.Done", "7").has_value());
    CHECK_FALSE(slack::command_for_action("kintsugi.action done", "7").has_value());
    CHECK_FALSE(slack::command_for_action("kintsugi.note", "line\nbreak").has_value());
  }

  TEST_CASE("a button click from the HTTP form (block_actions_button_body.urlencoded) and its decoded JSON") {
    for (const char* file :
         {"interactivity/block_actions_button_body.urlencoded", "interactivity/block_actions_button_payload.decoded.json"}) {
      CAPTURE(file);
      auto i = slack::decode_interactive(form_fixture(file), now);
      CHECK(i.error.empty());
      CHECK(i.type == "block_actions");
      CHECK(i.user == "U01NK1K9L68");
      CHECK(i.channel == "C01N9PM1D53");
      CHECK(i.action_id == "button-action");
      CHECK(i.value == "click_me_123");
      CHECK(i.trigger_id == "1785900466016.1761091294307.570d0e81a0429ccc47b150dc9fe53b02");
      CHECK(i.message_ts == "1613575038.002800");
      CHECK(i.response_url == "https://hooks.slack.com/actions/T01ND2P8N91/1762059566786/SbuERthjFRJnSEB3FV9pGV7k");
      CHECK_FALSE(i.command.has_value());  // not one of kintsugi's buttons
    }
  }

  TEST_CASE("a menu choice (block_actions_static_select_body.urlencoded)") {
    auto i = slack::decode_interactive(form_fixture("interactivity/block_actions_static_select_body.urlencoded"), now);
    CHECK(i.error.empty());
    CHECK(i.action_id == "static_select-action");
    CHECK(i.value == "value-0");
    CHECK(i.channel == "C01N9PM1D53");
  }

  TEST_CASE("Socket Mode interactive envelopes: a button and a global shortcut") {
    auto i = slack::decode_interactive(envelope_payload("socket_mode/envelope_interactive_block_actions_button.json"), now);
    CHECK(i.type == "block_actions");
    CHECK(i.user == "U111");
    CHECK(i.channel == "C111");
    CHECK(i.action_id == "a");
    CHECK(i.value == "underlying");
    CHECK(i.response_url == "https://hooks.slack.com/actions/T111/111/xxx");

    auto s = slack::decode_interactive(envelope_payload("socket_mode/envelope_interactive_shortcut.json"), now);
    CHECK(s.error.empty());
    CHECK(s.type == "shortcut");
    CHECK(s.user == "U111");
    CHECK(s.channel.empty());
    CHECK_FALSE(s.command.has_value());
  }

  TEST_CASE("a kintsugi button becomes the command it stands for") {
    json payload = json::parse(envelope_payload("socket_mode/envelope_interactive_block_actions_button.json"));
    payload["actions"][0]["action_id"] = "kintsugi.action.done";
    payload["actions"][0]["value"] = "7";
    auto i = slack::decode_interactive(payload.dump(), now);
    REQUIRE(i.command.has_value());
    CHECK(i.command->text == "action done 7");
    CHECK(i.command->id == "111.222.xxx");
    CHECK(i.command->channel == "C111");
    CHECK(i.command->user == "U111");
    CHECK(i.command->at == iso("2020-11-20T06:27:25.582706Z"));  // the action's action_ts

    payload["actions"][0].erase("action_ts");
    payload.erase("trigger_id");
    i = slack::decode_interactive(payload.dump(), now);
    REQUIRE(i.command.has_value());
    CHECK(i.command->at == now);
    CHECK(i.command->id == "C111:U111:");
  }

  TEST_CASE("unreadable interactive payloads are errors") {
    for (const char* body : {"", "payload=", "payload=%7B", "other=1", "{", "[]"}) {
      CAPTURE(body);
      slack::interaction i;
      CHECK_NOTHROW(i = slack::decode_interactive(body, now));
      CHECK_FALSE(i.error.empty());
    }
    auto i = slack::decode_interactive(R"({"type":"block_actions","actions":"no"})", now);
    CHECK(i.error.empty());
    CHECK(i.action_id.empty());
  }
}
