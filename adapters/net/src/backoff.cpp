#include <net/backoff.hpp>

#include <algorithm>
#include <cmath>

namespace kintsugi::net {

std::chrono::milliseconds backoff::ceiling() const {
  const auto base = std::max<std::chrono::milliseconds::rep>(config_.base.count(), 0);
  const auto cap = std::max<std::chrono::milliseconds::rep>(config_.cap.count(), 0);
  auto delay = base;
  // Double until the cap is reached; no shift can overflow because we stop at the cap.
  for (unsigned i = 0; i < attempts_ && delay < cap; ++i) delay *= 2;
  return std::chrono::milliseconds(std::min(delay, cap));
}

std::chrono::milliseconds backoff::next(double unit) {
  if (!(unit >= 0.0)) unit = 0.0;  // also catches NaN
  unit = std::min(unit, 1.0);
  const auto ceiling_ms = static_cast<double>(ceiling().count());
  if (attempts_ < 64) ++attempts_;
  double delay = 0.0;
  switch (config_.kind) {
    case jitter::full: delay = unit * ceiling_ms; break;
    case jitter::equal: delay = ceiling_ms / 2.0 + unit * ceiling_ms / 2.0; break;
  }
  return std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(std::floor(delay)));
}

}  // namespace kintsugi::net
