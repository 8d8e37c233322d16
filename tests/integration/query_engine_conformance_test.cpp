// One suite for every QueryEngine backend, each opened through open_catalog() and
// open_query_engine() from a Config as the service opens them: DuckDB over the
// built-in catalog (always) and Athena over Glue on the moto server (when
// ETL_TEST_MOTO_ENDPOINT is set). Each backend is made to hold the same three
// songs its own way (files DuckDB reads; results moto hands back for the next
// query, as Athena would compute them), then must answer alike.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>

#include "../unit/cataloger/cataloger_fixtures.h"
#include "backends.h"
#include "etl/http_client.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kSongsSql[] = "SELECT song_id FROM songs_data ORDER BY song_id";
const std::vector<std::string> kSongRows = {R"(["s0"])", R"(["s1"])", R"(["s2"])"};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class EngineBackend {
 public:
  virtual ~EngineBackend() = default;
  virtual std::string unavailable() const { return {}; }
  virtual Config config() = 0;
  // The next `kSongsSql` answers kSongRows (column song_id, VARCHAR).
  virtual void seed_songs() = 0;
  // After the engine and catalog exist (the built-in crawl needs the catalog).
  virtual void after_open(Catalog&) {}
};

class DuckDbBackend final : public EngineBackend {
 public:
  Config config() override {
    Config c;
    c.transformed_url = "file://" + root_.string();
    return c;
  }
  void seed_songs() override {
    testing::write_file(root_, "songs_data", "2026-11-01", "run1", "parquet", testing::songs_select(3));
  }
  void after_open(Catalog& catalog) override {
    auto crawl = catalog.start_crawl({});
    ASSERT_TRUE(crawl.ok()) << crawl.error().message;
    ASSERT_EQ(catalog.wait_crawl(crawl->crawl_id, 30s)->state, CrawlState::succeeded);
  }

 private:
  etl::testing::TempDir dir_;
  std::filesystem::path root_ = dir_.path() / "transformed";
};

class AthenaBackend final : public EngineBackend {
 public:
  std::string unavailable() const override {
    return env("ETL_TEST_MOTO_ENDPOINT").empty() ? "ETL_TEST_MOTO_ENDPOINT is unset: start moto with scripts/test-servers.sh"
                                                 : "";
  }
  Config config() override {
    Config c;
    c.catalog = "glue";
    c.table_format = "hive";  // the crawler route: Athena over the Glue catalog as moto serves it
    c.query_engine = "athena";
    c.glue_database = "conformance";
    c.glue.crawler_role = "arn:aws:iam::123456789012:role/spotify-etl-glue-crawler";
    c.transformed_url = "s3://spotify-etl-conformance/transformed";
    c.athena_output = "s3://spotify-etl-conformance/athena/";
    c.aws.region = region_;
    c.aws.access_key_id = "testing";
    c.aws.secret_access_key = "testing";
    c.aws.endpoint_url = env("ETL_TEST_MOTO_ENDPOINT");
    return c;
  }
  void seed_songs() override {
    auto cell = [](const char* v) { return json{{"VarCharValue", v}}; };
    json columns = {{{"Name", "song_id"}, {"Label", "song_id"}, {"Type", "varchar"}}};
    json rows = {{{"Data", {cell("song_id")}}}, {{"Data", {cell("s0")}}}, {{"Data", {cell("s1")}}}, {{"Data", {cell("s2")}}}};
    http::ClientRequest request;
    request.method = "POST";
    request.url = env("ETL_TEST_MOTO_ENDPOINT") + "/moto-api/static/athena/query-results";
    request.body = json{{"region", region_}, {"results", {{{"rows", rows}, {"column_info", columns}}}}}.dump();
    request.headers = {{"Content-Type", "application/json"}};
    auto sent = http::Client().send(request);
    ASSERT_TRUE(sent.ok()) << sent.error().message;
    ASSERT_LT(sent->status, 300) << sent->body;
  }

 private:
  // moto keeps seeded results in one queue per region: a region per fixture keeps
  // them apart (the other moto tests use eu-west-1 and eu-west-3).
  static std::string next_region() {
    static const char* regions[] = {"ap-northeast-1", "ap-northeast-2", "ap-south-1", "ca-central-1",
                                    "eu-central-1",   "eu-north-1",     "sa-east-1",  "us-west-1"};
    static std::atomic<unsigned> next{0};
    return regions[next++ % std::size(regions)];
  }
  std::string region_ = next_region();
};

class QueryEngineConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "athena") backend_ = std::make_unique<AthenaBackend>();
    else backend_ = std::make_unique<DuckDbBackend>();
    if (auto why = backend_->unavailable(); !why.empty()) GTEST_SKIP() << why;
    config_ = backend_->config();
    auto store = open_object_store(config_.transformed_url, config_.aws);
    ASSERT_TRUE(store.ok()) << store.error().message;
    BackendContext context{config_, std::shared_ptr<ObjectStore>(std::move(store).value()), metrics_, std::nullopt, 2, {}};
    auto catalog = open_catalog(context);
    ASSERT_TRUE(catalog.ok()) << catalog.error().message;
    catalog_ = std::move(catalog).value();
    auto engine = open_query_engine(context, catalog_);
    ASSERT_TRUE(engine.ok()) << engine.error().message;
    engine_ = std::move(engine).value();
    ASSERT_TRUE(catalog_->start_workers().ok());
    ASSERT_TRUE(engine_->start_workers().ok());
  }
  void TearDown() override {
    if (engine_) engine_->stop_workers();
    if (catalog_) catalog_->stop_workers();
  }

  QueryStatus run(const std::string& sql) {
    QueryRequest request;
    request.sql = sql;
    auto started = engine_->start(request);
    EXPECT_TRUE(started.ok()) << started.error().message;
    if (!started.ok()) return {};
    auto done = engine_->wait(started->query_id, 30s);
    EXPECT_TRUE(done.ok()) << done.error().message;
    return done.ok() ? *done : QueryStatus{};
  }

  MetricsRegistry metrics_;
  std::unique_ptr<EngineBackend> backend_;
  Config config_;
  std::shared_ptr<Catalog> catalog_;
  std::shared_ptr<QueryEngine> engine_;
};

TEST_P(QueryEngineConformance, ItsNameIsTheConfiguredEngineAndItAnswersPings) {
  EXPECT_EQ(engine_->name(), GetParam());
  EXPECT_TRUE(engine_->ping().ok());
}

TEST_P(QueryEngineConformance, ASelectSucceedsWithItsRowsOnOnePage) {
  backend_->seed_songs();
  backend_->after_open(*catalog_);
  QueryStatus done = run(kSongsSql);
  ASSERT_EQ(done.state, QueryState::succeeded) << (done.error ? done.error->message : "");
  EXPECT_EQ(done.engine, GetParam());
  EXPECT_FALSE(done.completed_at.empty());
  auto page = engine_->page(done.query_id, "");
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->rows, kSongRows);
  ASSERT_EQ(page->columns.size(), 1u);
  EXPECT_EQ(page->columns[0].name, "song_id");
  EXPECT_EQ(page->columns[0].type, "VARCHAR");
  EXPECT_FALSE(page->next_token);
  EXPECT_EQ(page->engine, GetParam());
}

TEST_P(QueryEngineConformance, AnythingButOneReadOnlyStatementIsRefusedBeforeItRuns) {
  for (const char* sql : {"DROP TABLE songs_data", "SELECT 1; SELECT 2", "COPY songs_data TO '/tmp/x.csv'",
                          "INSERT INTO songs_data VALUES (1)"}) {
    QueryRequest request;
    request.sql = sql;
    auto refused = engine_->start(request);
    ASSERT_FALSE(refused.ok()) << sql;
    EXPECT_EQ(refused.error().code, Errc::invalid_argument) << sql;
  }
}

TEST_P(QueryEngineConformance, UnknownQueryIdsAreNotFound) {
  if (GetParam() == "athena")
    GTEST_SKIP() << "moto answers GetQueryExecution for an id it never issued with a server error (the engine "
                    "reports unavailable), where Athena answers InvalidRequestException";
  const std::string id = "00000000-0000-4000-8000-000000000000";
  EXPECT_EQ(engine_->status(id).error().code, Errc::not_found);
  EXPECT_EQ(engine_->page(id, "").error().code, Errc::not_found);
}

TEST_P(QueryEngineConformance, APageTokenTheQueryDidNotHandOutIsRefused) {
  backend_->seed_songs();
  backend_->after_open(*catalog_);
  QueryStatus done = run(kSongsSql);
  ASSERT_EQ(done.state, QueryState::succeeded);
  auto refused = engine_->page(done.query_id, "not-a-token");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
}

TEST_P(QueryEngineConformance, CancellingAFinishedQueryLeavesItAsItWas) {
  backend_->seed_songs();
  backend_->after_open(*catalog_);
  QueryStatus done = run(kSongsSql);
  ASSERT_EQ(done.state, QueryState::succeeded);
  auto cancelled = engine_->cancel(done.query_id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  EXPECT_EQ(cancelled->state, QueryState::succeeded);
}

INSTANTIATE_TEST_SUITE_P(Backends, QueryEngineConformance, ::testing::Values("duckdb", "athena"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace etl::cataloger
