// HttpSpotifyApi against a scripted transport and a manual clock: tokens,
// 401/429/5xx handling and error mapping, with no network and no real waiting.
#include <gtest/gtest.h>

#include <thread>

#include "http_spotify_api.h"
#include "fakes.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using testing::ManualClock;
using testing::ScriptedTransport;

class SpotifyClientTest : public ::testing::Test {
 protected:
  SpotifyClientTest() : clock_(std::make_shared<ManualClock>()), transport_(clock_) {}

  std::unique_ptr<HttpSpotifyApi> make(SpotifyOptions o = {}) {
    o.api_url = "https://api.test/v1";
    o.accounts_url = "https://accounts.test";
    o.client_id = "id";
    o.client_secret = "secret";
    o.rate_per_s = 1000;
    HttpSpotifyApi::Deps deps;
    deps.clock = clock_;
    deps.transport = transport_.transport();
    deps.random = [] { return 1.0; };  // the top of the jitter range: waits are deterministic
    return std::make_unique<HttpSpotifyApi>(o, std::move(deps));
  }

  static ScriptedTransport::Answer status(int code, std::string body = {},
                                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    return ScriptedTransport::reply(code, std::move(body), std::move(headers));
  }

  std::shared_ptr<ManualClock> clock_;
  ScriptedTransport transport_;
};

TEST_F(SpotifyClientTest, TokenIsFetchedOnceAndReusedAcrossCalls) {
  auto api = make();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(api->get("/albums/x").ok());
  EXPECT_EQ(transport_.token_requests(), 1) << "a valid token must be cached, not fetched per call";
  for (const auto& sent : transport_.api_requests()) EXPECT_EQ(sent.authorization, "Bearer tok1");
}

TEST_F(SpotifyClientTest, TokenIsRefreshedShortlyBeforeItExpires) {
  auto api = make();
  ASSERT_TRUE(api->get("/albums/x").ok());
  clock_->advance(3500s);  // refresh_at = 3600 - 60 s margin
  ASSERT_TRUE(api->get("/albums/x").ok());
  EXPECT_EQ(transport_.token_requests(), 1) << "still 100 s before the refresh point";
  clock_->advance(50s);
  ASSERT_TRUE(api->get("/albums/x").ok());
  EXPECT_EQ(transport_.token_requests(), 2) << "within the margin the token must be refreshed";
  EXPECT_EQ(transport_.api_requests().back().authorization, "Bearer tok2");
}

TEST_F(SpotifyClientTest, A401RefreshesTheTokenOnceAndRetries) {
  auto api = make();
  transport_.push_api(status(401, R"({"error":{"status":401,"message":"The access token expired"}})"));
  auto r = api->get("/albums/x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(transport_.token_requests(), 2);
  auto sent = transport_.api_requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].authorization, "Bearer tok1");
  EXPECT_EQ(sent[1].authorization, "Bearer tok2") << "the retry must use the fresh token";
}

TEST_F(SpotifyClientTest, A401RightAfterARefreshIsUnauthorizedNotALoop) {
  auto api = make();
  for (int i = 0; i < 5; ++i) transport_.push_api(status(401, R"({"error":{"status":401,"message":"Invalid access token"}})"));
  auto r = api->get("/albums/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unauthorized);
  EXPECT_NE(r.error().message.find("Invalid access token"), std::string::npos) << r.error().message;
  EXPECT_EQ(transport_.token_requests(), 2) << "exactly one refresh per call";
  EXPECT_EQ(transport_.api_requests().size(), 2u);
}

TEST_F(SpotifyClientTest, ConcurrentCallsShareOneTokenFetch) {
  auto api = make();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) EXPECT_TRUE(api->get("/albums/x").ok());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(transport_.token_requests(), 1);
}

