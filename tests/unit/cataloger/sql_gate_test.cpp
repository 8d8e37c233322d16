// The gate on DuckDB's own parser (issue 13 item 1 and 6): what the engine
// would run is what is checked.
#include "sql_gate.h"

#include <gtest/gtest.h>

#include "etl/duck.h"

namespace etl::cataloger {
namespace {

struct Gate : ::testing::Test {
  std::unique_ptr<duck::Database> db = duck::Database::open(":memory:").value();
  SqlGate gate{db->connect().value(), "spotify"};
  std::set<std::string> tables{"songs_data", "artists_data", "albums_data"};

  Status check(const std::string& sql) { return gate.check(sql, tables); }
  std::string refused(const std::string& sql) {
    Status s = check(sql);
    if (s.ok()) return "(accepted)";
    EXPECT_EQ(s.error().code, Errc::invalid_argument) << sql;
    return s.error().message;
  }
};

TEST_F(Gate, DashboardQueriesPass) {
  for (const char* sql : {
           "SELECT artist_name, count(*) FROM songs_data s JOIN artists_data a USING (artist_id, dt) GROUP BY 1",
           "WITH x AS (SELECT * FROM songs_data) SELECT count(*) FROM x",
           "SELECT * FROM spotify.songs_data LIMIT 3", "SELECT * FROM main.albums_data", "FROM songs_data",
           "SELECT i FROM range(10) t(i)", "SELECT * FROM generate_series(1, 3)", "SHOW TABLES", "SHOW ALL TABLES",
           "DESCRIBE songs_data", "SUMMARIZE songs_data", "EXPLAIN SELECT * FROM songs_data",
           "EXPLAIN ANALYZE SELECT 1", "VALUES (1), (2)", "SELECT 1 -- a comment\n", "SELECT upper('--\r')"})
    EXPECT_TRUE(check(sql).ok()) << sql << ": " << check(sql).error().message;
}

std::string nested_subqueries(int n) {
  std::string sql = "SELECT ";
  for (int i = 0; i < n; ++i) sql += "(SELECT ";
  sql += "1";
  for (int i = 0; i < n; ++i) sql += ")";
  return sql;
}

std::string sum_of_ones(int n) {
  std::string sql = "SELECT 1";
  for (int i = 1; i < n; ++i) sql += "+1";
  return sql;
}

std::string with_ctes(int n) {
  std::string sql = "WITH ";
  for (int i = 0; i < n; ++i) sql += (i ? ", c" : "c") + std::to_string(i) + " AS (SELECT " + std::to_string(i) + " AS x)";
  return sql + " SELECT count(*) FROM c0";
}

// Shapes DuckDB's optimizer takes seconds to hours to plan, before any timeout
// or cancel can reach the query (a 900-byte SQL held a worker for hours), are
// refused by the gate; the same shapes within the bounds still pass.
TEST_F(Gate, StatementsThatWouldTakeLongToPlanAreRefused) {
  EXPECT_TRUE(check(nested_subqueries(15)).ok()) << check(nested_subqueries(15)).error().message;
  EXPECT_NE(refused(nested_subqueries(24)).find("subqueries are nested more than 16 deep"), std::string::npos);
  EXPECT_NE(refused(nested_subqueries(100)).find("nested"), std::string::npos);
  EXPECT_TRUE(check(sum_of_ones(40)).ok()) << check(sum_of_ones(40)).error().message;
  EXPECT_NE(refused(sum_of_ones(900)).find("expressions are nested more than 64 deep"), std::string::npos);
  EXPECT_NE(refused("SELECT " + std::string(900, '[') + "1" + std::string(900, ']')).find("nested"), std::string::npos);
  EXPECT_TRUE(check(with_ctes(100)).ok()) << check(with_ctes(100)).error().message;
  EXPECT_NE(refused(with_ctes(400)).find("more than 128 SELECTs"), std::string::npos);
  // Refused from the tokens, before DuckDB's parser (seconds for this many CTEs).
  EXPECT_NE(refused(with_ctes(3000)).find("more than 128 SELECTs"), std::string::npos);
  EXPECT_NE(refused("SELECT " + std::string(5000, '(') + "1" + std::string(5000, ')')).find("nested too deeply"),
            std::string::npos);
}

// Flat shapes: DuckDB's parser is quadratic in AND/OR chains (1 MB of them held the
// gate for 22 s) and list items cost ~10 KB each while parsed (200,000: 2.8 GB).
TEST_F(Gate, LongFlatChainsAndListsAreRefusedBeforeParsing) {
  auto chain = [](int n, const char* op) {
    std::string sql = "SELECT count(*) FROM songs_data WHERE popularity > 0";
    for (int i = 0; i < n; ++i) sql += std::string(" ") + op + " popularity <> " + std::to_string(i);
    return sql;
  };
  auto list = [](int n) {
    std::string sql = "SELECT count(*) FROM songs_data WHERE song_id IN ('s0'";
    for (int i = 1; i < n; ++i) sql += ", 's" + std::to_string(i) + "'";
    return sql + ")";
  };
  EXPECT_TRUE(check(chain(999, "AND")).ok()) << check(chain(999, "AND")).error().message;
  EXPECT_NE(refused(chain(1001, "AND")).find("more than 1000 ANDs and ORs"), std::string::npos);
  EXPECT_NE(refused(chain(1001, "or")).find("more than 1000 ANDs and ORs"), std::string::npos);
  EXPECT_TRUE(check(list(10000)).ok()) << check(list(10000)).error().message;
  EXPECT_NE(refused(list(10002)).find("more than 10000 list items"), std::string::npos);
  EXPECT_NE(refused("SELECT 1" + std::string(20000, ',') ).find("more than 10000 list items"), std::string::npos);
  // Inside strings and comments they are text, not terms.
  EXPECT_TRUE(check("SELECT count(*) FROM songs_data WHERE song_name <> '" + std::string(30000, ',') + "' -- " +
                    std::string(3000, 'x') + " and or and\n").ok());
}

TEST_F(Gate, CarriageReturnEndsACommentForTheGateToo) {
  // The issue's two exploits: DuckDB ends -- at \r, so what follows runs.
  EXPECT_NE(refused("SELECT 1 AS a --\r, (SELECT count(*) FROM glob('/**')) AS b").find("refused"), std::string::npos);
  EXPECT_NE(refused("SELECT 1 --\r; SELECT * FROM duckdb_settings()").find("refused"), std::string::npos);
  EXPECT_NE(refused("SELECT 1 --\r, getenv('HOME')").find("getenv"), std::string::npos);
}

TEST_F(Gate, OnlyTheCatalogsTablesAndNoSystemCatalogs) {
  for (const char* sql : {"SELECT * FROM information_schema.tables", "SELECT * FROM information_schema.views",
                          "SELECT sql FROM sqlite_master", "SELECT * FROM pg_settings", "SELECT * FROM duckdb_views()",
                          "SELECT * FROM duckdb_views", "SELECT * FROM pg_catalog.pg_class",
                          "SELECT * FROM '/etc/passwd'", "SELECT * FROM \"_query_results/x.csv\"",
                          "SELECT * FROM read_csv('_query_results/*.csv')", "SELECT * FROM glob('*')",
                          "SELECT * FROM query('SELECT 1')", "SELECT current_setting('memory_limit')",
                          "SELECT * FROM no_such_table", "SELECT * FROM memory.main.songs_data",
                          "WITH duckdb_settings AS (SELECT 1) SELECT 1", "SHOW memory_limit"})
    EXPECT_NE(refused(sql), "(accepted)") << sql;
  EXPECT_NE(refused("SELECT * FROM no_such_table").find("songs_data"), std::string::npos) << "names the tables";
}

TEST_F(Gate, TheTablesAStatementReadsAreWhatItNames) {
  auto reads = [&](const std::string& sql) {
    std::set<std::string> out;
    Status s = gate.check(sql, tables, 1, &out);
    EXPECT_TRUE(s.ok()) << sql << ": " << (s.ok() ? "" : s.error().message);
    return out;
  };
  using Set = std::set<std::string>;
  EXPECT_EQ(reads("SELECT count(*) FROM songs_data s JOIN spotify.artists_data a USING (artist_id, dt)"),
            (Set{"artists_data", "songs_data"}));
  EXPECT_EQ(reads("SELECT * FROM songs_data WHERE album_id IN (SELECT album_id FROM albums_data)"),
            (Set{"albums_data", "songs_data"}))
      << "a subquery's table too";
  EXPECT_EQ(reads("WITH x AS (SELECT * FROM artists_data) SELECT count(*) FROM x"), Set{"artists_data"});
  EXPECT_EQ(reads("WITH songs_data AS (SELECT 1) SELECT * FROM songs_data"), Set{"songs_data"})
      << "a CTE named like a table counts as the table: never fewer than it reads";
  EXPECT_EQ(reads("SELECT 1"), Set{});
  EXPECT_EQ(reads("EXPLAIN SELECT * FROM albums_data"), Set{"albums_data"});
  EXPECT_EQ(reads("SHOW TABLES"), Set{kReadsEverything}) << "the catalog itself";
  EXPECT_TRUE(reads("DESCRIBE songs_data").count(kReadsEverything));
  // Remembered with the verdict: the second check answers from the verdict cache.
  const std::string sql = "SELECT * FROM albums_data, artists_data";
  EXPECT_EQ(reads(sql), (Set{"albums_data", "artists_data"}));
  EXPECT_EQ(reads(sql), (Set{"albums_data", "artists_data"}));
  EXPECT_GE(gate.verdicts().size(), 1u);
}

TEST_F(Gate, OneReadOnlyStatementOnly) {
  for (const char* sql : {"SELECT 1; SELECT 2", "SET memory_limit='1TB'", "COPY songs_data TO '/tmp/x.csv'",
                          "CREATE TABLE t AS SELECT 1", "ATTACH ':memory:' AS x", "PRAGMA version",
                          "EXPLAIN ANALYZE COPY songs_data TO 'x'", "SELECT 1 /* unterminated", ""})
    EXPECT_NE(refused(sql), "(accepted)") << sql;
}

TEST(SyntaxTree, MalformedSerializationsAreRefusedNotTrusted) {
  std::set<std::string> tables{"t"};
  EXPECT_FALSE(check_syntax_tree(nlohmann::json::parse("[]"), tables, "spotify").ok());
  EXPECT_FALSE(check_syntax_tree(nlohmann::json::parse(R"({"error":true,"error_message":"x"})"), tables, "s").ok());
  EXPECT_FALSE(check_syntax_tree(nlohmann::json::parse(R"({"error":false,"statements":[]})"), tables, "s").ok());
  EXPECT_FALSE(check_syntax_tree(nlohmann::json::parse(R"({"error":false,"statements":[{"node":
      {"type":"TABLE_FUNCTION","function":{"function_name":"read_text"}}}]})"), tables, "s").ok());
  EXPECT_TRUE(check_syntax_tree(nlohmann::json::parse(R"({"error":false,"statements":[{"node":
      {"type":"BASE_TABLE","table_name":"T","schema_name":"","catalog_name":""}}]})"), tables, "s").ok());
}

}  // namespace
}  // namespace etl::cataloger
