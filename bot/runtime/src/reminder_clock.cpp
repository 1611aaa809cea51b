#include "runtime/reminder_clock.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <optional>

namespace kintsugi::runtime {

namespace asio = boost::asio;

reminder_clock::reminder_clock(asio::any_io_executor ex, host& h, std::function<core::timestamp()> now,
                               std::chrono::milliseconds longest_wait)
    : ex_(ex), host_(h), now_(std::move(now)), longest_wait_(longest_wait), timer_(ex) {}

void reminder_clock::stop() {
  stopping_ = true;
  timer_.cancel();
}

void reminder_clock::wake() {
  asio::post(ex_, [this] {
    woken_ = true;
    timer_.cancel();
  });
}

asio::awaitable<void> reminder_clock::run() {
  std::function<std::optional<core::timestamp>(core::store&)> earliest = [](core::store& s) {
    return s.next_reminder_due();
  };
  while (!stopping_) {
    woken_ = false;
    const std::optional<core::timestamp> next = co_await host_.run(earliest);
    const core::timestamp now = now_();
    if (next && *next <= now) {
      core::event tick = core::clock_tick{now};
      const core::event_outcome outcome = co_await host_.submit(std::move(tick));
      ++ticks_;
      if (outcome.error.empty()) continue;
      // The store refused (disk full, say): try again after a pause rather than spinning.
    }
    if (woken_ || stopping_) continue;  // a commit came while reading: read again
    auto wait = longest_wait_;
    if (next && *next > now)
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(*next - now));
    timer_.expires_after(wait);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace kintsugi::runtime
