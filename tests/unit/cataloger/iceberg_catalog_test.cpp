// The built-in catalog over Iceberg tables (ETL_TABLE_FORMAT=iceberg): crawls
// commit before the catalog moves, a maintenance crawl compacts, and every
// cataloger (also one that did not compact) stops naming the replaced files.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "cataloger_fixtures.h"
#include "compaction.h"
#include "forwarding_store.h"
#include "iceberg_tables.h"
#include "local_catalog.h"
#include "meeting.h"
#include "table_report.h"
#include "time_travel.h"

namespace etl::cataloger {
namespace {

namespace fs = std::filesystem;
using etl::testing::Meeting;
using testing::songs_select;
using testing::write_file;

class IcebergCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "transformed";
    fs::create_directories(root_);
    store_ = std::shared_ptr<ObjectStore>(open_object_store("file://" + root_.string(), AwsConfig{}).value());
  }

  std::shared_ptr<LocalCatalog> open_catalog(std::function<Status(const PublishedTable&)> publish = nullptr,
                                             std::chrono::milliseconds orphan_age = {},
                                             iceberg::IcebergTablesOptions options = {}) {
    options.files = root_;
    auto tables = std::shared_ptr<iceberg::IcebergTables>(iceberg::IcebergTables::open(store_, options, metrics_).value());
    auto compactor = std::shared_ptr<iceberg::Compactor>(iceberg::Compactor::open(store_, root_, {}).value());
    tables_ = tables;
    const std::string name = publish ? "glue" : "local";
    auto catalog = LocalCatalog::open(store_, DuckDbSchemaReader::open(root_).value(),
                                      {"spotify", "file://" + root_.string(), 100, nullptr, root_, tables, compactor, {},
                                       orphan_age, std::move(publish), name},
                                      metrics_);
    EXPECT_TRUE(catalog.ok()) << catalog.error().message;
    return std::shared_ptr<LocalCatalog>(std::move(catalog).value());
  }

  // A catalog without compaction or publishing whose crawls list through `listing`,
  // read schemas with `reader` (the usual one when null) and commit through
  // `commits`: test stores and readers that hold calls until others are in flight.
  std::shared_ptr<LocalCatalog> open_wrapped_catalog(std::shared_ptr<ObjectStore> listing,
                                                     std::shared_ptr<ObjectStore> commits,
                                                     std::unique_ptr<SchemaReader> reader = nullptr) {
    iceberg::IcebergTablesOptions options;
    options.files = root_;
    tables_ = std::shared_ptr<iceberg::IcebergTables>(iceberg::IcebergTables::open(std::move(commits), options, metrics_).value());
    if (!reader) reader = DuckDbSchemaReader::open(root_).value();
    auto catalog = LocalCatalog::open(std::move(listing), std::move(reader),
                                      {"spotify", "file://" + root_.string(), 100, nullptr, root_, tables_, nullptr, {},
                                       {}, nullptr, "local"},
                                      metrics_);
    EXPECT_TRUE(catalog.ok()) << catalog.error().message;
    return std::shared_ptr<LocalCatalog>(std::move(catalog).value());
  }

  static std::set<std::string> catalog_files(LocalCatalog& catalog, const std::string& dt) {
    std::set<std::string> out;
    const auto values1 = catalog.get_partitions("songs_data").value();
    for (const auto& p : values1)
      if (p.values == std::vector<std::string>{dt})
        for (const auto& f : p.files) out.insert(f.key);
    return out;
  }

  std::set<std::string> snapshot_files() {
    std::set<std::string> out;
    auto current = tables_->current("songs_data").value();
    if (!current) return out;
    const auto values2 = tables_->live_files(current->metadata).value();
    for (const auto& e : values2) out.insert(*tables_->key_of(e.file_path));
    return out;
  }

  std::int64_t rows_of(LocalCatalog& catalog) { return static_cast<std::int64_t>(song_ids(catalog).size()); }

  // The song ids the catalog's files hold, each as often as it is there.
  std::multiset<std::string> song_ids(LocalCatalog& catalog) {
    std::string paths;
    const auto partitions = catalog.get_partitions("songs_data").value();
    for (const auto& p : partitions)
      for (const auto& f : p.files) paths += (paths.empty() ? "" : ", ") + duck::quote_literal((root_ / f.key).string());
    auto db = duck::Database::open(":memory:").value();
    auto conn = db->connect().value();
    auto r = conn->query("SELECT song_id FROM read_parquet([" + paths + "], union_by_name = true)");
    EXPECT_TRUE(r.ok()) << r.error().message;
    std::multiset<std::string> out;
    for (idx_t i = 0; r.ok() && i < r->row_count(); ++i) out.insert(r->text(0, i).value_or(""));
    return out;
  }

  CrawlInfo crawl(LocalCatalog& catalog, const std::string& trigger = "api", std::vector<std::string> keys = {}) {
    CrawlRequest request;
    request.trigger = trigger;
    request.changed_keys = std::move(keys);
    auto info = catalog.crawl(request);
    EXPECT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->state, CrawlState::succeeded) << info->error;
    return *info;
  }

  etl::testing::TempDir dir_;
  fs::path root_;
  std::shared_ptr<ObjectStore> store_;
  std::shared_ptr<iceberg::IcebergTables> tables_;
  MetricsRegistry metrics_;
};

