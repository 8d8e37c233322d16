// The PostgreSQL catalogs (pg_catalog.pg_class, pg_attribute, pg_namespace,
// pg_tables, ...) and information_schema (tables, columns, schemata), emulated
// from etl::Catalog for the introspection BI tools send: psql's \dt and \d,
// SQLAlchemy's inspector, psycopg's type lookups, Grafana's and Metabase's schema
// browsers. Why not DuckDB's own pg_catalog views: they fail most of those
// queries (psql's \dt calls pg_get_userbyid, \d reads pg_policy, pg_inherits,
// `::pg_catalog.text` casts ...), they exist only in the embedded engine (not in
// Athena), and the engine's sandbox rightly hides everything but the product tables.
// So the answer is built here, from the catalog, in memory, with no SQL engine:
//  - one row per table (pg_class, pg_tables, information_schema.tables) or per
//    column (pg_attribute, information_schema.columns, each with its table) or for
//    our one schema / database;
//  - the WHERE conditions, join conditions, ORDER BY, DISTINCT, LIMIT and OFFSET are
//    applied (catalog_query.h says which forms); select-list items are columns of
//    the relations they name, session functions, format_type() and the like, or
//    expressions of known clients (psql's \d) with their value here;
//  - a query over catalogs of objects there are none of here (pg_policy, pg_inherits,
//    pg_index, pg_constraint, ...) is an empty result with the right columns;
//  - anything else is refused (0A000) rather than answered with wrong rows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "etl/catalog.h"
#include "pgwire/local_result.h"
#include "pgwire/select_list.h"

namespace etl::pgwire {

// True when the statement reads pg_catalog relations or information_schema.
bool reads_catalog(const std::string& normalized);

// The OID a table is reported under (stable across restarts: derived from its name).
std::int32_t table_oid(const std::string& name);

// PostgreSQL's quote_ident(): `name` as SQL must write it, in double quotes unless it is
// lower case letters, digits and _ (not first a digit) and no keyword PostgreSQL reserves.
std::string quote_ident(const std::string& name);

// Grafana's query builder's table list and a table's columns (its postgresMetaQuery.ts:
// showTables(), getSchema(table)), answered from `tables` as PostgreSQL would. Their
// search_path subquery (`generate_series(...) AS i, string_to_array(...) s`) is more than
// the emulation runs, and without them the builder offers no table and no column.
// nullopt for any other statement; the catalog's tables are listed only for one of these.
std::optional<LocalOutcome> grafana_metadata_query(const std::string& normalized, Catalog& catalog,
                                                   const SessionInfo& session);

// The answer to a catalog SELECT over `tables` (columns include the partition keys).
LocalOutcome catalog_select(const SelectParts& select, const std::vector<TableInfo>& tables, const SessionInfo& session);

}  // namespace etl::pgwire
