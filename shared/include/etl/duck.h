// RAII over DuckDB's C API (libduckdb from its npm package). Only what several
// modules need; a module that needs more of the C API calls it directly through
// `raw()` inside its own adapter. DuckDB errors become Error values here.
#pragma once

#include <duckdb.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "etl/result.h"

namespace etl::duck {

class QueryResult final {
 public:
  QueryResult() = default;
  explicit QueryResult(duckdb_result r) : result_(r), valid_(true) {}
  ~QueryResult();
  QueryResult(QueryResult&& other) noexcept;
  QueryResult& operator=(QueryResult&& other) noexcept;
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;

  duckdb_result* raw() noexcept { return &result_; }
  idx_t column_count() noexcept { return duckdb_column_count(&result_); }
  std::string column_name(idx_t col) noexcept;
  // Fetches the next chunk (nullptr at the end); the caller destroys it with duckdb_destroy_data_chunk.
  duckdb_data_chunk fetch_chunk() noexcept { return duckdb_fetch_chunk(result_); }
  // The value at (col,row) as text, for small results and tests; nullopt for NULL.
  std::optional<std::string> text(idx_t col, idx_t row);
  idx_t row_count() noexcept;  // materialised results only

 private:
  duckdb_result result_{};
  bool valid_ = false;
};

// A prepared statement (RAII).
class PreparedStatement final {
 public:
  explicit PreparedStatement(duckdb_prepared_statement p) : p_(p) {}
  ~PreparedStatement() { if (p_) duckdb_destroy_prepare(&p_); }
  PreparedStatement(PreparedStatement&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  PreparedStatement& operator=(PreparedStatement&&) = delete;
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;
  duckdb_statement_type type() noexcept { return duckdb_prepared_statement_type(p_); }
  duckdb_prepared_statement raw() noexcept { return p_; }

 private:
  duckdb_prepared_statement p_ = nullptr;
};

class Connection final {
 public:
  explicit Connection(duckdb_connection c) : conn_(c) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Status execute(const std::string& sql);
  Result<QueryResult> query(const std::string& sql);
  // How many statements DuckDB's own parser finds in `sql` (duckdb_extract_statements);
  // invalid_argument with the parser's message when it does not parse.
  Result<std::size_t> count_statements(const std::string& sql);
  // Parses `sql` with DuckDB's parser and prepares the one statement it holds
  // (duckdb_prepare_extracted_statement): exactly what will run. invalid_argument
  // when it is not exactly one statement or does not parse/bind.
  Result<PreparedStatement> prepare_single(const std::string& sql);
  // Asks a running query on this connection to stop (from another thread).
  void interrupt() noexcept { duckdb_interrupt(conn_); }
  duckdb_connection raw() noexcept { return conn_; }

 private:
  duckdb_connection conn_ = nullptr;
};

class Database final {
 public:
  // `path` ":memory:" or "" for in-memory; `options` are DuckDB config settings
  // applied before start (e.g. threads, memory_limit, enable_external_access).
  static Result<std::unique_ptr<Database>> open(const std::string& path,
                                                const std::map<std::string, std::string>& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Result<std::unique_ptr<Connection>> connect();
  duckdb_database raw() noexcept { return db_; }

 private:
  explicit Database(duckdb_database db) : db_(db) {}
  duckdb_database db_ = nullptr;
};

// Connections of one database for callers on several threads: each caller
// takes one (waiting while all are taken) and gives it back with its lease. A
// connection runs one statement at a time; different connections run side by side.
class ConnectionPool final {
 public:
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> conn) : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->give_back(std::move(conn_));
    }
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  void add(std::unique_ptr<Connection> conn);
  Lease take();
  // A connection when one is idle, without waiting.
  std::optional<Lease> try_take();

 private:
  void give_back(std::unique_ptr<Connection> conn);

  std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
};

// Quotes an SQL string literal ('it''s').
std::string quote_literal(std::string_view s);
// Quotes an identifier ("col").
std::string quote_identifier(std::string_view s);

}  // namespace etl::duck
