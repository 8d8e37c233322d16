// BI tools' catalog queries answered by the catalog emulation (pg_catalog.h) and the
// driver queries (driver_queries.h) over two tables: pgjdbc's DatabaseMetaData (pgjdbc
// 42.7.14, PgDatabaseMetaData and TypeInfoCache, captured from the wire), what DBeaver,
// DataGrip and Metabase's JDBC sync browse a database with; and the forms of Metabase's
// own sync queries (quoted identifiers, a WITH, UNIONs, privilege functions).
// tests/pgwire/test_clients.py PgJdbcMetadata runs pgjdbc itself.
#include <gtest/gtest.h>

#include <algorithm>

#include "pgwire/catalog_query.h"
#include "pgwire/commands.h"
#include "pgwire/driver_queries.h"
#include "pgwire/pg_catalog.h"
#include "pgwire/sql_text.h"
#include "pgwire_catalog_fixture.h"

namespace etl::pgwire {
namespace {

using catalog_fixture::answer;

using Rows = std::vector<std::vector<std::optional<std::string>>>;

// The named columns of the answer's rows.
Rows pick(const LocalOutcome& o, const std::vector<std::string>& names) {
  std::vector<std::size_t> at;
  for (const auto& name : names)
    for (std::size_t i = 0; i < o.result.columns.size(); ++i)
      if (o.result.columns[i].name == name) at.push_back(i);
  EXPECT_EQ(at.size(), names.size());
  Rows out;
  for (const auto& row : o.result.rows) {
    out.emplace_back();
    for (auto i : at) out.back().push_back(row[i]);
  }
  return out;
}

// catalogs
const char* const kJdbc_catalogs = R"sql(SELECT datname AS "TABLE_CAT" FROM pg_catalog.pg_database WHERE datallowconn = true ORDER BY datname)sql";

// schemas
const char* const kJdbc_schemas = R"sql(SELECT nspname AS "TABLE_SCHEM", current_database() AS "TABLE_CATALOG" FROM pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ '^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND (nspname !~ '^pg_toast_temp_'  OR nspname = replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', 'pg_toast_temp_'))  AND nspname LIKE $1 ORDER BY "TABLE_SCHEM")sql";

// tables
const char* const kJdbc_tables = R"sql(SELECT current_database() AS "TABLE_CAT", n.nspname AS "TABLE_SCHEM", c.relname AS "TABLE_NAME",  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN 'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  ELSE NULL  END  AS "TABLE_TYPE", d.description AS "REMARKS",  '' as "TYPE_CAT", '' as "TYPE_SCHEM", '' as "TYPE_NAME", '' AS "SELF_REFERENCING_COL_NAME", '' AS "REF_GENERATION"  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND n.nspname LIKE $1 AND c.relname LIKE $2 AND (false  OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' )  OR ( c.relkind = 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' ) )  ORDER BY "TABLE_TYPE","TABLE_SCHEM","TABLE_NAME" )sql";

// columns
const char* const kJdbc_columns = R"sql(SELECT * FROM (SELECT current_database() AS current_database, n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull  OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE $1 AND c.relname LIKE $2) c WHERE true  AND attname LIKE $3 ORDER BY nspname,c.relname,attnum )sql";

// settings
const char* const kJdbc_settings = R"sql(SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys')sql";

// fkeys
const char* const kJdbc_fkeys = R"sql(SELECT current_database() AS "PKTABLE_CAT", pkn.nspname AS "PKTABLE_SCHEM", pkc.relname AS "PKTABLE_NAME", pka.attname AS "PKCOLUMN_NAME", current_database() AS "FKTABLE_CAT", fkn.nspname AS "FKTABLE_SCHEM", fkc.relname AS "FKTABLE_NAME", fka.attname AS "FKCOLUMN_NAME", pos.n AS "KEY_SEQ", CASE con.confupdtype  WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS "UPDATE_RULE", CASE con.confdeltype  WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS "DELETE_RULE", con.conname AS "FK_NAME", pkic.relname AS "PK_NAME", CASE  WHEN con.condeferrable AND con.condeferred THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS "DEFERRABILITY"  FROM  pg_catalog.pg_namespace pkn, pg_catalog.pg_class pkc, pg_catalog.pg_attribute pka,  pg_catalog.pg_namespace fkn, pg_catalog.pg_class fkc, pg_catalog.pg_attribute fka,  pg_catalog.pg_constraint con,  pg_catalog.generate_series(1, 32) pos(n),  pg_catalog.pg_class pkic WHERE pkn.oid = pkc.relnamespace AND pkc.oid = pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = pkc.oid  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND fka.attnum = con.conkey[pos.n] AND con.conrelid = fkc.oid  AND con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND pkic.oid = con.conindid  AND fkn.nspname = $1 AND fkc.relname = $2 ORDER BY pkn.nspname,pkc.relname, con.conname,pos.n)sql";

// indexes
const char* const kJdbc_indexes = R"sql(SELECT     tmp.TABLE_CAT AS "TABLE_CAT",     tmp.TABLE_SCHEM AS "TABLE_SCHEM",     tmp.TABLE_NAME AS "TABLE_NAME",     tmp.NON_UNIQUE AS "NON_UNIQUE",     tmp.INDEX_QUALIFIER AS "INDEX_QUALIFIER",     tmp.INDEX_NAME AS "INDEX_NAME",     tmp.TYPE AS "TYPE",     tmp.ORDINAL_POSITION AS "ORDINAL_POSITION",     trim(both '"' from pg_catalog.pg_get_indexdef(tmp.CI_OID, tmp.ORDINAL_POSITION, false)) AS "COLUMN_NAME",   CASE tmp.AM_NAME     WHEN 'btree' THEN CASE tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint       WHEN 1 THEN 'D'       ELSE 'A'     END     ELSE NULL   END AS "ASC_OR_DESC",     tmp.CARDINALITY AS "CARDINALITY",     tmp.PAGES AS "PAGES",     tmp.FILTER_CONDITION AS "FILTER_CONDITION",     tmp.REMARKS AS "REMARKS"FROM (SELECT current_database() AS TABLE_CAT,  n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, NOT i.indisunique AS NON_UNIQUE,   NULL AS INDEX_QUALIFIER, ci.relname AS INDEX_NAME,   CASE i.indisclustered     WHEN true THEN 1    ELSE CASE am.amname       WHEN 'hash' THEN 2      ELSE 3    END   END AS TYPE,   (information_schema._pg_expandarray(i.indkey)).n AS ORDINAL_POSITION,   ci.reltuples AS CARDINALITY,   ci.relpages AS PAGES,   pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS FILTER_CONDITION,   ci.oid AS CI_OID,   i.indoption AS I_INDOPTION,   am.amname AS AM_NAME,   d.description AS REMARKS FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON (ct.oid = i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)   JOIN pg_catalog.pg_am am ON (ci.relam = am.oid)   LEFT JOIN pg_catalog.pg_description d ON (ci.oid = d.objoid) WHERE true  AND n.nspname = $1 AND ct.relname = $2) AS tmp ORDER BY "NON_UNIQUE", "TYPE", "INDEX_NAME", "ORDINAL_POSITION" )sql";

// typeinfo
const char* const kJdbc_typeinfo = R"sql(SELECT t.typname,t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON (t.typnamespace = n.oid)  WHERE n.nspname  != 'pg_toast' AND  (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid)))sql";

// privileges
const char* const kJdbc_privileges = R"sql(SELECT current_database() AS current_database, n.nspname,c.relname,r.rolname,c.relacl  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c, pg_catalog.pg_roles r  WHERE c.relnamespace = n.oid  AND c.relowner = r.oid  AND c.relkind IN ('r','p','v','m','f')  AND n.nspname LIKE $1 AND c.relname LIKE $2 ORDER BY nspname, relname )sql";

// functions
const char* const kJdbc_functions = R"sql(SELECT current_database() AS "FUNCTION_CAT",  n.nspname AS "FUNCTION_SCHEM", p.proname AS "FUNCTION_NAME",  d.description AS "REMARKS",  CASE    WHEN (format_type(p.prorettype, null) = 'unknown') THEN 0   WHEN      (substring(pg_get_function_result(p.oid) from 0 for 6) = 'TABLE') OR      (substring(pg_get_function_result(p.oid) from 0 for 6) = 'SETOF') THEN 2   ELSE 1 END  AS "FUNCTION_TYPE",  p.proname || '_' || p.oid AS "SPECIFIC_NAME" FROM pg_catalog.pg_proc p INNER JOIN pg_catalog.pg_namespace n ON p.pronamespace=n.oid LEFT JOIN pg_catalog.pg_description d ON p.oid=d.objoid WHERE true   AND p.prokind='f' AND n.nspname LIKE $1 AND p.proname LIKE $2 ORDER BY "FUNCTION_SCHEM", "FUNCTION_NAME", p.oid::text )sql";

// typlen
const char* const kJdbc_typlen = R"sql(SELECT t.typlen FROM pg_catalog.pg_type t, pg_catalog.pg_namespace n WHERE t.typnamespace=n.oid AND t.typname='name' AND n.nspname='pg_catalog')sql";

// listing
const char* const kJdbc_listing = R"sql(SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  ORDER BY sp.r, pg_type.oid DESC)sql";

// byname
const char* const kJdbc_byname = R"sql(SELECT pg_type.oid, typname   FROM pg_catalog.pg_type   LEFT   JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE typname = $1  ORDER BY sp.r, pg_type.oid DESC LIMIT 1)sql";

TEST(PgJdbcCatalog, CatalogsSchemasAndTables) {
  auto catalogs = answer(kJdbc_catalogs);
  ASSERT_FALSE(catalogs.error) << catalogs.error->message;
  EXPECT_EQ(catalogs.result.rows, (Rows{{"spotify"}}));
  // pg_catalog is listed (pg_type's rows are there); pg_temp_ and pg_toast are not.
  auto schemas = answer(kJdbc_schemas, {"%"});
  ASSERT_FALSE(schemas.error) << schemas.error->message;
  EXPECT_EQ(schemas.result.rows, (Rows{{"pg_catalog", "spotify"}, {"spotify", "spotify"}}));
  EXPECT_EQ(answer(kJdbc_schemas, {"spot%"}).result.rows, (Rows{{"spotify", "spotify"}}));

  // TABLE_TYPE is pgjdbc's CASE over the schema and relkind; the filter is an OR of ANDs.
  auto t = answer(kJdbc_tables, {"spotify", "%"});
  ASSERT_FALSE(t.error) << t.error->message;
  EXPECT_EQ(pick(t, {"TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS"}),
            (Rows{{"spotify", "spotify", "albums_data", "TABLE", std::nullopt},
                  {"spotify", "spotify", "songs_data", "TABLE", std::nullopt}}));
  EXPECT_EQ(pick(answer(kJdbc_tables, {"spotify", "song%"}), {"TABLE_NAME"}), (Rows{{"songs_data"}}));
  EXPECT_TRUE(answer(kJdbc_tables, {"pg_catalog", "%"}).result.rows.empty());
  // Asking for views only: `(false OR (c.relkind = 'v' AND ...))`, and no table is a view.
  std::string views = kJdbc_tables;
  views.replace(views.find("OR ( c.relkind = 'r'"), std::string("OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ) ").size(), "");
  auto v = answer(views, {"spotify", "%"});
  ASSERT_FALSE(v.error) << v.error->message;
  EXPECT_TRUE(v.result.rows.empty());
}

TEST(PgJdbcCatalog, ColumnsAreNumberedBeforeTheirNamesAreFiltered) {
  auto c = answer(kJdbc_columns, {"spotify", "songs_data", "%"});
  ASSERT_FALSE(c.error) << c.error->message;
  EXPECT_EQ(pick(c, {"relname", "attname", "atttypid", "attnotnull", "attnum", "attidentity", "typtype", "typbasetype"}),
            (Rows{{"songs_data", "song_id", "25", "f", "1", std::nullopt, "b", "0"},
                  {"songs_data", "popularity", "20", "f", "2", std::nullopt, "b", "0"},
                  {"songs_data", "artists", "1009", "f", "3", std::nullopt, "b", "0"},
                  {"songs_data", "dt", "25", "f", "4", std::nullopt, "b", "0"}}));
  // row_number() numbers the table's columns; the name filter outside keeps popularity's 2.
  EXPECT_EQ(pick(answer(kJdbc_columns, {"spotify", "songs_data", "%pop%"}), {"attname", "attnum"}),
            (Rows{{"popularity", "2"}}));
  EXPECT_EQ(answer(kJdbc_columns, {"spotify", "%", "%"}).result.rows.size(), 7u);
  EXPECT_TRUE(answer(kJdbc_columns, {"spotify", "no_such_table", "%"}).result.rows.empty());
}

TEST(PgJdbcCatalog, KeysIndexesFunctionsAndPrivileges) {
  // pg_settings: the one pgjdbc reads before its foreign keys.
  EXPECT_EQ(answer(kJdbc_settings).result.rows, (Rows{{"32"}}));
  // Foreign keys join generate_series and pg_class three times, all through pg_constraint,
  // which has no rows: none, with pgjdbc's 14 columns.
  auto fk = answer(kJdbc_fkeys, {"spotify", "songs_data"});
  ASSERT_FALSE(fk.error) << fk.error->message;
  EXPECT_TRUE(fk.result.rows.empty());
  EXPECT_EQ(fk.result.columns.size(), 14u);
  auto indexes = answer(kJdbc_indexes, {"spotify", "songs_data"});  // trim(both '"' from ...) is not a FROM
  ASSERT_FALSE(indexes.error) << indexes.error->message;
  EXPECT_TRUE(indexes.result.rows.empty());
  auto functions = answer(kJdbc_functions, {"spotify", "%"});  // substring(... from 0 for 6) neither
  ASSERT_FALSE(functions.error) << functions.error->message;
  EXPECT_TRUE(functions.result.rows.empty());
  // The owner (the session's user) may read, and only read: a NULL relacl would say every privilege.
  auto privileges = answer(kJdbc_privileges, {"spotify", "songs_data"});
  ASSERT_FALSE(privileges.error) << privileges.error->message;
  EXPECT_EQ(pick(privileges, {"relname", "rolname", "relacl"}), (Rows{{"songs_data", "bi", "{bi=r/bi}"}}));
}

TEST(PgJdbcCatalog, TypesAreTheOnesTheEndpointSends) {
  const std::size_t types = type_rows().size();
  auto info = answer(kJdbc_typeinfo);  // its OR's subquery is never needed: typrelid is 0
  ASSERT_FALSE(info.error) << info.error->message;
  EXPECT_EQ(info.result.rows.size(), types);
  EXPECT_EQ(answer(kJdbc_typlen).result.rows, (Rows{{"64"}}));
  auto listing = answer(kJdbc_listing);
  ASSERT_EQ(listing.result.rows.size(), types);
  std::int32_t highest = 0;
  for (const auto& t : type_rows()) highest = std::max(highest, t.oid);
  EXPECT_EQ(listing.result.rows.front()[3], std::to_string(highest)) << "by oid, descending";
  for (const auto& row : listing.result.rows) EXPECT_EQ(row[0] == "t", row[2]->front() == '_') << *row[2];
  EXPECT_EQ(answer(kJdbc_byname, {"varchar"}).result.rows, (Rows{{"1043", "varchar"}}));
  EXPECT_EQ(answer(kJdbc_byname, {"_int8"}).result.rows, (Rows{{"1016", "_int8"}}));
  EXPECT_TRUE(answer(kJdbc_byname, {"hstore"}).result.rows.empty());
  // Not that query: a different ORDER BY is read by the emulation, which refuses the USING join.
  std::string other = kJdbc_byname;
  other.replace(other.find("DESC LIMIT 1"), 12, "ASC LIMIT 1");
  EXPECT_TRUE(answer(other, {"text"}).error.has_value());
}

TEST(PgJdbcCatalog, ConditionsAndCasesReadAsPostgresDoes) {
  auto names = [](const LocalOutcome& o) {
    std::vector<std::string> out;
    if (o.error) out.push_back("ERROR " + o.error->message);
    for (const auto& row : o.result.rows) out.push_back(row[0].value_or("NULL"));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names(answer("SELECT relname FROM pg_class WHERE relname = 'songs_data' OR relname LIKE 'alb%' ORDER BY 1")),
            (V{"albums_data", "songs_data"}));
  // AND binds tighter than OR; NOT tighter than both.
  EXPECT_EQ(names(answer("SELECT relname FROM pg_class WHERE relname = 'x' AND relkind = 'r' OR relname = 'songs_data'")),
            (V{"songs_data"}));
  EXPECT_EQ(names(answer("SELECT relname FROM pg_class WHERE NOT relname = 'songs_data' OR false")), (V{"albums_data"}));
  // Three-valued: NULL OR false is NULL, and NOT NULL is NULL: no row either way.
  EXPECT_EQ(names(answer("SELECT relname FROM pg_class WHERE reloptions = 'x' OR false")), V{});
  EXPECT_EQ(names(answer("SELECT relname FROM pg_class WHERE NOT (reloptions = 'x' OR false)")), V{});
  EXPECT_EQ(names(answer("SELECT relname FROM pg_class WHERE reloptions = 'x' OR true ORDER BY 1")),
            (V{"albums_data", "songs_data"}));
  EXPECT_EQ(names(answer("SELECT datname FROM pg_database WHERE datallowconn = false")), V{});
  EXPECT_EQ(names(answer("SELECT datname FROM pg_database WHERE datistemplate <> true")), V{"spotify"});
  // CASE: searched, simple, nested, without ELSE; only the arm a row takes is read.
  EXPECT_EQ(names(answer("SELECT CASE WHEN relname = 'songs_data' THEN 'songs' WHEN relkind = 'r' THEN 'other' END "
                         "FROM pg_class ORDER BY relname")),
            (V{"other", "songs"}));
  EXPECT_EQ(names(answer("SELECT CASE relkind WHEN 'v' THEN upper(relname) ELSE CASE WHEN relname ~ '^s' THEN 's' END END "
                         "FROM pg_class ORDER BY relname")),
            (V{"NULL", "s"}));
  auto reached = answer("SELECT CASE WHEN relname = 'songs_data' THEN upper(relname) END FROM pg_class");
  ASSERT_TRUE(reached.error.has_value());
  EXPECT_EQ(reached.error->sqlstate, "0A000");
  EXPECT_EQ(names(answer("SELECT nullif(relkind, 'r'), nullif(relname, 'x') FROM pg_class LIMIT 1")), V{"NULL"});
  EXPECT_EQ(names(answer("SELECT nspname FROM pg_namespace WHERE nspname = replace('pg_toast_catalog', 'toast_', '')")),
            V{"pg_catalog"});
  EXPECT_EQ(names(answer("SELECT nspname FROM pg_namespace WHERE nspname = (pg_catalog.current_schemas(false))[1]")),
            V{"spotify"});
}

TEST(PgJdbcCatalog, JoinsItCannotReadAreRefused) {
  for (const char* sql : {
           // a subquery with rows, joined
           "SELECT c.relname FROM pg_class c, (SELECT oid FROM pg_namespace) n",
           // generate_series with rows to multiply
           "SELECT relname, g FROM pg_class, generate_series(1, 1000000) g",
           // pg_type joined other than a column's type
           "SELECT t.typname FROM pg_type t, pg_class c",
           // pg_namespace joined without a namespace condition: a cross join
           "SELECT c.relname, n.nspname FROM pg_class c, pg_namespace n",
           // a row_number() of another form
           "SELECT row_number() OVER (ORDER BY relname) FROM pg_class",
           // CASE nested past the bound
           "SELECT CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN "
           "CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN "
           "CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN CASE WHEN true THEN "
           "CASE WHEN true THEN CASE WHEN true THEN 1 END END END END END END END END END END END END END END END END END "
           "FROM pg_class",
       }) {
    auto o = answer(sql);
    ASSERT_TRUE(o.error.has_value()) << sql << " was answered with " << o.result.rows.size() << " rows";
    EXPECT_EQ(o.error->sqlstate, "0A000") << sql;
  }
}

TEST(PgJdbcCatalog, DeepNestingIsBoundedNotRecursedWithoutEnd) {
  // ORs and NOTs nested past Condition::kMaxDepth, 8 KB of them (the longest statement
  // answered here): refused, without recursing once per level.
  std::string nested = "relname = 'x'";
  while (nested.size() < 7000) nested = "(relname = 'y' or not (" + nested + "))";
  auto deep = answer("SELECT relname FROM pg_class WHERE " + nested);
  ASSERT_TRUE(deep.error.has_value());
  EXPECT_NE(deep.error->message.find("nested this deep"), std::string::npos) << deep.error->message;
  std::string shallow = "relname = 'songs_data'";
  for (int i = 0; i < 10; ++i) shallow = "(relname = 'y' or not not (" + shallow + "))";
  EXPECT_EQ(answer("SELECT relname FROM pg_class WHERE " + shallow).result.rows, (Rows{{"songs_data"}}));
  // Subqueries in FROM inside subqueries: each would be answered by a call of its own.
  std::string from = "pg_class";
  for (int i = 0; i < 40; ++i) from = "(SELECT * FROM " + from + ") s" + std::to_string(i);
  auto subqueries = answer("SELECT relname FROM " + from);
  ASSERT_TRUE(subqueries.error.has_value());
  EXPECT_EQ(subqueries.error->sqlstate, "0A000");
  std::string few = "pg_class";
  for (int i = 0; i < 3; ++i) few = "(SELECT relname FROM " + few + ") s" + std::to_string(i);
  EXPECT_EQ(answer("SELECT relname FROM " + few + " ORDER BY 1").result.rows, (Rows{{"albums_data"}, {"songs_data"}}));
}

// The forms of Metabase's sync (as of 0.55), in queries of our own: its table list
// quotes every identifier and LEFT JOINs pg_stat_user_tables; its table privileges are a
// WITH over a UNION of pg_tables, pg_views and pg_matviews, with has_*_privilege().
TEST(PgBiCatalog, QuotedIdentifiersAreReadAsTheNamesTheyQuote) {
  auto t = answer(R"sql(SELECT "n"."nspname" AS "schema", "c"."relname" AS "name",
      CASE "c"."relkind" WHEN 'r' THEN 'TABLE' WHEN 'v' THEN 'VIEW' ELSE NULL END AS "type",
      "d"."description" AS "description", "stat"."n_live_tup" AS "estimated_row_count"
    FROM "pg_catalog"."pg_class" AS "c" INNER JOIN "pg_catalog"."pg_namespace" AS "n" ON "c"."relnamespace" = "n"."oid"
    LEFT JOIN "pg_catalog"."pg_description" AS "d" ON ("c"."oid" = "d"."objoid") AND ("d"."objsubid" = '0')
    LEFT JOIN "pg_stat_user_tables" AS "stat" ON ("c"."relname" = "stat"."relname")
    WHERE ("n"."nspname" !~ '^pg_') AND c.relkind IN ('r', 'v') AND ("n"."nspname" IN ('spotify'))
    ORDER BY "type" ASC, "name" DESC)sql");
  ASSERT_FALSE(t.error) << t.error->message;
  EXPECT_EQ(t.result.rows, (Rows{{"spotify", "songs_data", "TABLE", std::nullopt, std::nullopt},
                                 {"spotify", "albums_data", "TABLE", std::nullopt, std::nullopt}}));
  EXPECT_EQ(t.result.columns[2].name, "type");
  // A quoted name that is not the same unquoted stays quoted, and a string stays as it is.
  EXPECT_EQ(catalog_text(normalize(R"(SELECT "RelName", 'a"b"c' FROM "pg_class")")),
            R"(select "RelName", 'a"b"c' from pg_class)");
  EXPECT_TRUE(answer(R"(SELECT "RelName" FROM "pg_class")").error.has_value()) << "no column RelName";
  // Nor one the emulation reads the statement by: a column named "from" is not the keyword.
  EXPECT_EQ(catalog_text(normalize(R"(SELECT "from", "x" FROM "pg_class")")), R"(select "from", x from pg_class)");
}

TEST(PgBiCatalog, WithQueriesAreReadAsSubqueriesAndUnionsJoinTheirRows) {
  auto privileges = answer(R"sql(WITH readable AS (
      SELECT NULL AS role, t.schemaname AS schema, t.objectname AS table,
        has_any_column_privilege(current_user, '"' || t.schemaname || '"."' || t.objectname || '"', 'select') AS select,
        pg_catalog.has_table_privilege(current_user, t.objectname, 'UPDATE') AS update
      FROM (SELECT schemaname, tablename AS objectname FROM pg_catalog.pg_tables
            UNION SELECT schemaname, viewname AS objectname FROM pg_catalog.pg_views) t
      WHERE t.schemaname !~ '^pg_' AND pg_catalog.has_schema_privilege(current_user, t.schemaname, 'usage'))
    SELECT r.* FROM readable r)sql");
  ASSERT_FALSE(privileges.error) << privileges.error->message;
  EXPECT_EQ(privileges.result.rows, (Rows{{std::nullopt, "spotify", "albums_data", "t", "f"},
                                          {std::nullopt, "spotify", "songs_data", "t", "f"}}));
  ASSERT_EQ(privileges.result.columns.size(), 5u);
  EXPECT_EQ(privileges.result.columns[3].name, "select");
  // A string that reads like a FROM stays as it is.
  EXPECT_EQ(answer("WITH a AS (SELECT relname FROM pg_class) SELECT 'from a' AS s FROM a LIMIT 1").result.rows,
            (Rows{{"from a"}}));
  // Two queries, the second reading the first; the name without an alias.
  auto chained = answer("WITH a AS (SELECT relname FROM pg_class), b AS (SELECT relname FROM a WHERE relname LIKE 's%') "
                        "SELECT relname FROM b");
  ASSERT_FALSE(chained.error) << chained.error->message;
  EXPECT_EQ(chained.result.rows, (Rows{{"songs_data"}}));
  // UNION is distinct, UNION ALL not; an ORDER BY after the last branch is the UNION's: refused.
  EXPECT_EQ(answer("SELECT relkind FROM pg_class UNION SELECT relkind FROM pg_class").result.rows, (Rows{{"r"}}));
  EXPECT_EQ(answer("SELECT relkind FROM pg_class UNION ALL SELECT 'x' FROM pg_index").result.rows, (Rows{{"r"}, {"r"}}));
  EXPECT_EQ(answer("SELECT relname FROM pg_class UNION ALL SELECT nspname FROM pg_namespace").result.rows.size(), 4u);
  for (const char* sql : {"SELECT relname FROM pg_class UNION SELECT nspname FROM pg_namespace ORDER BY 1",
                          "SELECT relname FROM pg_class UNION SELECT relname, relkind FROM pg_class",
                          "WITH a AS (SELECT relname FROM pg_class) SELECT a.relname FROM a JOIN songs_data s ON true"}) {
    auto o = answer(sql);
    ASSERT_TRUE(o.error.has_value()) << sql << " was answered with " << o.result.rows.size() << " rows";
    EXPECT_EQ(o.error->sqlstate, "0A000") << sql;
  }
  // Not inlined (the engine gets these as they are, and its gate refuses catalogs).
  for (const char* sql : {"WITH RECURSIVE a AS (SELECT relname FROM pg_class) SELECT relname FROM a",
                          "WITH a (x) AS (SELECT relname FROM pg_class) SELECT x FROM a",
                          "WITH a AS MATERIALIZED (SELECT relname FROM pg_class) SELECT relname FROM a"})
    EXPECT_EQ(catalog_text(normalize(sql)), normalize(sql));
}

}  // namespace
}  // namespace etl::pgwire
