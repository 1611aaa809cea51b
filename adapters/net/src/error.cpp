#include <net/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>

#include <string>

namespace kintsugi::net {
namespace {

// boost::system::error_category has a protected, non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "kintsugi.net"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::bad_url: return "bad url";
      case errc::resolve_failed: return "host name did not resolve";
      case errc::connect_failed: return "connection failed";
      case errc::timeout: return "timed out";
      case errc::tls_failed: return "TLS handshake failed";
      case errc::certificate_untrusted: return "certificate not trusted";
      case errc::hostname_mismatch: return "certificate does not match the host name";
      case errc::connection_closed: return "connection closed by the peer";
      case errc::protocol_error: return "protocol error";
      case errc::handshake_rejected: return "websocket upgrade rejected";
      case errc::binary_frame: return "unexpected binary websocket frame";
      case errc::idle_timeout: return "connection idle for too long";
      case errc::message_too_big: return "message too big";
      case errc::not_connected: return "not connected";
      case errc::cancelled: return "cancelled";
    }
    return "unknown kintsugi.net error";
  }
};
#pragma GCC diagnostic pop

bool same_category(const boost::system::error_code& ec, const boost::system::error_code& sample) {
  return ec.category() == sample.category();
}

}  // namespace

const boost::system::error_category& net_category() noexcept {
  static const category_impl instance;
  return instance;
}

boost::system::error_code to_net_error(const boost::system::error_code& ec, errc fallback) noexcept {
  namespace asio_error = boost::asio::error;
  namespace http = boost::beast::http;
  namespace websocket = boost::beast::websocket;
  if (!ec) return {};
  if (ec.category() == net_category()) return ec;
  if (ec == asio_error::operation_aborted) return errc::cancelled;
  if (ec == boost::beast::error::timeout || ec == asio_error::timed_out) return errc::timeout;
  if (ec == asio_error::eof || ec == asio_error::connection_reset || ec == asio_error::broken_pipe ||
      ec == asio_error::connection_aborted || ec == asio_error::not_connected || ec == asio_error::bad_descriptor ||
      ec == boost::asio::ssl::error::stream_truncated || ec == http::error::end_of_stream ||
      ec == http::error::partial_message || ec == websocket::error::closed) {
    return errc::connection_closed;
  }
  if (ec == asio_error::connection_refused || ec == asio_error::host_unreachable ||
      ec == asio_error::network_unreachable) {
    return errc::connect_failed;
  }
  if (ec == asio_error::host_not_found || ec == asio_error::host_not_found_try_again || ec == asio_error::no_data) {
    return errc::resolve_failed;
  }
  if (ec == http::error::body_limit || ec == http::error::header_limit || ec == http::error::buffer_overflow ||
      ec == websocket::error::message_too_big || ec == websocket::error::buffer_overflow) {
    return errc::message_too_big;
  }
  if (ec == websocket::condition::handshake_failed) return errc::handshake_rejected;
  if (same_category(ec, http::error::bad_version) || same_category(ec, websocket::error::bad_opcode)) {
    return errc::protocol_error;
  }
  return fallback;
}

}  // namespace kintsugi::net
