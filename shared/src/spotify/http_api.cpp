// HttpSpotifyApi: the real Web API client. The retry loop below is the one place
// that decides what a Spotify status means; the waiting rules live in policy.cpp
// and request_gate.cpp.
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>

#include "etl/log.h"
#include "http_spotify_api.h"

namespace etl {

namespace {

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(std::max(n, 0)));
  return out;
}

bool is_absolute(std::string_view s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

double default_random() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace

SpotifyOptions SpotifyOptions::from_config(const Config& config) {
  SpotifyOptions o;
  o.api_url = config.spotify_api_url;
  o.accounts_url = config.spotify_accounts_url;
  o.client_id = config.spotify_client_id;
  o.client_secret = config.spotify_client_secret;
  o.max_retry_after = config.spotify_max_retry_after;
  o.max_retries = config.spotify_max_retries;
  o.rate_per_s = config.spotify_rate_per_s;
  return o;
}

HttpSpotifyApi::HttpSpotifyApi(SpotifyOptions options) : HttpSpotifyApi(std::move(options), Deps{}) {}

HttpSpotifyApi::HttpSpotifyApi(SpotifyOptions options, Deps deps) : options_(std::move(options)), deps_(std::move(deps)) {
  while (options_.api_url.size() > 1 && options_.api_url.back() == '/') options_.api_url.pop_back();
  while (options_.accounts_url.size() > 1 && options_.accounts_url.back() == '/') options_.accounts_url.pop_back();
  if (!deps_.clock) deps_.clock = spotify::steady_clock();
  if (!deps_.gate) deps_.gate = std::make_shared<spotify::RequestGate>(deps_.clock, options_.rate_per_s);
  if (!deps_.random) deps_.random = default_random;
  if (!deps_.transport) {
    client_ = std::make_shared<http::Client>();
    deps_.transport = [client = client_](const http::ClientRequest& r) { return client->send(r); };
  }
  tokens_ = std::make_unique<spotify::TokenCache>([this](std::stop_token stop) { return fetch_token(stop); },
                                                  deps_.clock);
}

HttpSpotifyApi::~HttpSpotifyApi() = default;

Result<std::string> HttpSpotifyApi::resolve_url(const std::string& path_or_url, const QueryParams& params) const {
  std::string url;
  if (is_absolute(path_or_url)) {
    // A `next` URL gets our bearer token: only ever send it to the API we were configured with.
    if (path_or_url.rfind(options_.api_url + "/", 0) != 0 && path_or_url.rfind(options_.api_url + "?", 0) != 0)
      return make_error(Errc::bad_data, "refusing to follow " + path_or_url + ": it is outside the Spotify API base " +
                                            options_.api_url);
    url = path_or_url;
  } else {
    if (path_or_url.empty() || path_or_url.front() != '/')
      return make_error(Errc::invalid_argument, "Spotify path must start with '/': " + path_or_url);
    url = options_.api_url + path_or_url;
  }
  if (!params.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + http::query_string(params);
  return url;
}

Result<http::ClientResponse> HttpSpotifyApi::send(const http::ClientRequest& request) {
  try {
    return deps_.transport(request);
  } catch (const std::exception& e) {
    return make_error(Errc::internal, std::string("Spotify transport failed: ") + e.what());
  }
}

bool HttpSpotifyApi::backoff_sleep(int attempt, std::stop_token stop) {
  auto delay = spotify::backoff_delay(attempt, options_.backoff, deps_.random());
  return deps_.clock->sleep_until(deps_.clock->now() + delay, stop);
}

void HttpSpotifyApi::count_request(const std::string& status) {
  if (deps_.metrics == nullptr) return;
  deps_.metrics->counter("spotify_etl_spotify_requests_total", "Spotify responses by HTTP status (error: none)",
                         {{"status", status}}).inc();
}

void HttpSpotifyApi::count_wait(std::chrono::milliseconds wait) {
  if (deps_.metrics == nullptr) return;
  deps_.metrics->counter("spotify_etl_spotify_rate_limit_waits_total", "429 answers waited out").inc();
  deps_.metrics->counter("spotify_etl_spotify_rate_limit_wait_seconds_total", "Seconds Retry-After asked us to wait")
      .inc(static_cast<double>(wait.count()) / 1000.0);
}

Result<spotify::AccessToken> HttpSpotifyApi::fetch_token(std::stop_token stop) {
  if (options_.client_id.empty() || options_.client_secret.empty())
    return make_error(Errc::unauthorized,
                      "Spotify credentials are not set: SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET are required");
  http::ClientRequest req;
  req.method = "POST";
  req.url = options_.accounts_url + "/api/token";
  req.headers = {{"Authorization", "Basic " + base64(options_.client_id + ":" + options_.client_secret)},
                 {"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = "grant_type=client_credentials";
  req.connect_timeout = options_.connect_timeout;
  req.timeout = options_.timeout;
  req.stop = stop;
  int failures = 0, waits = 0;
  for (;;) {
    if (stop.stop_requested()) return make_error(Errc::cancelled, "stopped while fetching a Spotify token");
    auto issued = deps_.clock->now();
    auto res = send(req);
    bool retryable = !res || res->status >= 500;
    if (res && res->status >= 200 && res->status < 300) {
      auto token = spotify::parse_token_response(res->body, issued, options_.token_refresh_margin);
      if (token && deps_.metrics)
        deps_.metrics->counter("spotify_etl_spotify_token_fetches_total", "Access tokens fetched").inc();
      return token;
    }
    if (res && res->status == 429) {
      auto d = spotify::decide_on_429(spotify::parse_retry_after(res->header("retry-after")), res->body,
                                      options_.max_retry_after, options_.no_retry_after_wait);
      if (d.action == spotify::RateLimitDecision::Action::quota_exceeded) return make_error(Errc::quota_exceeded, d.message);
      if (d.action == spotify::RateLimitDecision::Action::over_cap) return make_error(Errc::rate_limited, d.message);
      if (++waits > options_.max_rate_limit_waits)
        return make_error(Errc::rate_limited, "Spotify's token endpoint kept answering 429");
      count_wait(d.wait);
      if (!deps_.clock->sleep_until(deps_.clock->now() + d.wait, stop))
        return make_error(Errc::cancelled, "stopped while waiting out Spotify's Retry-After");
      continue;
    }
    if (!retryable && res->status != 400 && res->status != 401 && res->status != 403)
      return make_error(Errc::unavailable, "Spotify's token endpoint " + req.url + " answered HTTP " +
                                               std::to_string(res->status) + ": " + spotify::error_message(res->body) +
                                               " (check SPOTIFY_ACCOUNTS_URL)");
    if (!retryable) {
      // Never echo the credentials; Spotify's message ("invalid_client: Invalid client") is enough.
      return make_error(Errc::unauthorized, "Spotify refused the client credentials (HTTP " + std::to_string(res->status) +
                                                ": " + spotify::error_message(res->body) +
                                                "); check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET");
    }
    std::string why = res ? "HTTP " + std::to_string(res->status) : res.error().message;
    if (failures >= options_.max_retries)
      return make_error(res ? Errc::unavailable : res.error().code,
                        "cannot get a Spotify token after " + std::to_string(failures + 1) + " attempts: " + why);
    log::warn("spotify token request failed; retrying", {{"error", why}, {"attempt", failures + 1}});
    if (!backoff_sleep(failures++, stop)) return make_error(Errc::cancelled, "stopped while fetching a Spotify token");
  }
}

Result<SpotifyResponse> HttpSpotifyApi::get(const std::string& path_or_url, const QueryParams& params,
                                            std::stop_token stop) {
  auto url = resolve_url(path_or_url, params);
  if (!url) return std::move(url).error();
  // For messages: the path without the base and the query.
  std::string what = url->substr(0, url->find('?'));
  if (what.rfind(options_.api_url, 0) == 0) what = what.substr(options_.api_url.size());
  what = "GET " + what;

  int failures = 0, waits = 0;
  bool refreshed = false;
  for (;;) {
    if (stop.stop_requested()) return make_error(Errc::cancelled, "stopped before " + what);
    auto token = tokens_->get(stop);
    if (!token) return std::move(token).error();
    if (Status s = deps_.gate->acquire(stop, options_.max_retry_after); !s.ok()) return std::move(s).error();

    http::ClientRequest req;
    req.url = *url;
    req.headers = {{"Authorization", "Bearer " + *token}, {"Accept", "application/json"}};
    req.connect_timeout = options_.connect_timeout;
    req.timeout = options_.timeout;
    req.max_response_bytes = options_.max_response_bytes;
    req.stop = stop;
    auto res = send(req);

    if (!res) {
      count_request("error");
      if (res.error().code != Errc::unavailable && res.error().code != Errc::timeout) return std::move(res).error();
      if (failures >= options_.max_retries)
        return make_error(res.error().code, what + " failed after " + std::to_string(failures + 1) +
                                                " attempts: " + res.error().message);
      log::warn("spotify request failed; retrying", {{"request", what}, {"error", res.error().message}, {"attempt", failures + 1}});
      if (!backoff_sleep(failures++, stop)) return make_error(Errc::cancelled, "stopped while retrying " + what);
      continue;
    }
    const int status = res->status;
    count_request(std::to_string(status));
    if (status >= 200 && status < 300) return SpotifyResponse{status, std::move(*url), std::move(res->body)};

    const std::string message = spotify::error_message(res->body);
    const std::string suffix = " (HTTP " + std::to_string(status) + " for " + what + ")";
    if (status == 401) {
      // Once: a fresh token that is refused again is a real authorization problem, not an expiry.
      if (!refreshed) {
        refreshed = true;
        tokens_->invalidate(*token);
        continue;
      }
      return make_error(Errc::unauthorized, "Spotify refused a freshly issued token: " + message + suffix);
    }
    if (status == 429) {
      auto d = spotify::decide_on_429(spotify::parse_retry_after(res->header("retry-after")), res->body,
                                      options_.max_retry_after, options_.no_retry_after_wait);
      if (d.action == spotify::RateLimitDecision::Action::quota_exceeded) return make_error(Errc::quota_exceeded, d.message);
      // Either way the whole process keeps away for as long as Spotify asked.
      deps_.gate->block_for(d.wait);
      if (d.action == spotify::RateLimitDecision::Action::over_cap) return make_error(Errc::rate_limited, d.message + suffix);
      if (++waits > options_.max_rate_limit_waits)
        return make_error(Errc::rate_limited, "Spotify kept answering 429 after " +
                                                  std::to_string(options_.max_rate_limit_waits) + " waits" + suffix);
      count_wait(d.wait);
      log::warn("spotify rate limit; waiting", {{"request", what}, {"wait_ms", d.wait.count()}});
      continue;
    }
    if (status >= 500) {
      if (failures >= options_.max_retries)
        return make_error(Errc::unavailable, "Spotify kept failing: " + message + " after " +
                                                 std::to_string(failures + 1) + " attempts" + suffix);
      log::warn("spotify server error; retrying", {{"request", what}, {"status", status}, {"attempt", failures + 1}});
      if (!backoff_sleep(failures++, stop)) return make_error(Errc::cancelled, "stopped while retrying " + what);
      continue;
    }
    if (status == 404) return make_error(Errc::not_found, message + suffix);
    if (status == 403) return make_error(Errc::forbidden, message + suffix);
    return make_error(Errc::invalid_argument, message + suffix);
  }
}

std::shared_ptr<SpotifyApi> open_spotify_api(const Config& config, MetricsRegistry* metrics) {
  HttpSpotifyApi::Deps deps;
  deps.metrics = metrics;
  return std::make_shared<HttpSpotifyApi>(SpotifyOptions::from_config(config), std::move(deps));
}

}  // namespace etl