// Forwards to a store; a partition's listing waits (at most 5 s) until the
// listings of `tables` different tables are in flight at once.
class MeetingStore final : public etl::testing::ForwardingStore {
 public:
  MeetingStore(std::shared_ptr<ObjectStore> inner, std::size_t tables) : ForwardingStore(std::move(inner)), tables_(tables) {}
  bool met() const { return met_.load(); }
  Result<std::vector<ObjectInfo>> list(const std::string& p) override {
    if (p.find("/dt=") != std::string::npos) {
      const std::string table = p.substr(0, p.find('/'));
      std::unique_lock lock(mutex_);
      ++in_flight_[table];
      arrived_.notify_all();
      if (arrived_.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight_.size() >= tables_ || met_; }))
        met_ = true;
      if (--in_flight_[table] == 0) in_flight_.erase(table);
    }
    return inner_->list(p);
  }

 private:
  const std::size_t tables_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::map<std::string, int> in_flight_;  // table -> its listings waiting here
  std::atomic<bool> met_{false};
};

// Against S3 a table's crawl is a chain of round trips; the tables of one crawl
// run side by side, so the chains overlap instead of adding up. Each table's
// listing here waits until all three are in flight: crawled one after another,
// the first would wait the whole 5 s alone.
TEST_F(IcebergCatalogTest, TheTablesOfACrawlAreCrawledSideBySide) {
  std::vector<std::string> keys;
  for (const char* table : {"albums_data", "artists_data", "songs_data"}) {
    write_file(root_, table, "2026-02-01", "f0", "parquet", songs_select(5, 0));
    keys.push_back(std::string(table) + "/dt=2026-02-01/f0.parquet");
  }
  auto meeting = std::make_shared<MeetingStore>(store_, 3);
  auto catalog = open_wrapped_catalog(meeting, store_);
  const CrawlInfo info = crawl(*catalog, "events", keys);
  EXPECT_TRUE(meeting->met()) << "the three tables' listings were never in flight at once";
  EXPECT_EQ(info.files_inspected, 3);
  EXPECT_EQ(info.tables.size(), 3u);
  for (const char* table : {"albums_data", "artists_data", "songs_data"}) {
    auto current = tables_->current(table);
    ASSERT_TRUE(current.ok() && *current) << table;
    EXPECT_EQ((*current)->version, 1) << table << ": committed once";
    EXPECT_EQ(catalog->get_table(table).value().data_version, 1) << table;
  }
}

class MeetingReader final : public SchemaReader {
 public:
  MeetingReader(std::unique_ptr<SchemaReader> inner, Meeting& meeting) : inner_(std::move(inner)), meeting_(meeting) {}
  Result<FileSchema> read_schema(const std::string& key, const std::string& format) override {
    meeting_.arrive();
    return inner_->read_schema(key, format);
  }

 private:
  std::unique_ptr<SchemaReader> inner_;
  Meeting& meeting_;
};

// HEADs of data files (an Iceberg commit's check that the store holds the
// version the catalog saw) and PUTs of Avro files (a commit's manifests and
// manifest list) meet others of their kind.
class MeetingCallsStore final : public etl::testing::ForwardingStore {
 public:
  MeetingCallsStore(std::shared_ptr<ObjectStore> inner, Meeting* heads, Meeting* avro_puts)
      : ForwardingStore(std::move(inner)), heads_(heads), avro_puts_(avro_puts) {}
  Result<ObjectInfo> head(const std::string& key) override {
    if (heads_ && key.ends_with(".parquet")) heads_->arrive();
    return inner_->head(key);
  }
  Result<ObjectInfo> put(const std::string& key, std::string_view data) override {
    if (avro_puts_ && key.ends_with(".avro")) avro_puts_->arrive();
    return inner_->put(key, data);
  }

 private:
  Meeting* heads_;
  Meeting* avro_puts_;
};

// A crawl that finds many new files of one table (a catch-up after an outage, a
// backfill) reads their footers a few at once, for the schema and again for the
// Iceberg commit: against S3 each is a new connection, a HEAD and a GET, which
// add up file after file otherwise. Each read here waits until kFilesAtOnce are
// in flight; one after another, each would wait the whole 5 s alone.
TEST_F(IcebergCatalogTest, TheNewFilesOfATableAreReadAFewAtOnce) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < kFilesAtOnce; ++i) {
    write_file(root_, "songs_data", "2026-02-01", "f" + std::to_string(i), "parquet", songs_select(5, static_cast<int>(i) * 5));
    keys.push_back("songs_data/dt=2026-02-01/f" + std::to_string(i) + ".parquet");
  }
  Meeting schemas(kFilesAtOnce), heads(kFilesAtOnce);
  auto catalog = open_wrapped_catalog(store_, std::make_shared<MeetingCallsStore>(store_, &heads, nullptr),
                                      std::make_unique<MeetingReader>(DuckDbSchemaReader::open(root_).value(), schemas));
  const auto started = std::chrono::steady_clock::now();
  const CrawlInfo info = crawl(*catalog, "events", keys);
  EXPECT_TRUE(schemas.met()) << "the schema reads were never in flight at once";
  EXPECT_TRUE(heads.met()) << "the commit's reads of the new files were never in flight at once";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(info.files_inspected, static_cast<std::int64_t>(kFilesAtOnce));
  EXPECT_EQ(catalog_files(*catalog, "2026-02-01").size(), kFilesAtOnce);
  EXPECT_EQ(snapshot_files(), catalog_files(*catalog, "2026-02-01")) << "every file committed";
  EXPECT_EQ(rows_of(*catalog), static_cast<std::int64_t>(5 * kFilesAtOnce));
  EXPECT_EQ(tables_->current("songs_data").value()->version, 1) << "committed once";
}

