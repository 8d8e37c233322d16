#include "time_travel.h"

#include "etl/dates.h"
#include "table_metadata.h"

namespace etl::cataloger::iceberg {
namespace {

using nlohmann::json;

bool kept(const json& metadata, std::int64_t id) {
  auto it = metadata.find("snapshots");
  if (it == metadata.end() || !it->is_array()) return false;
  for (const auto& s : *it)
    if (s.is_object() && s.value("snapshot-id", std::int64_t{-1}) == id) return true;
  return false;
}

std::string describe(const AsOf& as_of) {
  if (as_of.snapshot_id) return "snapshot " + std::to_string(*as_of.snapshot_id);
  return "snapshot at or before " + format_timestamp(as_of.timestamp_ms.value_or(0) * 1000);
}

}  // namespace

std::optional<std::int64_t> snapshot_as_of(const json& metadata, const AsOf& as_of) {
  if (as_of.snapshot_id) return kept(metadata, *as_of.snapshot_id) ? as_of.snapshot_id : std::nullopt;
  if (!as_of.timestamp_ms) return std::nullopt;
  // The snapshot log says which snapshot was current from when; the last entry
  // at or before the time wins, if that snapshot is still kept.
  std::optional<std::int64_t> found;
  std::int64_t found_at = -1;
  auto log = metadata.find("snapshot-log");
  if (log == metadata.end() || !log->is_array()) return std::nullopt;
  for (const auto& entry : *log) {
    if (!entry.is_object()) continue;
    const std::int64_t at = entry.value("timestamp-ms", std::int64_t{-1});
    if (at < 0 || at > *as_of.timestamp_ms || at < found_at) continue;
    found = entry.value("snapshot-id", std::int64_t{-1});
    found_at = at;
  }
  return found && kept(metadata, *found) ? found : std::nullopt;
}

Result<PinnedTable> pin_table(IcebergTables& tables, const std::string& table, const AsOf& as_of) {
  auto current = tables.current(table);
  if (!current) return std::move(current).error();
  if (!*current) return make_error(Errc::not_found, table + " has no Iceberg snapshot yet");
  json metadata = (*current)->metadata;
  auto id = snapshot_as_of(metadata, as_of);
  if (!id)
    return make_error(Errc::not_found, table + " keeps no " + describe(as_of) +
                                           " (GET /v1/tables/" + table + "/snapshots lists the kept ones)");
  metadata["current-snapshot-id"] = *id;  // read that snapshot as if it were current
  PinnedTable pinned;
  pinned.table = table;
  pinned.snapshot_id = *id;
  auto files = tables.live_files(metadata);
  if (!files) return std::move(files).error();
  for (const auto& e : *files) {
    auto key = tables.key_of(e.file_path);
    if (!key) return make_error(Errc::internal, "a data file of " + table + " is outside the store: " + e.file_path);
    pinned.keys.push_back(std::move(*key));
  }
  // The schema the snapshot was written with.
  int schema_id = metadata.value("current-schema-id", 0);
  for (const auto& s : metadata["snapshots"])
    if (s.value("snapshot-id", std::int64_t{-1}) == *id) schema_id = s.value("schema-id", schema_id);
  for (const auto& schema : metadata.value("schemas", json::array()))
    if (schema.value("schema-id", -1) == schema_id)
      for (const auto& field : schema.value("fields", json::array())) {
        std::string name = field.value("name", "");
        if (!name.empty() && name != "dt") pinned.columns.push_back(std::move(name));
      }
  return pinned;
}

}  // namespace etl::cataloger::iceberg
