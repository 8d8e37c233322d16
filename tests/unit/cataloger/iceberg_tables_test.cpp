// IcebergTables: commits of the catalog's Parquet files as Iceberg v2 snapshots,
// on a file:// store and on MinIO (when scripts/test-servers.sh runs): a file is
// committed at most once whatever crashes between the steps of a commit or
// concurrent committers do.
//
// Over 400 lines on purpose: every case runs on both stores (file:// and MinIO) through
// the one fixture defined here.
#include "iceberg_tables.h"

#include <gtest/gtest.h>

#include "compaction.h"

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "../shared/s3_test_env.h"
#include "etl/duck.h"
#include "forwarding_store.h"
#include "meeting.h"
#include "table_metadata.h"
#include "test_support.h"

namespace etl::cataloger::iceberg {
namespace {

namespace fs = std::filesystem;

class IcebergTablesTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    local_ = dir_.path() / ("local" + std::to_string(++setups_));  // a fresh folder per SetUp
    fs::create_directories(local_);
    if (GetParam() == "minio") {
      auto server = etl::testing::s3_test_server();
      if (!server) GTEST_SKIP() << "no MinIO (ETL_TEST_S3_*): run under scripts/test.sh";
      auto opened = open_object_store("s3://" + server->bucket + "/" + etl::testing::unique_s3_prefix("iceberg"), server->aws);
      ASSERT_TRUE(opened.ok()) << opened.error().message;
      store_ = std::move(opened).value();
    } else {
      auto opened = open_object_store("file://" + local_.string(), AwsConfig{});
      ASSERT_TRUE(opened.ok()) << opened.error().message;
      store_ = std::move(opened).value();
    }
    db_ = std::move(duck::Database::open(":memory:").value());
    conn_ = std::move(db_->connect().value());
  }

  std::unique_ptr<IcebergTables> tables(std::function<Status(std::string_view)> hook = {}, int max_manifests = 32,
                                        std::function<void(IcebergTablesOptions&)> tune = {}) {
    IcebergTablesOptions options;
    options.files = local_;
    options.after_step = std::move(hook);
    options.max_manifests = max_manifests;
    if (tune) tune(options);
    auto opened = IcebergTables::open(store_, std::move(options), metrics_);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return std::move(opened).value();
  }

  // A Parquet file of `rows` rows under songs/dt=<dt>/<stem>.parquet, with Iceberg field ids.
  FileState add_file(const std::string& dt, const std::string& stem, int rows, bool extra_column = false) {
    const std::string key = "songs/dt=" + dt + "/" + stem + ".parquet";
    fs::create_directories((local_ / key).parent_path());
    std::string select = "SELECT 's' || i AS song_id, i::BIGINT AS n, ['a', 'b'] AS tags";
    std::string ids = "{song_id: 1, n: 2, tags: {__duckdb_field_id: 3, element: 4}";
    if (extra_column) {
      select += ", i * 2 AS doubled";
      ids += ", doubled: 9";
    }
    Status s = conn_->execute("COPY (" + select + " FROM range(" + std::to_string(rows) + ") t(i)) TO " +
                              duck::quote_literal((local_ / key).string()) + " (FORMAT parquet, FIELD_IDS " + ids + "})");
    EXPECT_TRUE(s.ok()) << s.error().message;
    std::ifstream in(local_ / key, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (GetParam() == "minio") {
      EXPECT_TRUE(store_->put(key, bytes).ok());
    }
    return FileState{key, bytes.size(), "", "parquet", "s"};
  }

  static TableState state_of(const std::vector<FileState>& files, bool extra_column = false) {
    TableState t;
    t.name = "songs";
    t.columns = {{"song_id", "VARCHAR"}, {"n", "BIGINT"}, {"tags", "VARCHAR[]"}};
    if (extra_column) t.columns.push_back({"doubled", "BIGINT"});
    for (const auto& f : files) {
      auto dt = f.key.substr(f.key.find("dt=") + 3, 10);
      t.partitions[dt].files[f.key] = f;
    }
    t.data_version = static_cast<std::int64_t>(files.size());
    return t;
  }

  // The live files of the current snapshot: key -> record count (a key twice fails the test).
  std::map<std::string, std::int64_t> live(IcebergTables& t) {
    std::map<std::string, std::int64_t> out;
    auto current = t.current("songs");
    EXPECT_TRUE(current.ok()) << current.error().message;
    if (!current.ok() || !*current) return out;
    auto files = t.live_files((*current)->metadata);
    EXPECT_TRUE(files.ok()) << files.error().message;
    if (!files.ok()) return out;
    for (const auto& f : *files) {
      auto key = t.key_of(f.file_path);
      EXPECT_TRUE(key.has_value()) << f.file_path;
      EXPECT_FALSE(out.count(*key)) << *key << " is in the snapshot twice";
      out[*key] = f.record_count;
    }
    return out;
  }

  // Every snapshot of the current metadata points at a manifest list that exists.
  void expect_no_dangling_snapshot(IcebergTables& t) {
    auto current = t.current("songs");
    ASSERT_TRUE(current.ok() && *current);
    for (const auto& s : (*current)->metadata["snapshots"]) {
      auto key = t.key_of(s.value("manifest-list", ""));
      ASSERT_TRUE(key.has_value());
      EXPECT_TRUE(store_->head(*key).ok()) << "snapshot " << s.value("snapshot-id", std::int64_t{0}) << " names a missing manifest list";
    }
  }

  // The manifest cache's counters (every IcebergTables of the test shares metrics_).
  double cache_misses() {
    return metrics_.counter("spotify_etl_cataloger_iceberg_manifest_cache_misses_total", "").value();
  }
  double cache_hits() { return metrics_.counter("spotify_etl_cataloger_iceberg_manifest_cache_hits_total", "").value(); }

  etl::testing::TempDir dir_;
  int setups_ = 0;
  fs::path local_;
  std::shared_ptr<ObjectStore> store_;
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  MetricsRegistry metrics_;
};

TEST_P(IcebergTablesTest, FirstCommitCreatesAV2TableWithEveryFileOnce) {
  auto t = tables();
  std::vector<FileState> files = {add_file("2026-01-01", "a", 3), add_file("2026-01-01", "b", 4), add_file("2026-01-02", "c", 5)};
  auto r = t->commit(state_of(files));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->committed);
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->added_files, 3);
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{files[0].key, 3}, {files[1].key, 4}, {files[2].key, 5}}));
  auto current = t->current("songs");
  ASSERT_TRUE(current.ok() && *current);
  const auto& md = (*current)->metadata;
  EXPECT_TRUE(validate_metadata(md).ok());
  EXPECT_EQ(md["format-version"], 2);
  EXPECT_EQ(md["partition-specs"][0]["fields"][0]["transform"], "identity");
  EXPECT_EQ((*current_snapshot(md))["summary"]["total-records"], "12");
  EXPECT_EQ((*current_snapshot(md))["summary"]["operation"], "append");
}

