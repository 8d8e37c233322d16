// Parquet through DuckDB: `COPY (SELECT * FROM etl_rows()) TO <scratch file>`,
// where etl_rows is a table function of ours that hands DuckDB the Table's
// columns as data chunks (whole vectors, not value by value). Nothing is
// stored in DuckDB: the rows stream from our buffers into its Parquet writer.
#include <cstdio>
#include <fstream>
#include <mutex>
#include <vector>

#include "etl/process_folders.h"
#include "table_writer.h"

namespace etl::transformer {
namespace {

namespace fs = std::filesystem;

// Owns the logical types a data chunk is created from.
class ChunkTypes {
 public:
  explicit ChunkTypes(const TableSchema& schema) {
    for (const auto& c : schema.columns) types_.push_back(make(c.type));
  }
  ~ChunkTypes() {
    for (auto& t : types_) duckdb_destroy_logical_type(&t);
  }
  ChunkTypes(const ChunkTypes&) = delete;
  ChunkTypes& operator=(const ChunkTypes&) = delete;
  duckdb_logical_type* data() noexcept { return types_.data(); }
  idx_t size() const noexcept { return types_.size(); }

 private:
  static duckdb_logical_type make(ColumnType t) {
    switch (t) {
      case ColumnType::varchar: return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
      case ColumnType::integer: return duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
      case ColumnType::bigint: return duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
      case ColumnType::boolean: return duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
      case ColumnType::date: return duckdb_create_logical_type(DUCKDB_TYPE_DATE);
      case ColumnType::timestamp: return duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP);
      case ColumnType::varchar_list: {
        duckdb_logical_type child = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
        duckdb_logical_type list = duckdb_create_list_type(child);
        duckdb_destroy_logical_type(&child);
        return list;
      }
    }
    return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  }
  std::vector<duckdb_logical_type> types_;
};

void fill_vector(duckdb_vector vec, const Column& c, std::size_t first, idx_t count) {
  duckdb_vector_ensure_validity_writable(vec);
  std::uint64_t* validity = duckdb_vector_get_validity(vec);
  void* data = duckdb_vector_get_data(vec);
  idx_t list_total = 0;
  duckdb_vector child = nullptr;
  if (c.type() == ColumnType::varchar_list) {
    const std::size_t begin = c.list_begin(first);
    const std::size_t end = c.list_begin(first + count - 1) + c.list_size(first + count - 1);
    list_total = end - begin;
    duckdb_list_vector_reserve(vec, list_total);
    duckdb_list_vector_set_size(vec, list_total);
    child = duckdb_list_vector_get_child(vec);
  }
  for (idx_t i = 0; i < count; ++i) {
    const std::size_t row = first + i;
    if (c.is_null(row)) {
      duckdb_validity_set_row_invalid(validity, i);
      if (c.type() == ColumnType::varchar_list) static_cast<duckdb_list_entry*>(data)[i] = {0, 0};
      continue;
    }
    switch (c.type()) {
      case ColumnType::varchar: {
        std::string_view s = c.string_at(row);
        duckdb_vector_assign_string_element_len(vec, i, s.data(), s.size());
        break;
      }
      case ColumnType::integer: static_cast<std::int32_t*>(data)[i] = static_cast<std::int32_t>(c.int_at(row)); break;
      case ColumnType::bigint: static_cast<std::int64_t*>(data)[i] = c.int_at(row); break;
      case ColumnType::boolean: static_cast<bool*>(data)[i] = c.int_at(row) != 0; break;
      case ColumnType::date: static_cast<duckdb_date*>(data)[i].days = static_cast<std::int32_t>(c.int_at(row)); break;
      case ColumnType::timestamp: static_cast<duckdb_timestamp*>(data)[i].micros = c.int_at(row); break;
      case ColumnType::varchar_list: {
        const std::size_t base = c.list_begin(first);
        const std::size_t begin = c.list_begin(row), n = c.list_size(row);
        static_cast<duckdb_list_entry*>(data)[i] = {begin - base, n};
        for (std::size_t e = 0; e < n; ++e) {
          std::string_view s = c.element(begin + e);
          duckdb_vector_assign_string_element_len(child, begin - base + e, s.data(), s.size());
        }
        break;
      }
    }
  }
}

constexpr std::string_view kScratchPrefix = "spotify-etl-parquet-";

}  // namespace

// Scratch folders are named spotify-etl-parquet-<pid>-XXXXXX. A process killed
// with -9 cannot remove its own; the next one removes those of dead processes.
void ParquetWriter::remove_stale_scratch_folders() {
  static std::once_flag once;
  std::call_once(once, [] { remove_dead_process_folders(fs::temp_directory_path(), kScratchPrefix); });
}

