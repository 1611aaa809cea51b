#include "core/mentions.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace kintsugi::core;

TEST_CASE("mentions render with the names a reader knows") {
  auto name = [](std::string_view id) { return id == "U1" ? std::string{"Alice"} : std::string{id}; };
  CHECK(render_mentions("<@U1> paged <@bob> in <#inc-db>", name) == "@Alice paged @bob in #inc-db");
  CHECK(render_mentions("<@U1|alice> here", name) == "@Alice here");
  CHECK(render_mentions("a < b and <@ x> and <@> and <#", name) == "a < b and <@ x> and <@> and <#");
  CHECK(render_mentions("no mentions at all", name) == "no mentions at all");
  CHECK(render_mentions("", name).empty());
  // Text right before, between and after mentions, and a '<' that opens none next to one that does.
  CHECK(render_mentions("<<@U1>>x<@U1><@bob> <@U1 y", name) == "<@Alice>x@Alice@bob <@U1 y");
}

TEST_CASE("for_each_mention finds people and channels") {
  std::vector<std::string> seen;
  for_each_mention("<@U1> and <#C2|general> and <@U3|x> but not <@ y>", [&](char kind, std::string_view id) {
    seen.push_back(std::string(1, kind) + std::string{id});
  });
  CHECK(seen == std::vector<std::string>{"@U1", "#C2", "@U3"});
}

TEST_CASE("channel mentions render with the channel's name: the label, else the lookup, else the id") {
  auto user = [](std::string_view id) { return std::string{id}; };
  auto channel = [](std::string_view id) { return id == "C1" ? std::string{"inc-db"} : std::string{}; };
  CHECK(render_mentions("join <#C1> now", user, channel) == "join #inc-db now");
  CHECK(render_mentions("join <#C2|payments>", user, channel) == "join #payments");
  CHECK(render_mentions("join <#C3>", user, channel) == "join #C3");
  CHECK(render_mentions("join <#C1>", user, {}) == "join #C1");
}
