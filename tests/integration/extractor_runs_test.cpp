// Runs against the fake Spotify server over real HTTP: every source type, verbatim
// pages, events, 429 storms, 5xx bursts, token expiry, 404s, quota and restarts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "envelope.h"
#include "etl/s3_event.h"
#include "extractor_env.h"
#include "sources.h"

namespace etl::extractor {
namespace {

using testenv::Env;
namespace fake = etl::fakespotify;
using namespace std::chrono_literals;

int pages_for(int items, int per_page) { return std::max(1, (items + per_page - 1) / per_page); }

// The bodies the fake serves for a source, fetched independently of the run.
std::vector<std::string> served_pages(Env& env, const std::string& first_path, const QueryParams& params,
                                      const std::string& paging_field, std::size_t max_pages) {
  auto api = env.client();
  std::vector<std::string> out;
  auto page = api->get(first_path, params);
  std::string field = paging_field;
  while (page.ok() && out.size() < max_pages) {
    out.push_back(page->body);
    auto info = read_page(page->body, field);
    if (!info || info->next.empty()) break;
    if (field == "tracks" && first_path.rfind("/albums/", 0) == 0) field.clear();  // album: later pages are bare
    page = api->get(info->next);
  }
  return out;
}

TEST(ExtractorRuns, EverySourceTypeLandsAllItsPagesVerbatim) {
  Env env;
  env.config.extract_parallelism = 4;
  env.start();
  const auto& cat = env.spotify.catalogue();
  auto run = env.run({{SourceType::playlist, fake::kLargePlaylistId},
                      {SourceType::album, fake::kBigAlbumId},
                      {SourceType::artist_albums, fake::kProlificArtistId},
                      {SourceType::search, fake::kDemoSearchQuery}});
  ASSERT_EQ(run.status, RunStatus::succeeded) << to_json(run).dump(2);

  const int playlist_items = static_cast<int>(cat.playlist(fake::kLargePlaylistId).items.size());
  const int album_items = static_cast<int>(cat.album(fake::kBigAlbumId).track_ids.size());
  const int artist_items = static_cast<int>(cat.artist_albums(fake::kProlificArtistId).size());
  const int search_items = std::min<int>(200, static_cast<int>(cat.search_tracks(fake::kDemoSearchQuery).size()));
  struct Expect {
    int items, pages;
    std::string first_path;
    QueryParams params;
    std::string field;
  };
  const std::vector<Expect> expected = {
      {playlist_items, pages_for(playlist_items, 50), "/playlists/" + std::string(fake::kLargePlaylistId) + "/items", {{"limit", "50"}}, ""},
      {album_items, pages_for(album_items, 50), "/albums/" + std::string(fake::kBigAlbumId), {}, "tracks"},
      {artist_items, pages_for(artist_items, 50), "/artists/" + std::string(fake::kProlificArtistId) + "/albums", {{"limit", "50"}}, ""},
      {search_items, pages_for(search_items, 10), "/search", {{"q", fake::kDemoSearchQuery}, {"type", "track"}, {"limit", "10"}}, "tracks"},
  };
  auto raw = env.raw();
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& s = run.sources[i];
    SCOPED_TRACE(s.type + ":" + s.id);
    EXPECT_EQ(s.status, SourceStatus::succeeded) << s.error;
    EXPECT_EQ(s.items, expected[i].items) << "items must match the fake's catalogue";
    EXPECT_EQ(s.pages, expected[i].pages);
    auto body = raw->get(s.object_key);
    ASSERT_TRUE(body.ok()) << "the record's object_key must exist: " << s.object_key;
    auto envelope = nlohmann::json::parse(*body, nullptr, false);
    ASSERT_FALSE(envelope.is_discarded()) << "the raw object must be valid JSON";
    EXPECT_EQ(envelope["format"], "spotify-etl.raw.v1");
    EXPECT_EQ(envelope["run_id"], run.run_id);
    EXPECT_EQ(envelope["source"]["type"], s.type);
    EXPECT_EQ(envelope["source"]["id"], s.id);
    EXPECT_EQ(envelope["api"]["base_url"], env.spotify.api_url());
    EXPECT_EQ(static_cast<int>(envelope["pages"].size()), expected[i].pages);
    auto served = served_pages(env, expected[i].first_path, expected[i].params, expected[i].field,
                               static_cast<std::size_t>(expected[i].pages));
    ASSERT_EQ(static_cast<int>(served.size()), expected[i].pages);
    for (std::size_t p = 0; p < served.size(); ++p)
      EXPECT_NE(body->find(served[p]), std::string::npos) << "page " << p << " is not byte-identical to what the fake served";
  }
  EXPECT_EQ(run.sources[3].id, "love");
}

TEST(ExtractorRuns, EachLandedObjectIsAnnouncedOnceOnTheRawTopic) {
  Env env;
  env.start();
  auto run = env.run({{SourceType::playlist, fake::kDemoPlaylistId}, {SourceType::album, fake::kDemoAlbumId}});
  ASSERT_EQ(run.status, RunStatus::succeeded);
  auto raw = env.raw();
  auto messages = env.bus->messages(env.config.topic_raw);
  ASSERT_EQ(messages.size(), 2u) << "one event per landed object";
  std::set<std::string> keys;
  for (const auto& m : messages) {
    auto events = parse_s3_events(m.value);
    ASSERT_TRUE(events.ok() && events->size() == 1) << m.value;
    const auto& e = (*events)[0];
    EXPECT_EQ(e.bucket, raw->bucket());
    EXPECT_EQ(m.key, e.key);
    auto head = raw->head(e.key);
    ASSERT_TRUE(head.ok()) << "the event names an object that is not there: " << e.key;
    EXPECT_EQ(e.size, head->size);
    EXPECT_FALSE(e.sequencer.empty());
    keys.insert(e.key);
  }
  EXPECT_EQ(keys, (std::set<std::string>{run.sources[0].object_key, run.sources[1].object_key}));
}

TEST(ExtractorRuns, RateLimitStormsAndServerErrorBurstsStillSucceedAndRetryAfterIsHonoured) {
  Env env;
  env.config.extract_parallelism = 1;  // one request at a time, so "the next request" is well defined
  env.start();
  env.spotify.fail_next(2, 429, 1);
  env.spotify.fail_next(3, 503);
  env.spotify.fail_next(1, 500);
  auto run = env.run({{SourceType::playlist, fake::kDemoPlaylistId}, {SourceType::album, fake::kDemoAlbumId}});
  EXPECT_EQ(run.status, RunStatus::succeeded) << to_json(run).dump(2);
  auto requests = env.api_requests();
  int limited = 0;
  for (std::size_t i = 0; i + 1 < requests.size(); ++i) {
    if (requests[i].status != 429) continue;
    ++limited;
    EXPECT_GE(requests[i + 1].at - requests[i].at, 1s)
        << "request " << i + 1 << " (" << requests[i + 1].path << ") was sent before Retry-After: 1 passed";
  }
  EXPECT_EQ(limited, 2);
}

TEST(ExtractorRuns, RetryAfterOverTheCapFailsTheSourceWithAClearMessage) {
  Env env;
  env.config.spotify_max_retry_after = 60s;
  env.start();
  env.spotify.fail_next(1, 429, 3600);
  auto started = std::chrono::steady_clock::now();
  auto run = env.run({{SourceType::album, fake::kDemoAlbumId}});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s) << "it must not wait for an hour";
  EXPECT_EQ(run.status, RunStatus::failed);
  EXPECT_NE(run.sources[0].error.find("Spotify asked to wait 3600 s, over the 60 s cap (ETL_SPOTIFY_MAX_RETRY_AFTER_S)"),
            std::string::npos)
      << run.sources[0].error;
}

