#include "runtime/host.hpp"

#include <doctest/doctest.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <future>
#include <string>
#include <vector>
#include <stdexcept>

#include "storage/sqlite_store.hpp"

using namespace kintsugi;
namespace asio = boost::asio;

namespace {

core::timestamp at(int minute) {
  return core::timestamp{std::chrono::sys_days{std::chrono::year{2026} / 11 / 20}} + std::chrono::minutes{minute};
}

core::event message(int n) {
  return core::message_posted{"m" + std::to_string(n), "inc-db", "bob", "line " + std::to_string(n), at(1), false, {}};
}

asio::awaitable<void> submit_one(runtime::host& h, core::event e, std::vector<core::event_outcome>& out) {
  out.push_back(co_await h.submit(std::move(e)));
}

struct fixture {
  storage::sqlite_store db{":memory:"};
  core::engine engine{db, {}};
  asio::io_context io;
};

// Declares incident 1 (in c1, "inc-db") through `h` and runs until it is stored.
void declare(fixture& f, runtime::host& h) {
  std::vector<core::event_outcome> outcomes;
  asio::co_spawn(f.io, submit_one(h, core::command_invoked{"c1", "inc-db", "alice", "start DB down", at(0)}, outcomes),
                 asio::detached);
  f.io.run();
  f.io.restart();
  REQUIRE(outcomes.size() == 1);
  REQUIRE(outcomes[0].error.empty());
}

}  // namespace

TEST_CASE("events submitted together are stored in few batches, each submitter hears its outcome") {
  fixture f;
  std::vector<core::event_outcome> outcomes;
  {
    runtime::host h{f.db, f.engine};
    std::atomic<int> commits{0};
    h.on_commit([&commits] { ++commits; });
    asio::co_spawn(f.io, submit_one(h, core::command_invoked{"c1", "inc-db", "alice", "start DB down", at(0)}, outcomes),
                   asio::detached);
    f.io.run();
    f.io.restart();
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].error.empty());
    outcomes.clear();
    for (int i = 0; i < 200; ++i) asio::co_spawn(f.io, submit_one(h, message(i), outcomes), asio::detached);
    f.io.run();
    f.io.restart();
    REQUIRE(outcomes.size() == 200);
    for (const auto& o : outcomes) {
      CHECK_FALSE(o.duplicate);
      CHECK(o.error.empty());
    }
    // 1 + at most a few batches for the 200 (they were queued while the first commit ran).
    CHECK(h.batches() < 50);
    CHECK(commits.load() == static_cast<int>(h.batches()));
    // The same message again is a redelivery.
    outcomes.clear();
    asio::co_spawn(f.io, submit_one(h, message(7), outcomes), asio::detached);
    f.io.run();
    f.io.restart();
    REQUIRE(outcomes.size() == 1);
    CHECK(outcomes[0].duplicate);
  }
  CHECK(f.db.timeline(1).size() == 201);  // the declaration entry + 200 messages
}

namespace {
asio::awaitable<void> submit_many(runtime::host& h, std::vector<core::event> events, core::event_outcome& out) {
  out = co_await h.submit_all(std::move(events));
}
}  // namespace

TEST_CASE("submit_all stores a list in order, in a few commits, and says whether all were new") {
  fixture f;
  std::vector<core::event_outcome> outcomes(4, core::event_outcome{false, "not heard of"});
  {
    runtime::host h{f.db, f.engine};
    std::vector<core::event> events;
    events.push_back(core::command_invoked{"c1", "inc-db", "alice", "start DB down", at(0)});
    for (int i = 0; i < 300; ++i) events.push_back(message(i));
    asio::co_spawn(f.io, submit_many(h, events, outcomes[0]), asio::detached);
    f.io.run();
    f.io.restart();
    CHECK(outcomes[0].error.empty());
    CHECK_FALSE(outcomes[0].duplicate);
    // One commit for the declaration and the 300 messages, not one each.
    CHECK(h.batches() == 1);
    // Again: every one is a redelivery; with one new among them, the list is not a duplicate.
    asio::co_spawn(f.io, submit_many(h, {message(3), message(4)}, outcomes[1]), asio::detached);
    asio::co_spawn(f.io, submit_many(h, {message(5), message(300)}, outcomes[2]), asio::detached);
    asio::co_spawn(f.io, submit_many(h, {}, outcomes[3]), asio::detached);
    f.io.run();
    CHECK(outcomes[1].error.empty());
    CHECK(outcomes[1].duplicate);
    CHECK_FALSE(outcomes[2].duplicate);
    CHECK(outcomes[2].error.empty());
    CHECK_FALSE(outcomes[3].duplicate);  // nothing submitted: nothing stored, nothing failed
    CHECK(outcomes[3].error.empty());
  }
  const auto entries = f.db.timeline(1);
  REQUIRE(entries.size() == 302);  // the declaration entry + 301 messages, in the order submitted
  CHECK(entries[1].text == "line 0");
  CHECK(entries[300].text == "line 299");
}

