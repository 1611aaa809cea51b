#pragma once
// The request and response an http_client exchanges; plain data, independent of the connection.
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kintsugi::net {

struct http_header {
  std::string name;
  std::string value;
};

struct http_request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target = "/";          // path and query, e.g. "/api/chat.postMessage"
  std::vector<http_header> headers;  // e.g. {"Authorization", "Bearer …"}: sent, never logged
  std::string body;                  // never logged
  std::string content_type;          // sent when not empty, e.g. "application/json; charset=utf-8"
};

struct http_response {
  unsigned status = 0;
  boost::beast::http::fields headers;
  std::string body;

  // The first value of a header, or empty.
  std::string header(std::string_view name) const;
  // How long the server asks us to wait (Retry-After as seconds or as an HTTP date), if it says.
  std::optional<std::chrono::seconds> retry_after(
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;
};

// Parses a Retry-After value: delta-seconds ("30") or an IMF-fixdate ("Wed, 21 Oct 2026 07:28:00 GMT",
// counted from `now`, never negative). nullopt for anything else.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

}  // namespace kintsugi::net
