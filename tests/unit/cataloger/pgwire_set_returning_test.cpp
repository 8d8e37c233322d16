#include "pgwire/set_returning.h"

#include <gtest/gtest.h>

#include "etl/duck.h"

namespace etl::pgwire {
namespace {

// The engine's rows for `sql` as rewritten, each row's cells joined by '|'.
std::vector<std::string> engine_rows(const std::string& sql) {
  static auto db = duck::Database::open(":memory:", {}).value();
  static auto conn = db->connect().value();
  auto r = conn->query(set_returning_items_as_rows(sql));
  if (!r) throw std::runtime_error(r.error().message + " in " + set_returning_items_as_rows(sql));
  std::vector<std::string> rows;
  for (idx_t row = 0; row < r->row_count(); ++row) {
    std::string line;
    for (idx_t c = 0; c < r->column_count(); ++c) line += (c ? "|" : "") + r->text(c, row).value_or("NULL");
    rows.push_back(line);
  }
  return rows;
}

using Rows = std::vector<std::string>;

// Each expected set of rows is PostgreSQL's; the engine's own generate_series() in a
// select list is one row holding a list.
TEST(PgSetReturning, GenerateSeriesItemsAreRowsAsInPostgres) {
  EXPECT_EQ(engine_rows("SELECT generate_series(1, 3)"), (Rows{"1", "2", "3"}));
  EXPECT_EQ(engine_rows("SELECT generate_series(1, 10, 4) AS n ORDER BY n DESC"), (Rows{"9", "5", "1"}));
  EXPECT_EQ(engine_rows("SELECT 'x', generate_series(1, 3), generate_series(1, 2) x"),
            (Rows{"x|1|1", "x|2|2", "x|3|NULL"}))
      << "in lockstep, NULL past the shorter one (PostgreSQL 10 and later)";
  EXPECT_EQ(engine_rows("WITH days AS (SELECT generate_series(DATE '2024-02-27', DATE '2024-03-01', INTERVAL 1 DAY) AS day) "
                        "SELECT count(*), max(day)::DATE FROM days"),
            (Rows{"4|2024-03-01"}))
      << "the calendar a dashboard joins its data to";
  EXPECT_EQ(engine_rows("SELECT x, generate_series(1, x) FROM (VALUES (1), (2)) t(x) ORDER BY 1, 2"),
            (Rows{"1|1", "2|1", "2|2"}));
  EXPECT_EQ(engine_rows("SELECT count(*) FROM (SELECT DISTINCT generate_series(1, 3) UNION ALL SELECT generate_series(1, 2))"),
            (Rows{"5"}));
  EXPECT_EQ(engine_rows("SELECT generate_series(DATE '2024-02-28', DATE '2024-03-01', INTERVAL '1 day')::DATE AS day, "
                        "generate_series(1, 3) * 2"),
            (Rows{"2024-02-28|2", "2024-02-29|4", "2024-03-01|6"}))
      << "an operand of an item: PostgreSQL's calendar idiom casts to date";
  EXPECT_EQ(engine_rows("SELECT * FROM generate_series(1, 3) t(n) WHERE n IN (SELECT generate_series(2, 5))"),
            (Rows{"2", "3"}))
      << "FROM's table function is left as it is";
  EXPECT_EQ(engine_rows("SELECT generate_series(1, (SELECT generate_series(2, 2)))"), (Rows{"1", "2"}))
      << "a call in a subquery in another's arguments is wrapped too";
  EXPECT_EQ(set_returning_items_as_rows("SELECT generate_series(1, (SELECT generate_series(2, 2)))"),
            "SELECT unnest(generate_series(1, (SELECT unnest(generate_series(2, 2)))))");
}

// PostgreSQL names the one column of a function in FROM by the function's alias: `d` is the
// value. In the engine it is the row, a struct (`d::date` failed: STRUCT -> DATE).
TEST(PgSetReturning, AFunctionsAliasInFromNamesItsColumnAsInPostgres) {
  EXPECT_EQ(engine_rows("SELECT d::date FROM generate_series(DATE '2026-01-30', DATE '2026-02-01', INTERVAL '1 day') d"),
            (Rows{"2026-01-30", "2026-01-31", "2026-02-01"}))
      << "the calendar a dashboard joins its data to";
  EXPECT_EQ(engine_rows("SELECT x.n, d FROM (VALUES (2)) x(n) LEFT JOIN generate_series(1, 3) AS d ON d = x.n"),
            (Rows{"2|2"}));
  EXPECT_EQ(engine_rows("SELECT u * 10 FROM unnest([1, 2]) u ORDER BY 1"), (Rows{"10", "20"}));
  EXPECT_EQ(engine_rows("SELECT \"Day\" FROM (SELECT 1), generate_series(1, 2) \"Day\""), (Rows{"1", "2"}));
  EXPECT_EQ(engine_rows("SELECT n, m FROM generate_series(1, 2) n, LATERAL generate_series(n, 2) m ORDER BY 1, 2"),
            (Rows{"1|1", "1|2", "2|2"}));
  EXPECT_EQ(engine_rows("SELECT count(*) FROM (SELECT d FROM generate_series(1, 4) d WHERE d > 2)"), (Rows{"2"}));
  EXPECT_EQ(set_returning_items_as_rows("SELECT d FROM generate_series(1, 3) AS d, unnest([1]) u JOIN t ON true"),
            "SELECT d FROM generate_series(1, 3) AS d(d), unnest([1]) u(u) JOIN t ON true");
}

TEST(PgSetReturning, OtherTextIsLeftAsWritten) {
  for (const std::string sql :
       {"SELECT 1", "SELECT * FROM generate_series(1, 3)", "SELECT len(generate_series(1, 3))",
        "SELECT 'generate_series(1, 3)'", "SELECT a FROM t, generate_series(1, 3) g(n)",
        "SELECT * FROM generate_series(1, 3) WITH ORDINALITY AS t(x, n)",
        "SELECT * FROM generate_series(1, 3) WHERE true", "SELECT * FROM generate_series(1, 3) JOIN t ON true",
        "SELECT unnest([1]) u FROM t",
        "SELECT a IS DISTINCT FROM b FROM t", "SELECT generate_series", "SELECT generate_series(1, 'x"})
    EXPECT_EQ(set_returning_items_as_rows(sql), sql) << sql;
  EXPECT_EQ(set_returning_items_as_rows("select a is distinct from b, Generate_Series(1, 2) g from t"),
            "select a is distinct from b, unnest(Generate_Series(1, 2)) g from t");
  // Hostile text: one pass over the tokens (not timed here; the fuzz target reads this too).
  std::string many = "SELECT ";
  for (int i = 0; i < 20000; ++i) many += "generate_series(1, 2), ";
  EXPECT_EQ(set_returning_items_as_rows(many + "1").size(), many.size() + 1 + 20000 * 8);
  std::string open(100000, '(');
  EXPECT_EQ(set_returning_items_as_rows("SELECT generate_series" + open), "SELECT generate_series" + open);
}

}  // namespace
}  // namespace etl::pgwire
