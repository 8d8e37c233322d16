// SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, as PostgreSQL uses it: the
// password is the API token (or the read-only token), the user name in the
// SCRAM messages is ignored (the startup packet carries it). Over TLS also
// SCRAM-SHA-256-PLUS, with channel binding type tls-server-end-point (RFC 5929):
// the proof then covers a hash of the certificate the client's TLS saw, so a
// man in the middle with a certificate of its own cannot relay the exchange
// (libpq's channel_binding=require).
// Pure: the caller supplies the salt, the iteration count, the server nonce and
// the binding data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "etl/result.h"

typedef struct x509_st X509;

namespace etl::pgwire {

std::string base64_encode(std::string_view in);
std::optional<std::string> base64_decode(std::string_view in);  // nullopt for bad input
std::string random_bytes(std::size_t n);                         // OpenSSL RAND_bytes

// What the server keeps of the password (PostgreSQL's "SCRAM-SHA-256$<i>:<salt>$<StoredKey>:<ServerKey>").
struct ScramSecret {
  std::string salt;  // raw bytes
  int iterations = 4096;
  std::string stored_key, server_key;  // raw 32-byte values
};
ScramSecret make_scram_secret(std::string_view password, std::string salt, int iterations);

// RFC 5929's tls-server-end-point data of a certificate: its DER hashed with the
// hash of its signature algorithm (SHA-256 for MD5 and SHA-1); "" when that
// algorithm names no hash (Ed25519), so no channel binding is offered.
std::string tls_server_end_point_hash(X509* certificate);

// One authentication exchange. client_first -> server-first-message; client_final ->
// server-final-message ("v=...") when the proof is right, unauthorized when it is not,
// invalid_argument for a malformed message.
class ScramExchange final {
 public:
  // `tls_server_end_point`: the hash of this server's certificate on the client's
  // connection (tls_server_end_point_hash), "" when the connection has none (no TLS);
  // `plus`: the client chose SCRAM-SHA-256-PLUS. A client that says "y" (it could
  // bind but thinks the server cannot) where the server can is refused: a downgrade.
  // `other`: a second password that also passes (the read-only token), made with
  // the same salt and iteration count as `secret` (the client sees one of each).
  ScramExchange(const ScramSecret& secret, std::string server_nonce, std::string tls_server_end_point = {},
                bool plus = false, const ScramSecret* other = nullptr)
      : secret_(secret),
        other_(other),
        server_nonce_(std::move(server_nonce)),
        binding_(std::move(tls_server_end_point)),
        plus_(plus) {}
  Result<std::string> client_first(std::string_view message);
  Result<std::string> client_final(std::string_view message);

 private:
  const ScramSecret& secret_;
  const ScramSecret* other_ = nullptr;
  std::string server_nonce_;
  std::string binding_;  // tls-server-end-point data, "" without TLS
  bool plus_ = false;
  std::string gs2_header_, client_first_bare_, server_first_, nonce_;
};

}  // namespace etl::pgwire
