// kill -9 of a batching `transformer` process at >= 20 random points of its
// batches, over a real Kafka and MinIO (raw and transformed stores both in
// MinIO), restarting it each time: afterwards every raw object is in
// processed/, every event is committed, and the tables (read back from MinIO)
// hold every row exactly once.
//
// Starts a Kafka and a MinIO of its own (tests/support/private_servers.h), as
// distributed_faults_test does. ETL_KILL_TEST_KILLS overrides the 20 kills.
#include <gtest/gtest.h>

#include <csignal>
#include <iostream>
#include <random>
#include <set>

#include "distributed_pipeline.h"
#include "etl/duck.h"
#include "etl/event_bus.h"
#include "etl/s3_event.h"
#include "kafka_bus.h"
#include "transformer_env.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using testing::env_or_empty;
using testing::Pipeline;
using testing::PipelineOptions;
using testing::PrivateServers;
using testing::TestServers;
using testing::wait_until;

std::size_t count_under(ObjectStore& store, const std::string& prefix) {
  auto listed = store.list(prefix);
  return listed.ok() ? listed->size() : static_cast<std::size_t>(-1);
}

std::vector<std::string> duck_row(const std::string& sql) {
  auto db = duck::Database::open(":memory:");
  if (!db.ok()) return {"open: " + db.error().message};
  auto conn = (*db)->connect();
  if (!conn.ok()) return {"connect: " + conn.error().message};
  auto r = (*conn)->query(sql);
  if (!r.ok()) return {"query: " + r.error().message};
  std::vector<std::string> row;
  for (idx_t c = 0; c < r->column_count(); ++c) row.push_back(r->text(c, 0).value_or("NULL"));
  return row;
}

