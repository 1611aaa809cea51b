// The Slack codec: Web API responses (decode_api_response and the method decoders), against the cassettes,
// the union samples and the history pages under fixtures/slack/web_api.
#include "slack/web_api_calls.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "slack_test_util.hpp"

namespace core = kintsugi::core;
namespace slack = kintsugi::slack;
using json = nlohmann::json;
using slack_test::fixture;
using slack_test::iso;

namespace {

const slack::context ctx{"U0BOT", "B0BOT"};

std::string union_ok(const char* file) {
  json j = json::parse(fixture(std::string("web_api/schema_java_sdk/") + file));
  j["ok"] = true;
  return j.dump();
}

}  // namespace

TEST_SUITE("slack api responses: error mapping") {
  TEST_CASE("429 with Retry-After is retryable after that many seconds") {
    auto r = slack::decode_api_response("chat.postMessage", 429, R"({"ok":false,"error":"ratelimited"})", "30");
    CHECK_FALSE(r.ok);
    CHECK(r.error == "ratelimited");
    CHECK(r.retryable);
    CHECK_FALSE(r.fatal);
    CHECK(r.retry_after_s == 30);
    CHECK(r.description == "chat.postMessage: ratelimited (rate limited by Slack); retry after 30s; HTTP 429");

    r = slack::decode_api_response("chat.postMessage", 429, "", "soon");
    CHECK(r.error == "ratelimited");
    CHECK(r.retry_after_s == 1);
    CHECK(r.retryable);
  }

  TEST_CASE("ok:false with HTTP 200: the common errors") {
    struct expected {
      const char* body;
      const char* error;
      bool retryable;
      bool fatal;
    };
    for (const auto& e : {
             expected{R"({"ok":false,"error":"channel_not_found"})", "channel_not_found", false, false},
             expected{R"({"ok":false,"error":"not_in_channel"})", "not_in_channel", false, false},
             expected{R"({"ok":false,"error":"name_taken"})", "name_taken", false, false},
             expected{R"({"ok":false,"error":"invalid_auth"})", "invalid_auth", false, true},
             expected{R"({"ok":false,"error":"token_revoked"})", "token_revoked", false, true},
             expected{R"({"ok":false,"error":"account_inactive"})", "account_inactive", false, true},
             expected{R"({"ok":false,"error":"internal_error"})", "internal_error", true, false},
             expected{R"({"ok":false,"error":"fatal_error"})", "fatal_error", true, false},
             expected{R"({"ok":false,"error":"request_timeout"})", "request_timeout", true, false},
             expected{R"({"ok":false,"error":"ratelimited"})", "ratelimited", true, false},
             expected{R"({"ok":false})", "unknown_error", false, false},
         }) {
      CAPTURE(e.body);
      auto r = slack::decode_api_response("chat.postMessage", 200, e.body);
      CHECK_FALSE(r.ok);
      CHECK(r.error == e.error);
      CHECK(r.retryable == e.retryable);
      CHECK(r.fatal == e.fatal);
      CHECK(r.description.starts_with(std::string("chat.postMessage: ") + e.error));
    }
  }

  TEST_CASE("missing_scope says which scope is needed") {
    auto r = slack::decode_api_response(
        "conversations.create", 200,
        R"({"ok":false,"error":"missing_scope","needed":"channels:manage","provided":"chat:write"})");
    CHECK(r.fatal);
    CHECK(r.needed == "channels:manage");
    CHECK(r.description ==
          "conversations.create: missing_scope (the token lacks a scope); needs scope channels:manage");
  }

  TEST_CASE("HTTP failures and bodies that are not JSON") {
    auto r = slack::decode_api_response("chat.postMessage", 503, "<html>Service Unavailable</html>");
    CHECK(r.error == "http_503");
    CHECK(r.retryable);
    r = slack::decode_api_response("chat.postMessage", 500, R"({"ok":false,"error":"internal_error"})");
    CHECK(r.error == "internal_error");
    CHECK(r.retryable);
    r = slack::decode_api_response("chat.postMessage", 404, "Not Found");
    CHECK(r.error == "http_404");
    CHECK_FALSE(r.retryable);
    r = slack::decode_api_response("chat.postMessage", 200, "<html>");
    CHECK(r.error == "invalid_json");
    CHECK_FALSE(r.ok);
    r = slack::decode_api_response("chat.postMessage", 200, "[true]");
    CHECK(r.error == "invalid_json");
  }

  TEST_CASE("what a call created or posted, as strings") {
    auto r = slack::decode_api_response("chat.postMessage", 200,
                                        R"({"ok":true,"channel":"C1","ts":"1700000000.000100","message":{}})");
    CHECK(r.ok);
    CHECK(r.error.empty());
    CHECK(r.channel_id == "C1");
    CHECK(r.ts == "1700000000.000100");
    CHECK(r.description == "chat.postMessage: ok");

    r = slack::decode_api_response("chat.postEphemeral", 200, R"({"ok":true,"message_ts":"1700000000.000200"})");
    CHECK(r.ts == "1700000000.000200");

    r = slack::decode_api_response("conversations.create", 200,
                                   R"({"ok":true,"channel":{"id":"C0NEW","name":"inc-7-db-down"}})");
    CHECK(r.channel_id == "C0NEW");
    CHECK(r.channel_name == "inc-7-db-down");

    r = slack::decode_api_response("conversations.invite", 200, R"({"ok":false,"error":"already_in_channel"})");
    CHECK_FALSE(r.ok);
    CHECK(r.already_done);
  }
}

