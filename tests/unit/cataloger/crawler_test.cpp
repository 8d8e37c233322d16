#include "crawler.h"

#include <fstream>

#include <gtest/gtest.h>

#include "cataloger_fixtures.h"

namespace etl::cataloger {
namespace {

using testing::Stack;
using testing::songs_select;
using testing::write_file;

std::string type_of(const TableInfo& t, const std::string& column) {
  for (const auto& c : t.columns)
    if (c.name == column) return c.type;
  return "<missing>";
}

TEST(Crawler, InfersParquetColumnTypesAndHivePartitions) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-21", "run1", "parquet", songs_select(5));
  auto crawl = s.crawl();
  EXPECT_EQ(crawl.state, CrawlState::succeeded);
  auto t = s.catalog->get_table("songs_data").value();
  EXPECT_EQ(t.format, "parquet");
  EXPECT_EQ(t.database, "spotify");
  EXPECT_EQ(t.location, "file://" + s.root.string() + "/songs_data/");
  EXPECT_EQ(t.partition_keys, std::vector<std::string>{"dt"});
  EXPECT_EQ(t.partitions, 1);
  EXPECT_EQ(t.version, 1);
  EXPECT_EQ(type_of(t, "song_id"), "VARCHAR");
  EXPECT_EQ(type_of(t, "duration_ms"), "BIGINT");
  EXPECT_EQ(type_of(t, "explicit"), "BOOLEAN");
  EXPECT_EQ(type_of(t, "popularity"), "INTEGER");
  EXPECT_EQ(type_of(t, "artist_ids"), "VARCHAR[]");
  EXPECT_EQ(type_of(t, "extracted_at"), "TIMESTAMP");
  EXPECT_EQ(type_of(t, "dt"), "<missing>") << "the partition key is not repeated in columns";
}

TEST(Crawler, InfersCsvTypesFromHeaderAndSampling) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-21", "run1", "csv", songs_select(5, 0, true));
  s.crawl();
  auto t = s.catalog->get_table("songs_data").value();
  EXPECT_EQ(t.format, "csv");
  EXPECT_EQ(type_of(t, "duration_ms"), "BIGINT");
  EXPECT_EQ(type_of(t, "explicit"), "BOOLEAN");
  EXPECT_EQ(type_of(t, "artist_ids"), "VARCHAR") << "a JSON-array string in CSV";
  EXPECT_EQ(type_of(t, "extracted_at"), "TIMESTAMP");
}

TEST(Crawler, InfersJsonLinesTypes) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-21", "run1", "jsonl", songs_select(5));
  s.crawl();
  auto t = s.catalog->get_table("songs_data").value();
  EXPECT_EQ(t.format, "jsonl");
  EXPECT_EQ(type_of(t, "duration_ms"), "BIGINT");
  EXPECT_EQ(type_of(t, "artist_ids"), "VARCHAR[]");
  EXPECT_EQ(type_of(t, "extracted_at"), "TIMESTAMP");
}

TEST(Crawler, OneTablePerFolderNeverPerFileAndUnderscoreFoldersAreNotTables) {
  Stack s;
  for (std::string dt : {"2026-11-01", "2026-11-02", "2026-11-03"}) {
    write_file(s.root, "songs_data", dt, "run1", "parquet", songs_select(3));
    write_file(s.root, "songs_data", dt, "run2", "parquet", songs_select(3, 3));
  }
  write_file(s.root, "artists_data", "2026-11-01", "run1", "parquet", testing::artists_select());
  ASSERT_TRUE(s.store->put("_query_results/x.csv", "a\n1\n").ok());
  s.crawl();
  auto tables = s.catalog->list_tables().value();
  ASSERT_EQ(tables.size(), 3u - 1u);
  EXPECT_EQ(tables[0].name, "artists_data");
  EXPECT_EQ(tables[1].name, "songs_data");
  EXPECT_EQ(tables[1].partitions, 3);
  auto partitions = s.catalog->get_partitions("songs_data").value();
  ASSERT_EQ(partitions.size(), 3u);
  EXPECT_EQ(partitions[0].values, std::vector<std::string>{"2026-11-01"});
  EXPECT_EQ(partitions[0].files.size(), 2u);
  EXPECT_TRUE(s.store->head("_catalog/spotify/songs_data.json").ok()) << "catalog kept durably in the store";
}

