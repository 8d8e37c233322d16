// Paging objects: absolute next URLs, totals, limits, in both playlist item shapes.
#include "fake_spotify_test_util.h"

namespace etl::fakespotify::testing {
namespace {

using FakeSpotify = FakeSpotifyTest;

std::string playlist_path(const char* id, const std::string& tail = {}) {
  return std::string("/v1/playlists/") + id + tail;
}

std::vector<std::string> expected_ids(const Playlist& p) {
  std::vector<std::string> ids;
  for (const auto& item : p.items) ids.push_back(item.id);
  return ids;
}

std::vector<std::string> ids_under(const std::vector<json>& items, const char* key) {
  std::vector<std::string> ids;
  for (const auto& item : items) ids.push_back(item[key].is_object() && item[key]["id"].is_string() ? item[key]["id"].get<std::string>() : "");
  return ids;
}

TEST_F(FakeSpotify, ClassicTracksPagingFollowsAbsoluteNextToTheEnd) {
  const json first = get_json(playlist_path(kLargePlaylistId, "/tracks"));
  EXPECT_EQ(first["total"], 250);
  EXPECT_EQ(first["limit"], 100);
  EXPECT_EQ(first["offset"], 0);
  EXPECT_TRUE(first["previous"].is_null());
  EXPECT_EQ(first["next"], server_.api_url() + "/playlists/" + kLargePlaylistId + "/tracks?offset=100&limit=100");

  int pages = 0;
  const auto items = all_items(playlist_path(kLargePlaylistId, "/tracks"), &pages);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(items.size(), 250u);
  EXPECT_EQ(ids_under(items, "track"), expected_ids(server_.catalogue().playlist(kLargePlaylistId)));
}

TEST_F(FakeSpotify, DevItemsPagingHasFivePagesWithTheTrackUnderItem) {
  const json first = get_json(playlist_path(kLargePlaylistId, "/items"));
  EXPECT_EQ(first["limit"], 50);
  EXPECT_EQ(first["total"], 250);
  ASSERT_FALSE(first["items"].empty());
  EXPECT_TRUE(first["items"][0].contains("item"));
  EXPECT_FALSE(first["items"][0].contains("track"));

  int pages = 0;
  const auto items = all_items(playlist_path(kLargePlaylistId, "/items"), &pages);
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(ids_under(items, "item"), expected_ids(server_.catalogue().playlist(kLargePlaylistId)));
}

TEST_F(FakeSpotify, BothShapesServeTheSameItems) {
  const auto classic = all_items(playlist_path(kEdgeCasePlaylistId, "/tracks?limit=7"));
  const auto dev = all_items(playlist_path(kEdgeCasePlaylistId, "/items?limit=7"));
  ASSERT_EQ(classic.size(), dev.size());
  ASSERT_EQ(classic.size(), server_.catalogue().playlist(kEdgeCasePlaylistId).items.size());
  for (std::size_t i = 0; i < classic.size(); ++i) {
    EXPECT_EQ(classic[i]["track"], dev[i]["item"]) << "item " << i;
    EXPECT_EQ(classic[i]["added_at"], dev[i]["added_at"]) << "item " << i;
  }
}

TEST_F(FakeSpotify, PlaylistObjectCarriesTheFirstClassicPage) {
  const json demo = get_json(playlist_path(kDemoPlaylistId));
  EXPECT_EQ(demo["id"], kDemoPlaylistId);
  EXPECT_EQ(demo["type"], "playlist");
  EXPECT_EQ(demo["uri"], std::string("spotify:playlist:") + kDemoPlaylistId);
  EXPECT_EQ(demo["owner"]["id"], kCuratorUserId);
  EXPECT_FALSE(demo["snapshot_id"].get<std::string>().empty());
  EXPECT_EQ(demo["tracks"]["total"], 100);
  EXPECT_EQ(demo["tracks"]["items"].size(), 100u);
  EXPECT_TRUE(demo["tracks"]["next"].is_null());

  const json large = get_json(playlist_path(kLargePlaylistId));
  EXPECT_EQ(large["tracks"]["next"], server_.api_url() + "/playlists/" + kLargePlaylistId + "/tracks?offset=100&limit=100");
}

TEST_F(FakeSpotify, EmptyPlaylistHasNoItemsAndNoNext) {
  const json page = get_json(playlist_path(kEmptyPlaylistId, "/items"));
  EXPECT_EQ(page["total"], 0);
  EXPECT_TRUE(page["items"].empty());
  EXPECT_TRUE(page["next"].is_null());
}

TEST_F(FakeSpotify, OffsetPastTheEndIsAnEmptyLastPage) {
  const json page = get_json(playlist_path(kDemoPlaylistId, "/tracks?offset=300&limit=100"));
  EXPECT_TRUE(page["items"].empty());
  EXPECT_TRUE(page["next"].is_null());
  EXPECT_EQ(page["total"], 100);
}

TEST_F(FakeSpotify, LimitAboveTheEndpointMaximumIs400) {
  const json invalid_limit = {{"error", {{"status", 400}, {"message", "Invalid limit"}}}};
  EXPECT_EQ(get_json(playlist_path(kDemoPlaylistId, "/tracks?limit=101"), 400), invalid_limit);
  EXPECT_EQ(get_json(playlist_path(kDemoPlaylistId, "/items?limit=51"), 400), invalid_limit);
  EXPECT_EQ(get_json(playlist_path(kDemoPlaylistId, "/tracks?limit=0"), 400), invalid_limit);
  EXPECT_EQ(get_json(playlist_path(kDemoPlaylistId, "/tracks?limit=ten"), 400), invalid_limit);
  EXPECT_EQ(get_json(std::string("/v1/albums/") + kBigAlbumId + "/tracks?limit=51", 400), invalid_limit);
  EXPECT_EQ(get_json(std::string("/v1/artists/") + kProlificArtistId + "/albums?limit=51", 400), invalid_limit);
  EXPECT_EQ(get_json("/v1/search?q=love&type=track&limit=11", 400), invalid_limit);
  get_json(playlist_path(kDemoPlaylistId, "/tracks?limit=100"), 200);
  get_json("/v1/search?q=love&type=track&limit=10", 200);
}

// Spotify answers 400 for a market that is not a country's code (UK is GB's
// common name, not its code), on every endpoint that takes one.
TEST_F(FakeSpotify, AMarketThatIsNoCountryCodeIs400) {
  const json invalid_market = {{"error", {{"status", 400}, {"message", "Invalid market code"}}}};
  EXPECT_EQ(get_json(playlist_path(kDemoPlaylistId, "/items?market=UK"), 400), invalid_market);
  EXPECT_EQ(get_json(playlist_path(kDemoPlaylistId, "/tracks?market=XX"), 400), invalid_market);
  EXPECT_EQ(get_json(std::string("/v1/albums/") + kBigAlbumId + "?market=se", 400), invalid_market);
  get_json(playlist_path(kDemoPlaylistId, "/items?market=GB"), 200);
  get_json(std::string("/v1/albums/") + kBigAlbumId + "?market=XK", 200);
}

TEST_F(FakeSpotify, BigAlbumPagesItsTracks) {
  const json album = get_json(std::string("/v1/albums/") + kBigAlbumId);
  EXPECT_EQ(album["total_tracks"], 56);
  EXPECT_EQ(album["tracks"]["items"].size(), 50u);
  EXPECT_EQ(album["tracks"]["next"], server_.api_url() + "/albums/" + kBigAlbumId + "/tracks?offset=50&limit=50");
  const json rest = get_json(album["tracks"]["next"].get<std::string>());
  ASSERT_EQ(rest["items"].size(), 6u);
  EXPECT_TRUE(rest["next"].is_null());
  EXPECT_EQ(rest["items"][5]["id"], server_.catalogue().album(kBigAlbumId).track_ids.back());
  EXPECT_EQ(rest["items"][5]["disc_number"], 4);
}

TEST_F(FakeSpotify, ArtistAlbumsPageAndKeepIncludeGroupsInNext) {
  int pages = 0;
  const auto all = all_items(std::string("/v1/artists/") + kProlificArtistId + "/albums?limit=50", &pages);
  EXPECT_EQ(all.size(), 64u);
  EXPECT_EQ(pages, 2);
  std::map<std::string, int> groups;
  for (const auto& a : all) ++groups[a["album_group"].get<std::string>()];
  EXPECT_EQ(groups, (std::map<std::string, int>{{"album", 8}, {"single", 40}, {"compilation", 8}, {"appears_on", 8}}));

  const json singles = get_json(std::string("/v1/artists/") + kProlificArtistId + "/albums?include_groups=single&limit=20");
  EXPECT_EQ(singles["total"], 40);
  EXPECT_NE(singles["next"].get<std::string>().find("include_groups=single"), std::string::npos) << singles["next"];
}

TEST_F(FakeSpotify, SearchPagesByTenDeterministicallyPastTwoHundred) {
  const json first = get_json(std::string("/v1/search?q=") + kDemoSearchQuery + "&type=track&limit=10");
  const auto expected = server_.catalogue().search_tracks(kDemoSearchQuery);
  ASSERT_GE(expected.size(), 250u);
  EXPECT_EQ(first["tracks"]["total"], expected.size());
  EXPECT_EQ(first["tracks"]["items"].size(), 10u);
  EXPECT_EQ(first["tracks"]["items"][0]["id"], expected[0]);
  EXPECT_NE(first["tracks"]["items"][0]["name"].get<std::string>().find("Love"), std::string::npos)
      << "the best match should name the query: " << first["tracks"]["items"][0]["name"];

  std::vector<std::string> seen;
  json page = first["tracks"];
  while (seen.size() < 200 && !page["next"].is_null()) {
    for (const auto& t : page["items"]) seen.push_back(t["id"]);
    page = get_json(page["next"].get<std::string>())["tracks"];
  }
  ASSERT_EQ(seen.size(), 200u);
  EXPECT_TRUE(std::equal(seen.begin(), seen.end(), expected.begin()));
  EXPECT_FALSE(page["next"].is_null()) << "results must outlast a 200 cap";
  EXPECT_EQ(server_.catalogue().search_tracks(kDemoSearchQuery), expected);
}

TEST_F(FakeSpotify, SearchDefaultsToFiveAndValidatesItsParameters) {
  EXPECT_EQ(get_json("/v1/search?q=summer&type=track")["tracks"]["limit"], 5);
  EXPECT_EQ(get_json("/v1/search?type=track", 400)["error"]["message"], "No search query");
  EXPECT_EQ(get_json("/v1/search?q=summer", 400)["error"]["status"], 400);
  EXPECT_EQ(get_json("/v1/search?q=summer&type=song", 400)["error"]["status"], 400);
}

TEST_F(FakeSpotify, SearchWithoutAnyKnownWordFindsNothing) {
  const json page = get_json(std::string("/v1/search?q=") + httplib::detail::encode_query_param(kNoResultsSearchQuery) +
                             "&type=track&limit=10");
  EXPECT_EQ(page["tracks"]["total"], 0);
  EXPECT_TRUE(page["tracks"]["items"].empty());
  EXPECT_TRUE(page["tracks"]["next"].is_null());
}

}  // namespace
}  // namespace etl::fakespotify::testing
