#include "athena_types.h"

#include <gtest/gtest.h>

#include "glue_types.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

std::string value(std::optional<std::string_view> text, const std::string& type, int precision = 0, int scale = 0) {
  std::string out;
  append_athena_value(out, text, {"c", type, precision, scale});
  return out;
}

TEST(AthenaTypes, StringsNumbersAndBooleansBecomeJsonScalars) {
  EXPECT_EQ(value("héllo \"q\"", "varchar"), R"("héllo \"q\"")");
  EXPECT_EQ(value("x", "char"), R"("x")");
  EXPECT_EQ(value("9007199254740993", "bigint"), "9007199254740993") << "bigint must stay exact";
  EXPECT_EQ(value("-5", "integer"), "-5");
  EXPECT_EQ(value("7", "tinyint"), "7");
  EXPECT_EQ(value("12", "smallint"), "12");
  EXPECT_EQ(value("1.5", "double"), "1.5");
  EXPECT_EQ(value("1.0E-5", "double"), "1.0E-5");
  EXPECT_EQ(value("2.25", "real"), "2.25");
  EXPECT_EQ(value("true", "boolean"), "true");
  EXPECT_EQ(value("false", "boolean"), "false");
}

TEST(AthenaTypes, DecimalsAreExactNumbers) {
  EXPECT_EQ(value("12.50", "decimal", 10, 2), "12.50");
  EXPECT_EQ(value("-0.001", "decimal", 10, 3), "-0.001");
  EXPECT_EQ(value("123456789012345678901234567890.12", "decimal", 38, 2), "123456789012345678901234567890.12");
  EXPECT_EQ(athena_sql_type({"c", "decimal", 10, 2}), "DECIMAL(10,2)");
  EXPECT_EQ(athena_sql_type({"c", "decimal(18, 3)", 0, 0}), "DECIMAL(18,3)");
}

// JSON has no NaN: Athena's words stay strings, not null, which is SQL's NULL.
TEST(AthenaTypes, NullsNaNAndMalformedNumbersAreSafe) {
  EXPECT_EQ(value(std::nullopt, "varchar"), "null");
  EXPECT_EQ(value(std::nullopt, "bigint"), "null");
  EXPECT_EQ(value(std::nullopt, "array"), "null");
  EXPECT_EQ(value("NaN", "double"), R"("NaN")");
  EXPECT_EQ(value("Infinity", "double"), R"("Infinity")");
  EXPECT_EQ(value("-Infinity", "real"), R"("-Infinity")");
  EXPECT_EQ(value("12abc", "bigint"), R"("12abc")") << "text that is not a number must not be spliced into JSON";
  EXPECT_EQ(value("", "varchar"), R"("")") << "an empty string is not NULL";
}

TEST(AthenaTypes, DatesAndTimestampsAreIsoAndUtc) {
  EXPECT_EQ(value("2026-11-21", "date"), R"("2026-11-21")");
  EXPECT_EQ(value("2026-11-21 06:00:00.000", "timestamp"), R"("2026-11-21T06:00:00Z")");
  EXPECT_EQ(value("2026-11-21 06:00:00.250", "timestamp"), R"("2026-11-21T06:00:00.25Z")");
  EXPECT_EQ(value("2026-11-21 06:00:00", "timestamp"), R"("2026-11-21T06:00:00Z")");
  EXPECT_EQ(value("2026-11-21 06:00:00.000 UTC", "timestamp with time zone"), R"("2026-11-21T06:00:00Z")");
  EXPECT_EQ(value("2026-11-21 07:30:00.000 +01:30", "timestamp with time zone"), R"("2026-11-21T06:00:00Z")");
  EXPECT_EQ(value("2026-01-01 00:30:00.000 +01:00", "timestamp with time zone"), R"("2025-12-31T23:30:00Z")")
      << "an offset crossing midnight and a year must be converted";
  EXPECT_EQ(value("2026-11-21 07:00:00.000 Europe/Paris", "timestamp with time zone"),
            R"("2026-11-21 07:00:00.000 Europe/Paris")")
      << "a named zone cannot be converted without a tz database: kept as Athena wrote it";
  EXPECT_EQ(athena_sql_type({"c", "timestamp", 0, 0}), "TIMESTAMP");
  EXPECT_EQ(athena_sql_type({"c", "date", 0, 0}), "DATE");
}

