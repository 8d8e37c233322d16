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
#include <memory>
#include <set>
#include <string>
#include <vector>

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

 private:
  Compactor() = default;
  Result<std::pair<std::string, std::int64_t>> rewrite(const CompactionGroup& group, const nlohmann::json& schema,
                                                       const std::vector<ColumnInfo>& columns);

  std::shared_ptr<ObjectStore> store_;
  duck::TableFiles files_;
  CompactionOptions options_;
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
};

}  // namespace etl::cataloger::iceberg
