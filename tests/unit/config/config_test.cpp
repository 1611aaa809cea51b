#include "config/config.hpp"

#include <doctest/doctest.h>

TEST_CASE("placeholder") { CHECK(kintsugi::config::redact("") == "(empty)"); }