// Only the metadata, written after them, makes a commit's manifests and manifest
// list reachable, so they are written side by side: one round trip, not two.
// Each PUT here waits until the other is in flight.
TEST_F(IcebergCatalogTest, ACommitWritesItsManifestAndManifestListSideBySide) {
  write_file(root_, "songs_data", "2026-02-01", "f0", "parquet", songs_select(5, 0));
  Meeting puts(2);
  auto catalog = open_wrapped_catalog(store_, std::make_shared<MeetingCallsStore>(store_, nullptr, &puts));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f0.parquet"});
  EXPECT_TRUE(puts.met()) << "the manifest and the manifest list were written one after the other";
  EXPECT_EQ(snapshot_files(), catalog_files(*catalog, "2026-02-01"));
  EXPECT_EQ(rows_of(*catalog), 5);
}

TEST_F(IcebergCatalogTest, ACrawlCommitsWhatTheCatalogNamesAndAMaintenanceCrawlCompactsIt) {
  for (int i = 0; i < 4; ++i) write_file(root_, "songs_data", "2026-02-01", "f" + std::to_string(i), "parquet", songs_select(5, i * 5));
  write_file(root_, "songs_data", "2026-02-02", "other", "parquet", songs_select(3, 100));
  auto catalog = open_catalog();
  crawl(*catalog);
  EXPECT_EQ(catalog_files(*catalog, "2026-02-01").size(), 4u);
  std::set<std::string> named;
  const auto values4 = catalog->get_partitions("songs_data").value();
  for (const auto& p : values4)
    for (const auto& f : p.files) named.insert(f.key);
  EXPECT_EQ(snapshot_files(), named) << "the snapshot holds exactly the files the catalog names";
  const auto before = rows_of(*catalog);
  EXPECT_EQ(before, 23);

  auto other = open_catalog();  // another cataloger, whose catalog still names the small files
  crawl(*catalog, "maintenance");
  auto compacted = catalog_files(*catalog, "2026-02-01");
  ASSERT_EQ(compacted.size(), 1u);
  EXPECT_NE(compacted.begin()->find("compacted-"), std::string::npos);
  EXPECT_EQ(rows_of(*catalog), before);
  EXPECT_EQ(snapshot_files().count(*compacted.begin()), 1u);
  EXPECT_EQ(snapshot_files().size(), 2u);

  // The other cataloger crawls another partition only: it still drops the retired
  // files and takes the compacted one (no duplicates, no gap).
  write_file(root_, "songs_data", "2026-02-03", "late", "parquet", songs_select(2, 200));
  crawl(*other, "events", {"songs_data/dt=2026-02-03/late.parquet"});
  EXPECT_EQ(catalog_files(*other, "2026-02-01"), compacted);
  EXPECT_EQ(rows_of(*other), before + 2);
  EXPECT_EQ(snapshot_files().size(), 3u);

  // And a full crawl of the first one does not bring the retired files back.
  crawl(*catalog);
  EXPECT_EQ(catalog_files(*catalog, "2026-02-01"), compacted);
  EXPECT_EQ(rows_of(*catalog), before + 2);

  // What /v1/tables reports: the live files, their records and bytes, and the compaction.
  auto current = tables_->current("songs_data").value();
  ASSERT_TRUE(current);
  auto report = iceberg::report_of(current->metadata, "x");
  std::int64_t bytes = 0;
  for (const auto& key : snapshot_files()) bytes += static_cast<std::int64_t>(fs::file_size(root_ / key));
  EXPECT_EQ(report.files, 3);
  EXPECT_EQ(report.records, before + 2);
  EXPECT_EQ(report.bytes, bytes) << "the running total follows adds and the compaction's removals";
  EXPECT_EQ(report.snapshot_count, 3);
  ASSERT_TRUE(report.last_compaction_ms);
  auto snapshots = iceberg::snapshots_of(current->metadata);
  ASSERT_EQ(snapshots.size(), 3u);
  EXPECT_EQ(snapshots[0].operation, "append");
  EXPECT_TRUE(snapshots[0].current);
  EXPECT_EQ(snapshots[1].operation, "replace");
  EXPECT_FALSE(snapshots[1].current);
  EXPECT_EQ(snapshots[1].timestamp_ms, *report.last_compaction_ms);
  EXPECT_EQ(snapshots[1].deleted_files, 4);
  EXPECT_EQ(snapshots[2].operation, "append");
  EXPECT_EQ(snapshots[0].parent_id, snapshots[1].snapshot_id);
  EXPECT_EQ(snapshots[2].total_records, before);
}

std::multiset<std::string> ids(int n, int offset) {
  std::multiset<std::string> out;
  for (int i = 0; i < n; ++i) out.insert("s" + std::to_string(offset + i));
  return out;
}

