// kintsugi::net errors: the category, and how Asio, SSL and Beast errors map onto errc.
#include "net/error.hpp"

#include <doctest/doctest.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

namespace net = kintsugi::net;
namespace asio_error = boost::asio::error;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using boost::system::error_code;

TEST_CASE("net errors: a named category with readable messages") {
  const error_code ec = net::errc::hostname_mismatch;
  CHECK(std::string(ec.category().name()) == "kintsugi.net");
  CHECK(ec.message() == "certificate does not match the host name");
  CHECK(error_code(net::errc::timeout).message() == "timed out");
  CHECK(ec != net::errc::certificate_untrusted);
}

TEST_CASE("net errors: routine Asio, SSL and Beast errors map to errc") {
  const auto map = [](const error_code& ec) { return net::to_net_error(ec, net::errc::protocol_error); };
  CHECK(map(asio_error::operation_aborted) == net::errc::cancelled);
  CHECK(map(boost::beast::error::timeout) == net::errc::timeout);
  CHECK(map(asio_error::connection_refused) == net::errc::connect_failed);
  CHECK(map(asio_error::host_not_found) == net::errc::resolve_failed);
  CHECK(map(asio_error::eof) == net::errc::connection_closed);
  CHECK(map(asio_error::connection_reset) == net::errc::connection_closed);
  CHECK(map(boost::asio::ssl::error::stream_truncated) == net::errc::connection_closed);
  CHECK(map(http::error::end_of_stream) == net::errc::connection_closed);
  CHECK(map(websocket::error::closed) == net::errc::connection_closed);
  CHECK(map(http::error::body_limit) == net::errc::message_too_big);
  CHECK(map(websocket::error::message_too_big) == net::errc::message_too_big);
  CHECK(map(websocket::error::upgrade_declined) == net::errc::handshake_rejected);
  CHECK(map(http::error::bad_version) == net::errc::protocol_error);
  CHECK(map(websocket::error::bad_opcode) == net::errc::protocol_error);
  CHECK(net::to_net_error(asio_error::access_denied, net::errc::connect_failed) == net::errc::connect_failed);
  CHECK(net::to_net_error(net::errc::idle_timeout, net::errc::connect_failed) == net::errc::idle_timeout);
  CHECK_FALSE(net::to_net_error(error_code{}, net::errc::connect_failed));
}
