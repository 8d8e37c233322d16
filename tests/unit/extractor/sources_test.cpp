// Paging and endpoint choice per source type, against an in-memory SpotifyApi.
#include <gtest/gtest.h>

#include "fakes.h"
#include "sources.h"

namespace etl::extractor {
namespace {

using testing::MapSpotifyApi;

constexpr char kId[] = "7kwYwFTY6UeVCDzqOAzRKN";
const std::string kBase = "https://api.example/v1";

std::string page(int items, const std::string& next, const std::string& item = R"({"item":{"id":"t"}})") {
  std::string out = R"({"items":[)";
  for (int i = 0; i < items; ++i) out += (i ? "," : "") + item;
  return out + R"(],"next":)" + (next.empty() ? "null" : "\"" + next + "\"") + "}";
}

TEST(ReadPage, ReadsItemsAndNextAtTheTopOrUnderAField) {
  auto top = read_page(page(3, kBase + "/x?offset=3"));
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->items, 3);
  EXPECT_EQ(top->next, kBase + "/x?offset=3");
  auto nested = read_page(R"({"name":"A","tracks":{"items":[1,2],"next":null}})", "tracks");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->items, 2);
  EXPECT_TRUE(nested->next.empty());
}

TEST(ReadPage, NonJsonOrMissingPagingIsBadData) {
  EXPECT_EQ(read_page("<html>").error().code, Errc::bad_data);
  EXPECT_EQ(read_page(R"({"name":"A"})", "tracks").error().code, Errc::bad_data);
  EXPECT_EQ(read_page(R"({"next":null})").error().code, Errc::bad_data);
}

TEST(FetchSource, PlaylistFollowsNextToTheEndKeepingPagesVerbatim) {
  MapSpotifyApi api;
  const std::string p1 = page(50, kBase + "/playlists/p/items?offset=50&limit=50");
  const std::string p2 = page(50, kBase + "/playlists/p/items?offset=100&limit=50");
  const std::string p3 = "{\n  \"items\" : [ {\"item\":null} ],\n  \"next\" : null\n}";  // odd spacing stays odd
  api.set_body("/playlists/" + std::string(kId) + "/items?limit=50", p1);
  api.set_body(kBase + "/playlists/p/items?offset=50&limit=50", p2);
  api.set_body(kBase + "/playlists/p/items?offset=100&limit=50", p3);
  auto r = fetch_source(api, {SourceType::playlist, kId}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->pages.size(), 3u);
  EXPECT_EQ(r->pages[0], p1);
  EXPECT_EQ(r->pages[2], p3) << "pages must be stored byte for byte";
  EXPECT_EQ(r->items, 101);
  EXPECT_EQ(r->endpoint, "/playlists/{id}/items");
}

TEST(FetchSource, PlaylistFallsBackToTracksWhenItemsIsMissing) {
  MapSpotifyApi api;
  api.set_error("/playlists/" + std::string(kId) + "/items?limit=50", Errc::not_found, "Service not found");
  api.set_body("/playlists/" + std::string(kId) + "/tracks?limit=100", page(7, "", R"({"track":{"id":"t"}})"));
  auto r = fetch_source(api, {SourceType::playlist, kId}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->endpoint, "/playlists/{id}/tracks");
  EXPECT_EQ(r->items, 7);
}

TEST(FetchSource, UnknownPlaylistReportsTheItemsEndpointsMessage) {
  MapSpotifyApi api;
  api.set_error("/playlists/" + std::string(kId) + "/items?limit=50", Errc::not_found, "Resource not found (items)");
  api.set_error("/playlists/" + std::string(kId) + "/tracks?limit=100", Errc::not_found, "Resource not found (tracks)");
  auto r = fetch_source(api, {SourceType::playlist, kId}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found);
  EXPECT_EQ(r.error().message, "Resource not found (items)");
}

TEST(FetchSource, MarketGoesOnTheFirstRequest) {
  MapSpotifyApi api;
  api.set_body("/artists/" + std::string(kId) + "/albums?limit=50&market=SE", page(2, ""));
  FetchOptions o;
  o.market = "SE";
  auto r = fetch_source(api, {SourceType::artist_albums, kId}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(api.calls(), std::vector<std::string>{"/artists/" + std::string(kId) + "/albums?limit=50&market=SE"});
}

TEST(FetchSource, AlbumStartsWithTheAlbumObjectThenItsTrackPages) {
  MapSpotifyApi api;
  const std::string album = R"({"id":"a","name":"Big","tracks":{"items":[1,2,3],"next":")" + kBase +
                            R"(/albums/a/tracks?offset=3&limit=3"}})";
  api.set_body("/albums/" + std::string(kId), album);
  api.set_body(kBase + "/albums/a/tracks?offset=3&limit=3", page(2, ""));
  auto r = fetch_source(api, {SourceType::album, kId}, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->pages.size(), 2u);
  EXPECT_EQ(r->pages[0], album);
  EXPECT_EQ(r->items, 5);
  EXPECT_EQ(r->endpoint, "/albums/{id}");
}

TEST(FetchSource, SearchStopsAtTheResultCap) {
  MapSpotifyApi api;
  auto search_page = [&](int offset) {
    return R"({"tracks":{"items":[1,2,3,4,5,6,7,8,9,10],"next":")" + kBase + "/search?offset=" +
           std::to_string(offset + 10) + R"("}})";
  };
  api.set_body("/search?q=love%20songs&type=track&limit=10", search_page(0));
  for (int offset = 10; offset < 100; offset += 10) api.set_body(kBase + "/search?offset=" + std::to_string(offset), search_page(offset));
  FetchOptions o;
  o.search_max_results = 30;
  auto r = fetch_source(api, {SourceType::search, "love songs"}, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->items, 30);
  EXPECT_EQ(r->pages.size(), 3u) << "no page may be fetched once the cap is reached";
}

TEST(FetchSource, APagingLoopIsCutNotFollowedForever) {
  MapSpotifyApi api;
  api.set_body("/artists/" + std::string(kId) + "/albums?limit=50", page(1, kBase + "/loop"));
  api.set_body(kBase + "/loop", page(1, kBase + "/loop"));
  auto r = fetch_source(api, {SourceType::artist_albums, kId}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_data);
}

TEST(FetchSource, AFailingLaterPageFailsTheWholeSource) {
  MapSpotifyApi api;
  api.set_body("/artists/" + std::string(kId) + "/albums?limit=50", page(1, kBase + "/p2"));
  api.set_error(kBase + "/p2", Errc::unavailable, "Spotify kept failing");
  auto r = fetch_source(api, {SourceType::artist_albums, kId}, {});
  ASSERT_FALSE(r.ok()) << "a source is landed whole or not at all";
  EXPECT_EQ(r.error().code, Errc::unavailable);
}

TEST(FetchSource, InvalidIdsAreRefusedBeforeAnyCall) {
  MapSpotifyApi api;
  auto r = fetch_source(api, {SourceType::playlist, "not-an-id"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_TRUE(api.calls().empty());
}

}  // namespace
}  // namespace etl::extractor
