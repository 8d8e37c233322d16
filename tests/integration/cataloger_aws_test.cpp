// The Glue catalog and the Athena engine against moto in server mode, over real
// HTTP with real SigV4 (moto accepts any signature, but every request is signed
// and sent exactly as to AWS). Skipped when ETL_TEST_MOTO_ENDPOINT is unset
// (scripts/test-servers.sh sets it).
//
// What moto does, and how the tests drive it:
// - A Glue crawl is a state machine ("glue::crawl": RUNNING -> COMPLETED). By
//   default it completes at once; the tests switch it to time-based (2 s) through
//   /moto-api/state-manager/set-transition, so StartCrawler shows RUNNING, then
//   READY with LastCrawl.Status COMPLETED (moto's word for SUCCEEDED), and a
//   second StartCrawler meanwhile gets CrawlerRunningException.
// - A query ("athena::execution": QUEUED -> RUNNING -> SUCCEEDED) advances only
//   when GetQueryExecution is called; "manual, 2 calls per state" shows each state.
//   Results are seeded through POST /moto-api/static/athena/query-results: a queue
//   per account and region that the next StartQueryExecution takes, so each
//   Athena test uses its own region.
// - moto neither pages GetTables nor makes a query fail: paging is checked here
//   for completeness (every table comes back) and token by token in
//   tests/unit/cataloger/aws_json_test.cpp; FAILED and throttling use the fake
//   endpoint below (the same HTTP and signing path).
// These transitions are global to the moto server and are left set: other tests
// that poll queries or crawlers work the same, only slower.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <set>

#include "../unit/cataloger/aws_fake.h"
#include "athena_engine.h"
#include "etl/aws_json.h"
#include "etl/http_client.h"
#include "glue_catalog.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

QueryRequest sql_request(const std::string& sql) {
  QueryRequest request;
  request.sql = sql;
  return request;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string unique_suffix() {
  std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng() % 1000000000ull);
}

class MotoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = env("ETL_TEST_MOTO_ENDPOINT");
    if (endpoint_.empty()) GTEST_SKIP() << "ETL_TEST_MOTO_ENDPOINT is unset: start moto with scripts/test-servers.sh";
  }

  AwsConfig aws(const std::string& region = "") const {
    AwsConfig a;
    a.region = !region.empty() ? region : env("ETL_TEST_MOTO_REGION").empty() ? "us-east-1" : env("ETL_TEST_MOTO_REGION");
    a.access_key_id = "testing";
    a.secret_access_key = "testing";
    a.endpoint_url = endpoint_;
    return a;
  }

  void moto_api(const std::string& path, const json& body) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = endpoint_ + path;
    request.body = body.dump();
    request.headers = {{"Content-Type", "application/json"}};
    auto sent = client_.send(request);
    ASSERT_TRUE(sent.ok()) << sent.error().message;
    ASSERT_LT(sent->status, 300) << path << ": " << sent->body;
  }

  GlueCatalogOptions glue_options(const std::string& database) const {
    GlueCatalogOptions o;
    o.database = database;
    o.transformed_url = "s3://spotify-etl-aws-test/transformed";
    o.crawler_role = "arn:aws:iam::123456789012:role/spotify-etl-glue-crawler";
    o.poll_initial = milliseconds(100);
    o.poll_max = milliseconds(400);
    o.listing_ttl = milliseconds(0);
    return o;
  }

  std::string endpoint_;
  http::Client client_;
};

// ---- Glue ---------------------------------------------------------------------------------------

TEST_F(MotoTest, GlueCreatesTheDatabaseAndOneCrawlerPerTableFolder) {
  const std::string db = "etl_aws_" + unique_suffix();
  auto catalog = GlueCatalog::open(aws(), glue_options(db));
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  Status ensured = (*catalog)->ensure_resources();
  ASSERT_TRUE(ensured.ok()) << ensured.error().message;
  ASSERT_TRUE((*catalog)->ensure_resources().ok()) << "a second start-up finds everything in place";
  EXPECT_TRUE((*catalog)->ping().ok());

  auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
  for (const std::string table : {"albums_data", "artists_data", "songs_data"}) {
    const std::string name = (*catalog)->crawler_name(table);
    EXPECT_EQ(name, "spotify-etl-" + db + "-" + table);
    auto got = glue->call("GetCrawler", {{"Name", name}});
    ASSERT_TRUE(got.ok()) << got.error().message;
    json c = (*got)["Crawler"];
    EXPECT_EQ(c["DatabaseName"], db);
    EXPECT_EQ(c["Role"], "arn:aws:iam::123456789012:role/spotify-etl-glue-crawler");
    ASSERT_EQ(c["Targets"]["S3Targets"].size(), 1u) << c.dump();
    EXPECT_EQ(c["Targets"]["S3Targets"][0]["Path"], "s3://spotify-etl-aws-test/transformed/" + table + "/")
        << "exactly the table root, so Glue never makes a table per file";
    EXPECT_EQ(c["RecrawlPolicy"]["RecrawlBehavior"], "CRAWL_NEW_FOLDERS_ONLY");
    EXPECT_EQ(c["SchemaChangePolicy"]["UpdateBehavior"], "LOG") << "the only value Glue accepts with new-folders crawls";
    EXPECT_EQ(c["SchemaChangePolicy"]["DeleteBehavior"], "LOG");
    json config = json::parse(c["Configuration"].get<std::string>());
    EXPECT_EQ(config["Grouping"]["TableLevelConfiguration"], 3) << "bucket=1, transformed=2, the table folder=3";
  }
}

