// DuckDB result values as the API shows them (docs/contract.md §7.4): JSON
// strings, numbers (BIGINT as an exact number), true/false, null, lists as
// arrays, structs and maps as objects, DATE as YYYY-MM-DD, TIMESTAMP as RFC 3339
// UTC ("2026-11-21T06:00:00Z"), a float's NaN and infinities as the strings "NaN",
// "Infinity", "-Infinity". CSV cells carry the same text: strings as they are,
// NULL as an empty cell, lists and structs as their JSON.
#pragma once

#include <duckdb.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/catalog.h"

namespace etl::cataloger {

// The SQL name of a result column's type (VARCHAR, BIGINT, VARCHAR[], DECIMAL(18,3), STRUCT(a INTEGER) ...).
std::string type_name(duckdb_logical_type type);

// The type, in `type` or among its children, that results do not carry: BIT, BIGNUM
// (VARINT), UNION, a MAP whose key is not a scalar (a JSON object's key is text), and
// anything else without a mapping here; "" when every part maps. Such a value would
// read as null, so a query with such a column is refused instead.
std::string unmapped_type(duckdb_logical_type type);

// The top-level elements of a result row's JSON array text (what ChunkConverter
// writes), each as its own text without the blanks around it: a number keeps its
// exact digits (HUGEINT, DECIMAL), which a parse into a double would round. The
// array's structure is checked (commas, brackets, strings and nesting skipped
// whole), not the scalars' spelling. nullopt when the text is no such array.
std::optional<std::vector<std::string_view>> row_cells(std::string_view row);

// Appends one CSV cell (RFC 4180: quoted when it holds a comma, quote, CR or LF, or is empty text).
// `is_text`: a string value (or a column name); one starting with = + - @ tab or CR
// is written with a leading apostrophe so spreadsheets do not run it as a formula.
void append_csv_cell(std::string& out, std::string_view text, bool is_null, bool is_text = false);

// A float JSON cannot carry as a number, as result rows spell it: "NaN", "Infinity"
// or "-Infinity" (PostgreSQL's and Trino's words; `v` not finite).
const char* non_finite_word(double v);
// Whether `text` is one of those words.
bool is_non_finite_word(std::string_view text);

// "2026-11-21" from days since 1970-01-01.
std::string format_date(std::int32_t days);
// "2026-11-21T06:00:00Z" (fraction only when not zero) from microseconds since the epoch, UTC.
std::string format_timestamp_micros(std::int64_t micros);

// Converts the rows of data chunks into JSON array texts and CSV lines.
class ChunkConverter {
 public:
  struct Converted {
    std::size_t bytes = 0;     // appended to `rows`
    bool over_budget = false;  // stopped at a row that did not fit
  };
  // Appends one JSON array text per row to `rows`, and (when `csv` is not null)
  // one CSV line per row to `csv`, while what it appends (the rows' JSON, the CSV
  // lines and a std::string per row) stays within `budget` bytes. At the first row
  // that would not fit it stops, keeps that row out of both and sets over_budget;
  // a long text or a large list is measured before it is copied, so one 1 GB value
  // is refused without a copy of it being made.
  Converted convert(duckdb_data_chunk chunk, std::vector<std::string>& rows, std::string* csv, std::size_t budget);
};

}  // namespace etl::cataloger
