#include "pgwire/to_char.h"

#include <gtest/gtest.h>

#include "etl/duck.h"

namespace etl::pgwire {
namespace {

// What the engine answers for to_char(<value>, <pattern>) as rewritten: nullopt for NULL.
std::optional<std::string> engine_to_char(const std::string& value, const std::string& pattern) {
  static auto db = duck::Database::open(":memory:", {}).value();
  static auto conn = db->connect().value();
  auto expression = to_char_expression(value, pattern);
  if (!expression) throw std::runtime_error(expression.error().message);
  auto r = conn->query("SELECT " + *expression);
  if (!r) throw std::runtime_error(r.error().message + " in " + *expression);
  return r->text(0, 0);
}

// Each expected text is what PostgreSQL 15 answers for the same to_char call.
TEST(PgToChar, PatternsGivePostgresText) {
  const std::string ts = "TIMESTAMP '2024-03-05 14:07:09.123456'";  // a Tuesday
  const std::pair<const char*, const char*> cases[] = {
      {"YYYY-MM-DD HH24:MI:SS", "2024-03-05 14:07:09"},
      {"YYYY-MM", "2024-03"},
      {"yyyy-mm-dd", "2024-03-05"},
      {"Mon YYYY", "Mar 2024"},
      {"Month", "March    "},
      {"MONTH", "MARCH    "},
      {"month", "march    "},
      {"FMMonth", "March"},
      {"Day", "Tuesday  "},
      {"FMDay, FMDD FMMonth YYYY", "Tuesday, 5 March 2024"},
      {"DY dy Dy MON mon", "TUE tue Tue MAR mar"},
      {"HH12:MI AM", "02:07 PM"},
      {"FMHH12 pm", "2 pm"},
      {"HH:MI:SS.MS US", "02:07:09.123 123456"},
      {"D ID Q", "3 2 1"},
      {"IYYY-IW FMIW", "2024-10 10"},
      {"DDD FMDDD FMMM/FMDD YY", "065 65 3/5 24"},
      {"YYYY\"年\"MM\"月\"", "2024年03月"},
      {"YYYY-MM-DD\"T\"HH24:MI:SS", "2024-03-05T14:07:09"},
      {"\"Q\"Q YYYY, 100%", "Q1 2024, 100%"},
      {"\"a \\\"quoted\\\" YYYY\"", "a \"quoted\" YYYY"},
  };
  for (const auto& [pattern, want] : cases) EXPECT_EQ(engine_to_char(ts, pattern), want) << pattern;
  EXPECT_EQ(engine_to_char("DATE '2024-03-05'", "YYYY-MM-DD Dy"), "2024-03-05 Tue");
  EXPECT_EQ(engine_to_char("TIMESTAMP '0044-03-15 10:00:00'", "YYYY FMYYYY"), "0044 44");
  // NULL stays NULL, through strftime alone and through computed parts; an empty pattern is NULL.
  EXPECT_EQ(engine_to_char("NULL::TIMESTAMP", "YYYY"), std::nullopt);
  EXPECT_EQ(engine_to_char("NULL::TIMESTAMP", "YYYY \"Q\"Q Month"), std::nullopt);
  EXPECT_EQ(engine_to_char(ts, ""), std::nullopt);
}

TEST(PgToChar, ExpressionsAreOneStrftimeWhereTheyCanBe) {
  EXPECT_EQ(to_char_expression("added_at", "YYYY-MM").value(), "strftime((added_at), '%Y-%m')");
  EXPECT_EQ(to_char_expression("x", "YYYY'100%").value(), "strftime((x), '%Y''100%%')");
  EXPECT_EQ(to_char_expression("x", "YYYY \"Q\"Q").value(), "(strftime((x), '%Y Q') || CAST(quarter((x)) AS VARCHAR))");
}

// A pattern PostgreSQL reads differently, or text it wants quoted, is an error naming it,
// never output that differs from PostgreSQL's.
TEST(PgToChar, PatternsNotReadAreRefusedNamingThem) {
  auto refusal = [](const char* pattern) {
    auto r = to_char_expression("x", pattern);
    return r ? std::string("(accepted: ") + *r + ")" : r.error().message;
  };
  for (const char* pattern : {"YYYY-MM-DDTHH24", "DDth", "J", "WW", "W", "TZ", "CC", "RM", "BC", "SSSS", "FMMS", "FMUS",
                              "Y,YYY", "YYY", "IYY", "A.M.", "Am", "MOnth", "FX YYYY", "FM-"}) {
    const std::string why = refusal(pattern);
    EXPECT_EQ(why.rfind("unsupported: to_char pattern ", 0), 0u) << pattern << ": " << why;
  }
  EXPECT_NE(refusal("YYYY-MM-DDTHH24").find("\"THH\""), std::string::npos) << refusal("YYYY-MM-DDTHH24");
  EXPECT_EQ(refusal(std::string(17, 'Q').c_str()).rfind("unsupported: a to_char pattern with more than 16", 0), 0u)
      << "each computed part repeats the value: bounded";
  EXPECT_TRUE(to_char_expression("x", std::string(16, 'Q')).ok());
}

TEST(PgToChar, CallsWithALiteralPatternAreRewrittenAndOthersLeft) {
  auto rewrite = [](const std::string& sql) { return to_char_as_strftime(sql).value(); };
  EXPECT_EQ(rewrite("SELECT to_char(date_trunc('month', added_at), 'YYYY-MM') AS m, count(*) FROM t GROUP BY 1"),
            "SELECT strftime((date_trunc('month', added_at)), '%Y-%m') AS m, count(*) FROM t GROUP BY 1");
  EXPECT_EQ(rewrite("select PG_CATALOG.To_Char(x,'Mon'), to_char( y , E'YY\\'') from t"),
            "select strftime((x), '%b'), strftime((y), '%y''') from t");
  // Left as written: no literal pattern, other argument counts, text in strings and comments,
  // a call whose value holds another to_char (the inner one is rewritten), unterminated text.
  for (const std::string sql : {"SELECT to_char(x, fmt) FROM t", "SELECT to_char(x) FROM t",
                                "SELECT to_char(x, 'YYYY', 'en') FROM t", "SELECT 'to_char(x, ''YYYY'')' -- to_char(x, 'Q')",
                                "SELECT to_char FROM t", "SELECT to_char(x, 'YYYY"})
    EXPECT_EQ(rewrite(sql), sql);
  EXPECT_EQ(rewrite("SELECT to_char(to_char(x, 'YYYY'), 'MM')"), "SELECT to_char(strftime((x), '%Y'), 'MM')");
  EXPECT_EQ(rewrite("SELECT to_char(x -- the value\n, 'YYYY') FROM t"), "SELECT strftime((x), '%Y') FROM t")
      << "a comment after the value stays out of the rewritten call";
  auto refused = to_char_as_strftime("SELECT to_char(x, 'YYYY-MM'), to_char(x, 'DDth') FROM t");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("\"th\""), std::string::npos) << refused.error().message;
  // Hostile text: 100,000 open calls are read in one pass (not timed here; the fuzz target reads this too).
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "to_char(";
  EXPECT_EQ(rewrite(many), many);
  std::string calls = "SELECT ";
  for (int i = 0; i < 10000; ++i) calls += "to_char(x, 'YYYY'),";
  EXPECT_EQ(rewrite(calls + "1").find("to_char"), std::string::npos);
  // A long value repeated for each computed part: bounded growth, not 16 copies of a megabyte.
  const std::string long_value = "(" + std::string(100000, '(') + "x" + std::string(100000, ')') + ")";
  std::string repeated = "SELECT ";
  for (int i = 0; i < 4; ++i) repeated += "to_char(" + long_value + ", 'Q D ID Q D ID'), ";
  auto grown = to_char_as_strftime(repeated + "1");
  ASSERT_FALSE(grown.ok());
  EXPECT_EQ(grown.error().code, Errc::too_large) << grown.error().message;
  EXPECT_TRUE(to_char_as_strftime("SELECT to_char(" + long_value + ", 'Q')").ok()) << "one copy more is fine";
}

}  // namespace
}  // namespace etl::pgwire
