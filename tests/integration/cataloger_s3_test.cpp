// The built-in catalog and DuckDB over transformed tables that live in MinIO
// (ETL_TRANSFORMED_URL=s3://...): answered from the local copy the crawls keep,
// verified by ETag (MD5 on MinIO), adopted again after a restart, and refused
// clearly when the copy would pass its bound. Needs the test servers' MinIO.
#include <gtest/gtest.h>

#include <thread>

#include "../unit/cataloger/cataloger_fixtures.h"
#include "../unit/shared/s3_test_env.h"
#include "cataloger_service.h"
#include "etl/memory_bus.h"
#include "etl/s3_event.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using etl::testing::call;
using etl::testing::wait_until;
using testing::songs_select;

class CatalogerOverS3 : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = etl::testing::s3_test_server();
    if (!server) GTEST_SKIP() << "needs the test servers' MinIO (ETL_TEST_S3_*): run through scripts/test.sh";
    server_ = *server;
    url_ = "s3://" + server_.bucket + "/" + etl::testing::unique_s3_prefix("cataloger-s3") + "/transformed";
    store_ = std::shared_ptr<ObjectStore>(open_object_store(url_, server_.aws).value());
  }

  // Writes a Parquet file with DuckDB in a staging folder and uploads it.
  std::string upload(const std::string& table, const std::string& dt, const std::string& stem, const std::string& select) {
    return testing::put_parquet(*store_, table, dt, stem, select);
  }

  std::unique_ptr<CatalogerService> start(bool crawl_on_start = true, std::uint64_t max_bytes = 1ull << 30) {
    Config config;
    config.transformed_url = url_;
    config.aws = server_.aws;
    config.cataloger_addr = {"127.0.0.1", 0};
    config.bus = "memory";
    config.catalog_cache.reads = "mirror";
    CatalogerOptions options;
    options.debounce.quiet = 200ms;
    options.crawl_on_start = crawl_on_start;
    TableMirrorOptions cache;
    cache.root = cache_dir_;
    cache.max_bytes = max_bytes;
    cache.deletion_grace = 1s;
    options.cache = cache;
    auto svc = CatalogerService::create(config, bus_, options);
    EXPECT_TRUE(svc.ok()) << svc.error().message;
    if (!svc.ok()) return nullptr;
    EXPECT_TRUE((*svc)->start().ok());
    return std::move(svc).value();
  }

  static nlohmann::json query(CatalogerService& svc, const std::string& sql) {
    auto r = call("POST", svc.base_url() + "/v1/query", nlohmann::json{{"sql", sql}}.dump());
    EXPECT_EQ(r.status, 200) << sql << ": " << r.body;
    return r.status == 200 ? r.json() : nlohmann::json();
  }

  static bool ready(CatalogerService& svc) { return call("GET", svc.base_url() + "/readyz").status == 200; }

  etl::testing::S3TestServer server_;
  std::string url_;
  std::shared_ptr<ObjectStore> store_;
  etl::testing::TempDir cache_root_;
  std::filesystem::path cache_dir_ = cache_root_.path() / "cache";
  std::shared_ptr<MemoryBus> bus_ = make_memory_bus();
};