// A commit takes the row count and field ids the crawl read of a file when the
// store still holds the version read (the HEAD's ETag), and opens the file only
// otherwise: the counts below are the crawl's where it takes them, the footer's
// where it reads.
TEST_P(IcebergTablesTest, ACommitTakesTheFactsTheCrawlReadOfTheVersionTheStoreHolds) {
  auto t = tables();
  FileState a = add_file("2026-01-01", "a", 3), b = add_file("2026-01-01", "b", 4);
  for (FileState* f : {&a, &b}) {
    auto head = store_->head(f->key);
    ASSERT_TRUE(head.ok()) << head.error().message;
    f->etag = head->etag;
  }
  FactsByKey read;
  read[a.key] = {a.etag, ParquetFacts{30, {{"song_id", 1}, {"n", 2}, {"tags", 3}, {"tags.element", 4}}}};
  read[b.key] = {"\"a version gone since\"", ParquetFacts{40, {{"song_id", 1}}}};
  auto r = t->commit(state_of({a, b}), nullptr, nullptr, {}, read);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{a.key, 30}, {b.key, 4}}));
}

// Once a commit has landed, the version hint and the deletes of what the new
// metadata no longer names (here the metadata file the log let go) are written
// side by side: each waits here until the other is in flight.
TEST_P(IcebergTablesTest, AfterTheSwapTheHintAndTheDeletesGoSideBySide) {
  class TidyStore final : public etl::testing::ForwardingStore {
   public:
    TidyStore(std::shared_ptr<ObjectStore> inner, etl::testing::Meeting& meeting)
        : ForwardingStore(std::move(inner)), meeting_(meeting) {}
    Result<ObjectInfo> put(const std::string& key, std::string_view data) override {
      if (armed && key.ends_with("version-hint.text")) meeting_.arrive();
      return inner_->put(key, data);
    }
    Status remove(const std::string& key) override {
      if (armed && key.ends_with(".metadata.json")) meeting_.arrive();
      return inner_->remove(key);
    }
    Status remove_all(const std::vector<std::string>& keys) override {
      if (armed && std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return k.ends_with(".metadata.json"); }))
        meeting_.arrive();
      return inner_->remove_all(keys);
    }
    std::atomic<bool> armed{false};

   private:
    etl::testing::Meeting& meeting_;
  };
  etl::testing::Meeting tidy(2);
  auto watched = std::make_shared<TidyStore>(store_, tidy);
  IcebergTablesOptions options;
  options.files = local_;
  options.metadata_log_max = 1;  // the third commit lets v1.metadata.json go
  auto t = std::move(IcebergTables::open(watched, options, metrics_).value());
  std::vector<FileState> files;
  for (const char* stem : {"a", "b"}) {
    files.push_back(add_file("2026-01-01", stem, 3));
    ASSERT_TRUE(t->commit(state_of(files)).ok());
  }
  watched->armed = true;
  files.push_back(add_file("2026-01-01", "c", 3));
  const auto started = std::chrono::steady_clock::now();
  auto r = t->commit(state_of(files));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 3);
  EXPECT_TRUE(tidy.met()) << "the hint and the delete went one after the other";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(store_->head("songs/metadata/v1.metadata.json").error().code, Errc::not_found);
  EXPECT_EQ(store_->get("songs/metadata/version-hint.text", 64).value(), "3");
  EXPECT_EQ(live(*t).size(), 3u);
}

TEST_P(IcebergTablesTest, RecommittingTheSameStateIsANoOp) {
  auto t = tables();
  auto state = state_of({add_file("2026-01-01", "a", 3)});
  ASSERT_TRUE(t->commit(state).ok());
  auto again = t->commit(state);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->committed);
  EXPECT_EQ((*t->current("songs"))->version, 1);
}

