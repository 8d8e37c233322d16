// Raw object keys and the envelope (docs/contract.md §4.1, §4.3).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "envelope.h"

namespace etl::extractor {
namespace {

using std::chrono::system_clock;

system_clock::time_point at(long long epoch_s) { return system_clock::time_point(std::chrono::seconds(epoch_s)); }

TEST(SearchSlug, FoldsToLowerCaseAlphanumericsAndSingleDashes) {
  EXPECT_EQ(search_slug("Daft Punk!"), "daft-punk");
  EXPECT_EQ(search_slug("  love -- songs  "), "love-songs");
  EXPECT_EQ(search_slug("AC/DC: Back in Black"), "ac-dc-back-in-black");
  EXPECT_EQ(search_slug("Beyoncé"), "beyonc") << "non-ASCII bytes are separators";
  EXPECT_EQ(search_slug("!!!"), "query");
  EXPECT_EQ(search_slug(""), "query");
}

TEST(SearchSlug, IsAtMost40CharactersAndNeverEndsWithADash) {
  std::string long_query(100, 'a');
  EXPECT_EQ(search_slug(long_query), std::string(40, 'a'));
  auto slug = search_slug(std::string(39, 'b') + " cdef");
  EXPECT_LE(slug.size(), 40u);
  EXPECT_NE(slug.back(), '-');
  EXPECT_EQ(search_slug(std::string(39, 'b') + " "), std::string(39, 'b'));
}

TEST(RawKey, NamesTimestampTypeIdAndRun) {
  // 2026-11-21T06:00:00Z
  auto t = at(1795240800);
  EXPECT_EQ(raw_object_key(t, {SourceType::playlist, "7kwYwFTY6UeVCDzqOAzRKN"}, "r20261121t060000000-abc123"),
            "to_be_processed/spotify_raw_20261121T060000Z_playlist_7kwYwFTY6UeVCDzqOAzRKN_r20261121t060000000-abc123.json");
  EXPECT_EQ(raw_object_key(t, {SourceType::search, "Love Songs"}, "r1"), "to_be_processed/spotify_raw_20261121T060000Z_search_love-songs_r1.json");
  EXPECT_EQ(raw_object_key(t, {SourceType::artist_albums, "0Q3ZJxUG6JDru9uUeSU7EI"}, "r1"),
            "to_be_processed/spotify_raw_20261121T060000Z_artist-albums_0Q3ZJxUG6JDru9uUeSU7EI_r1.json");
}

TEST(Envelope, CarriesThePagesByteForByte) {
  std::vector<std::string> pages = {"{\"items\":[{\"x\":1.50}],\"next\":\"n\"}", "{ \"items\" : [ ],\n \"next\" : null }",
                                    R"({"s":"caf\u00e9 \"quoted\""})"};
  EnvelopeInput in{"r1", {SourceType::playlist, "7kwYwFTY6UeVCDzqOAzRKN"}, at(1795240800), "https://api.spotify.com/v1",
                   "/playlists/{id}/items", &pages};
  std::string envelope = build_envelope(in);
  for (const auto& p : pages) EXPECT_NE(envelope.find(p), std::string::npos) << "page not verbatim: " << p;
  auto json = nlohmann::json::parse(envelope, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << "the envelope must be valid JSON: " << envelope;
  EXPECT_EQ(json["format"], "spotify-etl.raw.v1");
  EXPECT_EQ(json["run_id"], "r1");
  EXPECT_EQ(json["source"], nlohmann::json({{"type", "playlist"}, {"id", "7kwYwFTY6UeVCDzqOAzRKN"}}));
  EXPECT_EQ(json["extracted_at"], "2026-11-21T06:00:00Z");
  EXPECT_EQ(json["api"]["base_url"], "https://api.spotify.com/v1");
  EXPECT_EQ(json["api"]["endpoint"], "/playlists/{id}/items");
  ASSERT_EQ(json["pages"].size(), 3u);
  EXPECT_EQ(json["pages"][0]["items"][0]["x"], 1.5);
}

TEST(Envelope, SearchSourcesCarryTheSlugAndTheQuery) {
  std::vector<std::string> pages = {R"({"tracks":{"items":[],"next":null}})"};
  EnvelopeInput in{"r1", {SourceType::search, "Daft \"Punk\""}, at(0), "b", "/search", &pages};
  auto json = nlohmann::json::parse(build_envelope(in));
  EXPECT_EQ(json["source"]["id"], "daft-punk");
  EXPECT_EQ(json["source"]["query"], "Daft \"Punk\"") << "the query must be JSON-escaped, not broken";
}

}  // namespace
}  // namespace etl::extractor