TEST(TransformerKill, KillNineAtRandomPointsOfItsBatchesLosesAndDuplicatesNoRow) {
  const std::string script = env_or_empty("ETL_TEST_SERVERS_SCRIPT");
  if (script.empty()) GTEST_SKIP() << "needs scripts/test-servers.sh (ETL_TEST_SERVERS_SCRIPT): run through scripts/test.sh";
  PrivateServers servers(script);
  ASSERT_TRUE(servers.start()) << "could not start private test servers:\n" << servers.log();
  const int kills = env_or_empty("ETL_KILL_TEST_KILLS").empty() ? 20 : std::atoi(env_or_empty("ETL_KILL_TEST_KILLS").c_str());
  constexpr int kPerRound = 8, kPages = 2, kPerPage = 20;

  testing::TempDir dir;
  fakespotify::FakeSpotifyServer spotify;
  ASSERT_GT(spotify.start(), 0);
  const TestServers where = TestServers::from(servers.vars());
  PipelineOptions options;
  options.processes = {"transformer"};
  const std::string prefix = "kill-" + testing::random_suffix();
  options.env = {{"ETL_TRANSFORMED_URL", "s3://" + where.s3_bucket + "/" + prefix + "/transformed"},
                 // The broker's minimum: a restarted process gets the partitions soon after the kill.
                 {"ETL_KAFKA_SESSION_TIMEOUT_MS", "6000"},
                 {"ETL_KAFKA_HEARTBEAT_INTERVAL_MS", "1000"},
                 {"ETL_LOG_LEVEL", "info"}};
  Pipeline p(dir, spotify, where, options);
  ASSERT_TRUE(p.start()) << p.logs();

  auto raw = p.raw_store();
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  auto transformed = open_object_store(options.env["ETL_TRANSFORMED_URL"], where.aws());
  ASSERT_TRUE(transformed.ok()) << transformed.error().message;
  Environment env(p.env().begin(), p.env().end());
  auto cfg = load_config(env);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  cfg->kafka_properties.clear();
  auto bus = open_event_bus(*cfg, "kill-test");
  ASSERT_TRUE(bus.ok()) << bus.error().message;

  int landed = 0;
  auto land = [&](int n) {
    std::vector<OutgoingMessage> events;
    for (int i = 0; i < n; ++i, ++landed) {
      const std::string key = "to_be_processed/" + transformer::testenv::raw_name(landed);
      auto put = (*raw)->put(key, transformer::testenv::raw_playlist(landed, kPages, kPerPage));
      ASSERT_TRUE(put.ok()) << put.error().message;
      ObjectCreated e;
      e.bucket = (*raw)->bucket();
      e.key = (*raw)->event_key(key);
      e.size = put->size;
      e.etag = put->etag;
      events.push_back({e.key, build_s3_event(e), {}});
    }
    ASSERT_TRUE((*bus)->publish_batch(cfg->topic_raw, events).ok());
  };

  std::mt19937 rng{std::random_device{}()};
  int during_batch = 0;
  for (int k = 0; k < kills; ++k) {
    ASSERT_NO_FATAL_FAILURE(land(kPerRound));
    // Wait for a batch to be under way (its manifest open), then kill within the next ~0-80 ms.
    const bool open = wait_until([&] { return count_under(**transformed, "_transformer/open/") > 0; }, 20s, 2ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 80)(rng)));
    if (open && count_under(**transformed, "_transformer/open/") > 0) ++during_batch;
    p.process("transformer").kill(SIGKILL);
    ASSERT_TRUE(p.process("transformer").start());
  }
  ASSERT_TRUE(p.start()) << p.logs();
  std::cout << "[ kill     ] " << kills << " kills, " << during_batch << " with a batch manifest still open after the kill; "
            << landed << " raw objects\n";
  EXPECT_GE(during_batch, kills / 2) << "most kills should land inside a batch";

  ASSERT_TRUE(wait_until([&] { return count_under(**raw, "to_be_processed/") == 0; }, 300s, 200ms))
      << count_under(**raw, "to_be_processed/") << " raw objects never left to_be_processed/\n" << p.logs();
  EXPECT_EQ(count_under(**raw, "processed/"), static_cast<std::size_t>(landed));

  auto admin = KafkaBus::create(*cfg, "kill-test-admin");
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  std::string offsets;
  EXPECT_TRUE(wait_until([&] {
    auto ends = (*admin)->end_offsets(cfg->topic_raw);
    auto committed = (*admin)->committed_offsets(transformer::kConsumerGroup, cfg->topic_raw);
    if (!ends.ok() || !committed.ok()) return false;
    offsets.clear();
    bool all = true;
    for (const auto& [partition, end] : *ends) {
      const auto at = committed->count(partition) ? committed->at(partition) : -1;
      offsets += std::to_string(partition) + ": " + std::to_string(at) + "/" + std::to_string(end) + " ";
      all = all && (end == 0 || at == end);
    }
    return all;
  }, 60s, 200ms)) << "committed/end per partition: " << offsets;
  EXPECT_TRUE(wait_until([&] { return count_under(**transformed, "_transformer/open/") == 0; }, 30s, 200ms))
      << "a batch manifest was left open";

  // The tables, copied out of MinIO and counted.
  const auto local = dir.path() / "tables";
  std::size_t files = 0;
  for (const char* table : {"albums_data/", "artists_data/", "songs_data/"}) {
    auto listed = (*transformed)->list(table);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    for (const auto& o : *listed) {
      auto bytes = (*transformed)->get(o.key);
      ASSERT_TRUE(bytes.ok()) << o.key << ": " << bytes.error().message;
      const auto path = local / o.key;
      std::filesystem::create_directories(path.parent_path());
      std::ofstream(path, std::ios::binary) << *bytes;
      ++files;
    }
  }
  std::cout << "[ kill     ] " << files << " data files for " << landed << " raw objects\n";
  auto glob = [&](const char* table) { return duck::quote_literal((local / table / "*" / "*.parquet").string()); };
  const std::string songs = std::to_string(landed * kPages * kPerPage), n = std::to_string(landed);
  EXPECT_EQ(duck_row("SELECT count(*), count(DISTINCT song_id), count(DISTINCT run_id) FROM read_parquet(" + glob("songs_data") + ")"),
            (std::vector<std::string>{songs, songs, n}))
      << "songs_data: rows, distinct songs, distinct runs";
  EXPECT_EQ(duck_row("SELECT count(*), count(DISTINCT album_id) FROM read_parquet(" + glob("albums_data") + ")"),
            (std::vector<std::string>{n, n}))
      << "albums_data: rows, distinct albums";
  EXPECT_EQ(duck_row("SELECT count(*), count(DISTINCT artist_id) FROM read_parquet(" + glob("artists_data") + ")"),
            (std::vector<std::string>{n, n}))
      << "artists_data: rows, distinct artists";
  auto dlq = (*admin)->end_offsets(cfg->topic_dlq);
  long long dead = 0;
  if (dlq.ok())
    for (const auto& [partition, end] : *dlq) dead += end;
  EXPECT_EQ(dead, 0) << "nothing here is poison";
}

}  // namespace
}  // namespace etl
