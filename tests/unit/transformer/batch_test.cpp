// The pure parts of batching: manifests and their names, a batch's tables
// (rows of many objects appended), the task pool, which batch a full window cuts.
#include <gtest/gtest.h>

#include <atomic>
#include <set>

#include "batch_consumer.h"
#include "batch_manifest.h"
#include "fixtures.h"
#include "table.h"
#include "task_pool.h"
#include "transform.h"

namespace etl::transformer {
namespace {

BatchManifest sample() {
  return BatchManifest{"spotify.raw.events", 3, 40, 47, {{40, "a.json"}, {42, "b.json"}}, {"songs_data/dt=2026-11-21/x.parquet"}};
}

TEST(BatchManifest, RoundTripsThroughItsJsonForm) {
  auto decoded = decode_manifest(encode_manifest(sample()));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, sample());
}

TEST(BatchManifest, AnythingElseIsBadData) {
  for (const char* text : {"", "[]", "{}", R"({"format":"other"})", R"({"format":"spotify-etl.batch.v1","topic":1})",
                           R"({"format":"spotify-etl.batch.v1","topic":"t","partition":0,"first":5,"last":4,"members":[],"files":[]})"}) {
    auto r = decode_manifest(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, Errc::bad_data) << text;
  }
}

TEST(BatchManifest, KeysSortByOffsetWithinAPartition) {
  EXPECT_EQ(manifest_key(kOpenManifests, "t", 3, 42), "_transformer/open/t/3/00000000000000000042.json");
  EXPECT_LT(manifest_key(kDoneManifests, "t", 3, 9), manifest_key(kDoneManifests, "t", 3, 10));
  const std::string done = done_manifest_key(sample());
  EXPECT_EQ(done.rfind("_transformer/batches/spotify.raw.events/3/00000000000000000040-", 0), 0u) << done;
  EXPECT_EQ(done.substr(done.size() - 21), batch_file_stem(sample()).substr(batch_file_stem(sample()).size() - 16) + ".json");
}

TEST(BatchManifest, FileNamesDependOnTheCutAndTheMembersOnly) {
  const BatchManifest m = sample();
  BatchManifest same = m;
  same.last = 99;  // events that named nothing new do not change the files
  same.files.clear();
  EXPECT_EQ(batch_file_stem(m), batch_file_stem(same));
  EXPECT_EQ(batch_file_stem(m).rfind("spotify.raw.events-3-40-", 0), 0u) << batch_file_stem(m);

  std::set<std::string> stems{batch_file_stem(m)};
  BatchManifest other = m;
  other.members.push_back({45, "c.json"});
  stems.insert(batch_file_stem(other));
  other = m;
  other.partition = 4;
  stems.insert(batch_file_stem(other));
  other = m;
  other.topic = "spotify.raw.events@1234";
  stems.insert(batch_file_stem(other));
  other = m;
  other.members[1].rest = "c.json";  // a recreated topic: same offsets, other objects
  stems.insert(batch_file_stem(other));
  EXPECT_EQ(stems.size(), 5u) << "another batch never gets the same names";
}

TEST(BatchTables, AppendedTablesHoldEveryRowInOrder) {
  using fixtures::json;
  auto one = transform_raw(fixtures::paging(json::array({fixtures::playlist_item(fixtures::track())})).dump(), {"x.json", std::chrono::system_clock::now()});
  ASSERT_TRUE(one.ok());
  Table all(songs_schema());
  all.append(one->songs);
  all.append(one->songs);
  ASSERT_EQ(all.rows(), 2 * one->songs.rows());
  for (std::size_t c = 0; c < songs_schema().columns.size(); ++c) {
    const auto name = songs_schema().columns[c].name;
    for (std::size_t r = 0; r < one->songs.rows(); ++r) {
      EXPECT_EQ(all.text(r, name), one->songs.text(r, name)) << name;
      EXPECT_EQ(all.text(r + one->songs.rows(), name), one->songs.text(r, name)) << name;
    }
  }
}

TEST(TaskPool, RunsEveryTaskOnceAndAtMostItsThreadsAtATime) {
  TaskPool pool(3);
  std::atomic<int> running{0}, peak{0};
  std::vector<std::atomic<int>> runs(50);
  pool.run_all(runs.size(), [&](std::size_t i) {
    int now = ++running;
    for (int p = peak.load(); now > p && !peak.compare_exchange_weak(p, now);) {}
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ++runs[i];
    --running;
  });
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 2) << "the tasks ran one at a time";
}