TEST_F(MotoTest, GlueConfiguredCrawlerThatDoesNotExistIsRefused) {
  auto options = glue_options("etl_aws_" + unique_suffix());
  options.crawlers["songs_data"] = "nobody-made-this-" + unique_suffix();
  auto catalog = GlueCatalog::open(aws(), options).value();
  Status s = catalog->ensure_resources();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("ETL_GLUE_CRAWLERS"), std::string::npos) << s.error().message;
}

TEST_F(MotoTest, GlueCrawlGoesRunningThenReadyAndSucceeds) {
  moto_api("/moto-api/state-manager/set-transition",
           {{"model_name", "glue::crawl"}, {"transition", {{"progression", "time"}, {"seconds", 2}}}});
  const std::string db = "etl_aws_" + unique_suffix();
  auto catalog = GlueCatalog::open(aws(), glue_options(db)).value();
  catalog->start();
  CrawlRequest request;
  request.tables = {"songs_data"};
  auto started = catalog->start_crawl(request);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->state, CrawlState::running);

  auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
  std::set<std::string> states;
  for (int i = 0; i < 100; ++i) {
    auto got = glue->call("GetCrawler", {{"Name", catalog->crawler_name("songs_data")}});
    if (got.ok()) states.insert((*got)["Crawler"].value("State", ""));
    auto crawl = catalog->get_crawl(started->crawl_id);
    if (crawl.ok() && crawl->state != CrawlState::running) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  auto done = catalog->wait_crawl(started->crawl_id, seconds(30));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, CrawlState::succeeded) << done->error;
  EXPECT_TRUE(states.contains("RUNNING")) << "the crawler was never seen RUNNING";
  auto after = glue->call("GetCrawler", {{"Name", catalog->crawler_name("songs_data")}});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["Crawler"]["State"], "READY");
  EXPECT_EQ(done->tables, std::vector<std::string>{"songs_data"});
  EXPECT_FALSE(done->finished_at.empty());
  catalog->stop();
}

TEST_F(MotoTest, GlueCrawlWaitsForAnAlreadyRunningCrawler) {
  moto_api("/moto-api/state-manager/set-transition",
           {{"model_name", "glue::crawl"}, {"transition", {{"progression", "time"}, {"seconds", 2}}}});
  const std::string db = "etl_aws_" + unique_suffix();
  auto catalog = GlueCatalog::open(aws(), glue_options(db)).value();
  ASSERT_TRUE(catalog->ensure_resources().ok());
  auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
  const std::string name = catalog->crawler_name("artists_data");
  ASSERT_TRUE(glue->call("StartCrawler", {{"Name", name}}).ok()) << "someone else's crawl";
  auto again = glue->send("StartCrawler", {{"Name", name}});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->error.type, "CrawlerRunningException") << "moto must report the running crawl";

  CrawlRequest request;
  request.tables = {"artists_data"};
  auto begun = std::chrono::steady_clock::now();
  auto crawl = catalog->crawl(request);
  ASSERT_TRUE(crawl.ok()) << crawl.error().message;
  EXPECT_EQ(crawl->state, CrawlState::succeeded) << crawl->error;
  EXPECT_GE(std::chrono::steady_clock::now() - begun, milliseconds(500)) << "it must have waited for the running crawl";
  auto after = glue->call("GetCrawler", {{"Name", name}});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)["Crawler"]["State"], "READY");
}

