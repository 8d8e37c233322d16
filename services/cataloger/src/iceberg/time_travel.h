// Time travel over the Iceberg tables: which snapshot `as_of` names, and what
// that snapshot reads. A snapshot id must be one the table still keeps; a time
// picks the snapshot that was current then (the snapshot log, as Iceberg
// readers do), so a time before the first commit has none.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "iceberg_tables.h"
#include "pinned_table.h"

namespace etl::cataloger::iceberg {

// The id of the snapshot `as_of` names in `metadata`; nullopt when none (pure).
std::optional<std::int64_t> snapshot_as_of(const nlohmann::json& metadata, const AsOf& as_of);

// The table pinned to that snapshot: its live files (from its manifests) and its schema's columns.
Result<PinnedTable> pin_table(IcebergTables& tables, const std::string& table, const AsOf& as_of);

}  // namespace etl::cataloger::iceberg
