// The transformer's HTTP API over real HTTP (docs/contract.md §7.3):
// transform, reprocess + jobs, status, readiness, metrics, OpenAPI, auth.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "transformer_env.h"

namespace etl::transformer {
namespace {

using etl::testing::call;
using testenv::Env;
using testenv::raw_name;
using testenv::raw_playlist;
using nlohmann::json;

TEST(TransformerHttp, TransformMovesAPendingObjectAndReportsRowsAndSkips) {
  Env env;
  env.start_idle();
  auto key = env.land(raw_name(1), raw_playlist(1));
  auto r = call("POST", env.url("/v1/transform"), json{{"key", key}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto body = r.json();
  EXPECT_EQ(body["rows"], (json{{"albums_data", 1}, {"artists_data", 1}, {"songs_data", 10}}));
  EXPECT_EQ(body["skipped"], (json{{"null_item", 2}, {"local", 0}, {"episode", 0}, {"malformed", 0}}));
  ASSERT_EQ(body["outputs"].size(), 3u);
  EXPECT_EQ(body["outputs"][2], "songs_data/dt=2026-11-21/" + raw_name(1).substr(0, raw_name(1).size() - 5) + ".parquet");
  EXPECT_EQ(body["raw_key"], "processed/" + raw_name(1));
  EXPECT_EQ(body["moved"], true);
  EXPECT_TRUE(env.exists_raw("processed/" + raw_name(1)));
}

// Raw objects under any name the transformer accepts land in files the cataloger
// takes (not hidden, no glob character), and two of them never share a file: the
// same file name in two folders, a topic that starts with '_'.
TEST(TransformerHttp, EveryRawNameLandsInAVisibleFileOfItsOwn) {
  Env env;
  env.config.topic_raw = "_spotify.raw";
  env.start_idle();
  const std::vector<std::string> names = {"_under.json", ".dot.json", "br[1].json", "star*.json",
                                          "a/x.json",    "b/x.json",  "x.json"};
  std::set<std::string> outputs;
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto r = call("POST", env.url("/v1/transform"),
                  json{{"key", env.land(names[i], raw_playlist(static_cast<int>(i) + 1))}}.dump());
    ASSERT_EQ(r.status, 200) << names[i] << ": " << r.body;
    const json written = r.json();  // held: a range-for over a temporary's member reads freed memory
    for (const auto& o : written["outputs"]) EXPECT_TRUE(outputs.insert(o.get<std::string>()).second) << o;
  }
  env.publish_created(env.land(raw_name(9), raw_playlist(9)));  // a batch, named after the topic
  ASSERT_TRUE(env.wait_consumed(1));
  std::string visible;
  for (const auto& k : env.table_keys()) {
    EXPECT_TRUE(DataKey::parse(k).has_value()) << k << " is not a data file for the cataloger";
    if (k.starts_with("songs_data/")) visible += (visible.empty() ? "" : ", ") + duck::quote_literal((env.dir.path() / "transformed" / k).string());
  }
  EXPECT_EQ(env.sql_value("SELECT count(DISTINCT song_id) FROM read_parquet([" + visible + "])"), "80");
}

TEST(TransformerHttp, TransformOfAProcessedKeyReTransformsInPlace) {
  Env env;
  env.config.table_format = "hive";  // Iceberg tables: a new generation (WithIcebergTables... below)
  env.start_idle();
  auto key = env.land(raw_name(2), raw_playlist(2));
  ASSERT_EQ(call("POST", env.url("/v1/transform"), json{{"key", key}}.dump()).status, 200);
  auto r = call("POST", env.url("/v1/transform"), json{{"key", "processed/" + raw_name(2)}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["moved"], false);
  EXPECT_EQ(r.json()["raw_key"], "processed/" + raw_name(2));
  EXPECT_EQ(env.transformed_keys().size(), 3u);
}

TEST(TransformerHttp, BadKeysAre400UnknownIs404PoisonIs422TooLargeIs413) {
  Env env;
  env.config.max_raw_object_bytes = 1024;
  env.start_idle();
  auto bad = env.land("spotify_raw_20261121T060000Z_playlist_bad_r.json", "{\"format\":");
  auto big = env.land("spotify_raw_20261121T060000Z_playlist_big_r.json", std::string(2048, ' '));
  const std::vector<std::pair<std::string, int>> cases = {
      {json{{"key", "../etc/passwd"}}.dump(), 400},
      {json{{"key", "to_be_processed/../processed/x.json"}}.dump(), 400},
      {json{{"key", "elsewhere/x.json"}}.dump(), 400},
      {json{{"key", "/to_be_processed/x.json"}}.dump(), 400},
      {json{{"key", "to_be_processed/"}}.dump(), 400},
      {json{{"key", 42}}.dump(), 400},
      {json::object().dump(), 400},
      {"not json", 400},
      {json{{"key", "to_be_processed/unknown.json"}}.dump(), 404},
      {json{{"key", bad}}.dump(), 422},
      {json{{"key", big}}.dump(), 413},
  };
  for (const auto& [body, status] : cases) {
    auto r = call("POST", env.url("/v1/transform"), body);
    EXPECT_EQ(r.status, status) << body << " -> " << r.body;
    EXPECT_EQ(r.content_type, "application/problem+json") << body;
    EXPECT_EQ(r.json()["status"], status) << body;
  }
  EXPECT_TRUE(env.exists_raw(bad)) << "a poison object stays where it is";
  auto status = call("GET", env.url("/v1/status")).json();
  ASSERT_EQ(status["last_errors"].size(), 3u) << status.dump(2);
  EXPECT_EQ(status["last_errors"][1]["code"], "bad_data");
  EXPECT_EQ(status["last_errors"][1]["key"], bad);
  EXPECT_EQ(status["last_errors"][2]["code"], "too_large");
}

// POST /v1/reprocess of processed/, then the job once it has ended.
void reprocess_processed(Env& env, json& job) {
  auto r = call("POST", env.url("/v1/reprocess"), json{{"prefix", "processed/"}}.dump());
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = r.json()["job_id"];
  ASSERT_TRUE(etl::testing::wait_until([&] {
    job = call("GET", env.url("/v1/jobs/" + id)).json();
    return job["state"] != "queued" && job["state"] != "running";
  }));
}

TEST(TransformerHttp, ReprocessRunsInTheBackgroundAndReportsItsJob) {
  Env env;
  env.config.table_format = "hive";  // files written over in place
  env.start_idle();
  for (int i = 0; i < 3; ++i) {
    auto key = env.land(raw_name(i), raw_playlist(i));
    ASSERT_EQ(call("POST", env.url("/v1/transform"), json{{"key", key}}.dump()).status, 200);
  }
  env.raw->put("processed/spotify_raw_20261121T060000Z_playlist_bad_r.json", "nope").ok();
  json job;
  ASSERT_NO_FATAL_FAILURE(reprocess_processed(env, job));
  EXPECT_EQ(job["state"], "partial") << job.dump(2);
  EXPECT_EQ(job["objects"], (json{{"total", 4}, {"done", 3}, {"failed", 1}}));
  EXPECT_EQ(job["rows"]["songs_data"], 30);
  EXPECT_EQ(job["skipped"]["null_item"], 6);
  ASSERT_EQ(job["errors"].size(), 1u);
  EXPECT_EQ(job["errors"][0]["code"], "bad_data");
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "30")
      << "reprocessing overwrites, never duplicates";

  EXPECT_EQ(call("GET", env.url("/v1/jobs/job-unknown")).status, 404);
  EXPECT_EQ(call("POST", env.url("/v1/reprocess"), json{{"prefix", "processed/../"}}.dump()).status, 400);
  EXPECT_EQ(call("POST", env.url("/v1/reprocess"), json{{"prefix", "other/"}}.dump()).status, 400);
  EXPECT_EQ(call("POST", env.url("/v1/reprocess"), json{{"prefix", 3}}.dump()).status, 400);
  auto default_prefix = call("POST", env.url("/v1/reprocess"), "{}");
  EXPECT_EQ(default_prefix.status, 202);
  EXPECT_EQ(call("GET", env.url("/v1/jobs/" + default_prefix.json()["job_id"].get<std::string>())).json()["prefix"],
            "processed/");
}

// Objects a batch transformed are redone with their batch, into the batch's own
// files: reprocessing or re-transforming them never writes their rows twice.
TEST(TransformerHttp, RedoingBatchedObjectsRewritesTheirBatchFiles) {
  Env env;
  env.config.table_format = "hive";  // files written over in place
  env.start_idle();
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(env.land(raw_name(i), raw_playlist(i)));
  for (const auto& key : keys) env.publish_created(key);
  ASSERT_TRUE(env.wait_consumed(4));
  const auto files = env.table_keys();
  ASSERT_FALSE(files.empty());
  const std::string songs = env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')");
  ASSERT_EQ(songs, "40");
  const std::string before = env.transformed_bytes(files.front());

  auto one = call("POST", env.url("/v1/transform"), json{{"key", "processed/" + raw_name(2)}}.dump());
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_GE(one.json()["rows"]["songs_data"].get<int>(), 10) << "its batch was redone: " << one.body;
  EXPECT_EQ(env.table_keys(), files) << "the batch's files were rewritten, no file of its own";
  EXPECT_EQ(env.transformed_bytes(files.front()), before) << "same members, same bytes";

  json job;
  ASSERT_NO_FATAL_FAILURE(reprocess_processed(env, job));
  EXPECT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["objects"], (json{{"total", 4}, {"done", 4}, {"failed", 0}}));
  EXPECT_EQ(job["rows"]["songs_data"], 40) << "each batch once per job: " << job.dump(2);
  EXPECT_EQ(env.table_keys(), files);
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "40");
  EXPECT_EQ(env.sql_value("SELECT count(DISTINCT song_id) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "40");
}

// The keys of the ObjectRemoved events on the transformed topic.
std::set<std::string> announced_removals(Env& env) {
  std::set<std::string> keys;
  for (const auto& m : env.bus->messages(env.config.topic_transformed)) {
    auto events = parse_s3_events(m.value, S3EventKinds::created_and_removed);
    EXPECT_TRUE(events.ok());
    if (events.ok())
      for (const auto& e : *events)
        if (e.event_name == "ObjectRemoved:Delete") keys.insert(e.key);
  }
  return keys;
}

// A redo over hive tables writes its files over in place. What it wrote before and
// does not write now is removed, and announced as removed, or it would be read
// beside the new files: the old format's files after ETL_OUTPUT_FORMAT changed (a
// batch's and a lone object's), a table the redo leaves empty (CSV writes no empty file).
TEST(TransformerHttp, AHiveRedoLeavesNoFileItDidNotWriteAgain) {
  Env env;
  env.config.table_format = "hive";
  env.start_idle();
  for (int i = 0; i < 4; ++i) env.publish_created(env.land(raw_name(i), raw_playlist(i)));
  ASSERT_TRUE(env.wait_consumed(4));
  auto lone = call("POST", env.url("/v1/transform"), json{{"key", env.land(raw_name(7), raw_playlist(7))}}.dump());
  ASSERT_EQ(lone.status, 200) << lone.body;
  const auto parquet = env.table_keys();
  ASSERT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "50");

  env.svc->stop();
  env.svc.reset();
  env.config.output_format = OutputFormat::csv;
  env.start_idle();
  json job;
  ASSERT_NO_FATAL_FAILURE(reprocess_processed(env, job));
  EXPECT_EQ(job["state"], "succeeded") << job.dump(2);
  const auto csv = env.table_keys();
  EXPECT_EQ(csv.size(), parquet.size());
  for (const auto& k : csv) EXPECT_TRUE(k.ends_with(".csv")) << k << " is left from before the format changed";
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_csv('{root}/songs_data/*/*.csv')"), "50");
  EXPECT_EQ(env.sql_value("SELECT count(DISTINCT song_id) FROM read_csv('{root}/songs_data/*/*.csv')"), "50");
  EXPECT_EQ(announced_removals(env), std::set<std::string>(parquet.begin(), parquet.end()));

  // The lone object put back with a page of nothing but a null item: no table has a row now.
  env.raw->put("to_be_processed/" + raw_name(7), raw_playlist(7, 1, 0)).value();
  auto emptied = call("POST", env.url("/v1/transform"), json{{"key", "to_be_processed/" + raw_name(7)}}.dump());
  ASSERT_EQ(emptied.status, 200) << emptied.body;
  EXPECT_TRUE(emptied.json()["outputs"].empty()) << emptied.body;
  const std::string stem = raw_data_stem(raw_name(7));
  for (const auto& k : env.table_keys()) EXPECT_EQ(k.find(stem), std::string::npos) << k << " holds its old rows";
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_csv('{root}/songs_data/*/*.csv')"), "40");
  for (const char* table : {"albums_data", "artists_data", "songs_data"})
    EXPECT_EQ(announced_removals(env).count(std::string(table) + "/dt=2026-11-21/" + stem + ".csv"), 1u) << table;
}

// With Iceberg tables (the default) a redo never writes over a file a snapshot may
// name: each file of the batch (or of a lone object) gets a newer generation,
// the old ones stay as they were, and the newest generations hold every row once.
TEST(TransformerHttp, WithIcebergTablesARedoWritesANewGenerationAndLeavesTheOldFiles) {
  Env env;
  ASSERT_EQ(env.config.table_format, "iceberg");
  env.start_idle();
  std::vector<std::string> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(env.land(raw_name(i), raw_playlist(i)));
  for (const auto& key : keys) env.publish_created(key);
  ASSERT_TRUE(env.wait_consumed(4));
  auto lone = call("POST", env.url("/v1/transform"), json{{"key", env.land(raw_name(7), raw_playlist(7))}}.dump());
  ASSERT_EQ(lone.status, 200) << lone.body;
  const auto files = env.table_keys();
  std::map<std::string, std::string> bytes;
  for (const auto& f : files) {
    EXPECT_EQ(file_generation(f).generation, 0) << f;
    bytes[f] = env.transformed_bytes(f);
  }

  auto check_redo = [&](const nlohmann::json& outputs, std::int64_t after) -> std::int64_t {
    EXPECT_FALSE(outputs.empty());
    if (outputs.empty()) return 0;
    for (const auto& o : outputs) {
      const FileGeneration g = file_generation(o.get<std::string>());
      EXPECT_GT(g.generation, after) << o;
      EXPECT_TRUE(std::find(files.begin(), files.end(), g.logical) != files.end()) << o << " is a generation of a file";
    }
    for (const auto& [f, b] : bytes) EXPECT_EQ(env.transformed_bytes(f), b) << f << " was written over";
    return file_generation(outputs[0].get<std::string>()).generation;
  };
  auto batched = call("POST", env.url("/v1/transform"), json{{"key", "processed/" + raw_name(2)}}.dump());
  ASSERT_EQ(batched.status, 200) << batched.body;
  const std::int64_t first = check_redo(batched.json()["outputs"], 0);
  auto alone = call("POST", env.url("/v1/transform"), json{{"key", "processed/" + raw_name(7)}}.dump());
  ASSERT_EQ(alone.status, 200) << alone.body;
  EXPECT_EQ(alone.json()["outputs"].size(), 3u);
  check_redo(alone.json()["outputs"], 0);

  json job;
  ASSERT_NO_FATAL_FAILURE(reprocess_processed(env, job));
  EXPECT_EQ(job["state"], "succeeded") << job.dump(2);
  EXPECT_EQ(job["rows"]["songs_data"], 50) << job.dump(2);
  EXPECT_EQ(env.newest_rows("SELECT count(*)"), "50");
  EXPECT_EQ(env.newest_rows("SELECT count(DISTINCT song_id)"), "50");
  std::int64_t newest = 0;
  for (const auto& k : env.table_keys()) newest = std::max(newest, file_generation(k).generation);
  EXPECT_GT(newest, first) << "the backfill wrote a newer generation again";
  for (const auto& [f, b] : bytes) EXPECT_EQ(env.transformed_bytes(f), b) << f;
}

TEST(TransformerHttp, StatusCountsWhatWasDone) {
  Env env;
  env.start_idle();
  auto key = env.land(raw_name(7), raw_playlist(7));
  ASSERT_EQ(call("POST", env.url("/v1/transform"), json{{"key", key}}.dump()).status, 200);
  auto status = call("GET", env.url("/v1/status"));
  ASSERT_EQ(status.status, 200);
  auto c = status.json()["counters"];
  EXPECT_EQ(c["objects_transformed"], 1);
  EXPECT_EQ(c["rows"]["songs_data"], 10);
  EXPECT_EQ(c["skipped"], (json{{"null_item", 2}, {"local", 0}, {"episode", 0}, {"malformed", 0}}));
  EXPECT_GT(c["bytes_in"].get<long>(), 0);
  EXPECT_GT(c["bytes_out"].get<long>(), 0);
  EXPECT_EQ(c["dead_lettered"], 0);
  EXPECT_EQ(status.json()["last_errors"], json::array());
}

TEST(TransformerHttp, ReadinessMetricsAndOpenApi) {
  Env env;
  env.start_idle();
  auto ready = call("GET", env.url("/readyz"));
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.json()["checks"], (json{{"bus", "ok"}, {"raw_store", "ok"}, {"transformed_store", "ok"}}));
  auto metrics = call("GET", env.url("/metrics")).body;
  for (const char* name :
       {"spotify_etl_objects_transformed_total", "spotify_etl_rows_written_total{table=\"songs_data\"}",
        "spotify_etl_items_skipped_total{reason=\"null_item\"}", "spotify_etl_items_skipped_total{reason=\"malformed\"}",
        "spotify_etl_transform_bytes_in_total", "spotify_etl_transform_bytes_out_total",
        "spotify_etl_transform_errors_total{code=\"bad_data\"}", "spotify_etl_transform_duration_seconds_bucket",
        "spotify_etl_events_dead_lettered_total{consumer=\"transformer\"}"})
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
  auto doc = call("GET", env.url("/openapi.json")).json();
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  for (const char* path : {"/v1/transform", "/v1/reprocess", "/v1/jobs/{job_id}", "/v1/status"})
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
}

TEST(TransformerHttp, ReadinessFailsWhenAStoreIsUnusable) {
  Env env;
  env.start_idle();
  // The transformed root becomes a file: the store can no longer write there.
  std::filesystem::remove_all(env.dir.path() / "transformed");
  std::ofstream(env.dir.path() / "transformed") << "x";
  auto ready = call("GET", env.url("/readyz"));
  EXPECT_EQ(ready.status, 503) << ready.body;
}

TEST(TransformerHttp, BearerTokenGuardsTheApiButNotHealth) {
  Env env;
  env.config.api_token = "s3cret";
  env.start_idle();
  EXPECT_EQ(call("GET", env.url("/v1/status")).status, 401);
  EXPECT_EQ(call("GET", env.url("/v1/status"), "", "wrong").status, 401);
  EXPECT_EQ(call("GET", env.url("/v1/status"), "", "s3cret").status, 200);
  EXPECT_EQ(call("POST", env.url("/v1/transform"), json{{"key", "to_be_processed/x.json"}}.dump()).status, 401);
  EXPECT_EQ(call("GET", env.url("/healthz")).status, 200);
  EXPECT_EQ(call("GET", env.url("/metrics")).status, 200);
  EXPECT_EQ(call("GET", env.url("/v1/status"), "", "s3cret").body.find("s3cret"), std::string::npos)
      << "the token never appears in a response";
}

}  // namespace
}  // namespace etl::transformer
