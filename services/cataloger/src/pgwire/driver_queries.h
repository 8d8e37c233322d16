// Queries a driver sends about types, which neither the engine nor the catalog
// emulation (pg_catalog.h) can answer, answered here from the types this endpoint
// sends. asyncpg's type introspection: for a result or parameter type it has no
// codec of its own for (int8[], int4[], float8[], bool[] ...: `array_agg(popularity)`),
// asyncpg runs a recursive query over pg_type, pg_namespace, pg_range and pg_attribute
// (introspection.py, INTRO_LOOKUP_TYPES_13) with the type OIDs as $1::oid[], and builds
// its codecs from the rows: each type with its element type, deepest first.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "pgwire/local_result.h"

namespace etl::pgwire {

// A row of pg_type for a type this endpoint sends or binds (types.h).
struct PgTypeRow {
  std::int32_t oid;
  const char* name;     // typname
  std::int32_t elem;    // typelem (0: not an array)
  const char* regtype;  // what ::regtype::text prints
  std::int16_t len;     // typlen (-1: variable)
  char category;        // typcategory
};
// Every one, arrays with their elements.
std::span<const PgTypeRow> type_rows();
const PgTypeRow* find_type(std::int32_t type_oid);
const PgTypeRow* find_type(const std::string& typname);

// The answer to `normalized` (sql_text.h normalize(), parameters bound) when it is a
// driver's type query known here; nullopt for any other statement.
// pgjdbc's TypeInfoCache lookup of a type by name (getPGType(String), behind
// DatabaseMetaData's getColumns and getClientInfoProperties) is answered here too.
std::optional<LocalOutcome> driver_type_query(const std::string& normalized);

}  // namespace etl::pgwire
