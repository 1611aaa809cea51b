#pragma once
// Shared set-up for the net tests: a test CA, a client TLS context trusting it, one io_context, and a
// logger that writes into a string so tests can assert on (and against) log lines.
#include "fake_tls_server.hpp"
#include "net/tls.hpp"
#include "net/url.hpp"
#include "run_coro_test.hpp"
#include "tls_test_ca.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <memory>
#include <sstream>
#include <string>

namespace kintsugi::test {

struct net_fixture {
  tls_test_ca ca;
  boost::asio::ssl::context client_tls = kintsugi::net::make_client_context(ca.ca_file());
  std::ostringstream log_text;
  std::shared_ptr<spdlog::logger> log = make_logger(log_text);
  boost::asio::io_context io;

  static std::shared_ptr<spdlog::logger> make_logger(std::ostringstream& out) {
    auto logger = std::make_shared<spdlog::logger>(
        "transport", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
    logger->set_level(spdlog::level::trace);
    return logger;
  }
};

inline kintsugi::net::url_parts url_of(const std::string& text) { return kintsugi::net::parse_url(text).value(); }

}  // namespace kintsugi::test
