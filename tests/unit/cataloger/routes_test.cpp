#include "routes.h"

#include <gtest/gtest.h>

namespace etl::cataloger {
namespace {

using nlohmann::json;

TEST(QueryRequestParsing, DefaultsAndLimits) {
  auto r = parse_query_request({{"sql", "SELECT 1"}}).value();
  EXPECT_EQ(r.request.max_rows, 1000u);
  EXPECT_EQ(r.request.timeout.count(), 30000);
  EXPECT_FALSE(r.request.max_age);
  EXPECT_FALSE(r.async);
  auto full = parse_query_request({{"sql", "SELECT 1"}, {"max_rows", 10}, {"timeout_ms", 500}, {"max_age_s", 60}, {"async", true}}).value();
  EXPECT_EQ(full.request.max_rows, 10u);
  EXPECT_EQ(full.request.max_age->count(), 60);
  EXPECT_TRUE(full.async);
}

TEST(QueryRequestParsing, BadFieldsAreInvalidArgumentNamingTheField) {
  for (const json& body : {json{{"sql", ""}}, json::object(), json{{"sql", 5}}}) {
    auto r = parse_query_request(body);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("sql"), std::string::npos);
  }
  EXPECT_NE(parse_query_request({{"sql", "SELECT 1"}, {"max_rows", 1001}}).error().message.find("max_rows"), std::string::npos);
  EXPECT_NE(parse_query_request({{"sql", "SELECT 1"}, {"max_rows", "10"}}).error().message.find("max_rows"), std::string::npos);
  EXPECT_NE(parse_query_request({{"sql", "SELECT 1"}, {"timeout_ms", 0}}).error().message.find("timeout_ms"), std::string::npos);
  EXPECT_NE(parse_query_request({{"sql", "SELECT 1"}, {"max_age_s", -1}}).error().message.find("max_age_s"), std::string::npos);
}

TEST(QueryRequestParsing, AsOfMapsTablesToSnapshotIdsOrTimes) {
  auto parsed = parse_query_request(
      {{"sql", "SELECT 1"}, {"as_of", {{"Songs_Data", 42}, {"artists_data", "2026-12-01T10:00:00.5+01:00"}}}});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const auto& as_of = parsed->request.as_of;
  ASSERT_EQ(as_of.size(), 2u);
  EXPECT_EQ(as_of.at("songs_data").snapshot_id, 42) << "names are lower-cased";
  EXPECT_FALSE(as_of.at("songs_data").timestamp_ms);
  EXPECT_EQ(as_of.at("artists_data").timestamp_ms, std::int64_t{1796115600500}) << "UTC ms of 09:00:00.5Z";
  EXPECT_TRUE(parse_query_request({{"sql", "SELECT 1"}, {"as_of", nullptr}})->request.as_of.empty());
  nlohmann::json many = nlohmann::json::object();
  for (std::size_t i = 0; i <= kMaxAsOfTables; ++i) many["t" + std::to_string(i)] = 1;
  for (const nlohmann::json& bad : {nlohmann::json(1), nlohmann::json::array(), nlohmann::json{{"t", -1}},
                                    nlohmann::json{{"t", 1.5}}, nlohmann::json{{"t", true}}, nlohmann::json{{"t", "soon"}},
                                    nlohmann::json{{"t", 18446744073709551615ull}}, nlohmann::json{{"", 1}},
                                    nlohmann::json{{"T", 1}, {"t", 2}}, many}) {
    auto r = parse_query_request({{"sql", "SELECT 1"}, {"as_of", bad}});
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(r.error().message.find("as_of"), std::string::npos) << r.error().message;
  }
}

TEST(CrawlRequestParsing, TablesAndFull) {
  auto r = parse_crawl_request({{"tables", {"songs_data"}}, {"full", true}}).value();
  EXPECT_EQ(r.tables, std::vector<std::string>{"songs_data"});
  EXPECT_TRUE(r.full);
  EXPECT_TRUE(parse_crawl_request(json::object())->tables.empty());
  EXPECT_FALSE(parse_crawl_request({{"tables", "songs_data"}}).ok());
  EXPECT_FALSE(parse_crawl_request({{"tables", {1}}}).ok());
}

TEST(PageRendering, JsonSplicesRowsAndCsvMapsValues) {
  QueryPage page;
  page.query_id = "q1";
  page.engine = "duckdb";
  page.columns = {{"name", "VARCHAR"}, {"ids", "VARCHAR[]"}, {"n", "BIGINT"}};
  page.rows = {R"(["a,b",["x"],1])", R"([null,[],null])"};
  page.next_token = "2.abc";
  page.stats.rows = 5;
  auto body = json::parse(page_json(page));
  EXPECT_EQ(body["query_id"], "q1");
  EXPECT_EQ(body["engine"], "duckdb");
  EXPECT_EQ(body["rows"][0][0], "a,b");
  EXPECT_EQ(body["rows"][0][2], 1);
  EXPECT_EQ(body["next_token"], "2.abc");
  EXPECT_EQ(body["stats"]["rows"], 5);
  EXPECT_TRUE(body["result_location"].is_null());
  EXPECT_EQ(page_csv(page).value(), "name,ids,n\n\"a,b\",\"[\"\"x\"\"]\",1\n,[],\n");
}

TEST(Openapi, DocumentsTheCatalogerEndpoints) {
  auto doc = openapi_spec();
  EXPECT_EQ(doc["openapi"], "3.1.0");
  for (const char* path : {"/v1/crawl", "/v1/crawls/{crawl_id}", "/v1/tables", "/v1/tables/{name}", "/v1/query",
                           "/v1/query/{query_id}"})
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
}

}  // namespace
}  // namespace etl::cataloger
