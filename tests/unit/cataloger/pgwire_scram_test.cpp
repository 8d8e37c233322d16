#include <gtest/gtest.h>

#include <vector>

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
