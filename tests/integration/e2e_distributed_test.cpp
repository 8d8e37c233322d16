// The pipeline as three separate processes (`extractor`, `transformer`,
// `cataloger`) over a real Kafka broker and MinIO, driven only through HTTP.
// Needs the test servers (scripts/test-servers.sh): skipped without them.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "distributed_pipeline.h"
#include "etl/config.h"
#include "etl/event_bus.h"
#include "etl/lake.h"
#include "etl/object_store.h"
#include "etl/s3_event.h"
#include "fake_spotify.h"
#include "test_support.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using etl::testing::call;
using etl::testing::env_or_empty;
using etl::testing::Pipeline;
namespace fs = fakespotify;

class DistributedEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env_or_empty("ETL_TEST_KAFKA_BOOTSTRAP").empty() || env_or_empty("ETL_TEST_S3_ENDPOINT").empty())
      GTEST_SKIP() << "needs the test servers (Kafka and MinIO): run through scripts/test.sh";
    ASSERT_GT(spotify_.start(), 0);
  }

  Config kafka_config(const Pipeline& p) {
    Environment env(p.env().begin(), p.env().end());
    auto cfg = load_config(env);
    EXPECT_TRUE(cfg.ok()) << (cfg.ok() ? "" : cfg.error().message);
    return cfg.ok() ? *cfg : Config{};
  }

  testing::TempDir dir_;
  fs::FakeSpotifyServer spotify_;
};

// Raw and transformed tables both in MinIO; the cataloger's DuckDB answers from
// its local copy of the tables (ETL_CATALOG_CACHE_DIR).
TEST_F(DistributedEndToEnd, ThreeProcessesOverKafkaAndMinioGiveTheEmbeddedAnswers) {
  etl::testing::PipelineOptions options;
  const std::string transformed_url =
      "s3://" + env_or_empty("ETL_TEST_S3_BUCKET") + "/e2e-" + etl::testing::random_suffix() + "/transformed";
  options.env = {{"ETL_TRANSFORMED_URL", transformed_url},
                 {"ETL_CATALOG_CACHE_DIR", (dir_.path() / "cataloger-cache").string()}};
  Pipeline p(dir_, spotify_, etl::testing::TestServers::from_environment(), options);
  ASSERT_TRUE(p.start()) << p.logs();
  nlohmann::json body = {{"sources",
                          {{{"type", "playlist"}, {"id", fs::kDemoPlaylistId}},
                           {{"type", "playlist"}, {"id", fs::kEdgeCasePlaylistId}},
                           {{"type", "album"}, {"id", fs::kDemoAlbumId}}}}};
  auto started = call("POST", p.url("extractor") + "/v1/runs", body.dump());
  ASSERT_EQ(started.status, 202) << started.body;
  std::string run_id = started.json()["run_id"];

  const auto& cat = spotify_.catalogue();
  long long expected = static_cast<long long>(cat.album(fs::kDemoAlbumId).track_ids.size());
  for (const char* id : {fs::kDemoPlaylistId, fs::kEdgeCasePlaylistId})
    for (const auto& item : cat.playlist(id).items) expected += item.kind == fs::ItemKind::track;
  const std::string sql = "SELECT count(*) FROM songs_data WHERE run_id = '" + run_id + "'";
  ASSERT_TRUE(testing::wait_until([&] { return p.count(sql) == expected; }, 90s, 200ms))
      << "rows never reached " << expected << " (last " << p.count(sql) << ")\n" << p.logs();

  auto run = call("GET", p.url("extractor") + "/v1/runs/" + run_id).json();
  EXPECT_EQ(run["status"], "succeeded") << run.dump(2);

  // Same answers as embedded: order and ids of the demo playlist.
  auto rows = call("POST", p.url("cataloger") + "/v1/query",
                   nlohmann::json{{"sql", "SELECT song_id FROM songs_data WHERE run_id = '" + run_id +
                                              "' AND source_id = '" + fs::kDemoPlaylistId + "' ORDER BY position"}}
                       .dump())
                  .json()["rows"];
  const auto& playlist = cat.playlist(fs::kDemoPlaylistId);
  ASSERT_EQ(rows.size(), playlist.items.size());
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i][0], playlist.items[i].id) << "position " << i;

  // The raw objects moved to processed/ in MinIO.
  AwsConfig aws;
  aws.region = env_or_empty("ETL_TEST_S3_REGION");
  aws.access_key_id = env_or_empty("ETL_TEST_S3_ACCESS_KEY");
  aws.secret_access_key = env_or_empty("ETL_TEST_S3_SECRET_KEY");
  aws.endpoint_url_s3 = env_or_empty("ETL_TEST_S3_ENDPOINT");
  auto raw = open_object_store(p.env().at("ETL_RAW_URL"), aws);
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  auto waiting = (*raw)->list("to_be_processed/");
  auto processed = (*raw)->list("processed/");
  ASSERT_TRUE(waiting.ok() && processed.ok());
  EXPECT_TRUE(waiting->empty()) << waiting->size() << " raw objects still waiting";
  EXPECT_EQ(processed->size(), 3u);

  // The tables live in MinIO, and the catalog says so.
  auto transformed = open_object_store(transformed_url, aws);
  ASSERT_TRUE(transformed.ok()) << transformed.error().message;
  auto listed = (*transformed)->list("songs_data/");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  std::vector<ObjectInfo> data_files;  // the Iceberg metadata (songs_data/metadata/) is not counted
  for (const auto& o : *listed)
    if (DataKey::parse(o.key)) data_files.push_back(o);
  const auto* songs = &data_files;
  EXPECT_GE(songs->size(), 1u) << "songs_data files of the three raw objects";
  EXPECT_LE(songs->size(), 3u) << "batches write one file per table and day for many raw objects, never more than one each";
  auto table = call("GET", p.url("cataloger") + "/v1/tables/songs_data").json();
  EXPECT_EQ(table["location"], transformed_url + "/songs_data/") << table.dump();

  for (const char* service : {"extractor", "transformer", "cataloger"}) {
    p.process(service).kill(SIGTERM);
    auto status = p.process(service).wait_exit(10s);
    ASSERT_TRUE(status.has_value()) << service << " still running 10 s after SIGTERM";
    EXPECT_EQ(*status, 0) << service;
  }
}

