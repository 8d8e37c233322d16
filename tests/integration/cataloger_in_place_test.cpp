// The built-in catalog and DuckDB reading tables in MinIO in place
// (ETL_CATALOG_READS=in_place, the default): DuckDB's signed httpfs extension
// loaded by path, an S3 secret from our credentials chain, no local copy of the
// lake; the engine's lock-down still keeps every other prefix unreadable, and a
// change of credentials replaces the secret. Needs the test servers' MinIO and
// scripts/setup.sh's DuckDB extensions.
#include <gtest/gtest.h>

#include <optional>


#include "../unit/cataloger/cataloger_fixtures.h"
#include "../unit/shared/s3_test_env.h"
#include "cataloger_service.h"
#include "duckdb_engine.h"
#include "query_manager.h"
#include "etl/aws_credentials.h"
#include "etl/memory_bus.h"
#include "etl/s3_event.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using etl::testing::call;
using etl::testing::wait_until;
using nlohmann::json;
using testing::songs_select;

// Credentials a test can change under a running engine.
class SwitchableCredentials final : public aws::CredentialsProvider {
 public:
  explicit SwitchableCredentials(AwsCredentials c) : current_(std::move(c)) {}
  Result<AwsCredentials> credentials() override {
    std::lock_guard lock(mutex_);
    return current_;
  }
  std::string describe() const override { return "test keys"; }
  void set(AwsCredentials c) {
    std::lock_guard lock(mutex_);
    current_ = std::move(c);
  }

 private:
  std::mutex mutex_;
  AwsCredentials current_;
};

class CatalogerInPlace : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = etl::testing::s3_test_server();
    if (!server) GTEST_SKIP() << "needs the test servers' MinIO (ETL_TEST_S3_*): run through scripts/test.sh";
    if (duck::find_extension_dir("").empty()) GTEST_SKIP() << "needs DuckDB's httpfs extension (scripts/setup.sh)";
    server_ = *server;
    prefix_ = etl::testing::unique_s3_prefix("in-place");
    url_ = "s3://" + server_.bucket + "/" + prefix_ + "/transformed";
    store_ = std::shared_ptr<ObjectStore>(open_object_store(url_, server_.aws).value());
  }

  std::string upload(const std::string& table, const std::string& dt, const std::string& stem, const std::string& select) {
    return testing::put_parquet(*store_, table, dt, stem, select);
  }

  void announce(const std::string& key) {
    ObjectCreated e;
    e.bucket = server_.bucket;
    e.key = store_->event_key(key);
    e.size = 1;
    ASSERT_TRUE(bus_->publish(Config{}.topic_transformed, key, build_s3_event(e)).ok());
  }

  std::unique_ptr<CatalogerService> start(std::chrono::seconds maintenance = 0s) {
    Config config;
    config.iceberg_maintenance_interval = maintenance;
    config.transformed_url = url_;
    config.aws = server_.aws;
    config.cataloger_addr = {"127.0.0.1", 0};
    config.bus = "memory";
    config.table_format = format_;
    config.query_s3_metadata_cache = metadata_cache_;
    config.catalog_cache.dir = (work_.path() / "cache").string();  // would be the mirror's: must stay empty
    config.query_data_dir = (work_.path() / "engine").string();
    CatalogerOptions options;
    options.debounce.quiet = 200ms;
    auto svc = CatalogerService::create(config, bus_, options);
    EXPECT_TRUE(svc.ok()) << svc.error().message;
    if (!svc.ok()) return nullptr;
    EXPECT_TRUE((*svc)->start().ok());
    return std::move(svc).value();
  }

  static json query(CatalogerService& svc, const json& body) {
    auto r = call("POST", svc.base_url() + "/v1/query", body.dump());
    EXPECT_EQ(r.status, 200) << body.dump() << ": " << r.body;
    return r.status == 200 ? r.json() : json();
  }

  // Regular files under `dir` (0 when it does not exist).
  static std::size_t files_under(const std::filesystem::path& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
         it.increment(ec))
      if (it->is_regular_file()) ++n;
    return n;
  }

  std::string format_ = "iceberg";  // ETL_TABLE_FORMAT
  bool metadata_cache_ = false;     // ETL_QUERY_S3_METADATA_CACHE
  etl::testing::S3TestServer server_;
  std::string prefix_;
  std::string url_;
  std::shared_ptr<ObjectStore> store_;
  etl::testing::TempDir work_;
  std::shared_ptr<MemoryBus> bus_ = make_memory_bus();
};

