// The Spotify client's pure policies: backoff, Retry-After, 429 decisions, token refresh time.
#include <gtest/gtest.h>

#include "etl/json_text.h"

#include "http_spotify_api.h"
#include "fakes.h"

namespace etl::spotify {
namespace {

using namespace std::chrono_literals;

TEST(SpotifyBackoff, CeilingDoublesFromTheBaseUpToTheCap) {
  BackoffPolicy p{100ms, 1000ms};
  EXPECT_EQ(backoff_ceiling(0, p), 100ms);
  EXPECT_EQ(backoff_ceiling(1, p), 200ms);
  EXPECT_EQ(backoff_ceiling(2, p), 400ms);
  EXPECT_EQ(backoff_ceiling(3, p), 800ms);
  EXPECT_EQ(backoff_ceiling(4, p), 1000ms) << "the ceiling must stop growing at the cap";
  EXPECT_EQ(backoff_ceiling(60, p), 1000ms) << "large attempts must not overflow";
  EXPECT_EQ(backoff_ceiling(-3, p), 100ms) << "a negative attempt counts as the first";
}

TEST(SpotifyBackoff, FullJitterSpansZeroToTheCeiling) {
  BackoffPolicy p{100ms, 10s};
  EXPECT_EQ(backoff_delay(3, p, 0.0), 0ms) << "full jitter starts at zero";
  EXPECT_EQ(backoff_delay(3, p, 1.0), 800ms) << "full jitter ends at the ceiling";
  EXPECT_EQ(backoff_delay(3, p, 0.5), 400ms);
  EXPECT_EQ(backoff_delay(3, p, 7.0), 800ms) << "random values above 1 are clamped";
  EXPECT_EQ(backoff_delay(3, p, -1.0), 0ms) << "random values below 0 are clamped";
  for (int attempt = 0; attempt < 20; ++attempt) {
    for (double r : {0.0, 0.1, 0.33, 0.9, 1.0}) {
      auto d = backoff_delay(attempt, p, r);
      EXPECT_GE(d, 0ms);
      EXPECT_LE(d, backoff_ceiling(attempt, p)) << "attempt " << attempt << " r=" << r;
    }
  }
}

TEST(SpotifyBackoff, ZeroBaseMeansNoWaiting) {
  EXPECT_EQ(backoff_delay(5, BackoffPolicy{0ms, 1000ms}, 1.0), 0ms);
}

TEST(SpotifyRetryAfter, ParsesWholeSecondsOnly) {
  EXPECT_EQ(parse_retry_after("7"), 7s);
  EXPECT_EQ(parse_retry_after(" 30 "), 30s);
  EXPECT_EQ(parse_retry_after("0"), 0s);
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after("1.5"));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"));
}

TEST(SpotifyRetryAfter, WaitsWhatSpotifyAsksUpToTheCap) {
  auto d = decide_on_429(5s, R"({"error":{"status":429,"message":"API rate limit exceeded"}})", 60s, 1000ms);
  EXPECT_EQ(d.action, RateLimitDecision::Action::wait);
  EXPECT_EQ(d.wait, 5000ms);
  auto at_cap = decide_on_429(60s, "", 60s, 1000ms);
  EXPECT_EQ(at_cap.action, RateLimitDecision::Action::wait) << "exactly the cap is still waited out";
}

TEST(SpotifyRetryAfter, OverTheCapFailsWithAClearMessage) {
  auto d = decide_on_429(3600s, "", 60s, 1000ms);
  EXPECT_EQ(d.action, RateLimitDecision::Action::over_cap);
  EXPECT_EQ(d.message, "Spotify asked to wait 3600 s, over the 60 s cap (ETL_SPOTIFY_MAX_RETRY_AFTER_S)");
}

TEST(SpotifyRetryAfter, MissingRetryAfterUsesTheFallbackWait) {
  auto d = decide_on_429(std::nullopt, "", 60s, 1500ms);
  EXPECT_EQ(d.action, RateLimitDecision::Action::wait);
  EXPECT_EQ(d.wait, 1500ms);
}

TEST(SpotifyRetryAfter, QuotaExceededIsNeverWaitedOut) {
  auto d = decide_on_429(1s, R"({"error":{"status":429,"message":"Quota exceeded","reason":"QUOTA_EXCEEDED"}})", 60s, 1000ms);
  EXPECT_EQ(d.action, RateLimitDecision::Action::quota_exceeded);
  EXPECT_NE(d.message.find("Quota exceeded"), std::string::npos) << d.message;
}

TEST(SpotifyErrors, MessageComesFromSpotifysErrorObject) {
  EXPECT_EQ(error_message(R"({"error":{"status":404,"message":"Resource not found"}})"), "Resource not found");
  EXPECT_EQ(error_message(R"({"error":"invalid_client","error_description":"Invalid client"})"),
            "invalid_client: Invalid client");
  EXPECT_EQ(error_message(""), "(empty body)");
  EXPECT_EQ(error_message("<html>bad gateway</html>"), "<html>bad gateway</html>");
  EXPECT_EQ(error_message(std::string(500, 'x')).size(), 203u) << "long bodies are cut to an excerpt";
  // A page's text goes into run records, which are JSON: never a character cut in two,
  // never a byte that is not UTF-8 (a Latin-1 error page).
  const std::string page = "<html><body><h1>502 Bad Gateway</h1><p>" + std::string(160, 'x') + "\xc3\xbc</p></body></html>";
  EXPECT_TRUE(is_utf8(error_message(page))) << error_message(page);
  EXPECT_EQ(error_message("QUOTA caf\xe9"), "QUOTA caf\xef\xbf\xbd");
}

TEST(SpotifyToken, RefreshesAMarginBeforeExpiryButNotBeforeHalfTheLifetime) {
  Clock::time_point t0{std::chrono::hours(1)};
  EXPECT_EQ(token_refresh_at(t0, 3600s, 60s), t0 + 3540s);
  EXPECT_EQ(token_refresh_at(t0, 60s, 60s), t0 + 30s) << "a short-lived token is still used for half its life";
  EXPECT_EQ(token_refresh_at(t0, 0s, 60s), t0);
}

TEST(SpotifyRequestGate, SpacesRequestsAtTheRateAfterABurst) {
  auto clock = std::make_shared<testing::ManualClock>();
  RequestGate gate(clock, 2.0);  // bursts of 2, then one every 500 ms
  auto start = clock->now();
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(gate.acquire({}, 60s).ok());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(clock->now() - start), 2000ms)
      << "6 requests at 2/s with a burst of 2 need 2 s";
}

