// What the query manager runs SQL on: the embedded DuckDB in this process
// (DuckDbEngine), or the same engine in a child process of its own
// (EngineProcess, ETL_QUERY_ISOLATION=process) that a runaway query can take
// down, or be killed in, without taking the cataloger with it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "etl/catalog.h"
#include "etl/query_engine.h"
#include "etl/result.h"
#include "pinned_table.h"

namespace etl::cataloger {

// A whole result: column names and types, one JSON array text per row, and the
// CSV (header included) when asked for.
struct ResultSet {
  std::vector<ColumnInfo> columns;
  std::vector<std::string> rows;
  std::string csv;
  std::size_t bytes = 0;  // of `rows`
};

// One connection: a query runs on it at a time.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  SqlSession() = default;
  SqlSession(const SqlSession&) = delete;
  SqlSession& operator=(const SqlSession&) = delete;

  // Runs one read-only statement (DuckDbEngine::Session::execute says how it is
  // checked) under `dialect`'s rules; too_large when the rows pass `max_bytes`.
  virtual Result<ResultSet> execute(const std::string& sql, std::size_t max_bytes, bool want_csv, Dialect dialect) = 0;
  // Stops the statement running on this session (from another thread).
  virtual void interrupt() noexcept = 0;
  // When an interrupt did not stop the statement (one long call DuckDB cannot
  // interrupt): ends the process it runs in, and with it every statement running
  // there. false when the engine is this process.
  virtual bool kill() noexcept { return false; }
  // The process this session ran in stopped under it (killed, or out of memory):
  // the last execute's failure says nothing about its statement.
  virtual bool lost() const noexcept { return false; }
  // The engine's epoch it was made on (SqlEngine::epoch).
  virtual std::uint64_t epoch() const noexcept = 0;
};

class SqlEngine {
 public:
  virtual ~SqlEngine() = default;
  SqlEngine() = default;
  SqlEngine(const SqlEngine&) = delete;
  SqlEngine& operator=(const SqlEngine&) = delete;

  virtual Result<std::unique_ptr<SqlSession>> session() = 0;
  // Moves when sessions made before must be made again (a renewed database, a
  // restarted engine process).
  virtual std::uint64_t epoch() const noexcept = 0;
  // Before each query: sessions live long, S3 credentials do not.
  virtual Status refresh_credentials() = 0;
  // Time travel, in `session` only (DuckDbEngine::pin).
  virtual Status pin(SqlSession& session, const PinnedTable& pinned, const TableInfo* current) = 0;
  // The SQL gate (sql_gate.h); `reads` (optional) gets the tables it names.
  virtual Status check(const std::string& sql, std::set<std::string>* reads = nullptr) = 0;
  // `message` without the engine's folders (errors go to clients).
  virtual std::string scrub(std::string message) const = 0;
  // Brings the views up to the catalog (cheap when its generation did not move).
  virtual Status sync_views(Catalog& catalog) = 0;
  // The same, for a caller that waits about `wait` at most (a query being
  // submitted, before it has a timeout running): an engine process that leaves
  // the request unanswered that long is taken for stuck, killed and started again.
  virtual Status sync_views_within(Catalog& catalog, std::chrono::milliseconds wait) {
    (void)wait;
    return sync_views(catalog);
  }
  // The data_version of each table as its view reads it now (lower-cased names).
  virtual std::map<std::string, std::int64_t> view_versions() = 0;
  // The engine answers (SELECT 1).
  virtual Status ping() = 0;
  // Bytes of the tables' in-memory copies (ETL_QUERY_RESIDENT_BYTES).
  virtual std::uint64_t resident_bytes() const noexcept = 0;
  // Ends the process the engine runs in now, for a query stuck in a request to
  // it that no session of its own can stop (a view sync, a new session, a pin):
  // the request fails and the next one starts the process again. false when the
  // engine is this process, or none runs.
  virtual bool kill() noexcept { return false; }
};

}  // namespace etl::cataloger