TEST(Crawler, IncrementalCrawlInspectsOnlyNewPartitions) {
  Stack s;
  for (std::string dt : {"2026-11-01", "2026-11-02", "2026-11-03"})
    write_file(s.root, "songs_data", dt, "run1", "parquet", songs_select(3));
  EXPECT_EQ(s.crawl().files_inspected, 3);
  write_file(s.root, "songs_data", "2026-11-04", "run1", "parquet", songs_select(3));
  auto second = s.crawl();
  EXPECT_EQ(second.files_inspected, 1) << "only the new partition's file is read";
  EXPECT_EQ(second.partitions_added, 1);
  auto again = s.crawl();
  EXPECT_EQ(again.files_inspected, 0);
  EXPECT_EQ(s.catalog->get_table("songs_data")->data_version, 2) << "a crawl that finds nothing new changes nothing";

  CrawlRequest full;
  full.full = true;
  EXPECT_EQ(s.catalog->crawl(full)->files_inspected, 4) << "a full re-crawl reads everything";
}

TEST(Crawler, EventCrawlListsOnlyThePartitionsThatChanged) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(3));
  s.crawl();
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(3));
  write_file(s.root, "songs_data", "2026-11-03", "run1", "parquet", songs_select(3));
  CrawlRequest events;
  events.changed_keys = {"songs_data/dt=2026-11-02/run1.parquet"};
  events.trigger = "events";
  auto crawl = s.catalog->crawl(events).value();
  EXPECT_EQ(crawl.files_inspected, 1);
  EXPECT_EQ(s.catalog->get_table("songs_data")->partitions, 2) << "2026-11-03 had no event: the next full listing finds it";
  EXPECT_EQ(s.crawl().partitions_added, 1);
}

TEST(Crawler, NewFilesInAnExistingPartitionBumpTheDataVersionNotTheSchemaVersion) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(3));
  s.crawl();
  auto before = s.catalog->get_table("songs_data").value();
  write_file(s.root, "songs_data", "2026-11-01", "run2", "parquet", songs_select(3, 3));
  auto crawl = s.crawl();
  auto after = s.catalog->get_table("songs_data").value();
  EXPECT_EQ(crawl.partitions_added, 0);
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.data_version, before.data_version + 1);
  EXPECT_GT(s.catalog->generation(), 0u);
}

TEST(Crawler, NewColumnInNewPartitionBumpsVersionAndOldPartitionsQueryAsNull) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(2));
  s.crawl();
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet",
             "SELECT *, 'pop' AS genre, popularity::BIGINT AS popularity_big FROM (" + songs_select(2) + ")");
  auto crawl = s.crawl();
  auto t = s.catalog->get_table("songs_data").value();
  EXPECT_EQ(t.version, 2);
  EXPECT_EQ(type_of(t, "genre"), "VARCHAR");
  ASSERT_GE(crawl.schema_changes.size(), 1u);
  EXPECT_EQ(crawl.schema_changes[0].column, "genre");
  EXPECT_EQ(crawl.schema_changes[0].change, "added");

  auto engine = DuckDbEngine::open({s.root, "spotify", 1, "", {}, 0}).value();
  ASSERT_TRUE(engine->sync_views(*s.catalog).ok());
  auto session = engine->session().value();
  auto rows = session->execute("SELECT dt, genre FROM songs_data ORDER BY dt, song_id", 1 << 20, false, Dialect::duckdb).value().rows;
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], R"(["2026-11-01",null])");
  EXPECT_EQ(rows[3], R"(["2026-11-02","pop"])");
}