TEST_F(DistributedEndToEnd, APoisonEventLandsOnTheDlqAndThePartitionKeepsMoving) {
  Pipeline p(dir_, spotify_);
  ASSERT_TRUE(p.start()) << p.logs();
  Config cfg = kafka_config(p);
  auto bus = open_event_bus(cfg, "e2e-test");
  ASSERT_TRUE(bus.ok()) << bus.error().message;
  // One partition key for both, so the good run's event sits behind the poison one.
  ASSERT_TRUE((*bus)->publish(cfg.topic_raw, "poison", "{this is not an S3 event").ok());
  ObjectCreated missing;
  missing.bucket = env_or_empty("ETL_TEST_S3_BUCKET");
  missing.key = p.raw_prefix() + "/to_be_processed/spotify_raw_20261121T060000Z_playlist_x_rmissing.json";
  ASSERT_TRUE((*bus)->publish(cfg.topic_raw, "poison", build_s3_event(missing)).ok());

  auto dlq = (*bus)->subscribe({cfg.topic_dlq}, "e2e-dlq-reader");
  ASSERT_TRUE(dlq.ok());
  std::optional<Message> dead;
  ASSERT_TRUE(testing::wait_until([&] {
    auto m = (*dlq)->poll(200ms);
    if (m.ok() && m->has_value()) dead = **m;
    return dead.has_value();
  }, 60s, 10ms)) << "nothing reached the DLQ\n" << p.logs();
  EXPECT_EQ(dead->value, "{this is not an S3 event");
  std::map<std::string, std::string> headers(dead->headers.begin(), dead->headers.end());
  EXPECT_EQ(headers["x-source-topic"], cfg.topic_raw);
  EXPECT_FALSE(headers["x-error"].empty());
  EXPECT_FALSE(headers["x-attempts"].empty());

  nlohmann::json body = {{"sources", {{{"type", "album"}, {"id", fs::kDemoAlbumId}}}}};
  auto started = call("POST", p.url("extractor") + "/v1/runs", body.dump());
  ASSERT_EQ(started.status, 202);
  std::string sql = "SELECT count(*) FROM songs_data WHERE run_id = '" + started.json()["run_id"].get<std::string>() + "'";
  long long expected = static_cast<long long>(spotify_.catalogue().album(fs::kDemoAlbumId).track_ids.size());
  EXPECT_TRUE(testing::wait_until([&] { return p.count(sql) == expected; }, 90s, 200ms))
      << "the queue stopped behind the poison event\n" << p.logs();
}

