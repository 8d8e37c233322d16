#include <gtest/gtest.h>

#include <chrono>

#include "etl/duck.h"

#include "pgwire/execution.h"
#include "pgwire/select_list.h"
#include "pgwire/sql_text.h"
#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

TEST(PgSqlText, SplitsOnSemicolonsOutsideQuotesAndComments) {
  auto parts = split_statements("select ';' as a; -- x;\n select $$;$$ ;/* ; */ select \"a;b\" ;;");
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0], "select ';' as a");
  EXPECT_EQ((*parts)[1], "-- x;\n select $$;$$");
  EXPECT_EQ((*parts)[2], "/* ; */ select \"a;b\"");
  EXPECT_FALSE(split_statements("select 'open").ok());
  EXPECT_FALSE(split_statements("select /* open").ok());
}

TEST(PgSqlText, NormalizeLowersCodeButNotLiterals) {
  EXPECT_EQ(normalize("SELECT  \"Name\",\n 'MiXeD' -- c\n FROM T;"), "select \"Name\", 'MiXeD' from t");
}

TEST(PgSqlText, ParameterCountIgnoresQuotedDollars) {
  EXPECT_EQ(parameter_count("select $1, '$5', $$ $7 $$, $2"), 2);
  EXPECT_EQ(parameter_count("select 1"), 0);
}

TEST(PgSqlText, QuotesTextParametersSoTheyCannotEscape) {
  auto sql = bind_parameters("select * from t where a = $1", {Param{"x' OR '1'='1", 0, false}});
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql, "select * from t where a =  'x'' OR ''1''=''1' ");
  // backslashes are not escapes under standard_conforming_strings
  EXPECT_EQ(param_literal(Param{"a\\'b", 25, false}).value(), "'a\\''b'");
}

TEST(PgSqlText, TypedParametersAreCheckedNotTrusted) {
  EXPECT_EQ(param_literal(Param{"42", 20, false}).value(), "42");
  EXPECT_EQ(param_literal(Param{"-1.5e3", 701, false}).value(), "-1.5e3");
  EXPECT_EQ(param_literal(Param{"t", 16, false}).value(), "TRUE");
  EXPECT_EQ(param_literal(Param{std::nullopt, 20, false}).value(), "NULL");
  EXPECT_EQ(param_literal(Param{"2026-11-01", 1082, false}).value(), "CAST('2026-11-01' AS DATE)");
  EXPECT_FALSE(param_literal(Param{"1; drop table x", 20, false}).ok());
  EXPECT_FALSE(param_literal(Param{"1e", 701, false}).ok());
  EXPECT_FALSE(param_literal(Param{"maybe", 16, false}).ok());
  auto unsupported = param_literal(Param{"\\x00", 17, false});  // bytea
  ASSERT_FALSE(unsupported.ok());
  EXPECT_EQ(unsupported.error().message.rfind("unsupported", 0), 0u);
}

// PostgreSQL reads a number parameter into its declared type: past the type's
// range it is 22003 with PostgreSQL's message, not a wider number bound as is.
TEST(PgSqlText, NumbersOutsideTheirDeclaredTypeAreOutOfRange) {
  auto refused = [](const char* text, std::int32_t type_oid) {
    auto r = param_literal(Param{text, type_oid, false});
    return r.ok() ? "bound as " + *r : r.error().message;
  };
  EXPECT_EQ(refused("99999999999", 23), "value \"99999999999\" is out of range for type integer");
  EXPECT_EQ(refused("2147483648", 23), "value \"2147483648\" is out of range for type integer");
  EXPECT_EQ(refused("-32769", 21), "value \"-32769\" is out of range for type smallint");
  EXPECT_EQ(refused("9223372036854775808", 20), "value \"9223372036854775808\" is out of range for type bigint");
  EXPECT_EQ(refused("4294967296", 26), "value \"4294967296\" is out of range for type oid");
  EXPECT_EQ(refused("1e999", 701), "\"1e999\" is out of range for type double precision");
  EXPECT_EQ(refused("-1e999", 701), "\"-1e999\" is out of range for type double precision");
  EXPECT_EQ(refused("1e-999", 701), "\"1e-999\" is out of range for type double precision") << "underflow, as PostgreSQL";
  EXPECT_EQ(refused("1e39", 700), "\"1e39\" is out of range for type real");
  EXPECT_EQ(refused("12x", 20), "invalid input syntax for type bigint: \"12x\"");
  // The edges of each range, and the forms PostgreSQL reads (sign, zeros, spaces).
  EXPECT_EQ(refused("2147483647", 23), "bound as 2147483647");
  EXPECT_EQ(refused("-2147483648", 23), "bound as -2147483648");
  EXPECT_EQ(refused("-32768", 21), "bound as -32768");
  EXPECT_EQ(refused("-9223372036854775808", 20), "bound as -9223372036854775808");
  EXPECT_EQ(refused(" +0042 ", 23), "bound as 42");
  EXPECT_EQ(refused("4294967295", 26), "bound as 4294967295");
  EXPECT_EQ(refused("1e308", 701), "bound as 1e308");
  EXPECT_EQ(refused("4.9e-324", 701), "bound as 4.9e-324") << "a subnormal is in range";
  EXPECT_EQ(refused("0e999", 701), "bound as 0e999");
}

TEST(PgSqlText, BinaryIntegersAreDecoded) {
  EXPECT_EQ(param_literal(Param{std::string("\0\0\0\0\0\0\1\0", 8), 20, true}).value(), "256");
  EXPECT_EQ(param_literal(Param{std::string("\xff\xfe", 2), 21, true}).value(), "-2");
  auto short_int8 = param_literal(Param{std::string("\0\1", 2), 20, true});
  ASSERT_FALSE(short_int8.ok()) << "wrong length";
  EXPECT_EQ(bind_error_state(short_int8.error()), "22P03") << "invalid_binary_representation, as PostgreSQL";
  // Text is its bytes in binary too; asyncpg sends every parameter binary, an
  // unspecified one (0) as the text it was described as.
  EXPECT_EQ(param_literal(Param{"it's", 25, true}).value(), "'it''s'");
  EXPECT_EQ(param_literal(Param{"x", 0, true}).value(), "'x'");
  EXPECT_EQ(bind_error_state(param_literal(Param{"x", 2950, true}).error()), "22P03") << "a uuid is 16 bytes";
  EXPECT_EQ(bind_error_state(param_literal(Param{"x", 600, true}).error()), "0A000") << "point: not bound here";
}

