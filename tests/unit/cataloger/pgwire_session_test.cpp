// One pgwire Session over a socketpair, over the real catalog and DuckDB engine
// stack: what a client that stalls is told, and when.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "cataloger_fixtures.h"
#include "pgwire/session.h"

namespace etl::pgwire {
namespace {

std::string be32(std::int32_t v) {
  std::string out;
  for (int i = 3; i >= 0; --i) out += static_cast<char>((static_cast<std::uint32_t>(v) >> (8 * i)) & 0xff);
  return out;
}

std::string startup_packet(std::int32_t version = 196608, const std::string& more_params = "") {
  std::string body = be32(version) + std::string("user\0bi\0database\0spotify\0", 25) + more_params + std::string(1, '\0');
  return be32(static_cast<std::int32_t>(body.size() + 4)) + body;
}

// A session on its own thread (trust authentication: no token), the test as its client.
class ServedSession {
 public:
  explicit ServedSession(SessionLimits limits) : shared_{.engine = *stack_.queries, .catalog = *stack_.catalog, .limits = limits} {
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

std::string be16(std::int16_t v) {
  return std::string{static_cast<char>((static_cast<std::uint16_t>(v) >> 8) & 0xff), static_cast<char>(v & 0xff)};
}
std::string message(char type, const std::string& body) {
  return std::string(1, type) + be32(static_cast<std::int32_t>(body.size() + 4)) + body;
}
std::string query(const std::string& sql) { return message('Q', sql + std::string(1, '\0')); }
// Parse of `sql` as statement `name`, declaring the parameters' type oids.
std::string parse(const std::string& name, const std::string& sql, const std::vector<std::int32_t>& param_types = {}) {
  std::string body = name + std::string(1, '\0') + sql + std::string(1, '\0') + be16(static_cast<std::int16_t>(param_types.size()));
  for (auto oid : param_types) body += be32(oid);
  return message('P', body);
}
// Bind of the unnamed portal to `statement` with text parameters, then Execute and Sync.
std::string bind_execute_sync(const std::string& statement, const std::vector<std::string>& params) {
  std::string body = std::string(1, '\0') + statement + std::string(1, '\0') + be16(0) + be16(static_cast<std::int16_t>(params.size()));
  for (const auto& p : params) body += be32(static_cast<std::int32_t>(p.size())) + p;
  body += be16(0);
  return message('B', body) + message('E', std::string(1, '\0') + be32(0)) + message('S', "");
}
std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

SessionLimits short_timeouts() {
  SessionLimits limits;
  limits.read_timeout = std::chrono::seconds(1);
  limits.idle_timeout = std::chrono::seconds(1);
  return limits;
}

// NegotiateProtocolVersion ('v'), first and as PostgreSQL sends it: for a newer
// minor version or unknown _pq_ options, naming the whole version the connection
// speaks (3.0; libpq 18 takes a bare 0 for pre-3.0 and fails) and those options.
TEST(PgSession, ANewerMinorVersionOrUnknownOptionIsNegotiatedTo30) {
  const std::string v30 = be32(196608);
  const struct {
    std::int32_t version;
    std::string params;
    std::string negotiation;  // "" when none is due
  } cases[] = {
      {196610, "", message('v', v30 + be32(0))},                                             // 3.2, libpq 18's latest
      {196608, std::string("_pq_.x\0y\0", 9), message('v', v30 + be32(1) + "_pq_.x" + '\0')},  // an option at 3.0
      {196610, std::string("_pq_.a\0b\0", 9), message('v', v30 + be32(1) + "_pq_.a" + '\0')},
      {196608, "", ""},
  };
  for (const auto& c : cases) {
    ServedSession session(short_timeouts());
    session.send(startup_packet(c.version, c.params));
    session.close_write();
    const std::string got = session.read_until_closed(5);
    const std::string want = c.negotiation + message('R', be32(0));  // then AuthenticationOk
    EXPECT_EQ(got.substr(0, want.size()), want) << "version " << c.version;
  }
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

// A parameter referenced many times is copied each time it is bound: the bound
// statement may be no longer than a message, so a 1 KB Bind cannot build megabytes.
TEST(PgSession, BindingIsBoundedWhateverTheReferencesMultiply) {
  SessionLimits limits = short_timeouts();
  limits.max_message_bytes = 64u << 10;
  ServedSession s(limits);
  s.send(startup_packet());
  std::string sql = "SELECT length($1)";
  for (int i = 0; i < 1000; ++i) sql += " + length($1)";
  s.send(parse("amplified", sql) + bind_execute_sync("amplified", {std::string(1024, 'x')}));
  s.send(parse("", "SELECT length($1)") + bind_execute_sync("", {std::string(1024, 'x')}));
  std::string answer = s.read_until_closed(10);
  EXPECT_EQ(count_of(answer, "C54000"), 1u) << "the 1 MB statement is refused at Bind";
  EXPECT_NE(answer.find("parameters bound is longer than 65536 bytes"), std::string::npos);
  EXPECT_NE(answer.find(std::string("\0\0\0\x04" "1024", 8)), std::string::npos) << "the next statement runs";
}

// A number parameter past the range of its declared type is 22003 at Bind, as
// in PostgreSQL (not a wider number bound as is, nor 1e999 handed to the engine);
// the session goes on.
TEST(PgSession, AParameterOutOfItsTypesRangeIs22003AtBind) {
  ServedSession s(short_timeouts());
  s.send(startup_packet());
  s.send(parse("", "SELECT $1", {23}) + bind_execute_sync("", {"99999999999"}));
  s.send(parse("", "SELECT $1", {21}) + bind_execute_sync("", {"40000"}));
  s.send(parse("", "SELECT $1", {20}) + bind_execute_sync("", {"99999999999999999999"}));
  s.send(parse("", "SELECT $1", {701}) + bind_execute_sync("", {"1e999"}));
  s.send(parse("", "SELECT $1", {23}) + bind_execute_sync("", {"2147483647"}));
  std::string answer = s.read_until_closed(10);
  EXPECT_EQ(count_of(answer, "C22003"), 4u) << "int4, int2, int8 and float8 out of range";
  EXPECT_NE(answer.find("value \"99999999999\" is out of range for type integer"), std::string::npos);
  EXPECT_NE(answer.find("\"1e999\" is out of range for type double precision"), std::string::npos);
  EXPECT_NE(answer.find(be32(10) + "2147483647"), std::string::npos) << "the in-range one runs";
}

// Prepared statements' text and the pages open cursors keep count toward one bound
// per connection: past it, 53400, and the connection goes on.
TEST(PgSession, StatementsAndCursorsHoldAtMostTheConnectionsBound) {
  SessionLimits limits = short_timeouts();
  limits.max_held_bytes = 256u << 10;
  ServedSession s(limits);
  s.send(startup_packet());
  const std::string padding = " /*" + std::string(60 << 10, 'p') + "*/";
  for (int i = 1; i <= 5; ++i) s.send(parse("s" + std::to_string(i), "SELECT " + std::to_string(i) + padding));
  s.send(message('S', ""));
  s.send(query("BEGIN"));
  s.send(query("DECLARE c1 CURSOR FOR SELECT repeat('x', 200) FROM range(1000)"));
  s.send(query("DECLARE c2 CURSOR FOR SELECT repeat('y', 200) FROM range(1000)"));
  s.send(query("ROLLBACK"));
  s.send(query("BEGIN"));
  s.send(query("DECLARE c3 CURSOR FOR SELECT repeat('z', 200) FROM range(1000)"));
  s.send(query("FETCH 2 FROM c3"));
  std::string answer = s.read_until_closed(20);
  EXPECT_EQ(count_of(answer, "C53400"), 2u) << "the fifth 60 KB statement and the second 200 KB cursor";
  EXPECT_NE(answer.find("would hold more than 256 KiB"), std::string::npos);
  EXPECT_EQ(count_of(answer, std::string("DECLARE CURSOR\0", 15)), 2u) << "c1, and c3 once c1 closed with its transaction";
  EXPECT_NE(answer.find(std::string("FETCH 2\0", 8)), std::string::npos);
}

// COPY ... TO STDOUT in a simple query among other statements: CopyOutResponse,
// one CopyData per line, CopyDone, "COPY n", and the next statement runs; a refused
// COPY in a transaction block fails the block as any error does.
TEST(PgSession, CopyToStdoutStreamsItsLinesAndTheQueryGoesOn) {
  ServedSession s(short_timeouts());
  s.send(startup_packet());
  s.send(query("COPY (SELECT x AS n, 'a,b' AS s FROM range(3) t(x) ORDER BY x) TO STDOUT (FORMAT csv, HEADER); SELECT 7"));
  s.send(query("BEGIN; COPY songs_data FROM STDIN"));
  s.send(query("SELECT 8"));
  s.close_write();
  const std::string answer = s.read_until_closed(20);
  const std::string copy = message('H', std::string(1, '\0') + be16(2) + be16(0) + be16(0)) + message('d', "n,s\n") +
                           message('d', "0,\"a,b\"\n") + message('d', "1,\"a,b\"\n") + message('d', "2,\"a,b\"\n") +
                           message('c', "") + message('C', std::string("COPY 3\0", 7));
  EXPECT_NE(answer.find(copy), std::string::npos) << "the COPY's messages, in order";
  EXPECT_LT(answer.find(copy), answer.find(std::string("SELECT 1\0", 9))) << "then the SELECT 7 of the same query";
  EXPECT_NE(answer.find("C42501"), std::string::npos) << "COPY FROM refused";
  EXPECT_NE(answer.find("C25P02"), std::string::npos) << "the block failed: SELECT 8 is refused until ROLLBACK";
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
