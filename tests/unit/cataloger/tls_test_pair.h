// A self-signed P-256 certificate and its key written as PEM files, made with
// OpenSSL's API (for the pgwire TLS tests; nothing here is a secret).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace etl::testing {

struct TlsPair {
  std::string cert, key;  // file paths
};

inline TlsPair write_tls_pair(const std::filesystem::path& dir, const std::string& name) {
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, void (*)(X509*)> cert(X509_new(), &X509_free);
  if (!key || !cert) throw std::runtime_error("cannot make a test key");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("cannot sign a test certificate");
  TlsPair out{(dir / (name + "-cert.pem")).string(), (dir / (name + "-key.pem")).string()};
  std::unique_ptr<FILE, int (*)(FILE*)> c(std::fopen(out.cert.c_str(), "wb"), &std::fclose);
  std::unique_ptr<FILE, int (*)(FILE*)> k(std::fopen(out.key.c_str(), "wb"), &std::fclose);
  if (!c || !k || PEM_write_X509(c.get(), cert.get()) != 1 ||
      PEM_write_PrivateKey(k.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw std::runtime_error("cannot write the test pair");
  return out;
}

}  // namespace etl::testing
