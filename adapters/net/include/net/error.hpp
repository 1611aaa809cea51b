#pragma once
// Errors of kintsugi::net as values (STYLE §5.4): kintsugi::result<T> and one errc with its category.
// Every expected network failure is reported as one of these codes; the underlying system, SSL or Beast
// error is logged at debug where it happens, so callers switch on a short, stable list.
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <type_traits>

namespace kintsugi {

template <class T>
using result = boost::system::result<T>;

}  // namespace kintsugi

namespace kintsugi::net {

enum class errc {
  bad_url = 1,            // not http/https/ws/wss, or no host
  resolve_failed,         // the host name did not resolve
  connect_failed,         // TCP connect refused or unreachable
  timeout,                // a connect, TLS, handshake or request deadline passed
  tls_failed,             // the TLS handshake failed for a reason other than the certificate
  certificate_untrusted,  // the peer's certificate does not chain to a trusted CA (or is expired, malformed)
  hostname_mismatch,      // the certificate is valid but does not name the host we connected to
  connection_closed,      // the peer closed or reset the connection
  protocol_error,         // a malformed HTTP response or websocket frame; the connection is dropped
  handshake_rejected,     // the server answered the websocket upgrade with something other than 101
  binary_frame,           // a websocket binary frame arrived; skipped, the connection stays open
  idle_timeout,           // no websocket frame or pong within the idle timeout
  message_too_big,        // a body or message over the configured limit
  not_connected,          // the operation needs an open connection
  cancelled,              // the operation was cancelled (shutdown)
};

const boost::system::error_category& net_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), net_category()};
}

// Turns an error from Asio, SSL or Beast into one of ours. `fallback` is used for errors that have no
// better match (e.g. connect_failed for errors while connecting).
boost::system::error_code to_net_error(const boost::system::error_code& ec, errc fallback) noexcept;

}  // namespace kintsugi::net

template <>
struct boost::system::is_error_code_enum<kintsugi::net::errc> : std::true_type {};
