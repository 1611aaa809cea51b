// The Mattermost codec: custom slash commands (token check, mentions) and interactive-message actions (signed
// buttons), against fixtures/mattermost/slash_commands and fixtures/mattermost/interactivity.
#include "mattermost/codec.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <chrono>
#include <string>

#include "mattermost/outbound.hpp"
#include "mm_test_util.hpp"

namespace core = kintsugi::core;
namespace mm = kintsugi::mattermost;
using json = nlohmann::json;
using mm_test::fixture;
using mm_test::form_fixture;
using mm_test::iso;

namespace {

// 2026-11-21T09:00:00Z, built without doctest (assertions cannot run before main).
const core::timestamp at{std::chrono::sys_days{std::chrono::year{2026} / 11 / 21} + std::chrono::hours{9}};
constexpr std::string_view fixture_token = "qzgakf1nx3yt9dr4n8585ihbxy";
const std::string key = mm::derive_action_key("action secret");

std::string authorization_header() {
  json meta = json::parse(fixture("slash_commands/custom_command_request_meta.json"));
  return meta.at("headers").at("Authorization").get<std::string>();
}

// The form body without its token field.
std::string without_token(const std::string& body) {
  auto start = body.find("&token=");
  REQUIRE(start != std::string::npos);
  auto end = body.find('&', start + 1);
  return body.substr(0, start) + body.substr(end);
}

// What Mattermost POSTs when a button kintsugi posted is clicked: the request fixture with our context.
json click(const json& context) {
  json request = json::parse(fixture("interactivity/action_integration_request.json"));
  request["context"] = context;
  request["trigger_id"] = "trig1";
  request["user_name"] = "alice";
  return request;
}

}  // namespace

