#pragma once
// Mattermost's REST v4 over one keep-alive HTTP(S) connection, with the bot token as a Bearer header (never logged).
// Retries what is worth retrying: 429 after the server's wait (Retry-After, else X-Ratelimit-Reset, else 1 s), 5xx and
// a lost connection with jittered backoff, up to max_attempts. When a success says no requests remain in the window
// (X-Ratelimit-Remaining: 0), the next request waits for the reset instead of running into a 429.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "mattermost/codec.hpp"
#include "net/http_client.hpp"
#include "net/url.hpp"

namespace spdlog {
class logger;
}

namespace kintsugi::mattermost {

struct rest_response {
  int status = 0;     // the HTTP status (0: no answer)
  std::string body;   // the raw answer
  api_error error;    // set when !ok(): what went wrong, for the log and for deciding what to do
  bool ok() const { return status >= 200 && status < 300; }
};

class rest_client {
 public:
  // `base_url` is mattermost.url ("https://chat.example.com", maybe with a path). Throws std::invalid_argument when
  // it is not a usable http(s) URL.
  rest_client(boost::asio::any_io_executor ex, boost::asio::ssl::context& tls, const std::string& base_url,
              std::string token, std::shared_ptr<spdlog::logger> log, int max_attempts = 5);
  ~rest_client();
  rest_client(const rest_client&) = delete;
  rest_client& operator=(const rest_client&) = delete;

  // `path` starts with "/api/v4/"; a JSON body is sent when not empty. `attempts` > 0 overrides max_attempts (1: the
  // caller retries itself, and logs why).
  boost::asio::awaitable<rest_response> request(boost::beast::http::verb method, std::string path,
                                                std::string json_body = {}, int attempts = 0);

  // The websocket URL on the same server: ws(s)://host[:port][/base]/api/v4/websocket.
  std::string websocket_url() const;
  std::size_t calls() const { return calls_; }
  std::size_t rate_limited() const { return rate_limited_; }

 private:
  boost::asio::any_io_executor ex_;
  net::url_parts base_;
  std::string base_path_;  // without a trailing slash ("" or "/chat")
  std::string token_;
  std::unique_ptr<net::http_client> http_;
  std::shared_ptr<spdlog::logger> log_;
  int max_attempts_;
  std::chrono::steady_clock::time_point not_before_{};  // the rate-limit window's reset
  std::size_t calls_ = 0;
  std::size_t rate_limited_ = 0;
};

}  // namespace kintsugi::mattermost
