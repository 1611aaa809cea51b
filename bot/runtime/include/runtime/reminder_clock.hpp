#pragma once
// The clock that makes reminders fire in `kintsugi run`: one timer, armed at the earliest reminder row
// (store::next_reminder_due, an index lookup), that submits a clock_tick when it comes. After every commit the
// earliest row is read again, because a command may have set an earlier one. A restart re-arms from the rows.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>

#include "core/time.hpp"
#include "runtime/host.hpp"

namespace kintsugi::runtime {

class reminder_clock {
 public:
  // `now` is the wall clock (injectable for tests). `longest_wait` bounds each sleep, so a wall clock that jumps
  // (NTP, a suspended machine) is noticed within that time.
  reminder_clock(boost::asio::any_io_executor ex, host& h, std::function<core::timestamp()> now,
                 std::chrono::milliseconds longest_wait = std::chrono::seconds{60});

  // Runs until stop().
  boost::asio::awaitable<void> run();
  // From the io executor.
  void stop();
  // From any thread (the host's on_commit): read the earliest row again.
  void wake();

  // Ticks submitted so far.
  std::size_t ticks() const { return ticks_; }

 private:
  boost::asio::any_io_executor ex_;
  host& host_;
  std::function<core::timestamp()> now_;
  std::chrono::milliseconds longest_wait_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
  bool woken_ = false;
  std::size_t ticks_ = 0;
};

}  // namespace kintsugi::runtime
