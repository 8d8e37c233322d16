// End to end through `spotify-etl up` and only its HTTP APIs: a run over every
// source type -> raw landed and moved -> tables -> catalog -> query answers equal
// to what the local Spotify server served.
#include <gtest/gtest.h>

#include <csignal>
#include <set>

#include "child_process.h"
#include "fake_spotify.h"
#include "test_support.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using etl::testing::call;
namespace fs = fakespotify;

constexpr const char* kToken = "e2e-token";

class EmbeddedEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    spotify_ = new fs::FakeSpotifyServer();
    ASSERT_GT(spotify_->start(), 0);
    dir_ = new testing::TempDir();
    extractor_ = "http://127.0.0.1:" + std::to_string(testing::free_port());
    transformer_ = "http://127.0.0.1:" + std::to_string(testing::free_port());
    cataloger_ = "http://127.0.0.1:" + std::to_string(testing::free_port());
    auto addr = [](const std::string& url) { return url.substr(std::string("http://").size()); };
    process_ = new testing::ChildProcess(
        std::string(ETL_BIN_DIR) + "/spotify-etl", {"up"},
        {{"ETL_EXTRACTOR_ADDR", addr(extractor_)},
         {"ETL_TRANSFORMER_ADDR", addr(transformer_)},
         {"ETL_CATALOGER_ADDR", addr(cataloger_)},
         {"ETL_API_TOKEN", kToken},
         {"SPOTIFY_API_URL", spotify_->api_url()},
         {"SPOTIFY_ACCOUNTS_URL", spotify_->accounts_url()},
         {"SPOTIFY_CLIENT_ID", fs::FakeSpotifyOptions{}.client_id},
         {"SPOTIFY_CLIENT_SECRET", fs::FakeSpotifyOptions{}.client_secret},
         {"ETL_RAW_URL", dir_->url("raw")},
         {"ETL_TRANSFORMED_URL", dir_->url("transformed")},
         {"ETL_LOG_LEVEL", "warn"}},
        (dir_->path() / "spotify-etl.log").string());
    ASSERT_TRUE(process_->start());
    bool ready = testing::wait_until([] {
      return call("GET", extractor_ + "/readyz").status == 200 && call("GET", transformer_ + "/readyz").status == 200 &&
             call("GET", cataloger_ + "/readyz").status == 200;
    }, 30s, 50ms);
    ASSERT_TRUE(ready) << "spotify-etl up never became ready; log:\n" << process_->log();
  }

  static void TearDownTestSuite() {
    delete process_;
    delete spotify_;
    delete dir_;
  }

  static nlohmann::json query(const std::string& sql) {
    auto r = call("POST", cataloger_ + "/v1/query", nlohmann::json{{"sql", sql}}.dump(), kToken);
    EXPECT_EQ(r.status, 200) << sql << "\n" << r.body;
    return r.json();
  }

  // Starts the run over every source type once for the whole suite and waits for its rows.
  static const std::string& run_id() {
    static std::string id = [] {
      nlohmann::json body = {{"sources",
                              {{{"type", "playlist"}, {"id", fs::kDemoPlaylistId}},
                               {{"type", "playlist"}, {"id", fs::kEdgeCasePlaylistId}},
                               {{"type", "album"}, {"id", fs::kDemoAlbumId}},
                               {{"type", "search"}, {"query", fs::kDemoSearchQuery}}}}};
      auto r = call("POST", extractor_ + "/v1/runs", body.dump(), kToken);
      EXPECT_EQ(r.status, 202) << r.body;
      return r.json().value("run_id", std::string());
    }();
    return id;
  }

  static std::size_t expected_rows() {
    const auto& cat = spotify_->catalogue();
    std::size_t n = 0;
    for (const char* id : {fs::kDemoPlaylistId, fs::kEdgeCasePlaylistId})
      for (const auto& item : cat.playlist(id).items) n += item.kind == fs::ItemKind::track;
    n += cat.album(fs::kDemoAlbumId).track_ids.size();
    n += std::min<std::size_t>(200, cat.search_tracks(fs::kDemoSearchQuery).size());
    return n;
  }

  static bool wait_for_rows() {
    const std::string sql = "SELECT count(*) FROM songs_data WHERE run_id = '" + run_id() + "'";
    return testing::wait_until([&] {
      auto r = call("POST", cataloger_ + "/v1/query", nlohmann::json{{"sql", sql}}.dump(), kToken);
      auto body = r.json();
      return r.status == 200 && body["rows"].size() == 1 && body["rows"][0][0] == expected_rows();
    }, 60s, 100ms);
  }

  static inline fs::FakeSpotifyServer* spotify_ = nullptr;
  static inline testing::TempDir* dir_ = nullptr;
  static inline testing::ChildProcess* process_ = nullptr;
  static inline std::string extractor_, transformer_, cataloger_;
};

