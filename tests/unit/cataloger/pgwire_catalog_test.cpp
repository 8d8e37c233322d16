#include <gtest/gtest.h>

#include "pgwire/commands.h"
#include "pgwire/pg_catalog.h"
#include "pgwire/sql_text.h"

namespace etl::pgwire {
namespace {

std::vector<TableInfo> tables() {
  TableInfo albums;
  albums.name = "albums_data";
  albums.columns = {{"album_id", "VARCHAR"}, {"total_tracks", "BIGINT"}};
  TableInfo songs;
  songs.name = "songs_data";
  songs.columns = {{"song_id", "VARCHAR"}, {"popularity", "BIGINT"}, {"artists", "VARCHAR[]"}};
  return {albums, songs};
}

SessionInfo session() {
  SessionInfo s;
  s.user = "bi";
  s.database = "spotify";
  s.schema = "spotify";
  default_settings(s);
  return s;
}

LocalResult ask(const std::string& sql) {
  std::string n = normalize(sql);
  EXPECT_TRUE(reads_catalog(n)) << sql;
  auto select = parse_select(n);
  EXPECT_TRUE(select.has_value()) << sql;
  auto o = catalog_select(*select, tables(), session());
  EXPECT_FALSE(o.error.has_value());
  return o.result;
}

TEST(PgCatalog, PsqlListTablesShowsEveryTable) {
  auto r = ask(R"(SELECT n.nspname as "Schema", c.relname as "Name",
    CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' END as "Type",
    pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
  FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r','p','') AND n.nspname <> 'pg_catalog' AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 1,2;)");
  ASSERT_EQ(r.columns.size(), 4u);
  EXPECT_EQ(r.columns[1].name, "Name");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[1][0].value(), "spotify");
  EXPECT_EQ(r.rows[1][1].value(), "songs_data");
  EXPECT_EQ(r.rows[1][2].value(), "table");
}

TEST(PgCatalog, PsqlDescribeFindsTheTableByRegexThenItsColumnsByOid) {
  auto found = ask(R"(SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname OPERATOR(pg_catalog.~) '^(songs_data)$' COLLATE pg_catalog.default
      AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3;)");
  ASSERT_EQ(found.rows.size(), 1u);
  std::string oid = found.rows[0][0].value();
  EXPECT_EQ(oid, std::to_string(table_oid("songs_data")));
  auto cols = ask("SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull "
                  "FROM pg_catalog.pg_attribute a WHERE a.attrelid = '" + oid + "' AND a.attnum > 0 ORDER BY a.attnum;");
  ASSERT_EQ(cols.rows.size(), 4u) << "3 columns + the dt partition key";
  EXPECT_EQ(cols.rows[2][0].value(), "artists");
  EXPECT_EQ(cols.rows[2][1].value(), "text[]");
  EXPECT_EQ(cols.rows[2][2].value(), "f");
  EXPECT_EQ(cols.columns[2].type_oid, oid::boolean);
  EXPECT_EQ(cols.rows[3][0].value(), "dt");
}

TEST(PgCatalog, CatalogsWithoutRowsAnswerEmptyWithTheirColumns) {
  auto r = ask("SELECT pol.polname, pol.polpermissive FROM pg_catalog.pg_policy pol WHERE pol.polrelid = '1' ORDER BY 1;");
  EXPECT_EQ(r.columns.size(), 2u);
  EXPECT_TRUE(r.rows.empty());
  auto inherits = ask("SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i "
                      "WHERE c.oid = i.inhparent AND i.inhrelid = '1'");
  EXPECT_TRUE(inherits.rows.empty());
}

TEST(PgCatalog, InformationSchemaFiltersByTableAndSchema) {
  auto r = ask("SELECT column_name, data_type FROM information_schema.columns "
               "WHERE table_schema = 'spotify' AND table_name = 'albums_data' ORDER BY ordinal_position");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[1][1].value(), "bigint");
  EXPECT_TRUE(ask("SELECT table_name FROM information_schema.tables WHERE table_schema = 'other'").rows.empty());
  EXPECT_EQ(ask("SELECT * FROM information_schema.tables").columns.size(), 4u);
  auto count = ask("select count(*) from information_schema.tables");
  EXPECT_EQ(count.rows[0][0].value(), "2");
}

TEST(PgCatalog, SqlAlchemyTableNamesRespectRelkind) {
  auto tables = ask("SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON "
                    "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace WHERE pg_catalog.pg_class.relkind = "
                    "ANY (ARRAY[ 'r' ::VARCHAR,  'p' ::VARCHAR]) AND pg_catalog.pg_namespace.nspname !=  'pg_catalog' ");
  EXPECT_EQ(tables.rows.size(), 2u);
  auto views = ask("SELECT pg_catalog.pg_class.relname FROM pg_catalog.pg_class WHERE pg_catalog.pg_class.relkind = "
                   "ANY (ARRAY[ 'v' ::VARCHAR,  'm' ::VARCHAR])");
  EXPECT_TRUE(views.rows.empty());
}

TEST(PgCommands, SetShowAndTransactionsAreAnsweredLocally) {
  auto s = session();
  auto set = session_command(normalize("SET application_name = 'metabase'"), s);
  ASSERT_TRUE(set && !set->error);
  EXPECT_EQ(set->result.tag, "SET");
  auto show = session_command(normalize("SHOW application_name"), s);
  ASSERT_TRUE(show && !show->error);
  EXPECT_EQ(show->result.rows[0][0].value(), "metabase");
  EXPECT_EQ(session_command("show transaction isolation level", s)->result.columns[0].name, "transaction_isolation");
  EXPECT_EQ(session_command("show no_such_thing", s)->error->sqlstate, "42704");
  EXPECT_EQ(session_command("set role postgres", s)->error->sqlstate, "42501");
  EXPECT_EQ(session_command("set session authorization postgres", s)->error->sqlstate, "42501");
  EXPECT_EQ(session_command("set client_encoding = 'latin1'", s)->error->sqlstate, "22023");
  EXPECT_EQ(session_command("begin", s)->tx, TxEffect::begin);
  EXPECT_EQ(session_command("rollback", s)->tx, TxEffect::rollback);
  EXPECT_EQ(session_command("start transaction read write", s)->error->sqlstate, "25006");
  EXPECT_FALSE(session_command("select 1", s).has_value());
}

TEST(PgCommands, SessionFunctionsWithoutFrom) {
  auto s = session();
  auto v = session_select(*parse_select(normalize("select pg_catalog.version()")), s);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->result.rows[0][0].value().rfind("PostgreSQL 15.0", 0), 0u);
  auto both = session_select(*parse_select(normalize("SELECT current_database(), current_schema() AS s")), s);
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->result.columns[1].name, "s");
  EXPECT_EQ(both->result.rows[0][1].value(), "spotify");
  EXPECT_FALSE(session_select(*parse_select("select 1"), s).has_value()) << "plain SELECT 1 goes to the engine";
  EXPECT_FALSE(session_select(*parse_select("select version(), x"), s).has_value());
}

}  // namespace
}  // namespace etl::pgwire
