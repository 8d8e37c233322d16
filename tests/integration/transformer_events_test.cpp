// The transformer in-process on a MemoryBus: raw events in -> Parquet files
// out (one per table and day for a batch of events), raw objects moved,
// outputs announced; a full window; repeated events, replays of a batch, poison
// objects and the dead-letter topic, the start-up scan, events that are not ours.
#include <gtest/gtest.h>

#include <algorithm>

#include "batch_manifest.h"
#include "transformer_env.h"

namespace etl::transformer {
namespace {

using namespace std::chrono_literals;
using etl::testing::call;
using testenv::Env;
using testenv::raw_name;
using testenv::raw_playlist;
using nlohmann::json;

// The topic batch manifests and file names carry on this in-process bus.
std::string batch_topic(Env& env) { return env.config.topic_raw + "@" + env.bus->incarnation(); }

TEST(TransformerEvents, EventInGivesFilesOutRawMovedAndOutputsAnnounced) {
  Env env;
  env.start_idle();
  auto key = env.land(raw_name(1), raw_playlist(1));
  env.publish_created(key);
  ASSERT_TRUE(env.wait_consumed(1)) << "the event was not acknowledged";

  const std::string stem = batch_file_stem({batch_topic(env), 0, 0, 0, {{0, raw_name(1)}}, {}});
  const std::vector<std::string> expected = {"albums_data/dt=2026-11-21/" + stem + ".parquet",
                                             "artists_data/dt=2026-11-21/" + stem + ".parquet",
                                             "songs_data/dt=2026-11-21/" + stem + ".parquet"};
  EXPECT_EQ(env.table_keys(), expected);
  EXPECT_FALSE(env.exists_raw(key)) << "the raw object must leave to_be_processed/";
  EXPECT_TRUE(env.exists_raw("processed/" + raw_name(1)));

  auto announced = env.bus->messages(env.config.topic_transformed);
  ASSERT_EQ(announced.size(), 3u);
  std::vector<std::string> announced_keys;
  for (const auto& m : announced) {
    auto events = parse_s3_events(m.value);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 1u);
    EXPECT_EQ((*events)[0].bucket, env.transformed->bucket());
    EXPECT_EQ(m.key, (*events)[0].key) << "the Kafka key is the object key";
    EXPECT_GT((*events)[0].size, 0u);
    announced_keys.push_back((*events)[0].key);
  }
  EXPECT_EQ(announced_keys, expected);
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "10");
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/albums_data/*/*.parquet')"), "1");
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/artists_data/*/*.parquet')"), "1");
  EXPECT_EQ(env.sql_value("SELECT max(position) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "10")
      << "positions count the null item of the first page";
  EXPECT_EQ(env.svc->counters().objects_transformed.value(), 1);
  auto manifest = env.transformed->get(done_manifest_key({batch_topic(env), 0, 0, 0, {{0, raw_name(1)}}, {}}));
  ASSERT_TRUE(manifest.ok()) << "a batch keeps its manifest";
  EXPECT_EQ(decode_manifest(*manifest).value().files, expected);
}

TEST(TransformerEvents, EventsArrivingTogetherShareOneFilePerTableAndDay) {
  Env env;
  env.config.transform_linger_ms = 2000;  // wide enough for all 20 to join one batch
  env.start_idle();
  for (int i = 100; i < 120; ++i) env.publish_created(env.land(raw_name(i), raw_playlist(i)));
  ASSERT_TRUE(env.wait_consumed(20));
  EXPECT_EQ(env.transformed_keys("songs_data/").size(), 1u);
  EXPECT_EQ(env.transformed_keys("albums_data/").size(), 1u);
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "200");
  EXPECT_EQ(env.sql_value("SELECT count(DISTINCT song_id) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "200");
  EXPECT_EQ(env.raw->list("to_be_processed/").value().size(), 0u);
  EXPECT_EQ(env.bus->messages(env.config.topic_transformed).size(), 3u) << "one announcement per file";
}

TEST(TransformerEvents, ABatchEndsAtItsEventLimit) {
  Env env;
  env.config.transform_linger_ms = 2000;
  env.config.transform_batch_events = 4;
  env.start_idle();
  for (int i = 130; i < 140; ++i) env.publish_created(env.land(raw_name(i), raw_playlist(i)));
  ASSERT_TRUE(env.wait_consumed(10));
  EXPECT_EQ(env.transformed_keys("songs_data/").size(), 3u) << "4 + 4 + 2 events";
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "100");
}

TEST(TransformerEvents, AFullWindowHoldsBackEventsAndHandsItsLargestBatchToAnIdleWorker) {
  // Back-pressure: at most `window` events are held. With a linger far longer than the
  // test's wait, only the full window cuts batches here (a worker with nothing to run
  // takes the largest open one): 9 events on the in-process bus's one partition make
  // exactly 3 batches of 3.
  Env env;
  env.config.transform_linger_ms = 60000;
  env.config.transform_window = 3;
  env.start_idle();
  for (int i = 150; i < 159; ++i) env.publish_created(env.land(raw_name(i), raw_playlist(i)));
  ASSERT_TRUE(env.wait_consumed(9)) << "a full window must not wait for the linger (60 s, 5 x 60 s)";
  auto done = env.transformed->list(std::string(kDoneManifests));
  ASSERT_TRUE(done.ok()) << done.error().message;
  ASSERT_EQ(done->size(), 3u);
  for (const auto& info : *done) {
    auto manifest = decode_manifest(env.transformed->get(info.key, 1 << 20).value());
    ASSERT_TRUE(manifest.ok()) << info.key;
    EXPECT_EQ(manifest->members.size(), 3u) << info.key;
  }
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "90");
}

TEST(TransformerEvents, SameEventTwiceGivesTheSameFilesAndRows) {
  Env env;
  env.start_idle();
  auto key = env.land(raw_name(2), raw_playlist(2));
  env.publish_created(key);
  ASSERT_TRUE(env.wait_consumed(1));
  std::map<std::string, std::string> first;
  for (const auto& k : env.table_keys()) first[k] = env.transformed_bytes(k);

  env.publish_created(key);  // delivered again after the move
  ASSERT_TRUE(env.wait_consumed(2));
  std::map<std::string, std::string> second;
  for (const auto& k : env.table_keys()) second[k] = env.transformed_bytes(k);
  EXPECT_EQ(second.size(), 3u);
  EXPECT_TRUE(first == second) << "a redelivered event must overwrite with the same bytes, never add files";
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "10");
  EXPECT_TRUE(env.exists_raw("processed/" + raw_name(2)));
  EXPECT_EQ(env.bus->messages(env.config.topic_dlq).size(), 0u);
}