std::multiset<std::string> operator+(std::multiset<std::string> a, const std::multiset<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

// POST /v1/reprocess rewrites a batch's data files under their own names, also
// after a compaction packed them into another file: the rewritten rows replace
// the old ones inside the compacted file, whether the file they replace is still
// stored (retired) or was already swept; never both, never neither.
TEST_F(IcebergCatalogTest, AFileRewrittenAfterItWasCompactedReplacesItsRowsInTheCompactedFile) {
  for (int i = 0; i < 4; ++i) write_file(root_, "songs_data", "2026-02-01", "f" + std::to_string(i), "parquet", songs_select(5, i * 5));
  iceberg::IcebergTablesOptions options;
  options.snapshot_retention = std::chrono::milliseconds(0);  // sweeps as soon as a commit allows
  options.min_snapshots = 1;
  options.expire_batch = 1;
  auto catalog = open_catalog(nullptr, {}, options);
  crawl(*catalog);
  crawl(*catalog, "maintenance");
  ASSERT_EQ(catalog_files(*catalog, "2026-02-01").size(), 1u);
  ASSERT_EQ(song_ids(*catalog), ids(20, 0));
  ASSERT_TRUE(fs::exists(root_ / "songs_data/dt=2026-02-01/f1.parquet")) << "retired, still stored";

  // f1 rewritten while retired: its 5 rows give way to 7 new ones.
  write_file(root_, "songs_data", "2026-02-01", "f1", "parquet", songs_select(7, 500));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f1.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500) + ids(10, 10));
  EXPECT_EQ(catalog_files(*catalog, "2026-02-01").size(), 1u);
  EXPECT_EQ(snapshot_files(), catalog_files(*catalog, "2026-02-01"));
  auto current = tables_->current("songs_data").value();
  EXPECT_EQ(iceberg::report_of(current->metadata, "x").records, 22);
  crawl(*catalog);
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500) + ids(10, 10)) << "a second crawl changes nothing";

  // Commits in another partition sweep the retired files from the store; a
  // rewrite of f2 then comes back as a file the table never saw.
  write_file(root_, "songs_data", "2026-02-02", "g", "parquet", songs_select(1, 900));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-02/g.parquet"});
  write_file(root_, "songs_data", "2026-02-02", "h", "parquet", songs_select(1, 901));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-02/h.parquet"});
  ASSERT_FALSE(fs::exists(root_ / "songs_data/dt=2026-02-01/f2.parquet")) << "swept";
  write_file(root_, "songs_data", "2026-02-01", "f2", "parquet", songs_select(2, 700));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f2.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500) + ids(2, 700) + ids(5, 15) + ids(2, 900));

  // A sweep after a rewrite the crawl has not seen yet (a commit of another
  // partition) keeps the rewritten file for that crawl: f2, retired again by its
  // refold (due at the next commit), written again.
  ASSERT_TRUE(fs::exists(root_ / "songs_data/dt=2026-02-01/f2.parquet"));
  write_file(root_, "songs_data", "2026-02-01", "f2", "parquet", songs_select(3, 300));
  fs::last_write_time(root_ / "songs_data/dt=2026-02-01/f2.parquet",
                      fs::file_time_type::clock::now() + std::chrono::minutes(10));  // past the clock slack
  write_file(root_, "songs_data", "2026-02-02", "i", "parquet", songs_select(1, 902));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-02/i.parquet"});
  ASSERT_TRUE(fs::exists(root_ / "songs_data/dt=2026-02-01/f2.parquet")) << "not swept: written after its retirement";
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f2.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500) + ids(3, 300) + ids(5, 15) + ids(3, 900));

  // And the compacted file compacted again (with a new small file) still knows
  // where each of its rows came from.
  write_file(root_, "songs_data", "2026-02-01", "f4", "parquet", songs_select(1, 800));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f4.parquet"});
  crawl(*catalog, "maintenance");
  ASSERT_EQ(catalog_files(*catalog, "2026-02-01").size(), 1u);
  write_file(root_, "songs_data", "2026-02-01", "f3", "parquet", songs_select(1, 600));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f3.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500) + ids(3, 300) + ids(1, 600) + ids(1, 800) + ids(3, 900));
}

