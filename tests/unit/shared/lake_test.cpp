// The lake contract (etl/lake.h): names parse back to what made them, and the key
// layout is pinned by tests/golden/keys.txt so a change to it cannot go unnoticed.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "etl/dates.h"
#include "etl/lake.h"

namespace etl {
namespace {

std::vector<std::vector<std::string>> golden_lines(const std::string& kind) {
  std::ifstream in(std::string(ETL_SOURCE_DIR) + "/tests/golden/keys.txt");
  EXPECT_TRUE(in.good()) << "tests/golden/keys.txt is missing";
  std::vector<std::vector<std::string>> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string w; words >> w;) fields.push_back(w);
    if (!fields.empty() && fields[0] == kind) out.push_back(fields);
  }
  EXPECT_FALSE(out.empty()) << "no '" << kind << "' lines in tests/golden/keys.txt";
  return out;
}

TEST(SourceType, EveryTypeRoundTripsThroughItsName) {
  for (SourceType type : kSourceTypes) EXPECT_EQ(parse_source_type(to_string(type)), type) << to_string(type);
  EXPECT_EQ(to_string(SourceType::artist_albums), "artist-albums");
  EXPECT_FALSE(parse_source_type("artist_albums"));
  EXPECT_FALSE(parse_source_type("Playlist"));
  EXPECT_FALSE(parse_source_type(""));
}

TEST(RawObjectKey, GoldenRawKeysAreWhatTheExtractorLands) {
  for (const auto& f : golden_lines("raw")) {
    ASSERT_EQ(f.size(), 6u);
    auto micros = parse_timestamp(f[1]);
    ASSERT_TRUE(micros) << f[1];
    auto type = parse_source_type(f[2]);
    ASSERT_TRUE(type) << f[2];
    const std::string key = RawObjectKey{true, raw_object_file_name(*micros, *type, f[3], f[4])}.str();
    EXPECT_EQ(key, f[5]);

    auto name = parse_raw_object_name(key);
    EXPECT_EQ(name.extracted_at, micros) << key;
    EXPECT_EQ(name.source_type, f[2]) << key;
    EXPECT_EQ(name.source_id, f[3]) << key;
    EXPECT_EQ(name.run_id, f[4]) << key;
  }
}

TEST(RawObjectKey, GoldenMovesGoFromPendingToProcessedAndBack) {
  for (const auto& f : golden_lines("processed")) {
    ASSERT_EQ(f.size(), 3u);
    auto key = RawObjectKey::parse(f[1]);
    ASSERT_TRUE(key.ok()) << key.error().message;
    EXPECT_TRUE(key->pending);
    EXPECT_EQ(key->str(), f[1]);
    EXPECT_EQ(key->processed().str(), f[2]);
    auto back = RawObjectKey::parse(f[2]);
    ASSERT_TRUE(back.ok());
    EXPECT_FALSE(back->pending);
    EXPECT_EQ(back->to_be_processed(), *key);
  }
}

TEST(RawObjectKey, KeysOutsideTheTwoFoldersOrNamingAFolderAreRefused) {
  for (const char* bad : {"raw/x.json", "to_be_processed/", "processed/", "to_be_processed/../x.json", "", "/processed/x"}) {
    auto key = RawObjectKey::parse(bad);
    ASSERT_FALSE(key.ok()) << bad;
    EXPECT_EQ(key.error().code, Errc::invalid_argument) << bad;
  }
}

TEST(RawObjectName, TheLambdasNamesGiveTheirTimeAndOthersOnlyTheirStem) {
  auto lambda = parse_raw_object_name("processed/spotify_raw_2023-06-01 12:34:56.789012.json");
  EXPECT_EQ(lambda.extracted_at, parse_timestamp("2023-06-01T12:34:56.789012Z"));
  EXPECT_TRUE(lambda.source_type.empty());
  auto other = parse_raw_object_name("processed/export.json");
  EXPECT_FALSE(other.extracted_at);
  EXPECT_EQ(other.stem, "export");
}

