// Run records, run requests, run ids and the runs endpoint's limit.
#include <gtest/gtest.h>

#include <set>

#include "routes.h"
#include "run_record.h"

namespace etl::extractor {
namespace {

constexpr char kId[] = "7kwYwFTY6UeVCDzqOAzRKN";

RunRecord sample() {
  RunRecord r;
  r.run_id = "r20261121t060000123-abc123";
  r.status = RunStatus::partial;
  r.trigger = "schedule";
  r.market = "SE";
  r.created_at = "2026-11-21T06:00:00Z";
  r.started_at = "2026-11-21T06:00:01Z";
  r.finished_at = "2026-11-21T06:00:09Z";
  r.error = "1 of 2 sources failed";
  SourceRecord ok{"playlist", kId, "", SourceStatus::succeeded, 3, 250, "to_be_processed/x.json", "/playlists/{id}/items", ""};
  SourceRecord bad{"search", "love", "Love", SourceStatus::failed, 0, 0, "", "", "Resource not found"};
  r.sources = {ok, bad};
  return r;
}

TEST(RunRecordJson, RoundTripsEveryField) {
  auto json = to_json(sample());
  auto back = run_record_from_json(nlohmann::json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, sample());
}

TEST(RunRecordJson, HasTheContractsShape) {
  RunRecord r = sample();
  r.finished_at.clear();
  r.sources[0].object_key.clear();
  auto j = to_json(r);
  for (const char* field : {"run_id", "status", "started_at", "finished_at", "sources"}) EXPECT_TRUE(j.contains(field)) << field;
  EXPECT_TRUE(j["finished_at"].is_null()) << "an unfinished run has finished_at null";
  for (const char* field : {"type", "id", "status", "pages", "items", "object_key", "error"})
    EXPECT_TRUE(j["sources"][0].contains(field)) << field;
  EXPECT_TRUE(j["sources"][0]["object_key"].is_null());
  EXPECT_TRUE(j["sources"][0]["error"].is_null());
  EXPECT_EQ(j["sources"][1]["query"], "Love");
}

TEST(RunRecordJson, RejectsMalformedRecords) {
  EXPECT_FALSE(run_record_from_json(nlohmann::json::array()).ok());
  auto j = to_json(sample());
  j["status"] = "exploded";
  EXPECT_EQ(run_record_from_json(j).error().code, Errc::bad_data);
  j = to_json(sample());
  j["run_id"] = "../../etc/passwd";
  EXPECT_FALSE(run_record_from_json(j).ok()) << "a run id becomes a key: only [a-z0-9-]";
}

TEST(RunRequestParsing, AcceptsIdsQueriesMarketAndIgnoresUnknownFields) {
  auto body = nlohmann::json::parse(R"({"sources":[{"type":"playlist","id":")" + std::string(kId) +
                                    R"("},{"type":"search","query":"love"}],"market":"us","color":"blue"})");
  auto r = parse_run_request(body);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->sources.size(), 2u);
  EXPECT_EQ(r->sources[0], (SourceSpec{SourceType::playlist, kId}));
  EXPECT_EQ(r->sources[1], (SourceSpec{SourceType::search, "love"}));
  EXPECT_EQ(r->market, "US");
}

TEST(RunRequestParsing, AnEmptyBodyMeansTheConfiguredSources) {
  auto r = parse_run_request(nlohmann::json::object());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->sources.empty());
}

TEST(RunRequestParsing, InvalidSourcesNameTheOffendingField) {
  auto bad_id = parse_run_request(nlohmann::json::parse(R"({"sources":[{"type":"playlist","id":"abc"}]})"));
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.error().code, Errc::invalid_argument);
  EXPECT_NE(bad_id.error().message.find("sources[0]"), std::string::npos) << bad_id.error().message;
  EXPECT_NE(bad_id.error().message.find("22 base62"), std::string::npos) << bad_id.error().message;
  EXPECT_FALSE(parse_run_request(nlohmann::json::parse(R"({"sources":[{"type":"podcast","id":"x"}]})")).ok());
  EXPECT_FALSE(parse_run_request(nlohmann::json::parse(R"({"sources":"playlist:x"})")).ok());
  EXPECT_FALSE(parse_run_request(nlohmann::json::parse(R"({"sources":[{"type":"search","query":""}]})")).ok());
  EXPECT_FALSE(parse_run_request(nlohmann::json::parse(R"({"sources":[{"type":"album","id":7}]})")).ok());
  EXPECT_FALSE(parse_run_request(nlohmann::json::parse(R"({"market":5})")).ok());
}

TEST(RunRequestValidation, RefusesDuplicatesBadMarketsAndTooManySources) {
  RunRequest dup;
  dup.sources = {{SourceType::search, "Daft Punk"}, {SourceType::search, "daft-punk"}};
  auto d = validate_run_request(dup);
  ASSERT_FALSE(d.ok()) << "two sources landing under one key must be refused";
  EXPECT_NE(d.error().message.find("same object key"), std::string::npos) << d.error().message;

  RunRequest market;
  market.sources = {{SourceType::playlist, kId}};
  market.market = "USA";
  EXPECT_FALSE(validate_run_request(market).ok());
  market.market = "UK";
  auto uk = validate_run_request(market);
  ASSERT_FALSE(uk.ok()) << "UK is no ISO 3166-1 code (GB is): Spotify would fail every source with 400";
  EXPECT_NE(uk.error().message.find("'UK' is not an ISO 3166-1 alpha-2 country code"), std::string::npos)
      << uk.error().message;
  market.market = "GB";
  EXPECT_TRUE(validate_run_request(market).ok());

  RunRequest many;
  for (std::size_t i = 0; i <= kMaxSourcesPerRun; ++i) many.sources.push_back({SourceType::search, "q" + std::to_string(i)});
  EXPECT_FALSE(validate_run_request(many).ok());

  RunRequest fine;
  fine.sources = {{SourceType::playlist, kId}, {SourceType::album, kId}};
  EXPECT_TRUE(validate_run_request(fine).ok()) << "the same id under two types lands under two keys";
}

TEST(RunId, IsSortableUniqueAndKeySafe) {
  auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1795240800));
  auto a = make_run_id(t0);
  auto b = make_run_id(t0 + std::chrono::milliseconds(1));
  auto c = make_run_id(t0 + std::chrono::hours(24 * 400));
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.rfind("r20261121t060000000-", 0), 0u) << a;
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(make_run_id(t0));
  EXPECT_EQ(ids.size(), 1000u) << "ids made in the same millisecond must still differ";
  for (const auto& id : {a, b, c}) EXPECT_TRUE(is_run_id(id)) << id;
  EXPECT_FALSE(is_run_id("R1"));
  EXPECT_FALSE(is_run_id("r1/../x"));
  EXPECT_FALSE(is_run_id(""));
}

TEST(RunsLimit, DefaultsTo20AndAccepts1To1000) {
  EXPECT_EQ(*parse_runs_limit(std::nullopt), 20u);
  EXPECT_EQ(*parse_runs_limit("1"), 1u);
  EXPECT_EQ(*parse_runs_limit("1000"), 1000u);
  for (const char* bad : {"0", "1001", "-1", "ten", "", "5x", "99999999999999999999"})
    EXPECT_EQ(parse_runs_limit(std::string(bad)).error().code, Errc::invalid_argument) << "limit=" << bad;
}

}  // namespace
}  // namespace etl::extractor