TEST_F(EmbeddedEndToEnd, RunSucceedsAndEverySourceLandsItsPages) {
  ASSERT_FALSE(run_id().empty());
  nlohmann::json run;
  ASSERT_TRUE(testing::wait_until([&] {
    run = call("GET", extractor_ + "/v1/runs/" + run_id(), "", kToken).json();
    return run.value("status", "") != "queued" && run.value("status", "") != "running";
  }, 60s, 50ms));
  EXPECT_EQ(run["status"], "succeeded") << run.dump(2);
  ASSERT_EQ(run["sources"].size(), 4u);
  for (const auto& s : run["sources"]) {
    EXPECT_EQ(s["status"], "succeeded") << s.dump();
    EXPECT_GT(s["pages"].get<int>(), 0) << s.dump();
    EXPECT_EQ(s["object_key"].get<std::string>().rfind("to_be_processed/spotify_raw_", 0), 0u) << s.dump();
  }
  auto list = call("GET", extractor_ + "/v1/runs?limit=5", "", kToken).json();
  ASSERT_FALSE(list["runs"].empty());
  EXPECT_EQ(list["runs"][0]["run_id"], run_id()) << "newest first";
}

TEST_F(EmbeddedEndToEnd, RowsArriveAndCountsMatchWhatSpotifyServed) {
  ASSERT_TRUE(wait_for_rows()) << "rows never matched " << expected_rows() << "; log:\n" << process_->log();
  auto by_type = query("SELECT source_type, count(*) AS n FROM songs_data WHERE run_id = '" + run_id() +
                       "' GROUP BY source_type ORDER BY source_type");
  const auto& cat = spotify_->catalogue();
  std::size_t playlist_tracks = 0;
  for (const char* id : {fs::kDemoPlaylistId, fs::kEdgeCasePlaylistId})
    for (const auto& item : cat.playlist(id).items) playlist_tracks += item.kind == fs::ItemKind::track;
  ASSERT_EQ(by_type["rows"].size(), 3u) << by_type.dump();
  EXPECT_EQ(by_type["rows"][0], nlohmann::json({"album", cat.album(fs::kDemoAlbumId).track_ids.size()}));
  EXPECT_EQ(by_type["rows"][1], nlohmann::json({"playlist", playlist_tracks}));
  EXPECT_EQ(by_type["rows"][2], nlohmann::json({"search", 200})) << "search is capped at 200 results";
}

TEST_F(EmbeddedEndToEnd, PlaylistRowsKeepIdsOrderAndPositions) {
  ASSERT_TRUE(wait_for_rows());
  const auto& playlist = spotify_->catalogue().playlist(fs::kDemoPlaylistId);
  auto rows = query("SELECT song_id, position, added_at FROM songs_data WHERE run_id = '" + run_id() +
                    "' AND source_id = '" + fs::kDemoPlaylistId + "' ORDER BY position")["rows"];
  ASSERT_EQ(rows.size(), playlist.items.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][0], playlist.items[i].id) << "position " << i;
    EXPECT_EQ(rows[i][1], i);
    EXPECT_EQ(rows[i][2], playlist.items[i].added_at) << "added_at as RFC 3339 UTC";
  }
}

TEST_F(EmbeddedEndToEnd, EdgeCasesSurviveNamesNullsAndArtistLists) {
  ASSERT_TRUE(wait_for_rows());
  const auto& cat = spotify_->catalogue();
  const auto& playlist = cat.playlist(fs::kEdgeCasePlaylistId);
  auto rows = query("SELECT position, song_id, song_name, popularity, artist_ids, artist_id FROM songs_data "
                    "WHERE run_id = '" + run_id() + "' AND source_id = '" + fs::kEdgeCasePlaylistId +
                    "' ORDER BY position")["rows"];
  std::size_t expected = 0;
  for (const auto& item : playlist.items) expected += item.kind == fs::ItemKind::track;
  ASSERT_EQ(rows.size(), expected) << "null items, local files and episodes are skipped";
  for (const auto& row : rows) {
    auto pos = row[0].get<std::size_t>();
    ASSERT_LT(pos, playlist.items.size());
    const auto& item = playlist.items[pos];
    ASSERT_EQ(item.kind, fs::ItemKind::track) << "a skipped item produced a row at position " << pos;
    const auto& track = cat.track(item.id);
    EXPECT_EQ(row[1], track.id);
    EXPECT_EQ(row[2], track.name) << "names with quotes, commas, newlines and non-ASCII survive";
    if (track.popularity) EXPECT_EQ(row[3], *track.popularity);
    else EXPECT_TRUE(row[3].is_null()) << "popularity omitted by the API is null, not 0";
    EXPECT_EQ(row[4], nlohmann::json(track.artist_ids));
    EXPECT_EQ(row[5], track.artist_ids.front());
  }
}