TEST_P(IcebergTablesTest, NewFilesAreAppendedAndFilesGoneFromTheStoreDeleted) {
  auto t = tables();
  auto a = add_file("2026-01-01", "a", 3), b = add_file("2026-01-02", "b", 4);
  auto first = t->commit(state_of({a}));
  ASSERT_TRUE(first.ok());
  auto second = t->commit(state_of({a, b}));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->added_files, 1);
  auto md = (*t->current("songs"))->metadata;
  EXPECT_EQ((*current_snapshot(md))["parent-snapshot-id"], first->snapshot_id);
  EXPECT_EQ(md["last-sequence-number"], 2);

  ASSERT_TRUE(store_->remove(a.key).ok());
  auto third = t->commit(state_of({b}));
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(third->deleted_files, 1);
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{b.key, 4}}));
  EXPECT_EQ((*current_snapshot((*t->current("songs"))->metadata))["summary"]["operation"], "delete");
}

TEST_P(IcebergTablesTest, AStaleViewNeverDeletesAFileTheStoreStillHolds) {
  auto writer = tables(), stale = tables();
  auto a = add_file("2026-01-01", "a", 3), b = add_file("2026-01-01", "b", 4);
  ASSERT_TRUE(writer->commit(state_of({a, b})).ok());
  auto r = stale->commit(state_of({a}));  // has not seen b yet
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->committed);
  EXPECT_EQ(live(*writer).size(), 2u);
}

// A crawl hands commit() the metadata its view was read from: no second load when
// it is still current, a retry on the newer one when another commit landed since.
TEST_P(IcebergTablesTest, ACommitFromKnownMetadataLoadsNothingAndRetriesWhenItIsStale) {
  auto t = tables(), other = tables();
  auto a = add_file("2026-01-01", "a", 3), b = add_file("2026-01-01", "b", 4), c = add_file("2026-01-02", "c", 5);
  ASSERT_TRUE(t->commit(state_of({a})).ok());
  auto reads = [&] { return metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_total", "", {{"table", "songs"}}).value(); };

  auto view = t->crawl_view("songs");
  ASSERT_TRUE(view.ok() && view->current) << "the view carries the metadata it read";
  double before = reads();
  auto fresh = t->commit(state_of({a, b}), nullptr, &view->current);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_TRUE(fresh->committed);
  EXPECT_EQ(fresh->attempts, 1);
  EXPECT_EQ(reads() - before, 0) << "the known metadata was current: nothing loaded again";

  auto stale = t->crawl_view("songs");
  ASSERT_TRUE(stale.ok() && stale->current);
  ASSERT_TRUE(other->commit(state_of({a, b, c})).ok());  // another cataloger lands c
  before = reads();
  auto retried = t->commit(state_of({a, b, c}), nullptr, &stale->current);
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  EXPECT_FALSE(retried->committed) << "the newer metadata already holds every file";
  EXPECT_EQ(reads() - before, 1);
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{a.key, 3}, {b.key, 4}, {c.key, 5}}));

  // Stale with a change of its own: the compare-and-swap fails, the retry lands it once.
  auto behind = t->crawl_view("songs");
  ASSERT_TRUE(behind.ok() && behind->current);
  auto d = add_file("2026-01-03", "d", 6), e = add_file("2026-01-03", "e", 7);
  ASSERT_TRUE(other->commit(state_of({a, b, c, d})).ok());
  auto landed = t->commit(state_of({a, b, c, d, e}), nullptr, &behind->current);
  ASSERT_TRUE(landed.ok()) << landed.error().message;
  EXPECT_TRUE(landed->committed);
  EXPECT_EQ(landed->attempts, 2);
  EXPECT_EQ(landed->added_files, 1);
  EXPECT_EQ(live(*t).size(), 5u);
  expect_no_dangling_snapshot(*t);
}

TEST_P(IcebergTablesTest, AFileMissingFromTheStoreIsNotCommitted) {
  auto t = tables();
  auto a = add_file("2026-01-01", "a", 3);
  FileState ghost{"songs/dt=2026-01-01/ghost.parquet", 100, "", "parquet", "s"};
  ASSERT_TRUE(t->commit(state_of({a, ghost})).ok());
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{a.key, 3}}));
}

TEST_P(IcebergTablesTest, ACrashAfterAnyStepOfACommitLosesAndDuplicatesNothing) {
  for (std::string crash_at : {"manifests", "metadata", "version-hint"}) {
    SCOPED_TRACE("crash after " + crash_at);
    SetUp();
    auto a = add_file("2026-01-01", "a", 3), b = add_file("2026-01-02", "b", 4);
    ASSERT_TRUE(tables()->commit(state_of({a})).ok());
    auto crashing = tables([&](std::string_view step) -> Status {
      if (step == crash_at) return make_error(Errc::unavailable, "crash");
      return {};
    });
    EXPECT_FALSE(crashing->commit(state_of({a, b})).ok());
    auto restarted = tables();  // a new process: reloads and commits again
    auto r = restarted->commit(state_of({a, b}));
    ASSERT_TRUE(r.ok()) << r.error().message;
    // A crash after the swap already committed: the retry finds nothing to do.
    EXPECT_EQ(r->committed, crash_at == "manifests");
    EXPECT_EQ(live(*restarted), (std::map<std::string, std::int64_t>{{a.key, 3}, {b.key, 4}}));
    expect_no_dangling_snapshot(*restarted);
    EXPECT_EQ((*restarted->current("songs"))->version, 2);
  }
}