TEST(DataKey, GoldenTableFilesAreNamedAfterTheirRawObject) {
  for (const auto& f : golden_lines("data")) {
    ASSERT_EQ(f.size(), 6u);
    const std::string key = DataKey::make(f[1], f[2], parse_raw_object_name(f[3]).stem, f[4]);
    EXPECT_EQ(key, f[5]);
    auto parsed = DataKey::parse(key);
    ASSERT_TRUE(parsed) << key;
    EXPECT_EQ(parsed->table, f[1]);
    EXPECT_EQ(parsed->dt, f[2]);
    EXPECT_EQ(parsed->format, f[4]);
    EXPECT_EQ(parsed->str(), key);
  }
}

TEST(DataKey, OnlyDataFilesOfATablePartitionParse) {
  EXPECT_EQ(DataKey::parse("songs_data/dt=2026-11-21/x.ndjson")->format, "jsonl");
  for (const char* not_data : {"_catalog/spotify/songs_data.json", "songs_data/dt=2026-11-21/.tmp-x.parquet",
                               "songs_data/dt=2026-11-21/_SUCCESS.parquet", "songs_data/x.parquet",
                               "songs_data/dt=/x.parquet", "songs_data/part=1/x.parquet", "songs_data/dt=1/a/x.parquet",
                               "songs_data/dt=2026-11-21/x.txt", "_t/dt=2026-11-21/x.csv", "so-ngs/dt=1/x.csv"})
    EXPECT_FALSE(DataKey::parse(not_data)) << not_data;
  EXPECT_EQ(DataKey::partition_prefix("songs_data", "2026-11-21"), "songs_data/dt=2026-11-21/");
}

TEST(FileGeneration, ARedoNamesANewGenerationOfTheSameLogicalFile) {
  const std::string plain = "songs_data/dt=2026-11-21/spotify-0-00000000000000000042-0123456789abcdef.parquet";
  EXPECT_EQ(file_generation(plain).logical, plain);
  EXPECT_EQ(file_generation(plain).generation, 0);
  const std::string redo =
      DataKey::make("songs_data", "2026-11-21", generation_stem("spotify-0-00000000000000000042-0123456789abcdef",
                                                                1795240800123), "parquet");
  EXPECT_EQ(redo, "songs_data/dt=2026-11-21/spotify-0-00000000000000000042-0123456789abcdef.r1795240800123.parquet");
  ASSERT_TRUE(DataKey::parse(redo));
  EXPECT_EQ(file_generation(redo).logical, plain);
  EXPECT_EQ(file_generation(redo).generation, 1795240800123);
  EXPECT_EQ(generation_stem("x", 5), "x.r1000000000000") << "always 13 digits, so names sort by generation";
  // Not generations: other lengths, other letters, a marker in a folder name.
  for (const char* key : {"t/dt=1/x.r123.parquet", "t/dt=1/x.r17952408001234.parquet", "t/dt=1/x.s1795240800123.parquet",
                          "t/dt=1/xr1795240800123.parquet", "t/dt=1/x.r179524080012a.parquet",
                          "t/dt=x.r1795240800123/y.parquet", "t/dt=1/.r1795240800123"})
    EXPECT_EQ(file_generation(key).generation, 0) << key;
}

TEST(FileGeneration, APlainNameNeverReadsAsAGeneration) {
  EXPECT_EQ(plain_stem("spotify_raw_20261121T060000Z_playlist_x_r1"), "spotify_raw_20261121T060000Z_playlist_x_r1");
  const std::string odd = plain_stem("export.r1795240800123");  // a raw object named export.r1795240800123.json
  EXPECT_EQ(odd, "export.r1795240800123_");
  EXPECT_EQ(file_generation(DataKey::make("t", "1", odd, "parquet")).generation, 0);
}

