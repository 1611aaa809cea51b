#pragma once
// Helpers for the Slack codec tests: fixtures, expected times, and the one event a payload should give.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/events.hpp"
#include "core/time.hpp"

namespace slack_test {

namespace core = kintsugi::core;

// The bytes of fixtures/slack/<path>.
inline std::string fixture(std::string_view path) {
  std::string full = std::string(KINTSUGI_FIXTURES_DIR) + "/slack/" + std::string(path);
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

// A copy of the single event of type T in `events` (a copy, so it may come from a temporary result).
template <class T>
T only(const std::vector<core::event>& events) {
  REQUIRE(events.size() == 1);
  REQUIRE(std::holds_alternative<T>(events.front()));
  return std::get<T>(events.front());
}

// The response bodies recorded in a VCR cassette (YAML): each `response:` has `body: string: '…'`, a
// single-quoted scalar where '' is a quote and a line break plus indentation folds into one space.
inline std::vector<std::string> cassette_response_bodies(std::string_view yaml) {
  std::vector<std::string> bodies;
  std::size_t pos = 0;
  while ((pos = yaml.find("  response:", pos)) != std::string_view::npos) {
    auto start = yaml.find("string: '", pos);
    if (start == std::string_view::npos) break;
    std::size_t i = start + 9;
    std::string body;
    while (i < yaml.size()) {
      char c = yaml[i];
      if (c == '\'') {
        if (i + 1 < yaml.size() && yaml[i + 1] == '\'') {
          body += '\'';
          i += 2;
          continue;
        }
        break;
      }
      if (c == '\n') {
        ++i;
        while (i < yaml.size() && yaml[i] == ' ') ++i;
        body += ' ';
        continue;
      }
      body += c;
      ++i;
    }
    bodies.push_back(std::move(body));
    pos = i;
  }
  return bodies;
}

}  // namespace slack_test
