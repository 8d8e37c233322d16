// One suite for every Catalog backend, each opened through open_catalog() from a
// Config as the service opens it: the built-in catalog over a local folder
// (always), and Glue on the moto server (when ETL_TEST_MOTO_ENDPOINT is set by
// scripts/test-servers.sh). A new backend adds a fixture here and passes the same
// tests. Each backend is seeded its own way (files for the built-in crawler; the
// tables a finished Glue crawler leaves for Glue, since moto's crawlers do not
// read S3) and must then answer the same questions the same way.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "../unit/cataloger/cataloger_fixtures.h"
#include "backends.h"
#include "etl/aws_json.h"
#include "etl/http_client.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class CatalogBackend {
 public:
  virtual ~CatalogBackend() = default;
  // Empty when the backend can run here; else why not (the test is skipped).
  virtual std::string unavailable() const { return {}; }
  virtual Config config() = 0;
  // Makes songs_data exist with partitions dt=2026-11-01 and dt=2026-11-02 and a
  // song_id column, as a finished crawl of the store would show them.
  virtual void seed_songs() = 0;
};

class LocalBackend final : public CatalogBackend {
 public:
  Config config() override {
    Config c;
    c.catalog = "local";
    c.transformed_url = "file://" + root_.string();
    return c;
  }
  void seed_songs() override {
    testing::write_file(root_, "songs_data", "2026-11-01", "run1", "parquet", testing::songs_select(3));
    testing::write_file(root_, "songs_data", "2026-11-02", "run1", "parquet", testing::songs_select(2, 3));
  }

 private:
  etl::testing::TempDir dir_;
  std::filesystem::path root_ = dir_.path() / "transformed";
};

class GlueBackend final : public CatalogBackend {
 public:
  std::string unavailable() const override {
    return env("ETL_TEST_MOTO_ENDPOINT").empty() ? "ETL_TEST_MOTO_ENDPOINT is unset: start moto with scripts/test-servers.sh"
                                                 : "";
  }
  Config config() override {
    // moto's crawlers complete at once by default, before a poll can see them
    // RUNNING; as in AWS, let them run for a moment.
    http::ClientRequest request;
    request.method = "POST";
    request.url = env("ETL_TEST_MOTO_ENDPOINT") + "/moto-api/state-manager/set-transition";
    request.body = json{{"model_name", "glue::crawl"}, {"transition", {{"progression", "time"}, {"seconds", 1}}}}.dump();
    request.headers = {{"Content-Type", "application/json"}};
    auto sent = http::Client().send(request);
    EXPECT_TRUE(sent.ok() && sent->status < 300) << "moto state manager";
    Config c;
    c.catalog = "glue";
    c.table_format = "hive";  // the crawler route (iceberg: aws/glue_iceberg.h, tests/integration/glue_iceberg_test.cpp)
    c.query_engine = "athena";
    c.glue_database = database_;
    c.transformed_url = "s3://spotify-etl-conformance/transformed";
    c.glue.crawler_role = "arn:aws:iam::123456789012:role/spotify-etl-glue-crawler";
    c.aws = aws();
    return c;
  }
  void seed_songs() override {
    auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
    json input = {{"Name", "songs_data"},
                  {"PartitionKeys", {{{"Name", "dt"}, {"Type", "string"}}}},
                  {"Parameters", {{"classification", "parquet"}}},
                  {"StorageDescriptor",
                   {{"Location", "s3://spotify-etl-conformance/transformed/songs_data/"},
                    {"Columns", {{{"Name", "song_id"}, {"Type", "string"}}, {{"Name", "duration_ms"}, {"Type", "bigint"}}}}}}};
    auto created = glue->call("CreateTable", {{"DatabaseName", database_}, {"TableInput", input}});
    ASSERT_TRUE(created.ok()) << created.error().message;
    for (const char* dt : {"2026-11-02", "2026-11-01"}) {
      json partition = {{"Values", {dt}},
                        {"StorageDescriptor",
                         {{"Location", std::string("s3://spotify-etl-conformance/transformed/songs_data/dt=") + dt + "/"}}}};
      auto added = glue->call("CreatePartition",
                              {{"DatabaseName", database_}, {"TableName", "songs_data"}, {"PartitionInput", partition}});
      ASSERT_TRUE(added.ok()) << added.error().message;
    }
  }

 private:
  static AwsConfig aws() {
    AwsConfig a;
    a.region = env("ETL_TEST_MOTO_REGION").empty() ? "us-east-1" : env("ETL_TEST_MOTO_REGION");
    a.access_key_id = "testing";
    a.secret_access_key = "testing";
    a.endpoint_url = env("ETL_TEST_MOTO_ENDPOINT");
    return a;
  }
  std::string database_ = "conformance_" + std::to_string(std::random_device{}() % 1000000000u);
};

std::unique_ptr<CatalogBackend> make_backend(const std::string& name) {
  if (name == "glue") return std::make_unique<GlueBackend>();
  return std::make_unique<LocalBackend>();
}

class CatalogConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_ = make_backend(GetParam());
    if (auto why = backend_->unavailable(); !why.empty()) GTEST_SKIP() << why;
    config_ = backend_->config();
    auto store = open_object_store(config_.transformed_url, config_.aws);
    ASSERT_TRUE(store.ok()) << store.error().message;
    BackendContext context{config_, std::shared_ptr<ObjectStore>(std::move(store).value()), metrics_, std::nullopt, 2, {}};
    auto opened = open_catalog(context);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    catalog_ = std::move(opened).value();
    ASSERT_TRUE(catalog_->start_workers().ok());
  }
  void TearDown() override {
    if (catalog_) catalog_->stop_workers();
  }

  // Crawls everything and waits for the crawl to end; returns its final state.
  CrawlInfo crawl() {
    CrawlRequest request;
    auto started = catalog_->start_crawl(request);
    EXPECT_TRUE(started.ok()) << started.error().message;
    if (!started.ok()) return {};
    EXPECT_EQ(started->state, CrawlState::running) << "a crawl is RUNNING from acceptance";
    auto done = catalog_->wait_crawl(started->crawl_id, 60s);
    EXPECT_TRUE(done.ok()) << done.error().message;
    return done.ok() ? *done : CrawlInfo{};
  }

  MetricsRegistry metrics_;
  std::unique_ptr<CatalogBackend> backend_;
  Config config_;
  std::shared_ptr<Catalog> catalog_;
};

TEST_P(CatalogConformance, NameAndDatabaseAreTheConfiguredOnes) {
  EXPECT_EQ(catalog_->name(), GetParam());
  EXPECT_EQ(catalog_->database(), config_.glue_database);
  EXPECT_TRUE(catalog_->ping().ok());
}

TEST_P(CatalogConformance, UnknownTablesAndCrawlsAreNotFound) {
  EXPECT_EQ(catalog_->get_table("no_such_table").error().code, Errc::not_found);
  EXPECT_EQ(catalog_->get_partitions("no_such_table").error().code, Errc::not_found);
  EXPECT_EQ(catalog_->get_crawl("00000000-0000-4000-8000-000000000000").error().code, Errc::not_found);
}

TEST_P(CatalogConformance, ACrawlEndsSucceededAndIsFoundByItsId) {
  CrawlInfo done = crawl();
  EXPECT_EQ(done.state, CrawlState::succeeded) << done.error;
  EXPECT_FALSE(done.finished_at.empty());
  auto again = catalog_->get_crawl(done.crawl_id);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->state, CrawlState::succeeded);
}

TEST_P(CatalogConformance, ASeededTableIsListedWithItsColumnsAndSortedPartitions) {
  backend_->seed_songs();
  EXPECT_EQ(crawl().state, CrawlState::succeeded);
  auto tables = catalog_->list_tables();
  ASSERT_TRUE(tables.ok()) << tables.error().message;
  ASSERT_EQ(tables->size(), 1u);
  const TableInfo& songs = tables->front();
  EXPECT_EQ(songs.name, "songs_data");
  EXPECT_EQ(songs.database, config_.glue_database);
  EXPECT_EQ(songs.partition_keys, std::vector<std::string>{"dt"});
  EXPECT_EQ(songs.partitions, 2);
  EXPECT_EQ(songs.format, "parquet");
  ASSERT_FALSE(songs.columns.empty());
  EXPECT_EQ(songs.columns.front().name, "song_id");
  EXPECT_EQ(songs.columns.front().type, "VARCHAR");

  auto one = catalog_->get_table("songs_data");
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->columns, songs.columns);
  auto partitions = catalog_->get_partitions("songs_data");
  ASSERT_TRUE(partitions.ok()) << partitions.error().message;
  ASSERT_EQ(partitions->size(), 2u);
  EXPECT_EQ(partitions->at(0).values, std::vector<std::string>{"2026-11-01"});
  EXPECT_EQ(partitions->at(1).values, std::vector<std::string>{"2026-11-02"});
  EXPECT_NE(partitions->at(1).location.find("songs_data/dt=2026-11-02"), std::string::npos) << partitions->at(1).location;
}

TEST_P(CatalogConformance, TheGenerationMovesWhenATableAppears) {
  (void)catalog_->list_tables();
  const std::uint64_t before = catalog_->generation();
  backend_->seed_songs();
  EXPECT_EQ(crawl().state, CrawlState::succeeded);
  ASSERT_TRUE(catalog_->list_tables().ok());
  EXPECT_NE(catalog_->generation(), before) << "engines rebuild their views when the generation moves";
}

TEST_P(CatalogConformance, ACrawlOfABadTableNameIsRefused) {
  CrawlRequest request;
  request.tables = {"../etc"};
  auto refused = catalog_->start_crawl(request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogConformance, ::testing::Values("local", "glue"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace etl::cataloger