TEST_F(SpotifyClientTest, RejectedCredentialsAreUnauthorizedWithoutTheSecret) {
  auto api = make();
  transport_.push_token(status(400, R"({"error":"invalid_client","error_description":"Invalid client"})"));
  auto r = api->get("/albums/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unauthorized);
  EXPECT_NE(r.error().message.find("invalid_client"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("secret"), std::string::npos) << "the secret must never appear in errors";
  EXPECT_TRUE(transport_.api_requests().empty());
}

// A token answer whose expires_in is not a whole number of seconds a token can
// live (a string, a fraction, a value past any clock) is bad data from the token
// endpoint, not an exception or an overflowing time point.
TEST_F(SpotifyClientTest, ATokenAnswerWithAnUnusableLifetimeIsBadData) {
  for (const char* expires_in : {R"("3600")", "3600.5", "1e300", "-1", "0", "9223372036854775807", "true", "null"}) {
    SCOPED_TRACE(expires_in);
    auto api = make();
    transport_.push_token(status(200, std::string(R"({"access_token":"tok","expires_in":)") + expires_in + "}"));
    auto r = api->get("/albums/x");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::bad_data);
    EXPECT_NE(r.error().message.find("expires_in"), std::string::npos) << r.error().message;
    EXPECT_TRUE(transport_.api_requests().empty());
  }
  // Absent, it is Spotify's documented hour; a whole number is taken as it is.
  for (const char* body : {R"({"access_token":"tok"})", R"({"access_token":"tok","expires_in":600})"}) {
    auto api = make();
    transport_.push_token(status(200, body));
    EXPECT_TRUE(api->get("/albums/x").ok()) << body;
  }
}

TEST_F(SpotifyClientTest, RetryAfterIsWaitedOutBeforeTheNextRequest) {
  auto api = make();
  transport_.push_api(status(429, "", {{"retry-after", "3"}}));
  transport_.push_api(status(429, "", {{"retry-after", "2"}}));
  auto r = api->get("/albums/x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto sent = transport_.api_requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_GE(sent[1].at - sent[0].at, 3s) << "the second request left before Retry-After: 3 passed";
  EXPECT_GE(sent[2].at - sent[1].at, 2s) << "the third request left before Retry-After: 2 passed";
}

TEST_F(SpotifyClientTest, RetryAfterOverTheCapFailsInsteadOfHanging) {
  SpotifyOptions o;
  o.max_retry_after = 60s;
  auto api = make(o);
  transport_.push_api(status(429, "", {{"retry-after", "3600"}}));
  auto r = api->get("/albums/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::rate_limited);
  EXPECT_NE(r.error().message.find("Spotify asked to wait 3600 s, over the 60 s cap (ETL_SPOTIFY_MAX_RETRY_AFTER_S)"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(clock_->slept(), 0ms) << "it must fail at once, not wait";
  auto next = api->get("/albums/y");
  ASSERT_FALSE(next.ok()) << "later calls of the process must keep away too";
  EXPECT_EQ(next.error().code, Errc::rate_limited);
  EXPECT_EQ(transport_.api_requests().size(), 1u) << "no request may be sent during the block";
}

TEST_F(SpotifyClientTest, QuotaExceededReturnsAtOnce) {
  auto api = make();
  transport_.push_api(status(429, R"({"error":{"status":429,"message":"Quota exceeded","reason":"QUOTA_EXCEEDED"}})"));
  auto r = api->get("/albums/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::quota_exceeded);
  EXPECT_EQ(transport_.api_requests().size(), 1u) << "quota exceeded must not be retried";
}

TEST_F(SpotifyClientTest, ServerErrorsAreRetriedWithBackoffThenGiveUp) {
  SpotifyOptions o;
  o.max_retries = 3;
  o.backoff = {100ms, 10s};
  auto api = make(o);
  for (int i = 0; i < 10; ++i) transport_.push_api(status(503, R"({"error":{"status":503,"message":"Service unavailable"}})"));
  auto r = api->get("/albums/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::unavailable);
  EXPECT_NE(r.error().message.find("Service unavailable"), std::string::npos) << r.error().message;
  EXPECT_EQ(transport_.api_requests().size(), 4u) << "1 try + max_retries retries";
  EXPECT_EQ(clock_->slept(), 100ms + 200ms + 400ms) << "full-jitter ceilings at random = 1";
}

TEST_F(SpotifyClientTest, ABurstOfServerAndNetworkErrorsStillSucceeds) {
  auto api = make();
  transport_.push_api(status(500));
  transport_.push_api(make_error(Errc::unavailable, "connection refused"));
  transport_.push_api(make_error(Errc::timeout, "timed out"));
  transport_.push_api(status(502));
  auto r = api->get("/albums/x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->body, R"({"items":[],"next":null})");
}

TEST_F(SpotifyClientTest, NotFoundAndForbiddenCarrySpotifysMessage) {
  auto api = make();
  transport_.push_api(status(404, R"({"error":{"status":404,"message":"Resource not found"}})"));
  transport_.push_api(status(403, R"({"error":{"status":403,"message":"Forbidden."}})"));
  auto missing = api->get("/playlists/37i9dQZEVXbMDoHDwVN2tF/items");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_EQ(missing.error().message, "Resource not found (HTTP 404 for GET /playlists/37i9dQZEVXbMDoHDwVN2tF/items)");
  auto forbidden = api->get("/playlists/x/items");
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, Errc::forbidden);
  EXPECT_EQ(transport_.api_requests().size(), 2u) << "404 and 403 are final, never retried";
}

TEST_F(SpotifyClientTest, QueryParamsAndAbsoluteNextUrlsAreResolved) {
  auto api = make();
  ASSERT_TRUE(api->get("/search", {{"q", "daft punk"}, {"type", "track"}}).ok());
  ASSERT_TRUE(api->get("https://api.test/v1/search?offset=10&limit=10&q=x").ok());
  auto sent = transport_.api_requests();
  EXPECT_EQ(sent[0].url, "https://api.test/v1/search?q=daft%20punk&type=track");
  EXPECT_EQ(sent[1].url, "https://api.test/v1/search?offset=10&limit=10&q=x");
}

TEST_F(SpotifyClientTest, NextUrlsOutsideTheApiAreRefusedSoTheTokenNeverLeaks) {
  auto api = make();
  auto r = api->get("https://evil.test/v1/search?offset=10");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_data);
  auto prefix_trick = api->get("https://api.test/v1.evil.test/x");
  ASSERT_FALSE(prefix_trick.ok());
  EXPECT_TRUE(transport_.api_requests().empty());
}

TEST_F(SpotifyClientTest, AStoppedCallIsCancelledWithoutSending) {
  auto api = make();
  std::stop_source stop;
  stop.request_stop();
  auto r = api->get("/albums/x", {}, stop.get_token());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::cancelled);
  EXPECT_TRUE(transport_.api_requests().empty());
}

}  // namespace
}  // namespace etl