TEST(BatchForRoom, AFreeWorkerGetsTheLargestOpenBatchOfAPartitionNotRunning) {
  const TopicPartition p0{"raw", 0}, p1{"raw", 1}, p2{"raw", 2};
  const std::map<TopicPartition, std::size_t> open = {{p0, 30}, {p1, 80}, {p2, 50}};
  EXPECT_EQ(batch_for_room(open, {}, {}, 4), p1);
  EXPECT_EQ(batch_for_room(open, {p1}, {}, 4), p2) << "p1 runs: its next batch could not start";
  EXPECT_EQ(batch_for_room(open, {p0, p1, p2}, {}, 4), std::nullopt) << "every open partition runs";
  EXPECT_EQ(batch_for_room({{p0, 1}, {p1, 1}}, {}, {}, 4), p0) << "ties: the first partition";
  EXPECT_EQ(batch_for_room({}, {}, {}, 4), std::nullopt);
}

TEST(BatchForRoom, NothingIsCutWhileEveryWorkerIsBusyOrAClosedBatchWaitsForOne) {
  const TopicPartition p0{"raw", 0}, p1{"raw", 1}, p2{"raw", 2}, p3{"raw", 3};
  const std::map<TopicPartition, std::size_t> open = {{p2, 40}, {p3, 60}};
  EXPECT_EQ(batch_for_room(open, {p0, p1}, {}, 2), std::nullopt) << "both workers busy";
  EXPECT_EQ(batch_for_room(open, {p0}, {p1}, 2), std::nullopt) << "p1's closed batch takes the free worker";
  EXPECT_EQ(batch_for_room(open, {p0}, {p0}, 2), p3) << "p0's closed batch waits for p0's running one, not a worker";
  EXPECT_EQ(batch_for_room(open, {p0}, {}, 0), std::nullopt) << "max_running 0 counts as 1";
}

TEST(TimeCut, QuietNeedsAPollThatFoundNothingSinceThePartitionsLastEvent) {
  using namespace std::chrono_literals;
  const std::chrono::steady_clock::time_point t0{};  // the batch opened, its last event came
  const auto at = [&](std::chrono::milliseconds d) { return t0 + d; };
  EXPECT_STREQ(time_cut(at(1ms), at(1ms), t0, at(10ms), at(101ms), 100ms), "quiet");
  EXPECT_EQ(time_cut(at(1ms), at(1ms), t0, at(10ms), at(100ms), 100ms), nullptr) << "not yet a linger";
  EXPECT_EQ(time_cut(at(1ms), at(50ms), t0, at(10ms), at(200ms), 100ms), nullptr)
      << "every poll since its last event found something: other partitions' backlog, not a quiet partition";
  EXPECT_EQ(time_cut(at(1ms), at(1ms), at(60ms), at(70ms), at(150ms), 100ms), nullptr)
      << "quiet counts from the window's last room";
  EXPECT_STREQ(time_cut(at(1ms), at(1ms), at(60ms), at(70ms), at(160ms), 100ms), "quiet");
}

TEST(TimeCut, OldAtFiveLingersOrFiftyWhileTheConsumerHasBeenBehindAllAlong) {
  using namespace std::chrono_literals;
  const std::chrono::steady_clock::time_point t0{};
  const auto at = [&](std::chrono::milliseconds d) { return t0 + d; };
  // Events keep coming (the last 1 ms ago), so only the age can cut it.
  EXPECT_STREQ(time_cut(at(10ms), at(509ms), t0, at(20ms), at(510ms), 100ms), "old") << "ran dry once since it opened";
  EXPECT_EQ(time_cut(at(10ms), at(509ms), t0, at(20ms), at(509ms), 100ms), nullptr);
  EXPECT_EQ(time_cut(at(10ms), at(509ms), t0, at(5ms), at(510ms), 100ms), nullptr)
      << "never dry since it opened: a backlog, cut on events, bytes or room";
  EXPECT_EQ(time_cut(at(10ms), at(5009ms), t0, at(5ms), at(5009ms), 100ms), nullptr);
  EXPECT_STREQ(time_cut(at(10ms), at(5009ms), t0, at(5ms), at(5010ms), 100ms), "old") << "50 lingers bound it";
}

}  // namespace
}  // namespace etl::transformer
