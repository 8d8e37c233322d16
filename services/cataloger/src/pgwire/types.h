// Our column types (as the engines name them: VARCHAR, BIGINT, VARCHAR[], TIMESTAMP ...)
// -> PostgreSQL type OIDs, and the engine's JSON row text -> PostgreSQL text-format values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::pgwire {

namespace oid {
inline constexpr std::int32_t boolean = 16, bytea = 17, name = 19, int8 = 20, int2 = 21, int4 = 23, text = 25,
                              oid = 26, json = 114, float4 = 700, float8 = 701, bool_array = 1000,
                              int2_array = 1005, int4_array = 1007, text_array = 1009, int8_array = 1016,
                              float8_array = 1022, varchar = 1043, date = 1082, time = 1083, timestamp = 1114,
                              timestamptz = 1184, interval = 1186, numeric = 1700, uuid = 2950, jsonb = 3802,
                              float4_array = 1021, numeric_array = 1231, varchar_array = 1015, date_array = 1182,
                              timestamp_array = 1115, timestamptz_array = 1185, void_type = 2278,
                              oid_array = 1028, char_type = 18;
}

struct PgType {
  std::int32_t oid = oid::text;
  std::int16_t size = -1;   // typlen: -1 variable
  std::string name;         // what format_type() prints: "text", "bigint", "text[]" ...
  // An array's element type, which its items are written as: the element of `oid`,
  // or a type without an array type here (interval, uuid, time) in a text[].
  std::int32_t element = 0;
};

// The PostgreSQL type for an engine type name; anything unknown (STRUCT, MAP, ...) is json or text.
PgType pg_type(std::string_view engine_type);

// Splits one JSON array row ("[\"x\",1,null,[\"a\"]]") into PostgreSQL text values, one per
// column, converted for the column's type: booleans t/f, timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]"
// (+00 for timestamptz), intervals as PostgreSQL prints them, floats' "NaN" and "Infinity",
// lists as array literals ({1,2}, {"a b",NULL}) of items converted alike, with the
// exact digits of numbers, objects as JSON text.
// invalid_argument when the row is not a JSON array of `types.size()` values.
Result<std::vector<std::optional<std::string>>> row_values(std::string_view json_row, const std::vector<PgType>& types);

// An interval's parts, as PostgreSQL keeps them.
struct IntervalParts {
  std::int64_t months = 0, days = 0, micros = 0;
};
// The engine's ISO 8601 duration text ("P1Y2M3DT4H5M6.5S", signs allowed per
// component) -> its parts; nullopt for anything else.
std::optional<IntervalParts> parse_iso_interval(std::string_view text);
// PostgreSQL's interval text (IntervalStyle postgres): "1 year 2 mons 3 days 04:05:06.5",
// "-1 days +00:00:01", "00:00:00" for zero.
std::string pg_interval_text(const IntervalParts& parts);

// An array literal element list -> {a,"b c",NULL}, each item quoted as PostgreSQL's
// array_out does: when it is empty, is NULL in any case, or holds a quote, a backslash,
// a brace, a comma or white space.
std::string array_literal(const std::vector<std::optional<std::string>>& items);

// The elements of a one-dimensional array literal ({"a",NULL,b}, as array_literal
// writes it or a client sends it); nullopt for anything else (nested arrays included).
std::optional<std::vector<std::optional<std::string>>> array_items(std::string_view s);

// The element type of the one-dimensional array types this endpoint reads and writes
// (bool, int2, int4, int8, oid, float4, float8, numeric, text, varchar, date, timestamp[tz]); 0 for others.
std::int32_t array_element_oid(std::int32_t array_oid);
// Its inverse: the array type of those elements; 0 for others.
std::int32_t array_oid_of(std::int32_t element_oid);

}  // namespace etl::pgwire