// Both table formats.
class CatalogerInPlaceFormats : public CatalogerInPlace, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    format_ = GetParam();
    CatalogerInPlace::SetUp();
  }
};

TEST_P(CatalogerInPlaceFormats, QueriesReadTheBucketInPlaceAndFollowTheEventsWithoutALocalCopy) {
  upload("songs_data", "2026-11-01", "run1", songs_select(6));
  upload("songs_data", "2026-11-02", "run1", songs_select(4, 6));
  upload("artists_data", "2026-11-01", "run1", testing::artists_select());
  auto svc = start();
  ASSERT_TRUE(svc);
  ASSERT_TRUE(wait_until([&] { return call("GET", svc->base_url() + "/v1/tables").json()["tables"].size() == 2; }, 30s))
      << call("GET", svc->base_url() + "/v1/tables").body;

  auto count = query(*svc, {{"sql", "SELECT count(*), count(DISTINCT song_id) FROM songs_data"}});
  EXPECT_EQ(count["rows"], json::parse("[[10, 10]]")) << count.dump();
  auto joined = query(*svc, {{"sql", "SELECT count(*) FROM songs_data s JOIN artists_data a USING (artist_id, dt)"}});
  EXPECT_FALSE(joined["rows"].empty()) << joined.dump();

  std::string key = upload("songs_data", "2026-11-03", "run1", songs_select(5, 100));
  announce(key);
  ASSERT_TRUE(wait_until([&] {
    return query(*svc, {{"sql", "SELECT count(*) FROM songs_data"}})["rows"] == json::parse("[[15]]");
  }, 30s));

  if (format_ == "iceberg") {  // time travel reads an older snapshot's files in place too
    auto snapshots = call("GET", svc->base_url() + "/v1/tables/songs_data/snapshots").json();
    ASSERT_GE(snapshots["snapshots"].size(), 2u) << snapshots.dump();
    json first;
    for (const auto& snapshot : snapshots["snapshots"])
      if (snapshot["total_records"] == 10) first = snapshot["snapshot_id"];
    ASSERT_FALSE(first.is_null()) << snapshots.dump();
    auto old = query(*svc, {{"sql", "SELECT count(*) FROM songs_data"}, {"as_of", {{"songs_data", first}}}});
    EXPECT_EQ(old["rows"], json::parse("[[10]]")) << old.dump();
  }

  EXPECT_EQ(files_under(work_.path() / "cache"), 0u) << "no copy of the lake is kept";
  EXPECT_EQ(svc->metrics().counter("spotify_etl_cataloger_cache_downloads_total", "").value(), 0);
  svc->stop();
}

TEST_F(CatalogerInPlace, CompactionReadsAndRewritesInPlace) {
  for (int i = 0; i < 4; ++i) upload("songs_data", "2026-11-01", "run" + std::to_string(i), songs_select(5, i * 5));
  auto svc = start(1s);  // a maintenance crawl (compaction) every second
  ASSERT_TRUE(svc);
  ASSERT_TRUE(wait_until([&] {
    auto t = call("GET", svc->base_url() + "/v1/tables/songs_data").json();
    return t.value("/iceberg/files"_json_pointer, 0) == 1;
  }, 30s)) << call("GET", svc->base_url() + "/v1/tables/songs_data").body;
  EXPECT_EQ(query(*svc, {{"sql", "SELECT count(*), count(DISTINCT song_id) FROM songs_data"}})["rows"],
            json::parse("[[20, 20]]"));
  EXPECT_EQ(files_under(work_.path() / "cache"), 0u);
  svc->stop();
}

