// Result values in PostgreSQL's binary format (protocol "Bind": result format code
// 1), made from the text form this endpoint writes for the same value (types.h):
// drivers such as pgx (Grafana's PostgreSQL data source) and pgjdbc ask for binary
// results of the types they know, and psycopg does when a cursor is binary.
//
// Binary forms (PostgreSQL's *_send functions): integers and floats big-endian;
// date int32 days and timestamp[tz] int64 microseconds since 2000-01-01 (infinity
// as the extreme values); time int64 microseconds; interval int64 microseconds,
// int32 days, int32 months; uuid 16 bytes; numeric as base-10000 digits with
// weight, sign and display scale; one-dimensional arrays with their element OID;
// text, json and name as their bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::pgwire {

// Whether binary_value knows the type.
bool has_binary_form(std::int32_t type_oid);

// The binary form of the value of type `type_oid` whose text form is `text`.
// invalid_argument for a type without a binary form here; bad_data when the text
// is not a value of the type.
Result<std::string> binary_value(std::int32_t type_oid, std::string_view text);

// PostgreSQL's words for a binary parameter that is not a value of its type (22P03).
inline constexpr std::string_view kMalformedBinary = "incorrect binary data format";

// A binary parameter (Bind format code 1, PostgreSQL's *_recv forms) -> the text form
// of the same value, which the binding then checks as it checks text parameters:
// text, varchar, name, json and unspecified (0) as their bytes; jsonb after its version
// byte; bool, integers, floats, numeric, date, timestamp[tz]; one-dimensional arrays of
// those (array_element_oid) as array literals. invalid_argument starting "unsupported"
// for other types and multi-dimensional arrays; starting kMalformedBinary for bytes of
// the wrong length or shape.
Result<std::string> text_of_binary(std::int32_t type_oid, std::string_view bytes);

// The result format of each of `columns` columns from a Bind's format codes: none
// means all text, one applies to all, otherwise one per column. invalid_argument
// for a code other than 0 (text) or 1 (binary) or a count that fits neither.
Result<std::vector<std::int16_t>> column_formats(const std::vector<std::int16_t>& requested, std::size_t columns);

}  // namespace etl::pgwire