TEST_SUITE("slack api responses: cassettes") {
  TEST_CASE("auth.test not_authed (auth_test_error_not_authed.yml)") {
    auto bodies = slack_test::cassette_response_bodies(fixture("web_api/cassettes_slack_ruby_client/auth_test_error_not_authed.yml"));
    REQUIRE(bodies.size() == 1);
    CHECK(bodies[0] == R"({"ok":false,"error":"not_authed"})");
    auto a = slack::decode_auth_test(bodies[0]);
    CHECK_FALSE(a.result.ok);
    CHECK(a.result.error == "not_authed");
    CHECK(a.result.fatal);
    CHECK(a.user_id.empty());
  }

  TEST_CASE("conversations.setTopic ok (conversations_setTopic.yml)") {
    auto bodies = slack_test::cassette_response_bodies(fixture("web_api/cassettes_slack_ruby_client/conversations_setTopic.yml"));
    REQUIRE(bodies.size() == 1);
    auto r = slack::decode_api_response("conversations.setTopic", 200, bodies[0]);
    CHECK(r.ok);
    CHECK(r.channel_id == "C019CV63UTC");
    CHECK(r.channel_name == "topic");
    CHECK(json::parse(bodies[0])["channel"]["topic"]["value"] == "new topic");  // the folded line
  }

  TEST_CASE("conversations.list then conversations.info (conversations_info.yml)") {
    auto bodies = slack_test::cassette_response_bodies(fixture("web_api/cassettes_slack_ruby_client/conversations_info.yml"));
    REQUIRE(bodies.size() == 2);
    CHECK(slack::decode_api_response("conversations.list", 200, bodies[0]).ok);
    auto info = slack::decode_api_response("conversations.info", 200, bodies[1]);
    CHECK(info.ok);
    CHECK(info.channel_id == "G0K7EV5A7");
  }

  TEST_CASE("invalid_arguments with response_metadata messages (views_open_error_invalid_arguments.yml)") {
    auto bodies = slack_test::cassette_response_bodies(
        fixture("web_api/cassettes_slack_ruby_client/views_open_error_invalid_arguments.yml"));
    REQUIRE(bodies.size() == 1);
    auto r = slack::decode_api_response("views.open", 200, bodies[0]);
    CHECK(r.error == "invalid_arguments");
    CHECK_FALSE(r.retryable);
    CHECK_FALSE(r.fatal);
    REQUIRE(r.warnings.size() == 2);
    CHECK(r.warnings[1] == "[ERROR] missing required field: type [json-pointer:/view]");
  }
}

