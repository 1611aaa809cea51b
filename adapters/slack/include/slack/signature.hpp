#pragma once
// Slack request signing (PROTOCOLS.md §2.1): X-Slack-Signature is "v0=" + hex(HMAC-SHA256(signing secret,
// "v0:" + X-Slack-Request-Timestamp + ":" + raw body)). Used for Events API, slash-command and
// interactivity POSTs in HTTP mode; Socket Mode needs none.
#include <cstdint>
#include <string>
#include <string_view>

namespace kintsugi::slack {

enum class verify_result {
  ok,
  bad_signature,  // wrong secret, tampered body or timestamp, or not a "v0=<64 hex>" value
  stale,          // the timestamp is more than max_skew_seconds from now (replay protection)
  missing,        // no secret, no timestamp header or no signature header
};

std::string_view name(verify_result r);

inline constexpr std::int64_t max_skew_seconds = 300;

// `raw_body` must be the bytes exactly as received. The comparison takes constant time.
// A timestamp that is not a plain unsigned decimal counts as stale (it cannot be placed in time).
verify_result verify_request(std::string_view signing_secret, std::string_view timestamp_header,
                             std::string_view signature_header, std::string_view raw_body,
                             std::int64_t now_seconds);

// "v0=<hex>" for the given timestamp and body: what Slack would send (for tests and fakes).
std::string sign_request(std::string_view signing_secret, std::string_view timestamp, std::string_view raw_body);

}  // namespace kintsugi::slack
