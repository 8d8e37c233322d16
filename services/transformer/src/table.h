// The three output tables (docs/contract.md §5) as small columnar buffers.
// Columnar because the writers want it that way (DuckDB data chunks take whole
// vectors) and because a string column is one arena plus offsets: a row costs
// no allocation of its own. `dt` is not a column: it is the partition folder.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace etl::transformer {

enum class ColumnType {
  varchar,
  integer,       // INTEGER (int32 range)
  bigint,        // BIGINT
  boolean,       // BOOLEAN, stored 0/1
  date,          // DATE, stored as days since 1970-01-01
  timestamp,     // TIMESTAMP (UTC), stored as microseconds since the epoch
  varchar_list,  // VARCHAR[]
};

// The DuckDB / SQL name of a type ("VARCHAR[]").
const char* sql_type(ColumnType type) noexcept;

struct ColumnSpec {
  std::string_view name;
  ColumnType type;
};

struct TableSchema {
  std::string_view name;  // "songs_data"
  std::span<const ColumnSpec> columns;
  // Index of a column by name; -1 when absent.
  int index_of(std::string_view column) const noexcept;
};

const TableSchema& albums_schema() noexcept;
const TableSchema& artists_schema() noexcept;
const TableSchema& songs_schema() noexcept;
// The three, in that order (a transform's albums, artists, songs).
std::span<const TableSchema* const> table_schemas() noexcept;

// Column positions, in schema order.
enum AlbumCol : int { al_album_id, al_album_name, al_album_type, al_release_date, al_release_date_precision,
                      al_total_tracks, al_album_url, al_artist_id, al_extracted_at };
enum ArtistCol : int { ar_artist_id, ar_artist_name, ar_artist_url, ar_artist_uri, ar_extracted_at };
enum SongCol : int { so_song_id, so_song_name, so_duration_ms, so_explicit, so_popularity, so_isrc, so_disc_number,
                     so_track_number, so_song_url, so_album_id, so_artist_id, so_artist_ids, so_added_at,
                     so_source_type, so_source_id, so_position, so_run_id, so_extracted_at };

// One column's values. Integer-like types share `ints`; strings (and list
// elements) live back to back in `chars` with their end offsets in `ends`.
class Column {
 public:
  explicit Column(ColumnType type) : type_(type) {}

  ColumnType type() const noexcept { return type_; }
  std::size_t size() const noexcept { return valid_.size(); }

  void push_null();
  void push_string(std::string_view s);
  void push_string(const std::optional<std::string_view>& s) { s ? push_string(*s) : push_null(); }
  void push_int(std::int64_t v);
  void push_int(const std::optional<std::int64_t>& v) { v ? push_int(*v) : push_null(); }
  // A list row: add its elements, then close it.
  void push_list_item(std::string_view s);
  void end_list();

  bool is_null(std::size_t row) const noexcept { return valid_[row] == 0; }
  std::string_view string_at(std::size_t row) const noexcept;  // varchar
  std::int64_t int_at(std::size_t row) const noexcept { return ints_[row]; }
  std::size_t list_size(std::size_t row) const noexcept;  // varchar_list
  std::string_view list_item(std::size_t row, std::size_t i) const noexcept;
  std::size_t list_begin(std::size_t row) const noexcept { return row == 0 ? 0 : list_ends_[row - 1]; }
  std::string_view element(std::size_t e) const noexcept;  // list element by flat index

  void reserve(std::size_t rows);
  std::size_t byte_size() const noexcept;
  // Appends every row of `other` (a column of the same type).
  void append(const Column& other);

 private:
  ColumnType type_;
  std::vector<std::uint8_t> valid_;
  std::vector<std::int64_t> ints_;
  std::string chars_;
  std::vector<std::size_t> ends_;       // per value (varchar) or per element (list)
  std::vector<std::size_t> list_ends_;  // per row: elements so far (list)
};

class Table {
 public:
  explicit Table(const TableSchema& schema);

  const TableSchema& schema() const noexcept { return *schema_; }
  std::string_view name() const noexcept { return schema_->name; }
  std::size_t rows() const noexcept { return rows_; }
  std::size_t column_count() const noexcept { return columns_.size(); }
  Column& column(int i) noexcept { return columns_[static_cast<std::size_t>(i)]; }
  const Column& column(int i) const noexcept { return columns_[static_cast<std::size_t>(i)]; }
  // By name, for tests and tools; throws std::out_of_range for an unknown name.
  const Column& column(std::string_view name) const;

  // Every column got exactly one value for the new row.
  void end_row() noexcept { ++rows_; }
  void reserve(std::size_t rows);
  // Appends every row of `other`, a table of the same schema (a batch's rows of many objects).
  void append(const Table& other);
  std::size_t byte_size() const noexcept;

  // A cell rendered as text for tests and messages ("NULL" for null, lists as JSON).
  std::string text(std::size_t row, std::string_view column) const;

 private:
  const TableSchema* schema_;
  std::vector<Column> columns_;
  std::size_t rows_ = 0;
};

}  // namespace etl::transformer
