// Spotify's error answers (bad ids, unknown ids) and the injected faults.
#include "fake_spotify_test_util.h"

#include <thread>

namespace etl::fakespotify::testing {
namespace {

using FakeSpotify = FakeSpotifyTest;
using namespace std::chrono_literals;

const std::string kDemoPath = std::string("/v1/playlists/") + kDemoPlaylistId;

json spotify_error(int status, const std::string& message) {
  return {{"error", {{"status", status}, {"message", message}}}};
}

TEST_F(FakeSpotify, UnknownIdsAre404) {
  const json not_found = spotify_error(404, "Resource not found");
  EXPECT_EQ(get_json("/v1/playlists/0000000000000000000000", 404), not_found);
  EXPECT_EQ(get_json("/v1/playlists/0000000000000000000000/tracks", 404), not_found);
  EXPECT_EQ(get_json("/v1/albums/0000000000000000000000", 404), not_found);
  EXPECT_EQ(get_json("/v1/artists/0000000000000000000000/albums", 404), not_found);
}

TEST_F(FakeSpotify, EditorialTop50PlaylistIs404AsForNewApps) {
  EXPECT_EQ(get_json(std::string("/v1/playlists/") + kTop50GlobalPlaylistId, 404), spotify_error(404, "Resource not found"));
  EXPECT_EQ(get_json(std::string("/v1/playlists/") + kTop50GlobalPlaylistId + "/items", 404)["error"]["status"], 404);
}

TEST_F(FakeSpotify, MalformedIdsAre400) {
  const json invalid = spotify_error(400, "Invalid base62 id");
  EXPECT_EQ(get_json("/v1/playlists/too-short", 400), invalid);
  EXPECT_EQ(get_json("/v1/albums/1JJAj1SJnntr5pVBzvT7r!", 400), invalid);
}

TEST_F(FakeSpotify, UnknownPathIsSpotifyJson404) {
  EXPECT_EQ(get_json("/v1/no-such-endpoint", 404)["error"]["status"], 404);
}

TEST_F(FakeSpotify, FailNextAnswers429WithRetryAfterThenRecovers) {
  token();
  server_.fail_next(2, 429, 3);
  for (int i = 0; i < 2; ++i) {
    auto res = get(kDemoPath);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 429) << "request " << i;
    EXPECT_EQ(res->get_header_value("Retry-After"), "3");
    EXPECT_EQ(json::parse(res->body)["error"]["status"], 429);
  }
  get_json(kDemoPath, 200);
}

TEST_F(FakeSpotify, QueuedServerErrorsApplyInOrder) {
  token();
  server_.fail_next(1, 500);
  server_.fail_next(1, 502);
  server_.fail_next(2, 503, std::nullopt, "upstream connect error");
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i) statuses.push_back(get(kDemoPath)->status);
  EXPECT_EQ(statuses, (std::vector<int>{500, 502, 503, 503, 200}));
  server_.fail_next(1, 503, std::nullopt, "upstream connect error");
  EXPECT_EQ(get(kDemoPath)->body, "upstream connect error");
}

TEST_F(FakeSpotify, QuotaExceededIs429WithReasonInTheBody) {
  token();
  server_.quota_exceeded_next(1);
  auto res = get(kDemoPath);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_FALSE(res->has_header("Retry-After"));
  EXPECT_NE(res->body.find("QUOTA_EXCEEDED"), std::string::npos) << res->body;
  EXPECT_EQ(json::parse(res->body)["error"]["reason"], "QUOTA_EXCEEDED");
  get_json(kDemoPath, 200);
}

TEST_F(FakeSpotify, FaultsComeBeforeTheTokenCheck) {
  server_.fail_next(1, 503);
  auto res = get(kDemoPath, "");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
}

TEST_F(FakeSpotify, DelayAddsLatencyToApiRequests) {
  token();
  server_.set_delay(150ms);
  const auto start = std::chrono::steady_clock::now();
  get_json(kDemoPath, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  server_.set_delay(0ms);
}

TEST_F(FakeSpotify, RequestsAreRecordedInOrderWithTheirStatus) {
  token();
  server_.fail_next(1, 429, 1);
  get(kDemoPath);
  get_json(std::string("/v1/playlists/") + kLargePlaylistId + "/tracks?offset=100&limit=100");
  const auto records = server_.requests();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].method, "POST");
  EXPECT_EQ(records[0].path, "/api/token");
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[1].path, kDemoPath);
  EXPECT_EQ(records[1].status, 429);
  EXPECT_EQ(records[2].query, "offset=100&limit=100");
  EXPECT_EQ(records[2].status, 200);
  EXPECT_LE(records[1].at, records[2].at);
  EXPECT_EQ(server_.token_requests(), 1);
  server_.clear_requests();
  EXPECT_TRUE(server_.requests().empty());
}

TEST_F(FakeSpotify, ServesConcurrentClients) {
  token();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      httplib::Client c(server_.accounts_url());
      for (int k = 0; k < 5; ++k) {
        auto res = c.Get("/v1/playlists/" + std::string(kLargePlaylistId) + "/items?offset=50",
                         {{"Authorization", "Bearer " + token_}});
        if (res && res->status == 200) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(server_.requests().size(), 21u);
}

TEST(FakeSpotifyLifecycle, StopsAndRestartsOnAnotherPort) {
  FakeSpotifyServer server;
  const int port = server.start();
  ASSERT_GT(port, 0);
  EXPECT_EQ(server.api_url(), "http://127.0.0.1:" + std::to_string(port) + "/v1");
  EXPECT_EQ(server.accounts_url(), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(server.start(), port) << "a second start keeps the running server";
  const auto begin = std::chrono::steady_clock::now();
  server.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  server.stop();
  EXPECT_GT(server.start(), 0);
}

}  // namespace
}  // namespace etl::fakespotify::testing
