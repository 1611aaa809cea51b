// The Mattermost codec, outbound: REST bodies, buttons (against the message-attachment fixtures), channel names and
// message splitting.
#include "mattermost/outbound.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <string>

#include "mattermost/codec.hpp"
#include "mm_test_util.hpp"

namespace core = kintsugi::core;
namespace mm = kintsugi::mattermost;
using json = nlohmann::json;
using mm_test::fixture;

namespace {

const std::string key = mm::derive_action_key("action secret");
constexpr std::string_view callback = "https://bot.example/mattermost/action";

std::size_t chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

bool valid_utf8(std::string_view s) {
  try {
    (void)json(std::string(s)).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

// The shape Mattermost reads for interactive message attachments (PROTOCOLS.md §9): props.attachments[].actions[]
// with a name and integration {url, context}; ids, where given, alphanumeric.
void check_attachment_shape(const json& props) {
  REQUIRE(props.contains("attachments"));
  REQUIRE(props["attachments"].is_array());
  for (const auto& attachment : props["attachments"]) {
    REQUIRE(attachment.contains("actions"));
    for (const auto& action : attachment["actions"]) {
      CHECK(action.at("name").is_string());
      CHECK(action.at("integration").at("url").is_string());
      CHECK(action.at("integration").at("context").is_object());
      if (action.contains("id")) {
        const auto id = action["id"].get<std::string>();
        CHECK_FALSE(id.empty());
        for (char c : id) CHECK(std::isalnum(static_cast<unsigned char>(c)));
      }
      if (action.contains("type")) CHECK((action["type"] == "button" || action["type"] == "select"));
    }
  }
}

}  // namespace

TEST_SUITE("mattermost codec: posts and buttons") {
  TEST_CASE("a plain post, and a reply in a thread") {
    CHECK(json::parse(mm::encode_create_post("c1", "hello")) == json{{"channel_id", "c1"}, {"message", "hello"}});
    CHECK(json::parse(mm::encode_create_post("c1", "in thread", "root1")) ==
          json{{"channel_id", "c1"}, {"message", "in thread"}, {"root_id", "root1"}});
    // Buttons without a callback URL or without a key: plain text.
    const std::vector<core::button> buttons{{"Resolve", "resolve", ""}};
    CHECK_FALSE(json::parse(mm::encode_create_post("c1", "x", "", buttons, "", key)).contains("props"));
    CHECK_FALSE(json::parse(mm::encode_create_post("c1", "x", "", buttons, callback, "")).contains("props"));
  }

  TEST_CASE("buttons become signed attachment actions") {
    const std::vector<core::button> buttons{{"I'll be commander", "role commander me", "primary"},
                                            {"", "role scribe me", ""},
                                            {"Blank", "   ", ""},
                                            {"Two lines", "note a\nb", ""},
                                            {"Close", "resolve", "danger"},
                                            {"Odd style", "status monitoring", "success"}};
    json body = json::parse(mm::encode_create_post("c1", "🚨 INC-7", "", buttons, callback, key));
    check_attachment_shape(body.at("props"));
    const json& actions = body["props"]["attachments"][0]["actions"];
    REQUIRE(actions.size() == 4);
    CHECK(actions[0]["id"] == "kintsugi0");
    CHECK(actions[0]["name"] == "I'll be commander");
    CHECK(actions[0]["type"] == "button");
    CHECK(actions[0]["style"] == "primary");
    CHECK(actions[0]["integration"]["url"] == callback);
    CHECK(actions[0]["integration"]["context"] ==
          json{{"command", "role commander me"}, {"sig", mm::action_signature(key, "role commander me")}});
    CHECK(actions[1]["id"] == "kintsugi1");
    CHECK(actions[1]["name"] == "role scribe me");  // no label: the command
    CHECK_FALSE(actions[1].contains("style"));
    CHECK(actions[2]["name"] == "Close");
    CHECK(actions[2]["style"] == "danger");
    CHECK(actions[3]["id"] == "kintsugi3");
    CHECK_FALSE(actions[3].contains("style"));
    // Only usable buttons: none left means plain text.
    CHECK_FALSE(json::parse(mm::encode_create_post("c1", "x", "", {{"Blank", " ", ""}}, callback, key)).contains("props"));
  }

  TEST_CASE("the documented attachments have the shape kintsugi writes") {
    for (const char* file : {"interactivity/message_attachment_buttons_with_integration.json",
                             "interactivity/message_attachment_buttons_e2e_webapp.json",
                             "interactivity/message_attachment_menu_static_options.json",
                             "interactivity/message_attachment_menu_e2e_playbooks.json",
                             "interactivity/message_attachment_menu_channels_datasource_e2e_playbooks.json"}) {
      CAPTURE(file);
      json props = json::parse(fixture(file));
      check_attachment_shape(props);
      // Each documented action's context is what comes back in the click; ours carries command and sig there.
      for (const auto& action : props["attachments"][0]["actions"]) {
        CHECK(action["integration"]["context"].contains("action"));
      }
    }
    // Mattermost's own example uses ids like ours: letters and digits only.
    json doc = json::parse(fixture("interactivity/message_attachment_buttons_with_integration.json"));
    CHECK(doc["attachments"][0]["actions"][0]["id"] == "message");
  }

  TEST_CASE("long labels are cut") {
    json body = json::parse(mm::encode_create_post("c1", "x", "", {{std::string(100, 'L'), "resolve", ""}}, callback, key));
    auto name = body["props"]["attachments"][0]["actions"][0]["name"].get<std::string>();
    CHECK(chars(name) == 80);
    CHECK(name.ends_with("…"));
  }

  TEST_CASE("signatures and keys") {
    CHECK(mm::action_signature(key, "resolve").size() == 64);
    CHECK(mm::action_signature(key, "resolve") == mm::action_signature(key, "resolve"));
    CHECK(mm::action_signature(key, "resolve") != mm::action_signature(key, "resolve "));
    CHECK(mm::derive_action_key("action secret").size() == 32);
    CHECK(mm::derive_action_key("action secret") != mm::derive_action_key("another secret"));
    CHECK(mm::derive_action_key("").empty());
    // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?").
    CHECK(mm::action_signature("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }

  TEST_CASE("ephemeral posts, direct channels, members, headers") {
    CHECK(json::parse(mm::encode_ephemeral_post("u1", "c1", "only you")) ==
          json{{"user_id", "u1"}, {"post", {{"channel_id", "c1"}, {"message", "only you"}}}});
    CHECK(json::parse(mm::encode_direct_channel("bot1", "u1")) == json::array({"bot1", "u1"}));
    CHECK(json::parse(mm::encode_add_member("u1")) == json{{"user_id", "u1"}});
    CHECK(json::parse(mm::encode_patch_header("sev1 · investigating")) == json{{"header", "sev1 · investigating"}});
    auto header = json::parse(mm::encode_patch_header(std::string(2000, 'h')))["header"].get<std::string>();
    CHECK(chars(header) == mm::max_header_chars);
    // Strings that are not UTF-8 still make JSON.
    json parsed;
    CHECK_NOTHROW(parsed = json::parse(mm::encode_create_post("c1", "bad \xff byte")));
    CHECK(parsed.at("message").is_string());
  }

  TEST_CASE("creating a channel sanitises its name") {
    json body = json::parse(mm::encode_create_channel("t1", "inc-20261121-db-down", "INC-7: DB down"));
    CHECK(body == json{{"team_id", "t1"}, {"name", "inc-20261121-db-down"}, {"display_name", "INC-7: DB down"}, {"type", "O"}});
    body = json::parse(mm::encode_create_channel("t1", "INC 8 Büro", "", "P"));
    CHECK(body["name"] == "inc-8-b-ro");
    CHECK(body["display_name"] == "INC 8 Büro");
    CHECK(body["type"] == "P");
    CHECK(json::parse(mm::encode_create_channel("t1", "x", "y", "D"))["type"] == "O");
  }

  TEST_CASE("channel names Mattermost accepts") {
    CHECK(mm::channel_name_for("inc-20261121-db-down") == "inc-20261121-db-down");
    CHECK(mm::channel_name_for("INC-20261121-DB-Down") == "inc-20261121-db-down");
    CHECK(mm::channel_name_for("  --inc: db/down!! ") == "inc-db-down");
    CHECK(mm::channel_name_for("a__b") == "a_b");
    CHECK(mm::channel_name_for("a_-_b") == "a_b");
    CHECK(mm::channel_name_for("_lead_and_trail_") == "lead_and_trail");
    CHECK(mm::channel_name_for("инцидент") == "incident");
    CHECK(mm::channel_name_for("") == "incident");
    CHECK(mm::channel_name_for("x") == "incident");
    CHECK(mm::channel_name_for("ab") == "ab");
    std::string long_name = "inc-" + std::string(70, 'a');
    CHECK(mm::channel_name_for(long_name).size() == 64);
    std::string cut_at_dash = std::string(63, 'a') + "-b";
    CHECK(mm::channel_name_for(cut_at_dash) == std::string(63, 'a'));
    for (const char* wanted : {"Hello World", "a--b", "ÄÖÜ äöü", "x_y", "9lives", "-", "__", "a.b.c"}) {
      CAPTURE(wanted);
      const std::string name = mm::channel_name_for(wanted);
      CHECK(name.size() >= 2);
      CHECK(name.size() <= 64);
      CHECK(name.find("__") == std::string::npos);
      CHECK(std::isalnum(static_cast<unsigned char>(name.front())));
      CHECK(std::isalnum(static_cast<unsigned char>(name.back())));
      for (char c : name) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'));
    }
  }
}

TEST_SUITE("mattermost codec: splitting and truncating") {
  TEST_CASE("short text is one piece") {
    CHECK(mm::split_message("") == std::vector<std::string>{""});
    CHECK(mm::split_message("one line") == std::vector<std::string>{"one line"});
    std::string exactly(mm::max_post_chars, 'x');
    CHECK(mm::split_message(exactly).size() == 1);
  }

  TEST_CASE("a long message splits at line boundaries under the post limit") {
    std::string text;
    for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i) + " of the timeline, with some words\n";
    auto pieces = mm::split_message(text);
    REQUIRE(pieces.size() > 1);
    std::string joined;
    for (const auto& p : pieces) {
      CHECK(chars(p) <= mm::max_post_chars);
      CHECK_FALSE(p.starts_with("\n"));
      if (!joined.empty()) joined += '\n';
      joined += p;
    }
    CHECK(joined == text);  // nothing lost but the newlines split at
    for (std::size_t k = 0; k + 1 < pieces.size(); ++k) CHECK(pieces[k].ends_with("words"));
  }

  TEST_CASE("a line longer than a piece is cut at a space, else at a character") {
    std::string words;
    for (int i = 0; i < 10; ++i) words += "word" + std::to_string(i) + " ";
    auto pieces = mm::split_message(words, 20);
    for (const auto& p : pieces) CHECK(chars(p) <= 20);
    CHECK(pieces.front() == "word0 word1");

    // Four-byte characters: no piece ends inside one.
    std::string emoji;
    for (int i = 0; i < 50; ++i) emoji += "🚨";
    pieces = mm::split_message(emoji, 16);
    std::string joined;
    for (const auto& p : pieces) {
      CHECK(chars(p) <= 16);
      CHECK(valid_utf8(p));
      joined += p;
    }
    CHECK(joined == emoji);

    // Two-byte characters under a byte-odd limit.
    std::string accents;
    for (int i = 0; i < 100; ++i) accents += "é";
    for (const auto& p : mm::split_message(accents, 17)) {
      CHECK(valid_utf8(p));
      CHECK(chars(p) <= 17);
    }
  }

  TEST_CASE("a code block cut in two is closed and opened again") {
    std::string text = "Timeline:\n```\n";
    for (int i = 0; i < 40; ++i) text += "09:" + std::to_string(10 + i) + " something happened\n";
    text += "```\nafter the block";
    auto pieces = mm::split_message(text, 200);
    REQUIRE(pieces.size() > 2);
    for (const auto& p : pieces) {
      CHECK(chars(p) <= 200);
      std::size_t fences = 0;
      for (auto pos = p.find("```"); pos != std::string::npos; pos = p.find("```", pos + 3)) ++fences;
      CHECK_MESSAGE(fences % 2 == 0, p);
    }
    CHECK(pieces[1].starts_with("```\n"));
    CHECK(pieces.back().ends_with("after the block"));
  }

  TEST_CASE("a tiny limit is raised to 16") {
    for (const auto& p : mm::split_message(std::string(100, 'z'), 1)) CHECK(chars(p) <= 16);
  }

  TEST_CASE("truncation keeps characters whole") {
    CHECK(mm::truncate_text("short", 10) == "short");
    CHECK(mm::truncate_text("abcdef", 4) == "abc…");
    CHECK(mm::truncate_text("ééééé", 3) == "éé…");
    CHECK(mm::truncate_text("🚨🚨🚨", 2) == "🚨…");
    CHECK(mm::truncate_text("abc", 0).empty());
    std::string huge(mm::max_post_chars + 10, 'm');
    auto post = json::parse(mm::encode_create_post("c1", huge))["message"].get<std::string>();
    CHECK(chars(post) == mm::max_post_chars);
  }
}
