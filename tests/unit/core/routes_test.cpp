// Routes: which platform an id, and so an outbox item, belongs to when several run in one process.
#include <doctest/doctest.h>

#include <string>

#include "core/events.hpp"

using namespace kintsugi::core;

TEST_CASE("route_of an id: lower-case letters before the first colon, else the first platform's") {
  CHECK(route_of("mm:4xp9fdt9pbfobre6b8uzs6xjjh") == "mm");
  CHECK(route_of("mm:inc-20261120-db") == "mm");
  CHECK(route_of("C024BE91L").empty());
  CHECK(route_of("C024BE91L:1712.000100").empty());  // a Slack message id
  CHECK(route_of("inc-db").empty());
  CHECK(route_of("alice").empty());
  CHECK(route_of(":x").empty());
  CHECK(route_of("").empty());
  CHECK(route_of("m1:x").empty());  // digits are not a route
}

TEST_CASE("route_of an action follows its channel, user or message") {
  CHECK(route_of(action{post_message{"mm:ch", "hi"}}) == "mm");
  CHECK(route_of(action{post_message{"C1", "hi"}}).empty());
  CHECK(route_of(action{post_ephemeral{"mm:ch", "mm:u", "x"}}) == "mm");
  CHECK(route_of(action{direct_message{"mm:u", "x"}}) == "mm");
  CHECK(route_of(action{direct_message{"U1", "x"}}).empty());
  CHECK(route_of(action{create_channel{"mm:inc-1"}}) == "mm");
  CHECK(route_of(action{create_channel{"inc-1"}}).empty());
  CHECK(route_of(action{invite_user{"mm:ch", "mm:u"}}) == "mm");
  CHECK(route_of(action{set_topic{"mm:ch", "t"}}) == "mm");
  CHECK(route_of(action{publish_document{"mm:ch", "INC-1.md", "#"}}) == "mm");
  CHECK(route_of(action{pin_message{"mm:post"}}) == "mm");
  CHECK(route_of(action{pin_message{"C1:1.2"}}).empty());
}
