// Athena's answers as the API shows them (docs/contract.md §7.4). Athena returns
// every value as text (`VarCharValue`, absent for NULL) next to a column type;
// this turns them into the contract's JSON values and QueryExecution documents
// into QueryStatus. Pure, so the mapping is unit-tested without Athena.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/catalog.h"
#include "etl/query_engine.h"

namespace etl::cataloger {

// One ResultSetMetadata.ColumnInfo entry.
struct AthenaColumn {
  std::string name;
  std::string type;  // Athena's name, lower case: varchar, bigint, decimal, array, timestamp ...
  int precision = 0;
  int scale = 0;
};

std::vector<AthenaColumn> athena_columns(const nlohmann::json& result_set_metadata);
// The SQL name the API shows: VARCHAR, BIGINT, DECIMAL(10,2), TIMESTAMP, VARCHAR[] (an
// Athena array arrives as text, its elements become strings), MAP, ROW ...
std::string athena_sql_type(const AthenaColumn& column);
std::vector<ColumnInfo> column_infos(const std::vector<AthenaColumn>& columns);

// Appends one value as JSON. `value` nullopt is SQL NULL. Integers and decimals
// are numbers as written (exact), doubles too (NaN and infinities -> null),
// booleans true/false, dates "YYYY-MM-DD", timestamps RFC 3339 UTC
// ("2026-11-21 06:00:00.000" -> "2026-11-21T06:00:00Z", a fraction only when not
// zero), arrays ("[a, b]") -> JSON arrays of strings (null for "null"; nested
// arrays kept), anything else a string. Text that does not fit its type is kept as a string.
void append_athena_value(std::string& out, const std::optional<std::string_view>& value, const AthenaColumn& column);
// One row of GetQueryResults (`{"Data":[{"VarCharValue":"x"},{}]}`) as a JSON array text.
std::string athena_row_json(const nlohmann::json& row, const std::vector<AthenaColumn>& columns);
// True when the row holds the column names: the header Athena puts first in a SELECT's result.
bool is_header_row(const nlohmann::json& row, const std::vector<AthenaColumn>& columns);

// "2026-11-21 06:00:00.000" (optionally with " UTC", "Z" or "+01:00") -> RFC 3339 UTC; nullopt when not a timestamp.
std::optional<std::string> athena_timestamp_to_rfc3339(std::string_view text);
// "[a, b, [c]]" -> ["a","b",["c"]] as JSON text; nullopt when not bracketed.
std::optional<std::string> athena_array_to_json(std::string_view text);

// QUEUED | RUNNING | SUCCEEDED | FAILED | CANCELLED; nullopt for anything else.
std::optional<QueryState> parse_query_state(std::string_view state);
// A GetQueryExecution `QueryExecution` document as our status: FAILED carries
// Athena's StateChangeReason (invalid_argument, or unavailable when Athena calls
// it a SYSTEM error); elapsed from EngineExecutionTimeInMillis; cached from
// ResultReuseInformation; result_location once SUCCEEDED.
QueryStatus status_from_execution(const nlohmann::json& query_execution);
// Athena's epoch seconds (a number, fractions allowed) as RFC 3339 UTC; "" when absent.
std::string epoch_seconds_to_rfc3339(const nlohmann::json& value);

}  // namespace etl::cataloger
