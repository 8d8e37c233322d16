// What the built-in catalog remembers about one table, and how it is kept: one
// JSON document per table in the transformed store (`_catalog/<db>/<table>.json`).
// Per partition it keeps the files with their ETags and schema, so a crawl only
// inspects what is new or changed.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/catalog.h"
#include "etl/lake.h"
#include "etl/result.h"

namespace etl::cataloger {

struct FileState {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  std::string format;
  std::string schema_id;  // into TableState::schemas
};

struct PartitionState {
  std::map<std::string, FileState> files;  // by key
};

struct TableState {
  std::string name;
  std::vector<ColumnInfo> columns;                          // merged; a type may be kUnknownType
  std::map<std::string, PartitionState> partitions;         // by dt value
  std::map<std::string, std::vector<ColumnInfo>> schemas;   // file schemas by id
  std::int64_t version = 0;
  std::int64_t data_version = 0;
  std::string created_at;
  std::string updated_at;
};

// A short stable id of a column list.
std::string schema_id(const std::vector<ColumnInfo>& columns);
// parquet | csv | jsonl, "mixed" for several, "" for none.
std::string table_format(const TableState& table);

nlohmann::json to_json(const TableState& table);
Result<TableState> table_state_from_json(const nlohmann::json& doc);

// The public view of a table; `root_url` is the transformed store's URL ("file:///x").
TableInfo table_info(const TableState& table, const std::string& database, const std::string& root_url);
std::vector<PartitionInfo> partition_infos(const TableState& table, const std::string& root_url);

}  // namespace etl::cataloger
