#pragma once
// TLS for the clients: one client context for the process, and per connection SNI plus verification that
// the certificate names the host we meant to reach.
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <string>

namespace kintsugi::net {

using tls_stream = boost::asio::ssl::stream<boost::beast::tcp_stream>;

// A client context: TLS 1.2 or newer, peer verification on. With an empty `ca_file` the system's default
// trust store is used; otherwise only the CA certificates in that PEM file are trusted (tests, private CAs).
// Throws std::runtime_error with a clear message when the file cannot be read or holds no certificate:
// this runs once at startup.
boost::asio::ssl::context make_client_context(const std::string& ca_file = {});

// Prepares a client stream before its handshake: SNI with `host` (skipped for IP literals, as RFC 6066
// says) and a verify callback that accepts only a certificate naming `host` (DNS name or IP address).
// Returns errc::tls_failed if OpenSSL refuses the server name.
boost::system::error_code prepare_tls_client(tls_stream& stream, const std::string& host);

// After a failed handshake on a stream prepared above: errc::hostname_mismatch, certificate_untrusted,
// timeout, connection_closed, or tls_failed. The OpenSSL reason is logged by the caller from `describe`.
boost::system::error_code classify_handshake_error(tls_stream& stream, const boost::system::error_code& ec);

// A short human text for a failed handshake (the certificate verification result when there is one).
std::string describe_handshake_error(tls_stream& stream, const boost::system::error_code& ec);

}  // namespace kintsugi::net
