// The cataloger over real HTTP with an in-process bus: events -> debounced
// crawls, tables, queries (JSON, CSV, paging, concurrency, timeouts, cancel),
// errors as problem+json, and bearer-token auth.
#include "cataloger_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "../unit/cataloger/cataloger_fixtures.h"
#include "etl/dates.h"
#include "etl/memory_bus.h"
#include "etl/s3_event.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using etl::testing::call;
using etl::testing::wait_until;
using testing::songs_select;
using testing::write_file;

struct Service {
  etl::testing::TempDir dir;
  std::filesystem::path root = dir.path() / "transformed";
  std::shared_ptr<MemoryBus> bus = make_memory_bus();
  Config config;
  std::unique_ptr<CatalogerService> svc;

  explicit Service(std::string token = {}, bool crawl_on_start = true, std::string table_format = "iceberg") {
    std::filesystem::create_directories(root);
    config.transformed_url = "file://" + root.string();
    config.cataloger_addr = {"127.0.0.1", 0};
    config.bus = "memory";
    config.api_token = std::move(token);
    config.table_format = std::move(table_format);
    CatalogerOptions options;
    options.debounce.quiet = 300ms;
    options.crawl_on_start = crawl_on_start;
    svc = CatalogerService::create(config, bus, options).value();
    EXPECT_TRUE(svc->start().ok());
    // The start-up crawl runs on its own: files a test writes while it lists
    // would land in two snapshots instead of the one the seed's crawl commits.
    if (crawl_on_start) {
      EXPECT_TRUE(wait_until([&] {
        return call("GET", url("/metrics")).body.find("crawls_total{trigger=\"startup\",state=\"SUCCEEDED\"}") !=
               std::string::npos;
      })) << "the start-up crawl did not finish";
    }
  }
  ~Service() { svc->stop(); }

  std::string url(const std::string& path) const { return svc->base_url() + path; }
  void publish_created(const std::string& key) {
    ObjectCreated e;
    e.bucket = root.filename().string();
    e.key = key;
    e.size = 1;
    ASSERT_TRUE(bus->publish(config.topic_transformed, key, build_s3_event(e)).ok());
  }
  etl::testing::HttpResult query(const nlohmann::json& body, const std::string& token = {},
                                 const std::string& accept = {}) {
    return call("POST", url("/v1/query"), body.dump(), token, accept);
  }
  // Writes a small dataset and crawls it through the API.
  void seed() {
    write_file(root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(6));
    write_file(root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(4, 6));
    write_file(root, "artists_data", "2026-11-01", "run1", "parquet", testing::artists_select());
    write_file(root, "artists_data", "2026-11-02", "run1", "parquet", testing::artists_select());
    auto started = call("POST", url("/v1/crawl"), "{}", config.api_token);
    ASSERT_EQ(started.status, 202) << started.body;
    std::string id = started.json()["crawl_id"];
    ASSERT_TRUE(wait_until([&] { return call("GET", url("/v1/crawls/" + id), {}, config.api_token).json()["state"] == "SUCCEEDED"; }));
  }
};

TEST(CatalogerService, TransformedEventsTriggerOneDebouncedCrawlPerTable) {
  Service s({}, /*crawl_on_start=*/false);
  std::vector<std::string> keys;
  for (std::string table : {"songs_data", "artists_data", "albums_data"})
    for (std::string dt : {"2026-11-01", "2026-11-02"})
      for (std::string stem : {"run1", "run2"}) {
        write_file(s.root, table, dt, stem, "parquet", table == "songs_data" ? songs_select(3) : testing::artists_select());
        keys.push_back(table + "/dt=" + dt + "/" + stem + ".parquet");
      }
  for (const auto& k : keys) s.publish_created(k);
  ASSERT_TRUE(wait_until([&] { return s.bus->committed("spotify-etl-cataloger", s.config.topic_transformed) == 12; }))
      << "every event is acknowledged";
  ASSERT_TRUE(wait_until([&] { return call("GET", s.url("/v1/tables")).json()["tables"].size() == 3; }));
  auto& m = s.svc->metrics();
  EXPECT_EQ(m.counter("spotify_etl_cataloger_crawls_total", "", {{"trigger", "events"}, {"state", "SUCCEEDED"}}).value(), 1)
      << "12 events in a burst give one crawl";
  for (std::string table : {"songs_data", "artists_data", "albums_data"})
    EXPECT_EQ(m.counter("spotify_etl_cataloger_table_crawls_total", "", {{"table", table}}).value(), 1) << table;
  auto songs = call("GET", s.url("/v1/tables/songs_data")).json();
  EXPECT_EQ(songs["partitions"], 2);
  EXPECT_EQ(songs["partition_keys"], nlohmann::json::array({"dt"}));
  EXPECT_EQ(songs["database"], "spotify");
}

