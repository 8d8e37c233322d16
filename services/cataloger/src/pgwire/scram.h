// SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, as PostgreSQL uses it: the
// password is the API token, the user name in the SCRAM messages is ignored (the
// startup packet carries it), no channel binding (the client sends "n,," or "y,,").
// Pure: the caller supplies the salt, the iteration count and the server nonce.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "etl/result.h"

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

// One authentication exchange. client_first -> server-first-message; client_final ->
// server-final-message ("v=...") when the proof is right, unauthorized when it is not,
// invalid_argument for a malformed message.
class ScramExchange final {
 public:
  ScramExchange(const ScramSecret& secret, std::string server_nonce)
      : secret_(secret), server_nonce_(std::move(server_nonce)) {}
  Result<std::string> client_first(std::string_view message);
  Result<std::string> client_final(std::string_view message);

 private:
  const ScramSecret& secret_;
  std::string server_nonce_;
  std::string gs2_header_, client_first_bare_, server_first_, nonce_;
};

}  // namespace etl::pgwire
