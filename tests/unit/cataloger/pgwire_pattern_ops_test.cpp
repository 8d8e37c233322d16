#include "pgwire/pattern_ops.h"

#include <gtest/gtest.h>

#include "etl/duck.h"

namespace etl::pgwire {
namespace {

std::string rewrite(const std::string& sql) {
  auto r = postgres_pattern_operators(sql);
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

// The engine's answer to a one-value SELECT as rewritten.
std::optional<std::string> engine(const std::string& sql) {
  static auto db = duck::Database::open(":memory:", {}).value();
  static auto conn = db->connect().value();
  auto r = conn->query(rewrite(sql));
  if (!r) throw std::runtime_error(r.error().message + " in " + rewrite(sql));
  return r->text(0, 0);
}

// Each expected answer is PostgreSQL's; the engine's own ~ matches the whole text, so
// 'xabcx' ~ 'abc' was false there.
TEST(PgPatternOps, RegularExpressionOperatorsFindThePatternAnywhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT 'xabcx' ~ 'abc'", "true"},
      {"SELECT 'xabcx' ~ '^abc'", "false"},
      {"SELECT 'abcx' ~ '^abc'", "true"},
      {"SELECT 'xabc' ~ 'abc$'", "true"},
      {"SELECT 'xabcx' !~ 'abc'", "false"},
      {"SELECT 'xABCx' ~* 'abc'", "true"},
      {"SELECT 'xABCx' ~ 'abc'", "false"},
      {"SELECT 'xABCx' !~* 'abc'", "false"},
      {"SELECT 'a' || chr(10) || 'b' ~ 'a.b'", "true"},  // PostgreSQL's . matches a newline
      {"SELECT 'Love Song' ~ '(love|hate)'", "false"},
      {"SELECT 'Love Song' ~* '(love|hate)'", "true"},
      {"SELECT 'anything' ~ ''", "true"},
      {"SELECT 'a|b' ~ 'x|b'", "true"},  // the alternation stays inside its group
      {"SELECT NULL ~ 'a'", ""},
      {"SELECT 'ab'~'b'", "true"},
      {"SELECT 'a\\b' ~ E'\\\\\\\\'", "true"},  // E'\\\\' is the pattern \\: one backslash
  };
  for (const auto& [sql, want] : cases) EXPECT_EQ(engine(sql).value_or(""), want) << sql << " -> " << rewrite(sql);
  EXPECT_EQ(rewrite("SELECT * FROM t WHERE name ~* 'love' AND x !~ 'a''b'"),
            "SELECT * FROM t WHERE name ~ '(?is).*(?:love).*' AND x !~ '(?s).*(?:a''b).*'");
}

TEST(PgPatternOps, LikeReadsBackslashEscapesAsPostgresDoes) {
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT 'a_b' LIKE 'a\\_b'", "true"},
      {"SELECT 'axb' LIKE 'a\\_b'", "false"},
      {"SELECT '50%' LIKE '%\\%'", "true"},
      {"SELECT '500' LIKE '%\\%'", "false"},
      {"SELECT 'A_B' ILIKE 'a\\_b'", "true"},
      {"SELECT 'axb' NOT LIKE 'a\\_b'", "true"},
      {"SELECT 'a\\b' LIKE 'a\\\\b'", "true"},
      {"SELECT 'a_b' LIKE 'a\\_b' AND true", "true"},
      {"SELECT 'a_b' LIKE 'a#_b' ESCAPE '#'", "true"},
  };
  for (const auto& [sql, want] : cases) EXPECT_EQ(engine(sql).value_or(""), want) << sql << " -> " << rewrite(sql);
  EXPECT_EQ(rewrite("SELECT count(*) FROM t WHERE a LIKE 'x\\_%' GROUP BY 1"),
            "SELECT count(*) FROM t WHERE a LIKE 'x\\_%' ESCAPE '\\' GROUP BY 1");
}

// Each expected answer is PostgreSQL's; the engine's own SIMILAR TO reads a regular
// expression, so 'abc' SIMILAR TO 'a%' was false there and 'abc' SIMILAR TO 'a.c' true.
TEST(PgPatternOps, SimilarToReadsSqlPatternsAsPostgresDoes) {
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT 'abc' SIMILAR TO 'abc'", "true"},
      {"SELECT 'abc' SIMILAR TO 'a'", "false"},
      {"SELECT 'abc' SIMILAR TO 'a%'", "true"},
      {"SELECT 'abc' SIMILAR TO '%(b|d)%'", "true"},
      {"SELECT 'abc' SIMILAR TO '(b|c)%'", "false"},
      {"SELECT 'abc' SIMILAR TO 'a_c'", "true"},
      {"SELECT 'abc' SIMILAR TO 'a.c'", "false"},
      {"SELECT 'a.c' SIMILAR TO 'a.c'", "true"},
      {"SELECT 'abc-123' SIMILAR TO '[a-z]+-[0-9]{3}'", "true"},
      {"SELECT 'AbC' SIMILAR TO 'abc'", "false"},
      {"SELECT '50%' SIMILAR TO '50\\%'", "true"},
      {"SELECT '500' SIMILAR TO '50\\%'", "false"},
      {"SELECT 'axb' SIMILAR TO 'a\\_b'", "false"},
      {"SELECT ('a' || chr(10) || 'b') SIMILAR TO 'a_b'", "true"},
      {"SELECT 'x' NOT SIMILAR TO '%y%'", "true"},
      {"SELECT '^abc' SIMILAR TO '^abc'", "true"},
      {"SELECT 'abc' SIMILAR TO '^abc'", "false"},
      {"SELECT ']' SIMILAR TO '[]]'", "true"},
      {"SELECT 'b' SIMILAR TO '[^]a]'", "true"},
      {"SELECT ']' SIMILAR TO '[^]a]'", "false"},
      {"SELECT '%' SIMILAR TO '[%_]'", "true"},
      {"SELECT 'a' SIMILAR TO '[%_]'", "false"},
      {"SELECT 'ab' SIMILAR TO 'a|ab'", "true"},
      {"SELECT 'a' SIMILAR TO 'a\\'", "true"},
      {"SELECT '' SIMILAR TO ''", "true"},
      {"SELECT 'x9' SIMILAR TO '[[:alpha:]][[:digit:]]'", "true"},
      {"SELECT NULL SIMILAR TO 'a'", ""},
  };
  for (const auto& [sql, want] : cases) EXPECT_EQ(engine(sql).value_or(""), want) << sql << " -> " << rewrite(sql);
  EXPECT_EQ(rewrite("SELECT * FROM t WHERE name SIMILAR TO '%(Love|Heart)%' AND x NOT SIMILAR TO 'a.b'"),
            "SELECT * FROM t WHERE name SIMILAR TO '(?s)(?:.*(?:Love|Heart).*)' AND x NOT SIMILAR TO '(?s)(?:a\\.b)'");
  for (const std::string sql : {"SELECT a SIMILAR TO b FROM t", "SELECT a SIMILAR TO 'x' ESCAPE '#' FROM t",
                                "SELECT a SIMILAR TO 'x' || y FROM t", "SELECT a SIMILAR TO 'x'::text FROM t",
                                "SELECT a SIMILAR TO '\\\"x\\\"' FROM t"}) {
    auto r = postgres_pattern_operators(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error().message.rfind("unsupported: ", 0), 0u) << r.error().message;
  }
  EXPECT_EQ(rewrite("SELECT a SIMILAR TO NULL, similar FROM t"), "SELECT a SIMILAR TO NULL, similar FROM t");
}