TEST_P(IcebergTablesTest, ConcurrentCommittersBothLandAndNothingIsCommittedTwice) {
  constexpr int kRounds = 8;
  std::vector<FileState> mine[2];
  for (int w = 0; w < 2; ++w)
    for (int i = 0; i < kRounds; ++i)
      mine[w].push_back(add_file("2026-01-0" + std::to_string(1 + i % 3), "w" + std::to_string(w) + "-" + std::to_string(i), 2));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w)
    threads.emplace_back([&, w] {
      auto t = tables();  // its own committer, as another cataloger would be
      std::vector<FileState> files;
      for (int i = 0; i < kRounds; ++i) {
        files.push_back(mine[w][i]);
        if (!t->commit(state_of(files)).ok()) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto t = tables();
  auto files = live(*t);
  EXPECT_EQ(files.size(), 2u * kRounds);
  std::int64_t rows = 0;
  for (const auto& [key, n] : files) rows += n;
  EXPECT_EQ(rows, 2 * kRounds * 2);
  expect_no_dangling_snapshot(*t);
}

TEST_P(IcebergTablesTest, ANewColumnIsASchemaUpdateWithANewFieldIdAndOldIdsStay) {
  auto t = tables();
  auto a = add_file("2026-01-01", "a", 3);
  ASSERT_TRUE(t->commit(state_of({a})).ok());
  auto md1 = (*t->current("songs"))->metadata;
  std::map<std::string, int> ids1;
  for (const auto& f : (*current_schema(md1))["fields"]) ids1[f["name"]] = f["id"];
  EXPECT_EQ(ids1.at("song_id"), 1) << "ids come from the files";
  EXPECT_EQ(ids1.at("n"), 2);
  EXPECT_EQ(ids1.at("tags"), 3);
  EXPECT_TRUE(ids1.count("dt"));

  auto b = add_file("2026-01-02", "b", 2, true);
  auto r = t->commit(state_of({a, b}, true));
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto md2 = (*t->current("songs"))->metadata;
  EXPECT_EQ(md2["schemas"].size(), 2u);
  EXPECT_EQ(md2["current-schema-id"], 1);
  std::map<std::string, int> ids2;
  for (const auto& f : (*current_schema(md2))["fields"]) ids2[f["name"]] = f["id"];
  for (const auto& [name, id] : ids1) EXPECT_EQ(ids2.at(name), id) << name;
  EXPECT_EQ(ids2.at("doubled"), 9);
  EXPECT_GE(md2["last-column-id"].get<int>(), 9);
  EXPECT_NE(md2["properties"]["schema.name-mapping.default"].get<std::string>().find("doubled"), std::string::npos);
}

TEST_P(IcebergTablesTest, ManyCommitsMergeTheirManifests) {
  auto t = tables({}, 4);
  std::vector<FileState> files;
  for (int i = 0; i < 10; ++i) {
    files.push_back(add_file("2026-01-01", "f" + std::to_string(i), 1 + i));
    auto r = t->commit(state_of(files));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  auto md = (*t->current("songs"))->metadata;
  auto list_key = t->key_of((*current_snapshot(md))["manifest-list"].get<std::string>());
  auto manifests = read_manifest_list(store_->get(*list_key).value());
  ASSERT_TRUE(manifests.ok());
  EXPECT_LE(manifests->size(), 4u);
  EXPECT_EQ(live(*t).size(), 10u);
  EXPECT_EQ((*current_snapshot(md))["summary"]["total-records"], "55");
}

TEST_P(IcebergTablesTest, ExpiryDropsOldSnapshotsAndOnlyFilesNoKeptSnapshotNames) {
  auto t = tables({}, 3, [](IcebergTablesOptions& o) {
    o.min_snapshots = 2;
    o.max_snapshots = 4;
    o.expire_batch = 2;
    o.metadata_log_max = 3;
  });
  std::vector<FileState> files;
  int expired = 0;
  for (int i = 0; i < 12; ++i) {
    files.push_back(add_file("2026-01-0" + std::to_string(1 + i % 2), "f" + std::to_string(i), 1));
    auto r = t->commit(state_of(files));
    ASSERT_TRUE(r.ok()) << r.error().message;
    expired += r->expired_snapshots;
  }
  EXPECT_GT(expired, 0);
  auto md = (*t->current("songs"))->metadata;
  EXPECT_LE(md["snapshots"].size(), 5u);
  EXPECT_GE(md["snapshots"].size(), 2u);
  EXPECT_EQ(md["snapshot-log"].size(), md["snapshots"].size());
  expect_no_dangling_snapshot(*t);
  EXPECT_EQ(live(*t).size(), 12u) << "expiry never drops a live file";
  // Every manifest every kept snapshot names is still there; expired manifest lists are gone.
  std::size_t lists = 0;
  const auto values1 = store_->list("songs/metadata/").value();
  for (const auto& o : values1)
    if (o.key.find("/snap-") != std::string::npos) ++lists;
  EXPECT_EQ(lists, md["snapshots"].size());
  std::size_t metadata_files = 0;
  const auto metadata_objects = store_->list("songs/metadata/v").value();
  for (const auto& o : metadata_objects)
    if (o.key.ends_with(".metadata.json")) ++metadata_files;
  EXPECT_EQ(metadata_files, 4u) << "the current metadata file and the 3 its log names; older ones are deleted";
  EXPECT_EQ(md["metadata-log"].size(), 3u);
  for (const auto& s : md["snapshots"]) {
    auto list = read_manifest_list(store_->get(*t->key_of(s["manifest-list"].get<std::string>())).value());
    ASSERT_TRUE(list.ok());
    for (const auto& m : *list) EXPECT_TRUE(store_->head(*t->key_of(m.manifest_path)).ok()) << m.manifest_path;
  }
}

TEST(IcebergCompactionPlan, SmallLiveFilesArePackedPerPartitionUpToTheTarget) {
  TableState t;
  t.name = "songs";
  auto file = [&](const std::string& dt, const std::string& stem, std::uint64_t size) {
    const std::string key = "songs/dt=" + dt + "/" + stem + ".parquet";
    t.partitions[dt].files[key] = FileState{key, size, "", "parquet", "s"};
    return key;
  };
  std::set<std::string> live;
  for (auto k : {file("2026-01-01", "a", 30), file("2026-01-01", "b", 30), file("2026-01-01", "c", 30),
                 file("2026-01-01", "d", 30), file("2026-01-01", "big", 90), file("2026-01-02", "alone", 10),
                 file("2026-01-03", "x", 10)})
    live.insert(k);
  file("2026-01-03", "uncommitted", 10);  // not live: never compacted
  auto groups = plan_compaction(t, live, CompactionOptions{100});
  // d would be a group of its own (one file: left); 2026-01-02 and 2026-01-03 have one live small file each.
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].dt, "2026-01-01");
  EXPECT_EQ(groups[0].keys, (std::vector<std::string>{"songs/dt=2026-01-01/a.parquet", "songs/dt=2026-01-01/b.parquet",
                                                       "songs/dt=2026-01-01/c.parquet"}))
      << "packed up to the target (a fourth would pass it); files over 3/4 of the target are left";
  EXPECT_EQ(groups[0].bytes, 90u);
}

TEST_P(IcebergTablesTest, CompactionReplacesSmallFilesWithOneAndRetiredFilesNeverComeBack) {
  auto t = tables();
  std::vector<FileState> files;
  for (int i = 0; i < 4; ++i) files.push_back(add_file("2026-01-01", "small" + std::to_string(i), 10 + i));
  files.push_back(add_file("2026-01-02", "other", 7));
  ASSERT_TRUE(t->commit(state_of(files)).ok());
  auto compactor = Compactor::open(store_, local_, CompactionOptions{}).value();
  auto done = compactor->compact(*t, state_of(files));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->retired.size(), 4u);
  ASSERT_EQ(done->written.size(), 1u);
  const std::string compacted = done->written[0].second.key;

  auto after = live(*t);
  EXPECT_EQ(after, (std::map<std::string, std::int64_t>{{compacted, 46}, {files[4].key, 7}}));
  auto md = (*t->current("songs"))->metadata;
  EXPECT_EQ((*current_snapshot(md))["summary"]["operation"], "replace");
  EXPECT_EQ(t->crawl_view("songs").value().retired.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(store_->head(files[i].key).ok()) << "retired files stay for older snapshots";

  // A stale cataloger still naming the small files, plus the compacted one: nothing comes back.
  auto stale = files;
  stale.push_back(FileState{compacted, done->written[0].second.size, "", "parquet", "s"});
  auto again = t->commit(state_of(stale));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->committed);
  EXPECT_EQ(live(*t), after);

  // The compacted file holds the rows, with the table's field ids.
  ASSERT_TRUE(fs::exists(local_ / compacted) || GetParam() == "minio");
  if (GetParam() == "file") {
    auto ids = conn_->query("SELECT name, field_id FROM parquet_schema(" + duck::quote_literal((local_ / compacted).string()) +
                            ") WHERE name = 'song_id'");
    ASSERT_TRUE(ids.ok());
    EXPECT_EQ(ids->text(1, 0).value_or(""), "1");
  }
}

