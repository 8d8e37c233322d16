#include "duckdb_engine.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "cataloger_fixtures.h"

namespace etl::cataloger {
namespace {

using testing::Stack;
using testing::songs_select;
using testing::write_file;

struct EngineFixture : ::testing::Test {
  Stack s;
  std::unique_ptr<DuckDbEngine> engine;
  std::unique_ptr<SqlSession> session;

  void SetUp() override {
    write_file(s.root, "songs_data", "2026-10-31", "run1", "parquet", songs_select(4));
    write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(6, 4));
    write_file(s.root, "artists_data", "2026-10-31", "run1", "parquet", testing::artists_select());
    write_file(s.root, "artists_data", "2026-11-01", "run1", "parquet", testing::artists_select());
    s.crawl();
    engine = DuckDbEngine::open({s.root, "spotify", 2, "", {}, 0}).value();
    ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
    session = engine->session().value();
  }
  Result<ResultSet> run(const std::string& sql) { return session->execute(sql, 64u << 20, true, Dialect::duckdb); }
};

TEST_F(EngineFixture, ReadingFilesOutsideTheStoreFailsAtTheEngineEvenWithoutTheGuard) {
  auto r = run("SELECT * FROM read_csv('/etc/passwd')");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/etc/passwd"), std::string::npos) << r.error().message;
  EXPECT_FALSE(run("SELECT * FROM '/etc/passwd'").ok());
  EXPECT_FALSE(run("SELECT * FROM read_text('/etc/hostname')").ok());
  EXPECT_FALSE(run("SELECT * FROM glob('/etc/*')").ok() && !run("SELECT * FROM glob('/etc/*')")->rows.empty());
}

TEST_F(EngineFixture, SettingsWritesAndExtensionsAreRefusedAtTheEngine) {
  for (const std::string& sql : std::vector<std::string>{"SET enable_external_access = true", "SET allowed_directories = ['/']", "RESET lock_configuration",
        "COPY (SELECT 1) TO '" + (s.root / "x.csv").string() + "'",
        "EXPLAIN ANALYZE COPY (SELECT 1) TO '" + (s.root / "y.csv").string() + "'", "ATTACH '/tmp/x.db' AS x",
        "INSTALL httpfs", "LOAD httpfs", "CREATE TABLE t AS SELECT 1", "DROP VIEW songs_data",
        "SELECT 1; SELECT 2", "PRAGMA enable_profiling", "CALL pragma_version()"}) {
    auto r = run(sql);
    EXPECT_FALSE(r.ok()) << "the engine ran: " << sql;
  }
  EXPECT_FALSE(std::filesystem::exists(s.root / "x.csv"));
  EXPECT_FALSE(std::filesystem::exists(s.root / "y.csv"));
  EXPECT_TRUE(run("SELECT count(*) FROM songs_data").ok()) << "views still read the store after all that";
}

TEST_F(EngineFixture, PostgresDialectTruncatesIntegerDivisionAndStaysLocked) {
  const std::string sql = "SELECT 7 / 2 AS a, -7 / 2 AS b, 7.0 / 2 AS c, count(*) / 4 AS d FROM songs_data";
  auto postgres = session->execute(sql, 64u << 20, true, Dialect::postgres);
  ASSERT_TRUE(postgres.ok()) << postgres.error().message;
  ASSERT_EQ(postgres->rows.size(), 1u);
  EXPECT_EQ(postgres->rows[0], "[3,-3,3.5,2]");  // 10 songs: 10 / 4 is 2
  auto duckdb = run(sql);
  ASSERT_TRUE(duckdb.ok()) << duckdb.error().message;
  EXPECT_EQ(duckdb->rows[0], "[3.5,-3.5,3.5,2.5]") << "the same session keeps DuckDB's rules for DuckDB's dialect";
  // Its connection is locked like the others.
  for (const char* set : {"SET integer_division = false", "SET enable_external_access = true", "RESET lock_configuration"})
    EXPECT_FALSE(session->execute(set, 1 << 20, false, Dialect::postgres).ok()) << set;
  EXPECT_EQ(session->execute(sql, 64u << 20, true, Dialect::postgres)->rows[0], "[3,-3,3.5,2]");
}

TEST_F(EngineFixture, PostgresDialectSortsNullsAsPostgresqlDoes) {
  // PostgreSQL's NULL is larger than any value; DuckDB's sorts last both ways.
  const std::string sql =
      "SELECT list(x ORDER BY x DESC), list(x ORDER BY x), list(x ORDER BY x DESC NULLS LAST) "
      "FROM (VALUES (1), (NULL), (2)) t(x)";
  auto postgres = session->execute(sql, 64u << 20, true, Dialect::postgres);
  ASSERT_TRUE(postgres.ok()) << postgres.error().message;
  EXPECT_EQ(postgres->rows.at(0), "[[null,2,1],[1,2,null],[2,1,null]]");
  auto duckdb = run(sql);
  ASSERT_TRUE(duckdb.ok()) << duckdb.error().message;
  EXPECT_EQ(duckdb->rows.at(0), "[[2,1,null],[1,2,null],[2,1,null]]") << "DuckDB's dialect keeps DuckDB's order";
  auto ordered = session->execute("SELECT x FROM (VALUES (1), (NULL), (2)) t(x) ORDER BY x DESC LIMIT 1", 1 << 20,
                                  true, Dialect::postgres);
  ASSERT_TRUE(ordered.ok()) << ordered.error().message;
  EXPECT_EQ(ordered->rows.at(0), "[null]");
  EXPECT_FALSE(session->execute("SET default_null_order = 'nulls_last'", 1 << 20, false, Dialect::postgres).ok());
}

TEST(EngineDialects, PostgresConnectionsAreBoundedAndGivenBack) {
  testing::Stack s;
  testing::write_file(s.root, "songs_data", "2026-10-31", "run1", "parquet", testing::songs_select(4));
  s.crawl();
  DuckDbEngineOptions options{s.root, "spotify", 1, "", {}, 0};
  options.postgres_connections = 1;
  auto engine = DuckDbEngine::open(options).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  auto first = engine->session().value();
  auto second = engine->session().value();
  EXPECT_TRUE(second->execute("SELECT 1 / 2", 1 << 20, false, Dialect::duckdb).ok()) << "DuckDB's need none";
  ASSERT_EQ(first->execute("SELECT 5 / 2", 1 << 20, false, Dialect::postgres)->rows[0], "[2]");
  auto busy = second->execute("SELECT 5 / 2", 1 << 20, false, Dialect::postgres);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, Errc::unavailable);
  EXPECT_EQ(first->execute("SELECT 9 / 2", 1 << 20, false, Dialect::postgres)->rows[0], "[4]") << "kept by its session";
  first.reset();  // gives it back
  EXPECT_EQ(second->execute("SELECT 5 / 2", 1 << 20, false, Dialect::postgres)->rows[0], "[2]");
}

