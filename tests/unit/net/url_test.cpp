// URL parsing and joining (kintsugi::net::parse_url, join_url).
#include "net/url.hpp"

#include <doctest/doctest.h>

namespace net = kintsugi::net;

TEST_CASE("parse_url: https with the default port and a base path") {
  const auto url = net::parse_url("https://slack.com/api/");
  REQUIRE(url.has_value());
  CHECK(url->scheme == "https");
  CHECK(url->host == "slack.com");
  CHECK(url->port == 443);
  CHECK(url->target == "/api/");
  CHECK(url->secure());
  CHECK_FALSE(url->websocket());
  CHECK(url->host_header() == "slack.com");
  CHECK(url->origin() == "https://slack.com");
}

TEST_CASE("parse_url: wss with a path and a query kept as written") {
  const auto url = net::parse_url("wss://wss-primary.slack.com/link/?ticket=12%2034&app_id=A1");
  REQUIRE(url.has_value());
  CHECK(url->scheme == "wss");
  CHECK(url->port == 443);
  CHECK(url->target == "/link/?ticket=12%2034&app_id=A1");
  CHECK(url->websocket());
  CHECK(url->secure());
}

TEST_CASE("parse_url: explicit ports, plain schemes, no path") {
  const auto http = net::parse_url("http://127.0.0.1:8065");
  REQUIRE(http.has_value());
  CHECK(http->port == 8065);
  CHECK(http->target == "/");
  CHECK(http->host_header() == "127.0.0.1:8065");
  CHECK_FALSE(http->secure());

  const auto ws = net::parse_url("ws://localhost/api/v4/websocket");
  REQUIRE(ws.has_value());
  CHECK(ws->port == 80);
  CHECK(ws->target == "/api/v4/websocket");

  const auto upper = net::parse_url("HTTPS://Example.com:443/x");
  REQUIRE(upper.has_value());
  CHECK(upper->scheme == "https");
  CHECK(upper->host_header() == "Example.com");
}

TEST_CASE("parse_url: IPv6 literals lose their brackets, the Host header keeps them") {
  const auto url = net::parse_url("https://[::1]:8443/api");
  REQUIRE(url.has_value());
  CHECK(url->host == "::1");
  CHECK(url->port == 8443);
  CHECK(url->host_header() == "[::1]:8443");
}

TEST_CASE("parse_url: a fragment is dropped") {
  const auto url = net::parse_url("https://example.com/a?b=1#frag");
  REQUIRE(url.has_value());
  CHECK(url->target == "/a?b=1");
}

TEST_CASE("parse_url: refuses what a client cannot use") {
  CHECK(net::parse_url("ftp://example.com/").error() == net::errc::bad_url);
  CHECK(net::parse_url("example.com/api").error() == net::errc::bad_url);
  CHECK(net::parse_url("https:///api").error() == net::errc::bad_url);
  CHECK(net::parse_url("https://user:secret@example.com/").error() == net::errc::bad_url);
  CHECK(net::parse_url("https://example.com:0/").error() == net::errc::bad_url);
  CHECK(net::parse_url("https://example.com:99999/").error() == net::errc::bad_url);
  CHECK(net::parse_url("").error() == net::errc::bad_url);
  CHECK(net::parse_url("https://exa mple.com/").error() == net::errc::bad_url);
}

TEST_CASE("join_url: a base and a method name, with or without the trailing slash") {
  CHECK(net::join_url("https://slack.com/api/", "chat.postMessage").value() == "https://slack.com/api/chat.postMessage");
  CHECK(net::join_url("https://slack.com/api", "chat.postMessage").value() == "https://slack.com/api/chat.postMessage");
  CHECK(net::join_url("http://127.0.0.1:4000/api/", "apps.connections.open").value() ==
        "http://127.0.0.1:4000/api/apps.connections.open");
  CHECK(net::join_url("https://mm.example.com", "api/v4/posts").value() == "https://mm.example.com/api/v4/posts");
}

TEST_CASE("join_url: a query is kept, an absolute path replaces the base path") {
  CHECK(net::join_url("https://slack.com/api/", "conversations.history?channel=C1&limit=2").value() ==
        "https://slack.com/api/conversations.history?channel=C1&limit=2");
  CHECK(net::join_url("https://mm.example.com/base/", "/api/v4/users/me").value() ==
        "https://mm.example.com/api/v4/users/me");
}

TEST_CASE("join_url: bad input is an error value") {
  CHECK(net::join_url("not a url", "x").error() == net::errc::bad_url);
  CHECK(net::join_url("https://slack.com/api/", "a b").error() == net::errc::bad_url);
}