TEST_F(EmbeddedEndToEnd, AlbumSourceTakesTheExtractedAlbumAndNullPopularity) {
  ASSERT_TRUE(wait_for_rows());
  const auto& album = spotify_->catalogue().album(fs::kDemoAlbumId);
  auto rows = query("SELECT album_id, popularity, added_at FROM songs_data WHERE run_id = '" + run_id() +
                    "' AND source_type = 'album'")["rows"];
  ASSERT_EQ(rows.size(), album.track_ids.size());
  for (const auto& row : rows) {
    EXPECT_EQ(row[0], album.id);
    EXPECT_TRUE(row[1].is_null());
    EXPECT_TRUE(row[2].is_null());
  }
  auto albums = query("SELECT DISTINCT album_name, release_date_precision FROM albums_data WHERE album_id = '" +
                      album.id + "'")["rows"];
  ASSERT_EQ(albums.size(), 1u);
  EXPECT_EQ(albums[0][0], album.name);
}

TEST_F(EmbeddedEndToEnd, ArtistsTableNamesEveryArtistOfTheRun) {
  ASSERT_TRUE(wait_for_rows());
  auto missing = query("SELECT count(*) FROM (SELECT DISTINCT unnest(artist_ids) AS artist_id FROM songs_data "
                       "WHERE run_id = '" + run_id() + "') s ANTI JOIN artists_data a USING (artist_id)");
  EXPECT_EQ(missing["rows"][0][0], 0) << "every artist of an emitted track has an artists_data row";
  const auto& cat = spotify_->catalogue();
  const auto& first = cat.track(cat.playlist(fs::kDemoPlaylistId).items[0].id);
  auto artist = query("SELECT DISTINCT artist_name, artist_url FROM artists_data WHERE artist_id = '" +
                      first.artist_ids[0] + "'")["rows"];
  ASSERT_EQ(artist.size(), 1u);
  EXPECT_EQ(artist[0][0], cat.find_artist(first.artist_ids[0])->name);
  EXPECT_EQ(artist[0][1], "https://open.spotify.com/artist/" + first.artist_ids[0]);
}

TEST_F(EmbeddedEndToEnd, CatalogListsTheThreeTablesPartitionedByDt) {
  ASSERT_TRUE(wait_for_rows());
  auto tables = call("GET", cataloger_ + "/v1/tables", "", kToken).json();
  std::set<std::string> names;
  for (const auto& t : tables["tables"]) {
    names.insert(t["name"]);
    EXPECT_EQ(t["partition_keys"], nlohmann::json({"dt"}));
    EXPECT_EQ(t["database"], "spotify");
    for (const auto& c : t["columns"]) EXPECT_NE(c["name"], "dt") << "partition keys are not repeated in columns";
  }
  EXPECT_EQ(names, (std::set<std::string>{"albums_data", "artists_data", "songs_data"}));
}

TEST_F(EmbeddedEndToEnd, RawObjectsAreMovedToProcessed) {
  ASSERT_TRUE(wait_for_rows());
  auto run = call("GET", extractor_ + "/v1/runs/" + run_id(), "", kToken).json();
  for (const auto& s : run["sources"]) {
    std::string key = s["object_key"];
    std::string name = key.substr(std::string("to_be_processed/").size());
    // The contract's object layout: the same file name, moved once transformed.
    EXPECT_FALSE(std::filesystem::exists(dir_->path() / "raw" / key)) << key << " is still waiting";
    EXPECT_TRUE(std::filesystem::exists(dir_->path() / "raw" / "processed" / name)) << name << " never reached processed/";
    auto again = call("POST", transformer_ + "/v1/transform", nlohmann::json{{"key", "processed/" + name}}.dump(), kToken);
    EXPECT_EQ(again.status, 200) << "re-transforming in place: " << again.body;
  }
  auto rows = query("SELECT count(*) FROM songs_data WHERE run_id = '" + run_id() + "'");
  EXPECT_EQ(rows["rows"][0][0], expected_rows()) << "re-transforming overwrites, never duplicates";
}

TEST_F(EmbeddedEndToEnd, ApisRefuseMissingTokensAndBadInputWithoutA500) {
  EXPECT_EQ(call("GET", extractor_ + "/v1/runs").status, 401);
  EXPECT_EQ(call("POST", cataloger_ + "/v1/query", R"({"sql":"SELECT 1"})").status, 401);
  EXPECT_EQ(call("POST", extractor_ + "/v1/runs", R"({"sources":[{"type":"playlist","id":"nope"}]})", kToken).status, 400);
  EXPECT_EQ(call("POST", cataloger_ + "/v1/query", R"({"sql":"DROP TABLE songs_data"})", kToken).status, 400);
  EXPECT_EQ(call("POST", transformer_ + "/v1/transform", R"({"key":"../etc/passwd"})", kToken).status, 400);
  EXPECT_EQ(call("GET", cataloger_ + "/healthz").status, 200);
}

TEST_F(EmbeddedEndToEnd, ZSigtermStopsEverythingWithExitZeroWithinTenSeconds) {
  process_->kill(SIGTERM);
  auto status = process_->wait_exit(10s);
  ASSERT_TRUE(status.has_value()) << "still running 10 s after SIGTERM";
  EXPECT_EQ(*status, 0) << process_->log();
}

}  // namespace
}  // namespace etl
