#include "runtime/host.hpp"

#include <algorithm>
#include <exception>
#include <functional>
#include <string>
#include <memory>
#include <utility>

#include <boost/asio/append.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace kintsugi::runtime {

namespace asio = boost::asio;

namespace {
// Backfill events that join a commit of live ones: at most one per this many live events (and at least one).
constexpr std::size_t backfill_share = 8;
}  // namespace

host::host(core::store& store, core::engine& engine, std::size_t max_batch)
    : store_(store), dispatcher_(store, engine), max_batch_(max_batch == 0 ? 1 : max_batch) {}

host::~host() { thread_.join(); }

void host::on_commit(std::function<void()> notify) {
  std::lock_guard lock{mutex_};
  notify_ = std::move(notify);
}

std::size_t host::batches() const {
  std::lock_guard lock{mutex_};
  return batches_;
}

asio::awaitable<core::event_outcome> host::submit(core::event e) {
  std::vector<core::event> one;
  one.push_back(std::move(e));
  co_return co_await async_submit_all(std::move(one), lane::live, asio::use_awaitable);
}

asio::awaitable<core::event_outcome> host::submit_all(std::vector<core::event> events, lane l) {
  if (events.empty()) co_return core::event_outcome{};
  co_return co_await async_submit_all(std::move(events), l, asio::use_awaitable);
}

host::work_guard host::track(const handler& h) {
  return asio::prefer(asio::get_associated_executor(h), asio::execution::outstanding_work.tracked);
}

void host::start(std::vector<core::event> events, lane l, handler done) {
  if (events.empty()) {
    // Nothing to store. Dispatched from the storage thread, so queued on the caller's executor (its type offers no
    // post): the caller still hears only after this returns.
    auto work = track(done);
    asio::post(thread_, [work = std::move(work), done = std::move(done)]() mutable {
      asio::dispatch(asio::append(std::move(done), core::event_outcome{}));
    });
    return;
  }
  std::vector<pending_event> items;
  items.reserve(events.size());
  if (events.size() == 1) {
    auto work = track(done);
    items.push_back(pending_event{std::move(events.front()), std::move(done), std::move(work)});
    enqueue(std::move(items), l);
    return;
  }
  // Every event's outcome arrives on the storage thread, one after the other: no lock needed to join them.
  struct joined {
    handler done;
    work_guard work;
    std::size_t left;
    core::event_outcome result{true, {}};
  };
  auto work = track(done);
  auto state = std::make_shared<joined>(joined{std::move(done), std::move(work), events.size()});
  for (auto& e : events)
    items.push_back(pending_event{std::move(e), handler{[state](core::event_outcome o) {
                                    if (state->result.error.empty()) {
                                      if (!o.error.empty()) state->result = std::move(o);
                                      else if (!o.duplicate) state->result.duplicate = false;
                                    }
                                    if (--state->left == 0)
                                      asio::dispatch(asio::append(std::move(state->done), std::move(state->result)));
                                  }},
                                  work_guard{}});
  enqueue(std::move(items), l);
}

void host::enqueue(std::vector<pending_event> items, lane l) {
  bool start = false;
  {
    std::lock_guard lock{mutex_};
    auto& to = l == lane::live ? queue_ : backfill_;
    for (auto& item : items) to.push_back(std::move(item));
    if (!draining_) {
      draining_ = true;
      start = true;
    }
  }
  if (start) asio::post(thread_, [this] { drain(); });
}

// The live events queued (up to a batch), then backfill: an eighth as many, or a batch when no live event waits.
// Empty, and no longer draining, when both queues are.
std::vector<host::pending_event> host::next_batch() {
  std::vector<pending_event> batch;
  std::lock_guard lock{mutex_};
  const auto take = [&](std::deque<pending_event>& from, std::size_t n) {
    for (; n > 0 && !from.empty(); --n) {
      batch.push_back(std::move(from.front()));
      from.pop_front();
    }
  };
  take(queue_, max_batch_);
  take(backfill_, batch.empty() ? max_batch_ : std::max<std::size_t>(1, batch.size() / backfill_share));
  if (batch.empty()) draining_ = false;
  return batch;
}

