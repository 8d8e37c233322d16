// Section 5 of the contract, rule by rule, on the item shapes Spotify sends.
//
// Over 400 lines on purpose: one short case per transform rule of docs/contract.md.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "etl/dates.h"
#include "fixtures.h"
#include "transform.h"

namespace etl::transformer {
namespace {

using namespace fixtures;

TransformOutput must_transform(const std::string& raw, const std::string& key = kRawName) {
  auto out = transform_raw(raw, RawObjectMeta{key, std::nullopt});
  EXPECT_TRUE(out.ok()) << (out.ok() ? "" : out.error().message);
  if (!out.ok()) return TransformOutput{};
  return std::move(out).value();
}

std::string playlist(const std::vector<json>& items) {
  return envelope("playlist", "37i9dQZF1DXcBWIGoYBM5M", {paging(json(items))});
}

std::string col(const Table& t, std::size_t row, std::string_view column) { return t.text(row, column); }

TEST(Transform, ClassicPlaylistItemGivesOneRowPerTable) {
  auto out = must_transform(playlist({playlist_item(track())}));
  ASSERT_EQ(out.songs.rows(), 1u);
  ASSERT_EQ(out.albums.rows(), 1u);
  ASSERT_EQ(out.artists.rows(), 1u);
  EXPECT_EQ(col(out.songs, 0, "song_id"), "0DiWol3AO6WpXZgp0goxAV");
  EXPECT_EQ(col(out.songs, 0, "song_name"), "One More Time");
  EXPECT_EQ(col(out.songs, 0, "duration_ms"), "320357");
  EXPECT_EQ(col(out.songs, 0, "explicit"), "false");
  EXPECT_EQ(col(out.songs, 0, "popularity"), "77");
  EXPECT_EQ(col(out.songs, 0, "isrc"), "GBDUW0000053");
  EXPECT_EQ(col(out.songs, 0, "disc_number"), "1");
  EXPECT_EQ(col(out.songs, 0, "track_number"), "1");
  EXPECT_EQ(col(out.songs, 0, "song_url"), "https://open.spotify.com/track/0DiWol3AO6WpXZgp0goxAV");
  EXPECT_EQ(col(out.songs, 0, "album_id"), "2noRn2Aes5aoNVsU6iWThc");
  EXPECT_EQ(col(out.songs, 0, "artist_id"), "4tZwfgrHOc3mvqYlEYSvVi");
  EXPECT_EQ(col(out.songs, 0, "artist_ids"), R"(["4tZwfgrHOc3mvqYlEYSvVi"])");
  EXPECT_EQ(col(out.songs, 0, "added_at"), "2024-01-05T12:34:56Z");
  EXPECT_EQ(col(out.songs, 0, "source_type"), "playlist");
  EXPECT_EQ(col(out.songs, 0, "source_id"), "37i9dQZF1DXcBWIGoYBM5M");
  EXPECT_EQ(col(out.songs, 0, "position"), "0");
  EXPECT_EQ(col(out.songs, 0, "run_id"), "r-20261121-0600");
  EXPECT_EQ(col(out.songs, 0, "extracted_at"), "2026-11-21T06:00:00Z");

  EXPECT_EQ(col(out.albums, 0, "album_id"), "2noRn2Aes5aoNVsU6iWThc");
  EXPECT_EQ(col(out.albums, 0, "album_name"), "Discovery");
  EXPECT_EQ(col(out.albums, 0, "album_type"), "album");
  EXPECT_EQ(col(out.albums, 0, "release_date"), "2001-03-12");
  EXPECT_EQ(col(out.albums, 0, "release_date_precision"), "day");
  EXPECT_EQ(col(out.albums, 0, "total_tracks"), "14");
  EXPECT_EQ(col(out.albums, 0, "album_url"), "https://open.spotify.com/album/2noRn2Aes5aoNVsU6iWThc");
  EXPECT_EQ(col(out.albums, 0, "artist_id"), "4tZwfgrHOc3mvqYlEYSvVi");
  EXPECT_EQ(col(out.albums, 0, "extracted_at"), "2026-11-21T06:00:00Z");

  EXPECT_EQ(col(out.artists, 0, "artist_id"), "4tZwfgrHOc3mvqYlEYSvVi");
  EXPECT_EQ(col(out.artists, 0, "artist_name"), "Daft Punk");
  EXPECT_EQ(col(out.artists, 0, "artist_url"), "https://open.spotify.com/artist/4tZwfgrHOc3mvqYlEYSvVi");
  EXPECT_EQ(col(out.artists, 0, "artist_uri"), "spotify:artist:4tZwfgrHOc3mvqYlEYSvVi");

  EXPECT_EQ(out.dt, "2026-11-21");
  EXPECT_EQ(out.source_type, "playlist");
  EXPECT_EQ(out.run_id, "r-20261121-0600");
  EXPECT_EQ(out.skipped, SkipCounts{});
}

TEST(Transform, ItemUnderItemKeyIsReadLikeTrack) {
  auto classic = must_transform(playlist({playlist_item(track(), "2024-01-05T12:34:56Z", "track")}));
  auto dev_mode = must_transform(playlist({playlist_item(track(), "2024-01-05T12:34:56Z", "item")}));
  ASSERT_EQ(dev_mode.songs.rows(), 1u);
  for (const auto& c : songs_schema().columns)
    EXPECT_EQ(col(dev_mode.songs, 0, c.name), col(classic.songs, 0, c.name)) << "column " << c.name;
}

TEST(Transform, AbsentPopularityIsNull) {
  TrackSpec t;
  t.popularity.reset();
  auto out = must_transform(playlist({playlist_item(track(t))}));
  ASSERT_EQ(out.songs.rows(), 1u);
  EXPECT_TRUE(out.songs.column("popularity").is_null(0));
}

TEST(Transform, AbsentAvailableMarketsChangesNothing) {
  TrackSpec t;
  t.markets = false;
  AlbumSpec a;
  a.markets = false;
  t.album = album(a);
  auto without = must_transform(playlist({playlist_item(track(t))}));
  auto with = must_transform(playlist({playlist_item(track())}));
  ASSERT_EQ(without.songs.rows(), 1u);
  for (const auto& c : songs_schema().columns) EXPECT_EQ(col(without.songs, 0, c.name), col(with.songs, 0, c.name));
  for (const auto& c : albums_schema().columns) EXPECT_EQ(col(without.albums, 0, c.name), col(with.albums, 0, c.name));
}

TEST(Transform, NullTrackItemsAreCountedNotEmitted) {
  json removed = playlist_item(nullptr);
  json no_track = {{"added_at", "2024-01-05T12:34:56Z"}, {"is_local", false}};
  auto out = must_transform(playlist({removed, no_track, nullptr, playlist_item(track())}));
  EXPECT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.skipped.null_item, 3u);
  EXPECT_EQ(out.skipped.local + out.skipped.episode + out.skipped.malformed, 0u);
  EXPECT_EQ(col(out.songs, 0, "position"), "3");
}

TEST(Transform, LocalFilesAreCountedNotEmitted) {
  auto out = must_transform(playlist({playlist_item(local_track()), playlist_item(track())}));
  EXPECT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.skipped.local, 1u);
  EXPECT_EQ(out.artists.rows(), 1u) << "the local file's artist must not leak into artists_data";
  EXPECT_EQ(out.albums.rows(), 1u);
}

