// The writers, checked by reading their files back with DuckDB: values, NULLs,
// types (Parquet), and the CSV traps (quotes, commas, newlines, non-ASCII).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "etl/duck.h"
#include "fixtures.h"
#include "table_writer.h"
#include "test_support.h"
#include "transform.h"

namespace etl::transformer {
namespace {

using namespace fixtures;

// The tricky strings every text format must carry unchanged.
const std::vector<std::string> kTraps = {
    "plain",
    "with, comma",
    "with \"quotes\"",
    "line\nbreak",
    "carriage\r\nreturn",
    "\"",
    ",",
    " leading and trailing ",
    "Beyonc\u00e9 \u2013 \u65e5\u672c\u8a9e \U0001F3B5",
    "back\\slash\ttab",
    "",
};

// A songs table with one row per trap string and NULLs in every nullable column on odd rows.
Table trap_table() {
  std::vector<json> items;
  for (std::size_t i = 0; i < kTraps.size(); ++i) {
    TrackSpec t;
    t.id = "0DiWol3AO6WpXZgp0goxA" + std::string(1, static_cast<char>('a' + i));
    t.name = kTraps[i];
    if (i % 2 == 1) t.popularity.reset();
    t.artists = {artist("1aaaaaaaaaaaaaaaaaaaaa", "A, \"one\""), artist("2bbbbbbbbbbbbbbbbbbbbb", "B")};
    if (i == 2) t.artists.clear();
    items.push_back(playlist_item(track(t), i % 2 == 1 ? "not a time" : "2024-01-05T12:34:56.25Z"));
  }
  auto out = transform_raw(envelope("playlist", "p", {paging(json(items))}), RawObjectMeta{kRawName, std::nullopt});
  EXPECT_TRUE(out.ok());
  return std::move(out->songs);
}

class WritersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = duck::Database::open(":memory:");
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    auto conn = db_->connect();
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
  }

  std::string save(const std::string& name, const std::string& bytes) {
    auto path = dir_.path() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path.string();
  }

  // Every cell of `sql`'s result as text ("NULL" for NULL).
  std::vector<std::vector<std::string>> rows(const std::string& sql) {
    auto r = conn_->query(sql);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message) << "\n" << sql;
    std::vector<std::vector<std::string>> out;
    if (!r.ok()) return out;
    for (idx_t row = 0; row < r->row_count(); ++row) {
      auto& line = out.emplace_back();
      for (idx_t col = 0; col < r->column_count(); ++col) line.push_back(r->text(col, row).value_or("NULL"));
    }
    return out;
  }

  std::map<std::string, std::string> column_types(const std::string& from) {
    std::map<std::string, std::string> types;
    for (auto& row : rows("DESCRIBE SELECT * FROM " + from)) types[row[0]] = row[1];
    return types;
  }

  etl::testing::TempDir dir_;
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
};

TEST_F(WritersTest, ParquetKeepsTheContractTypes) {
  Table songs = trap_table();
  auto bytes = write_table(songs, OutputFormat::parquet);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto file = save("songs.parquet", *bytes);
  auto types = column_types("read_parquet(" + duck::quote_literal(file) + ")");
  EXPECT_EQ(types.size(), 18u) << "no dt column inside the file";
  EXPECT_EQ(types["song_id"], "VARCHAR");
  EXPECT_EQ(types["duration_ms"], "BIGINT");
  EXPECT_EQ(types["explicit"], "BOOLEAN");
  EXPECT_EQ(types["popularity"], "INTEGER");
  EXPECT_EQ(types["disc_number"], "INTEGER");
  EXPECT_EQ(types["track_number"], "INTEGER");
  EXPECT_EQ(types["position"], "INTEGER");
  EXPECT_EQ(types["artist_ids"], "VARCHAR[]");
  EXPECT_EQ(types["added_at"], "TIMESTAMP");
  EXPECT_EQ(types["extracted_at"], "TIMESTAMP");

  Table albums(albums_schema());
  auto album_bytes = write_table(albums, OutputFormat::parquet);
  ASSERT_TRUE(album_bytes.ok());
  auto album_types = column_types("read_parquet(" + duck::quote_literal(save("albums.parquet", *album_bytes)) + ")");
  EXPECT_EQ(album_types["release_date"], "DATE");
  EXPECT_EQ(album_types["total_tracks"], "INTEGER");
}

