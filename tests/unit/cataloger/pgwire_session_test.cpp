// One pgwire Session over a socketpair, over the real catalog and DuckDB engine
// stack: what a client that stalls is told, and when.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "cataloger_fixtures.h"
#include "pgwire/session.h"

namespace etl::pgwire {
namespace {

std::string be32(std::int32_t v) {
  std::string out;
  for (int i = 3; i >= 0; --i) out += static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * i)) & 0xff);
  return out;
}

std::string startup_packet() {
  std::string body = be32(196608) + std::string("user\0bi\0database\0spotify\0\0", 26);
  return be32(static_cast<std::int32_t>(body.size() + 4)) + body;
}

// A session on its own thread (trust authentication: no token), the test as its client.
class ServedSession {
 public:
  explicit ServedSession(SessionLimits limits) : shared_{*stack_.queries, *stack_.catalog, limits, std::nullopt, {}, nullptr, nullptr, nullptr, false, nullptr} {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    client_ = fds[1];
    thread_ = std::thread([this, fd = fds[0]] {
      Session(fd, shared_, 1, 2).run();
      ::close(fd);
    });
  }
  ~ServedSession() {
    ::shutdown(client_, SHUT_RDWR);
    thread_.join();
    ::close(client_);
  }
  void close_write() { ::shutdown(client_, SHUT_WR); }
  void send(const std::string& bytes) { ASSERT_EQ(::write(client_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  // Everything until the server closes the connection (at most `seconds`).
  std::string read_until_closed(int seconds) {
    timeval tv{seconds, 0};
    ::setsockopt(client_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::read(client_, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

 private:
  cataloger::testing::Stack stack_;
  SessionShared shared_;
  int client_ = -1;
  std::thread thread_;
};

SessionLimits short_timeouts() {
  SessionLimits limits;
  limits.read_timeout = std::chrono::seconds(1);
  limits.idle_timeout = std::chrono::seconds(1);
  return limits;
}

TEST(PgSession, AHalfSentMessageEndsWithTheReadTimeoutNotTheIdleOne) {
  ServedSession s(short_timeouts());
  s.send(startup_packet());
  s.send(std::string("Q") + be32(100) + "SELECT");  // 100 bytes announced, 6 sent
  std::string answer = s.read_until_closed(10);
  EXPECT_NE(answer.find("08006"), std::string::npos) << answer;
  EXPECT_NE(answer.find("read timeout"), std::string::npos) << answer;
  EXPECT_NE(answer.find("ETL_PG_READ_TIMEOUT_S"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("idle"), std::string::npos) << answer;
}

TEST(PgSession, ASilentSessionEndsWithTheIdleTimeout) {
  ServedSession s(short_timeouts());
  s.send(startup_packet());
  std::string answer = s.read_until_closed(10);
  EXPECT_NE(answer.find("57P05"), std::string::npos) << answer;
  EXPECT_NE(answer.find("idle timeout"), std::string::npos) << answer;
}

TEST(PgSession, ShowStatementTimeoutReportsTheConfiguredCeiling) {
  SessionLimits limits = short_timeouts();
  limits.statement_timeout = std::chrono::milliseconds(45000);
  ServedSession s(limits);
  s.send(startup_packet());
  s.send(std::string("Q") + be32(4 + 23) + std::string("SHOW statement_timeout\0", 23));
  std::string answer = s.read_until_closed(10);
  EXPECT_NE(answer.find(be32(4 + 2 + 4 + 3) + std::string("\0\1", 2) + be32(3) + "45s"), std::string::npos)
      << "a DataRow with 45s";
}

// Long statements of the kinds answered locally (SET, catalog queries) are not
// read by the regex-based local code, whose matcher recurses per character and
// overflowed the stack at a few tens of KB (the cataloger died): they get an
// error from the engine's gate, and the session goes on.
TEST(PgSession, LongSessionCommandsAndCatalogQueriesAreRefusedNotACrash) {
  SessionLimits limits = short_timeouts();
  limits.max_message_bytes = 1u << 20;
  ServedSession s(limits);
  s.send(startup_packet());
  auto query = [](const std::string& sql) {
    return std::string("Q") + be32(static_cast<std::int32_t>(4 + sql.size() + 1)) + sql + std::string(1, '\0');
  };
  s.send(query("SET application_name = '" + std::string(200000, 'a') + "'"));
  s.send(query("SELECT relname FROM pg_catalog.pg_class WHERE relname = '" + std::string(200000, 'b') + "' IS NULL"));
  s.send(query("SHOW statement_timeout"));
  std::string answer = s.read_until_closed(10);
  std::size_t refusals = 0;
  for (auto at = answer.find("C42501"); at != std::string::npos; at = answer.find("C42501", at + 1)) ++refusals;
  EXPECT_EQ(refusals, 2u) << "two ErrorResponses with SQLSTATE 42501 (refused by the gate)";
  EXPECT_NE(answer.find("30s"), std::string::npos) << "the session still answers";
}

// A client that goes away while its query runs (its FIN arrives) has the query
// cancelled: the engine's worker is free at once, not at the statement timeout.
TEST(PgSession, AQueryWhoseClientLeftIsCancelled) {
  SessionLimits limits = short_timeouts();
  limits.statement_timeout = std::chrono::milliseconds(120000);
  const auto started = std::chrono::steady_clock::now();
  std::string answer;
  {
    ServedSession s(limits);
    s.send(startup_packet());
    const std::string sql = "SELECT count(*) FROM range(10000000000000)";
    s.send(std::string("Q") + be32(static_cast<std::int32_t>(4 + sql.size() + 1)) + sql + std::string(1, '\0'));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    s.close_write();
    answer = s.read_until_closed(60);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20)) << "not at the 120 s statement timeout";
  EXPECT_NE(answer.find("C57014"), std::string::npos) << "query_canceled, for whoever still reads";
  EXPECT_NE(answer.find("the client closed the connection"), std::string::npos);
}

}  // namespace
}  // namespace etl::pgwire