TEST(Transform, EpisodesAreCountedNotEmitted) {
  auto out = must_transform(playlist({playlist_item(episode()), playlist_item(track())}));
  EXPECT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.skipped.episode, 1u);
  EXPECT_EQ(out.albums.rows(), 1u) << "the show must not become an album";
}

TEST(Transform, UnusableItemsAreCountedAsMalformed) {
  json no_id = track();
  no_id["id"] = nullptr;
  json wrong_type = track();
  wrong_type["duration_ms"] = "long";
  json not_track = track();
  not_track["type"] = "audiobook";
  json float_number = track();
  float_number["track_number"] = 1.5;
  json track_is_string = playlist_item(track());
  track_is_string["track"] = "0DiWol3AO6WpXZgp0goxAV";
  auto out = must_transform(playlist({playlist_item(no_id), playlist_item(wrong_type), playlist_item(not_track),
                                      playlist_item(float_number), track_is_string, json(42), json("x"),
                                      playlist_item(track())}));
  EXPECT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.skipped.malformed, 7u);
  EXPECT_EQ(out.skipped.null_item + out.skipped.local + out.skipped.episode, 0u);
  EXPECT_EQ(col(out.songs, 0, "position"), "7");
}

TEST(Transform, EverySkipReasonIsReportedEvenWhenZero) {
  auto out = must_transform(playlist({}));
  EXPECT_EQ(out.songs.rows(), 0u);
  EXPECT_EQ(out.skipped, SkipCounts{});
  EXPECT_EQ(out.items, 0u);
}

