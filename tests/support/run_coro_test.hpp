#pragma once
// Runs one coroutine on the test's io_context until it finishes, and fails the test if it does not
// finish within `limit` (STYLE §5.6). Exceptions from the coroutine are rethrown; its value returned.
// Other work on the io_context (fake servers) may stay pending afterwards.
#include <doctest/doctest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>

namespace kintsugi::test {

namespace detail {
template <class T>
struct coro_outcome {
  bool done = false;
  std::exception_ptr error;
  std::optional<T> value;
};
template <>
struct coro_outcome<void> {
  bool done = false;
  std::exception_ptr error;
};
}  // namespace detail

template <class T>
T run_coro_test(boost::asio::io_context& io, boost::asio::awaitable<T> task,
                std::chrono::steady_clock::duration limit = std::chrono::seconds(5)) {
  // Shared with the completion handler, which may outlive this call if the task never ends.
  auto outcome = std::make_shared<detail::coro_outcome<T>>();
  if constexpr (std::is_void_v<T>) {
    boost::asio::co_spawn(io, std::move(task), [outcome](std::exception_ptr error) {
      outcome->done = true;
      outcome->error = error;
    });
  } else {
    boost::asio::co_spawn(io, std::move(task), [outcome](std::exception_ptr error, T value) {
      outcome->done = true;
      outcome->error = error;
      if (!error) outcome->value.emplace(std::move(value));
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!outcome->done && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_until(deadline);
  }
  if (!outcome->done) {
    FAIL("the coroutine did not finish within "
         << std::chrono::duration_cast<std::chrono::milliseconds>(limit).count() << " ms");
  }
  if (outcome->error) std::rethrow_exception(outcome->error);
  if constexpr (!std::is_void_v<T>) return std::move(*outcome->value);
}

}  // namespace kintsugi::test