TEST(AthenaTypes, ArraysBecomeJsonArraysOfStrings) {
  EXPECT_EQ(value("[a, b]", "array"), R"(["a","b"])");
  EXPECT_EQ(value("[]", "array"), "[]");
  EXPECT_EQ(value("[4Z8W4fKeB5YxbusRsdQVPb, null, x y]", "array"), R"(["4Z8W4fKeB5YxbusRsdQVPb",null,"x y"])");
  EXPECT_EQ(value("[[1, 2], [3]]", "array"), R"([["1","2"],["3"]])");
  EXPECT_EQ(value("[{a=1, b=2}, c]", "array"), R"(["{a=1, b=2}","c"])") << "a row inside an array stays whole";
  EXPECT_EQ(value("not an array", "array"), R"("not an array")");
  EXPECT_EQ(athena_sql_type({"c", "array", 0, 0}), "VARCHAR[]");
}

TEST(AthenaTypes, RowsSkipTheHeaderAndMapMissingValuesToNull) {
  json metadata = {{"ColumnInfo",
                    {{{"Name", "song_id"}, {"Label", "song_id"}, {"Type", "varchar"}},
                     {{"Name", "popularity"}, {"Type", "integer"}},
                     {{"Name", "artist_ids"}, {"Type", "array"}}}}};
  auto columns = athena_columns(metadata);
  ASSERT_EQ(columns.size(), 3u);
  json header = {{"Data", {{{"VarCharValue", "song_id"}}, {{"VarCharValue", "popularity"}}, {{"VarCharValue", "artist_ids"}}}}};
  json row = {{"Data", {{{"VarCharValue", "s1"}}, json::object(), {{"VarCharValue", "[a1, a2]"}}}}};
  EXPECT_TRUE(is_header_row(header, columns));
  EXPECT_FALSE(is_header_row(row, columns));
  EXPECT_EQ(athena_row_json(row, columns), R"(["s1",null,["a1","a2"]])");
  auto infos = column_infos(columns);
  EXPECT_EQ(infos[1].type, "INTEGER");
  EXPECT_EQ(infos[2].type, "VARCHAR[]");
}

TEST(AthenaTypes, QueryExecutionMapsToStatus) {
  json qe = {{"QueryExecutionId", "q-1"},
             {"ResultConfiguration", {{"OutputLocation", "s3://out/q-1.csv"}}},
             {"Status", {{"State", "SUCCEEDED"}, {"SubmissionDateTime", 1795240800.5}, {"CompletionDateTime", 1795240801.0}}},
             {"Statistics", {{"EngineExecutionTimeInMillis", 420}, {"ResultReuseInformation", {{"ReusedPreviousResult", true}}}}}};
  auto s = status_from_execution(qe);
  EXPECT_EQ(s.state, QueryState::succeeded);
  EXPECT_EQ(s.result_location, "s3://out/q-1.csv");
  EXPECT_EQ(s.stats.elapsed_ms, 420);
  EXPECT_TRUE(s.stats.cached);
  EXPECT_EQ(s.submitted_at, "2026-11-21T06:00:00Z");
  EXPECT_EQ(s.completed_at, "2026-11-21T06:00:01Z");

  qe["Status"] = {{"State", "FAILED"}, {"StateChangeReason", "line 1:8: Column 'x' cannot be resolved"}};
  s = status_from_execution(qe);
  ASSERT_TRUE(s.error);
  EXPECT_EQ(s.error->code, Errc::invalid_argument);
  EXPECT_NE(s.error->message.find("Column 'x' cannot be resolved"), std::string::npos) << s.error->message;
  EXPECT_EQ(s.result_location, "") << "only a SUCCEEDED query has a result";

  qe["Status"] = {{"State", "FAILED"}, {"StateChangeReason", "Internal error"}, {"AthenaError", {{"ErrorCategory", 1}}}};
  EXPECT_EQ(status_from_execution(qe).error->code, Errc::unavailable) << "a SYSTEM error is Athena's, not the SQL's";
  for (auto [text, state] : {std::pair{"QUEUED", QueryState::queued}, {"RUNNING", QueryState::running},
                             {"CANCELLED", QueryState::cancelled}})
    EXPECT_EQ(parse_query_state(text), state) << text;
}

