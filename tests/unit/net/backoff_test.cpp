// Jittered exponential backoff (kintsugi::net::backoff): sequence, cap, jitter range, reset.
#include "net/backoff.hpp"

#include <doctest/doctest.h>

#include <random>

namespace net = kintsugi::net;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("backoff: the ceiling doubles from the base up to the cap") {
  net::backoff b({.base = milliseconds(500), .cap = seconds(60), .kind = net::jitter::full});
  const long expected[] = {500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
  for (long ceiling : expected) {
    CHECK(b.ceiling() == milliseconds(ceiling));
    CHECK(b.next(0.999999) <= milliseconds(ceiling));
  }
  CHECK(b.attempts() == 10);
}

TEST_CASE("backoff: full jitter covers [0, ceiling]") {
  net::backoff low({.base = milliseconds(1000), .cap = seconds(60), .kind = net::jitter::full});
  net::backoff high({.base = milliseconds(1000), .cap = seconds(60), .kind = net::jitter::full});
  for (int i = 0; i < 8; ++i) {
    const auto ceiling = low.ceiling();
    CHECK(low.next(0.0) == milliseconds(0));
    CHECK(high.next(1.0) == ceiling);
  }
}

TEST_CASE("backoff: equal jitter stays in [ceiling/2, ceiling]") {
  net::backoff b({.base = milliseconds(1000), .cap = seconds(60), .kind = net::jitter::equal});
  CHECK(b.next(0.0) == milliseconds(500));
  CHECK(b.next(1.0) == milliseconds(2000));
  CHECK(b.next(0.5) == milliseconds(3000));
}

TEST_CASE("backoff: samples out of range are clamped") {
  net::backoff b({.base = milliseconds(1000), .cap = seconds(60), .kind = net::jitter::full});
  CHECK(b.next(-3.0) == milliseconds(0));
  CHECK(b.next(7.0) == milliseconds(2000));
}

TEST_CASE("backoff: reset starts over from the base") {
  net::backoff b({.base = milliseconds(250), .cap = seconds(60), .kind = net::jitter::full});
  for (int i = 0; i < 5; ++i) (void)b.next(0.5);
  CHECK(b.ceiling() == milliseconds(8000));
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.ceiling() == milliseconds(250));
}

TEST_CASE("backoff: many attempts never overflow and never pass the cap") {
  net::backoff b({.base = milliseconds(500), .cap = seconds(60), .kind = net::jitter::full});
  std::mt19937 random(42);
  for (int i = 0; i < 1000; ++i) {
    const auto delay = b.next(random);
    CHECK(delay >= milliseconds(0));
    CHECK(delay <= seconds(60));
  }
  CHECK(b.ceiling() == seconds(60));
}

TEST_CASE("backoff: a cap below the base caps the first delay too") {
  net::backoff b({.base = seconds(90), .cap = seconds(60), .kind = net::jitter::equal});
  CHECK(b.next(1.0) == seconds(60));
}
