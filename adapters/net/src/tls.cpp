#include <net/tls.hpp>

#include <net/error.hpp>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/verify_context.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <filesystem>
#include <stdexcept>

namespace kintsugi::net {
namespace ssl = boost::asio::ssl;

namespace {

// Checks the leaf certificate's names with Asio's host_name_verification, and on a mismatch records
// X509_V_ERR_HOSTNAME_MISMATCH so the failure can be told apart from an untrusted chain afterwards.
class verify_host {
 public:
  explicit verify_host(const std::string& host) : check_(host) {}

  bool operator()(bool preverified, ssl::verify_context& ctx) const {
    if (!preverified) return false;
    X509_STORE_CTX* store = ctx.native_handle();
    if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
    if (check_(preverified, ctx)) return true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
    return false;
  }

 private:
  ssl::host_name_verification check_;
};

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

ssl::context make_client_context(const std::string& ca_file) {
  ssl::context ctx(ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1) {
    throw std::runtime_error("TLS: cannot require TLS 1.2 or newer");
  }
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  ctx.set_verify_mode(ssl::verify_peer);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx.set_default_verify_paths(ec);
    if (ec) throw std::runtime_error("TLS: cannot load the system's trusted certificates: " + ec.message());
    return ctx;
  }
  std::error_code fs_ec;
  if (!std::filesystem::is_regular_file(ca_file, fs_ec)) {
    throw std::runtime_error("TLS: CA file '" + ca_file + "' does not exist or is not a file");
  }
  ctx.load_verify_file(ca_file, ec);
  if (ec) throw std::runtime_error("TLS: cannot load CA file '" + ca_file + "': " + ec.message());
  return ctx;
}

boost::system::error_code prepare_tls_client(tls_stream& stream, const std::string& host) {
  if (!is_ip_literal(host) && SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()) != 1) {
    return errc::tls_failed;
  }
  boost::system::error_code ec;
  stream.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) stream.set_verify_callback(verify_host(host), ec);
  return ec ? boost::system::error_code(errc::tls_failed) : boost::system::error_code{};
}

boost::system::error_code classify_handshake_error(tls_stream& stream, const boost::system::error_code& ec) {
  if (!ec) return {};
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    return errc::hostname_mismatch;
  }
  if (verify != X509_V_OK) return errc::certificate_untrusted;
  if (ec.category() == boost::asio::error::get_ssl_category()) return errc::tls_failed;
  return to_net_error(ec, errc::tls_failed);
}

std::string describe_handshake_error(tls_stream& stream, const boost::system::error_code& ec) {
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) return X509_verify_cert_error_string(verify);
  return ec.message();
}

}  // namespace kintsugi::net