TEST(Transform, MultiArtistTrackListsAllArtistsAndEmitsEachOnce) {
  TrackSpec t;
  t.artists = {artist("1aaaaaaaaaaaaaaaaaaaaa", "First"), artist("2bbbbbbbbbbbbbbbbbbbbb", "Second"),
               artist("4tZwfgrHOc3mvqYlEYSvVi", "Daft Punk")};
  auto out = must_transform(playlist({playlist_item(track(t))}));
  ASSERT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(col(out.songs, 0, "artist_id"), "1aaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(col(out.songs, 0, "artist_ids"),
            R"(["1aaaaaaaaaaaaaaaaaaaaa","2bbbbbbbbbbbbbbbbbbbbb","4tZwfgrHOc3mvqYlEYSvVi"])");
  ASSERT_EQ(out.artists.rows(), 3u) << "track artists and album artists, each once";
  EXPECT_EQ(col(out.artists, 0, "artist_id"), "1aaaaaaaaaaaaaaaaaaaaa");
  EXPECT_EQ(col(out.artists, 2, "artist_id"), "4tZwfgrHOc3mvqYlEYSvVi");
}

TEST(Transform, AlbumArtistsAreEmittedEvenWhenNotTrackArtists) {
  TrackSpec t;
  AlbumSpec a;
  a.artists = {artist("0LyfQWJT6nXafLPZqxe9Of", "Various Artists")};
  t.album = album(a);
  auto out = must_transform(playlist({playlist_item(track(t))}));
  ASSERT_EQ(out.artists.rows(), 2u);
  EXPECT_EQ(col(out.artists, 1, "artist_id"), "0LyfQWJT6nXafLPZqxe9Of");
  EXPECT_EQ(col(out.albums, 0, "artist_id"), "0LyfQWJT6nXafLPZqxe9Of");
}

TEST(Transform, AlbumsAndArtistsAreDistinctPerObjectFirstOccurrenceWins) {
  TrackSpec first;
  TrackSpec second;
  second.id = "7v9Q0dAb9t7h8gJOkcJHay";
  AlbumSpec renamed;
  renamed.name = "Discovery (later copy)";
  second.album = album(renamed);
  second.artists = {artist("4tZwfgrHOc3mvqYlEYSvVi", "Daft Punk (renamed)")};
  auto out = must_transform(playlist({playlist_item(track(first)), playlist_item(track(second))}));
  EXPECT_EQ(out.songs.rows(), 2u);
  ASSERT_EQ(out.albums.rows(), 1u);
  ASSERT_EQ(out.artists.rows(), 1u);
  EXPECT_EQ(col(out.albums, 0, "album_name"), "Discovery");
  EXPECT_EQ(col(out.artists, 0, "artist_name"), "Daft Punk");
}

TEST(Transform, SameTrackTwiceGivesTwoSongRows) {
  auto out = must_transform(playlist({playlist_item(track()), playlist_item(track())}));
  EXPECT_EQ(out.songs.rows(), 2u) << "songs_data has one row per track item";
  EXPECT_EQ(col(out.songs, 1, "position"), "1");
}