TEST_F(MotoTest, GlueListsEveryTableBeyondOnePageWithPartitions) {
  const std::string db = "etl_aws_" + unique_suffix();
  auto glue = aws::JsonClient::create(aws(), aws::glue_service()).value();
  ASSERT_TRUE(glue->call("CreateDatabase", {{"DatabaseInput", {{"Name", db}}}}).ok());
  constexpr int kTables = 120;  // GetTables pages hold 100 at most in AWS
  for (int i = 0; i < kTables; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "t%03d", i);
    json input = {{"Name", name},
                  {"PartitionKeys", {{{"Name", "dt"}, {"Type", "string"}}}},
                  {"Parameters", {{"classification", "parquet"}}},
                  {"StorageDescriptor",
                   {{"Location", "s3://bucket/transformed/" + std::string(name) + "/"},
                    {"Columns", {{{"Name", "song_id"}, {"Type", "string"}}, {{"Name", "artist_ids"}, {"Type", "array<string>"}}}}}}};
    auto created = glue->call("CreateTable", {{"DatabaseName", db}, {"TableInput", input}});
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  for (const char* dt : {"2026-11-20", "2026-11-21"}) {
    json partition = {{"Values", {dt}},
                      {"StorageDescriptor", {{"Location", std::string("s3://bucket/transformed/t007/dt=") + dt + "/"}}}};
    auto created = glue->call("CreatePartition", {{"DatabaseName", db}, {"TableName", "t007"}, {"PartitionInput", partition}});
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  auto catalog = GlueCatalog::open(aws(), glue_options(db)).value();
  auto tables = catalog->list_tables();
  ASSERT_TRUE(tables.ok()) << tables.error().message;
  ASSERT_EQ(tables->size(), static_cast<size_t>(kTables));
  EXPECT_EQ(tables->front().name, "t000");
  EXPECT_EQ(tables->back().name, "t119");
  const TableInfo& t7 = tables->at(7);
  EXPECT_EQ(t7.partitions, 2);
  EXPECT_EQ(t7.format, "parquet");
  EXPECT_EQ(t7.partition_keys, std::vector<std::string>{"dt"});
  EXPECT_EQ(t7.columns.at(1).type, "VARCHAR[]");
  EXPECT_EQ(t7.location, "s3://bucket/transformed/t007/");

  auto one = catalog->get_table("t007");
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(one->partitions, 2);
  EXPECT_EQ(catalog->get_table("nope").error().code, Errc::not_found);
  auto partitions = catalog->get_partitions("t007");
  ASSERT_TRUE(partitions.ok());
  ASSERT_EQ(partitions->size(), 2u);
  EXPECT_EQ(partitions->at(1).values, std::vector<std::string>{"2026-11-21"});
}

// ---- Athena -------------------------------------------------------------------------------------

class AthenaMotoTest : public MotoTest {
 protected:
  void SetUp() override {
    MotoTest::SetUp();
    if (IsSkipped()) return;
    moto_api("/moto-api/state-manager/set-transition",
             {{"model_name", "athena::execution"}, {"transition", {{"progression", "manual"}, {"times", 2}}}});
  }
  std::unique_ptr<AthenaEngine> engine(const std::string& region) {
    AthenaEngineOptions o;
    o.database = "spotify";
    o.output_location = "s3://spotify-etl-athena-results/queries/";
    o.poll_initial = milliseconds(20);
    o.poll_max = milliseconds(100);
    auto e = AthenaEngine::open(aws(region), o);
    EXPECT_TRUE(e.ok()) << e.error().message;
    return std::move(e).value();
  }
};

TEST_F(AthenaMotoTest, QueryGoesQueuedRunningSucceededWithTypedResults) {
  const std::string region = "eu-west-3";
  auto cell = [](const char* v) { return json{{"VarCharValue", v}}; };
  json columns = {{{"Name", "song_id"}, {"Label", "song_id"}, {"Type", "varchar"}},
                  {{"Name", "duration_ms"}, {"Label", "duration_ms"}, {"Type", "bigint"}},
                  {{"Name", "artist_ids"}, {"Label", "artist_ids"}, {"Type", "array"}},
                  {{"Name", "added_at"}, {"Label", "added_at"}, {"Type", "timestamp"}},
                  {{"Name", "explicit"}, {"Label", "explicit"}, {"Type", "boolean"}}};
  json rows = {{{"Data", {cell("song_id"), cell("duration_ms"), cell("artist_ids"), cell("added_at"), cell("explicit")}}},
               {{"Data", {cell("s1"), cell("215000"), cell("[a1, a2]"), cell("2026-11-21 06:00:00.000"), cell("true")}}},
               {{"Data", {cell("s2"), cell("9007199254740993"), cell("[]"), json::object(), cell("false")}}}};
  moto_api("/moto-api/static/athena/query-results",
           {{"region", region}, {"results", {{{"rows", rows}, {"column_info", columns}}}}});

  auto athena = engine(region);  // no monitor: each wait() below is one GetQueryExecution
  QueryRequest request;
  request.sql = "SELECT song_id, duration_ms, artist_ids, added_at, explicit FROM songs_data";
  request.max_age = seconds(90);
  auto started = athena->start(request);
  ASSERT_TRUE(started.ok()) << started.error().message;
  std::vector<QueryState> seen{started->state};
  for (int i = 0; i < 20 && !is_terminal(seen.back()); ++i) {
    auto s = athena->wait(started->query_id, milliseconds(1));
    ASSERT_TRUE(s.ok()) << s.error().message;
    if (s->state != seen.back()) seen.push_back(s->state);
  }
  EXPECT_EQ(seen, (std::vector<QueryState>{QueryState::queued, QueryState::running, QueryState::succeeded}));
  auto status = athena->status(started->query_id).value();
  EXPECT_EQ(status.result_location, "s3://spotify-etl-athena-results/queries/" + started->query_id + ".csv");

  auto page = athena->page(started->query_id, "");
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->rows.size(), 2u) << "the header row is skipped";
  EXPECT_EQ(page->rows[0], R"(["s1",215000,["a1","a2"],"2026-11-21T06:00:00Z",true])");
  EXPECT_EQ(page->rows[1], R"(["s2",9007199254740993,[],null,false])");
  EXPECT_EQ(page->columns.at(1).type, "BIGINT");
  EXPECT_EQ(page->columns.at(2).type, "VARCHAR[]");
  EXPECT_FALSE(page->next_token);
  EXPECT_EQ(page->engine, "athena");
  EXPECT_EQ(page->result_location, status.result_location);
}

