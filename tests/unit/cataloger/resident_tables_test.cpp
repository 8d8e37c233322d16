// Tables kept in the engine's memory (resident_tables.h): a query answers what
// the files hold, at every step of the copy's life (warming, serving, taking a
// new catalog version, a schema change, eviction), and never a mix of versions.
#include "resident_tables.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cataloger_fixtures.h"

namespace etl::cataloger {
namespace {

using namespace std::chrono_literals;
using testing::Stack;
using testing::songs_select;
using testing::write_file;

struct ResidentFixture : ::testing::Test {
  Stack s;
  std::unique_ptr<DuckDbEngine> engine;
  std::unique_ptr<SqlSession> session;

  void open(std::uint64_t budget, std::function<void(const std::string&)> before_copy_load = nullptr) {
    DuckDbEngineOptions options{s.root, "spotify", 2, "", {}, 0};
    options.resident_bytes = budget;
    options.before_copy_load = std::move(before_copy_load);
    engine = DuckDbEngine::open(options).value();
    ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
    session = engine->session().value();
  }
  void SetUp() override {
    write_file(s.root, "songs_data", "2026-10-31", "run1", "parquet", songs_select(4));
    write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(6, 4));
    write_file(s.root, "artists_data", "2026-10-31", "run1", "parquet", testing::artists_select());
    s.crawl();
  }
  std::string one(const std::string& sql) {
    auto r = session->execute(sql, 64u << 20, true, Dialect::duckdb);
    if (!r) return "error: " + r.error().message;
    return r->rows.empty() ? "" : r->rows.at(0);
  }
  // Waits until every table the report names is in `mode` with all its files.
  bool settle(const std::string& mode = "serving") {
    for (auto until = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < until;) {
      auto report = engine->resident_report();
      bool all = !report.empty();
      for (const auto& [name, t] : report) all &= t.mode == mode && (mode != "serving" || t.files == t.wanted);
      if (all) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  std::string plan(const std::string& sql) {
    auto r = session->execute("EXPLAIN " + sql, 64u << 20, true, Dialect::duckdb);
    return r ? r->csv : r.error().message;
  }
  void sync() {
    s.crawl();
    ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  }
};

TEST_F(ResidentFixture, TablesAreReadFromTheirFilesUntilTheCopyIsCompleteThenFromTheCopy) {
  open(64u << 20);
  ASSERT_TRUE(settle()) << "the copies were not built";
  EXPECT_EQ(one("SELECT count(*), count(DISTINCT song_id), sum(popularity) FROM songs_data"), "[10,10,521]");
  EXPECT_EQ(one("SELECT count(*) FROM spotify.songs_data WHERE dt = '2026-11-01'"), "[6]");
  EXPECT_EQ(one("SELECT typeof(dt), typeof(artist_ids) FROM songs_data LIMIT 1"), R"(["VARCHAR","VARCHAR[]"])");
  EXPECT_EQ(plan("SELECT count(*) FROM songs_data").find("READ_PARQUET"), std::string::npos)
      << "the view still reads the files: " << plan("SELECT count(*) FROM songs_data");
  auto columns = session->execute("SELECT * FROM songs_data LIMIT 1", 1u << 20, false, Dialect::duckdb);
  ASSERT_TRUE(columns.ok());
  for (const auto& c : columns->columns) EXPECT_NE(c.name, kResidentFileColumn) << "the file numbers are hidden";
  EXPECT_GT(engine->resident_bytes(), 0u);
  for (const char* sql : {"SELECT count(*) FROM resident.songs_data", "SELECT count(*) FROM resident.main.songs_data"})
    EXPECT_FALSE(engine->check(sql).ok()) << "the copies are not queried by name: " << sql;
}

TEST_F(ResidentFixture, ANewVersionIsTakenInPlaceAddedRewrittenAndRemovedFiles) {
  open(64u << 20);
  ASSERT_TRUE(settle());
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(5, 100));
  sync();
  EXPECT_EQ(one("SELECT count(*), count(DISTINCT song_id) FROM songs_data"), "[15,15]") << "a new file: at once";
  EXPECT_EQ(engine->resident_report().at("songs_data").mode, "serving") << "taken in place, not rebuilt";

  std::this_thread::sleep_for(20ms);  // a new modification time: a new ETag for the local store
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(2, 500));
  sync();
  EXPECT_EQ(one("SELECT count(*), count(DISTINCT song_id), min(song_id) FILTER (WHERE dt = '2026-11-01') FROM songs_data"),
            R"([11,11,"s500"])")
      << "a file rewritten in place: its old rows out, its new rows in";

