// Execution::run over the fixture's real engine stack: which SQL reaches the engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <tuple>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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
  EXPECT_EQ(postgres_functions_as_duckdb("SELECT x.date_trunc(1), 'date_trunc(a)', date_trunc"),
            "SELECT x.date_trunc(1), 'date_trunc(a)', date_trunc")
      << "another schema's function, a string, no call";
}

// PostgreSQL's functions the engine has under another name or form, run through DuckDB
// against PostgreSQL 15's answers (its JSON text has spaces after ':' and ','; the values
// are compared).
TEST(PgExecution, PostgresFunctionsOfOtherNamesAnswerAsInPostgres) {
  cataloger::testing::Stack stack;
  SessionInfo session;
  default_settings(session);
  RecordingEngine duckdb(*stack.queries, "duckdb");
  ExecContext ctx = context(duckdb, *stack.catalog, session);
  const std::string one_two_three = "(VALUES (1), (3), (2)) t(i)";
  const std::vector<std::tuple<std::string, std::string, std::int32_t>> cases = {
      {"SELECT every(i > 0) FROM (VALUES (1), (2), (0)) t(i)", "f", oid::boolean},
      {"SELECT every(i > 0) FILTER (WHERE i > 0) FROM (VALUES (1), (2), (0)) t(i)", "t", oid::boolean},
      {"SELECT date_bin('15 minutes', TIMESTAMP '2024-01-01 10:17:00', TIMESTAMP '2000-01-01')",
       "2024-01-01 10:15:00", oid::timestamp},
      {"SELECT date_bin('15 minutes', TIMESTAMP '2024-01-01 10:17:00', '2000-01-01 00:05:00')", "2024-01-01 10:05:00",
       oid::timestamp},
      {"SELECT pg_catalog.date_bin(INTERVAL '1 hour', TIMESTAMP '1999-12-31 23:59:00', TIMESTAMP '2000-01-01 00:30:00')",
       "1999-12-31 23:30:00", oid::timestamp},
      {"SELECT regexp_like('Spotify', 'pot')", "t", oid::boolean},
      {"SELECT regexp_like('Spotify', 'POT')", "f", oid::boolean},
      {"SELECT regexp_like('Spotify', 'POT', 'i')", "t", oid::boolean},
      {"SELECT regexp_count('a1b22c333', '[0-9]+')", "3", oid::int4},
      {"SELECT regexp_count('abc', 'x')", "0", oid::int4},
      {"SELECT json_build_object('a', 1, 'b', 'x')", R"({"a" : 1, "b" : "x"})", oid::json},
      {"SELECT jsonb_build_object('n', 2)", R"({"n": 2})", oid::json},
      {"SELECT json_agg(i ORDER BY i DESC) FROM " + one_two_three, "[3, 2, 1]", oid::json},
      {"SELECT json_agg(i) FILTER (WHERE i > 1) FROM (SELECT * FROM " + one_two_three + " ORDER BY i DESC) s",
       "[3, 2]", oid::json},
      {"SELECT json_agg(i) OVER (ORDER BY i) FROM (VALUES (1), (2)) t(i) ORDER BY i DESC", "[1, 2]", oid::json},
      {"SELECT jsonb_agg(s) FROM (VALUES ('a'), (NULL)) t(s)", R"(["a", null])", oid::json},
      {"SELECT div(7, 2) || ' ' || div(-7, 2) || ' ' || div(9, 3)", "3 -3 3", oid::text},
      {"SELECT lpad('ab', 5) || '|' || rpad('ab', 5) || '|' || lpad('abcdef', 3) || '|' || lpad('ab', 5, 'x')",
       "   ab|ab   |abc|xxxab", oid::text},
      {"SELECT lpad('x', 3, regexp_count('a1', '[0-9]')::text)", "11x", oid::text},
      {"SELECT json_object_agg(k, v) FROM (VALUES ('a', 1), ('b', 2)) t(k, v)", R"({ "a" : 1, "b" : 2 })", oid::json},
      {"SELECT json_build_array(1, 'a', NULL)", R"([1, "a", null])", oid::json},
      {"SELECT jsonb_build_array(2)", "[2]", oid::json},
      {"SELECT array_to_json(ARRAY[1, 2])", "[1,2]", oid::json},
      {"SELECT to_jsonb('x'::text)", R"("x")", oid::json},
      {"SELECT initcap('hello wORLD-foo_bar 3d élan')", "Hello World-Foo_Bar 3d Élan", oid::text},
      {"SELECT initcap('') || '|' || (initcap(NULL) IS NULL)", "|true", oid::text},
      {"SELECT array_remove(ARRAY[1, 2, NULL, 2], 2)", "{1,NULL}", oid::int4_array},
      {"SELECT array_remove(ARRAY['a', NULL], NULL)", "{a}", oid::text_array},
      {"SELECT array_remove(ARRAY[1, 2, 3], x) FROM (VALUES (3)) t(x)", "{1,2}", oid::int4_array},
      {"SELECT cardinality(ARRAY['a', 'b']) || ' ' || cardinality(CAST('{}' AS INTEGER[]))", "2 0", oid::text},
      {"SELECT string_agg(part, '/') FROM (SELECT string_to_table('a,b,,c', ',') AS part) s", "a/b//c", oid::text},
      {"SELECT count(*) FROM string_to_table('a,b,,c', ',') AS t(part)", "4", oid::int8},
      {"SELECT width_bucket(5.35, 0.024, 10.06, 5) || ' ' || width_bucket(-1, 0, 10, 5) || ' ' || "
       "width_bucket(10, 0, 10, 5) || ' ' || width_bucket(9.99, 0, 10, 5) || ' ' || width_bucket(7, 10, 0, 5) || ' ' || "
       "width_bucket(11, 10, 0, 5) || ' ' || width_bucket(0, 10, 0, 5) || ' ' || (width_bucket(NULL, 0, 10, 5) IS NULL) "
       "|| ' ' || (width_bucket(1, NULL, 5, 0) IS NULL)",
       "3 0 6 5 2 0 6 true true", oid::text},
      {"SELECT width_bucket(popularity, 0, 100, 10) FROM (VALUES (95)) t(popularity)", "10", oid::int4},
      {"SELECT to_hex(255) || ' ' || to_hex(4096::bigint)", "ff 1000", oid::text},
      {"SELECT array_upper(ARRAY[1,2], 1) || ' ' || array_lower(ARRAY[1,2], 1) || ' ' || "
       "(array_upper('{}'::int[], 1) IS NULL) || ' ' || (array_lower('{}'::int[], 1) IS NULL)",
       "2 1 true true", oid::text},
      {"SELECT array_upper(ARRAY['a', 'b', 'c'], 1)", "3", oid::int4},
      {"SELECT substr('abc', 0) || '|' || substr('abc', -1) || '|' || substr('abc', 0, 2) || '|' || "
       "substr('abc', -5, 7) || '|' || substring('abc', -1, 3) || '|' || substr('abc', -1, 1) || '|' || "
       "substr('abcdef', 2, 3) || '|' || substring('abc' FROM 2) || '|' || substr('abc', x) FROM (VALUES (-2)) t(x)",
       "abc|abc|a|a|a||bcd|bc|abc", oid::text},
      {"SELECT to_date('2024-1-5', 'YYYY-MM-DD')", "2024-01-05", oid::date},
      {"SELECT to_date('15 JAN 2024', 'DD Mon YYYY')", "2024-01-15", oid::date},
      {"SELECT to_timestamp('2024-01-15 10:00', 'YYYY-MM-DD HH24:MI')", "2024-01-15 10:00:00+00", oid::timestamptz},
      {"SELECT to_timestamp('2024-01-15 03:04:05 PM', 'YYYY-MM-DD HH12:MI:SS AM')", "2024-01-15 15:04:05+00",
       oid::timestamptz},
      {"SELECT to_timestamp(0)", "1970-01-01 00:00:00+00", oid::timestamptz},
      {R"(SELECT json_typeof('{}') || json_typeof('[]') || json_typeof('"x"') || json_typeof('1') || )"
       R"(json_typeof('-1') || json_typeof('1.5') || json_typeof('true') || json_typeof('null') || )"
       R"(jsonb_typeof('{"a": 1}'::jsonb -> 'a') || (json_typeof(NULL) IS NULL))",
       "objectarraystringnumbernumbernumberbooleannullnumbertrue", oid::text},
      {"SELECT num_nulls(1, NULL, NULL) || ' ' || num_nonnulls(1, NULL, 'a') || ' ' || num_nulls(NULL)", "2 2 1",
       oid::text},
      {"SELECT num_nonnulls(x, y) FROM (VALUES (1, NULL)) t(x, y)", "1", oid::int4},
      {"SELECT btrim('xax', 'x') || btrim('  a ') || '|'", "aa|", oid::text},
      {R"(SELECT json_extract_path_text('{"a":{"b":"x"}}', 'a', 'b'))", "x", oid::text},
      {R"(SELECT jsonb_extract_path('{"a":{"b":1}}', 'a', 'b'))", "1", oid::json},
      {R"(SELECT jsonb_extract_path_text('{"a":"y"}', 'a'))", "y", oid::text},
      {"SELECT jsonb_array_length('[1,2]')", "2", oid::int4},
      {R"(SELECT '{"a": 1}'::jsonb -> 'a')", "1", oid::json},
      {R"(SELECT CAST('{"a": [1]}' AS jsonb) ->> 'a')", "[1]", oid::text},
      {"SELECT clock_timestamp() > TIMESTAMPTZ '2020-01-01 00:00:00+00' AND statement_timestamp() <= now() AND "
       "transaction_timestamp() = now()",
       "t", oid::boolean},
  };
  for (const auto& [sql, want, type] : cases) {
    auto ran = Execution::run(ctx, sql);
    ASSERT_FALSE(ran.error()) << sql << ": " << ran.error()->message << " (ran as " << duckdb.started.back() << ")";
    auto rows = ran.take_rows(ctx, -1);
    ASSERT_TRUE(rows.ok()) << sql;
    ASSERT_TRUE(rows->rows.at(0).at(0).has_value()) << sql;
    const std::string& got = *rows->rows.at(0).at(0);
    if (type == oid::json)
      EXPECT_EQ(nlohmann::json::parse(got), nlohmann::json::parse(want)) << sql << " ran as " << duckdb.started.back();
    else
      EXPECT_EQ(got, want) << sql << " ran as " << duckdb.started.back();
    EXPECT_EQ(rows->columns.at(0).type_oid, type) << sql;
  }
  for (const auto& [sql, message] : std::vector<std::pair<std::string, std::string>>{
           {"SELECT width_bucket(1, 0, 10, 0)", "count must be greater than zero"},
           {"SELECT width_bucket(1, 5, 5, 2)", "lower bound cannot equal upper bound"}}) {
    auto refused = Execution::run(ctx, sql);
    ASSERT_TRUE(refused.error()) << sql;
    EXPECT_NE(refused.error()->message.find(message), std::string::npos) << refused.error()->message;
  }
  auto empty = Execution::run(ctx, "SELECT json_agg(i) FROM (VALUES (1)) t(i) WHERE false");
  ASSERT_FALSE(empty.error());
  auto none = empty.take_rows(ctx, -1);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->rows.at(0).at(0).has_value()) << "json_agg of no rows is NULL, as in PostgreSQL";

  // Left as written: another schema's function, a string, a name that is no call, other
  // argument counts (the engine then says what it lacks).
  EXPECT_EQ(postgres_functions_as_duckdb("SELECT jsonb_extract_path(j, 'a', '1'), json_extract_path_text(j, k)"),
            "SELECT json_extract_path(j, 'a', '1'), json_extract_path_text(j, k)")
      << "'1' may be a position in an array: the engine's own function (which refuses more than one key)";
  EXPECT_EQ(postgres_functions_as_duckdb("SELECT to_date(x, 'Q YYYY'), to_date(x, p), to_date(x, 'Month')"),
            "SELECT to_date(x, 'Q YYYY'), to_date(x, p), to_date(x, 'Month')")
      << "a pattern to_char writes with more than one strftime, or none: left (the engine has no to_date)";
  for (const std::string sql : {"SELECT x.every(1), 'json_agg(a)', div, lpad(a, 1, 2), div(1), date_bin(a, b)",
                                "SELECT \"every\"(x), clock_timestamp(1)"})
    EXPECT_EQ(postgres_functions_as_duckdb(sql), sql);
  EXPECT_EQ(postgres_functions_as_duckdb("SELECT div(div(9,2),2), json_agg(x)OVER w, lpad(x,regexp_count(s,p))"),
            "SELECT trunc((trunc((9) / (2))) / (2)), to_json(list(x)OVER w), "
            "lpad(x,CAST(len(regexp_extract_all(s,p)) AS INTEGER), ' ')");
  // Hostile input: unclosed calls and tails, and many calls, grow by a constant per call.
  for (const std::string sql : {"SELECT json_agg(x) FILTER (WHERE", "SELECT json_agg(x) OVER (", "SELECT div(1,",
                                "SELECT date_bin(1, 2, '3'"})
    EXPECT_EQ(postgres_functions_as_duckdb(sql), sql);
  std::string many = "SELECT ";
  for (int i = 0; i < 20000; ++i) many += "div(a,b)+json_agg(c)+";
  many += "1";
  EXPECT_LT(postgres_functions_as_duckdb(many).size(), 3 * many.size());
  std::string nested = "SELECT ";
  for (int i = 0; i < 5000; ++i) nested += "lpad(div(1,";
  nested += "1";
  for (int i = 0; i < 5000; ++i) nested += "),2)";
  EXPECT_LT(postgres_functions_as_duckdb(nested).size(), 3 * nested.size());
}