TEST(PgSqlText, ArrayParametersBecomeTypedListsElementByElement) {
  EXPECT_EQ(param_literal(Param{"{1,2,NULL}", 1016, false}).value(), "CAST([1, 2, NULL] AS BIGINT[])");
  EXPECT_EQ(param_literal(Param{"{\"it's\",\"NULL\",b}", 1009, false}).value(), "CAST(['it''s', 'NULL', 'b'] AS VARCHAR[])")
      << "a quoted NULL is the string; quotes are doubled, not escaped";
  EXPECT_EQ(param_literal(Param{"{}", 1007, false}).value(), "CAST([] AS INTEGER[])");
  EXPECT_EQ(param_literal(Param{"{2024-01-31}", 1182, false}).value(), "CAST([CAST('2024-01-31' AS DATE)] AS DATE[])");
  EXPECT_EQ(param_literal(Param{"{1.50,2}", 1231, false}).value(), "[1.50, 2]") << "numeric keeps each element's precision";
  // Each element is checked as a parameter of the element type.
  auto bad_element = param_literal(Param{"{1,x}", 1016, false});
  ASSERT_FALSE(bad_element.ok());
  EXPECT_EQ(bind_error_state(bad_element.error()), "22P02");
  auto too_big = param_literal(Param{"{99999}", 1005, false});
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(bind_error_state(too_big.error()), "22003");
  for (const char* malformed : {"{{1},{2}}", "1,2", "{1,2", "{\"a}"}) {
    auto r = param_literal(Param{malformed, 1016, false});
    ASSERT_FALSE(r.ok()) << malformed;
    EXPECT_EQ(bind_error_state(r.error()), "22P02") << malformed;
    EXPECT_NE(r.error().message.find("malformed array literal"), std::string::npos) << r.error().message;
  }
  // Binary arrays are read into the same literal: int4[] {5, NULL}.
  const std::string int4_array("\0\0\0\1" "\0\0\0\1" "\0\0\0\x17" "\0\0\0\2" "\0\0\0\1" "\0\0\0\4" "\0\0\0\5" "\xff\xff\xff\xff", 32);
  EXPECT_EQ(param_literal(Param{int4_array, 1007, true}).value(), "CAST([5, NULL] AS INTEGER[])");
  EXPECT_TRUE(bindable_type(1016));
  EXPECT_TRUE(bindable_type(0));
  EXPECT_FALSE(bindable_type(600)) << "point parameters are not bound";
  EXPECT_FALSE(bindable_type(17)) << "nor bytea";
}

