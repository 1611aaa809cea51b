// The Mattermost codec: ids, times and websocket frames (hello, events, replies, malformed), against
// fixtures/mattermost/websocket and hand-built frames.
#include "mattermost/codec.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

#include "mm_test_util.hpp"

namespace core = kintsugi::core;
namespace mm = kintsugi::mattermost;
using json = nlohmann::json;
using mm_test::fixture;
using mm_test::iso;

namespace {

template <class T>
T as(const mm::frame& f) {
  REQUIRE(std::holds_alternative<T>(f));
  return std::get<T>(f);
}

}  // namespace

TEST_SUITE("mattermost codec: ids and times") {
  TEST_CASE("core ids carry the mm: prefix and come back") {
    CHECK(mm::id_prefix == "mm:");
    CHECK(mm::to_core("4fgt3n51f7ftpff91gk1iy1zow") == "mm:4fgt3n51f7ftpff91gk1iy1zow");
    CHECK(mm::to_core("").empty());
    CHECK(mm::from_core("mm:4fgt3n51f7ftpff91gk1iy1zow") == "4fgt3n51f7ftpff91gk1iy1zow");
    CHECK(mm::from_core(mm::to_core("abc")) == "abc");
    CHECK(mm::from_core("mm:inc-20261121-db-down") == "inc-20261121-db-down");
    for (const char* other : {"", "mm:", "mm", "C01N9PM1D53", "C1:1613563664.001200", "MM:abc", " mm:abc"}) {
      CAPTURE(other);
      CHECK_FALSE(mm::from_core(other).has_value());
    }
  }

  TEST_CASE("object ids are 26 lowercase letters and digits") {
    CHECK(mm::is_object_id("4fgt3n51f7ftpff91gk1iy1zow"));
    CHECK_FALSE(mm::is_object_id("Ji66o2pX5XmW5XiAsfw5jitrV3"));  // upper case: not one the server makes
    CHECK_FALSE(mm::is_object_id("inc-20261121-db-down"));
    CHECK_FALSE(mm::is_object_id("4fgt3n51f7ftpff91gk1iy1zo"));
    CHECK_FALSE(mm::is_object_id(""));
  }

  TEST_CASE("milliseconds since the epoch") {
    CHECK(mm::from_millis(1533085458236) == iso("2018-08-01T01:04:18.236Z"));
    CHECK(mm::to_millis(iso("2018-08-01T01:04:18.236Z")) == 1533085458236);
    CHECK(mm::to_millis(iso("2018-08-01T01:04:18.236999Z")) == 1533085458236);
    CHECK(mm::from_millis(253402300799999).has_value());
    for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{253402300800000}, INT64_MAX, INT64_MIN}) {
      CAPTURE(bad);
      CHECK_FALSE(mm::from_millis(bad).has_value());
    }
  }

  TEST_CASE("post keys") {
    CHECK(mm::post_key("wqpuawcw3iym3pq63s5xi1776r", 1533085458236) == "mm:post:wqpuawcw3iym3pq63s5xi1776r:1533085458236");
  }
}

