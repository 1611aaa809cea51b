#pragma once
// The host of the engine for asynchronous adapters. SQLite blocks, so the store and the engine live on a thread of
// their own; adapters on the io_context `co_await submit(event)` and resume once the event is durably stored.
// Everything submitted while a commit is running is committed together next (group commit: one fsync per batch,
// never one per event), which is what lets an adapter ack quickly under load.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "core/capture_gaps.hpp"
#include "core/dispatcher.hpp"
#include "core/engine.hpp"
#include "core/store.hpp"

namespace kintsugi::runtime {

class host {
 public:
  // `store` and `engine` are used only from the host's own thread from now on.
  host(core::store& store, core::engine& engine, std::size_t max_batch = 1000);
  ~host();
  host(const host&) = delete;
  host& operator=(const host&) = delete;

  // Remembers, handles and commits the event; resumes the caller (on its own executor) with the outcome.
  boost::asio::awaitable<core::event_outcome> submit(core::event e);

  // Who waits for a submission. Live events have someone waiting: a platform for its ack, a person for an answer.
  // Backfilled history has no one, so it yields: a commit takes the live events queued first and adds backfill only
  // up to an eighth of their number, or a full batch when no live event waits. A catch-up after a reconnect then
  // neither delays the acks of what arrives meanwhile nor starves under a steady stream.
  enum class lane { live, backfill };

  // Submits `events` at once, in their order, so that they share commits instead of waiting for one commit each
  // (an envelope's events, a page of backfilled history). Resumes once every one was handled: with the first
  // failure's outcome, else a success (duplicate only when all were duplicates). Order holds within a lane.
  boost::asio::awaitable<core::event_outcome> submit_all(std::vector<core::event> events, lane l = lane::live);

  // The same for a caller that is not a coroutine (an adapter's hot path, where a coroutine frame per envelope
  // costs more than the rest of its way to the store): `token` completes on its associated executor with the
  // outcome, never before async_submit_all returns.
  template <class CompletionToken>
  auto async_submit_all(std::vector<core::event> events, lane l, CompletionToken&& token) {
    return boost::asio::async_initiate<CompletionToken, void(core::event_outcome)>(
        [this](auto completion, std::vector<core::event> evs, lane ln) {
          start(std::move(evs), ln, handler{std::move(completion)});
        },
        token, std::move(events), l);
  }

  // Runs `work` on the storage thread (inside no transaction) and resumes with its result; for the outbox and
  // for reads the adapters need (incident channels for backfill, say).
  template <class T>
  boost::asio::awaitable<T> run(std::function<T(core::store&)> work);

  // Called on the storage thread after each commit that may have queued messages for the outbox.
  void on_commit(std::function<void()> notify);

  // Number of batches committed so far (for tests and metrics).
  std::size_t batches() const;

 private:
  using handler = boost::asio::any_completion_handler<void(core::event_outcome)>;
  // The submitter's executor counts this as outstanding work until `done` ran, as an asynchronous operation's
  // executor should: a caller's io_context::run() waits for the answer.
  using work_guard = boost::asio::any_completion_executor;
  static work_guard track(const handler& h);
  struct pending_event {
    core::event e;
    handler done;
    work_guard work;  // empty where `done` is one part of a list's joined outcome (the list keeps the work)
  };
  void start(std::vector<core::event> events, lane l, handler done);
  void enqueue(std::vector<pending_event> items, lane l);
  std::vector<pending_event> next_batch();
  void drain();
  void resume(std::vector<pending_event>& batch, std::vector<core::event_outcome>& outcomes);

  core::store& store_;
  core::dispatcher dispatcher_;
  std::size_t max_batch_;
  boost::asio::thread_pool thread_{1};
  mutable std::mutex mutex_;
  std::deque<pending_event> queue_;     // live
  std::deque<pending_event> backfill_;  // yields to queue_
  bool draining_ = false;
  std::size_t batches_ = 0;
  std::function<void()> notify_;
};

// Capture gaps (core/capture_gaps.hpp) on the storage thread. Opening and closing answer the store's error, if any,
// rather than throwing: a platform's connection goes on either way.
boost::asio::awaitable<std::string> open_capture_gaps(host& h, std::string route);
boost::asio::awaitable<std::vector<core::gap_to_fill>> capture_gaps(host& h, std::string route);
boost::asio::awaitable<std::string> close_capture_gap(host& h, core::capture_gap filled);

}  // namespace kintsugi::runtime

#include "runtime/host_impl.hpp"
