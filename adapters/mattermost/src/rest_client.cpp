#include "mattermost/rest_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <random>
#include <stdexcept>

#include "net/backoff.hpp"
#include "net/finish.hpp"

namespace kintsugi::mattermost {

namespace asio = boost::asio;

rest_client::rest_client(asio::any_io_executor ex, asio::ssl::context& tls, const std::string& base_url,
                         std::string token, std::shared_ptr<spdlog::logger> log, int max_attempts)
    : ex_(ex), token_(std::move(token)), log_(std::move(log)), max_attempts_(max_attempts < 1 ? 1 : max_attempts) {
  auto parsed = net::parse_url(base_url);
  if (!parsed || parsed->websocket()) throw std::invalid_argument("mattermost.url is not a usable http(s) URL: " + base_url);
  base_ = *parsed;
  base_path_ = base_.target.substr(0, base_.target.find('?'));
  while (base_path_.ends_with('/')) base_path_.pop_back();
  http_ = std::make_unique<net::http_client>(ex, tls, base_, net::http_client_config{}, log_);
}

rest_client::~rest_client() = default;

std::string rest_client::websocket_url() const {
  return std::string{base_.secure() ? "wss://" : "ws://"} + base_.host_header() + base_path_ + "/api/v4/websocket";
}

asio::awaitable<rest_response> rest_client::request(boost::beast::http::verb method, std::string path,
                                                    std::string json_body, int attempts) {
  const int most = attempts > 0 ? attempts : max_attempts_;
  net::backoff retry_delay{net::backoff_config{std::chrono::milliseconds{500}, std::chrono::seconds{30}, net::jitter::equal}};
  std::minstd_rand random{std::random_device{}()};
  rest_response out;
  for (int attempt = 1;; ++attempt) {
    if (const auto now = std::chrono::steady_clock::now(); now < not_before_) {
      asio::steady_timer window{ex_, not_before_ - now};
      co_await window.async_wait(asio::use_awaitable);
    }
    net::http_request req;
    req.method = method;
    req.target = base_path_ + path;
    req.headers.push_back({"Authorization", "Bearer " + token_});
    req.headers.push_back({"Accept", "application/json"});
    if (!json_body.empty()) {
      req.body = json_body;
      req.content_type = "application/json; charset=utf-8";
    }
    ++calls_;
    auto finishing = net::finish_even_if_cancelled(ex_, http_->request(std::move(req)));
    auto response = co_await std::move(finishing);
    std::chrono::milliseconds wait{0};
    const std::string what = std::string{boost::beast::http::to_string(method)} + " " + path.substr(0, path.find('?'));
    if (!response) {
      out = rest_response{};
      out.error.message = "connection: " + response.error().message();
      out.error.retryable = true;
      wait = retry_delay.next(random);
    } else {
      out.status = static_cast<int>(response->status);
      out.body = std::move(response->body);
      const auto limited = rate_limit_wait(response->header("X-Ratelimit-Limit"), response->header("X-Ratelimit-Remaining"),
                                           response->header("X-Ratelimit-Reset"));
      if (out.ok()) {
        out.error = api_error{};
        if (limited) not_before_ = std::chrono::steady_clock::now() + *limited;
        co_return out;
      }
      out.error = parse_error(out.status, out.body);
      if (out.status == 429) {
        ++rate_limited_;
        auto told = response->retry_after();
        wait = told ? std::chrono::duration_cast<std::chrono::milliseconds>(*told)
                    : limited ? std::chrono::duration_cast<std::chrono::milliseconds>(*limited)
                              : std::chrono::milliseconds{1000};
        if (wait < std::chrono::milliseconds{1}) wait = std::chrono::milliseconds{1};
        if (log_) log_->warn("mattermost rate limited: {} retry_in={}ms", what, wait.count());
      } else if (out.error.retryable) {
        wait = retry_delay.next(random);
      }
    }
    if (!out.error.retryable || attempt >= most) {
      if (log_)
        log_->debug("mattermost {} failed: status={} {} {}", what, out.status, out.error.id, out.error.message);
      co_return out;
    }
    if (log_) log_->debug("mattermost retry {} attempt={} in={}ms ({})", what, attempt, wait.count(), out.error.message);
    asio::steady_timer timer{ex_, wait};
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace kintsugi::mattermost