// ETL_QUERY_RESIDENT_BYTES (on by default): the tables' copies are loaded from
// the bucket through httpfs, queries then read them and not the bucket, and a
// new file announced by its event, then a compaction that replaces the files,
// go into the copy in place: the counts stay exact throughout.
TEST_F(CatalogerInPlace, TablesKeptInMemoryAreLoadedFromTheBucketAndFollowItsCommits) {
  for (int i = 0; i < 3; ++i) upload("songs_data", "2026-11-01", "run" + std::to_string(i), songs_select(5, i * 5));
  upload("artists_data", "2026-11-01", "run1", testing::artists_select());
  auto svc = start();
  ASSERT_TRUE(svc);
  ASSERT_TRUE(wait_until([&] { return call("GET", svc->base_url() + "/v1/tables").json()["tables"].size() == 2; }, 30s));
  auto& engine = dynamic_cast<DuckDbEngine&>(dynamic_cast<QueryManager&>(svc->queries()).engine());
  const json count = {{"sql", "SELECT count(*), count(DISTINCT song_id) FROM songs_data"}};
  EXPECT_EQ(query(*svc, count)["rows"], json::parse("[[15, 15]]"));  // syncs the views: the copies start
  auto serving = [&](std::size_t files) {
    auto report = engine.resident_report();
    return report.count("songs_data") && report.at("songs_data").mode == "serving" &&
           report.at("songs_data").files == files && report.at("songs_data").wanted == files;
  };
  ASSERT_TRUE(wait_until([&] { return serving(3); }, 30s));
  auto plan = query(*svc, {{"sql", "EXPLAIN SELECT count(*) FROM songs_data"}});
  EXPECT_EQ(plan.dump().find("READ_PARQUET"), std::string::npos) << "reads the copy, not the bucket: " << plan.dump();
  EXPECT_GT(engine.resident_bytes(), 0u);

  const std::string key = upload("songs_data", "2026-11-02", "run1", songs_select(4, 100));
  announce(key);
  ASSERT_TRUE(wait_until([&] { return query(*svc, count)["rows"] == json::parse("[[19, 19]]"); }, 30s))
      << query(*svc, count).dump();
  EXPECT_TRUE(serving(4)) << "taken into the copy in place";

  // A compaction: three files out, one in, for 2026-11-01.
  etl::CrawlRequest maintenance;
  maintenance.trigger = "maintenance";
  auto started = svc->catalog().start_crawl(maintenance);
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(svc->catalog().wait_crawl(started->crawl_id, 60s).ok());
  EXPECT_EQ(query(*svc, count)["rows"], json::parse("[[19, 19]]"));
  EXPECT_TRUE(serving(2)) << "the compacted file's rows replaced the three files' in the copy";
  EXPECT_EQ(files_under(work_.path() / "cache"), 0u);
  svc->stop();
}