TEST_F(EngineFixture, ViewsReadTheStoreWithDtAsVarcharAndTheSchemaAlias) {
  auto r = run("SELECT count(*), typeof(any_value(dt)) FROM songs_data WHERE dt >= '2026-11-01'");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rows.at(0), R"([6,"VARCHAR"])");
  auto alias = run("SELECT count(*) FROM spotify.songs_data");
  ASSERT_TRUE(alias.ok()) << alias.error().message;
  EXPECT_EQ(alias->rows.at(0), "[10]");
}

TEST_F(EngineFixture, TopArtistsJoinAnswers) {
  auto r = run(
      "SELECT a.artist_name, count(*) AS songs FROM songs_data s JOIN artists_data a "
      "ON a.artist_id = s.artist_id AND a.dt = s.dt WHERE s.dt >= '2026-11-01' "
      "GROUP BY a.artist_name ORDER BY songs DESC, a.artist_name LIMIT 10");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->rows[0], R"(["Artist 0",2])");
  EXPECT_EQ(r->columns.at(1).type, "BIGINT");
}

TEST_F(EngineFixture, PartitionFilterPrunesFilesItDoesNotNeed) {
  auto r = run("EXPLAIN ANALYZE SELECT count(*) FROM songs_data WHERE dt >= '2026-11-01'");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_NE(r->csv.find("Scanning Files: 1/2"), std::string::npos) << r->csv;
}

