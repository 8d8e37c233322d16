#include <gtest/gtest.h>

#include "pgwire/cursors.h"

namespace etl::pgwire {
namespace {

CursorStatement statement(const std::string& sql) {
  auto parsed = parse_cursor_statement(sql);
  EXPECT_TRUE(parsed.has_value()) << sql;
  if (!parsed) return {};
  if (const auto* err = std::get_if<SqlError>(&*parsed)) ADD_FAILURE() << sql << ": " << err->message;
  const auto* c = std::get_if<CursorStatement>(&*parsed);
  return c ? *c : CursorStatement{};
}

std::string refusal(const std::string& sql) {
  auto parsed = parse_cursor_statement(sql);
  if (!parsed) return "not a cursor statement";
  const auto* err = std::get_if<SqlError>(&*parsed);
  return err ? err->sqlstate : "accepted";
}

TEST(PgCursors, DeclareAsPsycopgAndPsqlWriteIt) {
  auto c = statement("DECLARE \"Stream \"\"1\"\"\" NO SCROLL CURSOR WITH HOLD FOR SELECT song_id FROM songs_data WHERE x = 'FOR';");
  EXPECT_EQ(c.kind, CursorStatement::Kind::declare);
  EXPECT_EQ(c.name, "Stream \"1\"") << "quoted: case and quotes kept";
  EXPECT_TRUE(c.hold);
  EXPECT_EQ(c.query, "SELECT song_id FROM songs_data WHERE x = 'FOR'") << "the client's own text, without the ';'";
  auto plain = statement("declare C1 cursor without hold for\n  with t as (select 1) select * from t");
  EXPECT_EQ(plain.name, "c1") << "unquoted names fold to lower case";
  EXPECT_FALSE(plain.hold);
  EXPECT_EQ(plain.query, "with t as (select 1) select * from t");
}

TEST(PgCursors, FetchAndMoveGoForwardOnly) {
  auto f = statement("FETCH FORWARD 2000 FROM \"_pg3_c\"");
  EXPECT_EQ(f.kind, CursorStatement::Kind::fetch);
  EXPECT_EQ(f.count, 2000);
  EXPECT_EQ(f.name, "_pg3_c");
  EXPECT_EQ(statement("fetch all in c").count, -1);
  EXPECT_EQ(statement("FETCH FORWARD ALL FROM c").count, -1);
  EXPECT_EQ(statement("FETCH c").count, 1);
  EXPECT_EQ(statement("FETCH NEXT FROM c").count, 1);
  EXPECT_EQ(statement("fetch 10 c;").count, 10);
  auto m = statement("MOVE 5 IN c");
  EXPECT_EQ(m.kind, CursorStatement::Kind::move);
  EXPECT_EQ(m.count, 5);
  EXPECT_EQ(statement("CLOSE \"_pg3_c\"").kind, CursorStatement::Kind::close);
  EXPECT_EQ(statement("close all").kind, CursorStatement::Kind::close_all);
}

TEST(PgCursors, WhatTheEndpointCannotDoIsRefusedByName) {
  EXPECT_EQ(refusal("DECLARE c SCROLL CURSOR FOR SELECT 1"), "0A000");
  EXPECT_EQ(refusal("DECLARE c BINARY CURSOR FOR SELECT 1"), "0A000");
  EXPECT_EQ(refusal("FETCH BACKWARD 1 FROM c"), "0A000");
  EXPECT_EQ(refusal("FETCH PRIOR FROM c"), "0A000");
  EXPECT_EQ(refusal("FETCH ABSOLUTE 3 FROM c"), "0A000");
  EXPECT_EQ(refusal("FETCH 0 FROM c"), "0A000");
  EXPECT_EQ(refusal("FETCH -1 FROM c"), "0A000");
  EXPECT_EQ(refusal("MOVE -3 FROM c"), "0A000");
  EXPECT_EQ(refusal("FETCH 99999999999999999999 FROM c"), "42601");
  EXPECT_EQ(refusal("DECLARE c CURSOR FOR DELETE FROM songs_data"), "42601");
  EXPECT_EQ(refusal("DECLARE c CURSOR SELECT 1"), "42601");
  EXPECT_EQ(refusal("DECLARE \"\" CURSOR FOR SELECT 1"), "42601");
  EXPECT_EQ(refusal("DECLARE \"unclosed CURSOR FOR SELECT 1"), "42601");
  EXPECT_EQ(refusal("FETCH 1 FROM c extra"), "42601");
  EXPECT_EQ(refusal("CLOSE"), "42601");
  EXPECT_EQ(refusal("SELECT 1"), "not a cursor statement");
  EXPECT_EQ(refusal("declared_table"), "not a cursor statement");
  EXPECT_EQ(refusal("closeness"), "not a cursor statement");
}

}  // namespace
}  // namespace etl::pgwire
