#include "slack/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <limits>

namespace kintsugi::slack {
namespace {

constexpr std::string_view prefix = "v0=";
constexpr std::size_t digest_size = 32;  // SHA-256

// HMAC-SHA256 of "v0:<timestamp>:<body>"; false only if OpenSSL fails (or the secret is absurdly long).
bool mac(std::string_view secret, std::string_view timestamp, std::string_view body,
         std::array<unsigned char, digest_size>& out) {
  if (secret.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  std::string base;
  base.reserve(3 + timestamp.size() + 1 + body.size());
  base.append("v0:").append(timestamp).append(":").append(body);
  unsigned int len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(base.data());
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), data, base.size(), out.data(), &len) ==
      nullptr) {
    return false;
  }
  return len == digest_size;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view name(verify_result r) {
  switch (r) {
    case verify_result::ok: return "ok";
    case verify_result::bad_signature: return "bad_signature";
    case verify_result::stale: return "stale";
    case verify_result::missing: return "missing";
  }
  return "unknown";
}

std::string sign_request(std::string_view signing_secret, std::string_view timestamp, std::string_view raw_body) {
  std::array<unsigned char, digest_size> digest{};
  if (!mac(signing_secret, timestamp, raw_body, digest)) return {};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(prefix);
  for (unsigned char b : digest) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

verify_result verify_request(std::string_view signing_secret, std::string_view timestamp_header,
                             std::string_view signature_header, std::string_view raw_body,
                             std::int64_t now_seconds) {
  if (signing_secret.empty() || timestamp_header.empty() || signature_header.empty()) return verify_result::missing;

  std::int64_t ts = 0;
  const auto* end = timestamp_header.data() + timestamp_header.size();
  auto [ptr, ec] = std::from_chars(timestamp_header.data(), end, ts);
  if (ec != std::errc{} || ptr != end || ts < 0) return verify_result::stale;
  if (now_seconds < 0) return verify_result::stale;
  const std::int64_t skew = now_seconds - ts;  // both are >= 0: no overflow
  if (skew > max_skew_seconds || skew < -max_skew_seconds) return verify_result::stale;

  if (signature_header.size() != prefix.size() + 2 * digest_size || !signature_header.starts_with(prefix)) {
    return verify_result::bad_signature;
  }
  std::array<unsigned char, digest_size> given{};
  for (std::size_t i = 0; i < digest_size; ++i) {
    const int hi = hex_value(signature_header[prefix.size() + 2 * i]);
    const int lo = hex_value(signature_header[prefix.size() + 2 * i + 1]);
    if (hi < 0 || lo < 0) return verify_result::bad_signature;
    given[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  std::array<unsigned char, digest_size> expected{};
  if (!mac(signing_secret, timestamp_header, raw_body, expected)) return verify_result::bad_signature;
  return CRYPTO_memcmp(given.data(), expected.data(), digest_size) == 0 ? verify_result::ok
                                                                        : verify_result::bad_signature;
}

}  // namespace kintsugi::slack
