// The Spotify Web API seam. `SpotifyApi::get` returns a response body verbatim
// (the raw envelope stores it byte for byte); paging, sources and envelopes are
// the extractor's business, not this header's.
//
// `open_spotify_api` gives the real client (shared/src/spotify/http_spotify_api.h):
// client-credentials token (cached, refreshed before expiry and once on a 401), a
// token bucket plus a Retry-After block shared by every thread using the instance
// (the process makes one, so Spotify's per-app window is respected), bounded
// retries with full-jitter backoff on 5xx and network errors, and Spotify's own
// error message on 4xx. The offline fake (shared/fakespotify) speaks the same API.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etl/config.h"
#include "etl/metrics.h"
#include "etl/result.h"

namespace etl {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct SpotifyResponse {
  int status = 200;
  std::string url;   // the URL that answered (absolute)
  std::string body;  // verbatim
};

class SpotifyApi {
 public:
  virtual ~SpotifyApi() = default;
  SpotifyApi() = default;
  SpotifyApi(const SpotifyApi&) = delete;
  SpotifyApi& operator=(const SpotifyApi&) = delete;

  // GET a Web API path ("/playlists/{id}/items") with `params`, or an absolute
  // URL such as a page's `next` (which already carries its query; `params` are
  // appended). Only 2xx bodies are returned; failures are values:
  // not_found / forbidden / invalid_argument with Spotify's `error.message`,
  // unauthorized (a 401 even after a fresh token), quota_exceeded (stop calling),
  // rate_limited (Retry-After over the cap, or too many 429s), unavailable /
  // timeout (after the bounded retries), cancelled (`stop` was requested while
  // waiting), bad_data (a `next` URL outside the API base).
  virtual Result<SpotifyResponse> get(const std::string& path_or_absolute_url, const QueryParams& params = {},
                                      std::stop_token stop = {}) = 0;
  // The Web API base ("https://api.spotify.com/v1"), for the envelope's `api.base_url`.
  virtual std::string base_url() const = 0;
};

// The real client for SPOTIFY_* and ETL_SPOTIFY_* (config.h); request metrics
// (spotify_etl_spotify_*) go to `metrics` when it is set.
std::shared_ptr<SpotifyApi> open_spotify_api(const Config& config, MetricsRegistry* metrics = nullptr);

}  // namespace etl
