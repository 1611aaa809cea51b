// The Slack codec, inbound: Socket Mode frames, timestamps and ids, and the Events API mapping, against
// every fixture under fixtures/slack/events and fixtures/slack/socket_mode.
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
using slack_test::iso;
using slack_test::only;

namespace {

const slack::context ctx{"U01N9R657HB", "B0KINTSUGI"};  // the bot in the opsdroid captures is U01N9R657HB

template <class T>
T as(const slack::frame& f) {
  REQUIRE(std::holds_alternative<T>(f));
  return std::get<T>(f);
}

slack::events_api_result decode(const json& body, const slack::context& c = ctx) {
  return slack::decode_events_api(body.dump(), c);
}

}  // namespace

TEST_SUITE("slack codec: timestamps and ids") {
  TEST_CASE("ts strings become exact microsecond instants") {
    CHECK(slack::parse_ts("1613563664.001200") == iso("2021-02-17T12:07:44.0012Z"));
    CHECK(slack::parse_ts("1477958240.864741") == iso("2016-10-31T23:57:20.864741Z"));
    CHECK(slack::parse_ts("0000000000.000000") == core::timestamp{});
    CHECK(slack::parse_ts("1613563664") == iso("2021-02-17T12:07:44Z"));
    CHECK(slack::parse_ts("1.5") == core::timestamp{std::chrono::microseconds{1'500'000}});
    CHECK(slack::parse_ts("1.1234569") == core::timestamp{std::chrono::microseconds{1'123'456}});
    for (const char* bad : {"", ".", "1.", ".5", "abc", "-1.0", "1.2.3", "1e5", " 1.0", "1.0 ", "1234567890123.0"}) {
      CAPTURE(bad);
      CHECK_FALSE(slack::parse_ts(bad).has_value());
    }
  }

  TEST_CASE("format_ts is the inverse, always with six digits") {
    CHECK(slack::format_ts(iso("2021-02-17T12:07:44.0012Z")) == "1613563664.001200");
    CHECK(slack::format_ts(core::timestamp{}) == "0.000000");
    for (const char* ts : {"1613563664.001200", "1477958240.864741", "1512085950.000216"}) {
      CHECK(slack::format_ts(*slack::parse_ts(ts)) == ts);
    }
  }

  TEST_CASE("message ids are <channel>:<ts> and split back") {
    CHECK(slack::message_id("C1", "1.000001") == "C1:1.000001");
    auto ref = slack::split_message_id("C01N9PM1D53:1613563664.001200");
    REQUIRE(ref.has_value());
    CHECK(ref->channel == "C01N9PM1D53");
    CHECK(ref->ts == "1613563664.001200");
    CHECK_FALSE(slack::split_message_id("no-colon").has_value());
    CHECK_FALSE(slack::split_message_id(":1.0").has_value());
    CHECK_FALSE(slack::split_message_id("C1:").has_value());
  }

  TEST_CASE("Slack's escapes are undone, mention and link syntax kept") {
    CHECK(slack::unescape_text("a &lt; b &amp;&amp; c &gt; d") == "a < b && c > d");
    CHECK(slack::unescape_text("<@U123> see <#C1|ops> and <https://x.io/?a=1&amp;b=2|docs>") ==
          "<@U123> see <#C1|ops> and <https://x.io/?a=1&b=2|docs>");
    CHECK(slack::unescape_text("&amp;lt; stays one level") == "&lt; stays one level");
    CHECK(slack::unescape_text("&quot; &nbsp; & &am") == "&quot; &nbsp; & &am");
    CHECK(slack::unescape_text("&&amp;&lt;&gt;&") == "&&<>&");
    CHECK(slack::unescape_text("") == "");
    CHECK(slack::unescape_text("no entities at all") == "no entities at all");
  }
}