// A raw object copied back into to_be_processed/ after its rows were written (the
// classic way to trigger an S3 pipeline again) is redone where its rows are: its
// batch's files, or its own file for an object transformed alone, as a newer
// generation with Iceberg tables. Its rows are never added a second time, and new
// contents replace the old rows.
TEST(TransformerEvents, AnObjectPutBackIsRedoneWhereItsRowsAreNeverAddedTwice) {
  Env env;
  ASSERT_EQ(env.config.table_format, "iceberg");
  env.start_idle();
  std::vector<std::string> keys;
  for (int i = 0; i < 3; ++i) keys.push_back(env.land(raw_name(i), raw_playlist(i)));
  for (const auto& key : keys) env.publish_created(key);
  ASSERT_TRUE(env.wait_consumed(3));
  auto lone = call("POST", env.url("/v1/transform"), json{{"key", env.land(raw_name(7), raw_playlist(7))}}.dump());
  ASSERT_EQ(lone.status, 200) << lone.body;
  ASSERT_EQ(env.newest_rows("SELECT count(*)"), "40");
  const auto before = env.table_keys();
  std::map<std::string, std::string> bytes;
  for (const auto& f : before) bytes[f] = env.transformed_bytes(f);

  // The same bytes back, by event: batched and lone alike.
  for (int i : {1, 7}) env.publish_created(env.land(raw_name(i), raw_playlist(i)));
  ASSERT_TRUE(env.wait_consumed(5));
  EXPECT_EQ(env.newest_rows("SELECT count(*)"), "40") << "rows added twice";
  EXPECT_EQ(env.newest_rows("SELECT count(DISTINCT song_id)"), "40");
  for (int i : {1, 7}) {
    EXPECT_FALSE(env.exists_raw("to_be_processed/" + raw_name(i)));
    EXPECT_TRUE(env.exists_raw("processed/" + raw_name(i)));
  }
  for (const auto& [f, b] : bytes) EXPECT_EQ(env.transformed_bytes(f), b) << f << " was written over";
  std::set<std::string> logical;
  for (const auto& k : env.table_keys()) logical.insert(file_generation(k).logical);
  EXPECT_EQ(logical, std::set<std::string>(before.begin(), before.end())) << "a redo writes generations of the same files";

  // New contents under the name of a batched object: they replace its rows.
  env.publish_created(env.land(raw_name(1), raw_playlist(9, 1, 3)));
  ASSERT_TRUE(env.wait_consumed(6));
  EXPECT_EQ(env.newest_rows("SELECT count(*)"), "33");
  EXPECT_EQ(env.newest_rows("SELECT count(*) FILTER (WHERE song_name LIKE 'Song 9/%')"), "3");
  EXPECT_EQ(env.newest_rows("SELECT count(*) FILTER (WHERE song_name LIKE 'Song 1/%')"), "0");
  EXPECT_EQ(env.bus->messages(env.config.topic_dlq).size(), 0u);

  // By HTTP, an object transformed alone and put back gets a newer generation of its
  // own file; the committed one is not written over.
  auto again = call("POST", env.url("/v1/transform"), json{{"key", env.land(raw_name(7), raw_playlist(7))}}.dump());
  ASSERT_EQ(again.status, 200) << again.body;
  const json written = again.json();  // held: a range-for over a temporary's member reads freed memory
  for (const auto& o : written["outputs"]) EXPECT_GT(file_generation(o.get<std::string>()).generation, 0) << o;
  EXPECT_EQ(env.newest_rows("SELECT count(*)"), "33");
  for (const auto& [f, b] : bytes) EXPECT_EQ(env.transformed_bytes(f), b) << f << " was written over";
}

