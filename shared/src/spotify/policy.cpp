// The pure parts of the Spotify client's behaviour: backoff, Retry-After, error messages.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <condition_variable>

#include "etl/json_text.h"
#include "http_spotify_api.h"

namespace etl::spotify {

namespace {

class SteadyClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  bool sleep_until(time_point t, std::stop_token stop) override {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    // Nothing notifies `cv` but the stop request; the predicate only reports it.
    cv.wait_until(lock, stop, t, [] { return false; });
    return !stop.stop_requested();
  }
};

}  // namespace

std::shared_ptr<Clock> steady_clock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SteadyClock>();
  return clock;
}

std::chrono::milliseconds backoff_ceiling(int attempt, const BackoffPolicy& policy) noexcept {
  if (policy.base.count() <= 0 || policy.cap.count() <= 0) return std::chrono::milliseconds(0);
  double ceiling = static_cast<double>(policy.base.count()) * std::pow(2.0, std::clamp(attempt, 0, 62));
  ceiling = std::min(ceiling, static_cast<double>(policy.cap.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(ceiling));
}

std::chrono::milliseconds backoff_delay(int attempt, const BackoffPolicy& policy, double random01) noexcept {
  if (!(random01 >= 0.0)) random01 = 0.0;  // NaN included
  random01 = std::min(random01, 1.0);
  double ceiling = static_cast<double>(backoff_ceiling(attempt, policy).count());
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ceiling * random01)));
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  if (header.empty() || header.size() > 12) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc{} || end != header.data() + header.size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

RateLimitDecision decide_on_429(std::optional<std::chrono::seconds> retry_after, std::string_view body,
                                std::chrono::seconds cap, std::chrono::milliseconds fallback_wait) {
  RateLimitDecision d;
  if (body.find("QUOTA_EXCEEDED") != std::string_view::npos) {
    d.action = RateLimitDecision::Action::quota_exceeded;
    d.message = "Spotify quota exceeded (429 QUOTA_EXCEEDED): " + error_message(body) +
                "; no further calls are made for this run";
    return d;
  }
  if (!retry_after) {
    d.wait = fallback_wait;
    return d;
  }
  d.wait = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after);
  if (*retry_after > cap) {
    d.action = RateLimitDecision::Action::over_cap;
    d.message = "Spotify asked to wait " + std::to_string(retry_after->count()) + " s, over the " +
                std::to_string(cap.count()) + " s cap (ETL_SPOTIFY_MAX_RETRY_AFTER_S)";
  }
  return d;
}

std::string error_message(std::string_view body) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && json.contains("error")) {
    const auto& error = json["error"];
    // Web API: {"error":{"status":404,"message":"..."}}; accounts: {"error":"invalid_client","error_description":"..."}.
    if (error.is_object() && error.contains("message") && error["message"].is_string())
      return error["message"].get<std::string>();
    if (error.is_string()) {
      std::string out = error.get<std::string>();
      if (json.contains("error_description") && json["error_description"].is_string())
        out += ": " + json["error_description"].get<std::string>();
      return out;
    }
  }
  if (body.empty()) return "(empty body)";
  // An HTML or text page: its start, whole characters only (it goes into run records and logs).
  std::string excerpt = utf8_excerpt(body, 200);
  for (char& c : excerpt)
    if (c == '\n' || c == '\r') c = ' ';
  return body.size() > 200 ? excerpt + "..." : excerpt;
}

}  // namespace etl::spotify