TEST(CompactedSources, RoundTripAndAnythingElseIsBadData) {
  const std::vector<CompactedSource> sources = {{"songs/dt=2026-01-01/a.parquet", "\"9b2c\"", 5},
                                                {"songs/dt=2026-01-01/b.parquet", "", 0}};
  auto back = decode_sources(encode_sources(sources));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, sources);
  EXPECT_TRUE(decode_sources("[]").ok());
  for (const char* bad : {"", "{}", "[1]", R"([{"key":"a","etag":"e"}])", R"([{"key":"a","etag":"e","records":-1}])",
                          R"([{"key":1,"etag":"e","records":1}])", R"([{"key":"a","etag":"e","records":1.5}])", "[{"}) {
    auto r = decode_sources(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Errc::bad_data) << bad;
  }
}

// A refold's consumed file (an input written again) must never be live: a commit
// that took it as a file of its own meanwhile makes the replace abandon.
TEST_P(IcebergTablesTest, AReplaceConsumingALiveFileIsAbandoned) {
  auto t = tables();
  std::vector<FileState> files = {add_file("2026-01-01", "a", 1), add_file("2026-01-01", "b", 2)};
  ASSERT_TRUE(t->commit(state_of(files)).ok());
  IcebergTables::Replace replace;
  replace.consumed = {files[0].key};
  auto r = t->commit(state_of({files[1]}), &replace);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->committed);
  EXPECT_NE(r->abandoned.find(files[0].key), std::string::npos) << r->abandoned;
  EXPECT_EQ(live(*t).size(), 2u);
}