TEST_SUITE("mattermost codec: slash commands") {
  TEST_CASE("the documented request (custom_command_request_body.urlencoded + _meta.json)") {
    const std::string body = form_fixture("slash_commands/custom_command_request_body.urlencoded");
    json meta = json::parse(fixture("slash_commands/custom_command_request_meta.json"));
    CHECK(std::to_string(body.size()) == meta.at("headers").at("Content-Length").get<std::string>());
    CHECK(authorization_header() == "Token qzgakf1nx3yt9dr4n8585ihbxy");

    auto c = mm::decode_command(body, authorization_header(), fixture_token, at);
    CHECK(c.error.empty());
    CHECK(c.authorized);
    CHECK(c.command == "/weather");
    CHECK(c.response_url == "http://localhost:8066/hooks/commands/i11f6nnfgfyk8eg56x9omc6dpa");
    CHECK(c.team_id == "wx4zz8t4ttgmtxqiwfohijayzc");
    CHECK(c.channel_name == "town-square");
    CHECK(c.user_name == "alan");
    CHECK(c.trigger_id ==  // %3D decoded
          "ZWZ5ZjRndzR4YmJxOHJlZWh4MXpkaHozbnI6ZXJqNnFjazNyZmd0dWpzODZ3NXI2cmNremg6MTY2MjA0MTY5Njg5NjpNRVFDSUQ5cTZ3MkRHU1RaNjhy"
          "aDh1TGl1STlSVHh2R1czSXZ5aGVRYjhkWThuZnlBaUI2YnlPR2ZpWlczR1FmVkdIODlreEp4MmlVT0UxMm9LMjlkZ1d0RC8xbjZRPT0=");
    CHECK(c.user_mentions.empty());
    CHECK(c.unresolved_usernames.empty());
    CHECK(c.invoked.id == "mm:cmd:" + c.trigger_id);
    CHECK(c.invoked.channel == "mm:fukxanjgjbnp7ng383at53k1sy");
    CHECK(c.invoked.user == "mm:erj6qck3rfgtujs86w5r6rckzh");
    CHECK(c.invoked.text == "toronto week");  // '+' is a space
    CHECK(c.invoked.at == at);
    CHECK(core::idempotency_key(core::event{c.invoked}) == "cmd:mm:cmd:" + c.trigger_id);
  }

  TEST_CASE("the token: the header or the field, compared whole, never an empty one") {
    const std::string body = form_fixture("slash_commands/custom_command_request_body.urlencoded");
    const std::string header = authorization_header();
    // Either one suffices.
    CHECK(mm::decode_command(without_token(body), header, fixture_token, at).authorized);
    CHECK(mm::decode_command(body, "", fixture_token, at).authorized);
    CHECK(mm::decode_command(body, "Bearer qzgakf1nx3yt9dr4n8585ihbxy", fixture_token, at).authorized);  // the field
    CHECK(mm::decode_command(without_token(body), "token   qzgakf1nx3yt9dr4n8585ihbxy ", fixture_token, at).authorized);
    // Wrong, partial, longer, or the wrong scheme.
    for (const char* wrong : {"Token qzgakf1nx3yt9dr4n8585ihbx", "Token qzgakf1nx3yt9dr4n8585ihbxyz", "Token ",
                              "Token", "Bearer qzgakf1nx3yt9dr4n8585ihbxy", "qzgakf1nx3yt9dr4n8585ihbxy",
                              "Tokenqzgakf1nx3yt9dr4n8585ihbxy", "Token QZGAKF1NX3YT9DR4N8585IHBXY"}) {
      CAPTURE(wrong);
      auto c = mm::decode_command(without_token(body), wrong, fixture_token, at);
      CHECK_FALSE(c.authorized);
      CHECK(c.error.empty());  // still decoded: the caller answers 401
      CHECK(c.command == "/weather");
    }
    CHECK_FALSE(mm::decode_command(body, header, "another-token", at).authorized);
    // An empty expected token authorizes nothing, not even an empty token.
    CHECK_FALSE(mm::decode_command(body, header, "", at).authorized);
    CHECK_FALSE(mm::decode_command("token=&user_id=u&channel_id=c", "Token ", "", at).authorized);
  }

  TEST_CASE("@mentions become core mentions through the user_mentions maps") {
    const std::string body =
        "channel_id=c1&user_id=u1&command=%2Fincident&trigger_id=t1&token=tok"
        "&text=role+commander+%40Alice.+and+%40bob%2C+not+%40carol+or+%40me+or+ops%40example.com"
        "&user_mentions=alice&user_mentions_ids=aliceid00000000000000000a"
        "&user_mentions=%40bob&user_mentions_ids=bobid0000000000000000000b";
    auto c = mm::decode_command(body, "", "tok", at);
    CHECK(c.authorized);
    CHECK(c.user_mentions == std::map<std::string, std::string>{{"alice", "aliceid00000000000000000a"},
                                                                 {"bob", "bobid0000000000000000000b"}});
    CHECK(c.invoked.text ==
          "role commander <@mm:aliceid00000000000000000a>. and <@mm:bobid0000000000000000000b>, not @carol or @me or "
          "ops@example.com");
    CHECK(c.unresolved_usernames == std::vector<std::string>{"carol"});
  }

  TEST_CASE("mention maps of unequal length are not trusted") {
    auto c = mm::decode_command(
        "channel_id=c1&user_id=u1&text=%40alice&user_mentions=alice&user_mentions=bob&user_mentions_ids=a1", "", "x", at);
    CHECK(c.user_mentions.empty());
    CHECK(c.invoked.text == "@alice");
    CHECK(c.unresolved_usernames == std::vector<std::string>{"alice"});
  }

  TEST_CASE("unusable bodies are error values") {
    auto c = mm::decode_command("channel_id=c1&text=x", "", "tok", at);
    CHECK(c.error == "no user_id");
    c = mm::decode_command("user_id=u1&text=x", "", "tok", at);
    CHECK(c.error == "no channel_id");
    c = mm::decode_command("a=%zz", "", "tok", at);
    CHECK(c.error == "body is not a urlencoded form");
    c = mm::decode_command("", "", "tok", at);
    CHECK(c.error == "no user_id");
    // Without a trigger_id the id is made from channel, user and time.
    c = mm::decode_command("channel_id=c1&user_id=u1&text=status", "", "tok", at);
    CHECK(c.invoked.id == "mm:cmd:c1:u1:2026-11-21T09:00:00Z");
  }

  TEST_CASE("form decoding keeps repeated fields in order") {
    auto f = mm::decode_form("a=1&b=x+y&a=%32&&c");
    REQUIRE(f.has_value());
    REQUIRE(f->size() == 4);
    CHECK((*f)[0].name == "a");
    CHECK((*f)[1].value == "x y");
    CHECK((*f)[2].value == "2");
    CHECK((*f)[3].name == "c");
    CHECK((*f)[3].value.empty());
  }

  TEST_CASE("command responses (command_response_in_channel.json)") {
    json doc = json::parse(fixture("slash_commands/command_response_in_channel.json"));
    const std::string text = doc.at("text").get<std::string>();
    json ours = json::parse(mm::encode_command_response("in_channel", text));
    CHECK(ours.at("response_type") == doc.at("response_type"));
    CHECK(ours.at("text") == doc.at("text"));
    CHECK(ours.size() == 2);
    CHECK(json::parse(mm::encode_command_response("ephemeral", "only you"))["response_type"] == "ephemeral");
    CHECK(json::parse(mm::encode_command_response("anything", "x"))["response_type"] == "ephemeral");
    std::string huge(20000, 'a');
    auto cut = json::parse(mm::encode_command_response("ephemeral", huge))["text"].get<std::string>();
    CHECK(cut.size() == mm::max_post_chars - 1 + std::string("…").size());
  }
}