namespace {

// The table function's state: which row the next chunk starts at.
struct ScanState {
  std::size_t next = 0;
};

void bind_rows(duckdb_bind_info info) {
  auto* writer = static_cast<ParquetWriter*>(duckdb_bind_get_extra_info(info));
  const Table* table = writer->current();
  if (table == nullptr) {
    duckdb_bind_set_error(info, "etl_rows() is only usable while a table is being written");
    return;
  }
  ChunkTypes types(table->schema());
  for (std::size_t i = 0; i < table->schema().columns.size(); ++i)
    duckdb_bind_add_result_column(info, std::string(table->schema().columns[i].name).c_str(), types.data()[i]);
}

void init_rows(duckdb_init_info info) {
  duckdb_init_set_init_data(info, new ScanState(), [](void* p) { delete static_cast<ScanState*>(p); });
  duckdb_init_set_max_threads(info, 1);
}

void scan_rows(duckdb_function_info info, duckdb_data_chunk output) {
  auto* writer = static_cast<ParquetWriter*>(duckdb_function_get_extra_info(info));
  auto* state = static_cast<ScanState*>(duckdb_function_get_init_data(info));
  const Table& table = *writer->current();
  const idx_t count = std::min<idx_t>(duckdb_vector_size(), table.rows() - state->next);
  if (count > 0)
    for (idx_t col = 0; col < table.column_count(); ++col)
      fill_vector(duckdb_data_chunk_get_vector(output, col), table.column(static_cast<int>(col)), state->next, count);
  duckdb_data_chunk_set_size(output, count);
  state->next += count;
}

}  // namespace

ParquetWriter::ParquetWriter(std::unique_ptr<duck::Database> db, std::unique_ptr<duck::Connection> conn, fs::path dir)
    : db_(std::move(db)), conn_(std::move(conn)), dir_(std::move(dir)) {}

ParquetWriter::~ParquetWriter() {
  conn_.reset();
  db_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::open() {
  // One thread per database: writers are per thread already, and several
  // DuckDB thread pools in one process would fight over the cores.
  auto db = duck::Database::open(":memory:", {{"threads", "1"}, {"preserve_insertion_order", "true"}});
  if (!db) return std::move(db).error();
  auto conn = (*db)->connect();
  if (!conn) return std::move(conn).error();
  remove_stale_scratch_folders();
  auto scratch = make_process_folder(fs::temp_directory_path(), kScratchPrefix);
  if (!scratch)
    return make_error(Errc::unavailable, "cannot create a scratch folder under " + fs::temp_directory_path().string());
  std::unique_ptr<ParquetWriter> writer(new ParquetWriter(std::move(db).value(), std::move(conn).value(), scratch->string()));
  duckdb_table_function rows = duckdb_create_table_function();
  duckdb_table_function_set_name(rows, "etl_rows");
  duckdb_table_function_set_extra_info(rows, writer.get(), nullptr);
  duckdb_table_function_set_bind(rows, bind_rows);
  duckdb_table_function_set_init(rows, init_rows);
  duckdb_table_function_set_function(rows, scan_rows);
  const bool registered = duckdb_register_table_function(writer->conn_->raw(), rows) == DuckDBSuccess;
  duckdb_destroy_table_function(&rows);
  if (!registered) return make_error(Errc::internal, "cannot register the etl_rows table function in DuckDB");
  return writer;
}

namespace {

// Iceberg field ids for the file's columns (docs/contract.md, "Iceberg tables"):
// top-level columns 1..n in schema order, then the list elements n+1.. in the
// order of their columns. Readers that resolve columns by id (Iceberg) find them
// without a name mapping; the cataloger takes the ids from the files.
std::string field_ids_option(const TableSchema& schema) {
  std::string out = "{";
  int next_element = static_cast<int>(schema.columns.size()) + 1;
  for (std::size_t i = 0; i < schema.columns.size(); ++i) {
    const auto& c = schema.columns[i];
    out += (i ? ", " : "") + duck::quote_identifier(std::string(c.name)) + ": ";
    if (c.type == ColumnType::varchar_list)
      out += "{__duckdb_field_id: " + std::to_string(i + 1) + ", element: " + std::to_string(next_element++) + "}";
    else
      out += std::to_string(i + 1);
  }
  return out + "}";
}

}  // namespace

Result<std::string> ParquetWriter::write(const Table& table) {
  const fs::path file = dir_ / (std::string(table.name()) + ".parquet");
  current_ = &table;
  // zstd level 1: a tenth larger than the default level 3, and half the compression time.
  Status copied = conn_->execute("COPY (SELECT * FROM etl_rows()) TO " + duck::quote_literal(file.string()) +
                                 " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, FIELD_IDS " +
                                 field_ids_option(table.schema()) + ")");
  current_ = nullptr;
  ETL_RETURN_IF_ERROR(copied);
  std::error_code size_ec;
  const auto size = fs::file_size(file, size_ec);
  std::ifstream in(file, std::ios::binary);
  if (size_ec || !in) return make_error(Errc::internal, "DuckDB wrote no file at " + file.string());
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  in.close();
  std::error_code ec;
  fs::remove(file, ec);
  return bytes;
}

}  // namespace etl::transformer