TEST(PgSqlText, IntervalAndUuidParametersInTextAndBinary) {
  // asyncpg and psycopg send a timedelta, pgx a time.Duration; a uuid.UUID alike.
  EXPECT_EQ(param_literal(Param{"7 days 0.000000 seconds", 1186, false}).value(), "CAST('7 days 0.000000 seconds' AS INTERVAL)");
  EXPECT_EQ(param_literal(Param{"P-1DT2H", 1186, false}).value(), "CAST('0 months -1 days 7200000000 microseconds' AS INTERVAL)")
      << "ISO 8601, as PostgreSQL takes it";
  // Binary: microseconds, days, months, each kept.
  const std::string binary("\0\0\0\0\0\x0f\x42\x40" "\0\0\0\x03" "\xff\xff\xff\xfe", 16);
  EXPECT_EQ(param_literal(Param{binary, 1186, true}).value(), "CAST('-2 months 3 days 1000000 microseconds' AS INTERVAL)");
  for (const std::string& bad : {std::string("1 day'; DROP TABLE t; --"), std::string(), std::string("P1.5D"),
                                 std::string(200, '1')}) {
    auto r = param_literal(Param{bad, 1186, false});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(bind_error_state(r.error()), "22P02") << bad;
  }
  EXPECT_EQ(param_literal(Param{"{00112233-4455-6677-8899-AABBCCDDEEFF}", 2950, false}).value(),
            "CAST('{00112233-4455-6677-8899-AABBCCDDEEFF}' AS UUID)");
  const std::string uuid("\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
  EXPECT_EQ(param_literal(Param{uuid, 2950, true}).value(), "CAST('00112233-4455-6677-8899-aabbccddeeff' AS UUID)");
  for (const char* bad : {"0011", "{00112233-4455-6677-8899-aabbccddeeff", "00112233-4455-6677-8899-aabbccddeefg", "x'"}) {
    auto r = param_literal(Param{std::string(bad), 2950, false});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(bind_error_state(r.error()), "22P02") << bad;
    EXPECT_NE(r.error().message.find("invalid input syntax for type uuid"), std::string::npos) << r.error().message;
  }
}

TEST(PgSqlText, ArrayLiteralsInAnyBecomeTheEnginesLists) {
  // psql users and pgx's simple protocol: ANY over PostgreSQL's array literal.
  // An untyped array after `=` takes the other side's type in PostgreSQL: IN's items do in the engine.
  EXPECT_EQ(any_array_literals_as_lists("SELECT 1 FROM t WHERE id = ANY('{\"a\",b,NULL}')"),
            "SELECT 1 FROM t WHERE id IN ('a', 'b', NULL)");
  EXPECT_EQ(any_array_literals_as_lists("SELECT 1 FROM t WHERE n=any ( '{1, 2}' ) AND m = ANY('{}')"),
            "SELECT 1 FROM t WHERE n IN ('1', '2') AND m = ANY([])");
  EXPECT_EQ(any_array_literals_as_lists("SELECT 1 WHERE x <> ANY('{a}') OR x >= ANY('{b}') OR x = ALL('{c}')"),
            "SELECT 1 WHERE x <> ANY(CAST(['a'] AS VARCHAR[])) OR x >= ANY(CAST(['b'] AS VARCHAR[])) OR "
            "x = ALL(CAST(['c'] AS VARCHAR[]))");
  EXPECT_EQ(any_array_literals_as_lists("SELECT 1 WHERE x = SOME('{1}') AND x <> ALL ('{2,NULL}') AND y!=all('{}')"),
            "SELECT 1 WHERE x IN ('1') AND x NOT IN ('2', NULL) AND y!=all([])");
  EXPECT_EQ(any_array_literals_as_lists("SELECT 1 UNION ALL (SELECT '{a}')"), "SELECT 1 UNION ALL (SELECT '{a}')");
  EXPECT_EQ(any_array_literals_as_lists("SELECT 1 WHERE x = any ( '{1,2}'::int[] ) AND y = ANY('{it''s}'::TEXT [])"),
            "SELECT 1 WHERE x = any ( CAST([1, 2] AS INTEGER[]) ) AND y = ANY(CAST(['it''s'] AS VARCHAR[]))");
  // Casts and the array operators elsewhere: the engine reads only its own list text ('[1, 2]').
  EXPECT_EQ(any_array_literals_as_lists("SELECT '{1, 2}'::int[], CAST('{a,\"b c\"}' AS text []), x @> '{a}', "
                                        "'{b}' <@ x, x&&'{c,NULL}', '{d}'::text, '{e}', x @> ARRAY['f'] FROM t"),
            "SELECT CAST([1, 2] AS INTEGER[])::int[], CAST(CAST(['a', 'b c'] AS VARCHAR[]) AS text []), "
            "x @> CAST(['a'] AS VARCHAR[]), CAST(['b'] AS VARCHAR[]) <@ x, x&&CAST(['c', NULL] AS VARCHAR[]), "
            "'{d}'::text, '{e}', x @> ARRAY['f'] FROM t");
  EXPECT_EQ(any_array_literals_as_lists("SELECT '{{1}}'::int[], '{x}'::int[], E'{a}'::text[], x @ > '{a}'"),
            "SELECT '{{1}}'::int[], '{x}'::int[], E'{a}'::text[], x @ > '{a}'")
      << "nested, not of its type (the engine says so), an escape string, operators apart";
  // Left as they are: not that form, in a string or comment, nested, of a type not bound, unterminated.
  for (const char* sql : {"SELECT 1 WHERE x = ANY(ARRAY[1, 2])", "SELECT 'x = ANY(''{a}'')'", "SELECT 1 -- ANY('{a}')",
                          "SELECT 1 WHERE x = ANY('{{1},{2}}')", "SELECT 1 WHERE x = ANY('{1}'::interval[])",
                          "SELECT 1 WHERE x = ANY('{1,x}'::int[])", "SELECT 1 WHERE x = ANY('{a}'", "SELECT company",
                          "SELECT 1 WHERE x = ANY(SELECT '{a}')", "SELECT 1 WHERE x = ANY('{a}' || 'b')", "ANY"})
    EXPECT_EQ(any_array_literals_as_lists(sql), sql) << sql;
  // 1 MB of ANYs whose parentheses never close (a message's most): each read once, not to
  // the end of the text (its time is not asserted); ANY's form is not whole, but each cast
  // is, and becomes a list: the text grows by a constant factor.
  std::string many;
  while (many.size() < (1u << 20)) many += "x = ANY('{1}'::int[] ";
  const std::string lists = any_array_literals_as_lists(many);
  EXPECT_EQ(lists.substr(0, 40), "x = ANY(CAST([1] AS INTEGER[])::int[] x ");
  EXPECT_LT(lists.size(), 3 * many.size());
  std::string empties = "SELECT ";
  while (empties.size() < (1u << 20)) empties += "'{}'::int[],";
  EXPECT_LT(any_array_literals_as_lists(empties).size(), 3 * empties.size()) << "the most a literal grows";
}

TEST(PgSqlText, NumericAndFloatWithoutPrecisionKeepTheValue) {
  // The engine's bare NUMERIC is DECIMAL(18,3): round(1.23456::numeric, 4) would be 1.235.
  auto engine = [](const char* sql) { return unconstrained_numerics_as_engine_types(sql); };
  // Literals keep their digits, as PostgreSQL's numeric does.
  EXPECT_EQ(engine("SELECT round(1.23456::numeric, 4)"), "SELECT round(1.23456::DECIMAL(6,5), 4)");
  EXPECT_EQ(engine("SELECT '0012.340'::NUMERIC, -7::numeric, .5::decimal"),
            "SELECT '0012.340'::DECIMAL(5,3), -7::DECIMAL(1,0), .5::DECIMAL(2,1)");
  EXPECT_EQ(engine("SELECT CAST('1.5' AS numeric), cast( -2.25 as pg_catalog.numeric ), TRY_CAST(1 AS decimal)"),
            "SELECT CAST('1.5' AS DECIMAL(2,1)), cast( -2.25 as DECIMAL(3,2) ), TRY_CAST(1 AS DECIMAL(1,0))");
  // Anything else is DOUBLE: columns, expressions, exponents, 39 digits, NaN, arrays (round()'s
  // argument is then DECIMAL(38,10): PgSqlText.RoundRoundsTheDecimalValue...).
  EXPECT_EQ(engine("SELECT round(avg(popularity)::numeric, 2), count(*)::numeric / 3 FROM t"),
            "SELECT round(avg(popularity)::DOUBLE, 2), count(*)::DOUBLE / 3 FROM t");
  EXPECT_EQ(engine("SELECT x::pg_catalog.numeric, 1e5::numeric, 'NaN'::numeric, '{1.5}'::numeric[], \"x\"::numeric"),
            "SELECT x::DOUBLE, 1e5::DOUBLE, 'NaN'::DOUBLE, '{1.5}'::DOUBLE[], \"x\"::DOUBLE");
  EXPECT_EQ(engine("SELECT 123456789012345678901234567890123456789::numeric, 1e-7::numeric, 2.5E+3::numeric"),
            "SELECT 123456789012345678901234567890123456789::DOUBLE, 1e-7::DOUBLE, 2.5E+3::DOUBLE");
  EXPECT_EQ(engine("SELECT CAST(CAST(x AS numeric) AS text), CAST(a + 1 AS decimal) /* c */ AS numeric FROM t"),
            "SELECT CAST(CAST(x AS DOUBLE) AS text), CAST(a + 1 AS DOUBLE) /* c */ AS numeric FROM t");
  EXPECT_EQ(engine("SELECT 1.5 :: /* c */ numeric"), "SELECT 1.5 :: /* c */ DECIMAL(2,1)");
  // Left as they are: with a precision, a name, in a string or comment, quoted, an alias, unterminated.
  for (const char* sql : {"SELECT x::numeric(10,2), y::decimal (5)", "SELECT numeric FROM t", "SELECT 'x::numeric'",
                          "SELECT 1 -- ::numeric", "SELECT x::\"numeric\"", "SELECT x AS numeric FROM t",
                          "SELECT CAST((SELECT a AS numeric FROM t) AS int)", "SELECT x::numeric_x", "SELECT 'a",
                          "SELECT x::int AS decimal", "numeric", "::"})
    EXPECT_EQ(engine(sql), sql) << sql;
  // PostgreSQL's float is double precision; the engine's FLOAT is single (1.2345678806304932).
  EXPECT_EQ(engine("SELECT count(*)::float / 3, CAST(x AS FLOAT), 1.23456789::float, '{1}'::float[], x::float(53) FROM t"),
            "SELECT count(*)::DOUBLE / 3, CAST(x AS DOUBLE), 1.23456789::DOUBLE, '{1}'::DOUBLE[], x::float(53) FROM t");
  for (const char* sql : {"SELECT x::float4, y::float8, z::float(10)", "SELECT float FROM t", "SELECT x AS float FROM t"})
    EXPECT_EQ(engine(sql), sql) << sql;
  // 1 MB of open CASTs: read once, the deepest ones not tracked (its time is not asserted).
  std::string many;
  while (many.size() < (1u << 20)) many += "CAST(1 AS numeric ";
  const std::string rewritten = engine(many.c_str());
  EXPECT_NE(rewritten, many);
  EXPECT_EQ(rewritten.find("DECIMAL(1,0)"), std::string("CAST(1 AS ").size());
}

// Each expected answer is PostgreSQL's, whose avg() of integers is an exact numeric and whose
// two-argument round() is numeric's, rounding half away from zero; the engine's avg() is a
// DOUBLE, whose binary value it rounded (0.285 is 0.28499... and gave 0.28).
TEST(PgSqlText, RoundRoundsTheDecimalValueAsPostgresDoes) {
  static auto db = duck::Database::open(":memory:", {}).value();
  static auto conn = db->connect().value();
  auto rewrite = [](const std::string& sql) { return round_arguments_as_numeric(unconstrained_numerics_as_engine_types(sql)); };
  auto value = [&](const std::string& sql) {
    auto r = conn->query("SELECT coalesce(CAST(v AS VARCHAR), 'NULL') || ' ' || typeof(v) FROM (" + rewrite(sql) + ") s(v)");
    if (!r) throw std::runtime_error(r.error().message + " in " + rewrite(sql));
    return r->text(0, 0).value_or("");
  };
  // 57 of 200 rows: avg(x) is 0.285.
  const std::string rows = " FROM (SELECT CASE WHEN i < 57 THEN 1 ELSE 0 END, i FROM range(200) r(i)) t(x, i)";
  EXPECT_EQ(value("SELECT round(avg(x), 2)" + rows), "0.29 DECIMAL(38,2)");
  EXPECT_EQ(value("SELECT round(avg(x)::numeric, 2)" + rows), "0.29 DECIMAL(38,2)");
  EXPECT_EQ(value("SELECT round(CAST(avg(x) AS numeric), 2)" + rows), "0.29 DECIMAL(38,2)");
  EXPECT_EQ(value("SELECT round(100.0 * sum(x) / count(*), 1)" + rows), "28.5 DECIMAL(38,1)");
  EXPECT_EQ(value("SELECT round(sum(x) * 1.0 / count(*), 2)" + rows), "0.29 DECIMAL(38,2)");
  EXPECT_EQ(value("SELECT ROUND(AVG(x), 0)" + rows), "0 DECIMAL(38,0)");
  EXPECT_EQ(value("SELECT round(avg(i), 1)" + rows), "99.5 DECIMAL(38,1)");
  EXPECT_EQ(value("SELECT round(stddev_pop(x), 4)" + rows), "0.4514 DECIMAL(38,4)");
  EXPECT_EQ(value("SELECT round((201 / 200.0)::double, 2)"), "1.01 DECIMAL(38,2)");
  EXPECT_EQ(value("SELECT round((-0.285)::double, 2)"), "-0.29 DECIMAL(38,2)") << "away from zero";
  EXPECT_EQ(value("SELECT round(1.23456::numeric, 4)"), "1.2346 DECIMAL(38,4)");
  EXPECT_EQ(value("SELECT round('2.5', 0)"), "3 DECIMAL(38,0)");
  EXPECT_EQ(value("SELECT round(-155, -1)"), "-160 DECIMAL(38,0)");
  EXPECT_EQ(value("SELECT round(1 / 3.0, 12)"), "0.333333333333 DECIMAL(38,12)");
  EXPECT_EQ(value("SELECT round(avg(x), + 2)" + rows), "0.29 DECIMAL(38,2)");
  EXPECT_EQ(value("SELECT round(avg(x),  2 ::int)" + rows), "0.29 DECIMAL(38,2)") << "a bound $1::int";
  EXPECT_EQ(value("SELECT round(avg(x) * 100, -1::int2)" + rows), "30 DECIMAL(38,0)");
  EXPECT_EQ(value("SELECT round(avg(x), 2)" + rows + " WHERE false").rfind("NULL ", 0), 0u);
  EXPECT_EQ(round_arguments_as_numeric("SELECT round(avg(popularity), 2), round(f(a, b) + round(avg(x), 1), 3) FROM t"),
            "SELECT round(CAST((avg(popularity)) AS DECIMAL(38,10)), 2), "
            "round(CAST((f(a, b) + round(CAST((avg(x)) AS DECIMAL(38,10)), 1)) AS DECIMAL(38,10)), 3) FROM t");
  EXPECT_EQ(round_arguments_as_numeric("SELECT round(x -- c\n, 2)"), "SELECT round(CAST((x) AS DECIMAL(38,10)) -- c\n, 2)");
  EXPECT_EQ(value("SELECT round(0.5::double, 40)"), "0.500000000000000 DECIMAL(38,15)")
      << "numeric still, with 15 decimals where PostgreSQL writes 40 (a DOUBLE's cast to more makes digits up)";
  EXPECT_EQ(value("SELECT round(12345, -200)"), "0 DECIMAL(38,0)");
  for (const char* sql : {"SELECT round(avg(x), 1234567890) FROM t", "SELECT round(avg(x), n) FROM t", "SELECT round(avg(x)) FROM t",
                          "SELECT round(x, 2, 3) FROM t", "SELECT round(, 2)",
                          "SELECT round(x, - - 1) FROM t", "SELECT round(x, 1.5) FROM t", "SELECT round(x, 2::text) FROM t",
                          "SELECT round(x, 2::bigint) FROM t",
                          "SELECT 'round(avg(x), 2)'", "SELECT round(avg(x), 2", "SELECT round"})
    EXPECT_EQ(round_arguments_as_numeric(sql), sql) << sql;
  // Hostile text: one pass (not timed here; the fuzz target reads this too).
  std::string many = "SELECT ";
  for (int i = 0; i < 20000; ++i) many += "round(avg(x), 2), ";
  EXPECT_EQ(round_arguments_as_numeric(many + "1").size(), many.size() + 1 + 20000 * 26);
  std::string nested = "x";
  for (int i = 0; i < 5000; ++i) nested = "round(" + nested + ", 2)";
  EXPECT_EQ(round_arguments_as_numeric(nested).size(), nested.size() + 5000 * 26);
}

TEST(PgSqlText, MissingParameterIsAnError) {
  EXPECT_FALSE(bind_parameters("select $2", {Param{"a", 0, false}}).ok());
  EXPECT_EQ(bind_parameters("select -$1", {Param{"-5", 20, false}}).value(), "select - -5 ");
}

TEST(PgTypes, EngineTypesMapToPostgresOids) {
  EXPECT_EQ(pg_type("VARCHAR").oid, 25);
  EXPECT_EQ(pg_type("BIGINT").oid, 20);
  EXPECT_EQ(pg_type("INTEGER").oid, 23);
  EXPECT_EQ(pg_type("DOUBLE").oid, 701);
  EXPECT_EQ(pg_type("BOOLEAN").oid, 16);
  EXPECT_EQ(pg_type("DATE").oid, 1082);
  EXPECT_EQ(pg_type("TIMESTAMP").oid, 1114);
  EXPECT_EQ(pg_type("TIMESTAMP WITH TIME ZONE").oid, 1184);
  EXPECT_EQ(pg_type("VARCHAR[]").oid, 1009);
  EXPECT_EQ(pg_type("DECIMAL(18,3)").oid, 1700);
  EXPECT_EQ(pg_type("STRUCT(a INTEGER)").oid, 114);
  EXPECT_EQ(pg_type("HUGEINT").oid, 1700);
}

TEST(PgTypes, JsonRowsBecomePostgresText) {
  std::vector<PgType> types = {pg_type("VARCHAR"), pg_type("BIGINT"), pg_type("BOOLEAN"), pg_type("TIMESTAMP"),
                               pg_type("TIMESTAMP WITH TIME ZONE"), pg_type("VARCHAR[]"), pg_type("HUGEINT"),
                               pg_type("STRUCT(a INTEGER)"), pg_type("DOUBLE")};
  auto row = row_values(R"(["a \"q\"", 7, true, "2026-11-01T10:00:00.5Z", "2026-11-01T10:00:00Z", ["x,y", null, "b\"c"],)"
                        R"( 170141183460469231731687303715884105727, {"a": 1}, null])",
                        types);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ((*row)[0].value(), "a \"q\"");
  EXPECT_EQ((*row)[1].value(), "7");
  EXPECT_EQ((*row)[2].value(), "t");
  EXPECT_EQ((*row)[3].value(), "2026-11-01 10:00:00.5");
  EXPECT_EQ((*row)[4].value(), "2026-11-01 10:00:00+00");
  EXPECT_EQ((*row)[5].value(), R"({"x,y",NULL,"b\"c"})");
  EXPECT_EQ((*row)[6].value(), "170141183460469231731687303715884105727");
  EXPECT_EQ((*row)[7].value(), R"({"a": 1})") << "json as the engine wrote it, a struct's fields in their order";
  EXPECT_FALSE((*row)[8].has_value());
  EXPECT_FALSE(row_values("[1,2]", types).ok()) << "too few values";
  EXPECT_FALSE(row_values("[\"a\"", {pg_type("VARCHAR")}).ok()) << "truncated";
  EXPECT_TRUE(row_values("[]", {}).ok());
}