// Hive tables, Parquet files; then a transformer that writes CSV and a backfill
// (POST /v1/reprocess processed/). The redo removes each Parquet file it replaced
// and announces the removal over Kafka, so the table ends CSV only with every row
// once, not "mixed" with every row twice.
TEST_F(DistributedEndToEnd, AFormatChangeAndABackfillLeaveEveryRowOnceOverKafka) {
  etl::testing::PipelineOptions options;
  options.env = {{"ETL_TABLE_FORMAT", "hive"}};
  Pipeline p(dir_, spotify_, etl::testing::TestServers::from_environment(), options);
  ASSERT_TRUE(p.start()) << p.logs();
  nlohmann::json body = {{"sources",
                          {{{"type", "playlist"}, {"id", fs::kDemoPlaylistId}},
                           {{"type", "album"}, {"id", fs::kDemoAlbumId}}}}};
  auto started = call("POST", p.url("extractor") + "/v1/runs", body.dump());
  ASSERT_EQ(started.status, 202) << started.body;
  const auto& cat = spotify_.catalogue();
  long long expected = static_cast<long long>(cat.album(fs::kDemoAlbumId).track_ids.size());
  for (const auto& item : cat.playlist(fs::kDemoPlaylistId).items) expected += item.kind == fs::ItemKind::track;
  const std::string count = "SELECT count(*) FROM songs_data";
  const std::string distinct = "SELECT count(DISTINCT (source_id, position)) FROM songs_data";
  ASSERT_TRUE(testing::wait_until([&] { return p.count(count) == expected; }, 90s, 200ms))
      << "rows never reached " << expected << " (last " << p.count(count) << ")\n" << p.logs();
  auto format = [&] { return call("GET", p.url("cataloger") + "/v1/tables/songs_data").json().value("format", ""); };
  ASSERT_EQ(format(), "parquet");
  std::set<std::string> parquet;  // the data files, as keys of the transformed store
  for (const auto& f : std::filesystem::recursive_directory_iterator(p.transformed_dir()))
    if (f.path().extension() == ".parquet") parquet.insert(std::filesystem::relative(f.path(), p.transformed_dir()).string());
  ASSERT_FALSE(parquet.empty());

  p.process("transformer").kill(SIGTERM);
  ASSERT_TRUE(p.process("transformer").wait_exit(10s).has_value());
  auto env = p.env();
  env["ETL_OUTPUT_FORMAT"] = "csv";
  const std::string addr = "127.0.0.1:" + std::to_string(testing::free_port());
  env["ETL_TRANSFORMER_ADDR"] = addr;
  testing::ChildProcess csv_transformer(std::string(ETL_BIN_DIR) + "/transformer", {}, env,
                                        (dir_.path() / "transformer-csv.log").string());
  ASSERT_TRUE(csv_transformer.start());
  ASSERT_TRUE(testing::wait_until([&] { return call("GET", "http://" + addr + "/readyz").status == 200; }, 60s, 100ms))
      << csv_transformer.log();
  auto job = call("POST", "http://" + addr + "/v1/reprocess", R"({"prefix":"processed/"})");
  ASSERT_EQ(job.status, 202) << job.body;
  nlohmann::json state;
  ASSERT_TRUE(testing::wait_until([&] {
    state = call("GET", "http://" + addr + "/v1/jobs/" + job.json()["job_id"].get<std::string>()).json();
    const std::string s = state.value("state", "");
    return s != "queued" && s != "running";
  }, 90s, 200ms)) << state.dump(2);
  EXPECT_EQ(state["state"], "succeeded") << state.dump(2);
  EXPECT_EQ(state["objects"]["done"], 2) << state.dump(2);

  // Each Parquet file's removal went out on the transformed topic, in S3's shape.
  Config cfg = kafka_config(p);
  auto bus = open_event_bus(cfg, "e2e-test");
  ASSERT_TRUE(bus.ok()) << bus.error().message;
  auto transformed = (*bus)->subscribe({cfg.topic_transformed}, "e2e-removals-reader");
  ASSERT_TRUE(transformed.ok());
  std::set<std::string> removed;
  EXPECT_TRUE(testing::wait_until([&] {
    auto m = (*transformed)->poll(200ms);
    if (!m.ok() || !m->has_value()) return removed == parquet;
    auto events = parse_s3_events((*m)->value, S3EventKinds::created_and_removed);
    if (events.ok())
      for (const auto& e : *events)
        if (e.event_name.starts_with("ObjectRemoved:")) removed.insert(e.key);
    return removed == parquet;
  }, 60s, 10ms)) << removed.size() << " of " << parquet.size() << " removals announced";

  EXPECT_TRUE(testing::wait_until([&] { return format() == "csv"; }, 60s, 200ms))
      << "the table is " << format() << ": the Parquet files' removals never reached the catalog\n"
      << p.logs() << csv_transformer.log();
  EXPECT_EQ(p.count(count), expected);
  EXPECT_EQ(p.count(distinct), expected);
  csv_transformer.kill(SIGTERM);
  EXPECT_TRUE(csv_transformer.wait_exit(10s).has_value());
}