TEST_SUITE("slack codec: socket mode frames") {
  TEST_CASE("hello fixture") {
    auto h = as<slack::hello>(slack::decode_frame(fixture("socket_mode/hello.json")));
    CHECK(h.app_id == "A111");
    CHECK(h.num_connections == 2);
    CHECK(h.approximate_connection_time == 18060);
  }

  TEST_CASE("disconnect frames: the fixture and the three documented reasons") {
    auto d = as<slack::disconnect>(slack::decode_frame(fixture("socket_mode/disconnect_too_many_websockets.json")));
    CHECK(d.reason == slack::disconnect_reason::too_many_websockets);
    CHECK(d.reason_text == "too_many_websockets");

    d = as<slack::disconnect>(slack::decode_frame(
        R"({"type":"disconnect","reason":"warning","debug_info":{"host":"applink-7fc4fdbb64-4x5xq"}})"));
    CHECK(d.reason == slack::disconnect_reason::warning);
    d = as<slack::disconnect>(slack::decode_frame(
        R"({"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-7fc4fdbb64-4x5xq"}})"));
    CHECK(d.reason == slack::disconnect_reason::refresh_requested);
    d = as<slack::disconnect>(
        slack::decode_frame(R"({"type":"disconnect","reason":"link_disabled","debug_info":{"host":"wss-111.slack.com"}})"));
    CHECK(d.reason == slack::disconnect_reason::link_disabled);
    CHECK(slack::name(d.reason) == "link_disabled");

    d = as<slack::disconnect>(slack::decode_frame(R"({"type":"disconnect","reason":"something_new"})"));
    CHECK(d.reason == slack::disconnect_reason::other);
    CHECK(d.reason_text == "something_new");
    d = as<slack::disconnect>(slack::decode_frame(R"({"type":"disconnect"})"));
    CHECK(d.reason == slack::disconnect_reason::other);
  }

  TEST_CASE("envelope fixtures") {
    struct expected {
      const char* file;
      const char* id;
      slack::envelope_type type;
      bool accepts;
      const char* payload_type;
    };
    for (const auto& e : {
             expected{"socket_mode/envelope_events_api_app_mention.json", "cda4159a-72a5-4744-aba3-4d66eb52682b",
                      slack::envelope_type::events_api, false, "event_callback"},
             expected{"socket_mode/envelope_events_api_message.json", "ac2cfd40-6f8c-4d5e-a1ad-646e532baa19",
                      slack::envelope_type::events_api, false, "event_callback"},
             expected{"socket_mode/envelope_interactive_block_actions_button.json", "xxx-11-222-yyy-zzz",
                      slack::envelope_type::interactive, false, "block_actions"},
             expected{"socket_mode/envelope_interactive_shortcut.json", "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
                      slack::envelope_type::interactive, false, "shortcut"},
             expected{"socket_mode/envelope_slash_commands.json", "1d3c79ab-0ffb-41f3-a080-d19e85f53649",
                      slack::envelope_type::slash_commands, true, ""},
         }) {
      CAPTURE(e.file);
      auto env = as<slack::envelope>(slack::decode_frame(fixture(e.file)));
      CHECK(env.envelope_id == e.id);
      CHECK(env.type == e.type);
      CHECK(env.type_text == slack::name(e.type));
      CHECK(env.accepts_response_payload == e.accepts);
      CHECK(env.retry_attempt == 0);
      CHECK(env.retry_reason.empty());
      json payload = json::parse(env.payload);
      CHECK(payload.is_object());
      CHECK(payload.value("type", "") == e.payload_type);
    }
  }

  TEST_CASE("a redelivered envelope keeps its retry fields, an unknown type is still an envelope to ack") {
    auto env = as<slack::envelope>(slack::decode_frame(
        R"({"envelope_id":"e1","type":"events_api","payload":{"type":"event_callback"},"retry_attempt":2,"retry_reason":"timeout"})"));
    CHECK(env.retry_attempt == 2);
    CHECK(env.retry_reason == "timeout");
    env = as<slack::envelope>(slack::decode_frame(R"({"envelope_id":"e2","type":"brand_new"})"));
    CHECK(env.type == slack::envelope_type::other);
    CHECK(env.type_text == "brand_new");
    CHECK(env.payload == "{}");
  }

  TEST_CASE("an envelope's payload is its text as sent, and decodes as that text does") {
    for (const char* file : {"socket_mode/envelope_events_api_message.json", "socket_mode/envelope_events_api_app_mention.json"}) {
      CAPTURE(file);
      const std::string text = fixture(file);
      auto env = as<slack::envelope>(slack::decode_frame(text));
      CHECK(json::parse(env.payload) == json::parse(text)["payload"]);
      CHECK(text.find(env.payload) != std::string::npos);  // the slice as sent, not a re-serialization
      const slack::context c{"U333", "B333"};
      auto from_tree = slack::decode_events_api(env, c);
      auto from_text = slack::decode_events_api(env.payload, c);
      CHECK(from_tree.event_id == from_text.event_id);
      CHECK(from_tree.event_type == from_text.event_type);
      CHECK(from_tree.dedupe_key == from_text.dedupe_key);
      REQUIRE(from_tree.events.size() == from_text.events.size());
      for (std::size_t i = 0; i < from_tree.events.size(); ++i)
        CHECK(core::idempotency_key(from_tree.events[i]) == core::idempotency_key(from_text.events[i]));
    }
    // Rich-text blocks and authorizations, which no decoder reads, change nothing.
    const std::string with_blocks =
        R"({"envelope_id":"e8","type":"events_api","payload":{"type":"event_callback","event_id":"Ev8",)"
        R"("authorizations":[{"user_id":"U333","is_bot":true}],"event":{"type":"message","user":"U1","text":"db is *down*",)"
        R"("ts":"1610241741.000200","channel":"C1","blocks":[{"type":"rich_text","elements":[{"type":"rich_text_section",)"
        R"("elements":[{"type":"text","text":"db is "},{"type":"text","text":"down","style":{"bold":true}}]}]}]}}})";
    auto blocks_env = as<slack::envelope>(slack::decode_frame(with_blocks));
    CHECK(blocks_env.payload.find("rich_text_section") != std::string::npos);
    const auto via_tree = slack::decode_events_api(blocks_env, {"U333", "B333"});
    const auto via_text = slack::decode_events_api(blocks_env.payload, {"U333", "B333"});
    CHECK(only<core::message_posted>(via_tree.events).text == "db is *down*");
    CHECK(core::idempotency_key(via_tree.events.front()) == core::idempotency_key(via_text.events.front()));
    // Spaces, nested strings with braces and escaped quotes before the payload, and a repeated key (the last wins,
    // as everywhere else in kintsugi's JSON reading).
    auto env = as<slack::envelope>(slack::decode_frame(
        R"({ "retry_reason" : "a \"quoted\" {brace]" , "envelope_id":"e9","payload":{"old":1}, "type":"events_api",)"
        R"( "payload" : {"type":"event_callback","event":{"type":"message","text":"x}y"}} })"));
    CHECK(env.envelope_id == "e9");
    CHECK(env.payload == R"({"type":"event_callback","event":{"type":"message","text":"x}y"}})");
    CHECK(slack::decode_events_api(env, {"U333", "B333"}).type == "event_callback");
    // A string that ends in an escaped backslash ends there; one with an escaped quote goes on.
    env = as<slack::envelope>(slack::decode_frame(
        R"({"retry_reason":"ends in \\","envelope_id":"e10","x":"say \"payload\":{}\\\"","payload":{"type":"a\\"}})"));
    CHECK(env.retry_reason == "ends in \\");
    CHECK(env.payload == R"({"type":"a\\"})");
    CHECK(slack::decode_events_api(env, {}).type == "a\\");
  }

  TEST_CASE("decode_frame with the bot's context decodes an events_api payload in the same parse") {
    const slack::context c{"U333", "B333"};
    std::vector<std::string> frames;
    for (const char* file : {"socket_mode/envelope_events_api_message.json", "socket_mode/envelope_events_api_app_mention.json"})
      frames.push_back(fixture(file));
    // The bot's own message, an edit and an envelope whose payload is not an Events API object.
    frames.push_back(R"({"envelope_id":"e1","type":"events_api","payload":{"type":"event_callback","event_id":"Ev1",)"
                     R"("event":{"type":"message","user":"U333","text":"mine","ts":"1610241741.000200","channel":"C1"}}})");
    frames.push_back(R"({"envelope_id":"e2","type":"events_api","payload":{"type":"event_callback","event_id":"Ev2",)"
                     R"("event":{"type":"message","subtype":"message_changed","channel":"C1","ts":"1610241742.000100",)"
                     R"("message":{"type":"message","user":"U1","text":"new","ts":"1610241741.000200"},)"
                     R"("previous_message":{"type":"message","user":"U1","text":"old","ts":"1610241741.000200"}}}})");
    frames.push_back(R"({"envelope_id":"e3","type":"events_api","payload":{"type":[1]}})");
    for (const auto& text : frames) {
      CAPTURE(text);
      const auto plain = as<slack::envelope>(slack::decode_frame(text));
      const auto fast = as<slack::envelope>(slack::decode_frame(text, c));
      CHECK_FALSE(plain.events.has_value());
      REQUIRE(fast.events.has_value());
      CHECK(fast.payload.empty());
      CHECK(fast.envelope_id == plain.envelope_id);
      const auto& once = *fast.events;
      const auto twice = slack::decode_events_api(plain.payload, c);
      CHECK(once.type == twice.type);
      CHECK(once.event_id == twice.event_id);
      CHECK(once.event_type == twice.event_type);
      CHECK(once.dedupe_key == twice.dedupe_key);
      CHECK(once.error == twice.error);
      REQUIRE(once.events.size() == twice.events.size());
      for (std::size_t i = 0; i < once.events.size(); ++i) {
        CHECK(core::idempotency_key(once.events[i]) == core::idempotency_key(twice.events[i]));
        CHECK(core::time_of(once.events[i]) == core::time_of(twice.events[i]));
      }
      // decode_events_api(envelope) gives the same either way.
      CHECK(slack::decode_events_api(fast, c).dedupe_key == twice.dedupe_key);
    }
    // Other envelopes keep their payload text for their own decoders.
    const auto slash = as<slack::envelope>(slack::decode_frame(fixture("socket_mode/envelope_slash_commands.json"), c));
    CHECK_FALSE(slash.events.has_value());
    CHECK_FALSE(slash.payload.empty());
  }

  TEST_CASE("an ack carries the envelope id, escaped, and a payload only when given") {
    CHECK(slack::encode_ack("e1", "") == R"({"envelope_id":"e1"})");
    CHECK(json::parse(slack::encode_ack("a\"b", ""))["envelope_id"] == "a\"b");
    // Whatever an id holds, the ack is valid JSON that carries it back unchanged.
    for (const std::string& id : {std::string("a\\b"), std::string("tab\there"), std::string("nul\0x", 5),
                                  std::string("\x1f\x7f caf\xc3\xa9 \xe2\x9c\x93")}) {
      CHECK(json::parse(slack::encode_ack(id, ""))["envelope_id"] == id);
    }
    auto with = json::parse(slack::encode_ack("e2", R"({"text":"hi"})"));
    CHECK(with["payload"]["text"] == "hi");
  }

  TEST_CASE("malformed frames never throw") {
    std::string huge(4 * 1024 * 1024, 'x');
    std::string deep(200'000, '[');
    std::string huge_valid = R"({"type":"hello","pad":")" + std::string(3 * 1024 * 1024, 'a') + "\"}";
    for (const std::string& text : std::vector<std::string>{
             "", "{", "[]", R"({"type":5})", "null", "\"hello\"", "42", R"({"envelope_id":5,"type":"events_api"})",
             R"({"envelope_id":"","type":"events_api"})", R"({"type":"goodbye"})", R"({"no_type":true})", huge, deep,
             deep + std::string(200'000, ']'), "{\"type\":\"hello\xff\xfe\"}", std::string("{\"a\":\0}", 7),
             R"({"type":"hello"} trailing)"}) {
      CAPTURE(text.substr(0, 40));
      slack::frame f;
      CHECK_NOTHROW(f = slack::decode_frame(text));
      CHECK(std::holds_alternative<slack::malformed>(f));
      if (auto* m = std::get_if<slack::malformed>(&f)) CHECK_FALSE(m->why.empty());
    }
    // A huge but valid hello is still a hello.
    CHECK(std::holds_alternative<slack::hello>(slack::decode_frame(huge_valid)));
    // Odd field types fall back to defaults rather than failing.
    auto h = as<slack::hello>(slack::decode_frame(
        R"({"type":"hello","num_connections":"two","connection_info":[],"debug_info":{"approximate_connection_time":-5}})"));
    CHECK(h.num_connections == 0);
    CHECK(h.app_id.empty());
    CHECK(h.approximate_connection_time == 0);
  }

  TEST_CASE("acks") {
    CHECK(json::parse(slack::encode_ack("e-1")) == json{{"envelope_id", "e-1"}});
    CHECK(json::parse(slack::encode_ack("e-1", R"({"text":"hi","response_type":"ephemeral"})")) ==
          json{{"envelope_id", "e-1"}, {"payload", {{"text", "hi"}, {"response_type", "ephemeral"}}}});
    CHECK(json::parse(slack::encode_ack("e-1", "not json")) == json{{"envelope_id", "e-1"}});
    CHECK(json::parse(slack::encode_ack("e-\"1", "[1]")) == json{{"envelope_id", "e-\"1"}});
  }
}

