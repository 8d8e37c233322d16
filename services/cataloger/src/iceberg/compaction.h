// Compaction of an Iceberg table's small files: per partition, the committed
// Parquet files smaller than the target are packed into files of about the
// target size (DuckDB reads them and writes one file with the table's field
// ids), committed as one `replace` snapshot. Readers never see duplicates or
// gaps: the swap is one snapshot, the replaced files stay in the store (retired)
// until no kept snapshot names them. Small tables are compacted too: two small
// files in a partition are enough.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "compacted_sources.h"
#include "etl/duck.h"
#include "etl/object_store.h"
#include "iceberg_tables.h"
#include "table_state.h"

namespace etl::cataloger::iceberg {

// Whether `key` names a compaction's output file (`<table>/dt=<d>/compacted-<hex>.parquet`).
// Such a file is written before its replace commit lands, so a listing can show it
// before the commit or after a lost one: crawls take it from the snapshot only.
bool is_compacted_key(std::string_view key);

struct CompactionOptions {
  std::uint64_t target_file_bytes = 128ull << 20;  // ETL_ICEBERG_TARGET_FILE_BYTES
};

// One output file: the inputs it replaces.
struct CompactionGroup {
  std::string dt;
  std::vector<std::string> keys;  // sorted
  std::uint64_t bytes = 0;
};

// The groups worth rewriting (pure): per partition, the live Parquet files under
// 3/4 of the target, packed in key order into groups of at most the target; a
// group of one file is left alone.
std::vector<CompactionGroup> plan_compaction(const TableState& state, const std::set<std::string>& live_keys,
                                             const CompactionOptions& options);

// A live compacted file some of whose sources were written again since
// (POST /v1/reprocess: a newer generation of the file, etl/lake.h "Generations", or
// the same name written over by a transformer that redoes in place): their current
// versions (as listed) replace their rows in it.
struct Rewritten {
  std::string compacted;                             // the live compacted file's key
  std::string dt;
  std::vector<CompactedSource> sources;              // its sources, in row order
  std::map<std::string, ObjectInfo> rewritten;       // source key -> what replaces it now (its key: the same or newer)
};

// What one compaction did to a table.
struct CompactionResult {
  std::vector<std::string> retired;  // keys the new files replace
  std::vector<std::pair<std::string, ObjectInfo>> written;  // (dt, the new file as stored)
  std::int64_t snapshot_id = 0;      // the replace snapshot (0: nothing committed)
  std::string abandoned;             // why nothing was committed, when something was planned
};

class Compactor final {
 public:
  // `files`: where the table's files are read (the store's folder, or s3:// in place).
  static Result<std::unique_ptr<Compactor>> open(std::shared_ptr<ObjectStore> store, duck::TableFiles files,
                                                 CompactionOptions options);

  // Compacts `state`'s table (its Iceberg snapshot must be current with it).
  // The new files are uploaded, then committed through `tables`; an abandoned or
  // failed commit removes them again.
  Result<CompactionResult> compact(IcebergTables& tables, const TableState& state);

  // The live compacted files of `listing`'s partitions whose sources the listing
  // shows rewritten: a newer generation of a source, or a source key listed with
  // another ETag, that no snapshot names (retired and written again, or swept
  // and written again). `listing` holds one generation of each file, the newest
  // (the crawl's, older generations left out). Reads the footers of those
  // partitions' compacted files (kept: they never change).
  // `view`: the crawl's (IcebergTables::crawl_view), whose live files it takes.
  Result<std::vector<Rewritten>> find_rewritten(const IcebergTables::CrawlView& view,
                                                const std::vector<ObjectInfo>& listing);
  // Writes each compacted file again with the rewritten sources' rows in place of
  // their old ones, and commits one `replace` snapshot: the new files replace the
  // old, the rewritten sources are retired (CompactionResult::retired holds both).
  Result<CompactionResult> refold(IcebergTables& tables, const TableState& state, const std::vector<Rewritten>& found);

 private:
  Compactor() = default;
  // One output file: `keys` read in order (rows matching `keep` only, when given)
  // and written with the table's field ids and `sources` in its footer; its bytes and rows.
  Result<std::pair<std::string, std::int64_t>> rewrite(const std::vector<std::string>& keys, const std::string& keep,
                                                       const nlohmann::json& schema,
                                                       const std::vector<ColumnInfo>& columns,
                                                       const std::vector<CompactedSource>& sources);
  // rewrite(), its rows checked against `expected`, stored under a new
  // compacted-<hex> key of `dt`: the stored object and its rows.
  Result<std::pair<ObjectInfo, std::int64_t>> write_output(const TableState& state, const std::string& dt,
                                                           const std::vector<std::string>& keys,
                                                           const std::string& keep, const nlohmann::json& schema,
                                                           const std::vector<CompactedSource>& sources,
                                                           std::int64_t expected);
  // The output `put` (`rows` rows) of partition `dt` takes the place of `retired`
  // (live files) and `consumed` (files no snapshot names) in `next` and `replace`,
  // and is recorded in `result` (deleted again if the commit does not land).
  void swap_in(const std::string& dt, const ObjectInfo& put, std::int64_t rows, const std::vector<std::string>& retired,
               const std::vector<std::string>& consumed, TableState& next, IcebergTables::Replace& replace,
               CompactionResult& result);
  // Deletes the files `result` wrote (an abandoned or failed commit's).
  void remove_written(const CompactionResult& result);
  // A compacted file's sources (its footer), cached by key.
  Result<std::vector<CompactedSource>> sources_of(const std::string& key, std::int64_t records);
  Result<std::int64_t> row_count(const std::string& key);
  Result<CompactionResult> commit(IcebergTables& tables, TableState next, IcebergTables::Replace replace,
                                  CompactionResult result, const char* what);

  std::shared_ptr<ObjectStore> store_;
  duck::TableFiles files_;
  CompactionOptions options_;
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  std::map<std::string, std::vector<CompactedSource>> sources_;  // compacted key -> its footer's list
};

}  // namespace etl::cataloger::iceberg
