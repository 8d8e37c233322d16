// Test doubles for the extractor's unit tests: a manual clock, a scripted HTTP
// transport for HttpSpotifyApi, and an in-memory SpotifyApi serving fixed pages.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "http_spotify_api.h"

namespace etl::testing {

// Time moves only when someone sleeps (or the test advances it).
class ManualClock final : public spotify::Clock {
 public:
  time_point now() const override {
    std::lock_guard lock(mutex_);
    return now_;
  }
  bool sleep_until(time_point t, std::stop_token stop) override {
    if (stop.stop_requested()) return false;
    std::lock_guard lock(mutex_);
    if (t > now_) {
      slept_ += t - now_;
      now_ = t;
    }
    return true;
  }
  void advance(std::chrono::steady_clock::duration d) {
    std::lock_guard lock(mutex_);
    now_ += d;
  }
  std::chrono::milliseconds slept() const {
    std::lock_guard lock(mutex_);
    return std::chrono::duration_cast<std::chrono::milliseconds>(slept_);
  }

 private:
  mutable std::mutex mutex_;
  time_point now_{std::chrono::hours(1000)};
  std::chrono::steady_clock::duration slept_{0};
};

// Answers HttpSpotifyApi's requests from a script; token requests are answered
// separately (a fresh token each time) unless scripted.
class ScriptedTransport {
 public:
  struct Sent {
    std::string method, url, authorization;
    spotify::Clock::time_point at;
  };
  using Answer = Result<http::ClientResponse>;

  explicit ScriptedTransport(std::shared_ptr<ManualClock> clock) : clock_(std::move(clock)) {}

  static Answer reply(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::ClientResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }

  void push_api(Answer a) {
    std::lock_guard lock(mutex_);
    api_.push_back(std::move(a));
  }
  void push_token(Answer a) {
    std::lock_guard lock(mutex_);
    token_.push_back(std::move(a));
  }
  // When the API script is empty: 200 with this body.
  void set_default_api_body(std::string body) {
    std::lock_guard lock(mutex_);
    default_body_ = std::move(body);
  }

  HttpSpotifyApi::Transport transport() {
    return [this](const http::ClientRequest& req) { return answer(req); };
  }

  std::vector<Sent> api_requests() const {
    std::lock_guard lock(mutex_);
    return api_sent_;
  }
  int token_requests() const {
    std::lock_guard lock(mutex_);
    return token_count_;
  }

 private:
  Answer answer(const http::ClientRequest& req) {
    std::lock_guard lock(mutex_);
    std::string auth;
    for (const auto& [k, v] : req.headers)
      if (k == "Authorization") auth = v;
    if (req.url.find("/api/token") != std::string::npos) {
      ++token_count_;
      if (!token_.empty()) {
        auto a = token_.front();
        token_.pop_front();
        return a;
      }
      return reply(200, R"({"access_token":"tok)" + std::to_string(token_count_) +
                            R"(","token_type":"Bearer","expires_in":3600})");
    }
    api_sent_.push_back({req.method, req.url, auth, clock_->now()});
    if (!api_.empty()) {
      auto a = api_.front();
      api_.pop_front();
      return a;
    }
    return reply(200, default_body_);
  }

  std::shared_ptr<ManualClock> clock_;
  mutable std::mutex mutex_;
  std::deque<Answer> api_, token_;
  std::vector<Sent> api_sent_;
  int token_count_ = 0;
  std::string default_body_ = R"({"items":[],"next":null})";
};

// A SpotifyApi answering from a map of path-or-URL (with query) to result.
class MapSpotifyApi final : public SpotifyApi {
 public:
  void set(const std::string& url, Result<SpotifyResponse> r) {
    std::lock_guard lock(mutex_);
    answers_.insert_or_assign(url, std::move(r));
  }
  void set_body(const std::string& url, std::string body) { set(url, SpotifyResponse{200, url, std::move(body)}); }
  void set_error(const std::string& url, Errc code, std::string message) { set(url, make_error(code, std::move(message))); }
  // Called before each answer (with the call's stop token); may block.
  std::function<void(const std::string&, std::stop_token)> on_call;

  Result<SpotifyResponse> get(const std::string& path, const QueryParams& params = {}, std::stop_token stop = {}) override {
    std::string url = path;
    if (!params.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + http::query_string(params);
    if (on_call) on_call(url, stop);
    std::lock_guard lock(mutex_);
    calls_.push_back(url);
    if (stop.stop_requested()) return make_error(Errc::cancelled, "stopped");
    auto it = answers_.find(url);
    if (it == answers_.end()) return make_error(Errc::not_found, "no fixture for " + url);
    return it->second;
  }
  std::string base_url() const override { return "https://api.example/v1"; }
  std::vector<std::string> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Result<SpotifyResponse>> answers_;
  std::vector<std::string> calls_;
};

}  // namespace etl::testing
