// ETL_CATALOG=glue with ETL_TABLE_FORMAT=iceberg against moto's Glue (real HTTP,
// real SigV4; moto accepts any signature) and, for the whole catalog, MinIO as the
// transformed store: each Iceberg commit is registered in Glue as an Iceberg table
// pointing at its current metadata file. Skipped without ETL_TEST_MOTO_ENDPOINT
// (and ETL_TEST_S3_* for the catalog tests): scripts/test-servers.sh sets them.
//
// What moto cannot show, and where it is tested instead:
// - moto 5's UpdateTable ignores VersionId (never ConcurrentModificationException):
//   the re-read and retry are tested against the fake Glue endpoint
//   (tests/unit/cataloger/glue_iceberg_test.cpp).
// - moto's Athena runs no SQL, so "Athena reads the registered table" is not
//   proven here; what is checked is the Glue entry Athena reads (table_type
//   ICEBERG, metadata_location, location, columns) and that the metadata file it
//   names exists in the store.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "../unit/cataloger/aws_fake.h"
#include "../unit/cataloger/cataloger_fixtures.h"
#include "../unit/shared/s3_test_env.h"
#include "backends.h"
#include "etl/aws_json.h"
#include "etl/http_client.h"
#include "glue_catalog.h"
#include "glue_iceberg.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string unique_suffix() {
  std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng() % 1000000000ull);
}

// Iceberg metadata as our commits write it, enough for a registration.
json metadata_of(const std::string& location) {
  return {{"format-version", 2},
          {"location", location},
          {"current-schema-id", 0},
          {"schemas",
           {{{"type", "struct"},
             {"schema-id", 0},
             {"fields",
              {{{"id", 1}, {"name", "song_id"}, {"required", false}, {"type", "string"}},
               {{"id", 2}, {"name", "duration_ms"}, {"required", false}, {"type", "long"}},
               {{"id", 3}, {"name", "dt"}, {"required", false}, {"type", "string"}}}}}}}};
}

class GlueIcebergMoto : public ::testing::Test {
 protected:
  void SetUp() override {
    moto_ = env("ETL_TEST_MOTO_ENDPOINT");
    if (moto_.empty()) GTEST_SKIP() << "ETL_TEST_MOTO_ENDPOINT is unset: start moto with scripts/test-servers.sh";
  }

  AwsConfig aws() const {
    AwsConfig a;
    a.region = env("ETL_TEST_MOTO_REGION").empty() ? "us-east-1" : env("ETL_TEST_MOTO_REGION");
    a.access_key_id = "testing";
    a.secret_access_key = "testing";
    a.endpoint_url = moto_;
    return a;
  }

  std::unique_ptr<GlueIcebergRegistrar> registrar(const std::string& database) const {
    GlueRegistrarOptions o;
    o.database = database;
    auto r = GlueIcebergRegistrar::open(aws(), o);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return std::move(r).value();
  }

  json glue_table(const std::string& database, const std::string& table) const {
    auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
    auto got = glue->call("GetTable", {{"DatabaseName", database}, {"Name", table}});
    EXPECT_TRUE(got.ok()) << got.error().message;
    return got.ok() ? (*got)["Table"] : json();
  }

  std::string moto_;
};

// ---- the registrar alone -------------------------------------------------------------------------

