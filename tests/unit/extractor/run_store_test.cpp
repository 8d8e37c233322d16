// Run records persisted in the raw store survive a restart.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "etl/object_store.h"
#include "forwarding_store.h"
#include "run_store.h"
#include "test_support.h"

namespace etl::extractor {
namespace {

RunRecord run(const std::string& id, RunStatus status) {
  RunRecord r;
  r.run_id = id;
  r.status = status;
  r.created_at = "2026-11-21T06:00:00Z";
  SourceRecord s;
  s.type = "playlist";
  s.id = "7kwYwFTY6UeVCDzqOAzRKN";
  s.status = status == RunStatus::running ? SourceStatus::running : SourceStatus::succeeded;
  r.sources = {s, s};
  r.sources[1].status = SourceStatus::succeeded;
  return r;
}

std::shared_ptr<ObjectStore> open(const etl::testing::TempDir& dir) {
  auto store = open_object_store(dir.url(), AwsConfig{});
  EXPECT_TRUE(store.ok());
  return std::shared_ptr<ObjectStore>(std::move(store).value());
}

// The raw store, with an outage switch: puts fail while `down`.
class SwitchableStore final : public etl::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::atomic<bool> down = false;
  Result<ObjectInfo> put(const std::string& key, std::string_view data) override {
    if (down) return make_error(Errc::unavailable, "store down");
    return inner_->put(key, data);
  }
  Result<ObjectInfo> put_if_absent(const std::string& key, std::string_view data) override {
    if (down) return make_error(Errc::unavailable, "store down");
    return inner_->put_if_absent(key, data);
  }
};

std::shared_ptr<ObjectStore> open(const etl::testing::TempDir& dir);

TEST(RunStore, AStateTheStoreMissedIsWrittenOnceItIsBack) {
  etl::testing::TempDir dir;
  auto store = std::make_shared<SwitchableStore>(open(dir));
  RunStore runs(store, /*keep_in_memory=*/1);
  ASSERT_TRUE(runs.add(run("r1", RunStatus::running)).ok());
  store->down = true;
  auto updated = runs.update("r1", [](RunRecord& r) { r.status = RunStatus::succeeded; });
  ASSERT_TRUE(updated.ok()) << "memory stays the truth for the API";
  EXPECT_EQ(runs.get("r1")->status, RunStatus::succeeded);
  EXPECT_FALSE(runs.flush().ok()) << "still down";

  store->down = false;
  ASSERT_TRUE(runs.add(run("r2", RunStatus::failed)).ok()) << "a later write flushes too; r1 is not trimmed meanwhile";
  RunStore reopened(open(dir));
  ASSERT_TRUE(reopened.load("2026-11-21T07:00:00Z").ok());
  EXPECT_EQ(reopened.get("r1")->status, RunStatus::succeeded) << "not 'interrupted by restart'";
  EXPECT_TRUE(runs.flush().ok());
}

// Text from outside (an error page's bytes, a query) that is not UTF-8 cannot stop a
// record from being written: nlohmann's dump() throws on it, which killed the run's
// thread and the process.
TEST(RunStore, ARecordWithBytesThatAreNotUtf8IsWritten) {
  etl::testing::TempDir dir;
  RunStore runs(open(dir));
  RunRecord r = run("r1", RunStatus::running);
  ASSERT_TRUE(runs.add(r).ok());
  auto updated = runs.update("r1", [](RunRecord& x) {
    x.status = RunStatus::failed;
    x.error = "Spotify said: caf\xe9 \xc3";
  });
  ASSERT_TRUE(updated.ok());
  ASSERT_TRUE(runs.flush().ok());
  RunStore reopened(open(dir));
  ASSERT_TRUE(reopened.load("2026-11-21T07:00:00Z").ok());
  ASSERT_TRUE(reopened.get("r1").ok());
  EXPECT_EQ(reopened.get("r1")->status, RunStatus::failed);
  EXPECT_EQ(reopened.get("r1")->error, "Spotify said: caf\xef\xbf\xbd \xef\xbf\xbd");
}

// The raw store with a gate: puts wait while it is closed.
class GatedStore final : public etl::testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<ObjectInfo> put(const std::string& key, std::string_view data) override {
    {
      std::unique_lock lock(mutex_);
      ++waiting_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
      --waiting_;
    }
    return inner_->put(key, data);
  }
  void close() {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_put() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(5), [&] { return waiting_ > 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int waiting_ = 0;
};

// The run's own status as the store holds it ("" when unreadable).
std::string stored_status(ObjectStore& store, const std::string& id) {
  auto text = store.get("runs/" + id + ".json", 1 << 20);
  if (!text) return "";
  return nlohmann::json::parse(*text, nullptr, false).value("status", "");
}

Result<RunRecord> stored(const etl::testing::TempDir& dir, const std::string& id) {
  RunStore reopened(open(dir));
  if (auto loaded = reopened.load("2026-11-21T07:00:00Z"); !loaded) return std::move(loaded).error();
  return reopened.get(id);
}

// A note (a run or a source started) returns while its write is still on the
// way, and a later update's write lands after it, never under it.
TEST(RunStore, ANoteDoesNotWaitForTheStoreAndALaterUpdateLandsAfterIt) {
  etl::testing::TempDir dir;
  auto store = std::make_shared<GatedStore>(open(dir));
  RunStore runs(store);
  ASSERT_TRUE(runs.add(run("r1", RunStatus::queued)).ok());
  store->close();
  const auto noted_at = std::chrono::steady_clock::now();
  auto noted = runs.note("r1", [](RunRecord& r) { r.status = RunStatus::running; });
  ASSERT_TRUE(noted.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - noted_at, std::chrono::seconds(1)) << "the note waited for the store";
  EXPECT_EQ(runs.get("r1")->status, RunStatus::running) << "memory has it at once";
  ASSERT_TRUE(store->wait_for_put()) << "the writer never wrote the note";
  std::thread finish([&] { (void)runs.update("r1", [](RunRecord& r) { r.status = RunStatus::succeeded; }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  store->open();
  finish.join();
  EXPECT_EQ(stored(dir, "r1")->status, RunStatus::succeeded) << "the note's write went under the update's";
  EXPECT_EQ(runs.note("nope", [](RunRecord&) {}).error().code, Errc::not_found);
}

// The down `store` keeps run `id` at `before` for a while; once it is back, the
// run store's writer alone brings it to `after` (within 10 s).
void expect_written_once_back(SwitchableStore& store, const std::string& id, const std::string& before,
                              const std::string& after) {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(stored_status(store, id), before) << "the store was down";
  store.down = false;
  EXPECT_TRUE(etl::testing::wait_until([&] { return stored_status(store, id) == after; }, std::chrono::seconds(10)))
      << stored_status(store, id);
}

// A noted state the store refused is written again by the writer on its own,
// once the store is back, with no other write to carry it.
TEST(RunStore, ANotedStateTheStoreRefusedIsWrittenOnceItIsBack) {
  etl::testing::TempDir dir;
  auto store = std::make_shared<SwitchableStore>(open(dir));
  RunStore runs(store);
  ASSERT_TRUE(runs.add(run("r1", RunStatus::queued)).ok());
  store->down = true;
  ASSERT_TRUE(runs.note("r1", [](RunRecord& r) { r.status = RunStatus::running; }).ok());
  expect_written_once_back(*store, "r1", "queued", "running");
}

// A run's final state the store refused is written by the writer on its own
// once the store is back, with no later run to carry it (the dashboard reads
// the records from the store).
TEST(RunStore, ARefusedUpdateIsWrittenOnceTheStoreIsBackWithNoOtherWrite) {
  etl::testing::TempDir dir;
  auto store = std::make_shared<SwitchableStore>(open(dir));
  RunStore runs(store);
  ASSERT_TRUE(runs.add(run("r1", RunStatus::queued)).ok());
  // A note written first: the writer is in its loop, waiting, when the update fails.
  ASSERT_TRUE(runs.note("r1", [](RunRecord& r) { r.status = RunStatus::running; }).ok());
  ASSERT_TRUE(etl::testing::wait_until([&] { return stored_status(*store, "r1") == "running"; }, std::chrono::seconds(10)));
  store->down = true;
  ASSERT_TRUE(runs.update("r1", [](RunRecord& r) { r.status = RunStatus::succeeded; }).ok());
  expect_written_once_back(*store, "r1", "running", "succeeded");
}

TEST(RunStore, RecordsAreWrittenThroughAndReloaded) {
  etl::testing::TempDir dir;
  {
    RunStore store(open(dir));
    ASSERT_TRUE(store.add(run("r1", RunStatus::queued)).ok());
    ASSERT_TRUE(store.update("r1", [](RunRecord& r) { r.status = RunStatus::succeeded; }).ok());
    ASSERT_TRUE(store.add(run("r2", RunStatus::failed)).ok());
  }
  RunStore reopened(open(dir));
  auto loaded = reopened.load("2026-11-21T07:00:00Z");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(*loaded, 2);
  auto r1 = reopened.get("r1");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->status, RunStatus::succeeded) << "the last update must be what was persisted";
}

TEST(RunStore, RunsInProgressAtACrashAreMarkedInterrupted) {
  etl::testing::TempDir dir;
  {
    RunStore store(open(dir));
    ASSERT_TRUE(store.add(run("r1", RunStatus::running)).ok());
  }
  RunStore reopened(open(dir));
  ASSERT_TRUE(reopened.load("2026-11-21T07:00:00Z").ok());
  auto r1 = reopened.get("r1");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->status, RunStatus::failed);
  EXPECT_EQ(r1->error, "interrupted by restart");
  EXPECT_EQ(r1->finished_at, "2026-11-21T07:00:00Z");
  EXPECT_EQ(r1->sources[0].status, SourceStatus::failed);
  EXPECT_EQ(r1->sources[0].error, "interrupted by restart");
  EXPECT_EQ(r1->sources[1].status, SourceStatus::succeeded) << "a source that landed stays succeeded";

  RunStore third(open(dir));
  ASSERT_TRUE(third.load("later").ok());
  EXPECT_EQ(third.get("r1")->finished_at, "2026-11-21T07:00:00Z") << "the correction itself must be persisted";
}

TEST(RunStore, UnreadableRecordsAreSkippedNotFatal) {
  etl::testing::TempDir dir;
  auto store = open(dir);
  ASSERT_TRUE(store->put("runs/broken.json", "{not json").ok());
  ASSERT_TRUE(store->put("runs/r1.json", to_json(run("r1", RunStatus::succeeded)).dump()).ok());
  RunStore runs(store);
  auto loaded = runs.load("now");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, 1);
}

TEST(RunStore, RecentIsNewestFirstAndOldRunsStayReachable) {
  etl::testing::TempDir dir;
  RunStore store(open(dir), /*keep_in_memory=*/2);
  for (const char* id : {"r1", "r2", "r3"}) ASSERT_TRUE(store.add(run(id, RunStatus::succeeded)).ok());
  auto recent = store.recent(10);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].run_id, "r3");
  EXPECT_EQ(recent[1].run_id, "r2");
  EXPECT_TRUE(store.get("r1").ok()) << "a run dropped from memory is read back from the store";
  EXPECT_EQ(store.get("r9").error().code, Errc::not_found);
  EXPECT_EQ(store.get("../x").error().code, Errc::not_found);
}

}  // namespace
}  // namespace etl::extractor