TEST_F(EngineFixture, ShowTablesDescribeAndExplainWork) {
  auto tables = run("SHOW TABLES");
  ASSERT_TRUE(tables.ok()) << tables.error().message;
  EXPECT_EQ(tables->rows.size(), 2u);
  auto describe = run("DESCRIBE songs_data");
  ASSERT_TRUE(describe.ok());
  EXPECT_NE(describe->csv.find("dt,VARCHAR"), std::string::npos) << describe->csv;
  EXPECT_TRUE(run("EXPLAIN SELECT * FROM songs_data").ok());
}

TEST_F(EngineFixture, ViewsFollowTheCatalogWhenNewDataIsCrawled) {
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(5, 100));
  EXPECT_EQ(run("SELECT count(*) FROM songs_data")->rows.at(0), "[10]") << "not crawled yet: not visible";
  s.crawl();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  EXPECT_EQ(run("SELECT count(*) FROM songs_data")->rows.at(0), "[15]");
}

// The catalog of the fixture, whose list_tables() waits until released: a view
// sync that reads it holds the engine's lock as long as a slow one would.
class HeldCatalog final : public Catalog {
 public:
  explicit HeldCatalog(Catalog& real) : real_(real) {}
  std::string name() const override { return real_.name(); }
  std::string database() const override { return real_.database(); }
  Result<std::vector<TableInfo>> list_tables() override {
    std::unique_lock lock(mutex_);
    reading_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    return real_.list_tables();
  }
  Result<TableInfo> get_table(const std::string& name) override { return real_.get_table(name); }
  Result<std::vector<PartitionInfo>> get_partitions(const std::string& table) override {
    return real_.get_partitions(table);
  }
  Result<CrawlInfo> start_crawl(const CrawlRequest& request) override { return real_.start_crawl(request); }
  Result<CrawlInfo> get_crawl(const std::string& id) override { return real_.get_crawl(id); }
  Result<CrawlInfo> wait_crawl(const std::string& id, std::chrono::milliseconds wait) override {
    return real_.wait_crawl(id, wait);
  }
  std::uint64_t generation() const override { return real_.generation() + 1000; }  // never the synced one
  Status ping() override { return real_.ping(); }

  void wait_until_reading() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return reading_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  Catalog& real_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool reading_ = false, released_ = false;
};

// A view sync may hold the engine for long (a slow catalog, a table copy's load
// step): a new session and a ping do not wait for it. The query engine process
// answers both within 10 s or is killed as stuck (EngineProcessOptions).
TEST_F(EngineFixture, ANewSessionAndAPingDoNotWaitForAViewSync) {
  HeldCatalog held(*s.catalog);
  std::thread sync([&] { (void)engine->sync_views(held); });
  held.wait_until_reading();
  auto answered = std::async(std::launch::async, [&] {
    auto fresh = engine->session();
    if (!fresh) return fresh.error().message;
    auto rows = (*fresh)->execute("SELECT 42", 1 << 20, false, Dialect::duckdb);
    if (!rows) return rows.error().message;
    Status pinged = engine->ping();
    return pinged.ok() ? rows->rows.at(0) : pinged.error().message;
  });
  const bool in_time = answered.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  held.release();
  sync.join();
  ASSERT_TRUE(in_time) << "a session or a ping waited for the view sync";
  EXPECT_EQ(answered.get(), "[42]");
}

TEST(ViewSql, FilesOfOneSchemaNeedNoUnionByNameAndMissingColumnsAreNull) {
  TableInfo t;
  t.name = "songs_data";
  t.columns = {{"a", "BIGINT"}, {"b", "VARCHAR"}, {"c", "NULL"}};
  std::vector<PartitionInfo> parts = {
      {{"2026-11-01"}, "", {{"songs_data/dt=2026-11-01/x.parquet", 1, "e", "parquet", {{"a", "INTEGER"}}}}},
      {{"2026-11-02"}, "", {{"songs_data/dt=2026-11-02/x.parquet", 1, "e", "parquet", {{"a", "BIGINT"}, {"b", "VARCHAR"}}}}}};
  std::string sql = view_select_sql(t, parts, "/data");
  EXPECT_NE(sql.find("UNION ALL BY NAME"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("union_by_name"), std::string::npos) << sql;
  EXPECT_NE(sql.find(R"(CAST(NULL AS VARCHAR) AS "c")"), std::string::npos) << sql;
  EXPECT_NE(sql.find("'/data/songs_data/dt=2026-11-01/x.parquet'"), std::string::npos) << sql;
  EXPECT_NE(sql.find("hive_types = {'dt': 'VARCHAR'}"), std::string::npos) << sql;
}

}  // namespace
}  // namespace etl::cataloger

