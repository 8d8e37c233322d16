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
