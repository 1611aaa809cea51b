#include "slack/web_api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <random>
#include <stdexcept>

#include "net/backoff.hpp"
#include "net/finish.hpp"

namespace kintsugi::slack {

namespace asio = boost::asio;


web_api::web_api(asio::any_io_executor ex, asio::ssl::context& tls, const std::string& base_url,
                 std::shared_ptr<spdlog::logger> log, int max_attempts)
    : ex_(ex), log_(std::move(log)), max_attempts_(max_attempts < 1 ? 1 : max_attempts) {
  auto parsed = net::parse_url(base_url);
  if (!parsed) throw std::invalid_argument("slack.api_base_url is not a usable URL: " + base_url);
  base_ = *parsed;
  if (!base_.target.ends_with('/')) base_.target += '/';
  http_ = std::make_unique<net::http_client>(ex, tls, base_, net::http_client_config{}, log_);
}

asio::awaitable<api_response> web_api::call(std::string method, std::string body, std::string token, bool json) {
  net::backoff retry_delay{net::backoff_config{std::chrono::milliseconds{500}, std::chrono::seconds{30}, net::jitter::equal}};
  std::minstd_rand random{std::random_device{}()};
  api_response out;
  for (int attempt = 1;; ++attempt) {
    net::http_request req;
    req.method = boost::beast::http::verb::post;
    req.target = base_.target + method;
    req.headers.push_back({"Authorization", "Bearer " + token});
    req.body = body;
    req.content_type = json ? "application/json; charset=utf-8" : "application/x-www-form-urlencoded";
    ++calls_;
    auto finishing = net::finish_even_if_cancelled(ex_, http_->request(std::move(req)));
    auto response = co_await std::move(finishing);
    std::chrono::milliseconds wait{0};
    if (!response) {
      out.status = 0;
      out.result = api_result{};
      out.result.error = "connection: " + response.error().message();
      out.result.retryable = true;
      out.result.description = method + ": " + out.result.error;
      wait = retry_delay.next(random);
    } else {
      out.status = static_cast<int>(response->status);
      out.body = response->body;
      out.result = decode_api_response(method, static_cast<int>(response->status), response->body,
                                       response->header("Retry-After"));
      if (response->status == 429) {
        ++rate_limited_;
        wait = std::chrono::seconds{out.result.retry_after_s > 0 ? out.result.retry_after_s : 1};
        if (log_) log_->warn("slack rate limited method={} retry_in={}s", method, wait.count() / 1000);
      } else if (out.result.retryable) {
        wait = retry_delay.next(random);
      }
    }
    if (out.result.ok || !out.result.retryable || attempt >= max_attempts_) co_return out;
    if (log_) log_->debug("slack retry method={} attempt={} in={}ms ({})", method, attempt, wait.count(), out.result.error);
    asio::steady_timer timer{ex_, wait};
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace kintsugi::slack