TEST(PgTypes, BcDatesAndTimestampsPrintTheEraAsPostgresDoes) {
  std::vector<PgType> types = {pg_type("DATE"), pg_type("DATE"), pg_type("DATE"), pg_type("TIMESTAMP"),
                               pg_type("TIMESTAMP"), pg_type("TIMESTAMP WITH TIME ZONE"), pg_type("DATE")};
  // The engine's astronomical years: 0 is 1 BC, -43 is 44 BC.
  auto row = row_values(R"(["0000-12-31", "-43-03-15", "12345-01-01", "-29956-03-15T10:00:00Z",)"
                        R"( "290000-01-10T04:00:54.775807Z", "0000-01-01T00:00:00Z", "2024-02-29"])",
                        types);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ((*row)[0].value(), "0001-12-31 BC");
  EXPECT_EQ((*row)[1].value(), "0044-03-15 BC");
  EXPECT_EQ((*row)[2].value(), "12345-01-01");
  EXPECT_EQ((*row)[3].value(), "29957-03-15 10:00:00 BC");
  EXPECT_EQ((*row)[4].value(), "290000-01-10 04:00:54.775807") << "a space, not a T, whatever the year's width";
  EXPECT_EQ((*row)[5].value(), "0001-01-01 00:00:00+00 BC");
  EXPECT_EQ((*row)[6].value(), "2024-02-29");
}