// A commit after a compaction it did not see (its crawl read the table before the
// replace landed) must not add a newer generation of a compacted-away file beside
// the compacted file that still holds the older one's rows: the newer one waits
// for the refold of a later crawl. With the older one live it replaces it at once.
TEST_P(IcebergTablesTest, ANewerGenerationOfACompactedAwayFileWaitsForItsRefold) {
  auto t = tables();
  std::vector<FileState> files = {add_file("2026-01-01", "a", 3), add_file("2026-01-01", "b", 2)};
  ASSERT_TRUE(t->commit(state_of(files)).ok());
  auto compactor = Compactor::open(store_, local_, CompactionOptions{}).value();
  auto compacted = compactor->compact(*t, state_of(files));
  ASSERT_TRUE(compacted.ok() && compacted->written.size() == 1);
  const std::string c = compacted->written[0].second.key;
  const FileState newer = add_file("2026-01-01", "b.r1795240800123", 4);
  auto r = t->commit(state_of({files[0], newer}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{c, 5}}));

  const FileState other = add_file("2026-01-02", "d", 1);
  const FileState other_newer = add_file("2026-01-02", "d.r1795240800123", 2);
  const ObjectInfo& stored = compacted->written[0].second;
  const FileState kept{c, stored.size, stored.etag, "parquet", "s"};
  ASSERT_TRUE(t->commit(state_of({kept, other})).ok());
  auto replaced = t->commit(state_of({kept, other_newer}));
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_EQ(replaced->superseded_files, 1);
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{c, 5}, {other_newer.key, 2}}));
}

// A compacted file lists its sources in row order; compacting it again lists
// theirs, not itself. (a: s0..s2, b: s0..s1, c: s0..s3.)
TEST_P(IcebergTablesTest, ACompactedFileNamesItsSourcesInRowOrderAcrossRecompactions) {
  auto t = tables();
  std::vector<FileState> files = {add_file("2026-01-01", "a", 3), add_file("2026-01-01", "b", 2)};
  ASSERT_TRUE(t->commit(state_of(files)).ok());
  auto compactor = Compactor::open(store_, local_, CompactionOptions{}).value();
  auto first = compactor->compact(*t, state_of(files));
  ASSERT_TRUE(first.ok() && first->written.size() == 1);
  const ObjectInfo c1 = first->written[0].second;
  auto copy_local = [&](const std::string& key) {  // the compactor reads the folder; on MinIO the store holds the file
    if (GetParam() != "minio") return;
    auto bytes = store_->get(key, 1 << 20);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    fs::create_directories((local_ / key).parent_path());
    std::ofstream(local_ / key, std::ios::binary) << *bytes;
  };
  copy_local(c1.key);
  std::vector<FileState> now = {FileState{c1.key, c1.size, c1.etag, "parquet", "s"}, add_file("2026-01-01", "c", 4)};
  ASSERT_TRUE(t->commit(state_of(now)).ok());
  auto second = Compactor::open(store_, local_, CompactionOptions{}).value();  // nothing cached
  auto done = second->compact(*t, state_of(now));
  ASSERT_TRUE(done.ok() && done->written.size() == 1);
  const std::string c2 = done->written[0].second.key;
  copy_local(c2);
  auto kv = conn_->query("SELECT decode(value) FROM parquet_kv_metadata(" + duck::quote_literal((local_ / c2).string()) +
                         ") WHERE decode(key) = 'spotify-etl.sources'");
  ASSERT_TRUE(kv.ok() && kv->row_count() == 1);
  auto sources = decode_sources(kv->text(0, 0).value_or(""));
  ASSERT_TRUE(sources.ok()) << sources.error().message;
  // The inputs in key order ("c.parquet" sorts before "compacted-..."), the
  // compacted one's own sources in its place.
  EXPECT_EQ(*sources, (std::vector<CompactedSource>{{now[1].key, "", 4}, {files[0].key, "", 3}, {files[1].key, "", 2}}));
  auto rows = conn_->query("SELECT string_agg(song_id, ',') FROM read_parquet(" +
                           duck::quote_literal((local_ / c2).string()) + ")");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->text(0, 0).value_or(""), "s0,s1,s2,s3,s0,s1,s2,s0,s1") << "c's rows, a's, b's";
}

TEST_P(IcebergTablesTest, RetiredFilesAreDeletedOnceNoKeptSnapshotNamesThem) {
  auto t = tables({}, 32, [](IcebergTablesOptions& o) {
    o.min_snapshots = 1;
    o.max_snapshots = 1;
    o.expire_batch = 1;
  });
  std::vector<FileState> files = {add_file("2026-01-01", "a", 1), add_file("2026-01-01", "b", 2)};
  ASSERT_TRUE(t->commit(state_of(files)).ok());
  auto compactor = Compactor::open(store_, local_, CompactionOptions{}).value();
  auto done = compactor->compact(*t, state_of(files));
  ASSERT_TRUE(done.ok() && done->written.size() == 1) << (done.ok() ? done->abandoned : done.error().message);
  std::vector<FileState> now = {FileState{done->written[0].second.key, done->written[0].second.size, "", "parquet", "s"},
                                add_file("2026-01-02", "c", 3)};
  auto r = t->commit(state_of(now));  // a later commit: the replace's parent expires, the small files go
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->removed_retired_files, 2);
  EXPECT_FALSE(store_->head(files[0].key).ok());
  EXPECT_FALSE(store_->head(files[1].key).ok());
  EXPECT_TRUE(t->crawl_view("songs").value().retired.empty());
  EXPECT_EQ(live(*t).size(), 2u);
  expect_no_dangling_snapshot(*t);
}

TEST_P(IcebergTablesTest, TwoCompactionsOfTheSameFilesCommitOnceAndTheLoserCleansUp) {
  auto t = tables();
  std::vector<FileState> files = {add_file("2026-01-01", "a", 1), add_file("2026-01-01", "b", 2)};
  ASSERT_TRUE(t->commit(state_of(files)).ok());
  auto first = Compactor::open(store_, local_, CompactionOptions{}).value();
  auto second = Compactor::open(store_, local_, CompactionOptions{}).value();
  auto won = first->compact(*t, state_of(files));
  ASSERT_TRUE(won.ok() && won->written.size() == 1);
  auto lost = second->compact(*t, state_of(files));  // planned on the same (now stale) state
  ASSERT_TRUE(lost.ok()) << lost.error().message;
  EXPECT_TRUE(lost->written.empty());
  auto rows = live(*t);
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.begin()->second, 3);
  std::size_t compacted_files = 0;
  const auto values2 = store_->list("songs/dt=2026-01-01/").value();
  for (const auto& o : values2)
    if (o.key.find("compacted-") != std::string::npos) ++compacted_files;
  EXPECT_EQ(compacted_files, 1u) << "the loser removed its output";
}

