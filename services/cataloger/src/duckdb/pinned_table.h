// A table pinned to one of its Iceberg snapshots for one query (time travel,
// `as_of` in POST /v1/query): the snapshot's data files and its schema's column
// names. The Iceberg side resolves it (iceberg/time_travel.h); the DuckDB engine
// reads it through a view private to the query's session (DuckDbEngine::pin).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "etl/query_engine.h"
#include "etl/result.h"

namespace etl::cataloger {

struct PinnedTable {
  std::string table;
  std::int64_t snapshot_id = 0;
  std::vector<std::string> columns;  // the snapshot schema's top-level names, in order (no `dt`)
  std::vector<std::string> keys;     // its live data files, store-relative
};

// not_found for a table without snapshots, or no snapshot matching `as_of`.
using PinResolver = std::function<Result<PinnedTable>(const std::string& table, const AsOf& as_of)>;

}  // namespace etl::cataloger
