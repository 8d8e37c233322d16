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
//    column (pg_attribute, information_schema.columns) or for our one schema;
//  - each select-list item is looked up by its column or function name (relname,
//    format_type, attnotnull ...); unknown items are NULL;
//  - the filters clients use are applied: relname/nspname regex (psql's
//    OPERATOR(pg_catalog.~)), oid/attrelid = N, relname/table_name = or IN,
//    nspname/table_schema =, relkind lists;
//  - a query over catalogs we keep nothing in (pg_policy, pg_inherits, pg_index,
//    pg_type, ...) is an empty result with the right columns.
#pragma once

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

// The answer to a catalog SELECT over `tables` (columns include the partition keys).
LocalOutcome catalog_select(const SelectParts& select, const std::vector<TableInfo>& tables, const SessionInfo& session);

}  // namespace etl::pgwire