TEST(Crawler, WidenedColumnBumpsVersionAndReadsAcrossPartitions) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", "SELECT 1::INTEGER AS n");
  s.crawl();
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", "SELECT 5000000000::BIGINT AS n");
  auto crawl = s.crawl();
  ASSERT_EQ(crawl.schema_changes.size(), 1u);
  EXPECT_EQ(crawl.schema_changes[0].change, "widened");
  EXPECT_EQ(crawl.schema_changes[0].from, "INTEGER");
  EXPECT_EQ(crawl.schema_changes[0].to, "BIGINT");
  EXPECT_EQ(s.catalog->get_table("songs_data")->version, 2);
}

TEST(Crawler, AllNullCsvColumnDoesNotPinItsTypeToVarchar) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "csv", "SELECT 's1' AS song_id, NULL::INTEGER AS popularity");
  s.crawl();
  write_file(s.root, "songs_data", "2026-11-02", "run1", "csv", "SELECT 's2' AS song_id, 42 AS popularity");
  auto crawl = s.crawl();
  EXPECT_EQ(type_of(s.catalog->get_table("songs_data").value(), "popularity"), "BIGINT");
  ASSERT_EQ(crawl.schema_changes.size(), 1u);
  EXPECT_EQ(crawl.schema_changes[0].change, "typed");
}

TEST(Crawler, RemovedPartitionsAreDroppedFromTheCatalog) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(2));
  write_file(s.root, "songs_data", "2026-11-02", "run1", "parquet", songs_select(2));
  s.crawl();
  std::filesystem::remove_all(s.root / "songs_data" / "dt=2026-11-01");
  auto crawl = s.crawl();
  EXPECT_EQ(crawl.partitions_removed, 1);
  auto t = s.catalog->get_table("songs_data").value();
  EXPECT_EQ(t.partitions, 1);
  EXPECT_EQ(t.columns.size(), 8u) << "columns are never dropped";
}

TEST(Crawler, CatalogSurvivesARestartWithoutReinspectingFiles) {
  Stack s;
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(2));
  s.crawl();
  auto before = s.catalog->get_table("songs_data").value();
  s.reopen_catalog();
  auto after = s.catalog->get_table("songs_data").value();
  EXPECT_EQ(after.version, before.version);
  EXPECT_EQ(after.data_version, before.data_version);
  EXPECT_EQ(after.columns, before.columns);
  EXPECT_EQ(s.crawl().files_inspected, 0);
}

TEST(Crawler, UnknownTableInACrawlRequestIsInvalidArgument) {
  Stack s;
  CrawlRequest r;
  r.tables = {"no_such_table"};
  auto crawl = s.catalog->start_crawl(r);
  ASSERT_FALSE(crawl.ok());
  EXPECT_EQ(crawl.error().code, Errc::invalid_argument);
  r.tables = {"../etc"};
  EXPECT_EQ(s.catalog->start_crawl(r).error().code, Errc::invalid_argument);
}

TEST(Crawler, AsyncCrawlReportsItsStateAndChanges) {
  Stack s;
  s.catalog->start();
  write_file(s.root, "songs_data", "2026-11-01", "run1", "parquet", songs_select(2));
  CrawlRequest r;
  r.tables = {"songs_data"};
  auto started = s.catalog->start_crawl(r).value();
  auto done = s.catalog->wait_crawl(started.crawl_id, std::chrono::seconds(10)).value();
  EXPECT_EQ(done.state, CrawlState::succeeded);
  EXPECT_EQ(done.tables, std::vector<std::string>{"songs_data"});
  EXPECT_EQ(done.partitions_added, 1);
  EXPECT_FALSE(done.finished_at.empty());
  EXPECT_EQ(s.catalog->get_crawl("nope").error().code, Errc::not_found);
  s.catalog->stop();
}

