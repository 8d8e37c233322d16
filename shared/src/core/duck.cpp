#include "etl/duck.h"

#include <optional>

namespace etl::duck {

QueryResult::~QueryResult() {
  if (valid_) duckdb_destroy_result(&result_);
}

QueryResult::QueryResult(QueryResult&& other) noexcept : result_(other.result_), valid_(other.valid_) {
  other.valid_ = false;
}

QueryResult& QueryResult::operator=(QueryResult&& other) noexcept {
  if (this != &other) {
    if (valid_) duckdb_destroy_result(&result_);
    result_ = other.result_;
    valid_ = other.valid_;
    other.valid_ = false;
  }
  return *this;
}

std::string QueryResult::column_name(idx_t col) noexcept {
  const char* name = duckdb_column_name(&result_, col);
  return name ? name : "";
}

idx_t QueryResult::row_count() noexcept { return duckdb_row_count(&result_); }

std::optional<std::string> QueryResult::text(idx_t col, idx_t row) {
  if (duckdb_value_is_null(&result_, col, row)) return std::nullopt;
  char* v = duckdb_value_varchar(&result_, col, row);
  if (v == nullptr) return std::nullopt;
  std::string out(v);
  duckdb_free(v);
  return out;
}

Connection::~Connection() {
  if (conn_) duckdb_disconnect(&conn_);
}

Status Connection::execute(const std::string& sql) {
  auto r = query(sql);
  if (!r) return std::move(r).error();
  return {};
}

Result<QueryResult> Connection::query(const std::string& sql) {
  duckdb_result result;
  if (duckdb_query(conn_, sql.c_str(), &result) == DuckDBError) {
    std::string message = duckdb_result_error(&result) ? duckdb_result_error(&result) : "unknown DuckDB error";
    auto type = duckdb_result_error_type(&result);
    duckdb_destroy_result(&result);
    Errc code = Errc::internal;
    if (type == DUCKDB_ERROR_INTERRUPT) code = Errc::cancelled;
    else if (type == DUCKDB_ERROR_PARSER || type == DUCKDB_ERROR_BINDER || type == DUCKDB_ERROR_CATALOG ||
             type == DUCKDB_ERROR_CONVERSION || type == DUCKDB_ERROR_INVALID_INPUT || type == DUCKDB_ERROR_SYNTAX ||
             type == DUCKDB_ERROR_PERMISSION || type == DUCKDB_ERROR_NOT_IMPLEMENTED || type == DUCKDB_ERROR_OUT_OF_RANGE ||
             type == DUCKDB_ERROR_INVALID_TYPE || type == DUCKDB_ERROR_MISMATCH_TYPE || type == DUCKDB_ERROR_DIVIDE_BY_ZERO)
      code = Errc::invalid_argument;
    else if (type == DUCKDB_ERROR_IO || type == DUCKDB_ERROR_OUT_OF_MEMORY)
      code = Errc::unavailable;
    return make_error(code, message);
  }
  return QueryResult(result);
}

namespace {

// duckdb_extract_statements, owned: the statement count, or the parser's error.
class Extracted final {
 public:
  Extracted(duckdb_connection conn, const std::string& sql) { count_ = duckdb_extract_statements(conn, sql.c_str(), &e_); }
  ~Extracted() { duckdb_destroy_extracted(&e_); }
  Extracted(const Extracted&) = delete;
  Extracted& operator=(const Extracted&) = delete;
  idx_t count() const noexcept { return count_; }
  duckdb_extracted_statements raw() noexcept { return e_; }
  std::string error() {
    const char* m = e_ ? duckdb_extract_statements_error(e_) : nullptr;
    return m && *m ? m : "the statement does not parse";
  }

 private:
  duckdb_extracted_statements e_ = nullptr;
  idx_t count_ = 0;
};

Errc prepare_error_code(const std::string& message) {
  if (message.rfind("INTERRUPT", 0) == 0) return Errc::cancelled;
  if (message.rfind("IO Error", 0) == 0 || message.rfind("Out of Memory", 0) == 0) return Errc::unavailable;
  return Errc::invalid_argument;
}

}  // namespace

Result<std::size_t> Connection::count_statements(const std::string& sql) {
  Extracted extracted(conn_, sql);
  if (extracted.count() == 0) {
    // An empty text parses to no statement without an error.
    if (sql.find_first_not_of(" \t\r\n\f\v;") == std::string::npos) return std::size_t{0};
    return make_error(Errc::invalid_argument, extracted.error());
  }
  return static_cast<std::size_t>(extracted.count());
}

Result<PreparedStatement> Connection::prepare_single(const std::string& sql) {
  Extracted extracted(conn_, sql);
  if (extracted.count() == 0) return make_error(Errc::invalid_argument, extracted.error());
  if (extracted.count() != 1)
    return make_error(Errc::invalid_argument, "exactly one statement is allowed (DuckDB's parser found " +
                                                  std::to_string(extracted.count()) + ")");
  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare_extracted_statement(conn_, extracted.raw(), 0, &prepared) == DuckDBError) {
    const char* e = duckdb_prepare_error(prepared);
    std::string message = e ? e : "cannot prepare the statement";
    duckdb_destroy_prepare(&prepared);
    return make_error(prepare_error_code(message), message);
  }
  return PreparedStatement(prepared);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path, const std::map<std::string, std::string>& options) {
  duckdb_config config;
  if (duckdb_create_config(&config) == DuckDBError) return make_error(Errc::internal, "duckdb_create_config failed");
  for (const auto& [name, value] : options) {
    if (duckdb_set_config(config, name.c_str(), value.c_str()) == DuckDBError) {
      duckdb_destroy_config(&config);
      return make_error(Errc::invalid_argument, "DuckDB rejected setting " + name + "=" + value);
    }
  }
  duckdb_database db;
  char* error = nullptr;
  const char* file = path.empty() || path == ":memory:" ? nullptr : path.c_str();
  if (duckdb_open_ext(file, &db, config, &error) == DuckDBError) {
    std::string message = error ? error : "duckdb_open failed";
    if (error) duckdb_free(error);
    duckdb_destroy_config(&config);
    return make_error(Errc::unavailable, "cannot open DuckDB: " + message);
  }
  duckdb_destroy_config(&config);
  return std::unique_ptr<Database>(new Database(db));
}

Database::~Database() {
  if (db_) duckdb_close(&db_);
}

Result<std::unique_ptr<Connection>> Database::connect() {
  duckdb_connection c;
  if (duckdb_connect(db_, &c) == DuckDBError) return make_error(Errc::internal, "duckdb_connect failed");
  return std::make_unique<Connection>(c);
}

void ConnectionPool::add(std::unique_ptr<Connection> conn) { give_back(std::move(conn)); }

ConnectionPool::Lease ConnectionPool::take() {
  std::unique_lock lock(mutex_);
  returned_.wait(lock, [&] { return !idle_.empty(); });
  auto conn = std::move(idle_.back());
  idle_.pop_back();
  return Lease(*this, std::move(conn));
}

std::optional<ConnectionPool::Lease> ConnectionPool::try_take() {
  std::lock_guard lock(mutex_);
  if (idle_.empty()) return std::nullopt;
  auto conn = std::move(idle_.back());
  idle_.pop_back();
  return Lease(*this, std::move(conn));
}

void ConnectionPool::give_back(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(conn));
  }
  returned_.notify_one();
}

std::string quote_literal(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string quote_identifier(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace etl::duck
