// COPY ... TO STDOUT for the PostgreSQL endpoint: what a statement runs and how
// its rows are written (PostgreSQL's text escapes and CSV quoting), and every
// COPY this endpoint refuses, with its SQLSTATE.
#include <gtest/gtest.h>

#include "pgwire/copy_out.h"

namespace etl::pgwire {
namespace {

CopyOut parsed(const std::string& sql) {
  auto statement = parse_copy(sql);
  EXPECT_TRUE(statement.has_value()) << sql;
  if (!statement) return {};
  EXPECT_FALSE(statement->error.has_value()) << sql << ": " << (statement->error ? statement->error->message : "");
  return statement->copy.value_or(CopyOut{});
}

TEST(PgCopy, TheQueryOrTableItRuns) {
  EXPECT_EQ(parsed("COPY (SELECT a, (b) FROM t WHERE c IN (1, 2)) TO STDOUT").query, "SELECT a, (b) FROM t WHERE c IN (1, 2)");
  EXPECT_EQ(parsed("copy songs_data to stdout").query, "SELECT * FROM songs_data");
  EXPECT_EQ(parsed("COPY spotify.\"songs_data\" (song_id, \"song_name\") TO STDOUT").query,
            "SELECT song_id, \"song_name\" FROM spotify.\"songs_data\"");
  EXPECT_EQ(parsed("COPY ( WITH x AS (SELECT 1) SELECT * FROM x ) TO STDOUT").query, "WITH x AS (SELECT 1) SELECT * FROM x");
  EXPECT_EQ(parsed("COPY ((SELECT 1) UNION (SELECT 2)) TO STDOUT").query, "(SELECT 1) UNION (SELECT 2)");
  EXPECT_EQ(parsed("COPY (VALUES (1), (2)) TO STDOUT").query, "VALUES (1), (2)");
  EXPECT_FALSE(parse_copy("SELECT 1").has_value());
  EXPECT_FALSE(parse_copy("COPYRIGHT").has_value());
}

TEST(PgCopy, OptionsInTheListAndInTheOlderSyntax) {
  const CopyFormat text = parsed("COPY t TO STDOUT").format;
  EXPECT_FALSE(text.csv);
  EXPECT_EQ(text.delimiter, '\t');
  EXPECT_EQ(text.null_string, "\\N");
  EXPECT_FALSE(text.header);
  for (const char* sql : {"COPY t TO STDOUT (FORMAT csv, HEADER)", "COPY t TO STDOUT WITH (FORMAT 'csv', HEADER true)",
                          "COPY t TO STDOUT WITH CSV HEADER", "COPY t TO STDOUT CSV HEADER"}) {
    const CopyFormat csv = parsed(sql).format;
    EXPECT_TRUE(csv.csv) << sql;
    EXPECT_TRUE(csv.header) << sql;
    EXPECT_EQ(csv.delimiter, ',') << sql;
    EXPECT_EQ(csv.null_string, "") << sql;
  }
  const CopyFormat custom = parsed("COPY t TO STDOUT (FORMAT csv, DELIMITER ';', NULL 'NA', QUOTE '''', ESCAPE '\\', "
                                   "FORCE_QUOTE *, HEADER off, ENCODING 'UTF8')").format;
  EXPECT_EQ(custom.delimiter, ';');
  EXPECT_EQ(custom.null_string, "NA");
  EXPECT_EQ(custom.quote, '\'');
  EXPECT_EQ(custom.escape, '\\');
  EXPECT_TRUE(custom.force_quote_all);
  EXPECT_FALSE(custom.header);
  EXPECT_EQ(parsed("COPY t TO STDOUT DELIMITER AS E'\\t' NULL AS ''").format.delimiter, '\t');
  EXPECT_EQ(parsed("COPY t TO STDOUT WITH DELIMITER '|' CSV QUOTE AS '\"' FORCE QUOTE *").format.delimiter, '|');
}

TEST(PgCopy, WhatIsRefusedAndWhy) {
  const struct {
    const char* sql;
    const char* sqlstate;
  } cases[] = {
      {"COPY t FROM STDIN", "42501"},
      {"COPY t TO '/etc/passwd'", "42501"},
      {"COPY t TO PROGRAM 'rm -rf /'", "42501"},
      {"COPY (SELECT 1) TO STDOUT (FORMAT binary)", "0A000"},
      {"COPY t TO STDOUT BINARY", "0A000"},
      {"COPY t TO STDOUT (FREEZE)", "0A000"},
      {"COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (a))", "0A000"},
      {"COPY t TO STDOUT (QUOTE '\"')", "0A000"},  // CSV only
      {"COPY t TO STDOUT (HEADER MATCH)", "0A000"},
      {"COPY t TO STDOUT (ENCODING 'LATIN1')", "0A000"},
      {"COPY t TO STDOUT (FORMAT xml)", "22023"},
      {"COPY t TO STDOUT (DELIMITER ';;')", "22023"},
      {"COPY t TO STDOUT (DELIMITER E'\\n')", "22023"},
      {"COPY t TO STDOUT (FORMAT csv, DELIMITER '\"')", "22023"},
      {"COPY t TO STDOUT (NULL E'\\r')", "22023"},
      {"COPY t TO STDOUT (HEADER maybe)", "22023"},
      {"COPY () TO STDOUT", "42601"},
      {"COPY (SET statement_timeout = 5) TO STDOUT", "42601"},  // never carried out
      {"COPY (SHOW ALL) TO STDOUT", "42601"},
      {"COPY t (a,) TO STDOUT", "42601"},
      {"COPY t (a b) TO STDOUT", "42601"},
      {"COPY t STDOUT", "42601"},
      {"COPY t TO STDOUT (FORMAT csv", "42601"},
      {"COPY t TO STDOUT (FORMAT csv) extra", "42601"},
      {"COPY t TO STDOUT CSV NONSENSE", "42601"},
      {"COPY t TO STDOUT (DELIMITER)", "42601"},
      {"COPY", "42601"},
  };
  for (const auto& c : cases) {
    auto statement = parse_copy(c.sql);
    ASSERT_TRUE(statement.has_value()) << c.sql;
    ASSERT_TRUE(statement->error.has_value()) << c.sql << " was taken";
    EXPECT_EQ(statement->error->sqlstate, c.sqlstate) << c.sql << ": " << statement->error->message;
    EXPECT_FALSE(statement->copy.has_value());
  }
}

// PostgreSQL's CopyAttributeOutText: backslash escapes, the delimiter escaped, NULL as \N.
TEST(PgCopy, TextRowsEscapeAsPostgreSql) {
  CopyFormat text;
  EXPECT_EQ(copy_row({"a", std::nullopt, "", "tab\there", "line\nbreak\r", "back\\slash", "\b\f\v"}, text),
            "a\t\\N\t\ttab\\there\tline\\nbreak\\r\tback\\\\slash\t\\b\\f\\v\n");
  CopyFormat pipes = text;
  pipes.delimiter = '|';
  EXPECT_EQ(copy_row({"a|b", "c"}, pipes), "a\\|b|c\n");
  EXPECT_EQ(copy_header({"song_id", "name\twith tab"}, text), "song_id\tname\\twith tab\n");
}

// PostgreSQL's CopyAttributeOutCSV: quoted when needed (and when a value equals the
// NULL string, or is \. alone), quotes doubled; NULL unquoted.
TEST(PgCopy, CsvRowsQuoteAsPostgreSql) {
  CopyFormat csv;
  csv.csv = true;
  csv.delimiter = ',';
  csv.null_string = "";
  EXPECT_EQ(copy_row({"plain", std::nullopt, "", "a,b", "say \"hi\"", "two\nlines", "\\.", "1.5"}, csv),
            "plain,,\"\",\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\\.\",1.5\n");
  CopyFormat forced = csv;
  forced.force_quote_all = true;
  EXPECT_EQ(copy_row({"x", std::nullopt}, forced), "\"x\",\n");
  EXPECT_EQ(copy_header({"x", "a,b"}, forced), "x,\"a,b\"\n");
  CopyFormat escaped = csv;
  escaped.escape = '\\';
  EXPECT_EQ(copy_row({"q\"\\"}, escaped), "\"q\\\"\\\\\"\n");
  CopyFormat na = csv;
  na.null_string = "NA";
  EXPECT_EQ(copy_row({"NA", std::nullopt}, na), "\"NA\",NA\n");
}

}  // namespace
}  // namespace etl::pgwire