TEST(Transform, PositionCountsSkippedItemsAndContinuesAcrossPages) {
  TrackSpec b;
  b.id = "7v9Q0dAb9t7h8gJOkcJHay";
  json page1 = paging(json::array({playlist_item(track()), playlist_item(nullptr), playlist_item(local_track())}),
                      "https://api.spotify.com/v1/playlists/x/tracks?offset=3");
  json page2 = paging(json::array({playlist_item(episode()), playlist_item(track(b))}), std::nullopt, 3);
  auto out = must_transform(envelope("playlist", "37i9dQZF1DXcBWIGoYBM5M", {page1, page2}));
  ASSERT_EQ(out.songs.rows(), 2u);
  EXPECT_EQ(col(out.songs, 0, "position"), "0");
  EXPECT_EQ(col(out.songs, 1, "position"), "4");
  EXPECT_EQ(out.items, 5u);
  EXPECT_EQ(out.skipped.null_item, 1u);
  EXPECT_EQ(out.skipped.local, 1u);
  EXPECT_EQ(out.skipped.episode, 1u);
}

TEST(Transform, AlbumSourceUsesTheExtractedAlbumAndNullPopularity) {
  AlbumSpec spec;
  json full_album = album(spec);
  full_album["popularity"] = 64;
  full_album["label"] = "Parlophone";
  full_album["tracks"] = paging(json::array({simple_track("0DiWol3AO6WpXZgp0goxAV", "One More Time", 1),
                                             simple_track("186hvCTyrni4KT9nwIQ7zS", "Aerodynamic", 2)}),
                                "https://api.spotify.com/v1/albums/x/tracks?offset=2");
  json page2 = paging(json::array({simple_track("2VEZx7NWsZ1D0eJ4uv5Fym", "Digital Love", 3)}), std::nullopt, 2);
  auto out = must_transform(envelope("album", spec.id, {full_album, page2}));
  ASSERT_EQ(out.songs.rows(), 3u);
  ASSERT_EQ(out.albums.rows(), 1u);
  EXPECT_EQ(col(out.albums, 0, "album_id"), spec.id);
  EXPECT_EQ(col(out.albums, 0, "total_tracks"), "14");
  for (std::size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(col(out.songs, r, "album_id"), spec.id) << "row " << r;
    EXPECT_EQ(col(out.songs, r, "popularity"), "NULL") << "row " << r;
    EXPECT_EQ(col(out.songs, r, "added_at"), "NULL") << "row " << r;
    EXPECT_EQ(col(out.songs, r, "isrc"), "NULL") << "simplified tracks carry no external_ids";
    EXPECT_EQ(col(out.songs, r, "source_type"), "album");
    EXPECT_EQ(col(out.songs, r, "position"), std::to_string(r));
  }
  EXPECT_EQ(col(out.songs, 2, "song_name"), "Digital Love");
  EXPECT_EQ(out.artists.rows(), 1u);
}

TEST(Transform, ArtistAlbumsSourceGivesAlbumsAndArtistsButNoSongs) {
  AlbumSpec a1;
  AlbumSpec a2;
  a2.id = "5uRdvUR7xCnHmUW8n64n9y";
  a2.name = "Homework";
  a2.release_date = "1997";
  a2.precision = "year";
  a2.artists = {artist("4tZwfgrHOc3mvqYlEYSvVi", "Daft Punk"), artist("3aaaaaaaaaaaaaaaaaaaaa", "Guest")};
  json with_group = album(a1);
  with_group["album_group"] = "album";
  auto out = must_transform(
      envelope("artist-albums", "4tZwfgrHOc3mvqYlEYSvVi", {paging(json::array({with_group, album(a2), nullptr}))}));
  EXPECT_EQ(out.songs.rows(), 0u);
  ASSERT_EQ(out.albums.rows(), 2u);
  EXPECT_EQ(col(out.albums, 1, "release_date"), "1997-01-01");
  EXPECT_EQ(col(out.albums, 1, "release_date_precision"), "year");
  EXPECT_EQ(out.artists.rows(), 2u);
  EXPECT_EQ(out.skipped.null_item, 1u);
}