TEST_F(GlueIcebergMoto, FirstRegistrationCreatesAnIcebergTableAndLaterOnesMoveThePointerForwardOnly) {
  const std::string db = "etl_iceberg_" + unique_suffix();  // no such database yet: the registrar creates it
  const std::string location = "s3://spotify-etl-aws-test/transformed/songs_data";
  auto at = [&](int v) { return location + "/metadata/v" + std::to_string(v) + ".metadata.json"; };
  auto glue = registrar(db);

  auto first = glue->register_table({"songs_data", at(1), metadata_of(location)});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, RegistrationOutcome::created);
  json t = glue_table(db, "songs_data");
  EXPECT_EQ(t["TableType"], "EXTERNAL_TABLE");
  EXPECT_EQ(t["Parameters"]["table_type"], "ICEBERG");
  EXPECT_EQ(t["Parameters"]["metadata_location"], at(1));
  EXPECT_FALSE(t["Parameters"].contains("previous_metadata_location"));
  EXPECT_EQ(t["StorageDescriptor"]["Location"], location);
  ASSERT_EQ(t["StorageDescriptor"]["Columns"].size(), 3u) << t.dump();
  EXPECT_EQ(t["StorageDescriptor"]["Columns"][1]["Type"], "bigint");
  EXPECT_EQ(t["StorageDescriptor"]["Columns"][1]["Parameters"]["iceberg.field.id"], "2");
  const std::string version_after_create = t.value("VersionId", "");

  auto second = glue->register_table({"songs_data", at(2), metadata_of(location)});
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, RegistrationOutcome::updated);
  t = glue_table(db, "songs_data");
  EXPECT_EQ(t["Parameters"]["metadata_location"], at(2));
  EXPECT_EQ(t["Parameters"]["previous_metadata_location"], at(1));
  EXPECT_NE(t.value("VersionId", ""), version_after_create) << "UpdateTable made a new Glue table version";

  // Another cataloger that is behind (it still has v1) must not move Glue back.
  auto stale = registrar(db)->register_table({"songs_data", at(1), metadata_of(location)});
  ASSERT_TRUE(stale.ok()) << stale.error().message;
  EXPECT_EQ(*stale, RegistrationOutcome::up_to_date);
  t = glue_table(db, "songs_data");
  EXPECT_EQ(t["Parameters"]["metadata_location"], at(2)) << "the pointer went backwards";
  auto again = glue->register_table({"songs_data", at(2), metadata_of(location)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, RegistrationOutcome::up_to_date) << "registering the same version twice changes nothing";
}

TEST_F(GlueIcebergMoto, CrawlersHiveTableIsRefusedAndLeftAsItWas) {
  const std::string db = "etl_iceberg_" + unique_suffix();
  auto client = aws::JsonClient::create(aws(), aws::glue_service()).value();
  ASSERT_TRUE(client->call("CreateDatabase", {{"DatabaseInput", {{"Name", db}}}}).ok());
  json hive = {{"Name", "songs_data"},
               {"PartitionKeys", {{{"Name", "dt"}, {"Type", "string"}}}},
               {"Parameters", {{"classification", "parquet"}}},
               {"StorageDescriptor",
                {{"Location", "s3://spotify-etl-aws-test/transformed/songs_data/"},
                 {"Columns", {{{"Name", "song_id"}, {"Type", "string"}}}}}}};
  ASSERT_TRUE(client->call("CreateTable", {{"DatabaseName", db}, {"TableInput", hive}}).ok());

  const std::string location = "s3://spotify-etl-aws-test/transformed/songs_data";
  auto refused = registrar(db)->register_table({"songs_data", location + "/metadata/v1.metadata.json", metadata_of(location)});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::conflict);
  EXPECT_NE(refused.error().message.find("is not an Iceberg table"), std::string::npos) << refused.error().message;
  json t = glue_table(db, "songs_data");
  EXPECT_FALSE(t["Parameters"].contains("metadata_location")) << "the crawler's table was overwritten";
  EXPECT_EQ(t["PartitionKeys"].size(), 1u);
}

// ---- ETL_CATALOG=glue + ETL_TABLE_FORMAT=iceberg: the built-in catalog over MinIO ----------------

// A Glue endpoint in front of moto that can be taken down: every call is passed to
// moto as it came (target, body, signature headers) unless `down`, when it gets 503s.
class GlueOutageProxy {
 public:
  explicit GlueOutageProxy(std::string moto) : moto_(std::move(moto)) {
    for (const auto& op : GlueIcebergRegistrar::operations())
      fake_.on(op, [this](const etl::testing::AwsRequest& r) { return forward(r); });
    fake_.set_fault([this](const etl::testing::AwsRequest&) -> std::optional<etl::testing::AwsAnswer> {
      if (!down) return std::nullopt;
      return etl::testing::aws_error(503, "ServiceUnavailableException", "Glue is down (test)");
    });
  }
  std::string url() const { return fake_.url(); }
  std::size_t count(const std::string& op) const { return fake_.count(op); }
  std::atomic<bool> down{false};