// Each expected answer is PostgreSQL's; the engine's own substring() read the pattern as a
// position and failed ("Could not convert string '[0-9]+' to INT64").
TEST(PgPatternOps, SubstringWithAPatternIsARegularExpressionAsInPostgres) {
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT substring('abc123def' FROM '[0-9]+')", "123"},
      {"SELECT substring('abc123def', '[0-9]+')", "123"},
      {"SELECT substring('abc' FROM '[0-9]+')", "NULL"},  // no match
      {"SELECT substring('abc' FROM 'x*')", ""},  // an empty match is empty text, not NULL
      {"SELECT substring('Song (2019 Remaster)' FROM '\\((\\d{4})')", "2019"},  // the first capturing group
      {"SELECT substring('ab' FROM '(?:a)(b)')", "b"},
      {"SELECT substring('ab' FROM '(?:a)b')", "ab"},  // no capturing group: the whole match
      {"SELECT substring('a' || chr(10) || 'b' FROM 'a.b') = 'a' || chr(10) || 'b'", "true"},
      {"SELECT pg_catalog.substring('x1y22' FROM '[0-9]{2}')", "22"},
      {"SELECT substring(substring('abc123' FROM '[a-z]+[0-9]') FROM '[0-9]')", "1"},
      {"SELECT substring('hello' FROM 2 FOR 3)", "ell"},  // positions stay the engine's
      {"SELECT substring('hello' FROM 2)", "ello"},
      {"SELECT substring(NULL FROM 'a')", "NULL"},
      {"SELECT substring('xabcx' FROM 'abc') ~ 'b'", "true"},  // the operators after it are read too
  };
  for (const auto& [sql, want] : cases) EXPECT_EQ(engine(sql).value_or("NULL"), want) << sql << " -> " << rewrite(sql);
  EXPECT_EQ(rewrite("SELECT substring(name FROM '(\\d+)') FROM t"),
            "SELECT regexp_extract_all(name, '(?s)(\\d+)', 1)[1] FROM t");
  EXPECT_EQ(rewrite("SELECT substring((SELECT a FROM t) FROM 'x') FROM u"),
            "SELECT regexp_extract_all((SELECT a FROM t), '(?s)x', 0)[1] FROM u");
  for (const std::string sql : {"SELECT substring(x FROM 2 FOR 3) FROM t", "SELECT substring(x, 1, 2) FROM t",
                                "SELECT substring(x FROM p) FROM t", "SELECT substring FROM t", "SELECT 'substring(x from ''a'')'"})
    EXPECT_EQ(rewrite(sql), sql) << sql;
  auto refused = postgres_pattern_operators("SELECT substring(x FROM 'a#\"b#\"c' FOR '#') FROM t");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("unsupported: ", 0), 0u) << refused.error().message;
  // Hostile text: one pass (not timed here; the fuzz target reads this too).
  std::string many = "SELECT ";
  for (int i = 0; i < 20000; ++i) many += "substring(x FROM 'a'), ";
  EXPECT_EQ(rewrite(many + "1").find("substring"), std::string::npos);
  std::string nested = "x";
  for (int i = 0; i < 5000; ++i) nested = "substring(" + nested + " FROM 'a')";
  EXPECT_EQ(rewrite("SELECT " + nested).find("substring"), std::string::npos);
}