// A removed data file (a hive redo's, announced by the transformer, or a bucket
// notification's) triggers a crawl of its partition as a new one does.
TEST(CatalogerService, ARemovedDataFileLeavesTheTableWithItsEvent) {
  Service s({}, true, "hive");
  s.seed();
  auto count = [&] { return s.query({{"sql", "SELECT count(*) AS n FROM songs_data"}}).json()["rows"][0][0]; };
  ASSERT_EQ(count(), 10);
  const std::string key = "songs_data/dt=2026-11-02/run1.parquet";
  std::filesystem::remove(s.root / key);
  ObjectCreated removed;
  removed.bucket = s.root.filename().string();
  removed.key = key;
  removed.event_name = "ObjectRemoved:Delete";
  ASSERT_TRUE(s.bus->publish(s.config.topic_transformed, key, build_s3_event(removed)).ok());
  ASSERT_TRUE(wait_until([&] { return call("GET", s.url("/v1/tables/songs_data")).json()["partitions"] == 1; }))
      << call("GET", s.url("/v1/tables/songs_data")).body;
  EXPECT_EQ(count(), 6);
  EXPECT_TRUE(s.bus->messages(s.config.topic_dlq).empty());
}

TEST(CatalogerService, EventsForOtherBucketsAndOwnFoldersAreIgnored) {
  Service s({}, false);
  ObjectCreated other;
  other.bucket = "someone-else";
  other.key = "songs_data/dt=2026-11-01/x.parquet";
  ASSERT_TRUE(s.bus->publish(s.config.topic_transformed, other.key, build_s3_event(other)).ok());
  s.publish_created("_query_results/abc.csv");
  ASSERT_TRUE(s.bus->publish(s.config.topic_transformed, "bad", "not json").ok());
  ASSERT_TRUE(wait_until([&] { return s.bus->committed("spotify-etl-cataloger", s.config.topic_transformed) == 3; }, 15s));
  EXPECT_EQ(s.bus->messages(s.config.topic_dlq).size(), 1u) << "the malformed event goes to the DLQ";
  EXPECT_EQ(call("GET", s.url("/v1/tables")).json()["tables"].size(), 0u);
}

TEST(CatalogerService, IcebergTablesReportTheirSnapshotsOverHttp) {
  Service s;
  s.seed();
  auto tables = call("GET", s.url("/v1/tables"));
  ASSERT_EQ(tables.status, 200) << tables.body;
  nlohmann::json songs;
  const auto listed = tables.json();
  for (const auto& t : listed["tables"])
    if (t["name"] == "songs_data") songs = t;
  ASSERT_TRUE(songs.is_object()) << tables.body;
  EXPECT_EQ(songs["table_format"], "iceberg");
  const auto& report = songs["iceberg"];
  ASSERT_TRUE(report.is_object()) << songs.dump();
  std::int64_t bytes = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(s.root / "songs_data"))
    if (f.path().extension() == ".parquet") bytes += static_cast<std::int64_t>(f.file_size());
  EXPECT_EQ(report["files"], 2) << report.dump();
  EXPECT_EQ(report["records"], 10);
  EXPECT_EQ(report["bytes"], bytes) << "the bytes of the data files the snapshot holds";
  EXPECT_EQ(report["snapshot_count"], 1);
  EXPECT_TRUE(report["current_snapshot_id"].is_number_integer());
  EXPECT_TRUE(report["last_compaction"].is_null());
  EXPECT_NE(report["metadata_location"].get<std::string>().find("songs_data/metadata/v1.metadata.json"),
            std::string::npos);
  EXPECT_EQ(call("GET", s.url("/v1/tables/songs_data")).json()["iceberg"], report);

  auto snapshots = call("GET", s.url("/v1/tables/songs_data/snapshots"));
  ASSERT_EQ(snapshots.status, 200) << snapshots.body;
  const auto list = snapshots.json()["snapshots"];
  ASSERT_EQ(list.size(), 1u) << snapshots.body;
  EXPECT_EQ(list[0]["snapshot_id"], report["current_snapshot_id"]);
  EXPECT_EQ(list[0]["operation"], "append");
  EXPECT_EQ(list[0]["current"], true);
  EXPECT_EQ(list[0]["added_files"], 2);
  EXPECT_EQ(list[0]["total_bytes"], bytes);
  EXPECT_TRUE(list[0]["parent_snapshot_id"].is_null());
  EXPECT_EQ(call("GET", s.url("/v1/tables/nope/snapshots")).status, 404);
}

