// The types of the parameters a client leaves unspecified (0) in Parse, read from
// where each $n stands, as PostgreSQL infers them. Drivers that encode arguments by
// the types a Describe reports (asyncpg, postgres.js, pgx) need them: told "text"
// for `popularity > $1`, asyncpg refuses the integer 50 ("expected str"). So a
// statement's Describe reports, and its Bind reads the values as:
//  - `$1::int`, `CAST($1 AS timestamp)`: the type cast to;
//  - `col = $1`, `$1 <= col`, `col LIKE $1`, `col IN ($1, $2)`, `col BETWEEN $1 AND $2`
//    (also `col::type = $1`): the column's type, when the catalog's tables agree on
//    the type of a column of that name;
//  - `col = ANY($1)`: an array of the column's type;
//  - `LIMIT $1`, `OFFSET $1`, `FETCH FIRST $1`: bigint.
// Anything else stays unspecified and is described as text, as before: a reading
// that is not sure leaves the type alone rather than guess. Only types the binding
// reads (bindable_type) are inferred.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etl::pgwire {

// The engine type of a catalog column by its name (VARCHAR, INTEGER, TIMESTAMP ...);
// nullopt when no table has it or tables disagree. Called only when needed.
using ColumnTypeLookup = std::function<std::optional<std::string>(const std::string& column)>;

// `types` (one per parameter, 0 where unspecified) with the unspecified ones inferred
// from the statement `sql` where they can be.
std::vector<std::int32_t> infer_param_types(std::string_view sql, std::vector<std::int32_t> types,
                                            const ColumnTypeLookup& column_type);

// The OID of a type as SQL names it (normalized: "int", "double precision",
// "timestamp with time zone", "pg_catalog.int8", "text[]"); 0 for one not bound here.
std::int32_t type_oid_of_name(std::string_view name);

}  // namespace etl::pgwire
