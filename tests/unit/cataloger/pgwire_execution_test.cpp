// Execution::run over the fixture's real engine stack: which SQL reaches the engine.
#include <gtest/gtest.h>

#include <optional>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include "cataloger_fixtures.h"
#include "pgwire/commands.h"
#include "pgwire/execution.h"
#include "pgwire/sql_text.h"

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

// PostgreSQL's answers for its array literals in ANY and ALL (an untyped one takes the other
// side's type), in casts and with the array operators, through DuckDB.
TEST(PgExecution, ArrayLiteralsInAnyAndAllAnswerAsInPostgres) {
  cataloger::testing::Stack stack;
  SessionInfo session;
  default_settings(session);
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"SELECT 2 = ANY('{1, 2}')", "t"},
      {"SELECT x = ANY('{1,2}') FROM (VALUES (3::bigint)) t(x)", "f"},
      {"SELECT 'b' = SOME('{a, b}')", "t"},
      {"SELECT 'a b' = ANY('{a b,c}')", "t"},
      {"SELECT DATE '2026-01-02' = ANY('{2026-01-02, 2026-01-03}')", "t"},
      {"SELECT 1.5::double = ANY('{1.5}')", "t"},
      {"SELECT 3 = ANY('{1,NULL}')", std::nullopt},
      {"SELECT 3 <> ALL('{1,2}')", "t"},
      {"SELECT 2 != ALL('{1,2}')", "f"},
      {"SELECT 3 <> ALL('{1,NULL}')", std::nullopt},
      {"SELECT 1 = ANY('{}')", "f"},
      {"SELECT 1 <> ALL('{}')", "t"},
      {"SELECT 2 = ANY('{1,2}'::int[])", "t"},
      {"SELECT '{1, 2}'::int[]", "{1,2}"},
      {"SELECT array_length('{1,2,3}'::int[], 1)", "3"},
      {"SELECT CAST('{a,\"b c\"}' AS text[])", "{a,\"b c\"}"},
      {"SELECT x @> '{a}' FROM (VALUES (['a', 'b'])) t(x)", "t"},
      {"SELECT '{c}' <@ x FROM (VALUES (['a', 'b'])) t(x)", "f"},
      {"SELECT x && '{b,z}' FROM (VALUES (['a', 'b'])) t(x)", "t"},
  };
  RecordingEngine duckdb(*stack.queries, "duckdb");
  ExecContext ctx = context(duckdb, *stack.catalog, session);
  for (const auto& [sql, want] : cases) {
    auto ran = Execution::run(ctx, sql);
    ASSERT_FALSE(ran.error()) << sql << ": " << ran.error()->message;
    auto rows = ran.take_rows(ctx, -1);
    ASSERT_TRUE(rows.ok()) << sql;
    ASSERT_EQ(rows->rows.size(), 1u) << sql;
    EXPECT_EQ(rows->rows[0].at(0), want) << sql << " ran as " << duckdb.started.back();
  }
  // As in PostgreSQL, an item that is not of the other side's type is an error (22P02).
  auto bad = Execution::run(ctx, "SELECT 1 = ANY('{x}')");
  ASSERT_TRUE(bad.error());
  EXPECT_EQ(bad.error()->sqlstate, "22P02") << bad.error()->message;
}

// date_trunc() gives what PostgreSQL's gives: a timestamp of a timestamp (DuckDB: a DATE for a
// day or longer), a timestamptz of one, an interval of one; of a date, a timestamp (PostgreSQL:
// timestamptz, the same instant in UTC).
TEST(PgExecution, DateTruncKeepsTimestampsAsInPostgres) {
  cataloger::testing::Stack stack;
  SessionInfo session;
  default_settings(session);
  RecordingEngine duckdb(*stack.queries, "duckdb");
  ExecContext ctx = context(duckdb, *stack.catalog, session);
  const std::vector<std::tuple<std::string, std::string, std::int32_t>> cases = {
      {"SELECT date_trunc('week', TIMESTAMP '2026-03-15 10:00')", "2026-03-09 00:00:00", oid::timestamp},
      {"SELECT date_trunc('month', DATE '2026-01-15')", "2026-01-01 00:00:00", oid::timestamp},
      {"SELECT date_trunc('hour', TIMESTAMP '2026-03-15 10:45')", "2026-03-15 10:00:00", oid::timestamp},
      {"SELECT date_trunc('day', TIMESTAMPTZ '2026-03-15 10:45:00+00')", "2026-03-15 00:00:00+00", oid::timestamptz},
      {"SELECT date_trunc('hour', INTERVAL '90 minutes')", "01:00:00", oid::interval},
      {"SELECT date_trunc('year', date_trunc('month', DATE '2026-05-15'))", "2026-01-01 00:00:00", oid::timestamp},
      {"SELECT count(*) FROM (VALUES (DATE '2026-01-15')) t(d) WHERE date_trunc('month', d) = '2026-01-01'", "1",
       oid::int8},
  };
  for (const auto& [sql, want, type] : cases) {
    auto ran = Execution::run(ctx, sql);
    ASSERT_FALSE(ran.error()) << sql << ": " << ran.error()->message;
    auto rows = ran.take_rows(ctx, -1);
    ASSERT_TRUE(rows.ok()) << sql;
    EXPECT_EQ(rows->rows.at(0).at(0), want) << sql << " ran as " << duckdb.started.back();
    EXPECT_EQ(rows->columns.at(0).type_oid, type) << sql;
  }
  EXPECT_EQ(date_trunc_as_timestamps("SELECT x.date_trunc(1), 'date_trunc(a)', date_trunc"),
            "SELECT x.date_trunc(1), 'date_trunc(a)', date_trunc")
      << "another schema's function, a string, no call";
}

// Expressions over session functions, evaluated by DuckDB over the session's values.
TEST(PgExecution, SessionFunctionsInExpressionsAnswerAsInPostgres) {
  cataloger::testing::Stack stack;
  SessionInfo session;
  default_settings(session);
  session.database = "spotify";
  RecordingEngine duckdb(*stack.queries, "duckdb");
  ExecContext ctx = context(duckdb, *stack.catalog, session);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT current_setting('server_version_num')::int/100 as version", "1500"},  // Grafana's version probe
      {"SELECT version() LIKE 'PostgreSQL%'", "t"},
      {"SELECT current_database() = 'spotify'", "t"},
  };
  for (const auto& [sql, want] : cases) {
    auto ran = Execution::run(ctx, sql);
    ASSERT_FALSE(ran.error()) << sql << ": " << ran.error()->message;
    auto rows = ran.take_rows(ctx, -1);
    ASSERT_TRUE(rows.ok()) << sql;
    EXPECT_EQ(rows->rows.at(0).at(0), want) << sql << " ran as " << duckdb.started.back();
  }
  auto unknown = Execution::run(ctx, "SELECT current_setting('no_such') || 'x'");
  ASSERT_TRUE(unknown.error());
  EXPECT_EQ(unknown.error()->sqlstate, "42704");
}

}  // namespace
}  // namespace etl::pgwire