// POST /v1/reprocess after a compaction: the rewritten input's rows take the place
// of its old ones inside the compacted file, read and written in place on S3.
TEST_F(CatalogerInPlace, AnInputRewrittenAfterTheCompactionReplacesItsRowsInTheCompactedFile) {
  metadata_cache_ = true;
  for (int i = 0; i < 4; ++i) upload("songs_data", "2026-11-01", "run" + std::to_string(i), songs_select(5, i * 5));
  auto svc = start(1s);
  ASSERT_TRUE(svc);
  auto table = [&] { return call("GET", svc->base_url() + "/v1/tables/songs_data").json(); };
  ASSERT_TRUE(wait_until([&] { return table().value("/iceberg/files"_json_pointer, 0) == 1; }, 30s)) << table().dump();
  const json sql = {{"sql", "SELECT count(*), count(DISTINCT song_id), min(song_id), max(song_id) FROM songs_data"}};
  EXPECT_EQ(query(*svc, sql)["rows"], json::parse(R"([[20, 20, "s0", "s9"]])"));

  const std::string key = upload("songs_data", "2026-11-01", "run2", songs_select(7, 500));  // was s10..s14
  announce(key);
  ASSERT_TRUE(wait_until([&] { return query(*svc, sql)["rows"] == json::parse(R"([[22, 22, "s0", "s9"]])"); }, 30s))
      << query(*svc, sql).dump();
  EXPECT_EQ(query(*svc, {{"sql", "SELECT count(*) FROM songs_data WHERE song_id IN ('s10', 's14', 's500', 's506')"}})["rows"],
            json::parse("[[2]]"));
  EXPECT_EQ(table().value("/iceberg/files"_json_pointer, 0), 1) << table().dump();
  EXPECT_EQ(table().value("/iceberg/records"_json_pointer, 0), 22) << table().dump();
  EXPECT_EQ(svc->metrics().counter("spotify_etl_cataloger_iceberg_refolded_files_total", "", {{"table", "songs_data"}}).value(), 1);
  svc->stop();
}

// ETL_QUERY_S3_METADATA_CACHE: DuckDB keeps what it read of a file, trusting that
// the bytes under a key do not change. A file the transformer rewrites in place
// with other rows (/v1/reprocess) is committed with its new size; the engine sees
// that and renews its database, so the next query reads the new rows, not the
// blocks it kept of the old ones.
TEST_F(CatalogerInPlace, AFileReplacedInPlaceIsReadAnewWithTheMetadataCache) {
  metadata_cache_ = true;
  const std::string key = upload("songs_data", "2026-11-01", "run1", songs_select(6));
  auto svc = start();
  ASSERT_TRUE(svc);
  ASSERT_TRUE(wait_until([&] { return call("GET", svc->base_url() + "/v1/tables").json()["tables"].size() == 1; }, 30s));
  const json sql = {{"sql", "SELECT count(*), max(song_id) FROM songs_data"}};
  EXPECT_EQ(query(*svc, sql)["rows"], json::parse(R"([[6, "s5"]])"));
  EXPECT_EQ(query(*svc, {{"sql", "SELECT sum(duration_ms) FROM songs_data"}})["rows"], json::parse("[[1080015]]"));

  upload("songs_data", "2026-11-01", "run1", songs_select(9, 100));  // the same key, other rows
  announce(key);
  // The catalog's new data version (what the query endpoint's views follow; the
  // snapshot list shows the commit a moment earlier, before the crawl ends).
  ASSERT_TRUE(wait_until([&] {
    return call("GET", svc->base_url() + "/v1/tables/songs_data").json().value("data_version", 0) >= 2;
  }, 30s)) << call("GET", svc->base_url() + "/v1/tables/songs_data").body;
  auto snapshots = call("GET", svc->base_url() + "/v1/tables/songs_data/snapshots").json();
  ASSERT_EQ(snapshots["snapshots"].size(), 2u) << snapshots.dump();
  EXPECT_EQ(snapshots["snapshots"][0]["operation"], "overwrite") << "newest first: " << snapshots.dump();
  EXPECT_EQ(query(*svc, sql)["rows"], json::parse(R"([[9, "s108"]])"));
  EXPECT_EQ(query(*svc, {{"sql", "SELECT sum(duration_ms) FROM songs_data"}})["rows"], json::parse("[[1620036]]"));
  svc->stop();
}

