// Execution::run over the fixture's real engine stack: which SQL reaches the engine.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cataloger_fixtures.h"
#include "pgwire/commands.h"
#include "pgwire/execution.h"

namespace etl::pgwire {
namespace {

// The fixture's engine under another name, recording the SQL each start() is given.
class RecordingEngine final : public QueryEngine {
 public:
  RecordingEngine(QueryEngine& real, std::string name) : real_(real), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  Result<QueryStatus> start(const QueryRequest& request) override {
    started.push_back(request.sql);
    return real_.start(request);
  }
  Result<QueryStatus> status(const std::string& id) override { return real_.status(id); }
  Result<QueryStatus> wait(const std::string& id, std::chrono::milliseconds max_wait) override {
    return real_.wait(id, max_wait);
  }
  Result<QueryPage> page(const std::string& id, const std::string& token) override { return real_.page(id, token); }
  Result<QueryStatus> cancel(const std::string& id) override { return real_.cancel(id); }
  Status ping() override { return real_.ping(); }

  std::vector<std::string> started;

 private:
  QueryEngine& real_;
  std::string name_;
};

ExecContext context(QueryEngine& engine, Catalog& catalog, SessionInfo& session) {
  return ExecContext{engine,
                     catalog,
                     session,
                     std::chrono::milliseconds(30000),
                     [](const std::string&) {},
                     [] { return false; },
                     [](const std::string&) { return std::optional<LocalOutcome>(); },
                     "127.0.0.1"};
}

// PostgreSQL's forms are translated into DuckDB's SQL for DuckDB only. Athena reads its own
// SQL (Trino's): to_char(ts, 'yyyy-mm') is a function of its own there, and strftime,
// regexp_matches or a [1, 2] list, which the translations write, are not.
TEST(PgExecution, PostgresFormsAreTranslatedForDuckDbAndReachAnotherEngineAsWritten) {
  cataloger::testing::Stack stack;
  SessionInfo session;
  default_settings(session);
  const std::vector<std::string> statements = {
      "SELECT to_char(DATE '2026-01-02', 'YYYY-MM')",
      "SELECT 'abc' ~ 'b'",
      "SELECT 'abc' SIMILAR TO 'a%'",
      "SELECT substring('a12' FROM '[0-9]+')",
      "SELECT format('%s!', 1)",
      "SELECT round(avg(x), 2) FROM (VALUES (1), (2)) t(x)",
      "SELECT 2 = ANY('{1,2}')",
      "SELECT 1::numeric",
  };
  for (const auto& sql : statements) {
    RecordingEngine duckdb(*stack.queries, "duckdb");
    ExecContext on_duckdb = context(duckdb, *stack.catalog, session);
    auto ran = Execution::run(on_duckdb, sql);
    EXPECT_FALSE(ran.error()) << sql << ": " << ran.error()->message;
    ASSERT_EQ(duckdb.started.size(), 1u) << sql;
    EXPECT_NE(duckdb.started[0], sql) << "translated for DuckDB";

    RecordingEngine athena(*stack.queries, "athena");
    ExecContext on_athena = context(athena, *stack.catalog, session);
    (void)Execution::run(on_athena, sql);  // DuckDB behind the name may refuse the PostgreSQL form
    ASSERT_EQ(athena.started.size(), 1u) << sql;
    EXPECT_EQ(athena.started[0], sql) << "as written";
  }

  // A statement the translations refuse is refused for DuckDB only.
  const std::string refused = "SELECT format('%I', 'x')";
  RecordingEngine duckdb(*stack.queries, "duckdb");
  ExecContext on_duckdb = context(duckdb, *stack.catalog, session);
  auto ran = Execution::run(on_duckdb, refused);
  ASSERT_TRUE(ran.error());
  EXPECT_EQ(ran.error()->sqlstate, "0A000");
  EXPECT_TRUE(duckdb.started.empty());
  RecordingEngine athena(*stack.queries, "athena");
  ExecContext on_athena = context(athena, *stack.catalog, session);
  (void)Execution::run(on_athena, refused);
  EXPECT_EQ(athena.started, std::vector<std::string>{refused});
}

}  // namespace
}  // namespace etl::pgwire