TEST_SUITE("mattermost codec: interactive actions") {
  TEST_CASE("the documented requests carry no kintsugi signature: not authorized") {
    for (const char* file : {"interactivity/action_integration_request.json",
                             "interactivity/action_integration_request_with_context_token.json"}) {
      CAPTURE(file);
      auto a = mm::decode_action(fixture(file), key, at);
      CHECK(a.error.empty());
      CHECK(a.user_id == "mm:rd49ehbqyjytddasoownkuqrxe");
      CHECK(a.channel_id == "mm:j6j53p28k6urx15fpcgsr20psq");
      CHECK(a.post_id == "gqrnh3675jfxzftnjyjfe4udeh");
      CHECK(a.team_id == "5xxzt146eax4tul69409opqjlf");
      CHECK(a.command.empty());
      CHECK_FALSE(a.authorized);
      CHECK_FALSE(a.invoked.has_value());
    }
  }

  TEST_CASE("a click on a button kintsugi posted becomes the command") {
    json body = json::parse(mm::encode_create_post("j6j53p28k6urx15fpcgsr20psq", "INC-7", "",
                                                   {{"I'll be commander", "role commander me", "primary"}},
                                                   "https://bot.example/mattermost/action", key));
    const json context = body["props"]["attachments"][0]["actions"][0]["integration"]["context"];
    auto a = mm::decode_action(click(context).dump(), key, at);
    CHECK(a.error.empty());
    CHECK(a.authorized);
    CHECK(a.command == "role commander me");
    CHECK(a.trigger_id == "trig1");
    CHECK(a.user_name == "alice");
    REQUIRE(a.invoked.has_value());
    CHECK(a.invoked->id == "mm:act:trig1");
    CHECK(a.invoked->channel == "mm:j6j53p28k6urx15fpcgsr20psq");
    CHECK(a.invoked->user == "mm:rd49ehbqyjytddasoownkuqrxe");
    CHECK(a.invoked->text == "role commander me");
    CHECK(a.invoked->at == at);

    json no_trigger = click(context);
    no_trigger.erase("trigger_id");
    auto b = mm::decode_action(no_trigger.dump(), key, at);
    REQUIRE(b.invoked.has_value());
    CHECK(b.invoked->id == "mm:act:gqrnh3675jfxzftnjyjfe4udeh:rd49ehbqyjytddasoownkuqrxe:2026-11-21T09:00:00Z");
  }

  TEST_CASE("forged, missing or foreign signatures are refused") {
    const std::string good = mm::action_signature(key, "resolve");
    REQUIRE(good.size() == 64);
    std::string upper = good;
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    CHECK(mm::decode_action(click({{"command", "resolve"}, {"sig", upper}}).dump(), key, at).authorized);

    std::string flipped = good;
    flipped[10] = flipped[10] == '0' ? '1' : '0';
    for (const json& context : {
             json{{"command", "resolve"}},                                          // no sig
             json{{"command", "resolve"}, {"sig", ""}},                             // empty sig
             json{{"command", "resolve"}, {"sig", flipped}},                        // one digit changed
             json{{"command", "sev sev4"}, {"sig", good}},                          // sig of another command
             json{{"command", "resolve"}, {"sig", good.substr(0, 63)}},             // short
             json{{"command", "resolve"}, {"sig", good + "0"}},                     // long
             json{{"command", "resolve"}, {"sig", std::string(64, 'g')}},           // not hex
             json{{"command", "resolve"}, {"sig", 12345}},                          // not a string
             json{{"command", "resolve"}, {"sig", mm::action_signature("other key", "resolve")}},
             json{{"command", ""}, {"sig", mm::action_signature(key, "")}},         // no command
             json{{"action", "do_something"}},                                      // the docs' context
         }) {
      CAPTURE(context.dump());
      auto a = mm::decode_action(click(context).dump(), key, at);
      CHECK_FALSE(a.authorized);
      CHECK_FALSE(a.invoked.has_value());
      CHECK(a.error.empty());
    }
    // With no key nothing is authorized, not even a signature made with no key.
    CHECK_FALSE(mm::decode_action(click({{"command", "resolve"}, {"sig", good}}).dump(), "", at).authorized);
    CHECK(mm::action_signature("", "resolve").empty());
  }

  TEST_CASE("unreadable requests and dialogs are error values") {
    CHECK(mm::decode_action("", key, at).error == "not JSON");
    CHECK(mm::decode_action("[1]", key, at).error == "not a JSON object");
    json no_user = click({{"command", "resolve"}, {"sig", mm::action_signature(key, "resolve")}});
    no_user.erase("user_id");
    auto a = mm::decode_action(no_user.dump(), key, at);
    CHECK(a.error == "no user_id");
    CHECK_FALSE(a.invoked.has_value());
    no_user["user_id"] = "u1";
    no_user["channel_id"] = 5;
    CHECK(mm::decode_action(no_user.dump(), key, at).error == "no channel_id");

    // A dialog submission (dialog_submission_request.json) is not a message action.
    auto d = mm::decode_action(fixture("interactivity/dialog_submission_request.json"), key, at);
    CHECK(d.error == "a dialog submission, not a message action");
    CHECK_FALSE(d.authorized);
    CHECK(d.user_id == "mm:<user ID of the user who submitted the dialog>");
    // Nor is the body that opens a dialog (dialog_open_request.json): it names no user or channel.
    auto o = mm::decode_action(fixture("interactivity/dialog_open_request.json"), key, at);
    CHECK(o.error == "no user_id");
    CHECK(o.trigger_id == "nbt1dxzqwpn6by14sfs66ganhc");
    CHECK_FALSE(o.authorized);
  }

  TEST_CASE("action replies match the documented shapes") {
    json update = json::parse(fixture("interactivity/action_integration_response_update_and_ephemeral.json"));
    json ours = json::parse(mm::encode_action_response(update.at("ephemeral_text").get<std::string>()));
    CHECK(ours == json{{"ephemeral_text", update.at("ephemeral_text")}});
    CHECK(json::parse(mm::encode_action_response("")) == json::object());

    json error = json::parse(fixture("interactivity/action_integration_response_error.json"));
    CHECK(json::parse(mm::encode_action_error(error.at("error").at("message").get<std::string>())) == error);

    // Dialogs answer differently ({"error": "…"} and {"errors": {…}}): the action error is not one of those.
    json dialog_error = json::parse(fixture("interactivity/dialog_submission_response_generic_error.json"));
    json field_errors = json::parse(fixture("interactivity/dialog_submission_response_field_errors.json"));
    CHECK(dialog_error.at("error").is_string());
    CHECK(field_errors.at("errors").is_object());
    json action_error = json::parse(mm::encode_action_error(dialog_error.at("error").get<std::string>()));
    CHECK(action_error.at("error").is_object());
    CHECK(action_error.at("error").at("message") == dialog_error.at("error"));
    CHECK_FALSE(action_error.contains("errors"));
  }
}