TEST(ExtractorRuns, AnExpiredTokenIsRefreshedOnceNotInALoop) {
  Env env;
  env.start();
  ASSERT_EQ(env.run({{SourceType::album, fake::kDemoAlbumId}}).status, RunStatus::succeeded);
  const int tokens_before = env.spotify.token_requests();
  env.spotify.expire_all_tokens();
  auto run = env.run({{SourceType::playlist, fake::kDemoPlaylistId}});
  EXPECT_EQ(run.status, RunStatus::succeeded) << to_json(run).dump(2);
  EXPECT_EQ(env.spotify.token_requests(), tokens_before + 1) << "an expired token must cause exactly one refresh";
  int unauthorized = 0;
  for (const auto& r : env.api_requests()) unauthorized += r.status == 401;
  EXPECT_EQ(unauthorized, 1);
}

TEST(ExtractorRuns, ATokenEndpointOutageIsRetried) {
  Env env;
  env.start();
  env.spotify.fail_next_token_requests(2, 503);
  auto run = env.run({{SourceType::album, fake::kDemoAlbumId}});
  EXPECT_EQ(run.status, RunStatus::succeeded) << to_json(run).dump(2);
  EXPECT_EQ(env.spotify.token_requests(), 3);
}

TEST(ExtractorRuns, AnUnknownPlaylistGivesPartialWithSpotifysMessage) {
  Env env;
  env.start();
  auto run = env.run({{SourceType::playlist, fake::kDemoPlaylistId},
                      {SourceType::playlist, fake::kTop50GlobalPlaylistId},
                      {SourceType::playlist, "0000000000000000000000"}});
  EXPECT_EQ(run.status, RunStatus::partial);
  EXPECT_EQ(run.sources[0].status, SourceStatus::succeeded);
  for (std::size_t i : {1u, 2u}) {
    EXPECT_EQ(run.sources[i].status, SourceStatus::failed);
    EXPECT_NE(run.sources[i].error.find("Resource not found"), std::string::npos)
        << "the source's error must carry Spotify's message: " << run.sources[i].error;
    EXPECT_TRUE(run.sources[i].object_key.empty());
  }
  // Spotify's editorial Top 50 says why it is missing; a playlist that does not exist does not.
  EXPECT_NE(run.sources[1].error.find("Spotify-owned editorial or algorithmic playlist"), std::string::npos)
      << run.sources[1].error;
  EXPECT_EQ(run.sources[2].error.find("editorial"), std::string::npos) << run.sources[2].error;
  EXPECT_EQ(env.bus->messages(env.config.topic_raw).size(), 1u);
}

