// The built-in crawler (Glue's crawler): compares a table's listing with what the
// catalog already knows and inspects only files that are new or changed (by
// ETag), reading their schema with DuckDB; merges schemas (schema_merge.h),
// keeps partitions and files, and bumps the table's versions on change.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etl/duck.h"
#include "etl/duck_s3.h"
#include "etl/object_store.h"
#include "parquet_footer.h"
#include "table_state.h"

namespace etl::cataloger {

struct FileSchema {
  std::vector<ColumnInfo> columns;
  // A Parquet file's row count and field ids, when the reader read them with the
  // columns (one footer read for the crawl and the Iceberg commit that follows).
  std::optional<ParquetFacts> facts;
};

// Reads the columns of one data file (partition keys excluded; a column holding
// only NULLs has kUnknownType).
// Called from several threads at once: the tables of a crawl run side by side,
// and so do the reads of one table's new files.
class SchemaReader {
 public:
  virtual ~SchemaReader() = default;
  virtual Result<FileSchema> read_schema(const std::string& key, const std::string& format) = 0;
};

// Tables a crawl visits at once (LocalCatalog::crawl_tables). A table's crawl is
// a chain of store round trips (its listing, Iceberg metadata, manifests, the new
// files' footers, the commit's writes, its catalog document): against S3, tens of
// milliseconds each, and the chains of different tables do not wait for each other.
inline constexpr std::size_t kCrawlTablesAtOnce = 4;
// New files of one table whose schemas a crawl reads at once (crawl_table), and
// whose row counts an Iceberg commit reads at once: each read is a footer's round
// trips (against S3 a new connection, a HEAD and a GET).
inline constexpr std::size_t kFilesAtOnce = 4;
// Footer reads of a crawl at once, every table's together: the DuckDB connections
// a reader keeps (DuckDbSchemaReader, and IcebergTables for the commits).
inline constexpr std::size_t kFooterReadsAtOnce = kCrawlTablesAtOnce * kFilesAtOnce;

// Reads files in place (a local folder, or s3://) with an embedded DuckDB limited
// to them; up to `connections` reads at once.
class DuckDbSchemaReader final : public SchemaReader {
 public:
  static Result<std::unique_ptr<DuckDbSchemaReader>> open(duck::TableFiles files,
                                                          std::size_t connections = kFooterReadsAtOnce);
  // Parquet: the columns and the facts, from one open of the file.
  Result<FileSchema> read_schema(const std::string& key, const std::string& format) override;

 private:
  DuckDbSchemaReader() = default;
  duck::TableFiles files_;
  std::unique_ptr<duck::Database> db_;
  duck::ConnectionPool conns_;
};

// The DuckDB table function call that reads `paths` of one format (hive partitions
// on, `dt` as VARCHAR). Shared by the schema reader and the engine's views.
std::string read_function_sql(const std::string& format, const std::vector<std::string>& paths, bool union_by_name);

struct TableCrawl {
  TableState state;
  bool changed = false;
  std::int64_t partitions_added = 0;
  std::int64_t partitions_removed = 0;
  std::int64_t files_inspected = 0;
  std::vector<SchemaChange> changes;
  std::vector<std::string> unreadable;  // files that could not be inspected (left out, retried next crawl)
  FactsByKey facts;  // of the Parquet files inspected, when the reader read them: for the Iceberg commit
};

// One table's crawl. `listing` holds the objects under the table folder, or only
// under the partitions in `scope` (empty scope: the whole table was listed, so
// files missing from it are gone). `full` re-inspects every listed file.
TableCrawl crawl_table(const TableState& current, const std::vector<ObjectInfo>& listing,
                       const std::set<std::string>& scope, SchemaReader& reader, bool full, const std::string& now);

}  // namespace etl::cataloger