TEST_F(AthenaMotoTest, CancelStopsTheQuery) {
  auto athena = engine("us-west-2");
  athena->start();
  auto started = athena->start(sql_request("SELECT count(*) FROM songs_data"));
  ASSERT_TRUE(started.ok()) << started.error().message;
  auto cancelled = athena->cancel(started->query_id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
  auto done = athena->wait(started->query_id, seconds(10));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, QueryState::cancelled);
  ASSERT_TRUE(done->error);
  EXPECT_EQ(done->error->code, Errc::cancelled);
  EXPECT_EQ(athena->page(started->query_id, "").error().code, Errc::conflict);
  athena->stop();
}

TEST_F(AthenaMotoTest, QueryStartedElsewhereIsFoundByItsId) {
  auto first = engine("ap-southeast-2");
  auto started = first->start(sql_request("SELECT 1"));
  ASSERT_TRUE(started.ok());
  auto second = engine("ap-southeast-2");  // another replica, or this one after a restart
  auto found = second->wait(started->query_id, seconds(10));
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->state, QueryState::succeeded);
  EXPECT_TRUE(second->ping().ok());
}

TEST_F(AthenaMotoTest, FailedQueryIsBadInputWithAthenasReason) {
  // moto cannot make a query fail: the fake endpoint answers as Athena does.
  testing::FakeAws fake;
  fake.on("StartQueryExecution", [](const testing::AwsRequest&) {
    return testing::AwsAnswer{200, {{"QueryExecutionId", "aaaaaaaa-0000-0000-0000-000000000001"}}};
  });
  fake.on("GetQueryExecution", [](const testing::AwsRequest& r) {
    return testing::AwsAnswer{
        200, {{"QueryExecution", {{"QueryExecutionId", r.body["QueryExecutionId"]},
                                  {"Status", {{"State", "FAILED"},
                                              {"StateChangeReason", "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.spotify.nope' does not exist"},
                                              {"AthenaError", {{"ErrorCategory", 2}}}}}}}}};
  });
  AthenaEngineOptions o;
  o.poll_initial = milliseconds(10);
  auto athena = AthenaEngine::open(fake.aws_config(), o).value();
  auto started = athena->start(sql_request("SELECT * FROM nope"));
  ASSERT_TRUE(started.ok());
  auto done = athena->wait(started->query_id, seconds(10));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, QueryState::failed);
  ASSERT_TRUE(done->error);
  EXPECT_EQ(done->error->code, Errc::invalid_argument) << "surfaced as 400";
  EXPECT_NE(done->error->message.find("Table 'awsdatacatalog.spotify.nope' does not exist"), std::string::npos)
      << done->error->message;
}

TEST_F(AthenaMotoTest, PersistentThrottlingIsRateLimited) {
  testing::FakeAws fake;
  fake.set_fault([](const testing::AwsRequest&) {
    return std::optional(testing::aws_error(400, "TooManyRequestsException", "Rate exceeded"));
  });
  aws::JsonClientOptions retries;
  retries.max_attempts = 3;
  retries.retry_base = milliseconds(5);
  auto athena = AthenaEngine::open(fake.aws_config(), {}, nullptr, retries).value();
  auto refused = athena->start(sql_request("SELECT 1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::rate_limited) << "503 with Retry-After at the HTTP layer";
  EXPECT_EQ(fake.count("StartQueryExecution"), 3u);
}

}  // namespace
}  // namespace etl::cataloger
