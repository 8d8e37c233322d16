// Fair queue, stored-result bounds and engine memory (issue 13 items 2, 3, 5).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "crawl_jobs.h"
#include "engine_limits.h"
#include "etl/object_store.h"
#include "fair_queue.h"
#include "result_files.h"
#include "value_json.h"
#include "test_support.h"

namespace etl::cataloger {
namespace {

TEST(FairQueue, ClientsAreServedInTurnNotInArrivalOrder) {
  FairQueue q(100);
  for (int i = 0; i < 40; ++i) ASSERT_EQ(q.push("busy", "b" + std::to_string(i)), FairQueue::Push::queued);
  ASSERT_EQ(q.push("quiet", "q0"), FairQueue::Push::queued);
  EXPECT_EQ(q.pop().value(), "b0");
  EXPECT_EQ(q.pop().value(), "q0") << "the quiet client's one query does not wait behind 39 others";
  EXPECT_EQ(q.pop().value(), "b1");
  EXPECT_EQ(q.size(), 38u);
}

TEST(FairQueue, BoundedInTotalAndPerClient) {
  FairQueue q(4);
  EXPECT_EQ(q.push("a", "1"), FairQueue::Push::queued);
  EXPECT_EQ(q.push("a", "2"), FairQueue::Push::queued);
  EXPECT_EQ(q.push("a", "3"), FairQueue::Push::client_full) << "a client holds at most half";
  EXPECT_EQ(q.push("b", "4"), FairQueue::Push::queued);
  EXPECT_EQ(q.push("c", "5"), FairQueue::Push::queued);
  EXPECT_EQ(q.push("d", "6"), FairQueue::Push::full);
  EXPECT_TRUE(q.remove("4"));
  EXPECT_FALSE(q.remove("4"));
  EXPECT_EQ(q.push("d", "6"), FairQueue::Push::queued);
  EXPECT_EQ(q.drain().size(), 4u);
  EXPECT_FALSE(q.pop());
}

TEST(ResultFiles, OldestAreEvictedPastTheByteBound) {
  etl::testing::TempDir dir;
  std::shared_ptr<ObjectStore> store(open_object_store("file://" + dir.path().string(), {}).value());
  // Each file counts its size in 4 KiB blocks (at least one).
  ResultFiles files(store, {"_query_results/", 10 * 1024, std::chrono::seconds(3600)});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(files.put("q" + std::to_string(i), std::string(3000, 'x')).ok());
  EXPECT_LE(files.bytes(), 10u * 1024);
  EXPECT_EQ(files.count(), 2u);
  EXPECT_FALSE(store->head("_query_results/q2.csv").ok()) << "oldest first";
  EXPECT_TRUE(store->head("_query_results/q4.csv").ok());
  EXPECT_EQ(files.put("big", std::string(11000, 'x')).error().code, Errc::too_large);
  // A restart sees what is on disk.
  ResultFiles again(store, {"_query_results/", 5000, std::chrono::seconds(3600)});
  again.load();
  EXPECT_EQ(again.count(), 1u);
}

TEST(ResultFiles, ResultsPastTheirAgeAreSwept) {
  etl::testing::TempDir dir;
  std::shared_ptr<ObjectStore> store(open_object_store("file://" + dir.path().string(), {}).value());
  ResultFiles files(store, {"_query_results/", 1 << 20, std::chrono::seconds(1)});
  ASSERT_TRUE(files.put("old", "a\n").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  files.sweep();
  EXPECT_EQ(files.count(), 0u);
  EXPECT_FALSE(store->head("_query_results/old.csv").ok());
}

TEST(EngineMemory, FromTheCgroupLimitOrTheDefault) {
  EXPECT_EQ(parse_cgroup_memory("2147483648\n").value(), 2147483648u);
  EXPECT_FALSE(parse_cgroup_memory("max\n"));
  EXPECT_FALSE(parse_cgroup_memory("9223372036854771712\n")) << "cgroup v1 without a limit";
  EXPECT_FALSE(parse_cgroup_memory(""));
  EXPECT_EQ(engine_memory_limit(0, 2ull << 30), 1ull << 30) << "half the pod's limit";
  EXPECT_EQ(engine_memory_limit(0, 16ull << 20), kMinEngineMemory);
  EXPECT_EQ(engine_memory_limit(0, std::nullopt), kDefaultEngineMemory);
  EXPECT_EQ(engine_memory_limit(512ull << 20, 2ull << 30), 512ull << 20) << "the variable wins";
}

TEST(EngineMemory, TheEngineProcessCapIsTheLimitAndHalfAgainOrAsConfigured) {
  EXPECT_EQ(engine_process_memory(0, 1ull << 30).value(), (3ull << 30) / 2) << "a 2 GiB pod: 1.5 GiB";
  EXPECT_EQ(engine_process_memory(0, 256ull << 20).value(), 768ull << 20) << "at least 512 MiB of room";
  EXPECT_EQ(engine_process_memory(640ull << 20, 256ull << 20).value(), 640ull << 20) << "the variable wins";
  auto tight = engine_process_memory(300ull << 20, 256ull << 20);
  ASSERT_FALSE(tight);
  EXPECT_EQ(tight.error().code, Errc::invalid_argument);
  EXPECT_NE(tight.error().message.find("ETL_QUERY_PROCESS_MEMORY (300 MiB)"), std::string::npos);
  EXPECT_NE(tight.error().message.find("ETL_QUERY_MEMORY_LIMIT"), std::string::npos);
}

TEST(EngineMemory, TheTablesCopiesGetAQuarterOfItAndNoneWhenItIsSmall) {
  EXPECT_EQ(resident_budget(256ull << 20, kDefaultEngineMemory), 256ull << 20) << "the default fits a quarter of 2 GiB";
  EXPECT_EQ(resident_budget(256ull << 20, 512ull << 20), 128ull << 20) << "a quarter of a 1 GiB pod's engine";
  EXPECT_EQ(resident_budget(256ull << 20, 255ull << 20), 0u) << "below 256 MiB, loading a copy fails queries";
  EXPECT_EQ(resident_budget(0, 8ull << 30), 0u) << "0: off";
}

TEST(EngineMemory, ReadsV2ThenV1Files) {
  etl::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() / "memory");
  std::ofstream(dir.path() / "memory" / "memory.limit_in_bytes") << "1073741824\n";
  EXPECT_EQ(cgroup_memory_limit(dir.path()).value(), 1073741824u);
  std::ofstream(dir.path() / "memory.max") << "max\n";
  EXPECT_FALSE(cgroup_memory_limit(dir.path())) << "v2 says no limit";
}

// What a crawl lists decides which held-back keys it took (LocalCatalog's refold
// crawls can be merged into another crawl): its tables, else its changed keys'
// partitions, else everything.
TEST(CrawlQueue, ACrawlCoversTheKeysOfThePartitionsItLists) {
  const std::string key = "songs_data/dt=2026-02-01/f1.r1795240800123.parquet";
  CrawlRequest full;
  EXPECT_TRUE(crawl_covers(full, key));
  EXPECT_FALSE(crawl_covers(full, "not a data key")) << "nothing a crawl lists";
  CrawlRequest tables;
  tables.tables = {"albums_data", "songs_data"};
  EXPECT_TRUE(crawl_covers(tables, key));
  tables.tables = {"albums_data"};
  EXPECT_FALSE(crawl_covers(tables, key));
  tables.changed_keys = {"songs_data/dt=2026-02-01/other.parquet"};
  EXPECT_FALSE(crawl_covers(tables, key)) << "named tables win over changed keys, as in the crawl's scope";
  CrawlRequest events;
  events.changed_keys = {"albums_data/dt=2026-02-01/x.parquet", "songs_data/dt=2026-02-01/other.parquet"};
  EXPECT_TRUE(crawl_covers(events, key)) << "another file of the same partition";
  events.changed_keys = {"songs_data/dt=2026-02-02/f1.parquet", "albums_data/dt=2026-02-01/f1.parquet"};
  EXPECT_FALSE(crawl_covers(events, key)) << "another day, another table";
}

// A crawl whose runner throws ends FAILED with the reason, and the worker runs
// the next one (before, the exception ended the process).
TEST(CrawlQueue, ACrawlThatThrowsFailsAloneAndTheNextOneRuns) {
  std::atomic<int> calls{0};
  CrawlJobs jobs(
      [&](CrawlInfo& info, const CrawlRequest&) {
        if (calls.fetch_add(1) == 0) throw std::runtime_error("[json.exception.type_error.302] type must be string");
        info.state = CrawlState::succeeded;
      },
      100);
  jobs.start();
  CrawlRequest request;
  request.trigger = "api";
  auto first = jobs.submit(request, {});
  auto failed = jobs.wait(first.crawl_id, std::chrono::seconds(10));
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  EXPECT_EQ(failed->state, CrawlState::failed);
  EXPECT_EQ(failed->error, "internal error: [json.exception.type_error.302] type must be string");
  EXPECT_FALSE(failed->finished_at.empty());
  auto second = jobs.wait(jobs.submit(request, {}).crawl_id, std::chrono::seconds(10));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->state, CrawlState::succeeded);
  jobs.stop();
}

TEST(CrawlQueue, PastTheBoundANewCrawlJoinsTheLastWaitingOne) {
  std::mutex m;
  std::condition_variable cv;
  bool release = false, entered = false;
  std::vector<CrawlRequest> ran;
  CrawlJobs jobs(
      [&](CrawlInfo& info, const CrawlRequest& request) {
        std::unique_lock lock(m);
        entered = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        ran.push_back(request);
        info.state = CrawlState::succeeded;
      },
      100);
  jobs.start();
  auto events = [](std::string key) {
    CrawlRequest r;
    r.changed_keys = {std::move(key)};
    r.trigger = "events";
    return r;
  };
  auto first = jobs.submit(events("songs_data/dt=1/a.parquet"), {});
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return entered; })) << first.crawl_id;
  }
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < kMaxQueuedCrawls + 3; ++i)
    ids.push_back(jobs.submit(events("songs_data/dt=1/k" + std::to_string(i) + ".parquet"), {}).crawl_id);
  EXPECT_EQ(ids[kMaxQueuedCrawls - 1], ids.back()) << "joined the last waiting crawl";
  {
    std::lock_guard lock(m);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(jobs.wait(ids.back(), std::chrono::seconds(10)).ok());
  jobs.stop();
  ASSERT_EQ(ran.size(), 1 + kMaxQueuedCrawls);
  EXPECT_EQ(ran.back().changed_keys.size(), 4u) << "its own key and the three that joined: none dropped";
}

TEST(CsvCells, FormulaLikeTextGetsAnApostropheNumbersDoNot) {
  std::string out;
  append_csv_cell(out, "=1+2", false, true);
  out += ',';
  append_csv_cell(out, "-5", false, false);
  out += ',';
  append_csv_cell(out, "@a,b", false, true);
  out += ',';
  append_csv_cell(out, "plain", false, true);
  EXPECT_EQ(out, "'=1+2,-5,\"'@a,b\",plain");
}

}  // namespace
}  // namespace etl::cataloger
