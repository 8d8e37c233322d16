// Schema evolution as Glue's default crawler policy (UPDATE_IN_DATABASE) does it:
// new columns are added at the end, a column whose type differs is widened to a
// type that holds both (INTEGER -> BIGINT, FLOAT -> DOUBLE, DATE -> TIMESTAMP,
// anything -> VARCHAR as the last resort), and nothing is ever dropped or narrowed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "etl/catalog.h"

namespace etl::cataloger {

// The placeholder type of a column seen only with NULL values (a CSV or JSON
// file cannot say what it would hold): the first real type replaces it.
inline constexpr std::string_view kUnknownType = "NULL";

// The narrowest type that holds values of both `a` and `b` (DuckDB type names).
std::string widen_type(std::string_view a, std::string_view b);

struct MergeResult {
  std::vector<ColumnInfo> columns;
  std::vector<SchemaChange> changes;  // table left empty; the caller fills it in
};

// Merges a file's columns into a table's: added, widened, or typed (unknown -> real).
MergeResult merge_columns(const std::vector<ColumnInfo>& table, const std::vector<ColumnInfo>& file);

// The type the engine exposes for a catalogued column (unknown -> VARCHAR).
std::string exposed_type(std::string_view type);

}  // namespace etl::cataloger