TEST(PgPatternOps, OtherTextIsLeftAndAPatternNotALiteralIsRefused) {
  for (const std::string sql : {"SELECT 1", "SELECT ~5, ~ x FROM t", "SELECT 'a ~ b', \"x~\" FROM t -- a ~ b",
                                "SELECT a ~~ 'x%', a !~~ 'y', a ~~~ 'z*' FROM t", "SELECT a LIKE 'x%' FROM t",
                                "SELECT a LIKE 'x\\_' ESCAPE '#', b LIKE 'y\\_' || 'z', c LIKE 'w\\_'::text FROM t",
                                "SELECT a LIKE x FROM t", "SELECT 'unterminated ~ 'a", "SELECT a ~ NULL, a !~* null"})
    EXPECT_EQ(rewrite(sql), sql) << sql;
  for (const std::string sql : {"SELECT a ~ b FROM t", "SELECT a ~* b FROM t", "SELECT a !~ $1", "SELECT (a) ~ lower(b)"}) {
    auto r = postgres_pattern_operators(sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error().message.rfind("unsupported: ", 0), 0u) << r.error().message;
    EXPECT_NE(r.error().message.find("regexp_matches"), std::string::npos) << r.error().message;
  }
  // Many operators: one pass (not timed here; the fuzz target reads this too).
  std::string many = "SELECT ";
  for (int i = 0; i < 20000; ++i) many += "a ~ 'x' OR ";
  EXPECT_EQ(rewrite(many + "false").find("~ 'x'"), std::string::npos);
}

}  // namespace
}  // namespace etl::pgwire