TEST(ExtractorRuns, QuotaExceededStopsTheRunsRemainingCalls) {
  Env env;
  env.config.extract_parallelism = 1;
  env.start();
  env.spotify.quota_exceeded_next(1);
  auto run = env.run({{SourceType::playlist, fake::kDemoPlaylistId}, {SourceType::album, fake::kDemoAlbumId}, {SourceType::search, "love"}});
  EXPECT_EQ(run.status, RunStatus::failed);
  EXPECT_NE(run.error.find("QUOTA_EXCEEDED"), std::string::npos) << run.error;
  for (const auto& s : run.sources) EXPECT_EQ(s.status, SourceStatus::failed) << s.type;
  EXPECT_EQ(env.api_requests().size(), 1u) << "after QUOTA_EXCEEDED no further call may be made";
}

TEST(ExtractorRuns, RunRecordsSurviveARestart) {
  std::string run_id;
  Env env;
  env.start();
  auto run = env.run({{SourceType::album, fake::kDemoAlbumId}});
  ASSERT_EQ(run.status, RunStatus::succeeded);
  env.service->stop();
  env.service.reset();

  env.start();
  auto again = env.service->get_run(run.run_id);
  ASSERT_TRUE(again.ok()) << "a new service on the same raw folder must know the old run";
  EXPECT_EQ(*again, run);
  auto listed = env.service->list_runs(10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].run_id, run.run_id);
}

}  // namespace
}  // namespace etl::extractor
