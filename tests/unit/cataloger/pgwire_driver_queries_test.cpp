// Driver queries answered by the endpoint itself (pgwire/driver_queries.h) and the
// settings asyncpg asks for before them (pgwire/commands.h).
#include <gtest/gtest.h>

#include "pgwire/commands.h"
#include "pgwire/driver_queries.h"
#include "pgwire/select_list.h"
#include "pgwire/sql_text.h"
#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

// The shape of asyncpg's INTRO_LOOKUP_TYPES_13 (its typeinfo subquery shortened), as it
// reaches the engine: normalized, $1 bound to the list of type OIDs.
std::string introspection(const std::string& bound_oids) {
  return normalize(
      "WITH RECURSIVE typeinfo_tree(oid, ns, name, kind, basetype, elemtype, elemdelim, range_subtype, attrtypoids,\n"
      "    attrnames, depth) AS (\n"
      "  SELECT ti.oid, ti.ns, ti.name, ti.kind, ti.basetype, ti.elemtype, ti.elemdelim, ti.range_subtype,\n"
      "         ti.attrtypoids, ti.attrnames, 0\n"
      "  FROM (SELECT t.oid AS oid FROM pg_catalog.pg_type AS t) AS ti\n"
      "  WHERE ti.oid = any(" + bound_oids + "::oid[])\n"
      "  UNION ALL\n"
      "  SELECT ti.oid, ti.ns, ti.name, ti.kind, ti.basetype, ti.elemtype, ti.elemdelim, ti.range_subtype,\n"
      "         ti.attrtypoids, ti.attrnames, tt.depth + 1\n"
      "  FROM (SELECT t.oid AS oid FROM pg_catalog.pg_type AS t) ti, typeinfo_tree tt\n"
      "  WHERE (tt.elemtype IS NOT NULL AND ti.oid = tt.elemtype))\n"
      "SELECT DISTINCT *, basetype::regtype::text AS basetype_name, elemtype::regtype::text AS elemtype_name,\n"
      "    range_subtype::regtype::text AS range_subtype_name\n"
      "FROM\n  typeinfo_tree\nORDER BY\n  depth DESC\n");
}

TEST(PgDriverQueries, AsyncpgsTypeIntrospectionGetsEachTypeAndItsElementDeepestFirst) {
  // int8[] and int4[] (whose element is asked for too), a type not sent here, and uuid.
  auto o = driver_type_query(introspection(" CAST([1016, 1007, 23, 99999, 2950] AS BIGINT[]) "));
  ASSERT_TRUE(o.has_value());
  ASSERT_FALSE(o->error.has_value());
  ASSERT_EQ(o->result.columns.size(), 14u);
  EXPECT_EQ(o->result.columns[0].name, "oid");
  EXPECT_EQ(o->result.columns[0].type_oid, oid::oid);
  EXPECT_EQ(o->result.columns[3].type_oid, oid::char_type);
  EXPECT_EQ(o->result.columns[8].type_oid, oid::oid_array);
  EXPECT_EQ(o->result.columns[10].name, "depth");
  using Row = std::vector<std::optional<std::string>>;
  const auto n = std::nullopt;
  EXPECT_EQ(o->result.rows, (std::vector<Row>{
      {"20", "pg_catalog", "int8", "b", n, "0", n, n, n, n, "1", n, "-", n},
      {"23", "pg_catalog", "int4", "b", n, "0", n, n, n, n, "1", n, "-", n},
      {"1016", "pg_catalog", "_int8", "b", n, "20", ",", n, n, n, "0", n, "bigint", n},
      {"1007", "pg_catalog", "_int4", "b", n, "23", ",", n, n, n, "0", n, "integer", n},
      {"23", "pg_catalog", "int4", "b", n, "0", n, n, n, n, "0", n, "-", n},
      {"2950", "pg_catalog", "uuid", "b", n, "0", n, n, n, n, "0", n, "-", n}}));
  EXPECT_EQ(o->result.tag, "SELECT 6");
  // Described with a NULL list: the columns, no rows.
  auto described = driver_type_query(introspection(" NULL "));
  ASSERT_TRUE(described.has_value());
  EXPECT_TRUE(described->result.rows.empty());
  EXPECT_EQ(described->result.columns.size(), 14u);
  // Anything else is not this query.
  EXPECT_FALSE(driver_type_query(normalize("WITH RECURSIVE typeinfo_tree(x) AS (SELECT 1) SELECT * FROM typeinfo_tree")));
  EXPECT_FALSE(driver_type_query(normalize("SELECT oid FROM pg_type")));
}

TEST(PgDriverQueries, AnUnknownSettingIs42704UnlessMissingIsOk) {
  SessionInfo session;
  default_settings(session);
  auto run = [&](const std::string& sql) { return session_select(*parse_select(normalize(sql)), session); };
  // asyncpg asks for jit before its introspection and takes 42704 as "off".
  auto jit = run("SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) AS new");
  ASSERT_TRUE(jit.has_value());
  ASSERT_TRUE(jit->error.has_value());
  EXPECT_EQ(jit->error->sqlstate, "42704");
  EXPECT_EQ(jit->error->message, "unrecognized configuration parameter \"jit\"");
  auto missing_ok = run("SELECT current_setting('jit', true)");
  ASSERT_TRUE(missing_ok.has_value());
  ASSERT_FALSE(missing_ok->error.has_value());
  EXPECT_EQ(missing_ok->result.rows, (std::vector<std::vector<std::optional<std::string>>>{{std::nullopt}}));
  auto known = run("SELECT current_setting('TimeZone', false)");
  ASSERT_TRUE(known.has_value());
  EXPECT_EQ(known->result.rows[0][0], "UTC");
}

TEST(PgDriverQueries, CurrentSchemasListsTheImplicitOnesWhenAsked) {
  SessionInfo session;
  session.schema = "spotify";
  default_settings(session);
  auto run = [&](const std::string& sql) { return session_select(*parse_select(normalize(sql)), session); };
  auto with = run("SELECT current_schemas(true)");
  ASSERT_TRUE(with.has_value());
  EXPECT_EQ(with->result.rows[0][0], "{pg_catalog,spotify}");
  auto without = run("SELECT pg_catalog.current_schemas( false )");
  ASSERT_TRUE(without.has_value());
  EXPECT_EQ(without->result.rows[0][0], "{spotify}");
}

}  // namespace
}  // namespace etl::pgwire
