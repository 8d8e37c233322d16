// Iceberg v2 table metadata (format spec, "Table Metadata"): the JSON document a
// table's `metadata/v<N>.metadata.json` holds, as the cataloger writes and reads
// it. The document is kept as JSON (fields we do not model survive a rewrite);
// the functions here are the edits a commit makes to it.
//
// Our tables: one partition spec (id 0, identity on the string column `dt`,
// partition field id 1000), no sort order, format version 2.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/catalog.h"
#include "etl/result.h"

namespace etl::cataloger::iceberg {

inline constexpr int kPartitionFieldId = 1000;

// The Iceberg type of an engine (DuckDB) column type: "string", "long", a list
// object ... nullopt for a type Iceberg has no equivalent of.
std::optional<nlohmann::json> iceberg_type(const std::string& sql_type, int& next_id,
                                           const std::map<std::string, int>& element_ids, const std::string& column);

// The schema for `columns` (+ `dt`), keeping the field ids and types of
// `previous` (when given) by name. A new column takes the id its data files carry
// (`file_ids`, name -> id, "<name>.element" for a list's element) when no field
// has it yet, else last_column_id + 1; `last_column_id` moves on. A type change is
// taken only where Iceberg allows it (int -> long, float -> double); otherwise the
// old type stays and the change is reported in `refused`.
nlohmann::json evolve_schema(const nlohmann::json* previous, const std::vector<ColumnInfo>& columns,
                             const std::map<std::string, int>& file_ids, int schema_id, int& last_column_id,
                             std::vector<std::string>& refused);

// True when two schemas have the same fields (ids, names, types), whatever their ids.
bool same_fields(const nlohmann::json& a, const nlohmann::json& b);

// `schema.name-mapping.default`: every field's name -> id, for files without ids.
std::string name_mapping(const nlohmann::json& schema);

// A new table's metadata (no snapshot yet).
nlohmann::json new_table_metadata(const std::string& table_uuid, const std::string& location, nlohmann::json schema,
                                  int last_column_id, std::int64_t now_ms);

// The current schema object; nullptr when the document has none.
const nlohmann::json* current_schema(const nlohmann::json& metadata);
// The current snapshot object; nullptr when the table has none.
const nlohmann::json* current_snapshot(const nlohmann::json& metadata);

// invalid_argument when `doc` is not a format-version 2 table metadata document
// with the fields a reader needs.
Status validate_metadata(const nlohmann::json& doc);

}  // namespace etl::cataloger::iceberg
