// Run outcomes for the dashboard, read from run records in a real file store.
#include <gtest/gtest.h>

#include "etl/object_store.h"
#include "runs/run_summaries.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

// A record as the extractor writes it (services/extractor/src/run_record.cpp).
std::string record(const std::string& id, const std::string& status, const std::string& second_source = "succeeded") {
  return R"({"run_id":")" + id + R"(","status":")" + status +
         R"(","trigger":"api","market":null,"created_at":"2026-12-01T10:00:00Z","started_at":"2026-12-01T10:00:01Z",)"
         R"("finished_at":"2026-12-01T10:00:09Z","error":null,"sources":[)"
         R"({"type":"playlist","id":"p1","status":"succeeded","pages":2,"items":120,"object_key":"to_be_processed/a.json","endpoint":"/x","error":null},)"
         R"({"type":"album","id":"a1","status":")" + second_source + R"(","pages":1,"items":)" +
         (second_source == "failed" ? "0" : "12") + R"(,"object_key":)" +
         (second_source == "failed" ? "null" : R"("to_be_processed/b.json")") + R"(,"endpoint":"/y","error":null}]})";
}

class RunSummariesTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::shared_ptr<ObjectStore>(open_object_store(dir_.url(), {}).value()); }
  void put(const std::string& id, const std::string& text) { ASSERT_TRUE(store_->put("runs/" + id + ".json", text).ok()); }
  etl::testing::TempDir dir_;
  std::shared_ptr<ObjectStore> store_;
};

TEST(RunRecord, SummarisesTheExtractorsRecord) {
  auto r = parse_run_record(record("r20261201t100000000-aaaaaa", "partial", "failed"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "partial");
  EXPECT_EQ(r->sources, 2);
  EXPECT_EQ(r->sources_failed, 1);
  EXPECT_EQ(r->objects, 1);
  EXPECT_EQ(r->items, 120);
  EXPECT_EQ(r->finished_at, "2026-12-01T10:00:09Z");
  EXPECT_TRUE(r->error.empty());
  auto j = to_json(*r);
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["objects"], 1);
}

TEST(RunRecord, RefusesWhatIsNotARunRecord) {
  for (const char* bad : {"", "[]", "{}", R"({"run_id":"../x","status":"ok","sources":[]})",
                          R"({"run_id":"r1","status":"succeeded"})", R"({"run_id":"r1","status":"succeeded","sources":[1]})"})
    EXPECT_FALSE(parse_run_record(bad).ok()) << bad;
}

TEST_F(RunSummariesTest, NewestFirstBoundedAndBadRecordsSkipped) {
  put("r20261201t100000000-aaaaaa", record("r20261201t100000000-aaaaaa", "succeeded"));
  put("r20261202t100000000-bbbbbb", record("r20261202t100000000-bbbbbb", "failed", "failed"));
  put("r20261203t100000000-cccccc", "not json");
  put("r20261204t100000000-dddddd", record("r20261204t100000000-dddddd", "running"));
  ASSERT_TRUE(store_->put("runs/README.txt", "not a record").ok());
  RunSummaries runs(store_);
  auto page = runs.recent(10);
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->runs.size(), 3u);
  EXPECT_EQ(page->runs[0].run_id, "r20261204t100000000-dddddd");
  EXPECT_EQ(page->runs[1].status, "failed");
  EXPECT_EQ(page->runs[2].status, "succeeded");
  EXPECT_EQ(page->skipped, 1);
  auto two = runs.recent(2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->runs.size(), 2u) << "an unreadable record does not take a place";
  EXPECT_EQ(two->runs[1].run_id, "r20261202t100000000-bbbbbb");
  EXPECT_EQ(runs.recent(1000)->runs.size(), 3u) << "capped at max_limit, not refused";
}

TEST_F(RunSummariesTest, RunningRecordsAreReadAgainFinishedOnesAreCached) {
  const std::string id = "r20261201t100000000-aaaaaa";
  put(id, record(id, "running"));
  RunSummaries runs(store_, RunSummariesOptions{100, 1u << 20, std::chrono::milliseconds(0), 1000});
  EXPECT_EQ(runs.recent(5)->runs.at(0).status, "running");
  put(id, record(id, "succeeded"));
  EXPECT_EQ(runs.recent(5)->runs.at(0).status, "succeeded");
  ASSERT_TRUE(store_->remove("runs/" + id + ".json").ok());
  EXPECT_TRUE(runs.recent(5)->runs.empty()) << "a fresh listing no longer names it";
}

TEST_F(RunSummariesTest, ListingIsReusedWithinItsTtl) {
  RunSummaries runs(store_, RunSummariesOptions{100, 1u << 20, std::chrono::hours(1), 1000});
  EXPECT_TRUE(runs.recent(5)->runs.empty());
  put("r20261201t100000000-aaaaaa", record("r20261201t100000000-aaaaaa", "succeeded"));
  EXPECT_TRUE(runs.recent(5)->runs.empty()) << "the listing is at most list_ttl old";
}

TEST_F(RunSummariesTest, OversizedRecordIsSkipped) {
  put("r20261201t100000000-aaaaaa", record("r20261201t100000000-aaaaaa", "succeeded"));
  RunSummaries runs(store_, RunSummariesOptions{100, 64, std::chrono::milliseconds(0), 1000});
  auto page = runs.recent(5);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->runs.empty());
  EXPECT_EQ(page->skipped, 1);
}

}  // namespace
}  // namespace etl::cataloger
