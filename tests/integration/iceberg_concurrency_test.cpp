// Iceberg tables under concurrent work (ETL_TABLE_FORMAT=iceberg, the DuckDB engine
// over the built-in catalog, file:// store): while one cataloger commits newly
// landed files and answers queries, a second cataloger on the same store compacts
// the same table. Every query must answer the exact rows of some committed state:
// file i holds 2^i rows with their own song ids, so a query's count names exactly
// which files it read. It must be a prefix of the landed files (no gap), with
// count(DISTINCT song_id) = count(*) (no file read twice, none half-read).
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "../unit/cataloger/cataloger_fixtures.h"
#include "backends.h"
#include "local_catalog.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using testing::songs_select;
using testing::write_file;

class IcebergConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "transformed";
    std::filesystem::create_directories(root_);
    store_ = std::shared_ptr<ObjectStore>(open_object_store("file://" + root_.string(), AwsConfig{}).value());
    config_.catalog = "local";
    config_.table_format = "iceberg";
    config_.query_engine = "duckdb";
    config_.transformed_url = "file://" + root_.string();
    config_.iceberg_maintenance_interval = 0s;  // the test asks for maintenance itself
    config_.iceberg_target_file_bytes = 64ull << 20;
  }
  void TearDown() override {
    if (engine_) engine_->stop_workers();
    for (auto& c : catalogs_) c->stop_workers();
  }

  std::shared_ptr<LocalCatalog> open_local() {
    BackendContext context{config_, store_, metrics_, std::nullopt, 2, {}};
    auto opened = open_catalog(context);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    auto local = std::dynamic_pointer_cast<LocalCatalog>(std::move(opened).value());
    EXPECT_TRUE(local);
    catalogs_.push_back(local);
    return local;
  }

  void open_engine(std::shared_ptr<Catalog> catalog) {
    BackendContext context{config_, store_, metrics_, std::nullopt, 2, {}};
    auto engine = open_query_engine(context, catalog);
    ASSERT_TRUE(engine.ok()) << engine.error().message;
    engine_ = std::move(engine).value();
    ASSERT_TRUE(engine_->start_workers().ok());
  }

  // count(*), count(DISTINCT song_id); nullopt before the table exists.
  std::optional<std::pair<long long, long long>> counts() {
    QueryRequest request;
    request.sql = "SELECT count(*), count(DISTINCT song_id) FROM songs_data";
    auto started = engine_->start(request);
    if (!started) return std::nullopt;
    auto done = engine_->wait(started->query_id, 30s);
    if (!done || done->state != QueryState::succeeded) return std::nullopt;
    auto page = engine_->page(done->query_id, "");
    if (!page || page->rows.size() != 1) return std::nullopt;
    auto row = nlohmann::json::parse(page->rows[0]);
    return std::pair{row[0].get<long long>(), row[1].get<long long>()};
  }

  static CrawlInfo crawl(LocalCatalog& catalog, const std::string& trigger, std::vector<std::string> keys = {}) {
    CrawlRequest request;
    request.trigger = trigger;
    request.changed_keys = std::move(keys);
    auto info = catalog.crawl(request);
    EXPECT_TRUE(info.ok()) << info.error().message;
    return info.ok() ? *info : CrawlInfo{};
  }

  etl::testing::TempDir dir_;
  std::filesystem::path root_;
  std::shared_ptr<ObjectStore> store_;
  Config config_;
  MetricsRegistry metrics_;
  std::vector<std::shared_ptr<LocalCatalog>> catalogs_;
  std::shared_ptr<QueryEngine> engine_;
};

// Queries read the files, or the tables' in-memory copies (ETL_QUERY_RESIDENT_BYTES),
// which take each commit and compaction in place.
class IcebergConcurrencyReads : public IcebergConcurrency, public ::testing::WithParamInterface<bool> {};