TEST(PgTypes, NonFiniteFloatsAreSpelledAsPostgresDoes) {
  // JSON has no NaN: an engine that sends these as strings gets PostgreSQL's spelling.
  std::vector<PgType> types = {pg_type("DOUBLE"), pg_type("DOUBLE"), pg_type("FLOAT"), pg_type("DOUBLE")};
  auto row = row_values(R"(["nan", "inf", "-inf", 1.5])", types);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ((*row)[0].value(), "NaN");
  EXPECT_EQ((*row)[1].value(), "Infinity");
  EXPECT_EQ((*row)[2].value(), "-Infinity");
  EXPECT_EQ((*row)[3].value(), "1.5");
}

TEST(PgTypes, NonFiniteFloatsAreStringsFromTheEngineAndPostgresWordsOnTheWire) {
  // What the DuckDB engine writes for them (ValueJson.NonFiniteFloatsAreStringsNotNull).
  std::vector<PgType> types = {pg_type("DOUBLE"), pg_type("FLOAT"), pg_type("DOUBLE[]")};
  auto row = row_values(R"(["NaN", "-Infinity", [1.5, "Infinity", null, "NaN"]])", types);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ((*row)[0].value(), "NaN");
  EXPECT_EQ((*row)[1].value(), "-Infinity");
  EXPECT_EQ((*row)[2].value(), "{1.5,Infinity,NULL,NaN}");
}