TEST_F(CatalogerOverS3, TablesInS3AreQueriedFromTheLocalCopyAndFollowTheEvents) {
  upload("songs_data", "2026-11-01", "run1", songs_select(6));
  upload("songs_data", "2026-11-02", "run1", songs_select(4, 6));
  upload("artists_data", "2026-11-01", "run1", testing::artists_select());
  auto svc = start();
  ASSERT_TRUE(svc);
  ASSERT_TRUE(wait_until([&] { return ready(*svc); }, 30s)) << call("GET", svc->base_url() + "/readyz").body;

  auto count = query(*svc, "SELECT count(*), count(DISTINCT song_id) FROM songs_data");
  EXPECT_EQ(count["rows"], nlohmann::json::parse("[[10, 10]]"));
  auto table = call("GET", svc->base_url() + "/v1/tables/songs_data").json();
  EXPECT_EQ(table["location"], url_ + "/songs_data/") << table.dump();
  EXPECT_TRUE(std::filesystem::exists(cache_dir_ / "songs_data/dt=2026-11-02/run1.parquet"));
  EXPECT_EQ(svc->metrics().counter("spotify_etl_cataloger_cache_downloads_total", "").value(), 3);
  EXPECT_TRUE(count["result_location"].get<std::string>().starts_with(url_ + "/_query_results/")) << count.dump();

  // A new file lands and its event arrives: the copy and the answers follow.
  std::string key = upload("songs_data", "2026-11-03", "run1", songs_select(5, 100));
  ObjectCreated e;
  e.bucket = server_.bucket;
  e.key = store_->event_key(key);
  e.size = 1;
  ASSERT_TRUE(bus_->publish(Config{}.topic_transformed, key, build_s3_event(e)).ok());
  ASSERT_TRUE(wait_until([&] {
    return query(*svc, "SELECT count(*) FROM songs_data")["rows"] == nlohmann::json::parse("[[15]]");
  }, 30s));
  EXPECT_TRUE(std::filesystem::exists(cache_dir_ / "songs_data/dt=2026-11-03/run1.parquet"));

  // A file deleted from the store leaves the answers at the next crawl, and the
  // copy after the grace (queries still reading it never fail meanwhile).
  ASSERT_TRUE(store_->remove("songs_data/dt=2026-11-01/run1.parquet").ok());
  auto crawl = call("POST", svc->base_url() + "/v1/crawl", R"({"tables":["songs_data"]})");
  ASSERT_EQ(crawl.status, 202) << crawl.body;
  ASSERT_TRUE(wait_until([&] {
    return query(*svc, "SELECT count(*) FROM songs_data")["rows"] == nlohmann::json::parse("[[9]]");
  }, 30s));
  std::this_thread::sleep_for(1100ms);
  ASSERT_EQ(call("POST", svc->base_url() + "/v1/crawl", R"({"tables":["songs_data"]})").status, 202);
  EXPECT_TRUE(wait_until([&] { return !std::filesystem::exists(cache_dir_ / "songs_data/dt=2026-11-01/run1.parquet"); }, 30s));
  EXPECT_EQ(query(*svc, "SELECT count(*) FROM songs_data")["rows"], nlohmann::json::parse("[[9]]"));
  svc->stop();
}

TEST_F(CatalogerOverS3, ARestartAdoptsTheCopiesItCanProveByMd5) {
  upload("songs_data", "2026-11-01", "run1", songs_select(7));
  {
    auto first = start();
    ASSERT_TRUE(first);
    ASSERT_TRUE(wait_until([&] { return ready(*first); }, 30s));
    first->stop();
  }
  auto again = start();
  ASSERT_TRUE(again);
  ASSERT_TRUE(wait_until([&] { return ready(*again); }, 30s));
  EXPECT_EQ(query(*again, "SELECT count(*) FROM songs_data")["rows"], nlohmann::json::parse("[[7]]"));
  EXPECT_EQ(again->metrics().counter("spotify_etl_cataloger_cache_downloads_total", "").value(), 0)
      << "MinIO's ETag is the MD5 of the copy already on disk";
  again->stop();
}

TEST_F(CatalogerOverS3, NotReadyUntilTheCopyIsCompleteEvenWithoutAStartupCrawl) {
  upload("artists_data", "2026-11-01", "run1", testing::artists_select());
  auto svc = start(/*crawl_on_start=*/false);
  ASSERT_TRUE(svc);
  auto first = call("GET", svc->base_url() + "/readyz");
  EXPECT_EQ(first.status, 503);
  EXPECT_NE(first.body.find("local cache"), std::string::npos) << first.body;
  ASSERT_TRUE(wait_until([&] { return ready(*svc); }, 30s)) << "the readiness check starts the missing crawl";
  EXPECT_EQ(query(*svc, "SELECT count(*) FROM artists_data")["rows"], nlohmann::json::parse("[[3]]"));
  svc->stop();
}

TEST_F(CatalogerOverS3, ACopyPastItsBoundFailsTheCrawlClearlyAndNeverAnswersFromAPart) {
  std::string a = upload("songs_data", "2026-11-01", "run1", songs_select(50));
  upload("songs_data", "2026-11-02", "run1", songs_select(50, 50));
  auto size = store_->head(a).value().size;
  auto svc = start(true, size + size / 2);  // room for one of the two files
  ASSERT_TRUE(svc);
  ASSERT_TRUE(wait_until([&] {
    return svc->metrics().counter("spotify_etl_cataloger_crawls_total", "", {{"trigger", "startup"}, {"state", "FAILED"}})
               .value() == 1;
  }, 30s));
  auto readyz = call("GET", svc->base_url() + "/readyz");
  EXPECT_EQ(readyz.status, 503);
  auto tables = call("GET", svc->base_url() + "/v1/tables").json();
  EXPECT_EQ(tables["tables"].size(), 0u) << "the catalog does not name a table the copy does not hold whole";
  auto q = call("POST", svc->base_url() + "/v1/query", R"({"sql":"SELECT count(*) FROM songs_data"})");
  EXPECT_GE(q.status, 400);
  EXPECT_LT(q.status, 500) << q.body;
  svc->stop();
}

}  // namespace
}  // namespace etl::cataloger