// With Iceberg tables a redo writes a newer generation of a file instead of
// writing over it (etl/lake.h "Generations"): the commit that adds it deletes the
// older one from the snapshot and retires it, so an older snapshot still reads
// exactly the bytes and rows its manifests describe (time travel, and any reader
// that trusts the manifests' sizes). After a compaction, a newer generation of an
// input replaces that input's rows inside the compacted file.
TEST_F(IcebergCatalogTest, ANewerGenerationOfAFileReplacesItWhileOlderSnapshotsKeepReadingTheOldOne) {
  write_file(root_, "songs_data", "2026-02-01", "f0", "parquet", songs_select(5, 0));
  write_file(root_, "songs_data", "2026-02-01", "f1", "parquet", songs_select(5, 5));
  auto catalog = open_catalog();
  crawl(*catalog);
  const std::int64_t before = tables_->current("songs_data").value()->metadata["current-snapshot-id"];
  const auto old_f1 = std::filesystem::file_size(root_ / "songs_data/dt=2026-02-01/f1.parquet");

  write_file(root_, "songs_data", "2026-02-01", "f1.r1795240800123", "parquet", songs_select(7, 500));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f1.r1795240800123.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500));
  const std::set<std::string> now{"songs_data/dt=2026-02-01/f0.parquet",
                                  "songs_data/dt=2026-02-01/f1.r1795240800123.parquet"};
  EXPECT_EQ(catalog_files(*catalog, "2026-02-01"), now);
  EXPECT_EQ(snapshot_files(), now);
  auto current = tables_->current("songs_data").value();
  EXPECT_EQ(iceberg::snapshots_of(current->metadata)[0].operation, "overwrite");
  EXPECT_EQ(iceberg::retired_files(current->metadata).count("songs_data/dt=2026-02-01/f1.parquet"), 1u)
      << "retired: stored until no kept snapshot names it";

  // The snapshot before the redo reads the old file, unchanged, as its manifest describes it.
  auto pinned = iceberg::pin_table(*tables_, "songs_data", AsOf{before, std::nullopt});
  ASSERT_TRUE(pinned.ok()) << pinned.error().message;
  EXPECT_EQ(std::set<std::string>(pinned->keys.begin(), pinned->keys.end()),
            (std::set<std::string>{"songs_data/dt=2026-02-01/f0.parquet", "songs_data/dt=2026-02-01/f1.parquet"}));
  EXPECT_EQ(std::filesystem::file_size(root_ / "songs_data/dt=2026-02-01/f1.parquet"), old_f1);

  crawl(*catalog);
  EXPECT_EQ(iceberg::snapshots_of(tables_->current("songs_data").value()->metadata).size(), 2u)
      << "a full crawl commits nothing more";
  // A newer generation again; then an older one written late (a replay) changes nothing.
  write_file(root_, "songs_data", "2026-02-01", "f1.r1795240800999", "parquet", songs_select(3, 300));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f1.r1795240800999.parquet"});
  write_file(root_, "songs_data", "2026-02-01", "f1.r1795240800500", "parquet", songs_select(9, 900));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f1.r1795240800500.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(3, 300));
  EXPECT_EQ(snapshot_files().size(), 2u);

  // Two generations before one crawl: the newest goes in; the other, never live, is
  // retired with the rest (also the late older one), so the sweep deletes them in time.
  write_file(root_, "songs_data", "2026-02-01", "f1.r1795240801100", "parquet", songs_select(4, 400));
  write_file(root_, "songs_data", "2026-02-01", "f1.r1795240801200", "parquet", songs_select(6, 600));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f1.r1795240801100.parquet",
                             "songs_data/dt=2026-02-01/f1.r1795240801200.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(6, 600));
  const auto retired = iceberg::retired_files(tables_->current("songs_data").value()->metadata);
  for (const char* stem : {"f1", "f1.r1795240800123", "f1.r1795240800999", "f1.r1795240800500", "f1.r1795240801100"})
    EXPECT_EQ(retired.count("songs_data/dt=2026-02-01/" + std::string(stem) + ".parquet"), 1u) << stem;
  EXPECT_EQ(retired.count("songs_data/dt=2026-02-01/f1.r1795240801200.parquet"), 0u);

  // Compacted, then a newer generation of an input: its rows replace the old ones there.
  crawl(*catalog, "maintenance");
  ASSERT_EQ(catalog_files(*catalog, "2026-02-01").size(), 1u);
  write_file(root_, "songs_data", "2026-02-01", "f0.r1795240801000", "parquet", songs_select(2, 700));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f0.r1795240801000.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(2, 700) + ids(6, 600));
  const auto compacted = catalog_files(*catalog, "2026-02-01");
  ASSERT_EQ(compacted.size(), 1u);
  EXPECT_TRUE(iceberg::is_compacted_key(*compacted.begin()));
  EXPECT_EQ(snapshot_files(), compacted);
  EXPECT_EQ(iceberg::snapshots_of(tables_->current("songs_data").value()->metadata)[0].operation, "replace");
  crawl(*catalog);
  EXPECT_EQ(song_ids(*catalog), ids(2, 700) + ids(6, 600)) << "a full crawl changes nothing";
}

// A crawl whose commit loses the race to another cataloger's compaction (it read
// the table before the replace landed) must leave a newer generation of a
// compacted-away input out: added beside the compacted file, which still holds the
// older generation's rows, they would be there twice. The catalog then crawls that
// key by itself about a second later, and the refold takes the new rows into the
// compacted file: no further event, and no wait for the next maintenance crawl.
TEST_F(IcebergCatalogTest, ANewerGenerationHeldBackByACompactionRaceIsFoldedInByACrawlOfItsOwn) {
  write_file(root_, "songs_data", "2026-02-01", "f0", "parquet", songs_select(5, 0));
  write_file(root_, "songs_data", "2026-02-01", "f1", "parquet", songs_select(5, 5));
  // The other cataloger: its own tables and compactor on the same store, and a
  // catalog that names f0 and f1 (it has not seen the newer generation).
  iceberg::IcebergTablesOptions other_options;
  other_options.files = root_;
  auto other = iceberg::IcebergTables::open(store_, other_options, metrics_).value();
  auto other_compactor = iceberg::Compactor::open(store_, root_, {}).value();
  TableState other_state;
  other_state.name = "songs_data";
  for (const char* stem : {"f0", "f1"}) {
    const std::string key = "songs_data/dt=2026-02-01/" + std::string(stem) + ".parquet";
    auto head = store_->head(key).value();
    other_state.partitions["2026-02-01"].files[key] = FileState{key, head.size, head.etag, "parquet", ""};
  }
  std::atomic<bool> armed{false};
  iceberg::IcebergTablesOptions options;
  options.after_step = [&](std::string_view step) -> Status {
    if (step != "manifests" || !armed.exchange(false)) return {};
    auto done = other_compactor->compact(*other, other_state);  // lands before this commit's swap
    if (!done) return std::move(done).error();
    if (done->written.size() != 1) return make_error(Errc::internal, "the other cataloger compacted " + std::to_string(done->written.size()) + " files: " + done->abandoned);
    return {};
  };
  auto catalog = open_catalog(nullptr, {}, options);
  crawl(*catalog);
  other_state.columns = catalog->get_table("songs_data").value().columns;
  catalog->start();

  const std::string newer = "songs_data/dt=2026-02-01/f1.r1795240800123.parquet";
  write_file(root_, "songs_data", "2026-02-01", "f1.r1795240800123", "parquet", songs_select(7, 500));
  armed = true;
  crawl(*catalog, "events", {newer});
  ASSERT_FALSE(armed) << "the other cataloger compacted during the commit";
  const auto raced = snapshot_files();
  ASSERT_EQ(raced.size(), 1u);
  ASSERT_TRUE(iceberg::is_compacted_key(*raced.begin())) << "f0 and the old f1, compacted; the newer f1 held back";
  auto held = [&] { return metrics_.gauge("spotify_etl_cataloger_iceberg_held_files", "").value(); };
  EXPECT_EQ(held(), 1);

  std::set<std::string> files = raced;
  etl::testing::wait_until([&] {
    files = snapshot_files();
    return files != raced && files == catalog_files(*catalog, "2026-02-01") && held() == 0;
  }, std::chrono::seconds(15), std::chrono::milliseconds(50));
  ASSERT_NE(files, raced) << "the held-back generation was never folded in";
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(iceberg::is_compacted_key(*files.begin()));
  EXPECT_EQ(catalog_files(*catalog, "2026-02-01"), files);
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500)) << "the new rows once, the old ones gone";
  EXPECT_EQ(held(), 0);
  EXPECT_GE(metrics_.counter("spotify_etl_cataloger_crawls_total", "", {{"trigger", "refold"}, {"state", "SUCCEEDED"}})
                .value(),
            1);
  catalog->stop();
}

