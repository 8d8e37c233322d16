#include "table.h"

#include <array>
#include <stdexcept>

#include "etl/dates.h"
#include "etl/json_text.h"

namespace etl::transformer {
namespace {

using T = ColumnType;

constexpr std::array<ColumnSpec, 9> kAlbums{{
    {"album_id", T::varchar},
    {"album_name", T::varchar},
    {"album_type", T::varchar},
    {"release_date", T::date},
    {"release_date_precision", T::varchar},
    {"total_tracks", T::integer},
    {"album_url", T::varchar},
    {"artist_id", T::varchar},
    {"extracted_at", T::timestamp},
}};

constexpr std::array<ColumnSpec, 5> kArtists{{
    {"artist_id", T::varchar},
    {"artist_name", T::varchar},
    {"artist_url", T::varchar},
    {"artist_uri", T::varchar},
    {"extracted_at", T::timestamp},
}};

constexpr std::array<ColumnSpec, 18> kSongs{{
    {"song_id", T::varchar},
    {"song_name", T::varchar},
    {"duration_ms", T::bigint},
    {"explicit", T::boolean},
    {"popularity", T::integer},
    {"isrc", T::varchar},
    {"disc_number", T::integer},
    {"track_number", T::integer},
    {"song_url", T::varchar},
    {"album_id", T::varchar},
    {"artist_id", T::varchar},
    {"artist_ids", T::varchar_list},
    {"added_at", T::timestamp},
    {"source_type", T::varchar},
    {"source_id", T::varchar},
    {"position", T::integer},
    {"run_id", T::varchar},
    {"extracted_at", T::timestamp},
}};

const TableSchema kAlbumsSchema{"albums_data", kAlbums};
const TableSchema kArtistsSchema{"artists_data", kArtists};
const TableSchema kSongsSchema{"songs_data", kSongs};

}  // namespace

const char* sql_type(ColumnType type) noexcept {
  switch (type) {
    case T::varchar: return "VARCHAR";
    case T::integer: return "INTEGER";
    case T::bigint: return "BIGINT";
    case T::boolean: return "BOOLEAN";
    case T::date: return "DATE";
    case T::timestamp: return "TIMESTAMP";
    case T::varchar_list: return "VARCHAR[]";
  }
  return "VARCHAR";
}

int TableSchema::index_of(std::string_view column) const noexcept {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == column) return static_cast<int>(i);
  return -1;
}

const TableSchema& albums_schema() noexcept { return kAlbumsSchema; }
const TableSchema& artists_schema() noexcept { return kArtistsSchema; }
const TableSchema& songs_schema() noexcept { return kSongsSchema; }

std::span<const TableSchema* const> table_schemas() noexcept {
  static const TableSchema* const kAll[] = {&kAlbumsSchema, &kArtistsSchema, &kSongsSchema};
  return kAll;
}

void Column::push_null() {
  valid_.push_back(0);
  switch (type_) {
    case T::varchar: ends_.push_back(chars_.size()); break;
    case T::varchar_list: list_ends_.push_back(ends_.size()); break;
    default: ints_.push_back(0); break;
  }
}

void Column::push_string(std::string_view s) {
  chars_.append(s);
  ends_.push_back(chars_.size());
  valid_.push_back(1);
}

void Column::push_int(std::int64_t v) {
  ints_.push_back(v);
  valid_.push_back(1);
}

void Column::push_list_item(std::string_view s) {
  chars_.append(s);
  ends_.push_back(chars_.size());
}

void Column::end_list() {
  list_ends_.push_back(ends_.size());
  valid_.push_back(1);
}

std::string_view Column::element(std::size_t e) const noexcept {
  const std::size_t begin = e == 0 ? 0 : ends_[e - 1];
  return std::string_view(chars_).substr(begin, ends_[e] - begin);
}

std::string_view Column::string_at(std::size_t row) const noexcept { return element(row); }

std::size_t Column::list_size(std::size_t row) const noexcept { return list_ends_[row] - list_begin(row); }

std::string_view Column::list_item(std::size_t row, std::size_t i) const noexcept { return element(list_begin(row) + i); }

void Column::reserve(std::size_t rows) {
  valid_.reserve(rows);
  if (type_ == T::varchar) ends_.reserve(rows);
  else if (type_ == T::varchar_list) list_ends_.reserve(rows);
  else ints_.reserve(rows);
}

std::size_t Column::byte_size() const noexcept {
  return valid_.capacity() + ints_.capacity() * sizeof(std::int64_t) + chars_.capacity() +
         (ends_.capacity() + list_ends_.capacity()) * sizeof(std::size_t);
}

void Column::append(const Column& other) {
  const std::size_t char_base = chars_.size(), end_base = ends_.size();
  valid_.insert(valid_.end(), other.valid_.begin(), other.valid_.end());
  ints_.insert(ints_.end(), other.ints_.begin(), other.ints_.end());
  chars_.append(other.chars_);
  for (std::size_t e : other.ends_) ends_.push_back(e + char_base);
  for (std::size_t e : other.list_ends_) list_ends_.push_back(e + end_base);
}

Table::Table(const TableSchema& schema) : schema_(&schema) {
  columns_.reserve(schema.columns.size());
  for (const auto& c : schema.columns) columns_.emplace_back(c.type);
}

const Column& Table::column(std::string_view name) const {
  int i = schema_->index_of(name);
  if (i < 0) throw std::out_of_range("no column " + std::string(name) + " in " + std::string(schema_->name));
  return column(i);
}

void Table::reserve(std::size_t rows) {
  for (auto& c : columns_) c.reserve(rows);
}

void Table::append(const Table& other) {
  for (std::size_t i = 0; i < columns_.size(); ++i) columns_[i].append(other.columns_[i]);
  rows_ += other.rows_;
}

std::size_t Table::byte_size() const noexcept {
  std::size_t n = 0;
  for (const auto& c : columns_) n += c.byte_size();
  return n;
}

std::string Table::text(std::size_t row, std::string_view name) const {
  const Column& c = column(name);
  if (c.is_null(row)) return "NULL";
  std::string out;
  switch (c.type()) {
    case T::varchar: return std::string(c.string_at(row));
    case T::integer:
    case T::bigint: return std::to_string(c.int_at(row));
    case T::boolean: return c.int_at(row) ? "true" : "false";
    case T::date: return format_date(static_cast<std::int32_t>(c.int_at(row)));
    case T::timestamp: return format_timestamp(c.int_at(row));
    case T::varchar_list:
      out += '[';
      for (std::size_t i = 0; i < c.list_size(row); ++i) {
        if (i) out += ',';
        append_json_string(out, c.list_item(row, i));
      }
      out += ']';
      return out;
  }
  return out;
}

}  // namespace etl::transformer