// With Iceberg tables a reprocess writes a newer generation of a file, never over
// it (docs/contract.md §4.4): the commit swaps it in and retires the old one, and
// the snapshot before it still reads the old file as it was, through httpfs on
// S3 with the metadata cache on (no key changed its bytes: nothing to renew).
TEST_F(CatalogerInPlace, ANewerGenerationReplacesAFileAndTheSnapshotBeforeStillReadsTheOldOne) {
  metadata_cache_ = true;
  const std::string old_key = upload("songs_data", "2026-11-01", "run1", songs_select(6));
  auto svc = start();
  ASSERT_TRUE(svc);
  ASSERT_TRUE(wait_until([&] { return call("GET", svc->base_url() + "/v1/tables").json()["tables"].size() == 1; }, 30s));
  const json sql = {{"sql", "SELECT count(*), max(song_id) FROM songs_data"}};
  EXPECT_EQ(query(*svc, sql)["rows"], json::parse(R"([[6, "s5"]])"));
  auto snapshots = [&] { return call("GET", svc->base_url() + "/v1/tables/songs_data/snapshots").json()["snapshots"]; };
  const std::int64_t before = snapshots()[0]["snapshot_id"];

  announce(upload("songs_data", "2026-11-01", "run1.r1795240800123", songs_select(9, 100)));
  ASSERT_TRUE(wait_until([&] { return query(*svc, sql)["rows"] == json::parse(R"([[9, "s108"]])"); }, 30s))
      << query(*svc, sql).dump();
  EXPECT_EQ(snapshots()[0]["operation"], "overwrite") << snapshots().dump();
  EXPECT_EQ(call("GET", svc->base_url() + "/v1/tables/songs_data").json().value("/iceberg/files"_json_pointer, 0), 1);
  EXPECT_EQ(query(*svc, {{"sql", sql["sql"]}, {"as_of", {{"songs_data", before}}}})["rows"],
            json::parse(R"([[6, "s5"]])"))
      << "the snapshot before the redo reads the old file";
  EXPECT_TRUE(store_->head(old_key).ok()) << "retired: stored while a kept snapshot names it";
  svc->stop();
}

INSTANTIATE_TEST_SUITE_P(Formats, CatalogerInPlaceFormats, ::testing::Values("iceberg", "hive"));

// The engine itself, past the SQL gate: what its lock-down allows over s3://.
class EngineInPlace : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = etl::testing::s3_test_server();
    if (!server) GTEST_SKIP() << "needs the test servers' MinIO (ETL_TEST_S3_*): run through scripts/test.sh";
    if (duck::find_extension_dir("").empty()) GTEST_SKIP() << "needs DuckDB's httpfs extension (scripts/setup.sh)";
    server_ = *server;
    url_ = "s3://" + server_.bucket + "/" + etl::testing::unique_s3_prefix("engine-in-place") + "/transformed";
    store_ = std::shared_ptr<ObjectStore>(open_object_store(url_, server_.aws).value());
    parquet_ = store_->get(testing::put_parquet(*store_, "songs_data", "2026-11-01", "run1", songs_select(3))).value();
    ASSERT_TRUE(store_->put("_query_results/someone-elses.parquet", parquet_).ok());
  }

  std::unique_ptr<DuckDbEngine> open(std::shared_ptr<aws::CredentialsProvider> credentials = nullptr,
                                     bool metadata_cache = false) {
    auto files = duck::TableFiles::s3(server_.aws, url_, "", std::move(credentials));
    EXPECT_TRUE(files.ok()) << files.error().message;
    DuckDbEngineOptions options;
    options.files = *files;
    options.s3_metadata_cache = metadata_cache;
    options.threads = 1;
    options.data_dir = work_.path();
    auto engine = DuckDbEngine::open(options);
    EXPECT_TRUE(engine.ok()) << engine.error().message;
    return engine.ok() ? std::move(engine).value() : nullptr;
  }

  Result<ResultSet> run(DuckDbEngine& engine, const std::string& sql) {
    auto session = engine.session();
    if (!session) return std::move(session).error();
    return (*session)->execute(sql, 1 << 20, false, Dialect::duckdb);
  }

  std::string path(const std::string& key) const { return "'" + url_ + "/" + key + "'"; }

  // An engine signing with keys the test can change, and one session throughout,
  // as a query worker keeps its own; before each query the worker asks for a
  // refresh (QueryManager::run).
  struct Worker {
    std::shared_ptr<SwitchableCredentials> keys;
    std::unique_ptr<DuckDbEngine> engine;
    std::unique_ptr<SqlSession> session;
    Result<ResultSet> run(const std::string& sql) {
      ETL_RETURN_IF_ERROR(engine->refresh_credentials());
      return session->execute(sql, 1 << 20, false, Dialect::duckdb);
    }
  };
  // nullopt (and a failure) when the engine or its session cannot be had.
  std::optional<Worker> worker(bool metadata_cache) {
    Worker w;
    w.keys = std::make_shared<SwitchableCredentials>(
        AwsCredentials{server_.aws.access_key_id, server_.aws.secret_access_key, ""});
    w.engine = open(w.keys, metadata_cache);
    if (!w.engine) return std::nullopt;
    auto session = w.engine->session();
    EXPECT_TRUE(session.ok());
    if (!session.ok()) return std::nullopt;
    w.session = std::move(session).value();
    return w;
  }

  etl::testing::S3TestServer server_;
  std::string url_;
  std::shared_ptr<ObjectStore> store_;
  std::string parquet_;
  etl::testing::TempDir work_;
};

