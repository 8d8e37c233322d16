// One statement's run for the PostgreSQL endpoint: answered locally (SET, SHOW,
// session functions, catalog introspection) or sent to the query engine through
// QueryEngine::start — the same read-only gate, sandbox and admission as
// POST /v1/query — and its result streamed as DataRows, page by page.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "etl/catalog.h"
#include "etl/query_engine.h"
#include "pgwire/local_result.h"
#include "pgwire/wire.h"

namespace etl::pgwire {

struct ExecContext {
  QueryEngine& engine;
  Catalog& catalog;
  SessionInfo& session;
  std::chrono::milliseconds max_timeout{30000};  // default and ceiling of statement_timeout
  // Called with the id of the engine query that runs now ("" when it ended): CancelRequest targets it.
  std::function<void(const std::string&)> running;
  // Looked at while an engine query runs: true when the client has gone away, which
  // cancels the query (its worker is free at once, not at the statement timeout).
  std::function<bool()> client_gone;
  // DECLARE, FETCH, MOVE and CLOSE (cursors.h) act on the session's portals: the
  // session answers them (nullopt: `sql` is not one of these).
  std::function<std::optional<LocalOutcome>(const std::string& sql)> cursor_statement;
  // Who runs the queries (the peer's address), for the engine's per-client fairness:
  // the same identity as over HTTP from that address.
  std::string client;
};

// The SQLSTATE for an engine or endpoint error.
std::string sqlstate_for(const Error& error);

class Execution final {
 public:
  // Runs `sql` (one statement, parameters already bound) to its first page.
  static Execution run(ExecContext& ctx, const std::string& sql);

  // The columns `sql` (one SELECT or WITH query, parameters bound) would return, from the
  // engine's DESCRIBE of it, which binds the query without running it; nullopt when that
  // cannot say: an engine other than DuckDB, a statement answered here, or DESCRIBE failing.
  // What a Describe of a prepared statement reports: running the statement with NULL
  // parameters instead costs a run, and DuckDB folds an expression of a NULL to a NULL
  // of no type ($1::numeric * 2 would be described as an integer).
  static std::optional<Execution> described(ExecContext& ctx, const std::string& sql);

  const std::optional<SqlError>& error() const noexcept { return error_; }
  TxEffect tx() const noexcept { return local_.tx; }
  const Release& release() const noexcept { return local_.release; }
  bool returns_rows() const noexcept { return is_local_ ? local_.result.returns_rows : true; }
  // The result format of each column from a Bind's format codes (binary_values.h);
  // without a call every column is text. An error when the codes do not fit the
  // columns or a column asked for in binary has no binary form here.
  std::optional<SqlError> set_formats(const std::vector<std::int16_t>& requested);
  // RowDescription (with the formats set), or NoData for a statement without rows.
  void describe(Writer& w) const;
  // Up to `max_rows` DataRows (0: all), then CommandComplete when the result is
  // exhausted; returns whether it is. `flush` is called when the buffer grows large.
  // An error on a later page is returned (the caller reports it).
  Result<bool> write_rows(ExecContext& ctx, Writer& w, std::int32_t max_rows, const std::function<Status()>& flush);
  // The next `count` rows (-1: all that are left) as text, with the columns: what a
  // FETCH from this execution, as a cursor, answers ("FETCH <n>" / "MOVE <n>").
  Result<LocalResult> take_rows(ExecContext& ctx, long long count);
  // The bytes of rows this execution keeps in memory (its current page).
  std::size_t held_bytes() const noexcept;

 private:
  Result<bool> next_page(ExecContext& ctx);
  // The engine's next row as text values, the next page fetched when this one is
  // used up; nullopt past the last row.
  Result<std::optional<std::vector<std::optional<std::string>>>> next_engine_row(ExecContext& ctx);
  std::size_t column_count() const noexcept { return is_local_ ? local_.result.columns.size() : types_.size(); }
  std::int32_t column_oid(std::size_t i) const noexcept {
    return is_local_ ? local_.result.columns[i].type_oid : types_[i].oid;
  }
  // A DataRow of text values, the columns set to binary converted first.
  Status write_row(Writer& w, std::vector<std::optional<std::string>> values) const;

  bool is_local_ = true;
  LocalOutcome local_;
  std::optional<SqlError> error_;
  std::vector<std::int16_t> formats_;  // per column, 0 text / 1 binary; empty: all text
  std::size_t local_pos_ = 0;
  // engine results
  std::string query_id_;
  std::vector<std::string> names_;
  std::vector<PgType> types_;
  std::vector<std::string> page_;
  std::size_t page_pos_ = 0;
  std::optional<std::string> next_token_;
  std::uint64_t sent_ = 0;
};

}  // namespace etl::pgwire
