#pragma once
// Delivers the store's outbox for one chat adapter: reads the oldest unsent items (of the adapter's route when
// several platforms share the store), hands each to the adapter's `deliver`, and records in one transaction which
// went out and which failed. A failed batch is retried after a jittered backoff; an item that keeps failing is
// given up after max_attempts (logged). It sleeps until wake() (a commit queued something) or 30 s pass.
// What went out is recorded even when the bot is stopping, so nothing is sent twice after a restart.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/events.hpp"
#include "core/store.hpp"
#include "runtime/host.hpp"

namespace spdlog {
class logger;
}

namespace kintsugi::runtime {

struct outbox_sender_settings {
  std::string platform = "chat";            // for log lines: "slack", "mattermost"
  std::optional<std::string> route;         // nullopt: every item; else only items whose core::route_of is this
  std::size_t max_attempts = 8;             // then the item is given up
  std::size_t batch = 100;                  // items read at once
  std::chrono::milliseconds retry_base{500};
  std::chrono::milliseconds retry_cap{std::chrono::seconds{30}};
  std::chrono::milliseconds idle_wait{std::chrono::seconds{30}};  // re-read this often even without a wake()
};

class outbox_sender {
 public:
  // True when the item went out (or can never go out and was logged as such); false to try again later. The item's
  // id is stable across retries and restarts: a platform that dedupes creates by a client key can use it.
  using deliver_fn = std::function<boost::asio::awaitable<bool>(core::outbox_item)>;

  outbox_sender(boost::asio::any_io_executor ex, host& h, outbox_sender_settings s,
                std::shared_ptr<spdlog::logger> log);

  // Runs until stop() (or cancellation); exceptions of `deliver` other than a cancellation end it.
  boost::asio::awaitable<void> run(deliver_fn deliver);
  // From the io executor.
  void stop();
  // From any thread: something new is in the outbox.
  void wake();

  // Items done with so far: sent, or given up after max_attempts.
  std::size_t delivered() const { return delivered_; }

 private:
  boost::asio::any_io_executor ex_;
  host& host_;
  outbox_sender_settings settings_;
  std::shared_ptr<spdlog::logger> log_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer retry_timer_;
  bool stopping_ = false;
  bool woken_ = false;
  std::size_t delivered_ = 0;
};

}  // namespace kintsugi::runtime
