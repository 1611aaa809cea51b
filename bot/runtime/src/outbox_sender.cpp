#include "runtime/outbox_sender.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <spdlog/spdlog.h>

#include <random>
#include <vector>

#include "net/backoff.hpp"

namespace kintsugi::runtime {

namespace asio = boost::asio;

namespace {

core::timestamp now() { return std::chrono::time_point_cast<core::duration>(std::chrono::system_clock::now()); }

}  // namespace

outbox_sender::outbox_sender(asio::any_io_executor ex, host& h, outbox_sender_settings s,
                             std::shared_ptr<spdlog::logger> log)
    : ex_(ex), host_(h), settings_(std::move(s)), log_(std::move(log)), timer_(ex), retry_timer_(ex) {}

void outbox_sender::stop() {
  stopping_ = true;
  timer_.cancel();
  retry_timer_.cancel();
}

void outbox_sender::wake() {
  asio::post(ex_, [this] {
    woken_ = true;
    timer_.cancel();
  });
}

asio::awaitable<void> outbox_sender::run(deliver_fn deliver) {
  net::backoff delay{net::backoff_config{settings_.retry_base, settings_.retry_cap, net::jitter::equal}};
  std::minstd_rand random{std::random_device{}()};
  while (!stopping_) {
    std::function<std::vector<core::outbox_item>(core::store&)> pending =
        [route = settings_.route, limit = settings_.batch](core::store& s) {
          return route ? s.pending_on(*route, limit) : s.pending(limit);
        };
    auto items = co_await host_.run<std::vector<core::outbox_item>>(std::move(pending));
    if (stopping_) break;  // stop() came while the store was read: a timer cancelled before its wait would not end it
    if (items.empty()) {
      if (!woken_) {
        timer_.expires_after(settings_.idle_wait);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
      woken_ = false;
      continue;
    }
    std::vector<core::id_t> done, failed;
    bool interrupted = false;  // cancelled halfway through the batch: the bot is stopping
    for (auto& item : items) {
      if (stopping_) {
        interrupted = true;
        break;
      }
      bool ok = false;
      try {
        ok = co_await deliver(item);
      } catch (const boost::system::system_error& e) {
        if (e.code() != asio::error::operation_aborted) throw;
        interrupted = true;
      }
      if (interrupted) break;
      if (ok) {
        done.push_back(item.id);
      } else if (static_cast<std::size_t>(item.attempts) + 1 >= settings_.max_attempts) {
        if (log_)
          log_->error("{} gave up sending outbox item {} after {} attempts", settings_.platform, item.id,
                      item.attempts + 1);
        done.push_back(item.id);
      } else {
        failed.push_back(item.id);
      }
    }
    delivered_ += done.size();
    auto at = now();
    std::function<int(core::store&)> record = [done, failed, at](core::store& s) {
      core::transaction tx{s};
      for (auto id : done) s.mark_sent(id, at);
      for (auto id : failed) s.mark_failed_attempt(id);
      tx.commit();
      return 0;
    };
    // What went out is recorded even when cancelled (a stop): else it would be sent again after a restart.
    const bool throwing = co_await asio::this_coro::throw_if_cancelled();
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await host_.run<int>(std::move(record));
    co_await asio::this_coro::throw_if_cancelled(throwing);
    if (interrupted) co_return;
    if (stopping_) break;
    if (failed.empty()) {
      delay.reset();
    } else {
      // (its own timer: a wake() must not cut the backoff short while the platform is failing)
      retry_timer_.expires_after(delay.next(random));
      co_await retry_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

}  // namespace kintsugi::runtime
