// Glue Data Catalog documents as the API shows them (docs/contract.md §7.4):
// a Glue `Table` becomes a TableInfo with the same SQL type names the built-in
// catalog uses (Hive `array<string>` -> VARCHAR[], `int` -> INTEGER ...), and a
// Glue `Partition` a PartitionInfo. Pure, unit-tested without Glue.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/catalog.h"

namespace etl::cataloger {

// Hive / Glue type -> SQL type name: string -> VARCHAR, int -> INTEGER, bigint ->
// BIGINT, double -> DOUBLE, float -> FLOAT, boolean -> BOOLEAN, date -> DATE,
// timestamp -> TIMESTAMP, decimal(p,s) -> DECIMAL(p,s), array<T> -> T[],
// struct<a:int> -> STRUCT(a INTEGER), map<k,v> -> MAP(K, V), binary -> BLOB;
// an unknown name is upper-cased as it is.
std::string glue_sql_type(std::string_view hive_type);

// parquet | csv | jsonl from the table's `classification` parameter, else its SerDe
// or InputFormat; "" when none says.
std::string glue_table_format(const nlohmann::json& table);

// A Glue Table document as TableInfo. `partitions` and `data_version` are the
// caller's (Glue has neither); version is VersionId + 1 (1 for the first
// definition), else UpdateTime in seconds.
TableInfo glue_table_info(const nlohmann::json& table, const std::string& database);
// Epoch milliseconds of the table's last change (UpdateTime, else CreateTime); 0 when absent.
std::int64_t glue_update_millis(const nlohmann::json& table);

// A Glue Partition document (Values, StorageDescriptor.Location).
PartitionInfo glue_partition_info(const nlohmann::json& partition);

}  // namespace etl::cataloger