TEST(CatalogerService, HiveTablesSayTheirFormatAndHaveNoSnapshots) {
  Service s({}, true, "hive");
  s.seed();
  auto songs = call("GET", s.url("/v1/tables/songs_data"));
  ASSERT_EQ(songs.status, 200) << songs.body;
  EXPECT_EQ(songs.json()["table_format"], "hive");
  EXPECT_TRUE(songs.json()["iceberg"].is_null());
  auto snapshots = call("GET", s.url("/v1/tables/songs_data/snapshots"));
  EXPECT_EQ(snapshots.status, 404);
  EXPECT_NE(snapshots.body.find("ETL_TABLE_FORMAT=hive"), std::string::npos) << snapshots.body;
}

TEST(CatalogerService, AsOfReadsATableAsOfAKeptSnapshot) {
  Service s;
  s.seed();  // songs_data: 6 + 4 rows in two files
  auto first = call("GET", s.url("/v1/tables/songs_data")).json()["iceberg"];
  const std::int64_t first_id = first["current_snapshot_id"];
  std::this_thread::sleep_for(20ms);
  const std::int64_t between_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::this_thread::sleep_for(20ms);
  write_file(s.root, "songs_data", "2026-11-03", "run2", "parquet", songs_select(3, 50));
  auto crawled = call("POST", s.url("/v1/crawl"), R"({"tables":["songs_data"]})");
  ASSERT_EQ(crawled.status, 202) << crawled.body;
  const std::string crawl_id = crawled.json()["crawl_id"];
  EXPECT_EQ(crawled.location, "/v1/crawls/" + crawl_id);
  ASSERT_TRUE(wait_until([&] { return call("GET", s.url("/v1/crawls/" + crawl_id)).json()["state"] == "SUCCEEDED"; }));
  const std::int64_t second_id = call("GET", s.url("/v1/tables/songs_data")).json()["iceberg"]["current_snapshot_id"];
  ASSERT_NE(second_id, first_id);

  auto count = [&](const nlohmann::json& as_of, const std::string& sql = "SELECT count(*) FROM songs_data") {
    nlohmann::json body = {{"sql", sql}};
    if (!as_of.is_null()) body["as_of"] = as_of;
    return s.query(body);
  };
  auto now = count(nullptr);
  ASSERT_EQ(now.status, 200) << now.body;
  EXPECT_EQ(now.json()["rows"][0][0], 13);
  auto pinned = count({{"songs_data", first_id}});
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  EXPECT_EQ(pinned.json()["rows"][0][0], 10) << "the first snapshot's rows";
  EXPECT_EQ(pinned.json()["stats"]["as_of"]["songs_data"], first_id);
  auto by_time = count({{"SONGS_DATA", format_timestamp(between_ms * 1000)}});
  ASSERT_EQ(by_time.status, 200) << by_time.body;
  EXPECT_EQ(by_time.json()["rows"][0][0], 10) << "the snapshot current at that time";
  EXPECT_EQ(by_time.json()["stats"]["as_of"]["songs_data"], first_id);
  EXPECT_EQ(count({{"songs_data", second_id}}).json()["rows"][0][0], 13);
  // Other queries on the same workers still read today's rows (the pin is the query's own).
  for (int i = 0; i < 4; ++i) EXPECT_EQ(count(nullptr).json()["rows"][0][0], 13);
  // A join of a pinned table with a current one.
  auto joined = count({{"songs_data", first_id}},
                      "SELECT count(*) FROM songs_data s JOIN artists_data a ON a.artist_id = s.artist_id AND a.dt = s.dt");
  ASSERT_EQ(joined.status, 200) << joined.body;

  for (const auto& [as_of, why] : std::vector<std::pair<nlohmann::json, std::string>>{
           {{{"songs_data", 12345}}, "keeps no snapshot 12345"},
           {{{"songs_data", "2001-01-01T00:00:00Z"}}, "keeps no snapshot at or before"},
           {{{"nope", first_id}}, "not a table of the catalog"},
           {{{"songs_data", "yesterday"}}, "not RFC 3339"},
           {{{"songs_data", -1}}, "neither"},
           {nlohmann::json::array(), "not an object"}}) {
    auto refused = count(as_of);
    EXPECT_EQ(refused.status, 400) << as_of.dump() << " " << refused.body;
    EXPECT_NE(refused.body.find(why), std::string::npos) << refused.body;
  }
  // Qualified, the name would read today's rows under a pin that says otherwise; in any
  // case and quoting DuckDB takes for the same table.
  for (const char* sql : {"SELECT count(*) FROM spotify.songs_data", "SELECT count(*) FROM spotify.SONGS_DATA",
                          "SELECT count(*) FROM spotify.\"SONGS_DATA\"", "SELECT count(*) FROM \"spotify\".\"Songs_Data\""}) {
    auto qualified = count({{"songs_data", first_id}}, sql);
    EXPECT_EQ(qualified.status, 400) << sql << ": " << qualified.body;
    EXPECT_NE(qualified.body.find("unqualified"), std::string::npos) << qualified.body;
  }

  // A data file of the first snapshot deleted from the store since: 409, saying which.
  std::filesystem::remove(s.root / "songs_data" / "dt=2026-11-01" / "run1.parquet");
  auto gone = count({{"songs_data", first_id}});
  EXPECT_EQ(gone.status, 409) << gone.body;
  EXPECT_NE(gone.body.find("run1.parquet"), std::string::npos) << gone.body;

  // Metadata that cannot be read is the store's state, as GET /v1/tables/{name} says: 503, not 500.
  for (const auto& f : std::filesystem::directory_iterator(s.root / "songs_data" / "metadata"))
    if (f.path().string().ends_with(".metadata.json")) std::ofstream(f.path(), std::ios::trunc) << "{\"broken\":";
  auto unreadable = count({{"songs_data", first_id}});
  EXPECT_EQ(unreadable.status, 503) << unreadable.body;
}