TEST_F(EngineInPlace, OnlyTheTableFoldersOfThePrefixAreReadable) {
  auto engine = open();
  ASSERT_TRUE(engine);
  auto table = run(*engine, "SELECT count(*) FROM read_parquet(" + path("songs_data/dt=2026-11-01/run1.parquet") + ")");
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_EQ(table->rows, std::vector<std::string>{"[3]"});

  const std::string outside = "s3://" + server_.bucket + "/elsewhere.parquet";
  ASSERT_TRUE(open_object_store("s3://" + server_.bucket, server_.aws).value()->put("elsewhere.parquet", parquet_).ok());
  for (const std::string& sql : {
           "SELECT * FROM read_parquet(" + path("_query_results/someone-elses.parquet") + ")",
           "SELECT * FROM read_parquet(" + path("songs_data/../_query_results/someone-elses.parquet") + ")",
           "SELECT * FROM read_parquet('" + outside + "')",
           std::string("SELECT * FROM read_csv('/etc/passwd')"),
       }) {
    auto r = run(*engine, sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_NE(r.error().message.find("disabled by configuration"), std::string::npos) << sql << ": " << r.error().message;
  }
  for (const std::string& sql : {std::string("SET allowed_directories = ['s3://']"),
                                 std::string("CREATE OR REPLACE SECRET x (TYPE s3, KEY_ID 'a', SECRET 'b')")}) {
    auto r = run(*engine, sql);
    EXPECT_FALSE(r.ok()) << sql << " is not a read-only statement";
  }
}

TEST_F(EngineInPlace, NewCredentialsReplaceTheSecretBeforeTheNextQuery) {
  auto w = worker(false);
  ASSERT_TRUE(w);
  const std::string sql = "SELECT count(*) FROM read_parquet(" + path("songs_data/dt=2026-11-01/run1.parquet") + ")";
  ASSERT_TRUE(w->run(sql).ok());

  w->keys->set({"AKIAWRONGWRONGWRONG0", "not-the-secret-not-the-secret-not-the-secr", ""});
  auto refused = w->run(sql);
  ASSERT_FALSE(refused.ok()) << "the engine signs with what the chain hands out now, not what it had";
  EXPECT_NE(refused.error().message.find("403"), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find("not-the-secret"), std::string::npos) << "never the secret";

  w->keys->set({server_.aws.access_key_id, server_.aws.secret_access_key, ""});
  auto again = w->run(sql);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->rows, std::vector<std::string>{"[3]"});
}