TEST(SpotifyRequestGate, RetryAfterBlocksEveryCaller) {
  auto clock = std::make_shared<testing::ManualClock>();
  RequestGate gate(clock, 1000.0);
  auto start = clock->now();
  gate.block_for(3000ms);
  ASSERT_TRUE(gate.acquire({}, 60s).ok());
  EXPECT_GE(clock->now() - start, 3000ms) << "no request may leave before the Retry-After passed";
}

TEST(SpotifyRequestGate, ABlockOverTheCapFailsFastInsteadOfHanging) {
  auto clock = std::make_shared<testing::ManualClock>();
  RequestGate gate(clock, 1000.0);
  gate.block_for(std::chrono::seconds(3600));
  auto s = gate.acquire({}, 60s);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::rate_limited);
  EXPECT_NE(s.error().message.find("ETL_SPOTIFY_MAX_RETRY_AFTER_S"), std::string::npos) << s.error().message;
  EXPECT_EQ(clock->slept(), 0ms) << "it must not wait at all";
}

TEST(SpotifyRequestGate, StopRequestCancelsTheWait) {
  auto clock = std::make_shared<testing::ManualClock>();
  RequestGate gate(clock, 1000.0);
  gate.block_for(5000ms);
  std::stop_source stop;
  stop.request_stop();
  auto s = gate.acquire(stop.get_token(), 60s);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::cancelled);
}

}  // namespace
}  // namespace etl::spotify
