// The gate in front of the DuckDB engine, built on DuckDB's own parser so it sees
// exactly the text the engine runs:
//   1. the lexical guard (sql_guard.h), an extra layer with friendlier messages;
//   2. DuckDB's statement count (duckdb_extract_statements): exactly one;
//   3. DuckDB's syntax tree (json_serialize_sql) walked: every table named is one of
//      the catalog's tables or a CTE, no table function but range/generate_series/
//      unnest, no function that reads files, URLs, settings or the environment,
//      no system catalog (information_schema, pg_catalog, duckdb_*, sqlite_*).
// The engine then prepares that one statement and checks its type (SELECT or
// EXPLAIN) before it runs it (DuckDbEngine::Session::execute).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "etl/duck.h"
#include "etl/result.h"

namespace etl::cataloger {

// Checks the syntax tree json_serialize_sql gives for one statement (pure; tested).
// `tables`: the catalog's table names, lower-cased; `database`: the schema they are
// also in (Config::glue_database).
Status check_syntax_tree(const nlohmann::json& serialized, const std::set<std::string>& tables,
                         const std::string& database);

class SqlGate final {
 public:
  // `conn`: a connection of the engine's database, used only to parse.
  SqlGate(std::unique_ptr<duck::Connection> conn, std::string database)
      : conn_(std::move(conn)), database_(std::move(database)) {}
  // OK when `sql` is one read-only statement over `tables`; invalid_argument with the reason.
  Status check(const std::string& sql, const std::set<std::string>& tables);

 private:
  Result<nlohmann::json> serialize(const std::string& sql);
  std::mutex mutex_;
  std::unique_ptr<duck::Connection> conn_;
  std::string database_;
};

}  // namespace etl::cataloger