// A Parquet file's footer gives the crawl its columns and the Iceberg commit its
// row count and field ids in one read; the crawl hands the facts on with the
// ETag of the version it listed. CSV and JSON files have no such facts.
TEST(Crawler, AParquetFooterGivesTheColumnsAndTheFactsOfTheCommitInOneRead) {
  etl::testing::TempDir dir;
  const std::filesystem::path root = dir.path();
  const std::string key = "songs/dt=2026-11-21/a.parquet";
  std::filesystem::create_directories((root / key).parent_path());
  auto db = duck::Database::open(":memory:").value();
  auto conn = db->connect().value();
  ASSERT_TRUE(conn->execute("COPY (SELECT 's' || i AS song_id, i::BIGINT AS n, ['a'] AS tags, {'x': i} AS s FROM range(7) t(i)) TO " +
                            duck::quote_literal((root / key).string()) +
                            " (FORMAT parquet, FIELD_IDS {song_id: 1, n: 2, tags: {__duckdb_field_id: 3, element: 4}, s: 5})")
                  .ok());
  write_file(root, "songs", "2026-11-21", "b", "csv", "SELECT 1 AS n");
  auto reader = DuckDbSchemaReader::open(root).value();

  auto read = reader->read_schema(key, "parquet");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->columns, (std::vector<ColumnInfo>{{"song_id", "VARCHAR"}, {"n", "BIGINT"}, {"tags", "VARCHAR[]"},
                                                    {"s", "STRUCT(x BIGINT)"}}));
  ASSERT_TRUE(read->facts.has_value());
  EXPECT_EQ(read->facts->records, 7);
  EXPECT_EQ(read->facts->field_ids,
            (std::map<std::string, int>{{"song_id", 1}, {"n", 2}, {"tags", 3}, {"tags.element", 4}, {"s", 5}}));
  auto csv = reader->read_schema("songs/dt=2026-11-21/b.csv", "csv");
  ASSERT_TRUE(csv.ok()) << csv.error().message;
  EXPECT_FALSE(csv->facts.has_value());

  auto store = open_object_store("file://" + root.string(), {}).value();
  auto listing = store->list("songs/").value();
  ASSERT_EQ(listing.size(), 2u);
  TableState empty;
  empty.name = "songs";
  TableCrawl crawl = crawl_table(empty, listing, {}, *reader, false, "2026-11-21T00:00:00Z");
  EXPECT_EQ(crawl.files_inspected, 2);
  ASSERT_EQ(crawl.facts.size(), 1u) << "only the Parquet file has facts";
  EXPECT_EQ(crawl.facts.at(key).etag, store->head(key)->etag);
  EXPECT_EQ(crawl.facts.at(key).facts.records, 7);
  EXPECT_EQ(crawl.facts.at(key).facts.field_ids.at("tags.element"), 4);
  EXPECT_FALSE(crawl.facts.at(key).etag.empty());

  // A file that is not Parquet is a one-line error, not a crash.
  std::ofstream(root / "songs/dt=2026-11-21/c.parquet") << "not parquet";
  auto bad = reader->read_schema("songs/dt=2026-11-21/c.parquet", "parquet");
  EXPECT_FALSE(bad.ok());
}

TEST(TableKeys, ParseTheTransformedLayout) {
  auto k = DataKey::parse("songs_data/dt=2026-11-21/spotify_raw_x.parquet");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->table, "songs_data");
  EXPECT_EQ(k->dt, "2026-11-21");
  EXPECT_EQ(k->format, "parquet");
  EXPECT_EQ(DataKey::parse("songs_data/dt=2026-11-21/x.jsonl")->format, "jsonl");
  EXPECT_FALSE(DataKey::parse("_catalog/spotify/songs_data.json"));
  EXPECT_FALSE(DataKey::parse("songs_data/dt=2026-11-21/.tmp-x.parquet"));
  EXPECT_FALSE(DataKey::parse("songs_data/x.parquet"));
  EXPECT_FALSE(DataKey::parse("songs_data/dt=2026-11-21/x.txt"));
}

}  // namespace
}  // namespace etl::cataloger
