#include "tls_test_ca.hpp"

#include <boost/asio/buffer.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <stdexcept>

namespace kintsugi::test {
namespace {

struct pkey_free {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct x509_free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct bio_free {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using x509_ptr = std::unique_ptr<X509, x509_free>;
using bio_ptr = std::unique_ptr<BIO, bio_free>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("tls_test_ca: ") + what + " failed");
}

pkey_ptr make_key() {
  pkey_ptr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(key != nullptr, "EC key generation");
  return key;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  check(extension != nullptr, "building an extension");
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  check(added == 1, "adding an extension");
}

// A certificate for `key` named `common_name`; self-signed when `issuer` is null.
x509_ptr make_certificate(EVP_PKEY* key, const std::string& common_name, long serial, X509* issuer,
                          EVP_PKEY* issuer_key, const std::string& subject_alt_names) {
  x509_ptr cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509* c = cert.get();
  check(X509_set_version(c, 2) == 1, "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(c), serial) == 1, "setting the serial");
  check(X509_gmtime_adj(X509_getm_notBefore(c), -3600) != nullptr, "setting notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(c), 24 * 3600) != nullptr, "setting notAfter");
  check(X509_set_pubkey(c, key) == 1, "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(c);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                   -1, -1, 0) == 1,
        "setting the common name");
  check(X509_set_issuer_name(c, issuer != nullptr ? X509_get_subject_name(issuer) : name) == 1, "setting the issuer");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : c, c, nullptr, nullptr, 0);
  const bool is_ca = issuer == nullptr;
  add_extension(c, &ctx, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(c, &ctx, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add_extension(c, &ctx, NID_subject_key_identifier, "hash");
  if (!is_ca) {
    add_extension(c, &ctx, NID_authority_key_identifier, "keyid:always");
    add_extension(c, &ctx, NID_ext_key_usage, "serverAuth");
    if (!subject_alt_names.empty()) add_extension(c, &ctx, NID_subject_alt_name, subject_alt_names);
  }
  check(X509_sign(c, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "signing");
  return cert;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of(X509* cert) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && PEM_write_bio_X509(bio.get(), cert) == 1, "writing a certificate");
  return bio_text(bio.get());
}

std::string pem_of(EVP_PKEY* key) {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "writing a key");
  return bio_text(bio.get());
}

}  // namespace

struct tls_test_ca::keys {
  pkey_ptr ca_key;
  x509_ptr ca_cert;
  mutable long next_serial = 2;
};

tls_test_ca::tls_test_ca(const std::string& name) : keys_(std::make_unique<keys>()) {
  keys_->ca_key = make_key();
  keys_->ca_cert = make_certificate(keys_->ca_key.get(), name, 1, nullptr, nullptr, {});
  ca_pem_ = pem_of(keys_->ca_cert.get());
  ca_file_ = dir_.file("ca.pem");
  std::ofstream out(ca_file_, std::ios::binary);
  out << ca_pem_;
  check(static_cast<bool>(out.flush()), "writing the CA file");
}

tls_test_ca::~tls_test_ca() = default;

boost::asio::ssl::context tls_test_ca::server_context(const std::vector<std::string>& dns_names,
                                                      const std::vector<std::string>& ip_addresses) const {
  std::string alt_names;
  for (const auto& dns : dns_names) alt_names += (alt_names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : ip_addresses) alt_names += (alt_names.empty() ? "IP:" : ",IP:") + ip;
  const std::string common_name = dns_names.empty() ? (ip_addresses.empty() ? "server" : ip_addresses.front())
                                                     : dns_names.front();
  auto key = make_key();
  auto cert = make_certificate(key.get(), common_name, keys_->next_serial++, keys_->ca_cert.get(),
                               keys_->ca_key.get(), alt_names);
  const std::string chain = pem_of(cert.get()) + ca_pem_;
  const std::string key_pem = pem_of(key.get());

  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
  check(SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) == 1, "setting TLS 1.2");
  ctx.use_certificate_chain(boost::asio::buffer(chain));
  ctx.use_private_key(boost::asio::buffer(key_pem), boost::asio::ssl::context::pem);
  return ctx;
}

}  // namespace kintsugi::test