 private:
  etl::testing::AwsAnswer forward(const etl::testing::AwsRequest& r) const {
    http::ClientRequest request;
    request.method = "POST";
    request.url = moto_ + "/";
    request.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                       {"X-Amz-Target", r.target},
                       {"X-Amz-Date", r.header("x-amz-date")},
                       {"Authorization", r.header("authorization")}};
    request.body = r.body.dump();
    auto sent = http::Client().send(request);
    if (!sent) return etl::testing::aws_error(503, "ServiceUnavailableException", sent.error().message);
    json body = json::parse(sent->body, nullptr, false);
    return {sent->status, body.is_object() ? body : json::object()};
  }

  std::string moto_;
  etl::testing::FakeAws fake_;
};

class GlueIcebergCatalog : public GlueIcebergMoto {
 protected:
  void SetUp() override {
    GlueIcebergMoto::SetUp();
    if (IsSkipped()) return;
    auto server = etl::testing::s3_test_server();
    if (!server) GTEST_SKIP() << "needs the test servers' MinIO (ETL_TEST_S3_*): run through scripts/test.sh";
    s3_ = *server;
    prefix_ = etl::testing::unique_s3_prefix("glue-iceberg") + "/transformed";
    url_ = "s3://" + s3_.bucket + "/" + prefix_;
    store_ = std::shared_ptr<ObjectStore>(open_object_store(url_, s3_.aws).value());
  }
  void TearDown() override {
    if (catalog_) catalog_->stop_workers();
  }

  Config config(const std::string& glue_endpoint) const {
    Config c;
    c.catalog = "glue";
    c.table_format = "iceberg";
    c.query_engine = "athena";
    c.glue_database = database_;
    c.transformed_url = url_;
    c.iceberg_maintenance_interval = seconds(0);
    c.aws = s3_.aws;  // MinIO for S3 ...
    c.aws.endpoint_url_glue = glue_endpoint;  // ... and Glue elsewhere
    c.athena_output = "s3://spotify-etl-aws-test/athena/";
    return c;
  }

  std::shared_ptr<Catalog> open(const Config& c) {
    TableMirrorOptions cache;
    cache.root = cache_.path() / "cache";
    BackendContext context{c, store_, metrics_, cache, 2, {}};
    auto opened = open_catalog(context);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    if (!opened.ok()) return nullptr;
    catalog_ = std::move(opened).value();
    EXPECT_TRUE(catalog_->start_workers().ok());
    auto engine = open_query_engine(context, catalog_);
    EXPECT_TRUE(engine.ok()) << "ETL_QUERY_ENGINE=athena goes with this catalog: "
                             << (engine.ok() ? "" : engine.error().message);
    return catalog_;
  }

  std::string upload(const std::string& table, const std::string& dt, const std::string& stem, int rows, int offset) {
    return testing::put_parquet(*store_, table, dt, stem, testing::songs_select(rows, offset));
  }

  CrawlInfo crawl(const std::vector<std::string>& keys) {
    CrawlRequest request;
    request.trigger = "events";
    request.changed_keys = keys;
    auto started = catalog_->start_crawl(request);
    EXPECT_TRUE(started.ok()) << started.error().message;
    if (!started.ok()) return {};
    auto done = catalog_->wait_crawl(started->crawl_id, seconds(120));
    EXPECT_TRUE(done.ok()) << done.error().message;
    return done.ok() ? *done : CrawlInfo{};
  }

  std::string metadata_url(const std::string& table, int version) const {
    return url_ + "/" + table + "/metadata/v" + std::to_string(version) + ".metadata.json";
  }

  etl::testing::S3TestServer s3_;
  std::string prefix_, url_;
  std::string database_ = "etl_iceberg_" + unique_suffix();
  std::shared_ptr<ObjectStore> store_;
  etl::testing::TempDir cache_;
  MetricsRegistry metrics_;
  std::shared_ptr<Catalog> catalog_;
};

