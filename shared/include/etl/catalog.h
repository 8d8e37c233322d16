// The catalog seam (AWS Glue Data Catalog + crawler in the original design): what
// tables exist in the transformed store, their columns, partitions and versions.
// Backends: the built-in crawler + catalog kept as JSON in the transformed store
// (`local`), and AWS Glue (`glue`: a crawl is StartCrawler + polling GetCrawler,
// tables come from GetTables, partitions from GetPartitions).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/duck_s3.h"
#include "etl/result.h"

namespace etl {

struct ColumnInfo {
  std::string name;
  std::string type;  // SQL type as the engine names it: VARCHAR, BIGINT, VARCHAR[], TIMESTAMP ...
  bool operator==(const ColumnInfo&) const = default;
};

// One table, as `GET /v1/tables/{name}` shows it (docs/contract.md §7.4).
struct TableInfo {
  std::string name;                               // "songs_data"
  std::string database;                           // Config::glue_database
  std::string location;                           // the table folder URL ("file:///data/transformed/songs_data/")
  std::string format;                             // parquet | csv | jsonl; "mixed" when the folder holds several
  std::vector<ColumnInfo> columns;                // partition keys are not repeated here
  std::vector<std::string> partition_keys{"dt"};  // Hive partition keys, outermost first
  std::int64_t partitions = 0;                    // number of partitions
  std::int64_t version = 0;                       // schema version: bumps when columns are added or widened
  std::int64_t data_version = 0;                  // bumps on every change (schema, partitions, files): cache key
  std::string updated_at;                         // RFC 3339 UTC of the last change
};

inline nlohmann::json to_json(const ColumnInfo& column) { return {{"name", column.name}, {"type", column.type}}; }

inline nlohmann::json to_json(const TableInfo& table) {
  nlohmann::json columns = nlohmann::json::array();
  for (const auto& c : table.columns) columns.push_back(to_json(c));
  return {{"name", table.name},         {"database", table.database},
          {"location", table.location}, {"format", table.format},
          {"columns", columns},         {"partition_keys", table.partition_keys},
          {"partitions", table.partitions}, {"version", table.version},
          {"data_version", table.data_version}, {"updated_at", table.updated_at}};
}

// A data file of a partition (the local catalog tracks them; Glue does not).
struct DataFile {
  std::string key;                  // object key relative to the transformed root
  std::uint64_t size = 0;
  std::string etag;
  std::string format;               // parquet | csv | jsonl
  std::vector<ColumnInfo> columns;  // the file's own columns (partition keys excluded)
};

struct PartitionInfo {
  std::vector<std::string> values;  // one per partition key: {"2026-11-01"}
  std::string location;             // the partition folder URL
  std::vector<DataFile> files;      // empty when the backend does not track files: read the location
};

inline nlohmann::json to_json(const PartitionInfo& partition) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : partition.files)
    files.push_back({{"key", f.key}, {"size", f.size}, {"etag", f.etag}, {"format", f.format}});
  return {{"values", partition.values}, {"location", partition.location}, {"files", files}};
}

enum class CrawlState { running, succeeded, failed };
inline const char* to_string(CrawlState state) noexcept {
  switch (state) {
    case CrawlState::running: return "RUNNING";
    case CrawlState::succeeded: return "SUCCEEDED";
    case CrawlState::failed: return "FAILED";
  }
  return "FAILED";
}

struct SchemaChange {
  std::string table;
  std::string column;
  std::string change;  // added | widened | typed (a column first seen all-null got its type)
  std::string from;    // previous type ("" when added)
  std::string to;
};

struct CrawlRequest {
  std::vector<std::string> tables;        // empty: every table folder of the store
  std::vector<std::string> changed_keys;  // objects that landed (events): only their partitions are listed
  bool full = false;                      // re-inspect every file, not only new or changed ones
  std::string trigger = "api";            // api | events | startup (logs and metrics)
};

struct CrawlInfo {
  std::string crawl_id;
  CrawlState state = CrawlState::running;
  std::string trigger;
  std::vector<std::string> tables;  // the tables crawled (resolved when the crawl starts)
  std::int64_t partitions_added = 0;
  std::int64_t partitions_removed = 0;
  std::int64_t files_inspected = 0;  // files whose schema was read (new or changed ones)
  std::vector<SchemaChange> schema_changes;
  std::string started_at;
  std::string finished_at;  // "" while running
  std::string error;        // set when failed
};

inline nlohmann::json to_json(const CrawlInfo& crawl) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : crawl.schema_changes)
    changes.push_back({{"table", c.table}, {"column", c.column}, {"change", c.change}, {"from", c.from}, {"to", c.to}});
  nlohmann::json out = {{"crawl_id", crawl.crawl_id},
                        {"state", to_string(crawl.state)},
                        {"trigger", crawl.trigger},
                        {"tables", crawl.tables},
                        {"partitions_added", crawl.partitions_added},
                        {"partitions_removed", crawl.partitions_removed},
                        {"files_inspected", crawl.files_inspected},
                        {"schema_changes", changes},
                        {"started_at", crawl.started_at},
                        {"finished_at", crawl.finished_at.empty() ? nlohmann::json() : nlohmann::json(crawl.finished_at)}};
  if (!crawl.error.empty()) out["error"] = crawl.error;
  return out;
}

class Catalog {
 public:
  virtual ~Catalog() = default;
  Catalog() = default;
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  virtual std::string name() const = 0;  // "local" | "glue"

  // Background work (the crawl worker): started once before use, stopped once at
  // shutdown (queued crawls are abandoned). An invalid_argument from start is a
  // configuration error that stops the service's start-up; other errors are retried
  // by the backend itself.
  virtual Status start_workers() { return {}; }
  virtual void stop_workers() {}
  // Where an embedded engine (DuckDB) reads the catalogued files in place: a local
  // folder, or s3:// through httpfs; nullopt when only a remote engine can (Glue and Athena).
  virtual std::optional<duck::TableFiles> table_files() const { return std::nullopt; }
  // The database every table belongs to (Config::glue_database).
  virtual std::string database() const = 0;

  // Every table, sorted by name.
  virtual Result<std::vector<TableInfo>> list_tables() = 0;
  // not_found for an unknown table.
  virtual Result<TableInfo> get_table(const std::string& name) = 0;
  // Partitions sorted by value; not_found for an unknown table.
  virtual Result<std::vector<PartitionInfo>> get_partitions(const std::string& table) = 0;

  // Starts a crawl and returns at once (state running). invalid_argument when a
  // requested table is neither catalogued nor a folder of the store.
  virtual Result<CrawlInfo> start_crawl(const CrawlRequest& request) = 0;
  // not_found for an unknown (or forgotten: only recent crawls are kept) id.
  virtual Result<CrawlInfo> get_crawl(const std::string& crawl_id) = 0;
  // Waits until the crawl finished or `max_wait` passed; returns its latest state.
  virtual Result<CrawlInfo> wait_crawl(const std::string& crawl_id, std::chrono::milliseconds max_wait) = 0;

  // A number that changes whenever any table changes (cheap: engines poll it per query).
  virtual std::uint64_t generation() const = 0;
  // Reachability for /readyz: unavailable (with what it waits for) until the
  // catalog can answer for the whole store.
  virtual Status ping() = 0;
};

}  // namespace etl
