#include "pgwire/scram.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <optional>
#include <vector>

#include <openssl/crypto.h>

namespace etl::pgwire {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

Error malformed(std::string_view what) {
  return make_error(Errc::invalid_argument, "malformed SCRAM " + std::string(what));
}

// The value of attribute `name` ("r=...") at the start of `part`, or nullopt.
std::optional<std::string_view> attribute(std::string_view part, char name) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    auto pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) return parts;
    start = pos + 1;
  }
}

bool printable_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (unsigned char c : nonce)
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  return true;
}

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t(std::uint8_t(in[i])) << 16) | (std::uint32_t(std::uint8_t(in[i + 1])) << 8) |
                      std::uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t(std::uint8_t(in[i])) << 16;
    if (rest == 2) v |= std::uint32_t(std::uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  std::uint32_t v = 0;
  int bits = 0, pad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    int d;
    if (c == '=') {
      if (i + 2 < in.size()) return std::nullopt;
      ++pad;
      d = 0;
    } else {
      if (pad) return std::nullopt;
      const char* p = std::char_traits<char>::find(kAlphabet, 64, c);
      if (p == nullptr) return std::nullopt;
      d = static_cast<int>(p - kAlphabet);
    }
    v = (v << 6) | static_cast<std::uint32_t>(d);
    bits += 6;
    if (bits == 24) {
      out += static_cast<char>(v >> 16);
      out += static_cast<char>(v >> 8);
      out += static_cast<char>(v);
      v = 0;
      bits = 0;
    }
  }
  out.resize(out.size() - static_cast<std::size_t>(pad));
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) std::abort();
  return out;
}

ScramSecret make_scram_secret(std::string_view password, std::string salt, int iterations) {
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof salted, salted);
  std::string salted_password(reinterpret_cast<char*>(salted), sizeof salted);
  ScramSecret s;
  s.salt = std::move(salt);
  s.iterations = iterations;
  s.stored_key = sha256(hmac(salted_password, "Client Key"));
  s.server_key = hmac(salted_password, "Server Key");
  return s;
}

std::string tls_server_end_point_hash(X509* certificate) {
  int digest_nid = NID_undef;
  if (!certificate || X509_get_signature_info(certificate, &digest_nid, nullptr, nullptr, nullptr) != 1) return {};
  const EVP_MD* md = digest_nid == NID_md5 || digest_nid == NID_sha1 ? EVP_sha256() : EVP_get_digestbynid(digest_nid);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!md || X509_digest(certificate, md, out, &length) != 1) return {};
  return std::string(reinterpret_cast<char*>(out), length);
}

Result<std::string> ScramExchange::client_first(std::string_view message) {
  // gs2-header "n,," / "y,," / "p=tls-server-end-point,," (an authzid "a=" is not
  // supported), then client-first-bare "n=<user>,r=<nonce>". The header must agree
  // with the mechanism, as PostgreSQL checks it.
  auto negotiation = [](const std::string& why) {
    return make_error(Errc::invalid_argument, "SCRAM channel binding negotiation error: " + why);
  };
  std::size_t header = 0;
  if (message.size() >= 3 && (message[0] == 'n' || message[0] == 'y') && message[1] == ',' && message[2] == ',') {
    if (plus_) return negotiation("the client chose SCRAM-SHA-256-PLUS but sent no channel binding data");
    if (message[0] == 'y' && !binding_.empty())
      return negotiation("the client supports channel binding and thinks the server does not, but it does");
    header = 3;
  } else if (message.rfind("p=", 0) == 0) {
    const auto comma = message.find(',');
    if (comma == std::string_view::npos || comma + 1 >= message.size() || message[comma + 1] != ',')
      return malformed("client-first-message");
    if (binding_.empty()) return negotiation("the client requires channel binding, which needs TLS");
    if (!plus_) return negotiation("the client chose SCRAM-SHA-256 but sent channel binding data");
    if (const auto type = message.substr(2, comma - 2); type != "tls-server-end-point")
      return negotiation("unsupported channel binding type " + std::string(type));
    header = comma + 2;
  } else {
    return malformed("client-first-message");
  }
  gs2_header_ = std::string(message.substr(0, header));
  client_first_bare_ = std::string(message.substr(header));
  auto parts = split(client_first_bare_, ',');
  if (parts.size() < 2 || !attribute(parts[0], 'n')) return malformed("client-first-message");
  auto client_nonce = attribute(parts[1], 'r');
  if (!client_nonce || !printable_nonce(*client_nonce)) return malformed("client-first-message");
  nonce_ = std::string(*client_nonce) + server_nonce_;
  server_first_ = "r=" + nonce_ + ",s=" + base64_encode(secret_.salt) + ",i=" + std::to_string(secret_.iterations);
  return server_first_;
}

Result<std::string> ScramExchange::client_final(std::string_view message) {
  if (server_first_.empty()) return malformed("exchange (client-final before client-first)");
  auto proof_at = message.rfind(",p=");
  if (proof_at == std::string_view::npos) return malformed("client-final-message");
  auto without_proof = message.substr(0, proof_at);
  auto parts = split(without_proof, ',');
  if (parts.size() < 2) return malformed("client-final-message");
  auto binding = attribute(parts[0], 'c');
  auto nonce = attribute(parts[1], 'r');
  if (!binding || !nonce) return malformed("client-final-message");
  const std::string expected = gs2_header_[0] == 'p' ? gs2_header_ + binding_ : gs2_header_;
  if (*binding != base64_encode(expected)) return malformed("channel binding");
  if (*nonce != nonce_) return malformed("nonce");
  auto proof = base64_decode(message.substr(proof_at + 3));
  if (!proof || proof->size() != secret_.stored_key.size()) return malformed("proof");

  std::string auth_message = client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  auto proves = [&](const ScramSecret& s) {
    std::string signature = hmac(s.stored_key, auth_message);
    std::string client_key(signature.size(), '\0');
    for (std::size_t i = 0; i < signature.size(); ++i) client_key[i] = static_cast<char>((*proof)[i] ^ signature[i]);
    std::string computed = sha256(client_key);
    return CRYPTO_memcmp(computed.data(), s.stored_key.data(), computed.size()) == 0;
  };
  // Both are checked whatever the first gives: the time taken tells nothing.
  const bool first = proves(secret_);
  const bool second = other_ && proves(*other_);
  if (!first && !second) return make_error(Errc::unauthorized, "password authentication failed");
  return "v=" + base64_encode(hmac(first ? secret_.server_key : other_->server_key, auth_message));
}

}  // namespace etl::pgwire
