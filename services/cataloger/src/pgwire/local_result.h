// A result the endpoint answers itself (SET, SHOW, version(), catalog introspection),
// without the query engine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pgwire/types.h"

namespace etl::pgwire {

struct Cell {
  std::optional<std::string> value;  // nullopt = NULL
  std::int32_t type_oid = oid::text;
};

struct LocalColumn {
  std::string name;
  std::int32_t type_oid = oid::text;
};

struct LocalResult {
  bool returns_rows = false;  // false: only a CommandComplete (SET, BEGIN ...)
  std::vector<LocalColumn> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string tag;  // "SELECT 2", "SET", "BEGIN" ...
};

// What a statement may read of the connection: its settings and identity.
struct SessionInfo {
  std::map<std::string, std::string> settings;  // lower-case name -> value (SET, SHOW)
  std::map<std::string, std::string> defaults;  // the settings at start-up: what RESET goes back to
  std::string user;
  std::string database;  // as the client asked at start-up
  std::string schema;    // the catalog's database: where our tables are
  std::int32_t pid = 0;
  long long max_statement_timeout_ms = 30000;  // ETL_PG_STATEMENT_TIMEOUT_MS: default and ceiling of statement_timeout
};

LocalResult command(std::string tag);  // a result without rows

}  // namespace etl::pgwire

namespace etl::pgwire {

// An error for the client: SQLSTATE and message.
struct SqlError {
  std::string sqlstate;
  std::string message;
};

enum class TxEffect { none, begin, commit, rollback };

// What a statement releases of the connection's own state, which the session keeps:
// DEALLOCATE name, DEALLOCATE ALL, DISCARD ALL (every prepared statement and portal,
// and the settings back to their start-up values; what pgbouncer and connection pools
// send between two clients of one connection).
struct Release {
  enum class Kind { none, statement, all_statements, everything };
  Kind kind = Kind::none;
  std::string name;  // Kind::statement
};

// What the endpoint answered itself: a result, or an error.
struct LocalOutcome {
  LocalResult result;
  std::optional<SqlError> error;
  TxEffect tx = TxEffect::none;
  Release release;
};

inline LocalOutcome local_error(std::string sqlstate, std::string message) {
  LocalOutcome o;
  o.error = SqlError{std::move(sqlstate), std::move(message)};
  return o;
}

}  // namespace etl::pgwire