TEST_SUITE("slack api responses: methods") {
  TEST_CASE("every union sample decodes as a failure without a code, without crashing") {
    for (const char* file : {"apps.connections.open.json", "auth.test.json", "chat.postEphemeral.json",
                             "chat.postMessage.trimmed.json", "conversations.create.json",
                             "conversations.history.trimmed.json", "conversations.invite.json",
                             "conversations.open.trimmed.json", "conversations.setTopic.json", "pins.add.json",
                             "users.info.json"}) {
      CAPTURE(file);
      slack::api_result r;
      CHECK_NOTHROW(r = slack::decode_api_response(file, 200, fixture(std::string("web_api/schema_java_sdk/") + file)));
      CHECK_FALSE(r.ok);
      CHECK(r.error == "unknown_error");
    }
  }

  TEST_CASE("auth.test, apps.connections.open and users.info from the union samples marked ok") {
    auto a = slack::decode_auth_test(union_ok("auth.test.json"));
    CHECK(a.result.ok);
    CHECK(a.user_id == "U00000000");
    CHECK(a.bot_id == "B00000000");
    CHECK(a.team_id == "T00000000");
    CHECK(a.url == "https://www.example.com/");

    auto c = slack::decode_connections_open(union_ok("apps.connections.open.json"));
    CHECK_FALSE(c.result.ok);  // the sample's url is empty
    CHECK(c.result.error == "no_url");
    c = slack::decode_connections_open(R"({"ok":true,"url":"wss://wss-primary.slack.com/link/?ticket=1234-5678"})");
    CHECK(c.result.ok);
    CHECK(c.url == "wss://wss-primary.slack.com/link/?ticket=1234-5678");
    c = slack::decode_connections_open(R"({"ok":false,"error":"not_allowed_token_type"})");
    CHECK(c.result.fatal);

    auto u = slack::decode_users_info(union_ok("users.info.json"));
    CHECK(u.result.ok);
    REQUIRE(u.who.has_value());
    CHECK(u.who->id == "U00000000");
    CHECK(u.who->display_name.empty());
  }

  TEST_CASE("users.info display name: profile.display_name, else real names, else name") {
    json j = {{"ok", true},
              {"user",
               {{"id", "U7"}, {"name", "ada"}, {"real_name", "Ada Lovelace"}, {"tz", "Europe/London"},
                {"profile", {{"display_name", "ada.l"}, {"real_name", "Ada Lovelace"}}}}}};
    CHECK(slack::decode_users_info(j.dump()).who->display_name == "ada.l");
    j["user"]["profile"]["display_name"] = "";
    CHECK(slack::decode_users_info(j.dump()).who->display_name == "Ada Lovelace");
    j["user"]["profile"].erase("real_name");
    j["user"].erase("real_name");
    auto u = slack::decode_users_info(j.dump());
    CHECK(u.who->display_name == "ada");
    CHECK(u.who->tz == "Europe/London");
    CHECK_FALSE(slack::decode_users_info(R"({"ok":false,"error":"user_not_found"})").who.has_value());
  }

  TEST_CASE("history pages 1 -> 2 by next_cursor") {
    const std::map<std::string, std::string> pages{
        {"", fixture("web_api/conversations.history_page1_has_more.json")},
        {"bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz", fixture("web_api/conversations.history_page2_last.json")}};
    std::string cursor;
    std::vector<core::event> all;
    int requests = 0;
    do {
      REQUIRE(pages.count(cursor) == 1);
      auto page = slack::decode_history(pages.at(cursor), "C0HIST", ctx);
      ++requests;
      REQUIRE(page.result.ok);
      CHECK(page.has_more == !page.next_cursor.empty());
      all.insert(all.end(), page.events.begin(), page.events.end());
      cursor = page.next_cursor;
    } while (!cursor.empty() && requests < 5);
    CHECK(requests == 2);
    REQUIRE(all.size() == 4);
    std::set<std::string> ids;
    for (const auto& e : all) ids.insert(std::get<core::message_posted>(e).id);
    CHECK(ids.size() == 4);
    const auto& first = std::get<core::message_posted>(all[0]);
    CHECK(first.id == "C0HIST:1512085950.000216");
    CHECK(first.user == "U012AB3CDE");
    CHECK(first.text == "I find you punny and would like to smell your nose letter");
    CHECK(first.at == iso("2017-11-30T23:52:30.000216Z"));
    CHECK(std::get<core::message_posted>(all[3]).id == "C0HIST:1512105434.000490");
  }

  TEST_CASE("history comes back oldest first, with edits caught up and non-messages skipped") {
    json page = {{"ok", true},
                 {"has_more", false},
                 {"messages",
                  json::array({{{"type", "message"}, {"user", "U2"}, {"text", "newest"}, {"ts", "1700000003.000000"}},
                               {{"type", "message"}, {"subtype", "channel_join"}, {"user", "U3"}, {"ts", "1700000002.0"}},
                               {{"type", "message"},
                                {"user", "U1"},
                                {"text", "fixed typo"},
                                {"ts", "1700000001.000000"},
                                {"edited", {{"user", "U1"}, {"ts", "1700000005.000000"}}}},
                               {{"type", "message"}, {"bot_id", "B0BOT"}, {"text", "ours"}, {"ts", "1700000000.5"}}})}};
    auto h = slack::decode_history(page.dump(), "C1", ctx);
    REQUIRE(h.events.size() == 4);
    CHECK(std::get<core::message_posted>(h.events[0]).from_bot);
    CHECK(std::get<core::message_posted>(h.events[1]).text == "fixed typo");
    const auto& edit = std::get<core::message_edited>(h.events[2]);
    CHECK(edit.id == "C1:1700000001.000000");
    CHECK(edit.text == "fixed typo");
    CHECK(edit.at == *slack::parse_ts("1700000005"));
    CHECK(std::get<core::message_posted>(h.events[3]).text == "newest");
    CHECK(h.next_cursor.empty());
  }

  TEST_CASE("history lists its thread parents, threads_replied_after picks those replied to since") {
    json page = {{"ok", true},
                 {"has_more", false},
                 {"messages",
                  json::array({{{"type", "message"},
                                {"user", "U2"},
                                {"text", "newer thread"},
                                {"ts", "1700000009.000000"},
                                {"thread_ts", "1700000009.000000"},
                                {"reply_count", 1},
                                {"latest_reply", "1700000010.000000"}},
                               {{"type", "message"},
                                {"subtype", "thread_broadcast"},
                                {"user", "U1"},
                                {"text", "also in the channel"},
                                {"ts", "1700000008.000000"},
                                {"thread_ts", "1700000001.000000"}},
                               {{"type", "message"}, {"user", "U1"}, {"text", "no thread"}, {"ts", "1700000002.0"}},
                               {{"type", "message"},
                                {"user", "U1"},
                                {"text", "old thread"},
                                {"ts", "1700000001.000000"},
                                {"thread_ts", "1700000001.000000"},
                                {"reply_count", 3},
                                {"latest_reply", "1700000008.000000"}}})}};
    auto h = slack::decode_history(page.dump(), "C1", ctx);
    REQUIRE(h.result.ok);
    REQUIRE(h.threads.size() == 2);
    CHECK(h.threads[0].ts == "1700000009.000000");
    CHECK(h.threads[0].reply_count == 1);
    CHECK(h.threads[0].latest_reply == "1700000010.000000");
    CHECK(h.threads[1].ts == "1700000001.000000");
    // Parents are messages like any other; the broadcast reply too, with its thread.
    REQUIRE(h.events.size() == 4);
    CHECK(std::get<core::message_posted>(h.events[2]).thread_id == "C1:1700000001.000000");

    auto since = [](const char* ts) { return *slack::parse_ts(ts); };
    CHECK(slack::threads_replied_after(h.threads, since("1700000000")) ==
          std::vector<std::string>{"1700000001.000000", "1700000009.000000"});
    CHECK(slack::threads_replied_after(h.threads, since("1700000008")) == std::vector<std::string>{"1700000009.000000"});
    CHECK(slack::threads_replied_after(h.threads, since("1700000010")).empty());
    // A thread that does not say when it was last replied to is looked at; repeated threads once.
    std::vector<slack::thread_ref> vague{{"1700000004.000000", 2, ""}, {"1700000004.000000", 2, ""},
                                         {"1700000003.000000", 0, ""}, {"not a ts", 5, ""}};
    CHECK(slack::threads_replied_after(vague, since("1700000010")) == std::vector<std::string>{"1700000004.000000"});
  }

  TEST_CASE("replies: the replies of a thread without its parent, oldest first, with paging") {
    json page = {{"ok", true},
                 {"has_more", true},
                 {"response_metadata", {{"next_cursor", "bmV4dA=="}}},
                 {"messages",
                  json::array({{{"type", "message"},
                                {"user", "U1"},
                                {"text", "the parent"},
                                {"ts", "1700000001.000000"},
                                {"thread_ts", "1700000001.000000"},
                                {"reply_count", 2},
                                {"latest_reply", "1700000007.000000"}},
                               {{"type", "message"},
                                {"user", "U2"},
                                {"text", "second reply"},
                                {"ts", "1700000007.000000"},
                                {"thread_ts", "1700000001.000000"},
                                {"parent_user_id", "U1"}},
                               {{"type", "message"},
                                {"user", "U3"},
                                {"text", "first reply"},
                                {"ts", "1700000005.000000"},
                                {"thread_ts", "1700000001.000000"},
                                {"parent_user_id", "U1"}},
                               {{"type", "message"},
                                {"bot_id", "B0BOT"},
                                {"text", "the bot in the thread"},
                                {"ts", "1700000006.000000"},
                                {"thread_ts", "1700000001.000000"}}})}};
    auto r = slack::decode_replies(page.dump(), "C1", ctx);
    REQUIRE(r.result.ok);
    CHECK(r.has_more);
    CHECK(r.next_cursor == "bmV4dA==");
    CHECK(r.threads.empty());
    REQUIRE(r.events.size() == 3);
    const auto& first = std::get<core::message_posted>(r.events[0]);
    CHECK(first.text == "first reply");
    CHECK(first.id == "C1:1700000005.000000");
    CHECK(first.thread_id == "C1:1700000001.000000");
    CHECK(first.user == "U3");
    CHECK(std::get<core::message_posted>(r.events[1]).from_bot);
    CHECK(std::get<core::message_posted>(r.events[2]).text == "second reply");

    auto failed = slack::decode_replies(R"({"ok":false,"error":"thread_not_found"})", "C1", ctx);
    CHECK_FALSE(failed.result.ok);
    CHECK(failed.result.description.starts_with("conversations.replies: thread_not_found"));
  }

  TEST_CASE("order_backfill: time order across pages and threads, each event once") {
    auto at = [](const char* ts) { return *slack::parse_ts(ts); };
    std::vector<core::event> found{
        core::message_posted{"C1:3.0", "C1", "U1", "later", at("3"), false, {}},
        core::message_edited{"C1:1.0", "edited", at("4")},
        core::message_posted{"C1:1.0", "C1", "U1", "first", at("1"), false, {}},
        core::message_posted{"C1:2.0", "C1", "U2", "a reply", at("2"), false, "C1:1.0"},
        core::message_posted{"C1:3.0", "C1", "U1", "later", at("3"), false, {}},  // broadcast: listed twice
    };
    auto ordered = slack::order_backfill(std::move(found));
    REQUIRE(ordered.size() == 4);
    CHECK(std::get<core::message_posted>(ordered[0]).text == "first");
    CHECK(std::get<core::message_posted>(ordered[1]).text == "a reply");
    CHECK(std::get<core::message_posted>(ordered[2]).text == "later");
    CHECK(std::get<core::message_edited>(ordered[3]).text == "edited");
  }

  TEST_CASE("the trimmed history union sample, marked ok: one bot message and its edit") {
    auto h = slack::decode_history(union_ok("conversations.history.trimmed.json"), "C0", ctx);
    CHECK(h.result.ok);
    REQUIRE(h.events.size() == 2);
    const auto& m = std::get<core::message_posted>(h.events[0]);
    CHECK(m.user == "U00000000");
    CHECK(m.id == "C0:0000000000.000000");
    CHECK(std::holds_alternative<core::message_edited>(h.events[1]));
    auto failed = slack::decode_history(R"({"ok":false,"error":"not_in_channel"})", "C0", ctx);
    CHECK(failed.result.error == "not_in_channel");
    CHECK(failed.events.empty());
  }
}