TEST(TransformerEvents, ABatchLeftOpenByACrashIsFinishedFirstUnderItsOwnNames) {
  // A crash after a batch's manifest, with one of its objects moved already: the
  // next start finishes exactly that batch (the moved object's rows included,
  // read back from processed/), and the events behind it add no row twice.
  Env env;
  env.config.transform_linger_ms = 2000;
  for (int i = 40; i < 45; ++i) env.publish_created(env.land(raw_name(i), raw_playlist(i)));
  const std::string topic = batch_topic(env);
  const BatchManifest open{topic, 0, 0, 2, {{0, raw_name(40)}, {1, raw_name(41)}, {2, raw_name(42)}}, {}};
  ASSERT_TRUE(env.transformed->put(manifest_key(kOpenManifests, topic, 0, 0), encode_manifest(open)).ok());
  ASSERT_TRUE(env.raw->move("to_be_processed/" + raw_name(40), "processed/" + raw_name(40)).ok());

  env.start();
  ASSERT_TRUE(env.wait_consumed(5));
  const auto songs = env.transformed_keys("songs_data/");
  ASSERT_EQ(songs.size(), 2u) << "the open batch, then one for the two objects it did not hold";
  EXPECT_TRUE(std::count(songs.begin(), songs.end(), "songs_data/dt=2026-11-21/" + batch_file_stem(open) + ".parquet"))
      << "the open batch keeps the names its manifest gives";
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "50");
  EXPECT_EQ(env.sql_value("SELECT count(DISTINCT song_id) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "50");
  EXPECT_TRUE(env.transformed_keys("_transformer/open/").empty());
  EXPECT_EQ(env.transformed_keys("_transformer/batches/").size(), 2u);
  EXPECT_TRUE(env.raw->list("to_be_processed/").value().empty());
}

TEST(TransformerEvents, PoisonObjectsGoToTheDlqAndTheQueueKeepsFlowing) {
  Env env;
  env.config.max_raw_object_bytes = 64 * 1024;
  env.start_idle();
  auto not_json = env.land("spotify_raw_20261121T060000Z_playlist_bad_r1.json", "this is not JSON {");
  auto truncated_raw = raw_playlist(4);
  auto truncated = env.land("spotify_raw_20261121T060000Z_playlist_cut_r1.json", truncated_raw.substr(0, truncated_raw.size() / 2));
  auto too_large = env.land("spotify_raw_20261121T060000Z_playlist_big_r1.json", std::string(100 * 1024, ' ') + "{}");
  auto good = env.land(raw_name(5), raw_playlist(5));
  env.publish_created(not_json);
  env.publish_created(truncated);
  env.publish_created(too_large);
  env.bus->publish(env.config.topic_raw, "garbage", "not an S3 event").ok();
  env.publish_created(good);
  ASSERT_TRUE(env.wait_consumed(5, 30s)) << "the queue must keep moving past poison messages";

  auto dlq = env.bus->messages(env.config.topic_dlq);
  ASSERT_EQ(dlq.size(), 4u);
  auto header = [](const Message& m, const std::string& name) {
    for (const auto& [k, v] : m.headers)
      if (k == name) return v;
    return std::string("(missing)");
  };
  const std::vector<std::string> codes = {"bad_data", "bad_data", "too_large", "bad_data"};
  for (std::size_t i = 0; i < dlq.size(); ++i) {
    SCOPED_TRACE("dead letter " + std::to_string(i));
    EXPECT_EQ(header(dlq[i], "x-error-code"), codes[i]);
    EXPECT_EQ(header(dlq[i], "x-source-topic"), env.config.topic_raw);
    EXPECT_EQ(header(dlq[i], "x-attempts"), "3");
    EXPECT_EQ(header(dlq[i], "x-consumer-group"), kConsumerGroup);
    EXPECT_NE(header(dlq[i], "x-error"), "(missing)");
  }
  EXPECT_NE(header(dlq[2], "x-error").find("over the limit"), std::string::npos) << header(dlq[2], "x-error");
  EXPECT_EQ(dlq[0].value, env.bus->messages(env.config.topic_raw)[0].value) << "the original event is kept";

  EXPECT_TRUE(env.exists_raw(not_json)) << "poison objects stay where they are";
  EXPECT_TRUE(env.exists_raw(truncated));
  EXPECT_TRUE(env.exists_raw(too_large));
  EXPECT_TRUE(env.exists_raw("processed/" + raw_name(5))) << "the good object after the poison ones is transformed";
  EXPECT_EQ(env.svc->counters().dead_lettered.value(), 4);
  EXPECT_EQ(env.svc->metrics().counter("spotify_etl_transform_errors_total", "", {{"code", "bad_data"}}).value(), 7)
      << "3 attempts for each of 2 bad_data objects, 1 for the event that is not one";

  auto last = env.svc->errors().last();
  ASSERT_EQ(last.size(), 4u) << "retries of one failure are one record";
  std::map<std::string, ErrorRecord> by_key;
  for (const auto& r : last) by_key[r.key] = r;
  EXPECT_EQ(by_key[not_json].count, 3u);
  EXPECT_EQ(by_key[too_large].code, Errc::too_large);
}

TEST(TransformerEvents, StartupScanTransformsObjectsWhoseEventsWereLost) {
  Env env;
  for (int i = 10; i < 13; ++i) env.land(raw_name(i), raw_playlist(i));
  env.land("spotify_raw_20261121T060000Z_playlist_bad_r9.json", "[1,2");
  env.start();
  const std::string job = env.svc->startup_job_id();
  ASSERT_FALSE(job.empty());
  ASSERT_TRUE(etl::testing::wait_until([&] {
    auto j = env.svc->job(job);
    return j && j->state != JobState::queued && j->state != JobState::running;
  }));
  auto j = env.svc->job(job).value();
  EXPECT_EQ(j.state, JobState::succeeded);
  EXPECT_EQ(j.total, 4u);
  EXPECT_EQ(j.done, 4u) << "each object announced on the raw topic";
  ASSERT_TRUE(env.wait_consumed(4));
  EXPECT_EQ(env.raw->list("to_be_processed/").value().size(), 1u) << "only the poison object is left";
  EXPECT_EQ(env.bus->messages(env.config.topic_dlq).size(), 1u) << "the poison object's event is dead-lettered";
  EXPECT_EQ(env.sql_value("SELECT count(DISTINCT song_id) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "30");
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "30");
}

TEST(TransformerEvents, EventsThatAreNotOursAreAcknowledgedAndIgnored) {
  Env env;
  env.start_idle();
  env.publish_created("to_be_processed/x.json", "ObjectCreated:Put", "some-other-bucket");
  env.publish_created("elsewhere/x.json");
  env.publish_created("to_be_processed/never-landed.json");
  env.bus->publish(env.config.topic_raw, "test", R"({"Event":"s3:TestEvent"})").ok();
  env.bus->publish(env.config.topic_raw, "removed",
                   R"({"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"raw"},"object":{"key":"to_be_processed/x.json"}}}]})")
      .ok();
  ASSERT_TRUE(env.wait_consumed(5));
  EXPECT_EQ(env.bus->messages(env.config.topic_dlq).size(), 0u);
  EXPECT_EQ(env.svc->counters().events_ignored.value(), 3);
  EXPECT_TRUE(env.table_keys().empty());
}