TEST(CatalogerService, AsOfNeedsIcebergTables) {
  Service s({}, true, "hive");
  s.seed();
  auto refused = s.query({{"sql", "SELECT count(*) FROM songs_data"}, {"as_of", {{"songs_data", 1}}}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("ETL_TABLE_FORMAT=iceberg"), std::string::npos) << refused.body;
}

TEST(CatalogerService, TablesAndQueriesAnswerOverHttp) {
  Service s;
  s.seed();
  auto tables = call("GET", s.url("/v1/tables"));
  ASSERT_EQ(tables.status, 200);
  ASSERT_EQ(tables.json()["tables"].size(), 2u);
  auto q = s.query({{"sql",
                     "SELECT a.artist_name, count(*) AS songs FROM songs_data s JOIN artists_data a "
                     "ON a.artist_id = s.artist_id AND a.dt = s.dt WHERE s.dt >= '2026-11-01' "
                     "GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10"}});
  ASSERT_EQ(q.status, 200) << q.body;
  auto body = q.json();
  EXPECT_EQ(body["engine"], "duckdb");
  EXPECT_EQ(body["columns"][1]["type"], "BIGINT");
  EXPECT_EQ(body["rows"].size(), 3u);
  EXPECT_TRUE(body["next_token"].is_null());
  EXPECT_EQ(body["stats"]["rows"], 3);
  EXPECT_TRUE(body["result_location"].get<std::string>().rfind("_query_results/", 0) == 0) << "no host path";
  auto alias = s.query({{"sql", "SELECT count(*) AS n FROM spotify.songs_data WHERE dt = '2026-11-02'"}});
  EXPECT_EQ(alias.json()["rows"][0][0], 4);
  auto csv = s.query({{"sql", "SELECT song_id, artist_ids FROM songs_data ORDER BY song_id LIMIT 1"}}, {}, "text/csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.content_type.find("text/csv"), std::string::npos);
  EXPECT_EQ(csv.body, "song_id,artist_ids\ns0,\"[\"\"a0\"\",\"\"x\"\"]\"\n");
  // JSON has no NaN: a DOUBLE's NaN and infinities are strings there (never null, SQL's NULL),
  // and a CSV page has them as words, the formula guard's apostrophe only on text.
  const std::string floats = "SELECT 'nan'::DOUBLE AS a, '-inf'::DOUBLE AS b, 'inf'::FLOAT AS c, NULL::DOUBLE AS d, '-inf' AS e";
  EXPECT_EQ(s.query({{"sql", floats}}).json()["rows"][0], nlohmann::json::parse(R"(["NaN","-Infinity","Infinity",null,"-inf"])"));
  EXPECT_EQ(s.query({{"sql", floats}}, {}, "text/csv").body, "a,b,c,d,e\nNaN,-Infinity,Infinity,,'-inf\n");
}

TEST(CatalogerService, PagingWithNextTokenOverHttp) {
  Service s;
  auto first = s.query({{"sql", "SELECT i FROM range(5) t(i) ORDER BY i"}, {"max_rows", 2}}).json();
  ASSERT_EQ(first["rows"].size(), 2u);
  std::string id = first["query_id"];
  std::vector<int> seen;
  for (auto& r : first["rows"]) seen.push_back(r[0]);
  auto token = first["next_token"];
  while (token.is_string()) {
    auto page = call("GET", s.url("/v1/query/" + id + "?next_token=" + http::url_encode(token.get<std::string>())));
    ASSERT_EQ(page.status, 200) << page.body;
    auto body = page.json();
    for (auto& r : body["rows"]) seen.push_back(r[0]);
    token = body["next_token"];
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(call("GET", s.url("/v1/query/" + id + "?next_token=bogus")).status, 400);
  auto state = call("GET", s.url("/v1/query/" + id)).json();
  EXPECT_EQ(state["state"], "SUCCEEDED");
}

TEST(CatalogerService, EightConcurrentClientsAllSucceed) {
  Service s;
  s.seed();
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 5; ++i) {
        auto r = s.query({{"sql", "SELECT count(*) + " + std::to_string(c * 10 + i) + " FROM songs_data s JOIN artists_data a USING (artist_id, dt)"}});
        (r.status == 200 ? ok : failed)++;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(failed.load(), 0);
}

TEST(CatalogerService, RefusedOrWrongSqlIs400NeverA500) {
  Service s;
  s.seed();
  for (const std::string sql : {"DROP TABLE songs_data", "SELECT 1; SELECT 2", "SELECT * FROM read_csv('/etc/passwd')",
                                "SELECT * FROM '/etc/passwd'", "SELECT * FROM no_such_table", "SELEKT 1",
                                "SELECT CAST('x' AS INTEGER)", "SELECT error('boom')"}) {
    auto r = s.query({{"sql", sql}});
    EXPECT_EQ(r.status, 400) << sql << " -> " << r.body;
    EXPECT_NE(r.content_type.find("application/problem+json"), std::string::npos) << sql;
  }
  EXPECT_EQ(call("POST", s.url("/v1/query"), "{not json").status, 400);
  EXPECT_EQ(s.query({{"max_rows", 5}}).status, 400);
}

TEST(CatalogerService, UnknownTablesQueriesAndCrawlsAre404AndUnknownCrawlTableIs400) {
  Service s;
  EXPECT_EQ(call("GET", s.url("/v1/tables/nope")).status, 404);
  EXPECT_EQ(call("GET", s.url("/v1/query/nope")).status, 404);
  EXPECT_EQ(call("DELETE", s.url("/v1/query/nope")).status, 404);
  EXPECT_EQ(call("GET", s.url("/v1/crawls/nope")).status, 404);
  EXPECT_EQ(call("POST", s.url("/v1/crawl"), R"({"tables":["nope"]})").status, 400);
}

TEST(CatalogerService, TimeoutIs504AndDeleteCancels) {
  Service s;
  auto t0 = std::chrono::steady_clock::now();
  auto slow = s.query({{"sql", "SELECT count(*) FROM range(10000000000000)"}, {"timeout_ms", 300}});
  EXPECT_EQ(slow.status, 504) << slow.body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);

  auto started = s.query({{"sql", "SELECT count(*) FROM range(10000000000000)"}, {"async", true}});
  ASSERT_EQ(started.status, 202) << started.body;
  std::string id = started.json()["query_id"];
  EXPECT_EQ(started.location, "/v1/query/" + id);
  ASSERT_TRUE(wait_until([&] { return call("GET", s.url("/v1/query/" + id)).json()["state"] == "RUNNING"; }));
  auto cancelled = call("DELETE", s.url("/v1/query/" + id));
  ASSERT_EQ(cancelled.status, 200);
  EXPECT_EQ(cancelled.json()["state"], "CANCELLED");
}

TEST(CatalogerService, CachedResultsAreReusedUntilNewDataLands) {
  Service s;
  s.seed();
  nlohmann::json q = {{"sql", "SELECT count(*) FROM songs_data"}, {"max_age_s", 600}};
  EXPECT_FALSE(s.query(q).json()["stats"]["cached"].get<bool>());
  EXPECT_TRUE(s.query(q).json()["stats"]["cached"].get<bool>());
  write_file(s.root, "songs_data", "2026-11-03", "run1", "parquet", songs_select(5, 100));
  s.publish_created("songs_data/dt=2026-11-03/run1.parquet");
  ASSERT_TRUE(wait_until([&] { return call("GET", s.url("/v1/tables/songs_data")).json()["partitions"] == 3; }));
  auto fresh = s.query(q).json();
  EXPECT_FALSE(fresh["stats"]["cached"].get<bool>());
  EXPECT_EQ(fresh["rows"][0][0], 15);
}

TEST(CatalogerService, BearerTokenGuardsV1ButNotHealthReadinessOrMetrics) {
  Service s("s3cret");
  EXPECT_EQ(call("GET", s.url("/v1/tables")).status, 401);
  EXPECT_EQ(call("GET", s.url("/v1/tables"), {}, "wrong").status, 401);
  EXPECT_EQ(call("GET", s.url("/v1/tables"), {}, "s3cret").status, 200);
  EXPECT_EQ(s.query({{"sql", "SELECT 1"}}).status, 401);
  EXPECT_EQ(s.query({{"sql", "SELECT 1"}}, "s3cret").status, 200);
  EXPECT_EQ(call("GET", s.url("/healthz")).status, 200);
  EXPECT_EQ(call("GET", s.url("/readyz")).status, 200);
  auto metrics = call("GET", s.url("/metrics"));
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("spotify_etl_cataloger_queries_total"), std::string::npos);
  EXPECT_EQ(call("GET", s.url("/openapi.json")).json()["paths"].contains("/v1/query"), true);
}

TEST(CatalogerService, MismatchedCatalogAndEngineAreRefusedWithAClearMessage) {
  Config c;
  c.catalog = "glue";  // Athena reads the Glue catalog; DuckDB the built-in one
  c.transformed_url = "s3://spotify-etl-pair-test/transformed";
  auto r = CatalogerService::create(c, make_memory_bus());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().message.find("ETL_CATALOG=glue use ETL_QUERY_ENGINE=athena"), std::string::npos)
      << r.error().message;
  c.catalog = "local";
  etl::testing::TempDir dir;
  c.transformed_url = dir.url();
  c.query_engine = "athena";
  auto other = CatalogerService::create(c, make_memory_bus());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("ETL_QUERY_ENGINE=athena"), std::string::npos) << other.error().message;
}

TEST(CatalogerService, GlueRequiresAnS3TransformedStore) {
  etl::testing::TempDir dir;
  Config c;
  c.catalog = "glue";
  c.query_engine = "athena";
  c.transformed_url = dir.url();
  auto r = CatalogerService::create(c, make_memory_bus());
  ASSERT_FALSE(r.ok()) << "Glue crawlers cannot crawl a local folder";
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_NE(r.error().message.find("ETL_TRANSFORMED_URL"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace etl::cataloger
