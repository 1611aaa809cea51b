#pragma once
// A throwaway certificate authority made in memory when a test starts (OpenSSL 3, EC P-256 keys), so TLS
// tests need no committed keys and nothing downloaded. The CA certificate is written to a temp file for
// clients' `ca_file`; servers get an ssl::context with a certificate this CA signed.
#include "temp_dir.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace kintsugi::test {

class tls_test_ca {
 public:
  // `name` goes into the CA's common name; two CAs trust nothing of each other.
  explicit tls_test_ca(const std::string& name = "kintsugi test CA");
  ~tls_test_ca();
  tls_test_ca(const tls_test_ca&) = delete;
  tls_test_ca& operator=(const tls_test_ca&) = delete;

  const std::string& ca_pem() const { return ca_pem_; }
  // Path of a PEM file holding the CA certificate (removed with this object).
  const std::string& ca_file() const { return ca_file_; }

  // A TLS server context (TLS 1.2+) whose certificate, signed by this CA, names `dns_names` and
  // `ip_addresses` in its subjectAltName. The defaults fit a server on 127.0.0.1 reached as localhost.
  boost::asio::ssl::context server_context(const std::vector<std::string>& dns_names = {"localhost"},
                                           const std::vector<std::string>& ip_addresses = {"127.0.0.1"}) const;

 private:
  struct keys;
  std::unique_ptr<keys> keys_;
  temp_dir dir_;
  std::string ca_pem_;
  std::string ca_file_;
};

}  // namespace kintsugi::test