namespace etl::cataloger {
namespace {

TEST(EngineFormats, CsvAndJsonLinesTablesQueryLikeParquetOnes) {
  testing::Stack s;
  write_file(s.root, "albums_data", "2026-11-01", "run1", "csv",
             "SELECT 'al' || i AS album_id, DATE '1999-01-01' AS release_date, i AS total_tracks FROM range(3) t(i)");
  write_file(s.root, "songs_data", "2026-11-01", "run1", "jsonl", songs_select(4));
  s.crawl();
  auto engine = DuckDbEngine::open({s.root, "spotify", 1, "", {}, 0}).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  auto session = engine->session().value();
  auto albums = session->execute("SELECT album_id, release_date, total_tracks, dt FROM albums_data ORDER BY album_id", 1 << 20, false, Dialect::duckdb);
  ASSERT_TRUE(albums.ok()) << albums.error().message;
  EXPECT_EQ(albums->rows.at(0), R"(["al0","1999-01-01",0,"2026-11-01"])");
  auto songs = session->execute("SELECT artist_ids, extracted_at FROM songs_data ORDER BY song_id LIMIT 1", 1 << 20, false, Dialect::duckdb);
  ASSERT_TRUE(songs.ok()) << songs.error().message;
  EXPECT_EQ(songs->rows.at(0), R"([["a0","x"],"2026-11-21T06:00:00Z"])");
}

// Our CSV writes NULL as an empty field and an empty string as "" (contract §4.5): read
// back, they stay apart (DuckDB's read_csv takes "" for NULL unless told otherwise).
TEST(EngineFormats, CsvTablesKeepEmptyStringsApartFromNulls) {
  testing::Stack s;
  write_file(s.root, "artists_data", "2026-11-01", "run1", "csv",
             "SELECT * FROM (VALUES ('ar0', '', 'x'), ('ar1', NULL, '')) t(artist_id, artist_name, run_id)");
  s.crawl();
  auto engine = DuckDbEngine::open({s.root, "spotify", 1, "", {}, 0}).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  auto session = engine->session().value();
  auto r = session->execute("SELECT artist_id, artist_name, run_id FROM artists_data ORDER BY artist_id", 1 << 20, false,
                            Dialect::duckdb);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rows, (std::vector<std::string>{R"(["ar0","","x"])", R"(["ar1",null,""])"}));
}

TEST(EngineFormats, MixedFormatsInOneTableAreUnionedByName) {
  testing::Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(2));
  write_file(s.root, "songs_data", "2026-11-02", "run1", "csv", songs_select(3, 2, true));
  s.crawl();
  EXPECT_EQ(s.catalog->get_table("songs_data")->format, "mixed");
  auto engine = DuckDbEngine::open({s.root, "spotify", 1, "", {}, 0}).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  auto session = engine->session().value();
  auto r = session->execute("SELECT dt, count(*) FROM songs_data GROUP BY dt ORDER BY dt", 1 << 20, false, Dialect::duckdb);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rows, (std::vector<std::string>{R"(["2026-11-01",2])", R"(["2026-11-02",3])"}));
}

}  // namespace
}  // namespace etl::cataloger

