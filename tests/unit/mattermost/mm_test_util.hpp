#pragma once
// Helpers for the Mattermost codec tests: fixtures, expected times, and the one event a frame should give.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/events.hpp"
#include "core/time.hpp"

namespace mm_test {

namespace core = kintsugi::core;

// The bytes of fixtures/mattermost/<path>.
inline std::string fixture(std::string_view path) {
  std::string full = std::string(KINTSUGI_FIXTURES_DIR) + "/mattermost/" + std::string(path);
  std::ifstream in(full, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << full);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A form body fixture without the final newline the fixture files end with.
inline std::string form_fixture(std::string_view path) {
  std::string body = fixture(path);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return body;
}

inline core::timestamp iso(std::string_view text) {
  auto t = core::parse_iso(text);
  REQUIRE_MESSAGE(t.has_value(), "bad ISO time in test: " << text);
  return *t;
}

// A copy of the single event of type T in `events`.
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

}  // namespace mm_test