TEST(Transform, SearchSourceReadsTracksPagingOfFullTracks) {
  TrackSpec b;
  b.id = "7v9Q0dAb9t7h8gJOkcJHay";
  json page = {{"tracks", paging(json::array({track(), nullptr, track(b)}))}};
  auto out = must_transform(envelope("search", "daft-punk", {page}));
  ASSERT_EQ(out.songs.rows(), 2u);
  EXPECT_EQ(col(out.songs, 0, "source_type"), "search");
  EXPECT_EQ(col(out.songs, 0, "source_id"), "daft-punk");
  EXPECT_EQ(col(out.songs, 1, "position"), "2");
  EXPECT_EQ(col(out.songs, 0, "added_at"), "NULL") << "added_at is null outside playlists";
  EXPECT_EQ(col(out.songs, 0, "popularity"), "77");
  EXPECT_EQ(out.skipped.null_item, 1u);
}

TEST(Transform, BarePagingObjectFromTheOriginalLambdaIsAPlaylist) {
  std::string raw = paging(json::array({playlist_item(track()), playlist_item(nullptr)})).dump();
  auto out = must_transform(raw, "processed/spotify_raw_2023-06-01 12:34:56.789012.json");
  ASSERT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.source_type, "playlist");
  EXPECT_EQ(out.source_id, "spotify_raw_2023-06-01 12:34:56.789012") << "no id in the object: the file name";
  EXPECT_EQ(out.run_id, "");
  EXPECT_EQ(out.dt, "2023-06-01");
  EXPECT_EQ(col(out.songs, 0, "extracted_at"), "2023-06-01T12:34:56.789012Z");
  EXPECT_EQ(out.skipped.null_item, 1u);
}

TEST(Transform, FullPlaylistObjectUnderTracksTakesItsId) {
  json full = {{"collaborative", false}, {"description", "hits"}, {"id", "37i9dQZF1DXcBWIGoYBM5M"},
               {"name", "Today's Top Hits"}, {"owner", {{"id", "spotify"}}},
               {"tracks", paging(json::array({playlist_item(track())}))}, {"type", "playlist"}};
  auto out = must_transform(full.dump(), "to_be_processed/spotify_raw_20230601T120000Z.json");
  ASSERT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.source_id, "37i9dQZF1DXcBWIGoYBM5M");
  EXPECT_EQ(col(out.songs, 0, "source_id"), "37i9dQZF1DXcBWIGoYBM5M");
  EXPECT_EQ(out.dt, "2023-06-01");
}

TEST(Transform, FullPlaylistObjectUnderItemsIsAcceptedToo) {
  json full = {{"id", "37i9dQZF1DXcBWIGoYBM5M"}, {"name", "Today's Top Hits"},
               {"items", paging(json::array({playlist_item(track(), "2024-01-05T12:34:56Z", "item")}))},
               {"type", "playlist"}};
  auto out = must_transform(full.dump(), "to_be_processed/spotify_raw_20230601T120000Z.json");
  ASSERT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.source_id, "37i9dQZF1DXcBWIGoYBM5M");
}

TEST(Transform, FullPlaylistObjectInsideAnEnvelopeIsAPage) {
  json full = {{"id", "37i9dQZF1DXcBWIGoYBM5M"}, {"tracks", paging(json::array({playlist_item(track())}))}};
  auto out = must_transform(envelope("playlist", "37i9dQZF1DXcBWIGoYBM5M", {full}));
  EXPECT_EQ(out.songs.rows(), 1u);
}

TEST(Transform, PreEnvelopeFileWithoutTimeInItsNameUsesLastModified) {
  std::string raw = paging(json::array({playlist_item(track())})).dump();
  auto t = std::chrono::sys_days{std::chrono::year{2024} / 2 / 29} + std::chrono::hours{23};
  auto out = transform_raw(raw, RawObjectMeta{"processed/export.json", t});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->dt, "2024-02-29");
  EXPECT_EQ(out->source_id, "export");
  auto none = transform_raw(raw, RawObjectMeta{"processed/export.json", std::nullopt});
  EXPECT_FALSE(none.ok()) << "without any time there is no partition";
}

TEST(Transform, DtIsTheUtcDateOfExtractedAt) {
  auto out = must_transform(envelope("playlist", "37i9dQZF1DXcBWIGoYBM5M", {paging(json::array())}, "r",
                                     "2026-11-21T23:30:00-02:00"));
  EXPECT_EQ(out.dt, "2026-11-22");
  EXPECT_EQ(format_timestamp(out.extracted_at), "2026-11-22T01:30:00Z");
}