  std::filesystem::remove(s.root / "songs_data" / "dt=2026-10-31" / "run1.parquet");
  sync();
  EXPECT_EQ(one("SELECT count(*), min(dt) FROM songs_data"), R"([7,"2026-11-01"])") << "a removed file's rows go";
  EXPECT_EQ(engine->resident_report().at("songs_data").mode, "serving");
  EXPECT_EQ(engine->resident_report().at("songs_data").files, 2u);
}

// A view sync whose catalog changed several tables loads their copies' new
// versions side by side: against S3 each load is a new connection, a HEAD and a
// GET per file, and one after another they add up while new sessions wait. Each
// load here waits (at most 5 s) until the other one has begun.
TEST_F(ResidentFixture, TheCopiesOfSeveralTablesTakeTheirNewVersionsSideBySide) {
  std::mutex mutex;
  std::condition_variable arrived;
  std::set<std::string> loading;
  bool met = false;
  open(64u << 20, [&](const std::string& table) {
    std::unique_lock lock(mutex);
    loading.insert(table);
    arrived.notify_all();
    if (arrived.wait_for(lock, 5s, [&] { return loading.size() >= 2 || met; })) met = true;
  });
  ASSERT_TRUE(settle());
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(5, 100));
  write_file(s.root, "artists_data", "2026-11-02", "run1", "parquet",
             "SELECT * REPLACE ('a900' AS artist_id) FROM (" + testing::artists_select() + ")");
  const auto started = std::chrono::steady_clock::now();
  sync();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(met) << "the two tables' copies were loaded one after the other";
    EXPECT_EQ(loading, (std::set<std::string>{"artists_data", "songs_data"}));
  }
  EXPECT_EQ(one("SELECT count(*), count(DISTINCT song_id) FROM songs_data"), "[15,15]");
  EXPECT_EQ(one("SELECT count(*), count(*) FILTER (WHERE artist_id = 'a900') FROM artists_data"), "[6,3]");
  for (const auto& [table, files] : std::map<std::string, std::size_t>{{"songs_data", 3}, {"artists_data", 2}}) {
    EXPECT_EQ(engine->resident_report().at(table).mode, "serving") << table << ": taken in place, not rebuilt";
    EXPECT_EQ(engine->resident_report().at(table).files, files) << table;
  }
  EXPECT_EQ(plan("SELECT count(*) FROM artists_data").find("READ_PARQUET"), std::string::npos);
}

TEST_F(ResidentFixture, ANewColumnSendsTheViewToTheFilesUntilTheCopyHasIt) {
  open(64u << 20);
  ASSERT_TRUE(settle());
  write_file(s.root, "songs_data", "2026-11-03", "run1", "parquet",
             "SELECT *, 'pop' AS genre FROM (" + songs_select(3, 200) + ")");
  sync();
  EXPECT_EQ(one("SELECT count(*), count(genre) FROM songs_data"), "[13,3]") << "answered from the files meanwhile";
  ASSERT_TRUE(settle()) << "the copy was not rebuilt with the new column";
  EXPECT_EQ(one("SELECT count(*), count(genre), any_value(genre) FROM songs_data"), R"([13,3,"pop"])");
}

TEST_F(ResidentFixture, ATableOverTheBudgetIsReadFromItsFiles) {
  open(1);
  ASSERT_TRUE(settle("evicted"));
  EXPECT_EQ(engine->resident_bytes(), 0u) << "estimated from the files' bytes before anything is loaded";
  EXPECT_EQ(one("SELECT count(*), count(DISTINCT song_id) FROM songs_data"), "[10,10]");
  EXPECT_NE(plan("SELECT count(*) FROM songs_data").find("READ_PARQUET"), std::string::npos);
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(5, 100));
  sync();
  EXPECT_EQ(one("SELECT count(*) FROM songs_data"), "[15]");
}