TEST(GlueTypes, HiveTypesBecomeTheCatalogsSqlNames) {
  EXPECT_EQ(glue_sql_type("string"), "VARCHAR");
  EXPECT_EQ(glue_sql_type("int"), "INTEGER");
  EXPECT_EQ(glue_sql_type("bigint"), "BIGINT");
  EXPECT_EQ(glue_sql_type("boolean"), "BOOLEAN");
  EXPECT_EQ(glue_sql_type("timestamp"), "TIMESTAMP");
  EXPECT_EQ(glue_sql_type("date"), "DATE");
  EXPECT_EQ(glue_sql_type("decimal(10, 2)"), "DECIMAL(10,2)");
  EXPECT_EQ(glue_sql_type("varchar(20)"), "VARCHAR");
  EXPECT_EQ(glue_sql_type("array<string>"), "VARCHAR[]");
  EXPECT_EQ(glue_sql_type("array<array<int>>"), "INTEGER[][]");
  EXPECT_EQ(glue_sql_type("struct<a:int,b:array<string>>"), "STRUCT(a INTEGER, b VARCHAR[])");
  EXPECT_EQ(glue_sql_type("map<string,bigint>"), "MAP(VARCHAR, BIGINT)");
}

TEST(GlueTypes, TableDocumentMapsToTableInfo) {
  json table = {{"Name", "songs_data"},
                {"DatabaseName", "spotify"},
                {"VersionId", "2"},
                {"UpdateTime", 1795240800.0},
                {"Parameters", {{"classification", "parquet"}}},
                {"PartitionKeys", {{{"Name", "dt"}, {"Type", "string"}}}},
                {"StorageDescriptor",
                 {{"Location", "s3://bucket/transformed/songs_data"},
                  {"Columns", {{{"Name", "song_id"}, {"Type", "string"}}, {{"Name", "artist_ids"}, {"Type", "array<string>"}}}},
                  {"SerdeInfo", {{"SerializationLibrary", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}}}}}};
  auto info = glue_table_info(table, "spotify");
  EXPECT_EQ(info.name, "songs_data");
  EXPECT_EQ(info.location, "s3://bucket/transformed/songs_data/");
  EXPECT_EQ(info.format, "parquet");
  EXPECT_EQ(info.partition_keys, std::vector<std::string>{"dt"});
  ASSERT_EQ(info.columns.size(), 2u);
  EXPECT_EQ(info.columns[1].type, "VARCHAR[]");
  EXPECT_EQ(info.version, 3);
  EXPECT_EQ(info.updated_at, "2026-11-21T06:00:00Z");

  table.erase("Parameters");
  table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] = "org.openx.data.jsonserde.JsonSerDe";
  EXPECT_EQ(glue_table_format(table), "jsonl");
  table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] = "org.apache.hadoop.hive.serde2.OpenCSVSerde";
  EXPECT_EQ(glue_table_format(table), "csv");
}

// A Glue answer of another shape (fields of other types, arrays of strings where
// objects go, not an object at all) reads as what is there, never a throw: the
// crawl or handler that asked would otherwise end with the exception.
TEST(GlueTypes, AnswersOfAnotherShapeReadAsEmptyFields) {
  const std::vector<json> odd = {
      json("songs_data"), json::array({1, 2}), json(nullptr),
      {{"Name", 5}, {"DatabaseName", false}, {"StorageDescriptor", "s3://x"}, {"Parameters", 7}},
      {{"Name", "t"},
       {"StorageDescriptor", {{"Location", 1}, {"Columns", {"song_id", 3, {{"Name", 4}, {"Type", {"x"}}}}}, {"SerdeInfo", 2}}},
       {"PartitionKeys", {"dt"}},
       {"UpdateTime", "yesterday"},
       {"VersionId", 3}}};
  for (const auto& table : odd) {
    SCOPED_TRACE(table.dump());
    TableInfo info;
    ASSERT_NO_THROW(info = glue_table_info(table, "spotify"));
    EXPECT_EQ(info.format, "");
    ASSERT_NO_THROW((void)glue_partition_info(table));
  }
  auto info = glue_table_info(odd.back(), "spotify");
  EXPECT_EQ(info.name, "t");
  EXPECT_EQ(info.database, "spotify");
  EXPECT_EQ(info.columns.size(), 3u) << "a column without a readable name keeps its place";
  EXPECT_EQ(info.partition_keys, std::vector<std::string>{""});
}

}  // namespace
}  // namespace etl::cataloger
