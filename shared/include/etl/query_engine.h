// The query engine seam (Athena in the original design): read-only SQL over the
// catalog's tables. Shaped like Athena's API so both backends fit: a query is
// started and gets an id, runs (QUEUED -> RUNNING -> SUCCEEDED | FAILED |
// CANCELLED), its result is read in pages with a next token and is also stored
// once as CSV (`result_location`). Backends: embedded DuckDB reading the files
// in place, and Athena (StartQueryExecution / GetQueryExecution /
// GetQueryResults / StopQueryExecution).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etl/catalog.h"
#include "etl/result.h"

namespace etl {

enum class QueryState { queued, running, succeeded, failed, cancelled };
// Athena's names: QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED.
inline const char* to_string(QueryState state) noexcept {
  switch (state) {
    case QueryState::queued: return "QUEUED";
    case QueryState::running: return "RUNNING";
    case QueryState::succeeded: return "SUCCEEDED";
    case QueryState::failed: return "FAILED";
    case QueryState::cancelled: return "CANCELLED";
  }
  return "FAILED";
}
inline bool is_terminal(QueryState state) noexcept {
  return state == QueryState::succeeded || state == QueryState::failed || state == QueryState::cancelled;
}

inline constexpr std::size_t kMaxPageRows = 1000;

// Time travel: a table read as of one of its Iceberg snapshots, named by id or by
// time (the snapshot that was current then). Exactly one of the two is set.
struct AsOf {
  std::optional<std::int64_t> snapshot_id;
  std::optional<std::int64_t> timestamp_ms;  // ms since the epoch
};

// Which rules a statement follows where DuckDB's SQL and PostgreSQL's differ: DuckDB's
// (POST /v1/query), or PostgreSQL's (the PostgreSQL endpoint), where `/` of two
// integers truncates (7 / 2 is 3, not 3.5). Athena reads both alike (Trino's `/`
// of integers already truncates).
enum class Dialect { duckdb, postgres };

struct QueryRequest {
  std::string sql;                              // one read-only statement
  std::size_t max_rows = kMaxPageRows;          // page size, 1..1000
  std::chrono::milliseconds timeout{30000};     // from submission; past it the engine is interrupted
  std::optional<std::chrono::seconds> max_age;  // reuse a cached result up to this old (never older than the data)
  // Who asked (the HTTP peer address, or a wire-protocol session): queued queries
  // are served round-robin across clients. "" is one anonymous client.
  std::string client;
  // Tables read as of a snapshot (lower-case names); the others are read as they are now.
  std::map<std::string, AsOf> as_of;
  Dialect dialect = Dialect::duckdb;
};

struct QueryStats {
  double elapsed_ms = 0;   // engine time (queued time excluded)
  std::uint64_t rows = 0;  // rows of the whole result
  bool cached = false;     // the result was reused
  std::map<std::string, std::int64_t> snapshots;  // the snapshot each `as_of` table was read at
};

struct QueryStatus {
  std::string query_id;
  std::string engine;  // duckdb | athena
  QueryState state = QueryState::queued;
  std::optional<Error> error;   // FAILED / CANCELLED: why (timeout, refused, engine error)
  QueryStats stats;
  std::string result_location;  // the stored CSV (file:// or s3:// URL); "" until SUCCEEDED
  std::string submitted_at;     // RFC 3339 UTC
  std::string completed_at;     // "" until terminal
};

struct QueryPage {
  std::string query_id;
  std::string engine;
  std::vector<ColumnInfo> columns;
  // One JSON array text per row ("[\"x\",1,null]"), ready to splice into a response;
  // values as docs/contract.md §7.4 maps them.
  std::vector<std::string> rows;
  std::optional<std::string> next_token;  // nullopt on the last page
  QueryStats stats;
  std::string result_location;
};

class QueryEngine {
 public:
  virtual ~QueryEngine() = default;
  QueryEngine() = default;
  QueryEngine(const QueryEngine&) = delete;
  QueryEngine& operator=(const QueryEngine&) = delete;

  virtual std::string name() const = 0;

  // Background work (query workers, watchdogs, monitors): started once before use,
  // stopped once at shutdown (queued and running queries end CANCELLED or FAILED,
  // so no caller waits past the stop).
  virtual Status start_workers() { return {}; }
  virtual void stop_workers() {}

  // Validates and submits. invalid_argument (with the reason) for anything but one
  // read-only statement; rate_limited when the run queue is full (HTTP 429 with
  // Retry-After). A reusable cached result gives a query that is already SUCCEEDED.
  virtual Result<QueryStatus> start(const QueryRequest& request) = 0;
  // The current state; not_found for an unknown or forgotten id.
  virtual Result<QueryStatus> status(const std::string& query_id) = 0;
  // Waits until the query is terminal or `max_wait` passed; returns its state then.
  virtual Result<QueryStatus> wait(const std::string& query_id, std::chrono::milliseconds max_wait) = 0;
  // A page of a SUCCEEDED query: the first with an empty token, then next_token's.
  // conflict while not SUCCEEDED; not_found for an unknown id or an expired result;
  // invalid_argument for a token this query did not hand out.
  virtual Result<QueryPage> page(const std::string& query_id, const std::string& next_token) = 0;
  // Asks a queued or running query to stop (state CANCELLED); a terminal query is left as it is.
  virtual Result<QueryStatus> cancel(const std::string& query_id) = 0;
  // Reachability for /readyz (DuckDB: SELECT 1).
  virtual Status ping() = 0;
};

}  // namespace etl
