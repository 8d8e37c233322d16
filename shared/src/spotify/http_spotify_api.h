// The real Spotify Web API client behind open_spotify_api (etl/spotify.h), and
// its policies as pure functions / small classes so they are tested without a
// network or real waiting (inject a `spotify::Clock`). Private to etl_shared:
// services see only the SpotifyApi interface.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "etl/config.h"
#include "etl/http_client.h"
#include "etl/metrics.h"
#include "etl/result.h"
#include "etl/spotify.h"

namespace etl {

namespace spotify {

// Time and sleeping, injectable so token expiry and waits are tested without waiting.
class Clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // Sleeps until `t`; false when `stop` was requested first.
  virtual bool sleep_until(time_point t, std::stop_token stop) = 0;
};
// The real steady clock; sleeps wake early on a stop request.
std::shared_ptr<Clock> steady_clock();

// Full-jitter exponential backoff: a delay drawn uniformly from
// [0, min(cap, base * 2^attempt)] with `random01` in [0, 1]. attempt 0 = first retry.
struct BackoffPolicy {
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds cap{30000};
};
std::chrono::milliseconds backoff_ceiling(int attempt, const BackoffPolicy& policy) noexcept;
std::chrono::milliseconds backoff_delay(int attempt, const BackoffPolicy& policy, double random01) noexcept;

// Retry-After in seconds ("7"); nullopt when absent or not a number (HTTP dates are not used by Spotify).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view header);

// What to do with a 429.
struct RateLimitDecision {
  enum class Action { wait, quota_exceeded, over_cap };
  Action action = Action::wait;
  std::chrono::milliseconds wait{0};  // for `wait` (and how long Spotify asked for, for `over_cap`)
  std::string message;                // for the two failures
};
// `fallback_wait` applies when Spotify sent no usable Retry-After.
RateLimitDecision decide_on_429(std::optional<std::chrono::seconds> retry_after, std::string_view body,
                                std::chrono::seconds cap, std::chrono::milliseconds fallback_wait);

// Spotify's `{"error":{"status":404,"message":"..."}}` message, or a short excerpt of the body.
std::string error_message(std::string_view body);

struct AccessToken {
  std::string value;
  Clock::time_point refresh_at{};  // when to fetch a new one (a margin before expiry)
};

// A cached token shared by every thread. One fetch at a time: callers arriving
// during a fetch wait for it and share its result.
class TokenCache {
 public:
  using Fetch = std::function<Result<AccessToken>(std::stop_token)>;
  TokenCache(Fetch fetch, std::shared_ptr<Clock> clock);
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // The cached token, fetched when absent or due for refresh.
  Result<std::string> get(std::stop_token stop = {});
  // Forgets `token` after a 401, unless another thread already replaced it (so
  // concurrent 401s on one stale token cause a single refresh).
  void invalidate(const std::string& token);
  int fetches() const;

 private:
  Fetch fetch_;
  std::shared_ptr<Clock> clock_;
  mutable std::mutex mutex_;
  std::optional<AccessToken> token_;
  int fetches_ = 0;
};

// When a token of `expires_in` should be refreshed: `margin` before expiry, but
// never earlier than half its lifetime (short-lived tokens stay useful).
Clock::time_point token_refresh_at(Clock::time_point issued, std::chrono::seconds expires_in,
                                   std::chrono::seconds margin) noexcept;

// The longest token lifetime taken as it is (Spotify's is an hour).
inline constexpr std::chrono::seconds kMaxTokenLifetime{365LL * 86400};

// The token endpoint's 2xx answer `{"access_token":"...","expires_in":3600,...}`:
// the token and when to refresh it. bad_data unless access_token is a non-empty
// string and expires_in, when present, a whole number of seconds from 1 to
// kMaxTokenLifetime (absent: 3600, as Spotify documents).
Result<AccessToken> parse_token_response(std::string_view body, Clock::time_point issued, std::chrono::seconds margin);

// The pace every request goes through: a token bucket (`rate_per_s`, bursts of up
// to one second's worth) and the Retry-After block a 429 sets for every thread.
class RequestGate {
 public:
  RequestGate(std::shared_ptr<Clock> clock, double rate_per_s);
  RequestGate(const RequestGate&) = delete;
  RequestGate& operator=(const RequestGate&) = delete;