TEST_F(ResidentFixture, WithoutABudgetNothingIsCopied) {
  open(0);
  EXPECT_TRUE(engine->resident_report().empty());
  EXPECT_EQ(one("SELECT count(*) FROM songs_data"), "[10]");
  EXPECT_NE(plan("SELECT count(*) FROM songs_data").find("READ_PARQUET"), std::string::npos);
}

// Readers count the table while its files change and the copy is built, takes
// versions in place, and is rebuilt: every answer is that of one catalog version
// current at some moment of the query (a rewrite in place must never show its
// file's old rows gone and the new ones not yet there, or both).
TEST_F(ResidentFixture, EveryQueryReadsOneVersionWhileTheCopyChanges) {
  open(64u << 20);
  std::vector<std::string> history = {"[10,10]"};  // (rows, distinct song ids) of each catalog version in turn
  std::atomic<int> synced{0};                      // the newest version synced
  std::mutex history_mutex;
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::vector<std::string> wrong;
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back([&] {
      auto own = engine->session().value();
      while (!stop) {
        const int first = synced.load();
        auto result = own->execute("SELECT count(*), count(DISTINCT song_id) FROM songs_data", 1u << 20, false, Dialect::duckdb);
        const int last = synced.load() + 1;  // the next may be visible before sync_views returns
        std::string got = result ? result->rows.at(0) : "error: " + result.error().message;
        ++reads;
        std::lock_guard lock(history_mutex);
        bool seen = false;
        for (int k = first; k <= last && k < static_cast<int>(history.size()); ++k) seen |= history[k] == got;
        if (!seen) wrong.push_back(got + " between versions " + std::to_string(first) + " and " + std::to_string(last));
      }
    });
  for (int i = 0; i < 16; ++i) {
    // Day 0 has 5 rows, then 5 + the last odd step's number; the other days 5 each.
    const int last_rewrite = i % 2 ? i : i - 1;
    const int rows = (last_rewrite > 0 ? 5 + last_rewrite : 5) + 5 * (i / 2);
    {
      // The next version's count is known before it can be seen: before its file is
      // written, since a rewrite in place is read through the current view at once.
      std::lock_guard lock(history_mutex);
      history.push_back("[" + std::to_string(10 + rows) + "," + std::to_string(10 + rows) + "]");
    }
    // Even steps add a day; odd ones rewrite the first added day in place with more rows.
    if (i % 2 == 0) {
      write_file(s.root, "songs_data", "2026-12-1" + std::to_string(i / 2), "run1",
                 "parquet", songs_select(5, 1000 + 10 * i));
    } else {
      std::this_thread::sleep_for(20ms);  // a new modification time: a new ETag
      write_file(s.root, "songs_data", "2026-12-10", "run1", "parquet", songs_select(5 + i, 5000 + 100 * i));
    }
    s.crawl();
    if (!engine->sync_views(*s.catalog).ok()) {  // no ASSERT while the readers run
      ADD_FAILURE() << "a view sync failed";
      break;
    }
    synced = static_cast<int>(history.size()) - 1;
    if (i % 4 == 3) std::this_thread::sleep_for(200ms);  // let the warmer finish: the copy serves
  }
  const bool settled = settle();
  std::this_thread::sleep_for(200ms);
  stop = true;
  for (auto& t : readers) t.join();  // before any assertion can return
  ASSERT_TRUE(settled) << "the copy never served the last version";
  EXPECT_GT(reads.load(), 20);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " reads saw no catalog version of their time, e.g. " << wrong.front();
  EXPECT_EQ(one("SELECT count(*), count(DISTINCT song_id) FROM songs_data"), history.back());
  EXPECT_EQ(plan("SELECT count(*) FROM songs_data").find("READ_PARQUET"), std::string::npos);
}

}  // namespace
}  // namespace etl::cataloger
