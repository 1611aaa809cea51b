#include "net/finish.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <memory>

namespace kintsugi::net {

namespace asio = boost::asio;

namespace {

using exchange_result = result<http_response>;

// One exchange and what came of it; `done` waits "forever" and is cancelled when the exchange ends.
struct pending_exchange {
  explicit pending_exchange(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;
  bool finished = false;
  std::exception_ptr error;
  exchange_result result;
};

}  // namespace

asio::awaitable<exchange_result> finish_even_if_cancelled(asio::any_io_executor ex,
                                                          asio::awaitable<exchange_result> exchange) {
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) throw boost::system::system_error(asio::error::operation_aborted);
  auto pending = std::make_shared<pending_exchange>(ex);
  // A completion handler with no cancellation slot: the exchange itself cannot be cancelled.
  auto finish = [pending](std::exception_ptr e, exchange_result r) {
    pending->error = e;
    pending->result = std::move(r);
    pending->finished = true;
    pending->done.cancel();
  };
  asio::co_spawn(ex, std::move(exchange), finish);
  // A cancellation is signalled once: it ends one wait at most, and the loop waits again.
  const bool throwing = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  while (!pending->finished) co_await pending->done.async_wait(asio::as_tuple(asio::use_awaitable));
  co_await asio::this_coro::throw_if_cancelled(throwing);
  if (pending->error) std::rethrow_exception(pending->error);
  co_return std::move(pending->result);
}

}  // namespace kintsugi::net