// A refold that fails (here its commit stops after the manifests, as a crash or a
// store error would) holds the rewritten input back; a crawl of its own tries again
// a second later, without another event.
TEST_F(IcebergCatalogTest, AFailedRefoldIsTriedAgainByACrawlOfItsOwn) {
  write_file(root_, "songs_data", "2026-02-01", "f0", "parquet", songs_select(5, 0));
  write_file(root_, "songs_data", "2026-02-01", "f1", "parquet", songs_select(5, 5));
  std::atomic<int> failures{0};
  iceberg::IcebergTablesOptions options;
  options.after_step = [&](std::string_view step) -> Status {
    if (step != "manifests" || failures.load() == 0) return {};
    --failures;
    return make_error(Errc::unavailable, "the store went away");
  };
  auto catalog = open_catalog(nullptr, {}, options);
  crawl(*catalog);
  crawl(*catalog, "maintenance");
  const auto compacted = snapshot_files();
  ASSERT_EQ(compacted.size(), 1u);
  catalog->start();

  write_file(root_, "songs_data", "2026-02-01", "f1.r1795240800123", "parquet", songs_select(7, 500));
  failures = 1;
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f1.r1795240800123.parquet"});
  ASSERT_EQ(failures.load(), 0) << "the refold's commit failed";
  EXPECT_EQ(snapshot_files(), compacted);
  EXPECT_EQ(song_ids(*catalog), ids(10, 0)) << "held back: the old rows, not both";

  etl::testing::wait_until([&] {
    return snapshot_files() != compacted && snapshot_files() == catalog_files(*catalog, "2026-02-01");
  }, std::chrono::seconds(15), std::chrono::milliseconds(50));
  ASSERT_NE(snapshot_files(), compacted) << "the refold was never tried again";
  EXPECT_EQ(catalog_files(*catalog, "2026-02-01"), snapshot_files());
  EXPECT_EQ(song_ids(*catalog), ids(5, 0) + ids(7, 500));
  catalog->stop();
}

// A compacted file deleted by hand: its source list cannot be read, and the crawls
// go on (the table loses that file's rows, as it would any file gone from the store).
TEST_F(IcebergCatalogTest, AMissingCompactedFileDoesNotStopTheCrawls) {
  for (int i = 0; i < 2; ++i) write_file(root_, "songs_data", "2026-02-01", "f" + std::to_string(i), "parquet", songs_select(5, i * 5));
  auto catalog = open_catalog();
  crawl(*catalog);
  crawl(*catalog, "maintenance");
  const auto compacted = catalog_files(*catalog, "2026-02-01");
  ASSERT_EQ(compacted.size(), 1u);
  fs::remove(root_ / *compacted.begin());
  write_file(root_, "songs_data", "2026-02-01", "f2", "parquet", songs_select(3, 100));
  crawl(*catalog, "events", {"songs_data/dt=2026-02-01/f2.parquet"});
  EXPECT_EQ(song_ids(*catalog), ids(3, 100));
  EXPECT_EQ(snapshot_files(), catalog_files(*catalog, "2026-02-01"));
}

TEST_F(IcebergCatalogTest, ACrawlByEventLoadsTheTableMetadataOnceAndCommitsFromIt) {
  write_file(root_, "songs_data", "2026-02-01", "f0", "parquet", songs_select(5, 0));
  auto catalog = open_catalog();
  crawl(*catalog);
  // Loaded: fetched, or (this process committed it last) found still current.
  auto loads = [&] {
    return metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_total", "", {{"table", "songs_data"}}).value() +
           metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_saved_total", "", {{"table", "songs_data"}})
               .value();
  };
  for (int i = 1; i <= 3; ++i) {
    const std::string name = "f" + std::to_string(i);
    write_file(root_, "songs_data", "2026-02-01", name, "parquet", songs_select(5, i * 5));
    const double before = loads();
    crawl(*catalog, "events", {"songs_data/dt=2026-02-01/" + name + ".parquet"});
    EXPECT_EQ(loads() - before, 1) << "crawl " << i << ": the view's load is the commit's parent";
    EXPECT_EQ(snapshot_files().size(), static_cast<std::size_t>(i + 1));
  }
}