TEST_F(DistributedEndToEnd, MinioBucketNotificationsDriveTheTransformer) {
  const std::string notify_topic = env_or_empty("ETL_TEST_MINIO_NOTIFY_TOPIC");
  if (notify_topic.empty() || env_or_empty("ETL_TEST_PYTHON").empty()) GTEST_SKIP() << "MinIO notifications not configured";
  Pipeline p(dir_, spotify_, notify_topic);
  ASSERT_TRUE(p.start()) << p.logs();

  // MinIO (not our extractor) announces objects landing under this pipeline's to_be_processed/.
  std::string script =
      "import boto3,sys\n"
      "s3=boto3.client('s3',endpoint_url=sys.argv[1],aws_access_key_id=sys.argv[2],aws_secret_access_key=sys.argv[3],region_name=sys.argv[4])\n"
      "s3.put_bucket_notification_configuration(Bucket=sys.argv[5],NotificationConfiguration={'QueueConfigurations':[{'QueueArn':sys.argv[6],'Events':['s3:ObjectCreated:*'],"
      "'Filter':{'Key':{'FilterRules':[{'Name':'prefix','Value':sys.argv[7]}]}}}]})\n";
  std::string script_path = (dir_.path() / "notify.py").string();
  {
    std::ofstream(script_path) << script;
  }
  std::string cmd = env_or_empty("ETL_TEST_PYTHON") + " " + script_path + " '" + env_or_empty("ETL_TEST_S3_ENDPOINT") + "' '" +
                    env_or_empty("ETL_TEST_S3_ACCESS_KEY") + "' '" + env_or_empty("ETL_TEST_S3_SECRET_KEY") + "' '" +
                    env_or_empty("ETL_TEST_S3_REGION") + "' '" + env_or_empty("ETL_TEST_S3_BUCKET") + "' '" +
                    env_or_empty("ETL_TEST_MINIO_NOTIFY_ARN") + "' '" + p.raw_prefix() + "/to_be_processed/'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "could not set the bucket notification";

  // A raw object in the original Lambda pipelines' shape: a bare playlist-items page.
  http::Client client;
  http::ClientRequest token{"POST", spotify_.accounts_url() + "/api/token",
                            {{"Content-Type", "application/x-www-form-urlencoded"}},
                            "grant_type=client_credentials&client_id=" + fs::FakeSpotifyOptions{}.client_id +
                                "&client_secret=" + fs::FakeSpotifyOptions{}.client_secret};
  auto t = client.send(token);
  ASSERT_TRUE(t.ok() && t->status == 200) << (t.ok() ? t->body : t.error().message);
  std::string access = nlohmann::json::parse(t->body)["access_token"];
  http::ClientRequest page_request;
  page_request.url = spotify_.api_url() + "/playlists/" + fs::kDemoPlaylistId + "/tracks?limit=100";
  page_request.headers = {{"Authorization", "Bearer " + access}};
  auto page = client.send(page_request);
  ASSERT_TRUE(page.ok() && page->status == 200);

  AwsConfig aws;
  aws.region = env_or_empty("ETL_TEST_S3_REGION");
  aws.access_key_id = env_or_empty("ETL_TEST_S3_ACCESS_KEY");
  aws.secret_access_key = env_or_empty("ETL_TEST_S3_SECRET_KEY");
  aws.endpoint_url_s3 = env_or_empty("ETL_TEST_S3_ENDPOINT");
  auto raw = open_object_store(p.env().at("ETL_RAW_URL"), aws);
  ASSERT_TRUE(raw.ok());
  const std::string name = "spotify_raw_20261121T060000Z.json";
  ASSERT_TRUE((*raw)->put("to_be_processed/" + name, page->body).ok());

  ASSERT_TRUE(testing::wait_until([&] { return (*raw)->head("processed/" + name).ok(); }, 90s, 200ms))
      << "the MinIO event never drove the transformer\n" << p.logs();
  EXPECT_TRUE(testing::wait_until([&] {
    return p.count("SELECT count(*) FROM songs_data WHERE dt = '2026-11-21' AND source_type = 'playlist'") == 100;
  }, 60s, 200ms)) << p.logs();
}

}  // namespace
}  // namespace etl