// Each list's items are written as values of its element type, as PostgreSQL's array_out
// writes them: quoted only when they must be, and with the same text as a column of that type.
TEST(PgTypes, ListsAreArraysOfTheirElementTypeWithEachItemAsItsTypePrintsIt) {
  const std::pair<const char*, std::int32_t> arrays[] = {
      {"INTEGER[]", oid::int4_array}, {"BIGINT[]", oid::int8_array}, {"SMALLINT[]", oid::int2_array},
      {"BOOLEAN[]", oid::bool_array}, {"DOUBLE[]", oid::float8_array}, {"FLOAT[]", oid::float4_array},
      {"DECIMAL(18,3)[]", oid::numeric_array}, {"HUGEINT[]", oid::numeric_array}, {"DATE[]", oid::date_array},
      {"TIMESTAMP[]", oid::timestamp_array}, {"TIMESTAMP WITH TIME ZONE[]", oid::timestamptz_array},
      {"VARCHAR[]", oid::text_array}, {"INTERVAL[]", oid::text_array}, {"UUID[]", oid::text_array},
      {"INTEGER[3]", oid::int4_array}, {"STRUCT(a INTEGER)[]", oid::json}, {"MAP(VARCHAR, INTEGER)[]", oid::json}};
  for (const auto& [engine, expected] : arrays) EXPECT_EQ(pg_type(engine).oid, expected) << engine;
  EXPECT_EQ(pg_type("DECIMAL(18,3)[]").name, "numeric[]");
  EXPECT_EQ(pg_type("INTERVAL[]").element, oid::interval);

  std::vector<PgType> types = {pg_type("INTEGER[]"), pg_type("DECIMAL(38,2)[]"), pg_type("TIMESTAMP[]"),
                               pg_type("TIMESTAMP WITH TIME ZONE[]"), pg_type("DATE[]"), pg_type("INTERVAL[]"),
                               pg_type("BOOLEAN[]"), pg_type("VARCHAR[]"), pg_type("UUID[]")};
  auto row = row_values(R"([[1, null, -3], [12.50, 123456789012345678901234567890123456.78], )"
                        R"(["2024-01-02T03:04:05.5Z", "infinity"], ["2024-01-02T03:04:05Z"], ["-43-03-15", "2024-02-29"], )"
                        R"(["P1DT2H", "PT0S"], [true, false, null], ["a", "", "NULL", "null", "b c", "{x}", "q\"", "x,y", "é"], )"
                        R"(["123e4567-e89b-12d3-a456-426614174000"]])",
                        types);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ((*row)[0].value(), "{1,NULL,-3}");
  EXPECT_EQ((*row)[1].value(), "{12.50,123456789012345678901234567890123456.78}") << "every digit kept";
  EXPECT_EQ((*row)[2].value(), R"({"2024-01-02 03:04:05.5",infinity})");
  EXPECT_EQ((*row)[3].value(), R"({"2024-01-02 03:04:05+00"})");
  EXPECT_EQ((*row)[4].value(), "{\"0044-03-15 BC\",2024-02-29}");
  EXPECT_EQ((*row)[5].value(), R"({"1 day 02:00:00",00:00:00})");
  EXPECT_EQ((*row)[6].value(), "{t,f,NULL}");
  EXPECT_EQ((*row)[7].value(), R"({a,"","NULL","null","b c","{x}","q\"","x,y",é})");
  EXPECT_EQ((*row)[8].value(), "{123e4567-e89b-12d3-a456-426614174000}");
  // What array_items reads back is what was written.
  auto items = array_items((*row)[7].value());
  ASSERT_TRUE(items.has_value());
  ASSERT_EQ(items->size(), 9u);
  EXPECT_EQ((*items)[1].value(), "");
  EXPECT_EQ((*items)[2].value(), "NULL") << "the text NULL, not a null";
  EXPECT_EQ((*items)[6].value(), "q\"");
  // What a client writes is read as PostgreSQL's array_in reads it.
  using Items = std::vector<std::optional<std::string>>;
  EXPECT_EQ(array_items("{ 1 , 2 }"), (Items{"1", "2"})) << "white space around an element is not part of it";
  EXPECT_EQ(array_items("{a b, \"c \" }"), (Items{"a b", "c "}));
  EXPECT_EQ(array_items("{null,Null,\"NULL\",N\\ULL}"), (Items{std::nullopt, std::nullopt, "NULL", "NULL"}));
  EXPECT_EQ(array_items("{a\\,b,c\\ }"), (Items{"a,b", "c "})) << "an escaped character is kept, space too";
  EXPECT_EQ(array_items("{ }"), Items{});
  for (const char* malformed : {"{a,,b}", "{a,}", "{,}", "{\"a\" b}", "{\"a}", "{{1}}", "1,2", "{a\"}"})
    EXPECT_FALSE(array_items(malformed).has_value()) << malformed;
  EXPECT_FALSE(row_values(R"([[[1]]])", {pg_type("INTEGER[]")}).ok()) << "a list of lists is no integer[]";
  EXPECT_FALSE(row_values(R"([["x]])", {pg_type("VARCHAR[]")}).ok()) << "truncated";
}

TEST(PgTypes, NestedListsAreJsonNotTextArraysOfStrings) {
  EXPECT_EQ(pg_type("INTEGER[][]").oid, oid::json);
  EXPECT_EQ(pg_type("VARCHAR[][]").oid, oid::json);
  EXPECT_EQ(pg_type("INTEGER[3]").oid, oid::int4_array) << "a fixed-size array is an array";
  EXPECT_EQ(pg_type("BIGINT[]").oid, oid::int8_array);
  auto row = row_values(R"([[[1,2],[3]], [["a"],null]])", {pg_type("INTEGER[][]"), pg_type("VARCHAR[][]")});
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ((*row)[0].value(), "[[1,2],[3]]");
  EXPECT_EQ((*row)[1].value(), R"([["a"],null])");
}

