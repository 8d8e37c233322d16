// The pgwire Transport over a socketpair: a TLS round trip with an OpenSSL client,
// and the bounds a hostile client meets (a stalled handshake, a stalled record).
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "pgwire/tls_context.h"
#include "pgwire/transport.h"
#include "test_support.h"
#include "tls_test_pair.h"

namespace etl::pgwire {
namespace {

using Clock = std::chrono::steady_clock;

struct SocketPair {
  int server = -1, client = -1;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) server = fds[0], client = fds[1];
  }
  ~SocketPair() {
    if (server >= 0) ::close(server);
    if (client >= 0) ::close(client);
  }
};

class PgTransport : public ::testing::Test {
 protected:
  void SetUp() override {
    pair_ = etl::testing::write_tls_pair(dir_.path(), "server");
    auto ctx = make_tls_context(pair_.cert, pair_.key);
    ASSERT_TRUE(ctx.ok()) << ctx.error().message;
    ctx_ = std::move(*ctx);
  }
  etl::testing::TempDir dir_;
  etl::testing::TlsPair pair_;
  TlsContext ctx_;
};

TEST_F(PgTransport, TlsRoundTripWithAnOpenSslClient) {
  SocketPair sp;
  ASSERT_GE(sp.server, 0);
  std::string client_got;
  std::thread client([&] {
    SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(cctx, pair_.cert.c_str(), nullptr);
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, nullptr);
    SSL* ssl = SSL_new(cctx);
    SSL_set_fd(ssl, sp.client);
    if (SSL_connect(ssl) == 1) {
      SSL_write(ssl, "hello server", 12);
      char buf[64];
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n > 0) client_got.assign(buf, static_cast<std::size_t>(n));
    }
    SSL_free(ssl);
    SSL_CTX_free(cctx);
  });
  Transport t(sp.server, std::chrono::seconds(5));
  auto deadline = Clock::now() + std::chrono::seconds(10);
  ASSERT_TRUE(t.start_tls(ctx_.get(), deadline).ok());
  EXPECT_TRUE(t.tls());
  char buf[12];
  ASSERT_TRUE(t.read_exact(buf, sizeof buf, deadline).ok());
  EXPECT_EQ(std::string(buf, sizeof buf), "hello server");
  ASSERT_TRUE(t.write_all("hello client").ok());
  client.join();
  EXPECT_EQ(client_got, "hello client");
  t.close_tls();
}

// What a connection starts with is seen, not taken: the byte is still there to read.
TEST_F(PgTransport, PeekByteLeavesTheByteAndWaitsAtMostUntilTheDeadline) {
  SocketPair sp;
  Transport t(sp.server, std::chrono::seconds(5));
  auto started = Clock::now();
  auto none = t.peek_byte(started + std::chrono::milliseconds(200));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::timeout);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
  ASSERT_EQ(::send(sp.client, "\x16x", 2, 0), 2);
  auto first = t.peek_byte(Clock::now() + std::chrono::seconds(1));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, 0x16);
  char buf[2];
  ASSERT_TRUE(t.read_exact(buf, 2, Clock::now() + std::chrono::seconds(1)).ok());
  EXPECT_EQ(std::string(buf, 2), "\x16x");
  ::close(sp.client);
  sp.client = -1;
  EXPECT_EQ(t.peek_byte(Clock::now() + std::chrono::seconds(1)).error().code, Errc::unavailable);
}

TEST_F(PgTransport, StalledHandshakeEndsAtTheDeadline) {
  SocketPair sp;
  Transport t(sp.server, std::chrono::seconds(5));
  auto started = Clock::now();
  auto s = t.start_tls(ctx_.get(), started + std::chrono::milliseconds(300));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::timeout) << s.error().message;
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
}

TEST_F(PgTransport, PartialClientHelloEndsAtTheDeadline) {
  SocketPair sp;
  const char partial[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";  // a record header and a few bytes
  ASSERT_EQ(::send(sp.client, partial, sizeof partial - 1, 0), static_cast<ssize_t>(sizeof partial - 1));
  Transport t(sp.server, std::chrono::seconds(5));
  auto started = Clock::now();
  auto s = t.start_tls(ctx_.get(), started + std::chrono::milliseconds(300));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::timeout) << s.error().message;
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
}

TEST_F(PgTransport, GarbageInsteadOfAClientHelloFailsAtOnce) {
  SocketPair sp;
  const std::string garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(sp.client, garbage.data(), garbage.size(), 0), static_cast<ssize_t>(garbage.size()));
  Transport t(sp.server, std::chrono::seconds(5));
  auto s = t.start_tls(ctx_.get(), Clock::now() + std::chrono::seconds(10));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::unavailable) << s.error().message;
}

TEST_F(PgTransport, PlainReadsWaitAtMostUntilTheDeadline) {
  SocketPair sp;
  Transport t(sp.server, std::chrono::seconds(5));
  ASSERT_EQ(::send(sp.client, "ab", 2, 0), 2);
  char buf[4];
  auto started = Clock::now();
  auto s = t.read_exact(buf, sizeof buf, started + std::chrono::milliseconds(200));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::timeout);
  EXPECT_FALSE(t.tls());
  ::close(sp.client);
  sp.client = -1;
  EXPECT_EQ(t.read_exact(buf, 1, Clock::now() + std::chrono::seconds(1)).error().code, Errc::unavailable);
}

}  // namespace
}  // namespace etl::pgwire