std::set<std::string> keys_under(ObjectStore& store, const std::string& prefix) {
  std::set<std::string> out;
  const auto listed = store.list(prefix).value();  // a named value: GCC 12 warns on a temporary's range
  for (const auto& o : listed) out.insert(o.key);
  return out;
}

TEST_P(IcebergTablesTest, OrphanRemovalDeletesOldFilesNoMetadataNamesAndNothingElse) {
  auto a = add_file("2026-01-01", "a", 3), b = add_file("2026-01-02", "b", 4), c = add_file("2026-01-02", "c", 5);
  ASSERT_TRUE(tables()->commit(state_of({a})).ok());
  const auto committed = keys_under(*store_, "songs/");
  // Two commits cut short (a crash after the manifests and their list, before the
  // metadata): their files are orphans.
  for (int commit = 0; commit < 2; ++commit) {
    auto crashing = tables([](std::string_view step) -> Status {
      return step == "manifests" ? make_error(Errc::unavailable, "crash") : Status{};
    });
    ASSERT_FALSE(crashing->commit(state_of({a, b})).ok());
  }
  std::set<std::string> orphans;
  for (const auto& key : keys_under(*store_, "songs/metadata/"))
    if (!committed.count(key)) orphans.insert(key);
  ASSERT_EQ(orphans.size(), 4u) << "two manifests and two manifest lists";
  auto t = tables();
  ASSERT_TRUE(t->commit(state_of({a, b})).ok());
  // A compaction output whose replace never landed, and a transformer file not yet committed (c).
  const std::string lost = "songs/dt=2026-01-02/compacted-00000000deadbeef.parquet";
  ASSERT_TRUE(store_->put(lost, "never committed").ok());
  orphans.insert(lost);
  const auto before = keys_under(*store_, "songs/");

  auto young = t->remove_orphans("songs", std::chrono::system_clock::now() - std::chrono::hours(1));
  ASSERT_TRUE(young.ok()) << young.error().message;
  EXPECT_EQ(young->metadata_files + young->data_files, 0) << "younger than the safety age: kept";
  EXPECT_EQ(keys_under(*store_, "songs/"), before);

  auto removed = t->remove_orphans("songs", std::chrono::system_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(removed->metadata_files, 4);
  EXPECT_EQ(removed->data_files, 1);
  EXPECT_GT(removed->bytes, 0u);
  std::set<std::string> gone;
  const auto after = keys_under(*store_, "songs/");
  for (const auto& key : before)
    if (!after.count(key)) gone.insert(key);
  EXPECT_EQ(gone, orphans);
  EXPECT_TRUE(after.count(c.key)) << "a file the crawl has still to commit is not an orphan";
  EXPECT_EQ(live(*t), (std::map<std::string, std::int64_t>{{a.key, 3}, {b.key, 4}}));
  expect_no_dangling_snapshot(*t);
  auto md = (*t->current("songs"))->metadata;
  for (const auto& s : md["snapshots"]) {
    const auto list = read_manifest_list(store_->get(*t->key_of(s["manifest-list"].get<std::string>())).value()).value();
    for (const auto& m : list) EXPECT_TRUE(store_->head(*t->key_of(m.manifest_path)).ok()) << m.manifest_path;
  }
  for (const auto& entry : md["metadata-log"])
    EXPECT_TRUE(store_->head(*t->key_of(entry["metadata-file"].get<std::string>())).ok());
  auto next = t->commit(state_of({a, b, c}));
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(live(*t).size(), 3u);
  auto again = t->remove_orphans("songs", std::chrono::system_clock::now() + std::chrono::minutes(1));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->metadata_files + again->data_files, 0) << "a table without orphans loses nothing";
}

TEST_P(IcebergTablesTest, OrphanRemovalDeletesNothingWhenAKeptSnapshotCannotBeRead) {
  auto a = add_file("2026-01-01", "a", 3), b = add_file("2026-01-02", "b", 4);
  auto t = tables();
  ASSERT_TRUE(t->commit(state_of({a})).ok());
  ASSERT_TRUE(t->commit(state_of({a, b})).ok());
  auto md = (*t->current("songs"))->metadata;
  ASSERT_EQ(md["snapshots"].size(), 2u);
  ASSERT_TRUE(store_->remove(*t->key_of(md["snapshots"][0]["manifest-list"].get<std::string>())).ok());
  const std::string stray = "songs/metadata/00000000-0000-0000-0000-000000000000-m0.avro";
  ASSERT_TRUE(store_->put(stray, "stray").ok());
  // Another process (nothing in its manifest cache): `t` read that list at its second commit.
  t = tables();
  auto removed = t->remove_orphans("songs", std::chrono::system_clock::now() + std::chrono::minutes(1));
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.error().message.find("orphan removal of songs stopped"), std::string::npos) << removed.error().message;
  EXPECT_TRUE(store_->head(stray).ok()) << "what the unreadable snapshot names is unknown: nothing goes";
  EXPECT_EQ(live(*t).size(), 2u);
}