// A reader must never see a half-applied commit or compaction. File i holds 2^i
// rows, so the only right counts are 2^k - 1 (the first k files, each once): a
// duplicated or missing file gives any other number.
TEST(IcebergCatalogConcurrency, QueriesDuringCommitsAndCompactionsCountExactlyTheFilesOfSomeSnapshot) {
  testing::Stack stack({}, true);
  auto land = [&](int i) {
    const std::string dt = i % 2 ? "2026-03-01" : "2026-03-02";
    write_file(stack.root, "songs_data", dt, "f" + std::to_string(i), "parquet", songs_select(1 << i, 1000 * i));
    CrawlRequest request;
    request.trigger = "events";
    request.changed_keys = {"songs_data/dt=" + dt + "/f" + std::to_string(i) + ".parquet"};
    auto crawled = stack.catalog->crawl(request);
    ASSERT_TRUE(crawled.ok() && crawled->state == CrawlState::succeeded);
  };
  land(0);
  std::atomic<bool> done{false};
  std::atomic<int> queries{0};
  std::vector<long long> wrong;
  std::thread reader([&] {
    while (!done) {
      QueryRequest q;
      q.sql = "SELECT count(*) FROM songs_data";
      auto started = stack.queries->start(q);
      if (!started) continue;
      auto finished = stack.queries->wait(started->query_id, std::chrono::seconds(30));
      if (!finished || finished->state != QueryState::succeeded) continue;
      auto page = stack.queries->page(started->query_id, "");
      if (!page || page->rows.size() != 1) continue;
      const long long n = std::stoll(page->rows[0].substr(1));
      if (((n + 1) & n) != 0) wrong.push_back(n);
      ++queries;
    }
  });
  for (int i = 1; i <= 10; ++i) {
    land(i);
    if (i % 3 == 0) {
      CrawlRequest maintenance;
      maintenance.trigger = "maintenance";
      auto compacted = stack.catalog->crawl(maintenance);
      ASSERT_TRUE(compacted.ok() && compacted->state == CrawlState::succeeded);
    }
  }
  CrawlRequest maintenance;
  maintenance.trigger = "maintenance";
  ASSERT_TRUE(stack.catalog->crawl(maintenance).ok());
  done = true;
  reader.join();
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " queries counted rows of no snapshot, e.g. " << (wrong.empty() ? 0 : wrong[0]);
  EXPECT_GT(queries.load(), 0);
  const auto partitions = stack.catalog->get_partitions("songs_data").value();
  ASSERT_EQ(partitions.size(), 2u);
  for (const auto& p : partitions) EXPECT_EQ(p.files.size(), 1u) << "compacted to one file per partition";
  QueryRequest q;
  q.sql = "SELECT count(*) FROM songs_data";
  auto started = stack.queries->start(q).value();
  ASSERT_EQ(stack.queries->wait(started.query_id, std::chrono::seconds(30)).value().state, QueryState::succeeded);
  EXPECT_EQ(stack.queries->page(started.query_id, "").value().rows, (std::vector<std::string>{"[2047]"}));
}

// ETL_CATALOG=glue with ETL_TABLE_FORMAT=iceberg hangs the Glue registration on
// LocalCatalogOptions::publish: here a recording stand-in that can fail.
TEST_F(IcebergCatalogTest, EachCommitIsPublishedAndAFailedPublishIsRetriedByTheNextCrawl) {
  std::vector<std::pair<std::string, std::string>> published;  // table, metadata location
  std::mutex mutex;                                             // tables are published side by side
  bool outage = false;
  auto catalog = open_catalog([&](const PublishedTable& t) -> Status {
    if (outage) return Error{Errc::unavailable, "Glue is down"};
    EXPECT_EQ(t.metadata.value("location", ""), "file://" + (root_ / t.table).string()) << "the metadata's own JSON";
    std::lock_guard lock(mutex);
    published.emplace_back(t.table, t.metadata_location);
    return {};
  });
  EXPECT_EQ(catalog->name(), "glue");
  auto location = [&](const std::string& table, int version) {
    return "file://" + (root_ / table / "metadata" / ("v" + std::to_string(version) + ".metadata.json")).string();
  };
  write_file(root_, "songs_data", "2026-03-01", "a", "parquet", songs_select(3));
  write_file(root_, "songs_data", "2026-03-01", "b", "parquet", songs_select(3, 3));
  crawl(*catalog, "events", {"songs_data/dt=2026-03-01/a.parquet", "songs_data/dt=2026-03-01/b.parquet"});
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0], std::make_pair(std::string("songs_data"), location("songs_data", 1)));

  crawl(*catalog, "events", {"songs_data/dt=2026-03-01/a.parquet"});
  EXPECT_EQ(published.size(), 1u) << "no commit, nothing to publish";

  outage = true;
  write_file(root_, "songs_data", "2026-03-02", "c", "parquet", songs_select(2, 10));
  CrawlRequest request;
  request.changed_keys = {"songs_data/dt=2026-03-02/c.parquet"};
  auto failed = catalog->crawl(request);
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  EXPECT_EQ(failed->state, CrawlState::failed) << "the crawl says Glue was not told";
  EXPECT_NE(failed->error.find("songs_data: Glue is down"), std::string::npos) << failed->error;
  EXPECT_EQ(catalog_files(*catalog, "2026-03-02").size(), 1u) << "the catalog moved all the same";
  EXPECT_EQ(tables_->current("songs_data").value()->version, 2) << "and the commit landed";
  EXPECT_EQ(metrics_.gauge("spotify_etl_cataloger_tables_unpublished", "").value(), 1.0);

  // The next crawl, though it is about another table, publishes the one left behind.
  outage = false;
  write_file(root_, "albums_data", "2026-03-02", "d", "parquet", songs_select(1));
  crawl(*catalog, "events", {"albums_data/dt=2026-03-02/d.parquet"});
  std::set<std::pair<std::string, std::string>> now(published.begin() + 1, published.end());
  EXPECT_EQ(now, (std::set<std::pair<std::string, std::string>>{{"songs_data", location("songs_data", 2)},
                                                                 {"albums_data", location("albums_data", 1)}}));
  EXPECT_EQ(metrics_.gauge("spotify_etl_cataloger_tables_unpublished", "").value(), 0.0);

  // A compaction is a commit too.
  published.clear();
  crawl(*catalog, "maintenance");
  ASSERT_FALSE(published.empty());
  EXPECT_NE(std::find(published.begin(), published.end(), std::make_pair(std::string("songs_data"), location("songs_data", 3))),
            published.end())
      << "the replace snapshot's metadata (both small files of 2026-03-01 packed); the tables are published side by "
         "side, in no set order";

  // So is folding a rewritten input into its compacted file.
  published.clear();
  write_file(root_, "songs_data", "2026-03-01", "a", "parquet", songs_select(4, 50));
  crawl(*catalog, "events", {"songs_data/dt=2026-03-01/a.parquet"});
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published.back(), std::make_pair(std::string("songs_data"), location("songs_data", 4)));
}

