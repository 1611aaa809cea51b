// The reminder clock of `kintsugi run`: it ticks when the earliest reminder row is due, re-reads the rows when woken
// (after a commit), and re-arms from the rows after a restart. The wall clock is injected.
#include "runtime/reminder_clock.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "run_coro_test.hpp"
#include "storage/sqlite_store.hpp"

using namespace kintsugi;
namespace asio = boost::asio;

namespace {

const core::timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 20} + std::chrono::hours{10}};

// Yields to the io_context until `done()` holds; fails after `limit` rounds (a bound, not a wait for time to pass).
asio::awaitable<bool> until(std::function<bool()> done, int limit = 2000) {
  asio::steady_timer t{co_await asio::this_coro::executor};
  for (int i = 0; i < limit; ++i) {
    if (done()) co_return true;
    t.expires_after(std::chrono::milliseconds{1});
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return done();
}

std::size_t pending_with(runtime::host&, core::store& db, std::string_view text) {
  std::size_t n = 0;
  for (const auto& item : db.pending(1000))
    if (const auto* p = std::get_if<core::post_message>(&item.what); p && p->text.find(text) != std::string::npos) ++n;
  return n;
}

struct fixture {
  storage::sqlite_store db{":memory:"};
  core::engine engine{db, {}};
  asio::io_context io;
  core::timestamp now = t0;
};

asio::awaitable<void> scenario(fixture& f, runtime::host& h, runtime::reminder_clock& clock) {
  core::event start = core::command_invoked{"c1", "inc-db", "alice", "start DB down", t0};
  co_await h.submit(std::move(start));
  clock.wake();
  // Four minutes in: the commander ask (5 min) is not due; nothing ticks.
  f.now = t0 + std::chrono::minutes{4};
  clock.wake();
  const bool settled = co_await until([&] { return clock.ticks() == 0; }, 5);
  CHECK(settled);
  // Five minutes in: it is.
  f.now = t0 + std::chrono::minutes{5};
  clock.wake();
  const bool ticked = co_await until([&] { return clock.ticks() >= 1; });
  CHECK(ticked);
  std::function<std::size_t(core::store&)> count = [&h](core::store& s) { return pending_with(h, s, "still needs a commander"); };
  CHECK(co_await h.run(count) == 1);
  clock.stop();
}

}  // namespace

TEST_CASE("reminder clock: ticks when the earliest row is due, after a wake, not before") {
  fixture f;
  runtime::host h{f.db, f.engine};
  runtime::reminder_clock clock{f.io.get_executor(), h, [&f] { return f.now; }};
  asio::co_spawn(f.io, clock.run(), asio::detached);
  test::run_coro_test(f.io, scenario(f, h, clock));
}

TEST_CASE("reminder clock: a restart finds rows already due and ticks at once, without a wake") {
  fixture f;
  {
    runtime::host h{f.db, f.engine};
    core::event start = core::command_invoked{"c1", "inc-db", "alice", "start DB down", t0};
    test::run_coro_test(f.io, h.submit(std::move(start)));
  }
  f.now = t0 + std::chrono::hours{1};
  runtime::host h{f.db, f.engine};
  runtime::reminder_clock clock{f.io.get_executor(), h, [&f] { return f.now; }};
  asio::co_spawn(f.io, clock.run(), asio::detached);
  const bool ticked = test::run_coro_test(f.io, until([&] { return clock.ticks() >= 1; }));
  CHECK(ticked);
  clock.stop();
  f.io.run();
  // One tick fired every due row once: one ask per role, not one per missed slot.
  std::size_t asks = 0;
  for (const auto& item : f.db.pending(1000))
    if (const auto* p = std::get_if<core::post_message>(&item.what); p && p->text.find("still needs a") != std::string::npos) ++asks;
  CHECK(asks == 3);
}
