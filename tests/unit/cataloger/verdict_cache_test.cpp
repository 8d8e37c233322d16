// The SQL gate's remembered verdicts (verdict_cache.h): bounded, keyed by the exact
// text and the table set's generation, and never an accept the gate would refuse now.
#include "verdict_cache.h"

#include <gtest/gtest.h>

#include "cataloger_fixtures.h"
#include "duckdb_engine.h"
#include "etl/duck.h"
#include "sql_gate.h"

namespace etl::cataloger {
namespace {

Status refused(const std::string& why) { return make_error(Errc::invalid_argument, "refused: " + why); }

TEST(VerdictCache, RemembersPerExactTextAndGeneration) {
  VerdictCache cache;
  EXPECT_FALSE(cache.find("SELECT 1", 1).has_value());
  cache.remember("SELECT 1", 1, {});
  cache.remember("SELECT 2", 1, refused("no"));
  ASSERT_TRUE(cache.find("SELECT 1", 1).has_value());
  EXPECT_TRUE(cache.find("SELECT 1", 1)->ok());
  auto no = cache.find("SELECT 2", 1);
  ASSERT_TRUE(no.has_value());
  ASSERT_FALSE(no->ok()) << "a refusal is remembered as a refusal";
  EXPECT_EQ(no->error().message, "refused: no");
  EXPECT_FALSE(cache.find("SELECT 1 ", 1).has_value()) << "no normalisation: the exact text only";
  EXPECT_FALSE(cache.find("select 1", 1).has_value());
  EXPECT_FALSE(cache.find("SELECT 1", 2).has_value()) << "another table set: not reused";
  EXPECT_FALSE(cache.find("SELECT 1", 1).has_value()) << "and dropped once seen stale";
}

TEST(VerdictCache, OnlyVerdictsOfTheTextAndTablesAreRemembered) {
  VerdictCache cache;
  cache.remember("SELECT 1", 1, make_error(Errc::internal, "json_serialize_sql is not available"));
  cache.remember("SELECT 2", 1, make_error(Errc::unavailable, "busy"));
  EXPECT_FALSE(cache.find("SELECT 1", 1).has_value());
  EXPECT_FALSE(cache.find("SELECT 2", 1).has_value());
  EXPECT_EQ(cache.size(), 0u);
}

TEST(VerdictCache, BoundedByEntriesLeastRecentlyUsedFirst) {
  VerdictCache cache({3, 1u << 20, 1024});
  for (const char* sql : {"a", "b", "c"}) cache.remember(sql, 7, {});
  ASSERT_TRUE(cache.find("a", 7).has_value());  // a is now the most recent
  cache.remember("d", 7, {});
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find("b", 7).has_value()) << "the least recently used goes first";
  EXPECT_TRUE(cache.find("a", 7).has_value());
  EXPECT_TRUE(cache.find("c", 7).has_value());
  EXPECT_TRUE(cache.find("d", 7).has_value());
}

TEST(VerdictCache, BoundedByBytesAndLongStatementsAreNotKept) {
  VerdictCache cache({100, 40, 16});
  cache.remember(std::string(17, 'x'), 1, {});
  EXPECT_EQ(cache.size(), 0u) << "longer than max_statement_bytes";
  for (char c = 'a'; c <= 'f'; ++c) cache.remember(std::string(10, c), 1, {});
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_LE(cache.bytes(), 40u);
  EXPECT_FALSE(cache.find(std::string(10, 'a'), 1).has_value());
  EXPECT_TRUE(cache.find(std::string(10, 'f'), 1).has_value());
  cache.remember(std::string(10, 'f'), 2, refused("x"));  // replaced, not added
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_EQ(cache.bytes(), 40u);
  EXPECT_FALSE(cache.find(std::string(10, 'f'), 2)->ok());
  VerdictCache off({0, 1u << 20, 1024});
  off.remember("SELECT 1", 1, {});
  EXPECT_FALSE(off.find("SELECT 1", 1).has_value()) << "max_entries 0 remembers nothing";
}

struct RememberingGate : ::testing::Test {
  std::unique_ptr<duck::Database> db = duck::Database::open(":memory:").value();
  SqlGate gate{db->connect().value(), "spotify"};
};

TEST_F(RememberingGate, ARefusedStatementStaysRefused) {
  const std::set<std::string> tables{"songs_data"};
  for (const char* sql : {"SELECT 1 --\r; SELECT * FROM duckdb_settings()", "SELECT * FROM read_csv('/etc/passwd')",
                          "SELECT 1; SELECT 2", "COPY songs_data TO 'x.csv'"}) {
    Status first = gate.check(sql, tables, 1);
    ASSERT_FALSE(first.ok()) << sql;
    for (int i = 0; i < 3; ++i) {
      Status again = gate.check(sql, tables, 1);
      ASSERT_FALSE(again.ok()) << "accepted when asked again: " << sql;
      EXPECT_EQ(again.error().message, first.error().message);
    }
  }
  EXPECT_GE(gate.verdicts().size(), 1u) << "refusals are remembered too";
}

TEST_F(RememberingGate, ATableDroppedFromTheSetIsRefusedAtOnce) {
  const std::string sql = "SELECT count(*) FROM albums_data";
  EXPECT_TRUE(gate.check(sql, {"songs_data", "albums_data"}, 1).ok());
  EXPECT_TRUE(gate.check(sql, {"songs_data", "albums_data"}, 1).ok());
  Status after = gate.check(sql, {"songs_data"}, 2);
  ASSERT_FALSE(after.ok()) << "accepted from the verdict reached before albums_data was dropped";
  EXPECT_NE(after.error().message.find("unknown table 'albums_data'"), std::string::npos) << after.error().message;
  EXPECT_TRUE(gate.check(sql, {"songs_data", "albums_data"}, 3).ok()) << "and back when it is back";
}

// The catalog, with some tables hidden: as if they were dropped from it.
struct HidingCatalog final : Catalog {
  std::shared_ptr<Catalog> inner;
  std::set<std::string> hidden;
  std::uint64_t bump = 0;
  explicit HidingCatalog(std::shared_ptr<Catalog> c) : inner(std::move(c)) {}
  std::string name() const override { return inner->name(); }
  std::optional<duck::TableFiles> table_files() const override { return inner->table_files(); }
  std::string database() const override { return inner->database(); }
  Result<std::vector<TableInfo>> list_tables() override {
    auto all = inner->list_tables();
    if (!all) return all;
    std::vector<TableInfo> out;
    for (auto& t : *all)
      if (!hidden.count(t.name)) out.push_back(t);
    return out;
  }
  Result<TableInfo> get_table(const std::string& n) override { return inner->get_table(n); }
  Result<std::vector<PartitionInfo>> get_partitions(const std::string& t) override { return inner->get_partitions(t); }
  Result<CrawlInfo> start_crawl(const CrawlRequest& r) override { return inner->start_crawl(r); }
  Result<CrawlInfo> get_crawl(const std::string& id) override { return inner->get_crawl(id); }
  Result<CrawlInfo> wait_crawl(const std::string& id, std::chrono::milliseconds w) override {
    return inner->wait_crawl(id, w);
  }
  std::uint64_t generation() const override { return inner->generation() + bump; }
  Status ping() override { return inner->ping(); }
};

TEST(EngineVerdicts, ATableDroppedFromTheCatalogInvalidatesTheRememberedAccept) {
  testing::Stack s;
  testing::write_file(s.root, "songs_data", "2026-10-31", "run1", "parquet", testing::songs_select(4));
  testing::write_file(s.root, "artists_data", "2026-10-31", "run1", "parquet", testing::artists_select());
  s.crawl();
  HidingCatalog catalog(s.catalog);
  auto engine = DuckDbEngine::open({s.root, "spotify", 2, "", {}, 0}).value();
  ASSERT_TRUE(engine->sync_views(catalog).ok());
  const std::string sql = "SELECT count(*) FROM artists_data";
  ASSERT_TRUE(engine->check(sql).ok()) << engine->check(sql).error().message;
  ASSERT_TRUE(engine->check(sql).ok()) << "the remembered verdict";

  catalog.hidden = {"artists_data"};
  catalog.bump = 1;
  ASSERT_TRUE(engine->sync_views(catalog).ok());
  Status dropped = engine->check(sql);
  ASSERT_FALSE(dropped.ok()) << "a table dropped from the catalog was still accepted";
  EXPECT_NE(dropped.error().message.find("unknown table"), std::string::npos) << dropped.error().message;
  EXPECT_TRUE(engine->check("SELECT count(*) FROM songs_data").ok());

  catalog.hidden.clear();
  catalog.bump = 2;
  ASSERT_TRUE(engine->sync_views(catalog).ok());
  EXPECT_TRUE(engine->check(sql).ok()) << "and accepted again once it is back";
}

}  // namespace
}  // namespace etl::cataloger
