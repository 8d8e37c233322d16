// The gate in front of the DuckDB engine, built on DuckDB's own parser so it sees
// exactly the text the engine runs:
//   1. the lexical guard (sql_guard.h), an extra layer with friendlier messages;
//   2. DuckDB's statement count (duckdb_extract_statements): exactly one;
//   3. DuckDB's syntax tree (json_serialize_sql) walked: every table named is one of
//      the catalog's tables or a CTE in scope there, no table or CTE named like a
//      file path or URL, no table function but range/generate_series/unnest, no
//      function that reads files, URLs, settings or the environment, no string
//      distance a timeout cannot stop (sql_guard.h), no system catalog
//      (information_schema, pg_catalog, duckdb_*, sqlite_*), and no function
//      that is not on the allow list (allowed_functions.h).
// The engine then prepares that one statement and checks its type (SELECT or
// EXPLAIN) before it runs it (DuckDbEngine::Session::execute).
// Verdicts are remembered per exact text and table-set generation (verdict_cache.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "etl/duck.h"
#include "etl/result.h"
#include "verdict_cache.h"

namespace etl::cataloger {

// Checks the syntax tree json_serialize_sql gives for one statement (pure; tested).
// `tables`: the catalog's table names, lower-cased; `database`: the schema they are
// also in (Config::glue_database). A CTE counts only where DuckDB binds it: in the
// later CTEs of its WITH, that WITH's query and their subqueries. `reads`
// (optional) gets the catalog tables the statement names (a CTE of the same name
// counts too: never fewer than it reads), or kReadsEverything when it shows or
// describes the catalog.
Status check_syntax_tree(const nlohmann::json& serialized, const std::set<std::string>& tables,
                         const std::string& database, std::set<std::string>* reads = nullptr);
inline constexpr const char* kReadsEverything = "*";
// A scalar, aggregate or macro the gate refuses for a reason of its own (it reads
// files, URLs, settings or system catalogs; a string distance no timeout stops),
// whether or not it is on the allow list (allowed_functions.h), which it must not be.
bool refused_by_name(std::string_view name);

class SqlGate final {
 public:
  // `conn`: a connection of the engine's database, used only to parse.
  SqlGate(std::unique_ptr<duck::Connection> conn, std::string database, VerdictCacheLimits verdicts = {})
      : conn_(std::move(conn)), database_(std::move(database)), verdicts_(verdicts) {}
  // The same, owning the database `conn` belongs to.
  SqlGate(std::unique_ptr<duck::Database> db, std::unique_ptr<duck::Connection> conn, std::string database,
          VerdictCacheLimits verdicts = {})
      : db_(std::move(db)), conn_(std::move(conn)), database_(std::move(database)), verdicts_(verdicts) {}
  // OK when `sql` is one read-only statement over `tables`; invalid_argument with the
  // reason. `reads` as check_syntax_tree says.
  Status check(const std::string& sql, const std::set<std::string>& tables, std::set<std::string>* reads = nullptr);
  // The same, remembered: `generation` must name `tables` (one generation, one set;
  // DuckDbEngine counts the changes of its set), so a verdict reached under it
  // is reused for exactly `sql` until the set changes.
  Status check(const std::string& sql, const std::set<std::string>& tables, std::uint64_t generation,
               std::set<std::string>* reads = nullptr);
  // The tables statements may name from now on: the engine's views, as its
  // view_versions() names them (lower-cased; the versions are not read). A set
  // that differs from the last one moves the generation, so the verdicts reached
  // under the old set are not reused.
  void set_tables(const std::map<std::string, std::int64_t>& views);
  // check(sql, <the tables set last>, <their generation>, reads).
  Status check_current(const std::string& sql, std::set<std::string>* reads = nullptr);
  const VerdictCache& verdicts() const { return verdicts_; }

 private:
  Result<nlohmann::json> serialize(const std::string& sql);
  std::mutex mutex_;
  std::unique_ptr<duck::Database> db_;  // declared first: closed after conn_
  std::unique_ptr<duck::Connection> conn_;
  std::string database_;
  VerdictCache verdicts_;
  std::mutex tables_mutex_;  // not mutex_: a long parse does not hold back set_tables
  std::set<std::string> tables_;
  std::uint64_t tables_generation_ = 0;
};

}  // namespace etl::cataloger
