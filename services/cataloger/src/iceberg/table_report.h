// What `GET /v1/tables`, `GET /v1/tables/{name}/snapshots` and `spotify-etl
// tables` show of an Iceberg table, read from its current metadata alone (no
// manifest is opened): the current snapshot, how many are kept, the live files,
// records and bytes from the snapshot summary's running totals, and when the
// table was last committed and last compacted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace etl::cataloger::iceberg {

// Table property a compaction's replace commit sets: its time, in ms since the epoch
// (kept when that snapshot expires).
inline constexpr std::string_view kLastCompactionProperty = "spotify-etl.last-compaction-ms";
// Table property listing the retired (compacted-away, still stored) data files as a
// JSON object string: {"<key>": <retired at, ms>}.
inline constexpr std::string_view kRetiredFilesProperty = "spotify-etl.retired-files";

// A whole-number field of a snapshot's summary (Iceberg writes them as strings);
// nullopt when absent or not a whole number.
std::optional<std::int64_t> summary_count(const nlohmann::json& snapshot, std::string_view field);

struct SnapshotInfo {
  std::int64_t snapshot_id = 0;
  std::optional<std::int64_t> parent_id;
  std::int64_t sequence_number = 0;
  std::int64_t timestamp_ms = 0;
  std::string operation;  // append | delete | overwrite | replace
  bool current = false;
  std::optional<std::int64_t> added_files, deleted_files, total_files, total_records, total_bytes;
};

struct TableReport {
  std::string metadata_location;
  std::optional<std::int64_t> current_snapshot_id;  // nullopt before the first commit
  int snapshot_count = 0;
  std::optional<std::int64_t> files, records, bytes;  // of the current snapshot
  std::optional<std::int64_t> last_updated_ms;
  std::optional<std::int64_t> last_compaction_ms;
};

TableReport report_of(const nlohmann::json& metadata, std::string metadata_location);
// The kept snapshots, newest first.
std::vector<SnapshotInfo> snapshots_of(const nlohmann::json& metadata);

// Times as RFC 3339 UTC (a fraction only when not whole seconds); absent values as null.
nlohmann::json to_json(const TableReport& report);
nlohmann::json to_json(const SnapshotInfo& snapshot);

}  // namespace etl::cataloger::iceberg
