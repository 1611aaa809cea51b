#pragma once
// The Slack Web API over one keep-alive HTTPS connection: retries what Slack says to retry (429 after its
// Retry-After, 5xx and transient errors with jittered backoff, a dropped connection), and maps every answer through
// decode_api_response(). Tokens travel in the Authorization header only and are never logged.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "net/http_client.hpp"
#include "net/url.hpp"
#include "slack/web_api_calls.hpp"

namespace spdlog {
class logger;
}

namespace kintsugi::slack {

struct api_response {
  int status = 0;    // the HTTP status (0: no answer)
  api_result result;
  std::string body;  // the raw answer, for the decoders of particular methods
};

class web_api {
 public:
  // `base_url` is slack.api_base_url ("https://slack.com/api/"). Throws std::invalid_argument for a bad URL.
  web_api(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls, const std::string& base_url,
          std::shared_ptr<spdlog::logger> log, int max_attempts = 5);

  // POSTs `body` to `method` with the token. JSON bodies for write methods, form bodies ("user=U1") for reads.
  boost::asio::awaitable<api_response> call(std::string method, std::string body, std::string token,
                                            bool json = true);

  // Calls made and 429s seen, for tests and logs.
  std::size_t calls() const { return calls_; }
  std::size_t rate_limited() const { return rate_limited_; }

 private:
  boost::asio::any_io_executor ex_;
  net::url_parts base_;
  std::unique_ptr<net::http_client> http_;
  std::shared_ptr<spdlog::logger> log_;
  int max_attempts_;
  std::size_t calls_ = 0;
  std::size_t rate_limited_ = 0;
};

}  // namespace kintsugi::slack
