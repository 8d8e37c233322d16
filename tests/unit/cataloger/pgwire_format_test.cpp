#include "pgwire/format.h"

#include <gtest/gtest.h>

#include "etl/duck.h"

namespace etl::pgwire {
namespace {

// The engine's one value for `sql` as rewritten ("NULL" for NULL).
std::string engine_value(const std::string& sql) {
  static auto db = duck::Database::open(":memory:", {}).value();
  static auto conn = db->connect().value();
  auto rewritten = postgres_format_calls(sql);
  if (!rewritten) throw std::runtime_error(rewritten.error().message + " in " + sql);
  auto r = conn->query(*rewritten);
  if (!r) throw std::runtime_error(r.error().message + " in " + *rewritten);
  if (r->row_count() != 1 || r->column_count() != 1) throw std::runtime_error("not one value: " + *rewritten);
  return r->text(0, 0).value_or("NULL");
}

std::string refusal(const std::string& sql) {
  auto r = postgres_format_calls(sql);
  return r.ok() ? "(rewritten: " + *r + ")" : r.error().message;
}

// Each expected value is PostgreSQL 16's; the engine's own format('%s', 1) is '%s'.
TEST(PgFormat, PercentPatternsReadAsInPostgres) {
  EXPECT_EQ(engine_value("SELECT format('%s - %s', 'Artist', 42)"), "Artist - 42");
  EXPECT_EQ(engine_value("SELECT format('%s', NULL)"), "") << "%s of NULL is empty, not NULL";
  EXPECT_EQ(engine_value("SELECT format('[%s]', NULL::varchar)"), "[]");
  EXPECT_EQ(engine_value("SELECT format('100%% of %s', 'songs')"), "100% of songs");
  EXPECT_EQ(engine_value("SELECT format('%2$s, %1$s', 'first', 'last')"), "last, first");
  EXPECT_EQ(engine_value("SELECT format('%2$s %s', 'a', 'b', 'c')"), "b c") << "after %2$s, %s takes the third";
  EXPECT_EQ(engine_value("SELECT format('%s', DATE '2024-02-29')"), "2024-02-29");
  EXPECT_EQ(engine_value("SELECT format('%s', TIMESTAMP '2024-01-02 03:04:05')"), "2024-01-02 03:04:05");
  EXPECT_EQ(engine_value("SELECT format('only text %%')"), "only text %");
  EXPECT_EQ(engine_value("SELECT format('%s', 1, 2)"), "1") << "extra arguments are not read";
  EXPECT_EQ(engine_value("SELECT pg_catalog.format('%s!', 'x')"), "x!");
  EXPECT_EQ(engine_value("SELECT FORMAT('%s (%s)', 'outer', format('%s/%s', 1, 2))"), "outer (1/2)")
      << "a call in an argument is read too";
  EXPECT_EQ(engine_value("SELECT format('%s', (SELECT format('%s', 'deep')))"), "deep");
  EXPECT_EQ(engine_value("SELECT format('%s;%s', 'a,b', ')')"), "a,b;)") << "commas and parentheses in strings";
  EXPECT_EQ(engine_value("SELECT format('{}%s', 'x')"), "{}x") << "braces are text, as in PostgreSQL";
  EXPECT_EQ(engine_value("SELECT format('%s', x) FROM (VALUES (7)) t(x)"), "7");
  EXPECT_EQ(engine_value("SELECT format('%s|%s', 'a' -- the first\n, 'b' /* the second */ -- end\n)"), "a|b")
      << "a comment after an argument stays out of the rewritten call";
  EXPECT_EQ(postgres_format_calls("SELECT format('%s: %s', name, 1 + 2) AS label").value(),
            "SELECT concat(CAST((name) AS VARCHAR), ': ', CAST((1 + 2) AS VARCHAR)) AS label");
  EXPECT_EQ(engine_value("SELECT format('%s: %s', ARRAY[1, 2][2], 'x')"), "2: x")
      << "a bracket's commas are not the call's (they split ARRAY[1 from 2] into two arguments)";
}

TEST(PgFormat, WhatPostgresRefusesIsRefusedInItsWords) {
  EXPECT_EQ(refusal("SELECT format('%s %s', 1)"), "too few arguments for format()");
  EXPECT_EQ(refusal("SELECT format('%3$s', 1, 2)"), "too few arguments for format()");
  EXPECT_EQ(refusal("SELECT format('%x', 1)"), "unrecognized format() type specifier \"x\"");
  EXPECT_EQ(refusal("SELECT format('50%', 1)"), "unterminated format() type specifier");
  EXPECT_EQ(refusal("SELECT format('%0$s', 1)"), "format specifies argument 0, but arguments are numbered from 1");
  // Read by PostgreSQL, not here: an error that names it, never other text.
  for (const std::string sql : {"SELECT format('%I', 'a')", "SELECT format('%L', 'a')", "SELECT format('%5s', 'a')",
                                "SELECT format('%-5s|', 'a')", "SELECT format('%*s', 3, 'a')", "SELECT format('%1$s %1$s', 'a')"})
    EXPECT_EQ(refusal(sql).rfind("unsupported: ", 0), 0u) << sql << ": " << refusal(sql);
}

TEST(PgFormat, OtherTextIsLeftAsWritten) {
  for (const std::string sql :
       {"SELECT 1", "SELECT format('{} and {}', 1, 2)", "SELECT format(pattern, 1) FROM t", "SELECT 'format(''%s'', 1)'",
        "SELECT format", "SELECT format('%s', 'x", "COPY (SELECT 1) TO STDOUT (FORMAT csv)", "SELECT f.format FROM f",
        "SELECT format(NULL, 1)"})
    EXPECT_EQ(postgres_format_calls(sql).value(), sql) << sql;
  // Hostile text: bounded depth, linear in the statement otherwise.
  std::string nested = "'x'";
  for (int i = 0; i < 17; ++i) nested = "format('%s', " + nested + ")";
  EXPECT_EQ(refusal("SELECT " + nested).rfind("unsupported: format() calls nested more than 16", 0), 0u);
  // 16 deep around a long argument: the statement is read once, and each call adds a few bytes.
  std::string deep = "'" + std::string(200000, 'x') + "' || " + std::string(50000, '(') + "'y'" + std::string(50000, ')');
  for (int i = 0; i < 16; ++i) deep = "format('%s', " + deep + ")";
  auto rewritten = postgres_format_calls("SELECT " + deep);
  ASSERT_TRUE(rewritten.ok()) << rewritten.error().message;
  EXPECT_LT(rewritten->size(), deep.size() + 16 * 32);
  EXPECT_EQ(rewritten->find("format("), std::string::npos);
  std::string many = "SELECT ";
  for (int i = 0; i < 20000; ++i) many += "format('%s', a), ";
  EXPECT_TRUE(postgres_format_calls(many + "1").ok());
  std::string open(100000, '(');
  EXPECT_EQ(postgres_format_calls("SELECT format" + open).value(), "SELECT format" + open);
  std::string commas = "SELECT format('%s'" + std::string(100000, ',') + ")";
  EXPECT_EQ(refusal(commas), "(rewritten: SELECT concat(CAST(() AS VARCHAR)))") << "empty arguments are the engine's to refuse";
}

}  // namespace
}  // namespace etl::pgwire
