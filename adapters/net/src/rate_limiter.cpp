#include <net/rate_limiter.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kintsugi::net {
namespace asio = boost::asio;

struct rate_limiter::bucket {
  explicit bucket(asio::any_io_executor executor) : timer(std::move(executor)) {}
  clock::time_point until{};
  asio::steady_timer timer;  // expires at `until`; re-arming it wakes the waiters, who wait again
  std::size_t waiting = 0;
};

rate_limiter::rate_limiter(asio::any_io_executor executor) : executor_(std::move(executor)) {}

rate_limiter::~rate_limiter() = default;

asio::awaitable<result<void>> rate_limiter::acquire(std::string key) {
  for (;;) {
    const auto it = buckets_.find(key);
    if (it == buckets_.end()) co_return result<void>{};
    bucket& gate = *it->second;  // not erased while someone waits on it
    if (clock::now() >= gate.until) {
      if (gate.waiting == 0) buckets_.erase(it);
      co_return result<void>{};
    }
    ++gate.waiting;
    auto [ec] = co_await gate.timer.async_wait(asio::as_tuple(asio::use_awaitable));
    --gate.waiting;
    if (ec == asio::error::operation_aborted) {
      // Either the pause was extended (wait again) or this coroutine was cancelled (leave).
      const auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) co_return errc::cancelled;
    }
  }
}

void rate_limiter::pause_until(std::string_view key, clock::time_point until) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(key), std::make_unique<bucket>(executor_)).first;
  bucket& gate = *it->second;
  if (until <= gate.until) return;
  gate.until = until;
  gate.timer.expires_at(until);
}

bool rate_limiter::observe(std::string_view key, const http_response& response, std::chrono::seconds fallback) {
  if (response.status != 429) return false;
  pause(key, response.retry_after().value_or(fallback));
  return true;
}

std::optional<rate_limiter::clock::time_point> rate_limiter::paused_until(std::string_view key) const {
  const auto it = buckets_.find(key);
  if (it == buckets_.end() || clock::now() >= it->second->until) return std::nullopt;
  return it->second->until;
}

std::size_t rate_limiter::waiting(std::string_view key) const {
  const auto it = buckets_.find(key);
  return it == buckets_.end() ? 0 : it->second->waiting;
}

}  // namespace kintsugi::net