namespace etl::cataloger {
namespace {

// The views read each table's folder through a link under the engine's folder;
// DuckDB allows the link itself, not the folder holding the links, so `..` after
// a link cannot reach what lies beside the table folders in the store (another
// client's stored result under `_query_results/`), whatever gets past the gate.
TEST(EngineFolders, DotDotAfterATableLinkDoesNotLeaveTheTable) {
  testing::Stack s;
  write_file(s.root, "songs_data", "2026-10-31", "run1", "parquet", songs_select(4));
  s.crawl();
  std::filesystem::create_directories(s.root / "_query_results");
  {
    std::ofstream secret(s.root / "_query_results" / "secret.csv");
    secret << "secret\nxyzzy\n";
  }
  const std::filesystem::path data = s.dir.path() / "engine-data";
  auto engine = DuckDbEngine::open({s.root, "spotify", 1, "", data, 0}).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  auto session = engine->session().value();
  std::filesystem::path mine;
  for (const auto& entry : std::filesystem::directory_iterator(data)) mine = entry.path();
  const std::string link = (mine / "tables" / "songs_data").string();
  auto songs = session->execute("SELECT count(*) FROM read_parquet('" + link + "/**/*.parquet')", 1 << 20, false, Dialect::duckdb);
  ASSERT_TRUE(songs.ok()) << songs.error().message;
  EXPECT_EQ(songs->rows.at(0), "[4]") << "the table's own files are readable through its link";
  for (const std::string& path : {link + "/../_query_results/secret.csv", link + "/dt=2026-10-31/../../_query_results/*.csv",
                                  (mine / "tables" / "_query_results" / "secret.csv").string()}) {
    auto r = session->execute("SELECT * FROM read_csv('" + path + "')", 1 << 20, false, Dialect::duckdb);
    EXPECT_FALSE(r.ok() && !r->rows.empty()) << "read " << path;
  }
}

// A table that appears after the engine opened gets a readable folder (the
// database is renewed with it) and answers like the others.
TEST(EngineFolders, ATableThatAppearsLaterIsReadable) {
  testing::Stack s;
  DuckDbEngineOptions options{s.root, "spotify", 1, "", {}, 0};
  options.tables = {"artists_data"};
  auto engine = DuckDbEngine::open(options).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  const auto epoch = engine->epoch();
  write_file(s.root, "songs_data", "2026-10-31", "run1", "parquet", songs_select(4));
  s.crawl();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  EXPECT_EQ(engine->epoch(), epoch + 1) << "renewed for the new table's folder";
  auto r = engine->session().value()->execute("SELECT count(*) FROM songs_data", 1 << 20, false, Dialect::duckdb);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rows.at(0), "[4]");
}

// The query engine process's engine: no gate of its own (the cataloger's checks
// every statement first); its views and sessions work as ever.
TEST(EngineFolders, AnEngineWithoutItsGateRunsStatementsAndChecksNone) {
  testing::Stack s;
  write_file(s.root, "songs_data", "2026-10-31", "run1", "parquet", songs_select(3));
  s.crawl();
  DuckDbEngineOptions options{s.root, "spotify", 1, "", {}, 0};
  options.sql_gate = false;
  auto engine = DuckDbEngine::open(options).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  auto r = engine->session().value()->execute("SELECT count(*) FROM songs_data", 1 << 20, false, Dialect::duckdb);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->rows.at(0), "[3]");
  Status checked = engine->check("SELECT count(*) FROM songs_data");
  ASSERT_FALSE(checked.ok()) << "no gate: nothing passes it";
  EXPECT_EQ(checked.error().code, Errc::internal);
}

// The engine's folder is engine-<pid>.<start time>-XXXXXX; opening an engine removes the
// folders of processes that are gone (killed with -9, or past their shutdown
// deadline: spill files left behind), and keeps those of live ones.
TEST(EngineFolders, FoldersOfDeadProcessesAreRemovedWhenAnEngineOpens) {
  testing::Stack s;
  const std::filesystem::path data = s.dir.path() / "engine-data";
  std::filesystem::create_directories(data);
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const auto dead = data / ("engine-" + std::to_string(child) + "-abc123");
  const auto live = data / ("engine-" + std::to_string(::getppid()) + "-def456");
  const auto other = data / "engine-notes";
  for (const auto& d : {dead, live, other}) std::filesystem::create_directories(d / "spill");
  DuckDbEngineOptions options{s.root, "spotify", 1, "", data, 0};
  auto engine = DuckDbEngine::open(options).value();
  EXPECT_FALSE(std::filesystem::exists(dead)) << "a dead process's folder";
  EXPECT_TRUE(std::filesystem::exists(live)) << "a live process's folder";
  EXPECT_TRUE(std::filesystem::exists(other)) << "not an engine folder of ours";
  std::size_t mine = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data))
    mine += entry.path().filename().string().rfind("engine-" + std::to_string(::getpid()) + ".", 0) == 0;
  EXPECT_EQ(mine, 1u) << "this engine's own folder, named by its pid";
}

}  // namespace
}  // namespace etl::cataloger