TEST_SUITE("slack codec: events api fixtures") {
  TEST_CASE("a plain message (event_callback_message.json)") {
    auto r = slack::decode_events_api(fixture("events/event_callback_message.json"), ctx);
    CHECK(r.error.empty());
    CHECK(r.type == "event_callback");
    CHECK(r.event_id == "Ev01NA3KCXSR");
    CHECK(r.dedupe_key == "Ev01NA3KCXSR");
    CHECK(r.event_type == "message");
    const auto& m = only<core::message_posted>(r.events);
    CHECK(m.id == "C01N9PM1D53:1613563664.001200");
    CHECK(m.channel == "C01N9PM1D53");
    CHECK(m.user == "U01NK1K9L68");
    CHECK(m.text == "this is a test message");
    CHECK(m.at == iso("2021-02-17T12:07:44.0012Z"));
    CHECK_FALSE(m.from_bot);
    CHECK(m.thread_id.empty());

    // The same message seen by a bot whose own user it is.
    auto mine = slack::decode_events_api(fixture("events/event_callback_message.json"), {"U01NK1K9L68", "B9"});
    CHECK(only<core::message_posted>(mine.events).from_bot);
  }

  TEST_CASE("an edit (event_callback_message_changed.json)") {
    auto r = slack::decode_events_api(fixture("events/event_callback_message_changed.json"), ctx);
    CHECK(r.event_id == "Ev01NE8M3HE1");
    CHECK(r.event_type == "message/message_changed");
    const auto& e = only<core::message_edited>(r.events);
    CHECK(e.id == "C01N9PM1D53:1613632675.006300");
    CHECK(e.text == "this is an edited message");
    CHECK(e.at == iso("2021-02-18T07:18:24.0064Z"));
  }

  TEST_CASE("a member joining is member_joined, never a message (event_callback_message_channel_join.json)") {
    auto r = slack::decode_events_api(fixture("events/event_callback_message_channel_join.json"), ctx);
    CHECK(r.error.empty());
    CHECK(r.event_id == "Ev01NLSVPKEG");
    CHECK(r.event_type == "message/channel_join");
    const auto& j = only<core::member_joined>(r.events);
    CHECK(j.channel == "C01N7UHFD54");
    CHECK(j.user == "U01NK1K9L68");
    CHECK(j.at == iso("2021-02-17T17:28:24.0004Z"));
    // The bot's own join says nothing.
    auto own = slack::decode_events_api(fixture("events/event_callback_message_channel_join.json"),
                                        {"U01NK1K9L68", "B0KINTSUGI"});
    CHECK(own.events.empty());
  }

  TEST_CASE("member_joined_channel, member_left_channel and channel_leave") {
    json joined = {{"type", "event_callback"},
                   {"event_id", "Ev1"},
                   {"event_time", 1613582904},
                   {"event",
                    {{"type", "member_joined_channel"},
                     {"user", "U2"},
                     {"channel", "C1"},
                     {"channel_type", "C"},
                     {"team", "T1"},
                     {"inviter", "U1"},
                     {"event_ts", "1613582904.000500"}}}};
    auto r = decode(joined);
    CHECK(r.event_type == "member_joined_channel");
    const auto& j = only<core::member_joined>(r.events);
    CHECK(j.channel == "C1");
    CHECK(j.user == "U2");
    CHECK(j.at == iso("2021-02-17T17:28:24.0005Z"));

    json left = joined;
    left["event"] = {{"type", "member_left_channel"}, {"user", "U2"}, {"channel", "C1"}, {"channel_type", "C"},
                     {"team", "T1"}, {"event_ts", "1613582999.000100"}};
    const auto& l = only<core::member_left>(decode(left).events);
    CHECK(l.channel == "C1");
    CHECK(l.user == "U2");
    CHECK(l.at == iso("2021-02-17T17:29:59.0001Z"));

    json leave_message = joined;
    leave_message["event"] = {{"type", "message"}, {"subtype", "channel_leave"}, {"user", "U2"},
                              {"text", "<@U2> has left the channel"}, {"channel", "C1"},
                              {"ts", "1613583000.000200"}, {"event_ts", "1613583000.000200"}};
    const auto& m = only<core::member_left>(decode(leave_message).events);
    CHECK(m.user == "U2");
    CHECK(m.at == iso("2021-02-17T17:30:00.0002Z"));

    // Without a user or a channel there is nothing to say; the bot's own leave neither.
    json no_user = joined;
    no_user["event"].erase("user");
    CHECK(decode(no_user).events.empty());
    json bot_left = left;
    bot_left["event"]["user"] = ctx.bot_user_id;
    CHECK(decode(bot_left).events.empty());
  }

  TEST_CASE("another bot's thread reply, and our own (event_callback_bot_message_thread_reply_partial.json)") {
    auto r = slack::decode_events_api(fixture("events/event_callback_bot_message_thread_reply_partial.json"), ctx);
    CHECK(r.error.empty());
    CHECK(r.event_id.empty());
    CHECK(r.dedupe_key == "message/bot_message:C01N9PM1D53:1614540108.001500:");
    const auto& m = only<core::message_posted>(r.events);
    CHECK(m.id == "C01N9PM1D53:1614540108.001500");
    CHECK(m.user == "B01MY4ZRP5M");
    CHECK(m.text == "Hi opsdroid");
    CHECK(m.thread_id == "C01N9PM1D53:1614540106.001400");
    CHECK(m.at == iso("2021-02-28T19:21:48.0015Z"));
    CHECK_FALSE(m.from_bot);

    auto own = slack::decode_events_api(fixture("events/event_callback_bot_message_thread_reply_partial.json"),
                                        {"U01N9R657HB", "B01MY4ZRP5M"});
    CHECK(only<core::message_posted>(own.events).from_bot);
  }

  TEST_CASE("a pin (event_callback_pin_added.json)") {
    auto r = slack::decode_events_api(fixture("events/event_callback_pin_added.json"), ctx);
    CHECK(r.event_id == "Ev01MYD0204F");
    const auto& p = only<core::message_pinned>(r.events);
    CHECK(p.id == "C01N9PM1D53:1613563664.001200");
    CHECK(p.user == "U01NK1K9L68");
    CHECK(p.at == iso("2021-02-17T12:09:58.0014Z"));
  }

  TEST_CASE("a reaction in the older shape: authed_users, no event_id (event_callback_reaction_added.json)") {
    auto r = slack::decode_events_api(fixture("events/event_callback_reaction_added.json"), ctx);
    CHECK(r.error.empty());
    CHECK(r.event_id.empty());
    CHECK(r.dedupe_key == "reaction_added:D2AQCJCQ2:1477958240.864741:U27FFLNF4");
    const auto& x = only<core::reaction_added>(r.events);
    CHECK(x.id == "D2AQCJCQ2:1477958101.000004");
    CHECK(x.user == "U27FFLNF4");
    CHECK(x.emoji == "grinning");
    CHECK(x.at == iso("2016-10-31T23:57:20.864741Z"));
  }

  TEST_CASE("url verification (url_verification.json)") {
    auto r = slack::decode_events_api(fixture("events/url_verification.json"), ctx);
    CHECK(r.type == "url_verification");
    CHECK(r.challenge == "here-comes-a-challenge");
    CHECK(r.events.empty());
  }

  TEST_CASE("events inside Socket Mode envelopes: a message and its app_mention twin share one id") {
    auto env = std::get<slack::envelope>(slack::decode_frame(fixture("socket_mode/envelope_events_api_message.json")));
    auto r = slack::decode_events_api(env.payload, {"U333", "B333"});
    const auto& m = only<core::message_posted>(r.events);
    CHECK(r.event_id == "Ev111");
    CHECK(m.id == "C111:1610241741.000200");
    CHECK(m.user == "U222");
    CHECK(m.text == "<@U111> Hi here!");
    CHECK(m.at == iso("2021-01-10T01:22:21.0002Z"));

    auto mention =
        std::get<slack::envelope>(slack::decode_frame(fixture("socket_mode/envelope_events_api_app_mention.json")));
    auto r2 = slack::decode_events_api(mention.payload, {"U333", "B333"});
    CHECK(r2.event_type == "app_mention");
    const auto& m2 = only<core::message_posted>(r2.events);
    CHECK(m2.id == m.id);
    CHECK(m2.text == "<@U111>");
    CHECK(core::idempotency_key(core::event{m2}) == core::idempotency_key(core::event{m}));
  }

  TEST_CASE("the union samples decode without error and, with placeholder values, give no events") {
    for (const char* file : {"MessageBotPayload.json", "MessageDeletedPayload.json", "MessageFileSharePayload.json",
                             "MessageRepliedPayload.json", "MessageThreadBroadcastPayload.json", "PinAddedPayload.json",
                             "ReactionAddedPayload.json"}) {
      CAPTURE(file);
      slack::events_api_result r;
      CHECK_NOTHROW(r = slack::decode_events_api(fixture(std::string("events/schema_java_sdk/") + file), ctx));
      CHECK(r.error.empty());
      CHECK_FALSE(r.event_type.empty());
      CHECK(r.events.empty());  // empty ts or channel: nothing to place on a timeline
    }
  }
}

