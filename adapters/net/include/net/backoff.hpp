#pragma once
// Jittered exponential backoff for reconnects and retries: the n-th delay (n from 0) is drawn from
// min(cap, base * 2^n) with full jitter (uniform in [0, d]) or equal jitter (uniform in [d/2, d]).
// Pure: the random sample comes from the caller, so tests choose it; reset() after a success.
#include <chrono>
#include <random>

namespace kintsugi::net {

enum class jitter { full, equal };

struct backoff_config {
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{std::chrono::seconds(60)};
  jitter kind = jitter::full;
};

class backoff {
 public:
  explicit backoff(backoff_config config = {}) : config_(config) {}

  // The next delay for a sample `unit` in [0, 1) (values outside are clamped).
  std::chrono::milliseconds next(double unit);

  // The next delay with a sample drawn from `random`.
  template <std::uniform_random_bit_generator Random>
  std::chrono::milliseconds next(Random& random) {
    return next(std::generate_canonical<double, 32>(random));
  }

  // The delay before jitter for the next attempt: min(cap, base * 2^attempts).
  std::chrono::milliseconds ceiling() const;
  unsigned attempts() const { return attempts_; }
  void reset() { attempts_ = 0; }
  const backoff_config& config() const { return config_; }

 private:
  backoff_config config_;
  unsigned attempts_ = 0;
};

}  // namespace kintsugi::net