TEST_F(GlueIcebergCatalog, EachCommitIsRegisteredInGlueAsAnIcebergTable) {
  auto catalog = open(config(moto_));
  ASSERT_TRUE(catalog);
  EXPECT_EQ(catalog->name(), "glue") << "what Athena's pairing check reads";
  ASSERT_TRUE(catalog->table_files()) << "the built-in catalog, which DuckDB reads";

  auto first = crawl({upload("songs_data", "2026-11-20", "run1", 3, 0)});
  ASSERT_EQ(first.state, CrawlState::succeeded) << first.error;
  json t = glue_table(database_, "songs_data");
  EXPECT_EQ(t["TableType"], "EXTERNAL_TABLE");
  EXPECT_EQ(t["Parameters"]["table_type"], "ICEBERG");
  EXPECT_EQ(t["Parameters"]["metadata_location"], metadata_url("songs_data", 1));
  EXPECT_EQ(t["StorageDescriptor"]["Location"], url_ + "/songs_data");
  EXPECT_TRUE(store_->head("songs_data/metadata/v1.metadata.json").ok()) << "Glue names a metadata file that exists";
  std::set<std::string> columns;
  for (const auto& c : t["StorageDescriptor"]["Columns"]) columns.insert(c["Name"]);
  EXPECT_TRUE(columns.contains("song_id") && columns.contains("dt")) << t["StorageDescriptor"].dump();

  auto second = crawl({upload("songs_data", "2026-11-21", "run2", 2, 10)});
  ASSERT_EQ(second.state, CrawlState::succeeded) << second.error;
  t = glue_table(database_, "songs_data");
  EXPECT_EQ(t["Parameters"]["metadata_location"], metadata_url("songs_data", 2));
  EXPECT_EQ(t["Parameters"]["previous_metadata_location"], metadata_url("songs_data", 1));
}

TEST_F(GlueIcebergCatalog, GlueOutageLeavesTheTableBehindAndTheNextCrawlRegistersIt) {
  GlueOutageProxy glue(moto_);
  auto catalog = open(config(glue.url()));
  ASSERT_TRUE(catalog);
  auto first = crawl({upload("songs_data", "2026-11-20", "run1", 3, 0)});
  ASSERT_EQ(first.state, CrawlState::succeeded) << first.error;

  glue.down = true;
  auto failed = crawl({upload("songs_data", "2026-11-21", "run2", 2, 10)});
  EXPECT_EQ(failed.state, CrawlState::failed) << "a crawl whose commit Glue did not get says so";
  EXPECT_NE(failed.error.find("Glue registration"), std::string::npos) << failed.error;
  EXPECT_TRUE(store_->head("songs_data/metadata/v2.metadata.json").ok()) << "the Iceberg commit landed all the same";
  EXPECT_EQ(catalog->get_partitions("songs_data").value().size(), 2u) << "and the catalog moved";
  glue.down = false;
  EXPECT_EQ(glue_table(database_, "songs_data")["Parameters"]["metadata_location"], metadata_url("songs_data", 1))
      << "Glue still has the last registered commit";

  // The next crawl is about another table: the one left behind is registered too.
  auto next = crawl({upload("albums_data", "2026-11-21", "run2", 1, 0)});
  ASSERT_EQ(next.state, CrawlState::succeeded) << next.error;
  json t = glue_table(database_, "songs_data");
  EXPECT_EQ(t["Parameters"]["metadata_location"], metadata_url("songs_data", 2));
  EXPECT_EQ(t["Parameters"]["previous_metadata_location"], metadata_url("songs_data", 1));
  EXPECT_EQ(glue_table(database_, "albums_data")["Parameters"]["metadata_location"], metadata_url("albums_data", 1));
}