TEST_SUITE("slack codec: events api mapping with the union samples filled in") {
  json sample(const char* file) { return json::parse(fixture(std::string("events/schema_java_sdk/") + file)); }

  TEST_CASE("thread_broadcast is a thread reply shown in the channel") {
    json body = sample("MessageThreadBroadcastPayload.json");
    body["event"]["channel"] = "C9";
    body["event"]["user"] = "U7";
    body["event"]["text"] = "rolled back &amp; watching";
    body["event"]["ts"] = "1700000001.000100";
    body["event"]["thread_ts"] = "1700000000.000001";
    const auto& m = only<core::message_posted>(decode(body).events);
    CHECK(m.id == "C9:1700000001.000100");
    CHECK(m.thread_id == "C9:1700000000.000001");
    CHECK(m.text == "rolled back & watching");
  }

  TEST_CASE("file_share appends the files' names and permalinks") {
    json body = sample("MessageFileSharePayload.json");
    body["event"]["channel"] = "C9";
    body["event"]["user"] = "U7";
    body["event"]["text"] = "graphs from the outage";
    body["event"]["ts"] = "1700000002.000200";
    body["event"]["thread_ts"] = "";
    body["event"]["files"] = json::array({{{"name", "cpu.png"}, {"permalink", "https://x.slack.com/files/U7/F1/cpu.png"}},
                                          {{"title", "notes"}, {"permalink", "https://x.slack.com/files/U7/F2/notes"}}});
    const auto& m = only<core::message_posted>(decode(body).events);
    CHECK(m.text ==
          "graphs from the outage\n📎 cpu.png <https://x.slack.com/files/U7/F1/cpu.png>\n📎 notes "
          "<https://x.slack.com/files/U7/F2/notes>");
    CHECK(m.thread_id.empty());
  }

  TEST_CASE("message_deleted names the deleted message") {
    json body = sample("MessageDeletedPayload.json");
    body["event"]["channel"] = "C9";
    body["event"]["deleted_ts"] = "1700000002.000200";
    body["event"]["ts"] = "1700000100.000000";
    const auto& d = only<core::message_deleted>(decode(body).events);
    CHECK(d.id == "C9:1700000002.000200");
    CHECK(d.at == *slack::parse_ts("1700000100.000000"));
  }

  TEST_CASE("message_replied is ignored (replies arrive as messages with thread_ts)") {
    json body = sample("MessageRepliedPayload.json");
    body["event"]["channel"] = "C9";
    body["event"]["ts"] = "1700000100.000000";
    body["event"]["message"]["ts"] = "1700000000.000001";
    CHECK(decode(body).events.empty());
  }

  TEST_CASE("a bot_message is authored by its bot id, or its username without one") {
    json body = sample("MessageBotPayload.json");
    body["event"]["channel"] = "C9";
    body["event"]["ts"] = "1700000003.000300";
    body["event"]["thread_ts"] = "1700000003.000300";  // a thread parent: not a reply
    body["event"]["username"] = "alertmanager";
    body["event"]["attachments"] = json::array({{{"fallback", "[FIRING:1] HighLatency &gt; 2s"}}});
    auto r = decode(body);
    const auto& m = only<core::message_posted>(r.events);
    CHECK(m.user == "alertmanager");
    CHECK(m.thread_id.empty());
    CHECK(m.text == "[FIRING:1] HighLatency > 2s");  // the empty text falls back to the attachment
    body["event"]["bot_id"] = "B0KINTSUGI";
    CHECK(only<core::message_posted>(decode(body).events).from_bot);
  }

  TEST_CASE("pins and reactions from the union samples") {
    json pin = sample("PinAddedPayload.json");
    pin["event"]["item"]["channel"] = "C9";
    pin["event"]["user"] = "U7";
    CHECK(only<core::message_pinned>(decode(pin).events).id == "C9:0000000000.000000");

    json reaction = sample("ReactionAddedPayload.json");
    reaction["event"]["item"]["channel"] = "C9";
    reaction["event"]["item"]["ts"] = "1700000003.000300";
    reaction["event"]["user"] = "U7";
    reaction["event"]["reaction"] = "+1::skin-tone-3";
    const auto& x = only<core::reaction_added>(decode(reaction).events);
    CHECK(x.emoji == "+1");
    CHECK(x.id == "C9:1700000003.000300");
    reaction["event"]["item"] = {{"type", "file"}, {"file", "F1"}};
    CHECK(decode(reaction).events.empty());
  }
}

