// The generated catalogue: fixed ids, sizes the tests rely on, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "catalogue.h"

namespace etl::fakespotify {
namespace {

TEST(FakeCatalogue, FixedIdsHaveTheDocumentedSizes) {
  const Catalogue& c = default_catalogue();
  EXPECT_EQ(c.playlist(kDemoPlaylistId).items.size(), 100u);
  EXPECT_EQ(c.playlist(kLargePlaylistId).items.size(), 250u);
  EXPECT_EQ(c.playlist(kEdgeCasePlaylistId).items.size(), 18u);
  EXPECT_TRUE(c.playlist(kEmptyPlaylistId).items.empty());
  EXPECT_EQ(c.album(kDemoAlbumId).track_ids.size(), 12u);
  EXPECT_EQ(c.album(kBigAlbumId).track_ids.size(), 56u);
  EXPECT_EQ(c.artist_albums(kProlificArtistId).size(), 64u);
  EXPECT_EQ(c.find_playlist(kTop50GlobalPlaylistId), nullptr);
  EXPECT_THROW(c.track("0000000000000000000000"), std::out_of_range);
}

TEST(FakeCatalogue, IsTheSameOnEveryBuild) {
  const Catalogue a = build_catalogue();
  const Catalogue& b = default_catalogue();
  ASSERT_EQ(a.tracks.size(), b.tracks.size());
  for (std::size_t i = 0; i < a.tracks.size(); ++i) {
    EXPECT_EQ(a.tracks[i].id, b.tracks[i].id);
    EXPECT_EQ(a.tracks[i].name, b.tracks[i].name);
  }
  EXPECT_EQ(make_id("track:x"), make_id("track:x"));
}

TEST(FakeCatalogue, IdsAreUniqueBase62) {
  const Catalogue& c = default_catalogue();
  std::set<std::string> ids;
  auto check = [&](const std::string& id) {
    EXPECT_TRUE(is_base62_id(id)) << id;
    EXPECT_TRUE(ids.insert(id).second) << "duplicate id " << id;
  };
  for (const auto& x : c.artists) check(x.id);
  for (const auto& x : c.albums) check(x.id);
  for (const auto& x : c.tracks) check(x.id);
  for (const auto& x : c.playlists) check(x.id);
  for (const auto& x : c.episodes) check(x.id);
  EXPECT_FALSE(is_base62_id("1JJAj1SJnntr5pVBzvT7r!"));
  EXPECT_FALSE(is_base62_id("short"));
}

TEST(FakeCatalogue, DemoPlaylistHasSeveralTracksPerArtist) {
  const Catalogue& c = default_catalogue();
  std::map<std::string, int> per_artist;
  for (const auto& item : c.playlist(kDemoPlaylistId).items) {
    ASSERT_EQ(item.kind, ItemKind::track);
    const Track& t = c.track(item.id);
    ++per_artist[t.artist_ids.front()];
    EXPECT_TRUE(t.popularity.has_value());
  }
  std::vector<int> counts;
  for (const auto& [artist, n] : per_artist) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_GE(per_artist.size(), 20u);
  EXPECT_EQ(counts.front(), 10) << "the top artist has ten songs";
  EXPECT_EQ(counts[1], 9);
}

TEST(FakeCatalogue, SearchIsDeterministicAndRanksMatchesFirst) {
  const Catalogue& c = default_catalogue();
  const auto love = c.search_tracks("love");
  EXPECT_GE(love.size(), 250u);
  EXPECT_LE(love.size(), 1000u);
  EXPECT_EQ(love, c.search_tracks("LOVE"));
  EXPECT_NE(c.track(love.front()).name.find("Lov"), std::string::npos);
  EXPECT_TRUE(c.search_tracks(kNoResultsSearchQuery).empty());
  EXPECT_FALSE(c.search_tracks("artist:\"Juniper Vale\"").empty());
}

TEST(FakeCatalogue, MarketsListIsSpotifySized) {
  EXPECT_GE(all_markets().size(), 180u);
  EXPECT_LE(all_markets().size(), 190u);
  EXPECT_NE(std::find(all_markets().begin(), all_markets().end(), "SE"), all_markets().end());
}

}  // namespace
}  // namespace etl::fakespotify
