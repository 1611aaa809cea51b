#pragma once
// Helpers for the platform codecs' tests (Slack, Mattermost): the fixtures of ../shared/fixtures/<platform>, times
// written as ISO text, and the events a payload should give.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/events.hpp"
#include "core/time.hpp"

namespace kintsugi::test::codec {

// The bytes of fixtures/<platform>/<path>.
inline std::string fixture_of(std::string_view platform, std::string_view path) {
  std::string full = std::string(KINTSUGI_FIXTURES_DIR) + "/" + std::string(platform) + "/" + std::string(path);
  std::ifstream in(full, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << full);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A form body without the final newline the fixture files end with.
inline std::string without_final_newline(std::string body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return body;
}

inline core::timestamp iso(std::string_view text) {
  auto t = core::parse_iso(text);
  REQUIRE_MESSAGE(t.has_value(), "bad ISO time in test: " << text);
  return *t;
}

// A copy of the single event of type T in `events` (a copy, so it may come from a temporary result).
template <class T>
T only(const std::vector<core::event>& events) {
  REQUIRE(events.size() == 1);
  REQUIRE(std::holds_alternative<T>(events.front()));
  return std::get<T>(events.front());
}

// A copy of events[i], which must be a T.
template <class T>
T nth(const std::vector<core::event>& events, std::size_t i) {
  REQUIRE(events.size() > i);
  REQUIRE(std::holds_alternative<T>(events[i]));
  return std::get<T>(events[i]);
}

}  // namespace kintsugi::test::codec
