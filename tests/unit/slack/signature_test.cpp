// Slack request signing against the documented vector (fixtures/slack/slash_commands/request_signing_vector.json).
#include "slack/signature.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "slack_test_util.hpp"

namespace slack = kintsugi::slack;
using json = nlohmann::json;
using slack::verify_result;

namespace {

struct signing_vector {
  std::string secret;
  std::string timestamp;
  std::string body;
  std::string signature;
  std::int64_t now = 0;
};

signing_vector load() {
  json j = json::parse(slack_test::fixture("slash_commands/request_signing_vector.json"));
  return {j["signing_secret"], j["x_slack_request_timestamp"], j["body"], j["x_slack_signature"],
          j["verifier_clock_now"].get<std::int64_t>()};
}

}  // namespace

TEST_SUITE("slack request signing") {
  TEST_CASE("the documented vector verifies, and sign_request reproduces it") {
    auto v = load();
    CHECK(slack::verify_request(v.secret, v.timestamp, v.signature, v.body, v.now) == verify_result::ok);
    CHECK(slack::sign_request(v.secret, v.timestamp, v.body) == v.signature);
  }

  TEST_CASE("tampering with the body, the timestamp, the signature or the secret fails") {
    auto v = load();
    std::string body = v.body;
    body.replace(body.find("roadrunner"), 10, "coyote0000");
    CHECK(slack::verify_request(v.secret, v.timestamp, v.signature, body, v.now) == verify_result::bad_signature);
    CHECK(slack::verify_request(v.secret, v.timestamp, v.signature, v.body + "&x=1", v.now) ==
          verify_result::bad_signature);
    // A timestamp one second later, inside the window, still breaks the signature.
    CHECK(slack::verify_request(v.secret, "1531420619", v.signature, v.body, v.now) == verify_result::bad_signature);
    std::string sig = v.signature;
    sig.back() = sig.back() == '3' ? '4' : '3';
    CHECK(slack::verify_request(v.secret, v.timestamp, sig, v.body, v.now) == verify_result::bad_signature);
    CHECK(slack::verify_request("another-secret", v.timestamp, v.signature, v.body, v.now) ==
          verify_result::bad_signature);
  }

  TEST_CASE("malformed signature headers are bad signatures") {
    auto v = load();
    std::string upper = v.signature;
    for (auto& c : upper) c = c >= 'a' && c <= 'f' ? static_cast<char>(c - 'a' + 'A') : c;
    upper.replace(0, 3, "v0=");
    CHECK(slack::verify_request(v.secret, v.timestamp, upper, v.body, v.now) == verify_result::ok);  // hex case
    for (std::string bad : {std::string("v1=") + v.signature.substr(3), v.signature.substr(3), v.signature + "00",
                            v.signature.substr(0, v.signature.size() - 2), std::string("v0=") + std::string(64, 'g')}) {
      CAPTURE(bad);
      CHECK(slack::verify_request(v.secret, v.timestamp, bad, v.body, v.now) == verify_result::bad_signature);
    }
  }

  TEST_CASE("the five-minute window") {
    auto v = load();
    CHECK(slack::verify_request(v.secret, v.timestamp, v.signature, v.body, v.now + 300) == verify_result::ok);
    CHECK(slack::verify_request(v.secret, v.timestamp, v.signature, v.body, v.now - 300) == verify_result::ok);
    CHECK(slack::verify_request(v.secret, v.timestamp, v.signature, v.body, v.now + 301) == verify_result::stale);
    CHECK(slack::verify_request(v.secret, v.timestamp, v.signature, v.body, v.now - 301) == verify_result::stale);
    // Stale is checked before the signature: a replay a day later is refused as stale.
    CHECK(slack::verify_request(v.secret, v.timestamp, "v0=00", v.body, v.now + 86400) == verify_result::stale);
    for (const char* ts : {"abc", "-5", "1531420618.5", " 1531420618", "99999999999999999999999"}) {
      CAPTURE(ts);
      CHECK(slack::verify_request(v.secret, ts, v.signature, v.body, v.now) == verify_result::stale);
    }
  }

  TEST_CASE("missing parts") {
    auto v = load();
    CHECK(slack::verify_request("", v.timestamp, v.signature, v.body, v.now) == verify_result::missing);
    CHECK(slack::verify_request(v.secret, "", v.signature, v.body, v.now) == verify_result::missing);
    CHECK(slack::verify_request(v.secret, v.timestamp, "", v.body, v.now) == verify_result::missing);
    CHECK(slack::name(verify_result::missing) == "missing");
  }

  TEST_CASE("an empty body signs and verifies") {
    auto sig = slack::sign_request("s3cret", "1700000000", "");
    CHECK(sig.size() == 67);
    CHECK(slack::verify_request("s3cret", "1700000000", sig, "", 1700000000) == verify_result::ok);
  }
}