TEST_F(WritersTest, ParquetRoundTripsValuesListsAndNulls) {
  Table songs = trap_table();
  auto bytes = write_table(songs, OutputFormat::parquet);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  auto file = save("songs.parquet", *bytes);
  auto got = rows("SELECT song_name, popularity, added_at, len(artist_ids), artist_ids[1], artist_ids[2], explicit, "
                  "duration_ms, position FROM read_parquet(" + duck::quote_literal(file) + ") ORDER BY position");
  ASSERT_EQ(got.size(), kTraps.size());
  for (std::size_t i = 0; i < kTraps.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    EXPECT_EQ(got[i][0], kTraps[i]);
    EXPECT_EQ(got[i][1], i % 2 == 1 ? "NULL" : "77");
    EXPECT_EQ(got[i][2], i % 2 == 1 ? "NULL" : "2024-01-05 12:34:56.25");
    EXPECT_EQ(got[i][3], i == 2 ? "0" : "2") << "artist_ids is a list";
    EXPECT_EQ(got[i][4], i == 2 ? "NULL" : "1aaaaaaaaaaaaaaaaaaaaa");
    EXPECT_EQ(got[i][5], i == 2 ? "NULL" : "2bbbbbbbbbbbbbbbbbbbbb");
    EXPECT_EQ(got[i][6], "false");
    EXPECT_EQ(got[i][7], "320357");
    EXPECT_EQ(got[i][8], std::to_string(i));
  }
}

TEST_F(WritersTest, ParquetWriterIsReusedAcrossManyTables) {
  ParquetWriter* first = nullptr;
  auto writer = ParquetWriter::open();
  ASSERT_TRUE(writer.ok());
  first = writer->get();
  for (int i = 0; i < 20; ++i) {
    Table songs = trap_table();
    auto bytes = first->write(songs);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    auto file = save("s" + std::to_string(i) + ".parquet", *bytes);
    EXPECT_EQ(rows("SELECT count(*) FROM read_parquet(" + duck::quote_literal(file) + ")")[0][0],
              std::to_string(kTraps.size()));
  }
}

TEST_F(WritersTest, CsvQuotesCommasNewlinesAndNonAsciiSurviveARoundTrip) {
  Table songs = trap_table();
  auto bytes = write_table(songs, OutputFormat::csv);
  ASSERT_TRUE(bytes.ok());
  auto file = save("songs.csv", *bytes);
  auto got = rows("SELECT song_name, popularity, added_at, artist_ids FROM read_csv(" + duck::quote_literal(file) +
                  ", header = true, allow_quoted_nulls = false) ORDER BY position");
  ASSERT_EQ(got.size(), kTraps.size());
  for (std::size_t i = 0; i < kTraps.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    EXPECT_EQ(got[i][0], kTraps[i]) << "an empty string stays empty, not NULL";
    EXPECT_EQ(got[i][1], i % 2 == 1 ? "NULL" : "77");
    EXPECT_EQ(got[i][2], i % 2 == 1 ? "NULL" : "2024-01-05 12:34:56.25");
    EXPECT_EQ(got[i][3], i == 2 ? "[]" : R"(["1aaaaaaaaaaaaaaaaaaaaa","2bbbbbbbbbbbbbbbbbbbbb"])");
  }
  auto types = column_types("read_csv(" + duck::quote_literal(file) + ", header = true)");
  EXPECT_EQ(types["added_at"], "TIMESTAMP") << "timestamps are detected as such";
  EXPECT_EQ(types["extracted_at"], "TIMESTAMP");
  EXPECT_EQ(types["explicit"], "BOOLEAN");
}