TEST(TransformerEvents, MinioEventNamesAndUrlEncodedKeysAreAccepted) {
  Env env;
  env.start_idle();
  // The original Lambda's file name has a space and a colon; S3 encodes them in events.
  std::string name = "spotify_raw_2023-06-01 12:34:56.789012.json";
  std::string raw = fixtures::paging(json::array({fixtures::playlist_item(fixtures::track())})).dump();
  auto key = env.land(name, raw);
  env.publish_created(key, "s3:ObjectCreated:Put");
  ASSERT_TRUE(env.wait_consumed(1));
  EXPECT_TRUE(env.exists_raw("processed/" + name));
  const std::string stem = batch_file_stem({batch_topic(env), 0, 0, 0, {{0, name}}, {}});
  EXPECT_EQ(env.transformed_keys("songs_data/"), std::vector<std::string>{"songs_data/dt=2023-06-01/" + stem + ".parquet"});
}

TEST(TransformerEvents, OurOwnMoveNotifiedAsACopyIsIgnored) {
  Env env;
  env.start_idle();
  auto key = env.land(raw_name(20), raw_playlist(20));
  env.publish_created(key);
  ASSERT_TRUE(env.wait_consumed(1));
  env.publish_created("processed/" + raw_name(20), "s3:ObjectCreated:Copy");
  ASSERT_TRUE(env.wait_consumed(2));
  EXPECT_EQ(env.bus->messages(env.config.topic_transformed).size(), 3u) << "no second round of work";
}