// Every name a raw object may have gives data keys the cataloger takes, and two
// raw names never give one data key (the rows of one would be lost under the other's).
TEST(DataKey, EveryRawNameGivesAVisibleDataKeyOfItsOwn) {
  EXPECT_EQ(raw_data_stem("spotify_raw_20261121T060000Z_playlist_x_r1.json"), "spotify_raw_20261121T060000Z_playlist_x_r1")
      << "the extractor's names keep their stem";
  EXPECT_EQ(raw_data_stem("sp ace.json"), "sp ace");
  const std::vector<std::string> names = {"_under.json", ".dot.json", "br[1].json", "star*.json", "q?.json",
                                          "c{u}rly.json", "back\\slash.json", "a/x.json", "b/x.json", "x.json",
                                          "_a.json", "-a.json", ".json", "a/b/c.json", "a_b/c.json"};
  std::set<std::string> stems;
  for (const auto& name : names) {
    const std::string stem = raw_data_stem(name);
    EXPECT_TRUE(stems.insert(stem).second) << name << " gives " << stem << " as another name does";
    const std::string key = DataKey::make("songs_data", "2026-11-21", stem, "parquet");
    EXPECT_TRUE(DataKey::parse(key).has_value()) << name << " -> " << key << " is not taken as a data file";
    EXPECT_EQ(file_generation(key).generation, 0) << key;
  }
  EXPECT_EQ(visible_stem("spotify.raw.events-0-12-0123456789abcdef"), "spotify.raw.events-0-12-0123456789abcdef");
  const std::string topic = visible_stem("_spotify.raw-0-12-0123456789abcdef");
  EXPECT_TRUE(DataKey::parse(DataKey::make("songs_data", "2026-11-21", topic, "parquet")).has_value()) << topic;
}

TEST(FileGeneration, TheNewestGenerationSupersedesTheOthersOfItsFileOnly) {
  const std::vector<std::string> keys{"t/dt=1/a.parquet", "t/dt=1/a.r1795240800123.parquet",
                                      "t/dt=1/a.r1795240800999.parquet", "t/dt=1/b.parquet",
                                      "t/dt=2/a.parquet", "t/dt=1/a.csv", "t/dt=1/c.r1795240800123.parquet"};
  EXPECT_EQ(superseded_keys(keys),
            (std::set<std::string>{"t/dt=1/a.parquet", "t/dt=1/a.r1795240800123.parquet"}));
  EXPECT_TRUE(superseded_keys({}).empty());
}

TEST(RunId, MadeIdsAreValidAndDistinct) {
  auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1795240800));
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    auto id = make_run_id(t0);
    EXPECT_TRUE(is_run_id(id)) << id;
    EXPECT_TRUE(id.starts_with("r20261121t060000000-")) << id;
    ids.insert(id);
  }
  EXPECT_GT(ids.size(), 190u) << "6 random base-36 characters rarely collide";
  for (const std::string bad : {"", "R1", "r1/../x", "r 1"}) EXPECT_FALSE(is_run_id(bad)) << bad;
  EXPECT_FALSE(is_run_id(std::string(65, 'a'))) << "at most 64 characters";
}

TEST(Dates, CompactTimestampsAndDatesRoundTrip) {
  for (std::int64_t micros : {0LL, 1795240800LL * 1000000, 946684799LL * 1000000, -86400LL * 1000000}) {
    EXPECT_EQ(parse_compact_timestamp(format_compact_timestamp(micros)), micros) << micros;
    EXPECT_EQ(parse_date(format_date(date_of(micros))), date_of(micros)) << micros;
  }
  EXPECT_EQ(format_compact_timestamp(1795240800LL * 1000000 + 999999), "20261121T060000Z") << "the fraction is dropped";
  EXPECT_FALSE(parse_date("2026-02-30"));
  EXPECT_FALSE(parse_date("2026-2-3"));
  int y, m, d;
  civil_from_days(-1, y, m, d);
  EXPECT_EQ(y * 10000 + m * 100 + d, 19691231);
}

}  // namespace
}  // namespace etl
