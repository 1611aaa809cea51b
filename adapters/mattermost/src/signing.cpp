// The Mattermost codec: the HMAC that authenticates kintsugi's buttons and the constant-time token comparison.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <array>
#include <limits>

#include "codec_detail.hpp"
#include "mattermost/outbound.hpp"

namespace kintsugi::mattermost {
namespace {

constexpr std::size_t digest_size = 32;  // SHA-256
using digest = std::array<unsigned char, digest_size>;

// HMAC-SHA256(key, data); false only if OpenSSL fails or the key is absurdly long.
bool hmac(std::string_view key, std::string_view data, digest& out) {
  if (key.empty() || key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return false;
  unsigned int len = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes, data.size(), out.data(), &len) == nullptr) {
    return false;
  }
  return len == digest_size;
}

bool sha256(std::string_view data, digest& out) {
  unsigned int len = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) == 1 && len == digest_size;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string hex(const digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * d.size());
  for (unsigned char b : d) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

}  // namespace

std::string action_signature(std::string_view key, std::string_view command) {
  digest d{};
  if (!hmac(key, command, d)) return {};
  return hex(d);
}

std::string derive_action_key(std::string_view secret) {
  digest d{};
  if (!hmac(secret, "kintsugi/mattermost/action-signature/v1", d)) return {};
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

namespace detail {

bool same_secret(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return false;
  digest da{};
  digest db{};
  if (!sha256(a, da) || !sha256(b, db)) return false;
  return CRYPTO_memcmp(da.data(), db.data(), digest_size) == 0;
}

bool verify_action_signature(std::string_view key, std::string_view command, std::string_view sig_hex) {
  if (key.empty() || sig_hex.size() != 2 * digest_size) return false;
  digest given{};
  for (std::size_t i = 0; i < digest_size; ++i) {
    const int hi = hex_value(sig_hex[2 * i]);
    const int lo = hex_value(sig_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  digest expected{};
  if (!hmac(key, command, expected)) return false;
  return CRYPTO_memcmp(given.data(), expected.data(), digest_size) == 0;
}

}  // namespace detail
}  // namespace kintsugi::mattermost