// DBeaver's and pgAdmin's catalog reads with a condition over the session's values: the
// emulation reads them with the values written in (it refused the functions with 0A000).
TEST(PgExecution, CatalogConditionsOverSessionValuesAnswerAsInPostgres) {
  cataloger::testing::Stack stack;
  SessionInfo session;
  default_settings(session);
  session.user = "grafana";
  session.database = "spotify";
  RecordingEngine duckdb(*stack.queries, "duckdb");
  ExecContext ctx = context(duckdb, *stack.catalog, session);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT rolname, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user", "grafana"},
      {"SELECT oid, rolname FROM pg_roles WHERE rolname = CURRENT_USER", "grafana"},
      {"SELECT db.datname FROM pg_catalog.pg_database db WHERE datname=current_database()", "spotify"},
      {"SELECT datname FROM pg_database WHERE datname = current_catalog", "spotify"},
  };
  for (const auto& [sql, want] : cases) {
    auto ran = Execution::run(ctx, sql);
    ASSERT_FALSE(ran.error()) << sql << ": " << ran.error()->message;
    EXPECT_TRUE(duckdb.started.empty()) << sql << ": answered by the catalog emulation";
    auto rows = ran.take_rows(ctx, -1);
    ASSERT_TRUE(rows.ok()) << sql;
    ASSERT_EQ(rows->rows.size(), 1u) << sql;
    EXPECT_NE(std::find(rows->rows[0].begin(), rows->rows[0].end(), std::optional<std::string>(want)),
              rows->rows[0].end())
        << sql;
  }
  auto none = Execution::run(ctx, "SELECT rolname FROM pg_roles WHERE rolname = current_user AND rolname <> 'grafana'");
  ASSERT_FALSE(none.error()) << none.error()->message;
  EXPECT_TRUE(none.take_rows(ctx, -1)->rows.empty());
  auto named = Execution::run(ctx, "SELECT current_user AS me, rolname FROM pg_roles WHERE rolname = current_user");
  ASSERT_FALSE(named.error()) << named.error()->message;
  auto page = named.take_rows(ctx, -1);
  ASSERT_EQ(page->rows.size(), 1u);
  EXPECT_EQ(page->columns.at(0).name, "me");
  EXPECT_EQ(page->rows[0][0], "grafana");
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