// Against Glue a table's registration is a GetTable and an UpdateTable: the tables
// a crawl committed are published side by side. Each publication here waits
// until the three are in flight.
TEST_F(IcebergCatalogTest, TheTablesOfACrawlArePublishedSideBySide) {
  Meeting meeting(3);
  std::mutex mutex;
  std::set<std::string> published;
  auto catalog = open_catalog([&](const PublishedTable& t) -> Status {
    meeting.arrive();
    std::lock_guard lock(mutex);
    published.insert(t.table);
    return {};
  });
  std::vector<std::string> keys;
  for (const char* table : {"albums_data", "artists_data", "songs_data"}) {
    write_file(root_, table, "2026-02-01", "f0", "parquet", songs_select(5, 0));
    keys.push_back(std::string(table) + "/dt=2026-02-01/f0.parquet");
  }
  const auto started = std::chrono::steady_clock::now();
  crawl(*catalog, "events", keys);
  EXPECT_TRUE(meeting.met()) << "the three tables were published one after another";
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(published, (std::set<std::string>{"albums_data", "artists_data", "songs_data"}));
  EXPECT_EQ(metrics_.gauge("spotify_etl_cataloger_tables_unpublished", "").value(), 0.0);
}

// A publication that throws (a Glue answer of a shape nobody foresaw) on one of
// the threads the tables are published on fails the crawl with the reason, as it
// did when they were published one after another; the cataloger goes on.
TEST_F(IcebergCatalogTest, APublicationThatThrowsFailsTheCrawlNotTheProcess) {
  std::atomic<bool> odd{true};
  auto catalog = open_catalog([&](const PublishedTable& t) -> Status {
    if (odd && t.table == "artists_data") throw std::runtime_error("type must be string");
    return {};
  });
  std::vector<std::string> keys;
  for (const char* table : {"albums_data", "artists_data", "songs_data"}) {
    write_file(root_, table, "2026-02-01", "f0", "parquet", songs_select(5, 0));
    keys.push_back(std::string(table) + "/dt=2026-02-01/f0.parquet");
  }
  CrawlRequest request;
  request.trigger = "events";
  request.changed_keys = keys;
  auto failed = catalog->crawl(request);
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  EXPECT_EQ(failed->state, CrawlState::failed);
  EXPECT_NE(failed->error.find("type must be string"), std::string::npos) << failed->error;
  EXPECT_EQ(tables_->current("artists_data").value()->version, 1) << "the commit landed all the same";
  odd = false;
  crawl(*catalog);  // the next crawl goes on as usual
}

TEST_F(IcebergCatalogTest, AMaintenanceCrawlRemovesOrphanFilesOlderThanTheSafetyAge) {
  for (int i = 0; i < 2; ++i) write_file(root_, "songs_data", "2026-02-01", "f" + std::to_string(i), "parquet", songs_select(5, i * 5));
  auto catalog = open_catalog(nullptr, std::chrono::hours(1));
  crawl(*catalog);
  // A manifest of a commit cut short two hours ago, and one of a commit in flight now.
  const std::string old_orphan = "songs_data/metadata/11111111-1111-1111-1111-111111111111-m0.avro";
  const std::string young_orphan = "songs_data/metadata/22222222-2222-2222-2222-222222222222-m0.avro";
  ASSERT_TRUE(store_->put(old_orphan, "cut short").ok());
  ASSERT_TRUE(store_->put(young_orphan, "in flight").ok());
  fs::last_write_time(root_ / old_orphan, fs::file_time_type::clock::now() - std::chrono::hours(2));
  const auto rows = rows_of(*catalog);
  crawl(*catalog, "maintenance");
  EXPECT_FALSE(store_->head(old_orphan).ok());
  EXPECT_TRUE(store_->head(young_orphan).ok());
  EXPECT_EQ(rows_of(*catalog), rows);
  EXPECT_EQ(metrics_.counter("spotify_etl_cataloger_iceberg_orphan_files_removed_total", "",
                             {{"table", "songs_data"}}).value(), 1);
}

}  // namespace
}  // namespace etl::cataloger