TEST(Transform, EnvelopeFieldsInAnyOrderAreFound) {
  // nlohmann orders keys alphabetically: pages before run_id and source.
  json env = {{"format", "spotify-etl.raw.v1"}, {"run_id", "r-2"}, {"source", {{"type", "playlist"}, {"id", "abc"}}},
              {"extracted_at", "2026-11-21T06:00:00Z"}, {"api", {{"endpoint", "/x"}}},
              {"pages", json::array({paging(json::array({playlist_item(track())}))})}};
  auto out = must_transform(env.dump());
  EXPECT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.run_id, "r-2");
  EXPECT_EQ(out.source_id, "abc");
}

TEST(Transform, ReleaseDatesAreNormalisedAndImpossibleOnesAreNull) {
  std::vector<json> items;
  const std::vector<std::pair<std::string, std::string>> dates = {
      {"1999", "year"}, {"1999-05", "month"}, {"1999-05-17", "day"}, {"0000", "year"}, {"1999-02-30", "day"}};
  for (std::size_t i = 0; i < dates.size(); ++i) {
    TrackSpec t;
    t.id = "0DiWol3AO6WpXZgp0goxA" + std::to_string(i);
    AlbumSpec a;
    a.id = "2noRn2Aes5aoNVsU6iWTh" + std::to_string(i);
    a.release_date = dates[i].first;
    a.precision = dates[i].second;
    t.album = album(a);
    items.push_back(playlist_item(track(t)));
  }
  auto out = must_transform(playlist(items));
  ASSERT_EQ(out.albums.rows(), 5u);
  EXPECT_EQ(col(out.albums, 0, "release_date"), "1999-01-01");
  EXPECT_EQ(col(out.albums, 1, "release_date"), "1999-05-01");
  EXPECT_EQ(col(out.albums, 2, "release_date"), "1999-05-17");
  EXPECT_EQ(col(out.albums, 3, "release_date"), "NULL");
  EXPECT_EQ(col(out.albums, 3, "release_date_precision"), "year") << "precision kept when the date is null";
  EXPECT_EQ(col(out.albums, 4, "release_date"), "NULL");
}

TEST(Transform, EscapedAndNonAsciiStringsAreUnescaped) {
  TrackSpec t;
  t.name = "Caf\u00e9 \"Quoted\", line\nbreak \u2014 \U0001F3B5";
  auto out = must_transform(playlist({playlist_item(track(t))}));
  ASSERT_EQ(out.songs.rows(), 1u);
  EXPECT_EQ(out.songs.column("song_name").string_at(0), t.name);
}

TEST(Transform, WhitespaceFormattedResponsesParseLikeCompactOnes) {
  std::string pretty = R"({
  "format" : "spotify-etl.raw.v1", "run_id" : "r", "source" : { "type" : "playlist", "id" : "p" },
  "extracted_at" : "2026-11-21T06:00:00Z", "pages" : [ )" +
                       paging(json::array({playlist_item(track())})).dump(4) + " ] }";
  auto out = must_transform(pretty);
  EXPECT_EQ(out.songs.rows(), 1u);
}

TEST(Transform, ClassicFixtureFileFromTheApi) {
  std::ifstream in(std::string(ETL_SOURCE_DIR) + "/tests/unit/transformer/fixtures/playlist_page_classic.json");
  ASSERT_TRUE(in) << "fixture missing";
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto out = must_transform(raw, "processed/spotify_raw_2023-06-01 12:34:56.789012.json");
  EXPECT_EQ(out.songs.rows(), 2u);
  EXPECT_EQ(out.skipped.null_item, 1u);
  EXPECT_EQ(out.skipped.local, 1u);
  EXPECT_EQ(out.skipped.episode, 1u);
  EXPECT_EQ(out.albums.rows(), 2u);
  EXPECT_EQ(out.artists.rows(), 3u);
  EXPECT_EQ(col(out.songs, 1, "position"), "4");
}

}  // namespace
}  // namespace etl::transformer
