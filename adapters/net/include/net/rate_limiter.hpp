#pragma once
// Per-key gates for outgoing requests (STYLE §5.3): a key (e.g. "POST chat.postMessage C123") is open until
// something pauses it, typically a 429 with Retry-After. acquire(key) returns at once for an open key and
// otherwise waits on the key's deadline timer (never polling); waiters of one key resume in the order they
// came. A later pause extends a running one; an earlier one changes nothing.
#include <net/error.hpp>
#include <net/http_message.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kintsugi::net {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(boost::asio::any_io_executor executor);
  ~rate_limiter();
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  // Returns when `key` is open; errc::cancelled if the waiting coroutine is cancelled.
  // The limiter must outlive the wait.
  boost::asio::awaitable<result<void>> acquire(std::string key);

  void pause_until(std::string_view key, clock::time_point until);
  void pause(std::string_view key, clock::duration delay) { pause_until(key, clock::now() + delay); }

  // A 429 pauses `key` for its Retry-After, or for `fallback` when it has none. Returns whether it paused.
  bool observe(std::string_view key, const http_response& response,
               std::chrono::seconds fallback = std::chrono::seconds(1));

  // When `key` opens again, if it is paused now.
  std::optional<clock::time_point> paused_until(std::string_view key) const;
  // Coroutines waiting in acquire(key).
  std::size_t waiting(std::string_view key) const;

 private:
  struct bucket;
  boost::asio::any_io_executor executor_;
  std::map<std::string, std::unique_ptr<bucket>, std::less<>> buckets_;
};

}  // namespace kintsugi::net