TEST_SUITE("mattermost codec: websocket frames") {
  TEST_CASE("hello fixture (hello_minimal.json)") {
    auto h = as<mm::hello>(mm::decode_frame(fixture("websocket/hello_minimal.json")));
    CHECK(h.seq == 0);
    CHECK(h.connection_id.empty());
    CHECK(h.server_version.empty());
    CHECK(h.user_id.empty());
  }

  TEST_CASE("a full hello as the server sends it") {
    auto h = as<mm::hello>(mm::decode_frame(
        R"({"event":"hello","data":{"server_version":"9.11.0.9.11.0.abc.false","connection_id":"x1y2z3","server_hostname":"mm1"},)"
        R"("broadcast":{"omit_users":null,"user_id":"bot0000000000000000000000a","channel_id":"","team_id":""},"seq":0})"));
    CHECK(h.connection_id == "x1y2z3");
    CHECK(h.server_version == "9.11.0.9.11.0.abc.false");
    CHECK(h.user_id == "bot0000000000000000000000a");
    CHECK(h.seq == 0);
  }

  TEST_CASE("event frames from the fixtures") {
    struct expected {
      const char* file;
      const char* event;
      std::int64_t seq;
      const char* channel;
    };
    for (const auto& e : {expected{"websocket/posted_dm_minimal.json", "posted", 1, ""},
                          expected{"websocket/posted_channel_mention_minimal.json", "posted", 1, ""},
                          expected{"websocket/posted_channel_mmpy_bot.json", "posted", 29, "4fgt3n51f7ftpff91gk1iy1zow"},
                          expected{"websocket/posted_thread_reply_mmpy_bot.json", "posted", 29,
                                   "4fgt3n51f7ftpff91gk1iy1zow"},
                          expected{"websocket/reaction_added_minimal.json", "reaction_added", 1, ""}}) {
      CAPTURE(e.file);
      const std::string text = fixture(e.file);
      auto f = as<mm::event_frame>(mm::decode_frame(text));
      CHECK(f.event == e.event);
      REQUIRE(f.seq.has_value());
      CHECK(*f.seq == e.seq);
      CHECK(f.channel_id == e.channel);
      CHECK(f.broadcast_user_id.empty());
      CHECK(json::parse(f.data_json) == json::parse(text).at("data"));
    }
  }

  TEST_CASE("an event without seq, or with a seq that is no count, has none") {
    auto f = as<mm::event_frame>(mm::decode_frame(R"({"event":"typing","data":{"parent_id":""}})"));
    CHECK_FALSE(f.seq.has_value());
    CHECK(json::parse(f.data_json) == json{{"parent_id", ""}});
    f = as<mm::event_frame>(mm::decode_frame(R"({"event":"typing","seq":-3})"));
    CHECK_FALSE(f.seq.has_value());
    CHECK(f.data_json == "{}");
    f = as<mm::event_frame>(mm::decode_frame(R"({"event":"typing","seq":{"n":1},"data":[1,2]})"));
    CHECK_FALSE(f.seq.has_value());
    CHECK(f.data_json == "{}");
    // A number in a string is still read (lenient with other clients' captures).
    f = as<mm::event_frame>(mm::decode_frame(R"({"event":"typing","seq":"41","broadcast":{"user_id":"u1"}})"));
    CHECK(f.seq == 41);
    CHECK(f.broadcast_user_id == "u1");
    f = as<mm::event_frame>(mm::decode_frame(R"({"event":"typing","seq":"4x"})"));
    CHECK_FALSE(f.seq.has_value());
  }

  TEST_CASE("replies to our requests") {
    auto r = as<mm::reply>(mm::decode_frame(R"({"status":"OK","seq_reply":1})"));
    CHECK(r.seq_reply == 1);
    CHECK(r.ok());
    CHECK(r.error_id.empty());
    r = as<mm::reply>(mm::decode_frame(
        R"({"status":"OK","seq_reply":7,"data":{"text":"pong","version":"9.11.0","server_time":1700000000000,"node_id":""}})"));
    CHECK(r.seq_reply == 7);
    CHECK(json::parse(r.data_json).at("text") == "pong");
    r = as<mm::reply>(mm::decode_frame(
        R"({"status":"FAIL","seq_reply":0,"error":{"id":"api.web_socket_router.bad_seq.app_error","message":"Invalid sequence."}})"));
    CHECK_FALSE(r.ok());
    CHECK(r.error_id == "api.web_socket_router.bad_seq.app_error");
    CHECK(r.error_message == "Invalid sequence.");
  }

  TEST_CASE("malformed frames never throw") {
    std::string deep(100'000, '[');
    for (const std::string& text : std::vector<std::string>{
             "", "{", "[]", "null", "42", "\"hello\"", R"({"event":5})", R"({"event":""})", R"({"event":null})",
             R"({"status":"OK"})", R"({"seq_reply":"one","status":"OK"})", R"({"seq":3})", deep,
             deep + std::string(100'000, ']'), "{\"event\":\"hello\xff\"}", std::string("{\"a\":\0}", 7),
             R"({"event":"hello"} trailing)"}) {
      CAPTURE(text.substr(0, 40));
      mm::frame f;
      CHECK_NOTHROW(f = mm::decode_frame(text));
      REQUIRE(std::holds_alternative<mm::malformed>(f));
      CHECK_FALSE(std::get<mm::malformed>(f).why.empty());
    }
    // Odd field types inside a hello fall back to defaults.
    auto h = as<mm::hello>(mm::decode_frame(R"({"event":"hello","data":[],"broadcast":"x","seq":"zero"})"));
    CHECK(h.seq == 0);
    CHECK(h.connection_id.empty());
    CHECK(h.user_id.empty());
  }

  TEST_CASE("authentication challenge and ping") {
    CHECK(json::parse(mm::encode_auth_challenge(1, "tok\"en")) ==
          json{{"seq", 1}, {"action", "authentication_challenge"}, {"data", {{"token", "tok\"en"}}}});
    CHECK(json::parse(mm::encode_ping(12)) == json{{"action", "ping"}, {"seq", 12}});
    // A token that is not UTF-8 still makes valid JSON.
    json parsed;
    CHECK_NOTHROW(parsed = json::parse(mm::encode_auth_challenge(2, "\xff\xfe")));
    CHECK(parsed.at("data").at("token").is_string());
  }
}
