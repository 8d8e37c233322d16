// Fixtures for the cataloger tests: transformed tables written with DuckDB's
// COPY (Parquet, CSV, JSON lines) in a temporary store, and the catalog +
// engine + query manager stack over it.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "compaction.h"
#include "crawler.h"
#include "duckdb_engine.h"
#include "etl/duck.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "local_catalog.h"
#include "query_manager.h"
#include "test_support.h"

namespace etl::cataloger::testing {

// Writes `<root>/<table>/dt=<dt>/<stem>.<ext>` from a SELECT, in `format` (parquet | csv | jsonl).
inline void write_file(const std::filesystem::path& root, const std::string& table, const std::string& dt,
                       const std::string& stem, const std::string& format, const std::string& select) {
  static std::unique_ptr<duck::Database> db = std::move(duck::Database::open(":memory:").value());
  auto conn = db->connect().value();
  auto dir = root / table / ("dt=" + dt);
  std::filesystem::create_directories(dir);
  std::string ext = format == "jsonl" ? "jsonl" : format;
  std::string options = format == "parquet" ? "(FORMAT parquet)" : format == "csv" ? "(FORMAT csv, HEADER)" : "(FORMAT json)";
  // Written beside it under a name no crawl takes for a data file, then renamed
  // over it, as the stores write: a reader (the engine's warmer, a crawl) sees the
  // old file or the new one, never a part.
  const auto path = dir / (stem + "." + ext);
  const auto partial = dir / ("." + stem + "." + ext + ".partial");
  auto s = conn->execute("COPY (" + select + ") TO " + duck::quote_literal(partial.string()) + " " + options);
  if (!s.ok()) throw std::runtime_error("fixture COPY failed: " + s.error().message);
  std::filesystem::rename(partial, path);
}

// Writes `<table>/dt=<dt>/<stem>.parquet` from a SELECT into `store` (an s3:// one:
// the file is written in a temporary folder first); its key. Throws when the put fails.
inline std::string put_parquet(ObjectStore& store, const std::string& table, const std::string& dt,
                               const std::string& stem, const std::string& select) {
  etl::testing::TempDir staging;
  write_file(staging.path(), table, dt, stem, "parquet", select);
  std::string key = table + "/dt=" + dt + "/" + stem + ".parquet";
  std::ifstream in(staging.path() / key, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (auto put = store.put(key, bytes); !put.ok())
    throw std::runtime_error("fixture put of " + key + " failed: " + put.error().message);
  return key;
}

// `n` songs_data rows; `artist_ids` a list (Parquet, JSON lines) or its JSON text (CSV).
inline std::string songs_select(int n, int offset = 0, bool csv = false) {
  std::string ids = csv ? "to_json(['a' || ((i + " + std::to_string(offset) + ") % 3), 'x'])::VARCHAR"
                        : "['a' || ((i + " + std::to_string(offset) + ") % 3), 'x']";
  return "SELECT 's' || (i + " + std::to_string(offset) + ") AS song_id, 'Song ' || i AS song_name, "
         "(180000 + i)::BIGINT AS duration_ms, (i % 2 = 0) AS explicit, (50 + i)::INTEGER AS popularity, "
         "'a' || ((i + " + std::to_string(offset) + ") % 3) AS artist_id, " + ids + " AS artist_ids, "
         "TIMESTAMP '2026-11-21 06:00:00' AS extracted_at FROM range(" + std::to_string(n) + ") t(i)";
}

inline std::string artists_select() {
  return "SELECT 'a' || i AS artist_id, 'Artist ' || i AS artist_name, "
         "'https://open.spotify.com/artist/a' || i AS artist_url, TIMESTAMP '2026-11-21 06:00:00' AS extracted_at "
         "FROM range(3) t(i)";
}

// Catalog, engine and query manager over a temporary transformed store.
struct Stack {
  etl::testing::TempDir dir;
  std::filesystem::path root = dir.path() / "transformed";
  MetricsRegistry metrics;
  std::shared_ptr<ObjectStore> store;
  std::shared_ptr<LocalCatalog> catalog;
  std::unique_ptr<QueryManager> queries;

  bool iceberg = false;  // the catalog commits Iceberg snapshots and compacts (ETL_TABLE_FORMAT=iceberg)

  explicit Stack(QueryManagerOptions options = {}, bool with_iceberg = false) : iceberg(with_iceberg) {
    std::filesystem::create_directories(root);
    store = std::shared_ptr<ObjectStore>(open_object_store("file://" + root.string(), {}).value());
    reopen_catalog();
    auto engine = DuckDbEngine::open({root, "spotify", 2, "", {}, 0}).value();
    queries = std::make_unique<QueryManager>(catalog, std::move(engine), store, "file://" + root.string(), options, metrics);
    queries->start();
  }
  ~Stack() { queries->stop(); }

  void reopen_catalog() {
    std::shared_ptr<iceberg::IcebergTables> tables;
    std::shared_ptr<iceberg::Compactor> compactor;
    if (iceberg) {
      iceberg::IcebergTablesOptions options;
      options.files = root;
      tables = std::shared_ptr<iceberg::IcebergTables>(iceberg::IcebergTables::open(store, options, metrics).value());
      compactor = std::shared_ptr<iceberg::Compactor>(iceberg::Compactor::open(store, root, {}).value());
    }
    catalog = std::shared_ptr<LocalCatalog>(
        LocalCatalog::open(store, DuckDbSchemaReader::open(root).value(),
                           {"spotify", "file://" + root.string(), 100, nullptr, root, tables, compactor, {}, {}, {}, "local"}, metrics)
            .value());
  }

  CrawlInfo crawl(CrawlRequest request = {}) { return catalog->crawl(request).value(); }
};

}  // namespace etl::cataloger::testing
