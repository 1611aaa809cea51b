#pragma once
// Helpers for the Mattermost codec tests: fixtures of ../shared/fixtures/mattermost, expected times, and the events a
// frame should give (tests/support/codec_test_util.hpp).
#include <string>
#include <string_view>

#include "codec_test_util.hpp"

namespace mm_test {

namespace core = kintsugi::core;
using kintsugi::test::codec::iso;
using kintsugi::test::codec::nth;
using kintsugi::test::codec::only;

// The bytes of fixtures/mattermost/<path>.
inline std::string fixture(std::string_view path) { return kintsugi::test::codec::fixture_of("mattermost", path); }

// A form body fixture without the final newline the fixture files end with.
inline std::string form_fixture(std::string_view path) {
  return kintsugi::test::codec::without_final_newline(fixture(path));
}

}  // namespace mm_test