TEST(TransformerEvents, CsvOutputSkipsEmptyTables) {
  Env env;
  env.config.output_format = OutputFormat::csv;
  env.start_idle();
  std::string raw = fixtures::envelope("artist-albums", "4tZwfgrHOc3mvqYlEYSvVi",
                                       {fixtures::paging(json::array({fixtures::album()}))});
  auto key = env.land("spotify_raw_20261121T060000Z_artist-albums_4tZwfgrHOc3mvqYlEYSvVi_r1.json", raw);
  env.publish_created(key);
  ASSERT_TRUE(env.wait_consumed(1));
  const std::string stem = batch_file_stem(
      {batch_topic(env), 0, 0, 0, {{0, "spotify_raw_20261121T060000Z_artist-albums_4tZwfgrHOc3mvqYlEYSvVi_r1.json"}}, {}});
  EXPECT_EQ(env.transformed_keys("albums_data/"), std::vector<std::string>{"albums_data/dt=2026-11-21/" + stem + ".csv"});
  EXPECT_EQ(env.transformed_keys("artists_data/"), std::vector<std::string>{"artists_data/dt=2026-11-21/" + stem + ".csv"});
  EXPECT_TRUE(env.transformed_keys("songs_data/").empty()) << "no songs file: an empty CSV could not say its column types";
}

TEST(TransformerEvents, StopLeavesUnhandledEventsForTheNextConsumer) {
  Env env;
  env.start_idle();
  env.svc->stop();
  auto key = env.land(raw_name(30), raw_playlist(30));
  env.publish_created(key);
  env.svc.reset();
  EXPECT_EQ(env.consumed(), 0);
  env.start();
  ASSERT_TRUE(env.wait_consumed(1));
  EXPECT_TRUE(env.exists_raw("processed/" + raw_name(30)));
}

}  // namespace
}  // namespace etl::transformer