TEST_F(GlueIcebergCatalog, UnreachableGlueFailsTheCrawlAndARestartRegistersWhatLanded) {
  // A closed port: connection refused at every attempt (no proxy involved).
  auto down = open(config("http://127.0.0.1:9"));
  ASSERT_TRUE(down);
  auto failed = crawl({upload("songs_data", "2026-11-20", "run1", 3, 0)});
  EXPECT_EQ(failed.state, CrawlState::failed);
  EXPECT_NE(failed.error.find("Glue registration"), std::string::npos) << failed.error;
  EXPECT_TRUE(store_->head("songs_data/metadata/v1.metadata.json").ok());
  catalog_->stop_workers();
  catalog_.reset();

  // The cataloger restarted with Glue reachable: its start-up crawl registers v1.
  auto up = open(config(moto_));
  ASSERT_TRUE(up);
  CrawlRequest startup;
  startup.trigger = "startup";
  auto started = up->start_crawl(startup);
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto done = up->wait_crawl(started->crawl_id, seconds(120));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, CrawlState::succeeded) << done->error;
  EXPECT_EQ(glue_table(database_, "songs_data")["Parameters"]["metadata_location"], metadata_url("songs_data", 1));
}

// ---- ETL_GLUE_ICEBERG_REGISTRATION=crawler: the classic route, with Iceberg targets -------------

class GlueIcebergCrawlerRoute : public GlueIcebergCatalog {
 protected:
  Config crawler_config() const {
    Config c = config(moto_);
    c.glue.iceberg_registration = "crawler";
    c.glue.crawler_role = "arn:aws:iam::123456789012:role/spotify-etl-glue-crawler";
    return c;
  }
  json crawler(const std::string& table) const {
    auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
    auto got = glue->send("GetCrawler", {{"Name", default_crawler_name(database_, table)}});
    if (!got || !got->ok()) return json();
    return got->body.value("Crawler", json::object());
  }
};

TEST_F(GlueIcebergCrawlerRoute, ACommitStartsTheTablesCrawlerWithAnIcebergTargetAndRegistersNothingItself) {
  auto catalog = open(crawler_config());
  ASSERT_TRUE(catalog);
  EXPECT_EQ(catalog->name(), "glue");
  auto first = crawl({upload("songs_data", "2026-11-20", "run1", 3, 0)});
  ASSERT_EQ(first.state, CrawlState::succeeded) << first.error;
  EXPECT_TRUE(store_->head("songs_data/metadata/v1.metadata.json").ok()) << "the commit landed";
  // The crawler is created and started on the Glue worker, shortly after the crawl.
  json c;
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    c = crawler("songs_data");
    if (c.is_object() && (c.value("State", "") != "READY" || c.contains("LastCrawl"))) break;
    std::this_thread::sleep_for(milliseconds(200));
  }
  ASSERT_TRUE(c.is_object()) << "no crawler " << default_crawler_name(database_, "songs_data");
  ASSERT_TRUE(c["Targets"].contains("IcebergTargets")) << c["Targets"].dump();
  EXPECT_EQ(c["Targets"]["IcebergTargets"][0]["Paths"][0], url_ + "/songs_data/");
  EXPECT_FALSE(c["Targets"].contains("S3Targets") && !c["Targets"]["S3Targets"].empty()) << c["Targets"].dump();
  EXPECT_TRUE(c.value("State", "") != "READY" || c.contains("LastCrawl")) << "the crawler was never started: " << c.dump();
  EXPECT_EQ(c["DatabaseName"], database_);
  // Only the crawler registers: the cataloger itself wrote no Glue table.
  auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
  auto table = glue->send("GetTable", {{"DatabaseName", database_}, {"Name", "songs_data"}});
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_FALSE(table->ok() && table->body["Table"]["Parameters"].contains("metadata_location"))
      << "the crawler route must not register the table directly";
}

TEST_F(GlueIcebergCrawlerRoute, WithoutACrawlerRoleNothingStartsAndTheErrorSaysWhy) {
  Config c = crawler_config();
  c.glue.crawler_role.clear();
  TableMirrorOptions cache;
  cache.root = cache_.path() / "cache";
  BackendContext context{c, store_, metrics_, cache, 2, {}};
  auto opened = open_catalog(context);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_argument);
  EXPECT_NE(opened.error().message.find("ETL_GLUE_CRAWLER_ROLE"), std::string::npos) << opened.error().message;
}

}  // namespace
}  // namespace etl::cataloger