TEST_SUITE("slack codec: events api edge cases") {
  TEST_CASE("an edit that changes no text (an unfurl) gives nothing, a tombstone is a deletion") {
    json body = json::parse(fixture("events/event_callback_message_changed.json"));
    body["event"]["previous_message"]["text"] = body["event"]["message"]["text"];
    CHECK(decode(body).events.empty());
    body["event"]["message"]["subtype"] = "tombstone";
    CHECK(only<core::message_deleted>(decode(body).events).id == "C01N9PM1D53:1613632675.006300");
  }

  TEST_CASE("user_change updates the directory") {
    json body = {{"type", "event_callback"},
                 {"event_id", "Ev9"},
                 {"event",
                  {{"type", "user_change"},
                   {"event_ts", "1700000000.000100"},
                   {"user",
                    {{"id", "U7"}, {"name", "ada"}, {"tz", "Europe/London"}, {"profile", {{"real_name", "Ada L"}}}}}}}};
    const auto& u = only<core::user_updated>(decode(body).events);
    CHECK(u.who.id == "U7");
    CHECK(u.who.display_name == "Ada L");
    CHECK(u.who.tz == "Europe/London");
  }

  TEST_CASE("unknown events and odd shapes give no events and no error, non-objects are errors") {
    for (const char* body :
         {R"({"type":"event_callback","event":{"type":"channel_rename"}})", R"({"type":"event_callback"})",
          R"({"type":"event_callback","event":[]})", R"({"type":"app_rate_limited","minute_rate_limited":1})",
          R"({"type":"event_callback","event":{"type":"message","ts":17,"channel":"C1","user":"U1"}})",
          R"({"type":"event_callback","event":{"type":"message","ts":"1.0","channel":"C1"}})"}) {
      CAPTURE(body);
      auto r = slack::decode_events_api(body, ctx);
      CHECK(r.error.empty());
      CHECK(r.events.empty());
    }
    for (const char* body : {"", "[]", "{", "nope"}) {
      CAPTURE(body);
      CHECK_FALSE(slack::decode_events_api(body, ctx).error.empty());
    }
  }
}
