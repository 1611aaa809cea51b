// The outbox sender shared by the chat adapters: it delivers its own route's items in order, records what went
// out, retries what failed and gives up on an item after max_attempts.
#include "runtime/outbox_sender.hpp"

#include <doctest/doctest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>
#include <vector>

#include "run_coro_test.hpp"
#include "storage/sqlite_store.hpp"

using namespace kintsugi;
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

const core::timestamp t0{std::chrono::sys_days{std::chrono::year{2026} / 11 / 20} + std::chrono::hours{10}};

std::string text_of(const core::action& a) {
  if (const auto* p = std::get_if<core::post_message>(&a)) return p->channel + " " + p->text;
  if (const auto* d = std::get_if<core::direct_message>(&a)) return d->user + " " + d->text;
  return "?";
}

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

struct fixture {
  storage::sqlite_store db{":memory:"};
  core::engine engine{db, {}};
  asio::io_context io;
};

}  // namespace

TEST_CASE("outbox_sender: each platform sends its own route's items, in order, and records them sent") {
  fixture f;
  f.db.enqueue(core::post_message{"C1", "slack one"}, t0);
  f.db.enqueue(core::post_message{"mm:ch", "mattermost one"}, t0);
  f.db.enqueue(core::direct_message{"mm:u1", "mattermost two"}, t0);
  f.db.enqueue(core::post_message{"C1", "slack two"}, t0);
  runtime::host h{f.db, f.engine};
  std::vector<std::string> sent;
  runtime::outbox_sender mm{f.io.get_executor(), h, {"mattermost", std::string{"mm"}}, nullptr};
  auto scenario = [&]() -> asio::awaitable<void> {
    runtime::outbox_sender::deliver_fn send = [&sent](core::outbox_item item) -> asio::awaitable<bool> {
      sent.push_back(text_of(item.what));
      co_return true;
    };
    auto sending = mm.run(std::move(send));
    auto watching = [&]() -> asio::awaitable<void> {
      const bool both = co_await until([&] { return mm.delivered() == 2; });
      CHECK(both);
      mm.stop();
    };
    auto watch = watching();
    co_await (std::move(sending) && std::move(watch));
  };
  test::run_coro_test(f.io, scenario());
  CHECK(sent == std::vector<std::string>{"mm:ch mattermost one", "mm:u1 mattermost two"});
  CHECK(f.db.pending_on("mm", 10).empty());
  CHECK(f.db.pending_on("", 10).size() == 2);
}

TEST_CASE("outbox_sender: a failing item is retried, then given up after max_attempts, and the rest still goes") {
  fixture f;
  f.db.enqueue(core::post_message{"C1", "doomed"}, t0);
  f.db.enqueue(core::post_message{"C1", "fine"}, t0);
  runtime::host h{f.db, f.engine};
  runtime::outbox_sender_settings s;
  s.platform = "slack";
  s.max_attempts = 3;
  s.retry_base = std::chrono::milliseconds{1};
  s.retry_cap = std::chrono::milliseconds{2};
  runtime::outbox_sender sender{f.io.get_executor(), h, s, nullptr};
  int doomed_tries = 0;
  int fine_sent = 0;
  auto scenario = [&]() -> asio::awaitable<void> {
    runtime::outbox_sender::deliver_fn send = [&](core::outbox_item item) -> asio::awaitable<bool> {
      if (text_of(item.what) == "C1 doomed") {
        ++doomed_tries;
        co_return false;
      }
      ++fine_sent;
      co_return true;
    };
    auto sending = sender.run(std::move(send));
    auto watching = [&]() -> asio::awaitable<void> {
      // (the store belongs to the host's thread while it runs: watch the sender's count, read the store afterwards)
      const bool given_up = co_await until([&] { return sender.delivered() == 2; });
      CHECK(given_up);
      sender.stop();
    };
    auto watch = watching();
    co_await (std::move(sending) && std::move(watch));
  };
  test::run_coro_test(f.io, scenario());
  CHECK(doomed_tries == 3);
  CHECK(fine_sent == 1);  // sent once, not again with every retry of the other
  CHECK(f.db.pending(10).empty());
}
