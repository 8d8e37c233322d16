// Table -> file bytes in the configured output format.
//
// - parquet: through DuckDB (typed columns: DATE, TIMESTAMP in UTC, BIGINT,
//   BOOLEAN, INTEGER, VARCHAR[]), zstd-compressed (level 1). One in-memory
//   DuckDB database per writer, reused across tables and objects.
// - csv: RFC 4180 quoting with a header line, `\n` line ends. NULL is an empty
//   unquoted field, an empty string is `""`; lists are a JSON array string;
//   dates `YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (the
//   form DuckDB, Hive and Athena read back as TIMESTAMP; see dates.h).
// - jsonl: one JSON object per row, typed values, lists as arrays, null as
//   null; dates and timestamps as strings in the same forms as CSV.
//
// `dt` is never inside a file: it is the Hive partition folder.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "etl/config.h"
#include "etl/duck.h"
#include "etl/result.h"
#include "table.h"

namespace etl::transformer {

std::string write_csv(const Table& table);
std::string write_jsonl(const Table& table);

// Keeps one in-memory DuckDB database and a scratch folder for COPY ... TO.
// Not thread-safe: one per thread (or checked out from a pool).
class ParquetWriter final {
 public:
  static Result<std::unique_ptr<ParquetWriter>> open();
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  Result<std::string> write(const Table& table);
  // The table being written (for the etl_rows table function), or nullptr.
  const Table* current() const noexcept { return current_; }

  // Removes the scratch folders of processes that died without cleaning up
  // (kill -9). Once per process; open() calls it too.
  static void remove_stale_scratch_folders();

 private:
  ParquetWriter(std::unique_ptr<duck::Database> db, std::unique_ptr<duck::Connection> conn, std::filesystem::path dir);
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  std::filesystem::path dir_;       // private scratch folder, removed with the writer
  const Table* current_ = nullptr;  // set during write()
};

// All formats; opens its ParquetWriter on first use. Not thread-safe.
class TableWriter final {
 public:
  Result<std::string> write(const Table& table, OutputFormat format);

 private:
  std::unique_ptr<ParquetWriter> parquet_;
};

// The bytes of `table` in `format`, with a per-thread TableWriter.
Result<std::string> write_table(const Table& table, OutputFormat format);

// Does a table with no rows get a file? Only where an empty file still says
// what the table is: Parquet carries its schema, so yes; a header-only CSV or
// an empty JSON lines file would read back untyped (or fail), so no.
bool writes_empty_tables(OutputFormat format) noexcept;

}  // namespace etl::transformer
