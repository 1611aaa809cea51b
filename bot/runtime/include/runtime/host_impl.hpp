#pragma once
// Template parts of runtime::host.
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <optional>

namespace kintsugi::runtime {

template <class T>
boost::asio::awaitable<T> host::run(std::function<T(core::store&)> work) {
  using result_type = std::pair<std::exception_ptr, std::optional<T>>;
  auto [error, value] = co_await boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(result_type)>(
      [this](auto completion, std::function<T(core::store&)> job) {
        boost::asio::post(thread_, [this, job = std::move(job), done = std::move(completion)]() mutable {
          result_type r;
          try {
            r.second.emplace(job(store_));
          } catch (...) {
            r.first = std::current_exception();
          }
          // Back to the caller's executor.
          boost::asio::post(boost::asio::append(std::move(done), std::move(r)));
        });
      },
      boost::asio::use_awaitable, std::move(work));
  if (error) std::rethrow_exception(error);
  co_return std::move(*value);
}

}  // namespace kintsugi::runtime