TEST(PgSqlText, TokensAnswerByIndexAndSpliceKeepsTheRest) {
  const std::string sql = "SELECT  Foo(x) -- c\n FROM t";
  auto tokens = Tokens::of(sql);
  ASSERT_TRUE(tokens.has_value());
  const Tokens& t = *tokens;
  ASSERT_EQ(t.size(), 7u);
  EXPECT_TRUE(t.word(1, "foo")) << "words are lower-cased";
  EXPECT_EQ(t.word_at(2), "") << "a symbol is no word";
  EXPECT_TRUE(t.symbol(2, '('));
  EXPECT_EQ(sql.substr(t.at(1), t.end(1) - t.at(1)), "Foo") << "offsets are the statement's, as written";
  EXPECT_EQ(t.at(5), sql.find("FROM")) << "the comment is skipped, not counted";
  EXPECT_FALSE(t.symbol(7, ')'));
  EXPECT_FALSE(t.word(100, "t"));
  EXPECT_EQ(t.word_at(7), "") << "past the end is no token";
  EXPECT_FALSE(Tokens::of("SELECT 'open").has_value());

  EXPECT_EQ(std::move(Splice(sql)).text(), sql) << "no span replaced: the statement itself";
  Splice s(sql);
  s.replace(t.at(1), t.at(1), "unnest(");
  s.replace(t.end(4), t.end(4), ")");
  s.replace(t.at(6), t.end(6), "songs");
  EXPECT_EQ(s.copied(), sql.size());
  EXPECT_EQ(std::move(s).text(), "SELECT  unnest(Foo(x)) -- c\n FROM songs");
  // f(a, g(b, c), (d, e)) x(: each '(' its ')' and its own commas, the unclosed one none.
  auto calls = Tokens::of("f(a, g(b, c), (d, e)) x(").value();
  const std::vector<Parenthesis> parens = parentheses(calls);
  EXPECT_EQ(parens[1].close, 16u);
  EXPECT_EQ(parens[1].commas, 2u);
  EXPECT_EQ(parens[1].comma, 3u);
  EXPECT_EQ(parens[5].close, 9u);
  EXPECT_EQ(parens[5].commas, 1u);
  ASSERT_EQ(parens.size(), 19u);
  EXPECT_EQ(parens[18].close, std::string::npos);
  EXPECT_EQ(parens[0].close, std::string::npos) << "a word holds an empty entry";
  EXPECT_EQ(own_commas(calls, parens, 1), (std::vector<std::size_t>{3, 10}));
  EXPECT_EQ(own_commas(calls, parens, 11), (std::vector<std::size_t>{13}));
  EXPECT_EQ(parens[11].close, 15u);
  EXPECT_TRUE(own_commas(calls, parens, 18).empty());
  // f(ARRAY[1, 2], x[1:2], y): a bracket's commas are its own, and it is jumped over.
  auto lists = Tokens::of("f(ARRAY[1, 2], x[1:2], y)").value();
  const std::vector<Parenthesis> in_lists = parentheses(lists);
  EXPECT_EQ(in_lists[1].commas, 2u);
  EXPECT_EQ(in_lists[3].close, 7u);
  EXPECT_EQ(in_lists[3].commas, 1u);
  EXPECT_EQ(own_commas(lists, in_lists, 1), (std::vector<std::size_t>{8, 15}));
  // Mismatched: a bracket left open ends with its parenthesis, a stray ']' or ')' closes nothing.
  auto mismatched = Tokens::of("f(a[1, b) ] )").value();
  const std::vector<Parenthesis> bad = parentheses(mismatched);
  EXPECT_EQ(bad[1].close, 7u);
  EXPECT_EQ(bad[3].close, std::string::npos);
  // Hostile: 200,000 open brackets, then as many ')' with no '(' to close: one pass, not quadratic.
  const std::string hostile = std::string(200000, '[') + std::string(200000, ')');
  auto many = Tokens::of(hostile).value();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(parentheses(many)[0].close, std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(mentions("SELECT xEVERy(1)", "every"));
  EXPECT_TRUE(mentions("every", "every"));
  EXPECT_FALSE(mentions("ever", "every"));
  EXPECT_FALSE(mentions("SELECT evrey", "every"));
  EXPECT_TRUE(mentions("abc", ""));
  Splice at_start("abc");
  at_start.replace(0, 0, "");
  EXPECT_EQ(std::move(at_start).text(), "abc") << "an empty insertion at the start changes nothing";
}

TEST(PgSqlText, DateAndTimestampParametersAreCheckedNotCut) {
  EXPECT_EQ(param_literal(Param{"2024-01-31", 1082, false}).value(), "CAST('2024-01-31' AS DATE)");
  EXPECT_EQ(param_literal(Param{"0044-03-15 BC", 1082, false}).value(), "CAST('0044-03-15 (BC)' AS DATE)");
  EXPECT_EQ(param_literal(Param{"2024-01-31 10:00:00.5", 1114, false}).value(),
            "CAST('2024-01-31 10:00:00.5' AS TIMESTAMP)");
  EXPECT_EQ(param_literal(Param{"2024-01-31T10:00:00+05:30", 1184, false}).value(),
            "CAST('2024-01-31 10:00:00+05:30' AS TIMESTAMPTZ)");
  EXPECT_EQ(param_literal(Param{"infinity", 1082, false}).value(), "CAST('infinity' AS DATE)");
  for (const char* junk : {"2024-01-31junk", "2024-01-31 x", "2024-01-31; drop", "31/01/2024", ""}) {
    auto r = param_literal(Param{junk, 1082, false});
    ASSERT_FALSE(r.ok()) << junk;
    EXPECT_EQ(r.error().message.rfind("invalid input syntax for type date", 0), 0u) << r.error().message;
  }
  EXPECT_FALSE(param_literal(Param{"2024-01-31 10:00:00 nonsense", 1114, false}).ok());
}

TEST(PgSelectList, ItemsGetPostgresOutputNames) {
  auto s = parse_select(normalize(
      "SELECT pg_catalog.version(), c.relname AS \"Name\", 'x', CASE WHEN a THEN 1 END, count(*) FROM pg_class c WHERE x"));
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->items.size(), 5u);
  EXPECT_EQ(s->items[0].name, "version");
  EXPECT_EQ(s->items[1].name, "Name");
  EXPECT_EQ(s->items[1].key, "relname");
  EXPECT_EQ(s->items[2].name, "?column?");
  EXPECT_EQ(s->items[3].name, "case");
  EXPECT_EQ(s->items[4].key, "count");
  EXPECT_TRUE(s->has_from);
  EXPECT_EQ(s->rest, "pg_class c where x");
}