// The metadata a writer committed itself is reused while it stays current (two
// HEADs instead of the hint, the probe and the fetch), and read again as soon as
// another writer commits after it or its file is not the one it wrote.
TEST_P(IcebergTablesTest, AWriterReusesItsOwnMetadataOnlyWhileItIsCurrent) {
  auto mine = tables();
  auto other = tables();
  auto reads = [&] { return metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_total", "", {{"table", "songs"}}).value(); };
  auto saved = [&] {
    return metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_saved_total", "", {{"table", "songs"}}).value();
  };
  std::vector<FileState> files{add_file("2026-01-01", "f0", 1)};
  ASSERT_TRUE(mine->commit(state_of(files)).ok());
  double r = reads(), k = saved();
  auto current = mine->current("songs");
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->version, 1);
  EXPECT_EQ(reads() - r, 0) << "its own commit, still current: not fetched";
  EXPECT_EQ(saved() - k, 1);

  files.push_back(add_file("2026-01-01", "f1", 2));
  auto theirs = other->commit(state_of(files));  // v2, by another writer
  ASSERT_TRUE(theirs.ok() && theirs->committed) << (theirs.ok() ? "" : theirs.error().message);
  r = reads();
  current = mine->current("songs");
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->version, 2) << "a newer version by another writer is read";
  EXPECT_EQ(reads() - r, 1);
  EXPECT_EQ(live(*mine).size(), 2u);

  files.push_back(add_file("2026-01-02", "f2", 3));
  auto again = mine->commit(state_of(files));  // v3, mine again
  ASSERT_TRUE(again.ok() && again->committed) << (again.ok() ? "" : again.error().message);
  // v3 written again with other bytes (a restore by hand): not the file it wrote.
  auto v3 = store_->get("songs/metadata/v3.metadata.json");
  ASSERT_TRUE(v3.ok());
  auto doc = nlohmann::json::parse(*v3);
  doc["properties"]["restored-by"] = "hand";
  ASSERT_TRUE(store_->put("songs/metadata/v3.metadata.json", doc.dump()).ok());
  r = reads();
  current = mine->current("songs");
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->metadata["properties"].value("restored-by", ""), "hand");
  EXPECT_EQ(reads() - r, 1);
}

// Commits read the current snapshot's manifests through the manifest cache, which
// also keeps what each commit wrote (parsed from the bytes it stored): a writer
// fetches no manifest it wrote or read before, and what it commits is what a
// process without the cache commits.
TEST_P(IcebergTablesTest, CommitsFetchEachManifestOnceAndCommitWhatAnUncachedWriterWould) {
  auto cached = tables();
  std::vector<FileState> files;
  for (int i = 0; i < 6; ++i) {
    files.push_back(add_file("2026-01-0" + std::to_string(1 + i % 3), "f" + std::to_string(i), 1 + i));
    const double before = cache_misses();
    auto r = cached->commit(state_of(files));
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_TRUE(r->committed);
    // The last snapshot's list and its new manifest are this writer's own.
    EXPECT_EQ(cache_misses() - before, 0) << "commit " << i;
  }
  EXPECT_GT(cache_hits(), 0);

  // The same table read by a writer with no cache: the same live files and counts.
  auto uncached = tables({}, 32, [](IcebergTablesOptions& o) { o.manifest_cache_bytes = 0; });
  const double hits_before = cache_hits();
  const auto read_uncached = live(*uncached);
  const auto read_again = live(*uncached);
  EXPECT_EQ(cache_hits(), hits_before) << "a 0-byte cache keeps nothing";
  EXPECT_EQ(read_uncached, read_again);
  EXPECT_EQ(read_uncached, live(*cached));
  EXPECT_EQ(read_uncached.size(), 6u);
  // Its commits and ours interleave: each picks up what the other wrote.
  files.push_back(add_file("2026-01-04", "g", 7));
  ASSERT_TRUE(uncached->commit(state_of(files)).ok());
  files.push_back(add_file("2026-01-05", "h", 8));
  ASSERT_TRUE(cached->commit(state_of(files)).ok());
  EXPECT_EQ(live(*cached), live(*uncached));
  EXPECT_EQ(live(*cached).size(), 8u);
  expect_no_dangling_snapshot(*cached);
}

// Expiry reads every kept snapshot's list: through the cache, only once each.
TEST_P(IcebergTablesTest, ExpiryReadsEachKeptListOnce) {
  auto t = tables({}, 32, [](IcebergTablesOptions& o) {
    o.min_snapshots = 2;
    o.max_snapshots = 4;
    o.expire_batch = 2;
  });
  std::vector<FileState> files;
  double last = 0;
  for (int i = 0; i < 12; ++i) {
    files.push_back(add_file("2026-01-01", "f" + std::to_string(i), 1));
    const double before = cache_misses();
    auto r = t->commit(state_of(files));
    ASSERT_TRUE(r.ok()) << r.error().message;
    last = cache_misses() - before;
    // At most: the last snapshot's list and manifest, and the new snapshot's list
    // (read once by expiry); kept lists were read before.
    EXPECT_LE(last, 3) << "commit " << i;
  }
  EXPECT_LE(static_cast<int>((*t->current("songs"))->metadata["snapshots"].size()), 4);
  EXPECT_EQ(live(*t).size(), 12u);
  expect_no_dangling_snapshot(*t);
}

INSTANTIATE_TEST_SUITE_P(Stores, IcebergTablesTest, ::testing::Values("file", "minio"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace etl::cataloger::iceberg
