#pragma once
// URLs the bot talks to: https://host[:port]/base/, wss://host/path?query, http:// and ws:// (tests).
// Parsed with Boost.URL; only the parts a client needs to connect and send a request are kept.
#include <net/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace kintsugi::net {

struct url_parts {
  std::string scheme;       // "http", "https", "ws" or "wss" (lower case)
  std::string host;         // a name or an IP address, without the brackets of an IPv6 literal
  std::uint16_t port = 0;   // explicit, or 80 / 443 by scheme
  std::string target;       // path and query, at least "/" (percent-encoding kept as written)

  bool secure() const { return scheme == "https" || scheme == "wss"; }
  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
  // The Host header value: the host (IPv6 in brackets), with ":port" when the port is not the default.
  std::string host_header() const;
  // scheme://host[:port], without the target.
  std::string origin() const;

  friend bool operator==(const url_parts&, const url_parts&) = default;
};

// Parses an absolute URL. A fragment is dropped; user info is refused (no credentials in URLs).
// errc::bad_url for anything else than http, https, ws, wss with a host.
result<url_parts> parse_url(std::string_view text);

// Joins a base URL and a method or relative path: ("https://slack.com/api/", "chat.postMessage") and
// ("https://slack.com/api", "chat.postMessage") both give "https://slack.com/api/chat.postMessage".
// A reference that starts with '/' replaces the base path (RFC 3986 resolution); a query is kept.
result<std::string> join_url(std::string_view base, std::string_view method);

}  // namespace kintsugi::net
