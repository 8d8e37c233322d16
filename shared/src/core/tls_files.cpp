// check_tls_key_pair: the start-up check of a PEM certificate and key pair
// (ETL_PG_TLS_CERT / ETL_PG_TLS_KEY), with one-line reasons.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "etl/config.h"

namespace etl {
namespace {

// The newest OpenSSL reason on this thread's queue (then the queue is cleared).
std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "unknown error";
}

// Never prompts for a passphrase on a terminal: an encrypted key is refused.
int no_passphrase(char*, int, int, void*) { return 0; }

Status readable(const char* variable, const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return make_error(Errc::invalid_argument, std::string(variable) + ": cannot read '" + path + "': " +
                                                        std::strerror(errno));
  return {};
}

}  // namespace

Status check_tls_key_pair(const std::string& cert_file, const std::string& key_file) {
  ETL_RETURN_IF_ERROR(readable("ETL_PG_TLS_CERT", cert_file));
  ETL_RETURN_IF_ERROR(readable("ETL_PG_TLS_KEY", key_file));
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
  if (!ctx) return make_error(Errc::internal, "ETL_PG_TLS_CERT: cannot set up TLS: " + openssl_reason());
  SSL_CTX_set_default_passwd_cb(ctx.get(), &no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1)
    return make_error(Errc::invalid_argument, "ETL_PG_TLS_CERT: '" + cert_file +
                                                  "' is not a PEM certificate: " + openssl_reason());
  std::unique_ptr<BIO, int (*)(BIO*)> key_bio(BIO_new_file(key_file.c_str(), "rb"), &BIO_free);
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
      key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &no_passphrase, nullptr) : nullptr, &EVP_PKEY_free);
  if (!key)
    return make_error(Errc::invalid_argument, "ETL_PG_TLS_KEY: '" + key_file +
                                                  "' is not an unencrypted PEM private key: " + openssl_reason());
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1)
    return make_error(Errc::invalid_argument, "ETL_PG_TLS_KEY: '" + key_file + "' does not match the certificate in '" +
                                                  cert_file + "': " + openssl_reason());
  return {};
}

}  // namespace etl
