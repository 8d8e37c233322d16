#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "test_support.h"
#include "tls_test_pair.h"

#include "pgwire/scram.h"

namespace etl::pgwire {
namespace {

// RFC 7677 section 3: user "user", password "pencil".
constexpr const char* kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramSecret rfc_secret(const char* password) {
  return make_scram_secret(password, *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
}

TEST(PgScram, Rfc7677TestVectorAuthenticates) {
  auto secret = rfc_secret("pencil");
  ScramExchange exchange(secret, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  auto first = exchange.client_first(kClientFirst);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, kServerFirst);
  auto final_msg = exchange.client_final(kClientFinal);
  ASSERT_TRUE(final_msg.ok()) << final_msg.error().message;
  EXPECT_EQ(*final_msg, kServerFinal);
}

TEST(PgScram, WrongPasswordIsUnauthorized) {
  auto secret = rfc_secret("not-pencil");
  ScramExchange exchange(secret, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  ASSERT_TRUE(exchange.client_first(kClientFirst).ok());
  auto final_msg = exchange.client_final(kClientFinal);
  ASSERT_FALSE(final_msg.ok());
  EXPECT_EQ(final_msg.error().code, Errc::unauthorized);
}

// The read-only token is a second password with the same salt: either proves,
// and the server's signature is the one of the password the client used.
TEST(PgScram, ASecondPasswordWithTheSameSaltAuthenticatesToo) {
  const auto pencil = rfc_secret("pencil"), other = rfc_secret("crayon");
  for (const bool pencil_first : {true, false}) {
    ScramExchange exchange(pencil_first ? pencil : other, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", {}, false,
                           pencil_first ? &other : &pencil);
    ASSERT_TRUE(exchange.client_first(kClientFirst).ok());
    auto final_msg = exchange.client_final(kClientFinal);
    ASSERT_TRUE(final_msg.ok()) << final_msg.error().message;
    EXPECT_EQ(*final_msg, kServerFinal) << (pencil_first ? "first" : "second");
  }
  const auto wrong = rfc_secret("not-pencil");
  ScramExchange neither(other, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0", {}, false, &wrong);
  ASSERT_TRUE(neither.client_first(kClientFirst).ok());
  auto refused = neither.client_final(kClientFinal);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::unauthorized);
}

TEST(PgScram, MalformedMessagesAreRefusedNotCrashed) {
  auto secret = rfc_secret("pencil");
  for (const char* bad : {"", "x", "n,,", "n,,r=abc", "p=tls-server-end-point,,n=,r=abc", "n,,n=user,r=",
                          "n,,n=user"}) {
    ScramExchange exchange(secret, "srv");
    EXPECT_FALSE(exchange.client_first(bad).ok()) << bad;
  }
  ScramExchange exchange(secret, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  EXPECT_FALSE(exchange.client_final(kClientFinal).ok()) << "client-final before client-first";
  ASSERT_TRUE(exchange.client_first(kClientFirst).ok());
  EXPECT_FALSE(exchange.client_final("c=biws,r=other,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=").ok());
  EXPECT_FALSE(exchange.client_final("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=!!").ok());
  EXPECT_FALSE(exchange.client_final("garbage").ok());
}

// A SCRAM client's side, as libpq computes it (RFC 5802 3): the client-final message
// for `gs2_header` (with `binding` appended for "p=") answering `server_first`.
std::string client_final_for(const std::string& password, const std::string& gs2_header, const std::string& binding,
                             const std::string& client_first_bare, const std::string& server_first) {
  auto hmac = [](const std::string& key, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out, &n);
    return std::string(reinterpret_cast<char*>(out), n);
  };
  std::string nonce, salt;
  int iterations = 0;
  for (std::size_t at = 0; at < server_first.size();) {
    auto end = server_first.find(',', at);
    std::string part = server_first.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (part.rfind("r=", 0) == 0) nonce = part.substr(2);
    if (part.rfind("s=", 0) == 0) salt = base64_decode(part.substr(2)).value_or("");
    if (part.rfind("i=", 0) == 0) iterations = std::stoi(part.substr(2));
    at = end == std::string::npos ? server_first.size() : end + 1;
  }
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof salted, salted);
  const std::string client_key = hmac(std::string(reinterpret_cast<char*>(salted), sizeof salted), "Client Key");
  unsigned char stored[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(client_key.data()), client_key.size(), stored);
  const std::string without_proof = "c=" + base64_encode(gs2_header + binding) + ",r=" + nonce;
  const std::string signature = hmac(std::string(reinterpret_cast<char*>(stored), sizeof stored),
                                     client_first_bare + "," + server_first + "," + without_proof);
  std::string proof(client_key.size(), '\0');
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  return without_proof + ",p=" + base64_encode(proof);
}

// SCRAM-SHA-256-PLUS: the proof holds only with the binding data the server saw,
// and the header must agree with the mechanism and with what the server offers.
TEST(PgScram, ChannelBindingAuthenticatesOnlyWithTheServersCertificateHash) {
  auto secret = rfc_secret("pencil");
  const std::string cert_hash(32, '\x5a'), header = "p=tls-server-end-point,,", bare = "n=,r=clientnonce";
  {
    ScramExchange exchange(secret, "srv", cert_hash, true);
    auto first = exchange.client_first(header + bare);
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto final_msg = exchange.client_final(client_final_for("pencil", header, cert_hash, bare, *first));
    ASSERT_TRUE(final_msg.ok()) << final_msg.error().message;
    EXPECT_EQ(final_msg->rfind("v=", 0), 0u);
  }
  {  // a man in the middle: the client's TLS saw another certificate
    ScramExchange exchange(secret, "srv", cert_hash, true);
    auto first = exchange.client_first(header + bare);
    ASSERT_TRUE(first.ok());
    auto final_msg = exchange.client_final(client_final_for("pencil", header, std::string(32, '\x11'), bare, *first));
    ASSERT_FALSE(final_msg.ok());
    EXPECT_NE(final_msg.error().message.find("channel binding"), std::string::npos) << final_msg.error().message;
  }
  {  // without binding, over TLS: SCRAM-SHA-256 with "n,," still authenticates
    ScramExchange exchange(secret, "srv", cert_hash, false);
    auto first = exchange.client_first("n,," + bare);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_TRUE(exchange.client_final(client_final_for("pencil", "n,,", "", bare, *first)).ok());
  }
  const struct {
    std::string binding;
    bool plus;
    std::string client_first;
  } refused[] = {
      {cert_hash, false, "y,," + bare},                         // a downgrade: the server can bind
      {cert_hash, true, "n,," + bare},                          // PLUS chosen, no binding sent
      {cert_hash, false, header + bare},                        // binding sent under plain SCRAM-SHA-256
      {"", false, header + bare},                               // binding without TLS
      {cert_hash, true, "p=tls-unique,," + bare},               // a type this server does not offer
      {cert_hash, true, "p=tls-server-end-point,a=x," + bare},  // an authzid
      {cert_hash, true, "p=tls-server-end-point"},
  };
  for (const auto& c : refused) {
    ScramExchange exchange(secret, "srv", c.binding, c.plus);
    EXPECT_FALSE(exchange.client_first(c.client_first).ok()) << c.client_first << " plus=" << c.plus;
  }
  ScramExchange without_tls(secret, "srv");
  EXPECT_TRUE(without_tls.client_first("y,," + bare).ok()) << "y,, where the server cannot bind";
}

// RFC 5929 4.1: the certificate's DER under its signature's hash (SHA-256 here).
TEST(PgScram, TlsServerEndPointIsTheCertificatesSha256ForAnEcdsaSha256Certificate) {
  etl::testing::TempDir dir;
  auto pair = etl::testing::write_tls_pair(dir.path(), "server");
  std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(pair.cert.c_str(), "r"), &std::fclose);
  ASSERT_TRUE(file);
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
  ASSERT_TRUE(cert);
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert.get(), &der);
  ASSERT_GT(length, 0);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(der, static_cast<std::size_t>(length), digest);
  OPENSSL_free(der);
  EXPECT_EQ(tls_server_end_point_hash(cert.get()), std::string(reinterpret_cast<char*>(digest), sizeof digest));
  EXPECT_EQ(tls_server_end_point_hash(nullptr), "");
}

// RFC 5929 4.1's hash choice: the signature's own hash, SHA-256 in place of MD5 and
// SHA-1, and none (so no channel binding is offered) for a signature without one.
TEST(PgScram, TlsServerEndPointHashFollowsTheSignaturesHash) {
  auto self_signed = [](EVP_PKEY* key, const EVP_MD* md) {
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("hash-test"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
    X509_set_pubkey(cert.get(), key);
    EXPECT_GT(X509_sign(cert.get(), key, md), 0);
    return cert;
  };
  auto digest_of = [](X509* cert, const EVP_MD* md) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    X509_digest(cert, md, out, &length);
    return std::string(reinterpret_cast<char*>(out), length);
  };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ec(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  ASSERT_TRUE(ec);
  auto sha384 = self_signed(ec.get(), EVP_sha384());
  EXPECT_EQ(tls_server_end_point_hash(sha384.get()), digest_of(sha384.get(), EVP_sha384()));
  EXPECT_EQ(tls_server_end_point_hash(sha384.get()).size(), 48u);
  auto sha1 = self_signed(ec.get(), EVP_sha1());
  EXPECT_EQ(tls_server_end_point_hash(sha1.get()), digest_of(sha1.get(), EVP_sha256())) << "SHA-1 is replaced by SHA-256";
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
  ASSERT_TRUE(ed);
  auto eddsa = self_signed(ed.get(), nullptr);
  EXPECT_EQ(tls_server_end_point_hash(eddsa.get()), "") << "Ed25519 names no hash: no channel binding";
}

TEST(PgScram, Base64RoundTripsAndRejectsJunk) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(base64_decode(base64_encode(s)).value_or("<bad>"), s);
  EXPECT_EQ(base64_encode("pencil"), "cGVuY2ls");
  EXPECT_FALSE(base64_decode("abc").has_value());
  EXPECT_FALSE(base64_decode("ab=c").has_value());
  EXPECT_FALSE(base64_decode("a*cd").has_value());
}

}  // namespace
}  // namespace etl::pgwire
