// Per-key gates paused by Retry-After (kintsugi::net::rate_limiter). Pauses here are tens of
// milliseconds: the waits under test are real timers, bounded by run_coro_test.
#include "net/rate_limiter.hpp"

#include "run_coro_test.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

namespace asio = boost::asio;
namespace net = kintsugi::net;
using kintsugi::test::run_coro_test;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// How long acquire(key) took.
asio::awaitable<clock_type::duration> timed_acquire(net::rate_limiter* limiter, std::string key) {
  const auto start = clock_type::now();
  auto opened = co_await limiter->acquire(std::move(key));
  CHECK(opened.has_value());
  co_return clock_type::now() - start;
}

// Acquires `key` and appends `name` to `order` when through.
asio::awaitable<void> acquire_and_note(net::rate_limiter* limiter, std::string key, std::string name,
                                       std::vector<std::string>* order) {
  auto opened = co_await limiter->acquire(std::move(key));
  if (opened) order->push_back(std::move(name));
}

// Three waiters on one paused key and one on an open key.
asio::awaitable<void> three_waiters(net::rate_limiter* limiter, std::vector<std::string>* order) {
  using namespace asio::experimental::awaitable_operators;
  limiter->pause("chat.postMessage C1", 60ms);
  co_await (acquire_and_note(limiter, "chat.postMessage C1", "first", order) &&
            acquire_and_note(limiter, "chat.postMessage C1", "second", order) &&
            acquire_and_note(limiter, "chat.postMessage C1", "third", order) &&
            acquire_and_note(limiter, "chat.postMessage C2", "other key", order));
}

asio::awaitable<void> timer_then_pause(net::rate_limiter* limiter, asio::steady_timer* timer) {
  co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  limiter->pause("k", 120ms);
}

// Waits on a key paused for a minute, giving up after `patience`; returns which side won (1: gave up).
asio::awaitable<std::size_t> acquire_or_give_up(net::rate_limiter* limiter, clock_type::duration patience) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer give_up(co_await asio::this_coro::executor, patience);
  auto winner = co_await (limiter->acquire("k") || give_up.async_wait(asio::as_tuple(asio::use_awaitable)));
  co_return winner.index();
}

// Extends a pause while someone waits on it.
asio::awaitable<clock_type::duration> extend_while_waiting(net::rate_limiter* limiter) {
  using namespace asio::experimental::awaitable_operators;
  limiter->pause("k", 40ms);
  asio::steady_timer timer(co_await asio::this_coro::executor, 10ms);
  const auto start = clock_type::now();
  co_await (limiter->acquire("k") && timer_then_pause(limiter, &timer));
  co_return clock_type::now() - start;
}

}  // namespace

TEST_CASE("rate_limiter: an open key passes at once") {
  asio::io_context io;
  net::rate_limiter limiter(io.get_executor());
  const auto took = run_coro_test(io, timed_acquire(&limiter, "users.info"));
  CHECK(took < 50ms);
  CHECK_FALSE(limiter.paused_until("users.info"));
}

TEST_CASE("rate_limiter: a paused key waits until its deadline, then opens") {
  asio::io_context io;
  net::rate_limiter limiter(io.get_executor());
  limiter.pause("chat.postMessage", 80ms);
  CHECK(limiter.paused_until("chat.postMessage"));
  const auto took = run_coro_test(io, timed_acquire(&limiter, "chat.postMessage"));
  CHECK(took >= 70ms);
  CHECK(took < 1s);
  CHECK_FALSE(limiter.paused_until("chat.postMessage"));
  CHECK(run_coro_test(io, timed_acquire(&limiter, "chat.postMessage")) < 50ms);
}

TEST_CASE("rate_limiter: waiters of one key go in order, other keys are not held") {
  asio::io_context io;
  net::rate_limiter limiter(io.get_executor());
  std::vector<std::string> order;
  run_coro_test(io, three_waiters(&limiter, &order));
  CHECK(order == std::vector<std::string>{"other key", "first", "second", "third"});
  CHECK(limiter.waiting("chat.postMessage C1") == 0);
}

TEST_CASE("rate_limiter: a later pause extends the wait, an earlier one changes nothing") {
  asio::io_context io;
  net::rate_limiter limiter(io.get_executor());
  const auto took = run_coro_test(io, extend_while_waiting(&limiter));
  CHECK(took >= 110ms);
  CHECK(took < 1s);

  limiter.pause("k2", 10s);
  const auto until = limiter.paused_until("k2");
  limiter.pause("k2", 1s);
  CHECK(limiter.paused_until("k2") == until);
}

TEST_CASE("rate_limiter: observe pauses a key by a 429's Retry-After") {
  asio::io_context io;
  net::rate_limiter limiter(io.get_executor());
  net::http_response ok;
  ok.status = 200;
  CHECK_FALSE(limiter.observe("k", ok));
  CHECK_FALSE(limiter.paused_until("k"));

  net::http_response limited;
  limited.status = 429;
  limited.headers.set(boost::beast::http::field::retry_after, "7");
  const auto before = clock_type::now();
  CHECK(limiter.observe("k", limited));
  const auto until = limiter.paused_until("k");
  REQUIRE(until);
  CHECK(*until >= before + 7s);
  CHECK(*until < before + 8s);

  net::http_response bare;
  bare.status = 429;
  CHECK(limiter.observe("k3", bare, 2s));
  REQUIRE(limiter.paused_until("k3"));
  CHECK(*limiter.paused_until("k3") >= before + 2s);
}

TEST_CASE("rate_limiter: a cancelled wait leaves the queue") {
  asio::io_context io;
  net::rate_limiter limiter(io.get_executor());
  limiter.pause("k", 60s);
  CHECK(run_coro_test(io, acquire_or_give_up(&limiter, 30ms)) == 1);
  CHECK(limiter.waiting("k") == 0);
}