// What clients branch on: an unknown function is undefined_function (42883),
// whether the gate's allow list or DuckDB says so, not a missing table.
TEST(PgSelectList, EngineColumnsGetTheNamesPostgresGives) {
  auto names = [](const std::string& sql, std::vector<std::string> engine) {
    return postgres_column_names(normalize(sql), std::move(engine));
  };
  using N = std::vector<std::string>;
  // DuckDB's names on the right, PostgreSQL's expected.
  EXPECT_EQ(names("SELECT count(*), sum(popularity), max(s.added_at)::date FROM songs_data s",
                  {"count_star()", "sum(popularity)", "CAST(max(s.added_at) AS DATE)"}),
            (N{"count", "sum", "max"}));
  EXPECT_EQ(names("select 1, 'x', null, true, popularity + 1, -popularity, song_name || 'a', song_name is null from t",
                  {"1", "'x'", "NULL", "true", "(popularity + 1)", "-(popularity)", "(song_name || 'a')", "(song_name IS NULL)"}),
            (N{"?column?", "?column?", "?column?", "bool", "?column?", "?column?", "?column?", "?column?"}));
  EXPECT_EQ(names("SELECT CASE WHEN a THEN 1 END, ARRAY[1, 2], popularity::text, row_number() OVER (ORDER BY x) FROM t",
                  {"CASE  WHEN (a) THEN (1) ELSE NULL END", "main.list_value(1, 2)", "CAST(popularity AS VARCHAR)",
                   "row_number() OVER (ORDER BY x)"}),
            (N{"case", "array", "popularity", "row_number"}));
  // An operator at the top names the item ?column?, though it calls a function; AT TIME ZONE is timezone().
  EXPECT_EQ(names("SELECT now()::date - interval '7 days', extract(epoch from now())::bigint > 0, count(*) * 100, "
                  "max(x) between 1 and 2, lower(a) like 'x%', f(a) in (1, 2), ts at time zone 'UTC', "
                  "date_trunc('day', ts) at time zone 'UTC', coalesce(a, 0), sum(x) filter (where x > 0), "
                  "lower(a) similar to 'x%' FROM t",
                  {"(CAST(now() AS DATE) - to_days(7))", "(CAST(extract(epoch FROM now()) AS BIGINT) > 0)",
                   "(count_star() * 100)", "(max(x) BETWEEN 1 AND 2)", "(lower(a) ~~ 'x%')", "(f(a) IN (1, 2))",
                   "main.timezone('UTC', ts)", "main.timezone('UTC', date_trunc('day', ts))", "COALESCE(a, 0)",
                   "sum(x) FILTER (WHERE (x > 0))", "regexp_full_match(lower(a), '(?s)(?:x.*)')"}),
            (N{"?column?", "?column?", "?column?", "?column?", "?column?", "?column?", "timezone", "timezone", "coalesce",
               "sum", "?column?"}));
  EXPECT_EQ(names("SELECT Song_Name, s.\"Mixed Case\", count(*) AS N, x AS \"Quoted\" FROM t s",
                  {"Song_Name", "Mixed Case", "N", "Quoted"}),
            (N{"song_name", "Mixed Case", "n", "Quoted"}))
      << "unquoted names fold to lower case, quoted ones keep theirs";
  EXPECT_EQ(names("WITH x AS (SELECT count(*) AS c FROM t), y (a) AS (SELECT 1) SELECT count(*), max(c) FROM x, y",
                  {"count_star()", "max(c)"}),
            (N{"count", "max"}))
      << "the main SELECT of a WITH query";
  // A cast names the column after what it casts, or after the type for a constant or an operator
  // expression (PostgreSQL's internal name); a scalar subquery after its own column; a CASE after
  // its ELSE when that has a name.
  EXPECT_EQ(names("SELECT (SELECT max(x) FROM u), CAST(x AS int), 1::int, date '2024-01-01', (a + 1)::bigint, "
                  "CAST(1.5 AS double precision), '{1}'::int[], x::numeric(10,2), interval '1 day', "
                  "timestamp with time zone '2024-01-01 00:00+00', CAST(extract(year from d) AS integer), "
                  "(SELECT count(*) AS n FROM u), (SELECT 1), CASE WHEN a THEN 1 ELSE b END, "
                  "CASE WHEN a THEN b ELSE CASE WHEN c THEN d END END, (ARRAY[10, 20])[1], arr[2], "
                  "EXISTS (SELECT 1), trim(x), trim(leading 'x' from y), x COLLATE \"C\", 'it''s', "
                  "E'a\\nb', 1.5 FROM t",
                  {"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11", "e12", "e13", "e14", "e15",
                   "e16", "e17", "e18", "e19", "e20", "e21", "e22", "e23"}),
            (N{"max", "x", "int4", "date", "int8", "float8", "int4", "x", "interval", "timestamptz", "extract", "n",
               "?column?", "b", "case", "array", "arr", "exists", "btrim", "ltrim", "x", "?column?", "?column?",
               "?column?"}));
  EXPECT_EQ(names("SELECT CASE WHEN x > 0 THEN x END, CASE WHEN x > 0 THEN x ELSE -x END, "
                  "CASE WHEN x > 0 THEN 1 ELSE count(*) OVER () END, CASE WHEN a THEN 1 END + 1, $$x$$, $t$y$t$ FROM t",
                  {"e0", "e1", "e2", "e3", "e4", "e5"}),
            (N{"case", "case", "count", "?column?", "?column?", "?column?"}))
      << "a CASE's own operators are not an operator at the top";
  EXPECT_EQ(names("SELECT 1 IS DISTINCT FROM NULL, 1.23e-5::float8, (1, 2), a FROM t", {"e0", "e1", "e2", "e3"}),
            (N{"?column?", "float8", "row", "a"}));
  EXPECT_EQ(names("SELECT 1 UNION ALL SELECT 2 ORDER BY 1 DESC", {"1"}), (N{"?column?"}))
      << "the select list ends at the first clause";
  // Not sure: the engine's name stays.
  EXPECT_EQ(names("SELECT (WITH a AS (SELECT 1) SELECT * FROM a), f(x) y FROM t", {"e0", "e1"}), (N{"e0", "e1"}));
  // An alias without AS, where the engine names the column after it too: after a
  // cast it is not part of the type (`x::int y` used to be named x, `1::int y` "int y").
  EXPECT_EQ(names("SELECT extract(year from added_at)::int y, popularity::bigint P, 1::int y2, count(*) n, "
                  "f(x) \"Top Songs\", s.song_name name_, x::double precision, x::timestamp with time zone, "
                  "song_name is null, CASE WHEN a THEN 1 END FROM t s",
                  {"y", "P", "y2", "n", "Top Songs", "name_", "CAST(x AS DOUBLE)", "CAST(x AS TIMESTAMP WITH TIME ZONE)",
                   "(song_name IS NULL)", "CASE  WHEN (a) THEN (1) ELSE NULL END"}),
            (N{"y", "p", "y2", "n", "Top Songs", "name_", "x", "x", "?column?", "case"}));
  // Cannot be read item by item: every name stays.
  for (const auto& [sql, engine] : std::vector<std::pair<std::string, N>>{
           {"SELECT *, count(*) FROM t", {"a", "b", "count_star()"}},
           {"SELECT count(*) FROM t", {"a", "b"}},
           {"SELECT DISTINCT ON (a) a, count(*) FROM t", {"a", "count_star()"}},
           {"SELECT count(*) AS n FROM t", {"something_else"}},
           {"WITH x AS (SELECT 1) VALUES (1)", {"col0"}}})
    EXPECT_EQ(names(sql, engine), engine) << sql;
}

TEST(PgErrors, SqlStatesNameWhatWentWrong) {
  // The gate's words, and DuckDB's for what PostgreSQL gives these states.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"refused: function f() does not exist or is not available on this endpoint", "42883"},
      {"Catalog Error: Scalar Function with name f does not exist!", "42883"},
      {"Catalog Error: Table with name t does not exist!", "42P01"},
      {"refused: function read_csv() reads files, URLs or settings; query the catalog's tables instead", "42501"},
      {"refused: unknown table 't' (the tables are: none yet)", "42P01"},
      {"Parser Error: syntax error at end of input", "42601"},
      {"Out of Range Error: Overflow in addition of INT32 (2147483647 + 1)!", "22003"},
      {"Conversion Error: Type INT64 with value 2147483648 can't be cast because the value is out of range for the "
       "destination type INT32",
       "22003"},
      {"Conversion Error: Could not convert string 'x' to INT32", "22P02"},
      {"Catalog Error: Type with name jsonb does not exist!", "42704"},
      {"Binder Error: No function matches the given name and argument types 'encode(BLOB, STRING_LITERAL)'.", "42883"},
      {"Binder Error: Cannot compare values of type INTEGER and VARCHAR in IN/ANY/ALL clause", "42883"},
      {"Binder Error: Ambiguous reference to column name \"d\" (use: \"x.d\" or \"d.d\")", "42702"},
      {"Binder Error: column \"x\" must appear in the GROUP BY clause or must be part of an aggregate", "42803"},
      {"Binder Error: Referenced column \"x\" not found in FROM clause!", "42703"},
      {"Not implemented Error: Expression type T_List (223)", "0A000"},
  };
  for (const auto& [message, state] : cases)
    EXPECT_EQ(sqlstate_for(make_error(Errc::invalid_argument, message)), state) << message;
}

}  // namespace
}  // namespace etl::pgwire