  // Waits for the block to pass and for a token. cancelled on `stop`;
  // rate_limited at once when the block lasts longer than `max_wait` (it
  // would hang the caller; Spotify told us to stay away).
  Status acquire(std::stop_token stop, std::chrono::seconds max_wait);
  // No request leaves before now + `wait` (keeps the later of two blocks).
  void block_for(std::chrono::milliseconds wait);
  Clock::time_point blocked_until() const;

 private:
  std::shared_ptr<Clock> clock_;
  double interval_s_;
  double burst_;
  mutable std::mutex mutex_;
  Clock::time_point tat_{};  // GCRA theoretical arrival time
  Clock::time_point blocked_until_{};
};

}  // namespace spotify

struct SpotifyOptions {
  std::string api_url = "https://api.spotify.com/v1";        // Web API base
  std::string accounts_url = "https://accounts.spotify.com";  // token endpoint base (/api/token)
  std::string client_id;
  std::string client_secret;                                  // secret: never logged
  std::chrono::seconds max_retry_after{60};                   // longest single 429 wait
  int max_retries = 5;                                        // on 5xx / network errors, per call
  int max_rate_limit_waits = 20;                              // 429 waits per call before giving up
  double rate_per_s = 10.0;                                   // token bucket
  spotify::BackoffPolicy backoff;                             // 5xx / network retries
  std::chrono::milliseconds no_retry_after_wait{1000};        // a 429 without Retry-After waits this
  std::chrono::seconds token_refresh_margin{60};              // refresh this long before expiry
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};                   // whole request
  std::uint64_t max_response_bytes = 64ull << 20;

  // From SPOTIFY_* and ETL_SPOTIFY_* (config.h).
  static SpotifyOptions from_config(const Config& config);
};

class HttpSpotifyApi final : public SpotifyApi {
 public:
  using Transport = std::function<Result<http::ClientResponse>(const http::ClientRequest&)>;
  using Random = std::function<double()>;  // uniform in [0, 1], for backoff jitter

  struct Deps {
    std::shared_ptr<spotify::Clock> clock;        // default: the steady clock
    std::shared_ptr<spotify::RequestGate> gate;   // default: a gate of its own (share one to share the pace)
    Transport transport;                          // default: a pooled etl::http::Client
    Random random;                                // default: a thread-local PRNG
    MetricsRegistry* metrics = nullptr;           // spotify_etl_spotify_* metrics when set
  };

  explicit HttpSpotifyApi(SpotifyOptions options);
  HttpSpotifyApi(SpotifyOptions options, Deps deps);
  ~HttpSpotifyApi() override;

  Result<SpotifyResponse> get(const std::string& path_or_absolute_url, const QueryParams& params = {},
                              std::stop_token stop = {}) override;
  std::string base_url() const override { return options_.api_url; }

  int token_fetches() const { return tokens_->fetches(); }

 private:
  Result<spotify::AccessToken> fetch_token(std::stop_token stop);
  Result<std::string> resolve_url(const std::string& path_or_url, const QueryParams& params) const;
  Result<http::ClientResponse> send(const http::ClientRequest& request);
  bool backoff_sleep(int attempt, std::stop_token stop);
  void count_request(const std::string& status);
  void count_wait(std::chrono::milliseconds wait);

  SpotifyOptions options_;
  Deps deps_;
  std::shared_ptr<http::Client> client_;
  std::unique_ptr<spotify::TokenCache> tokens_;
};

}  // namespace etl