TEST_P(IcebergConcurrencyReads, QueriesDuringCommitsAndAnotherCatalogersCompactionSeeWholeStatesOnly) {
  constexpr int kFiles = 10;
  config_.query_resident_bytes = GetParam() ? 256ull << 20 : 0;
  auto serving = open_local();
  auto compacting = open_local();
  ASSERT_TRUE(serving && compacting);
  open_engine(serving);

  std::atomic<bool> done{false};
  std::atomic<int> compactions{0};
  // The other cataloger compacts whatever is committed, again and again.
  std::thread compactor([&] {
    while (!done) {
      CrawlInfo info = crawl(*compacting, "maintenance");
      if (info.state == CrawlState::succeeded) ++compactions;
      std::this_thread::sleep_for(5ms);
    }
  });
  std::vector<std::pair<long long, long long>> seen;
  std::thread reader([&] {
    while (!done) {
      if (auto c = counts()) seen.push_back(*c);
    }
  });
  for (int i = 0; i < kFiles; ++i) {
    // Two partitions, so compaction has small files to merge in each.
    const std::string dt = i % 2 == 0 ? "2026-03-01" : "2026-03-02";
    const std::string stem = "f" + std::to_string(i);
    write_file(root_, "songs_data", dt, stem, "parquet", songs_select(1 << i, 1 << i));
    CrawlInfo info = crawl(*serving, "events", {"songs_data/dt=" + dt + "/" + stem + ".parquet"});
    ASSERT_EQ(info.state, CrawlState::succeeded) << info.error;
    std::this_thread::sleep_for(20ms);
  }
  // The serving cataloger takes the last compaction in (its next crawl sees the
  // retired files), then the threads stop.
  std::this_thread::sleep_for(100ms);
  done = true;
  compactor.join();
  reader.join();
  ASSERT_EQ(crawl(*serving, "events", {"songs_data/dt=2026-03-01/f0.parquet"}).state, CrawlState::succeeded);

  const long long all = (1LL << kFiles) - 1;
  auto final_counts = counts();
  ASSERT_TRUE(final_counts);
  EXPECT_EQ(final_counts->first, all) << "every landed row, once";
  EXPECT_EQ(final_counts->second, all);

  ASSERT_FALSE(seen.empty());
  std::set<long long> states;
  for (const auto& [count, distinct] : seen) {
    EXPECT_EQ(count, distinct) << "a query read a file twice (an old file and its compacted copy)";
    EXPECT_EQ(count & (count + 1), 0) << count << " rows: not the files 0..k of some commit (a file was missing)";
    states.insert(count);
  }
  EXPECT_GT(compactions.load(), 0);
  EXPECT_GE(states.size(), 3u) << "the reader saw the table grow while the writers worked";
  // The compacting cataloger really compacted: some partition is down to one file.
  std::set<std::string> compacted;
  const auto partitions = serving->get_partitions("songs_data");
  ASSERT_TRUE(partitions.ok()) << partitions.error().message;
  for (const auto& p : *partitions)
    for (const auto& f : p.files)
      if (f.key.find("compacted-") != std::string::npos) compacted.insert(f.key);
  EXPECT_FALSE(compacted.empty()) << "no compacted file reached the serving catalog";
  if (GetParam()) {  // the copy took the last state in place (or was rebuilt to it)
    auto& engine = dynamic_cast<DuckDbEngine&>(dynamic_cast<QueryManager&>(*engine_).engine());
    ASSERT_TRUE(etl::testing::wait_until([&] {
      auto report = engine.resident_report();
      return report.count("songs_data") && report.at("songs_data").mode == "serving";
    }, 30s));
    EXPECT_EQ(counts(), (std::pair<long long, long long>{all, all}));
  }
}

INSTANTIATE_TEST_SUITE_P(Reads, IcebergConcurrencyReads, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "InMemoryCopies" : "Files"; });

}  // namespace
}  // namespace etl::cataloger
