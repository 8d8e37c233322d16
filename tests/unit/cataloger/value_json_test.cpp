#include "value_json.h"

#include <gtest/gtest.h>

#include "cataloger_fixtures.h"
#include "etl/duck.h"

namespace etl::cataloger {
namespace {

ResultSet run(const std::string& sql) {
  static testing::Stack s;
  static auto engine = DuckDbEngine::open({s.root, "spotify", 1, "", {}, 0}).value();
  auto session = engine->session().value();
  auto r = session->execute(sql, 1 << 20, true, Dialect::duckdb);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(r).value();
}

TEST(ValueJson, DatesAndTimestampsAreIsoAndUtc) {
  auto r = run("SELECT DATE '2026-11-21', TIMESTAMP '2026-11-21 06:00:00', TIMESTAMPTZ '2026-11-21 07:00:00+01', "
               "TIMESTAMP '2026-11-21 06:00:00.250', DATE '1969-12-31', TIME '06:30:00'");
  EXPECT_EQ(r.rows.at(0),
            R"(["2026-11-21","2026-11-21T06:00:00Z","2026-11-21T06:00:00Z","2026-11-21T06:00:00.25Z","1969-12-31","06:30:00"])");
  EXPECT_EQ(r.columns.at(1).type, "TIMESTAMP");
  EXPECT_EQ(r.columns.at(2).type, "TIMESTAMP WITH TIME ZONE");
}

TEST(ValueJson, NumbersBooleansAndNullsAreJsonScalars) {
  auto r = run("SELECT 9007199254740993::BIGINT, -5::INTEGER, 1.5::DOUBLE, 12.50::DECIMAL(10,2), true, NULL, "
               "170141183460469231731687303715884105727::HUGEINT, 255::UTINYINT");
  EXPECT_EQ(r.rows.at(0), R"([9007199254740993,-5,1.5,12.50,true,null,170141183460469231731687303715884105727,255])");
  EXPECT_EQ(r.columns.at(0).type, "BIGINT");
  EXPECT_EQ(r.columns.at(3).type, "DECIMAL(10,2)");
}

// JSON has no NaN or Infinity. A null would read as SQL's NULL (count(x) counts NaN,
// `x IS NULL` is false for it), so they are strings, as Trino's protocol writes them;
// CSV has them as its words, never behind the formula guard's apostrophe.
TEST(ValueJson, NonFiniteFloatsAreStringsNotNull) {
  auto r = run("SELECT 'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::FLOAT, ['-inf'::DOUBLE, 1.5, NULL], {'x': 'nan'::DOUBLE}, "
               "NULL::DOUBLE, '-x' AS t");
  EXPECT_EQ(r.rows.at(0), R"(["NaN","Infinity","-Infinity",["-Infinity",1.5,null],{"x":"NaN"},null,"-x"])");
  EXPECT_EQ(r.csv.substr(r.csv.find('\n') + 1), "NaN,Infinity,-Infinity,\"[\"\"-Infinity\"\",1.5,null]\",\"{\"\"x\"\":\"\"NaN\"\"}\",,'-x\n");
}

TEST(ValueJson, ListsStructsAndMapsAreJsonArraysAndObjects) {
  auto r = run("SELECT ['a', NULL, 'c'], [[1, 2], []], {'k': 1, 's': 'x'}, MAP {'m': 2}, []::VARCHAR[], NULL::VARCHAR[]");
  EXPECT_EQ(r.rows.at(0), R"([["a",null,"c"],[[1,2],[]],{"k":1,"s":"x"},{"m":2},[],null])");
  EXPECT_EQ(r.columns.at(0).type, "VARCHAR[]");
  EXPECT_EQ(r.columns.at(2).type, "STRUCT(k INTEGER, s VARCHAR)");
  // A row's fields have no names: an array, not an object whose fields share the key "".
  auto rows = run("SELECT (1, 'a'), row(2, NULL), [(3, 4)]");
  EXPECT_EQ(rows.rows.at(0), R"([[1,"a"],[2,null],[[3,4]]])");
}

TEST(ValueJson, StringsAreEscapedAndUtf8Kept) {
  auto r = run("SELECT 'quote\" back\\ tab\t nl\n é ✓'");
  EXPECT_EQ(r.rows.at(0), "[\"quote\\\" back\\\\ tab\\t nl\\n é ✓\"]");
}

TEST(ValueJson, UuidIntervalAndLongStrings) {
  auto r = run("SELECT '123e4567-e89b-12d3-a456-426614174000'::UUID, INTERVAL '1 day 2 hours', repeat('x', 40)");
  EXPECT_EQ(r.rows.at(0), "[\"123e4567-e89b-12d3-a456-426614174000\",\"P1DT2H\",\"" + std::string(40, 'x') + "\"]");
}

TEST(CsvOutput, CellsAreQuotedOnlyWhenNeeded) {
  std::string out;
  append_csv_cell(out, "plain", false);
  out += '|';
  append_csv_cell(out, "a,b", false);
  out += '|';
  append_csv_cell(out, "say \"hi\"", false);
  out += '|';
  append_csv_cell(out, "two\nlines", false);
  out += '|';
  append_csv_cell(out, "", false);
  out += '|';
  append_csv_cell(out, "", true);
  EXPECT_EQ(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\"\"|");
  // Empty text is quoted so it differs from NULL.
  EXPECT_NE(out.find("|\"\"|"), std::string::npos);
}

TEST(CsvOutput, ResultCsvHasAHeaderAndJsonForNestedValues) {
  auto r = run("SELECT 'a,b' AS \"name, quoted\", ['x', 'y'] AS ids, NULL AS n, DATE '2026-11-21' AS d, 3 AS k");
  EXPECT_EQ(r.csv, "\"name, quoted\",ids,n,d,k\n\"a,b\",\"[\"\"x\"\",\"\"y\"\"]\",,2026-11-21,3\n");
}

TEST(Formatting, DatesAndTimestampsAcrossTheEpoch) {
  EXPECT_EQ(format_date(0), "1970-01-01");
  EXPECT_EQ(format_date(-1), "1969-12-31");
  EXPECT_EQ(format_date(20413), "2025-11-21");
  EXPECT_EQ(format_timestamp_micros(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp_micros(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_date(-735'160), "-0043-03-15") << "44 BC, ISO 8601's expanded year";
  EXPECT_EQ(format_date(2'932'897), "+10000-01-01");
}

// Values of these types are JSON strings, yet no text a spreadsheet could run: the CSV
// leaves them as they are (a '-' starts a BC date or -infinity); nanoseconds before 1970
// round down as the seconds do.
TEST(CsvOutput, DatesAndTimesAreNotGuardedAsFormulasAndNanosecondsFloor) {
  auto r = run("SELECT '-infinity'::DATE AS d, '-infinity'::TIMESTAMP AS t, DATE '0044-03-15 (BC)' AS bc, "
               "'1969-12-31 23:59:59.9999995'::TIMESTAMP_NS AS ns, '-1'::VARCHAR AS s");
  EXPECT_EQ(r.csv, "d,t,bc,ns,s\n-infinity,-infinity,-0043-03-15,1969-12-31T23:59:59.999999Z,'-1\n");
}

// The first chunk DuckDB hands over for `sql`, converted under `budget` bytes.
struct Converted {
  std::vector<std::string> rows;
  std::string csv;
  ChunkConverter::Converted done;
};

Converted convert_first_chunk(const std::string& sql, std::size_t budget) {
  static auto db = duck::Database::open(":memory:", {}).value();
  auto conn = db->connect().value();
  auto result = conn->query(sql).value();
  duckdb_data_chunk chunk = duckdb_fetch_chunk(*result.raw());
  if (!chunk) throw std::runtime_error("no chunk for " + sql);
  Converted out;
  out.done = ChunkConverter().convert(chunk, out.rows, &out.csv, budget);
  duckdb_destroy_data_chunk(&chunk);
  return out;
}

std::size_t held(const Converted& c) {
  std::size_t bytes = c.csv.size() + c.rows.size() * sizeof(std::string);
  for (const auto& row : c.rows) bytes += row.size();
  return bytes;
}

// The result cap holds row by row: one chunk of 2,048 rows of 1 MB each would
// otherwise become 4 GB of JSON and CSV before the cap was looked at.
TEST(ChunkConverter, StopsAtTheFirstRowPastTheBudget) {
  auto c = convert_first_chunk("SELECT repeat('x', 100000) AS s FROM range(100)", 1 << 20);
  EXPECT_TRUE(c.done.over_budget);
  EXPECT_EQ(c.rows.size(), 5u);  // 5 rows of 100 kB as JSON and as CSV fit in 1 MiB; the 6th does not
  EXPECT_LE(held(c), std::size_t{1} << 20);
  EXPECT_EQ(c.csv.size(), 5 * (100000 + 1));  // the refused row left no part of a line behind

  auto all = convert_first_chunk("SELECT repeat('x', 100000) AS s FROM range(100)", 64 << 20);
  EXPECT_FALSE(all.done.over_budget);
  EXPECT_EQ(all.rows.size(), 100u);
  EXPECT_EQ(all.done.bytes, 100 * (100000 + 4));  // ["x...x"]
}

TEST(ChunkConverter, ALargeValueIsRefusedWhole) {
  for (const char* sql : {"SELECT repeat('x', 4000000) AS s",                                    // one long text
                          "SELECT list(repeat('x', 100000)) AS l FROM range(40)",                // one long list
                          "SELECT {'a': [repeat('x', 100000) for i in range(40)]} AS s",         // inside a struct
                          "SELECT MAP([repeat('k', 4000000)], [1]) AS m"}) {                     // a long map key
    auto c = convert_first_chunk(sql, 1 << 20);
    EXPECT_TRUE(c.done.over_budget) << sql;
    EXPECT_TRUE(c.rows.empty()) << sql;
    EXPECT_TRUE(c.csv.empty()) << sql;
  }
}

// One splitter of result rows serves the CSV pages and the PostgreSQL endpoint.
TEST(RowCells, TopLevelElementsKeepTheirExactText) {
  auto cells = row_cells(R"( [12345678901234567.89, "a,b]\"", [1, [2]], {"k": "}"}, null , true] )");
  ASSERT_TRUE(cells.has_value());
  ASSERT_EQ(cells->size(), 6u);
  EXPECT_EQ((*cells)[0], "12345678901234567.89");
  EXPECT_EQ((*cells)[1], R"("a,b]\"")");
  EXPECT_EQ((*cells)[2], "[1, [2]]");
  EXPECT_EQ((*cells)[3], R"({"k": "}"})");
  EXPECT_EQ((*cells)[4], "null");
  EXPECT_EQ((*cells)[5], "true");
  EXPECT_EQ(row_cells("[]")->size(), 0u);
  for (const char* bad : {"", "{}", "[1,", "[,1]", "[\"open]", "[[1]"})
    EXPECT_FALSE(row_cells(bad).has_value()) << bad;
  // Structure only: a scalar's spelling is the caller's to check (page_csv runs json::accept first).
  EXPECT_EQ(row_cells("[1 2]")->at(0), "1 2");
}

}  // namespace
}  // namespace etl::cataloger