TEST_F(WritersTest, CsvFollowsRfc4180Quoting) {
  Table artists(artists_schema());
  artists.column(ar_artist_id).push_string(std::string_view("a"));
  artists.column(ar_artist_name).push_string(std::string_view("Earth, Wind & \"Fire\""));
  artists.column(ar_artist_url).push_null();
  artists.column(ar_artist_uri).push_string(std::string_view(""));
  artists.column(ar_extracted_at).push_int(0);
  artists.end_row();
  EXPECT_EQ(write_csv(artists),
            "artist_id,artist_name,artist_url,artist_uri,extracted_at\n"
            "a,\"Earth, Wind & \"\"Fire\"\"\",,\"\",1970-01-01 00:00:00.000000\n");
}

TEST_F(WritersTest, JsonLinesAreTypedOneObjectPerLine) {
  Table songs = trap_table();
  auto bytes = write_table(songs, OutputFormat::jsonl);
  ASSERT_TRUE(bytes.ok());
  std::istringstream in(*bytes);
  std::string line;
  std::size_t i = 0;
  while (std::getline(in, line)) {
    SCOPED_TRACE("line " + std::to_string(i));
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.size(), 18u);
    EXPECT_EQ(j["song_name"], kTraps[i]);
    EXPECT_TRUE(j["duration_ms"].is_number_integer());
    EXPECT_TRUE(j["explicit"].is_boolean());
    EXPECT_TRUE(j["artist_ids"].is_array());
    if (i % 2 == 1) {
      EXPECT_TRUE(j["popularity"].is_null());
      EXPECT_TRUE(j["added_at"].is_null());
    } else {
      EXPECT_EQ(j["popularity"], 77);
      EXPECT_EQ(j["added_at"], "2024-01-05 12:34:56.250000");
    }
    EXPECT_EQ(j["extracted_at"], "2026-11-21 06:00:00.000000");
    ++i;
  }
  EXPECT_EQ(i, kTraps.size());
  auto file = save("songs.jsonl", *bytes);
  auto got = rows("SELECT song_name, len(artist_ids) FROM read_json(" + duck::quote_literal(file) +
                  ", format = 'newline_delimited') ORDER BY position");
  ASSERT_EQ(got.size(), kTraps.size());
  for (std::size_t r = 0; r < kTraps.size(); ++r) EXPECT_EQ(got[r][0], kTraps[r]);
  auto types = column_types("read_json(" + duck::quote_literal(file) + ", format = 'newline_delimited')");
  EXPECT_EQ(types["added_at"], "TIMESTAMP");
  EXPECT_EQ(types["extracted_at"], "TIMESTAMP");
  EXPECT_EQ(types["duration_ms"], "BIGINT");
  EXPECT_EQ(types["artist_ids"], "VARCHAR[]");
}

TEST_F(WritersTest, EmptyTablesAreWrittenOnlyWhereTheyKeepTheirSchema) {
  EXPECT_TRUE(writes_empty_tables(OutputFormat::parquet));
  EXPECT_FALSE(writes_empty_tables(OutputFormat::csv));
  EXPECT_FALSE(writes_empty_tables(OutputFormat::jsonl));
  Table empty(songs_schema());
  auto bytes = write_table(empty, OutputFormat::parquet);
  ASSERT_TRUE(bytes.ok());
  auto file = save("empty.parquet", *bytes);
  EXPECT_EQ(rows("SELECT count(*) FROM read_parquet(" + duck::quote_literal(file) + ")")[0][0], "0");
  EXPECT_EQ(column_types("read_parquet(" + duck::quote_literal(file) + ")")["artist_ids"], "VARCHAR[]");
}

}  // namespace
}  // namespace etl::transformer
