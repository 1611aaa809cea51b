#pragma once
// Helpers for the Slack codec tests: fixtures of ../shared/fixtures/slack, expected times, the events a payload should
// give (tests/support/codec_test_util.hpp), and the bodies of recorded cassettes.
#include <string>
#include <string_view>
#include <vector>

#include "codec_test_util.hpp"

namespace slack_test {

namespace core = kintsugi::core;

using kintsugi::test::codec::iso;
using kintsugi::test::codec::only;

// The bytes of fixtures/slack/<path>.
inline std::string fixture(std::string_view path) { return kintsugi::test::codec::fixture_of("slack", path); }

// A form body fixture without the final newline the fixture files end with.
inline std::string form_fixture(std::string_view path) {
  return kintsugi::test::codec::without_final_newline(fixture(path));
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