// ETL_QUERY_S3_METADATA_CACHE (Iceberg tables): a file read once is read again
// without a request, which the keys going bad shows (without the cache, the test
// above gets its 403). A file never read still needs valid keys.
TEST_F(EngineInPlace, WithTheMetadataCacheAFileReadOnceNeedsNoRequestAgain) {
  auto w = worker(true);
  ASSERT_TRUE(w);
  const std::string sql = "SELECT count(*), max(song_id) FROM read_parquet(" +
                          path("songs_data/dt=2026-11-01/run1.parquet") + ")";
  auto first = w->run(sql);
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::string other = testing::put_parquet(*store_, "songs_data", "2026-11-02", "run1", songs_select(4));

  w->keys->set({"AKIAWRONGWRONGWRONG0", "not-the-secret-not-the-secret-not-the-secr", ""});
  auto again = w->run(sql);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->rows, first->rows);
  auto unread = w->run("SELECT count(*) FROM read_parquet(" + path(other) + ")");
  ASSERT_FALSE(unread.ok()) << "a file not read before is fetched, and signed";
  EXPECT_NE(unread.error().message.find("403"), std::string::npos) << unread.error().message;
}

// A file that does change under the cache (never an Iceberg data file, but a
// store's ETag may differ for the same bytes rewritten): DuckDB notices when it
// next reads a part it had not kept, drops what it knew, and the query runs again.
TEST_F(EngineInPlace, AFileChangedUnderTheMetadataCacheIsReadAgainNotAnError) {
  auto engine = open(nullptr, true);
  ASSERT_TRUE(engine);
  const std::string key = "songs_data/dt=2026-11-03/run1.parquet";
  testing::put_parquet(*store_, "songs_data", "2026-11-03", "run1", songs_select(3000));
  auto first = run(*engine, "SELECT sum(duration_ms) FROM read_parquet(" + path(key) + ")");
  ASSERT_TRUE(first.ok()) << first.error().message;
  testing::put_parquet(*store_, "songs_data", "2026-11-03", "run1", songs_select(3000, 7000));
  auto changed = run(*engine, "SELECT max(song_id) FROM read_parquet(" + path(key) + ")");
  ASSERT_TRUE(changed.ok()) << changed.error().message;
  EXPECT_EQ(changed->rows, std::vector<std::string>{R"(["s9999"])"});
}

TEST(TableFilesConfig, WithoutHttpfsTheErrorIsOneLineAndNamesTheWayOut) {
  AwsConfig aws;
  aws.endpoint_url_s3 = "http://127.0.0.1:9";
  auto files = duck::TableFiles::s3(aws, "s3://bucket/prefix", "/nonexistent/extensions");
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.error().code, Errc::invalid_argument);
  EXPECT_NE(files.error().message.find("ETL_DUCKDB_EXTENSION_DIR=/nonexistent/extensions"), std::string::npos)
      << files.error().message;
  EXPECT_NE(files.error().message.find("ETL_CATALOG_READS=mirror"), std::string::npos);
  EXPECT_EQ(files.error().message.find('\n'), std::string::npos);
}

TEST(TableFilesConfig, LocalFoldersAndS3PrefixesJoinKeysTheSameWay) {
  duck::TableFiles local(std::filesystem::path("/data/lake/"));
  EXPECT_FALSE(local.remote());
  EXPECT_EQ(local.path("songs_data/dt=2026-01-01/a.parquet"), "/data/lake/songs_data/dt=2026-01-01/a.parquet");
  AwsConfig aws;
  aws.endpoint_url_s3 = "http://127.0.0.1:9";
  auto files = duck::TableFiles::s3(aws, "s3://bucket/some/prefix/", "");
  if (!files.ok() && duck::find_extension_dir("").empty()) GTEST_SKIP() << "needs DuckDB's httpfs extension";
  ASSERT_TRUE(files.ok()) << files.error().message;
  EXPECT_TRUE(files->remote());
  EXPECT_EQ(files->root(), "s3://bucket/some/prefix");
  EXPECT_EQ(files->path("songs_data/x.parquet"), "s3://bucket/some/prefix/songs_data/x.parquet");
}

}  // namespace
}  // namespace etl::cataloger