// On the storage thread: commit what has queued up, hand each submitter its outcome, and go again while more
// arrived during the commit.
void host::drain() {
  for (;;) {
    std::vector<pending_event> batch = next_batch();
    if (batch.empty()) return;
    std::vector<core::event> events;
    events.reserve(batch.size());
    for (auto& p : batch) events.push_back(std::move(p.e));
    std::vector<core::event_outcome> outcomes;
    try {
      outcomes = dispatcher_.process(events);
    } catch (const std::exception& ex) {
      // The batch's transaction could not commit (disk full, say): nothing of it is stored, each submitter hears why.
      outcomes.assign(events.size(), core::event_outcome{false, std::string{"could not store: "} + ex.what()});
    }
    std::function<void()> notify;
    {
      std::lock_guard lock{mutex_};
      ++batches_;
      notify = notify_;
    }
    // The outbox sender and the reminder clock hear of the commit before any submitter resumes, so whatever a
    // submitter does next sees them informed.
    if (notify) notify();
    resume(batch, outcomes);
  }
}

// Each submitter resumes on its own executor. Submitters that share one (all of an adapter's envelopes, say) are
// resumed in order by one posted function rather than one cross-thread post each: under load a batch holds hundreds.
void host::resume(std::vector<pending_event>& batch, std::vector<core::event_outcome>& outcomes) {
  using resumption = std::pair<handler, core::event_outcome>;
  std::size_t i = 0;
  while (i < batch.size()) {
    const auto ex = asio::get_associated_executor(batch[i].done, thread_.get_executor());
    std::vector<resumption> group;
    for (; i < batch.size() && asio::get_associated_executor(batch[i].done, thread_.get_executor()) == ex; ++i)
      group.emplace_back(std::move(batch[i].done), std::move(outcomes[i]));
    if (group.size() == 1) {
      asio::dispatch(asio::append(std::move(group.front().first), std::move(group.front().second)));
      continue;
    }
    // Dispatched from this thread, so queued on that executor: the same as a post, which its type does not offer.
    asio::dispatch(asio::bind_executor(ex, [group = std::move(group)]() mutable {
      for (auto& [done, outcome] : group) std::move(done)(std::move(outcome));
    }));
  }
}

namespace {
// Runs `change` in the host's thread; the store's error, else empty.
asio::awaitable<std::string> change_store(host& h, std::function<void(core::store&)> change) {
  std::function<std::string(core::store&)> work = [change = std::move(change)](core::store& s) -> std::string {
    try {
      change(s);
      return {};
    } catch (const std::exception& e) {
      return e.what();
    }
  };
  co_return co_await h.run<std::string>(std::move(work));
}
}  // namespace

asio::awaitable<std::string> open_capture_gaps(host& h, std::string route) {
  std::function<void(core::store&)> open = [route = std::move(route)](core::store& s) {
    core::open_capture_gaps(s, route);
  };
  co_return co_await change_store(h, std::move(open));
}

asio::awaitable<std::vector<core::gap_to_fill>> capture_gaps(host& h, std::string route) {
  std::function<std::vector<core::gap_to_fill>(core::store&)> read = [route = std::move(route)](core::store& s) {
    return core::capture_gaps(s, route);
  };
  co_return co_await h.run<std::vector<core::gap_to_fill>>(std::move(read));
}

asio::awaitable<std::string> close_capture_gap(host& h, core::capture_gap filled) {
  std::function<void(core::store&)> close = [filled = std::move(filled)](core::store& s) { s.close_gap(filled); };
  co_return co_await change_store(h, std::move(close));
}

}  // namespace kintsugi::runtime