TEST_CASE("async_submit_all completes a plain callback on its executor, after it returns, with each list's outcome") {
  fixture f;
  runtime::host h{f.db, f.engine};
  declare(f, h);
  struct heard {
    std::string name;
    core::event_outcome outcome;
    bool on_io_thread = false;
  };
  std::vector<heard> results;
  bool returned = false;
  const auto callback = [&](std::string name) {
    return asio::bind_executor(f.io, [&, name](core::event_outcome o) {
      results.push_back(heard{name, std::move(o), f.io.get_executor().running_in_this_thread()});
      CHECK(returned);
    });
  };
  h.async_submit_all({message(1)}, runtime::host::lane::live, callback("one"));
  h.async_submit_all({message(2), message(3)}, runtime::host::lane::live, callback("two"));
  h.async_submit_all({}, runtime::host::lane::live, callback("none"));
  h.async_submit_all({message(1)}, runtime::host::lane::backfill, callback("again"));
  returned = true;
  f.io.run();  // returns once every callback ran: each submission is work on f.io until then
  REQUIRE(results.size() == 4);
  for (const auto& r : results) {
    CHECK(r.on_io_thread);
    CHECK(r.outcome.error.empty());
    CHECK(r.outcome.duplicate == (r.name == "again"));
  }
  CHECK(f.db.timeline(1).size() == 4);  // the declaration and m1, m2, m3 once
}

namespace {
asio::awaitable<void> hold_storage_thread(runtime::host& h, std::shared_future<void> until) {
  std::function<int(core::store&)> wait = [until](core::store&) {
    until.wait();
    return 0;
  };
  co_await h.run<int>(std::move(wait));
}

asio::awaitable<void> release(std::promise<void>& p) {
  p.set_value();
  co_return;
}

asio::awaitable<void> submit_lane(runtime::host& h, std::vector<core::event> events, runtime::host::lane lane,
                                  std::vector<std::string>& finished, std::string name) {
  const auto outcome = co_await h.submit_all(std::move(events), lane);
  finished.push_back(name + (outcome.error.empty() ? "" : ": " + outcome.error));
}
}  // namespace

TEST_CASE("live events go before backfill queued ahead of them, and backfill still gets a share of each commit") {
  fixture f;
  std::vector<std::string> finished;
  {
    runtime::host h{f.db, f.engine};
    declare(f, h);
    const std::size_t before = h.batches();
    // While the storage thread is busy: 400 backfilled messages, then 16 live ones in two envelopes.
    std::promise<void> go;
    asio::co_spawn(f.io, hold_storage_thread(h, go.get_future().share()), asio::detached);
    std::vector<core::event> history;
    for (int i = 0; i < 400; ++i) history.push_back(message(i));
    asio::co_spawn(f.io, submit_lane(h, history, runtime::host::lane::backfill, finished, "backfill"), asio::detached);
    std::vector<core::event> live1, live2;
    for (int i = 1000; i < 1008; ++i) live1.push_back(message(i));
    for (int i = 2000; i < 2008; ++i) live2.push_back(message(i));
    asio::co_spawn(f.io, submit_lane(h, live1, runtime::host::lane::live, finished, "live 1"), asio::detached);
    asio::co_spawn(f.io, submit_lane(h, live2, runtime::host::lane::live, finished, "live 2"), asio::detached);
    asio::co_spawn(f.io, release(go), asio::detached);
    f.io.run();
    // One commit for the live events and two backfilled ones (an eighth of 16), one for the rest of the backfill.
    CHECK(h.batches() - before == 2);
  }
  CHECK(finished == std::vector<std::string>{"live 1", "live 2", "backfill"});
  const auto entries = f.db.timeline(1);
  REQUIRE(entries.size() == 417);
  // Same time for all: the timeline is in the order they were stored.
  CHECK(entries[1].text == "line 1000");
  CHECK(entries[16].text == "line 2007");
  CHECK(entries[17].text == "line 0");
  CHECK(entries[18].text == "line 1");
  CHECK(entries[19].text == "line 2");
  CHECK(entries[416].text == "line 399");
}

namespace {
asio::awaitable<void> read_count(runtime::host& h, std::size_t& count, std::string& error) {
  count = co_await h.run<std::size_t>([](core::store& s) { return s.open_incidents().size(); });
  try {
    co_await h.run<int>([](core::store&) -> int { throw std::runtime_error("boom"); });
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
}
}  // namespace

TEST_CASE("run() does store work on the storage thread and brings back its value or its exception") {
  fixture f;
  runtime::host h{f.db, f.engine};
  declare(f, h);
  std::size_t count = 0;
  std::string error;
  asio::co_spawn(f.io, read_count(h, count, error), asio::detached);
  f.io.run();
  CHECK(count == 1);
  CHECK(error == "boom");
}
