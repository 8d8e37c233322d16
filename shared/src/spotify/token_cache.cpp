#include <algorithm>

#include "http_spotify_api.h"

namespace etl::spotify {

Clock::time_point token_refresh_at(Clock::time_point issued, std::chrono::seconds expires_in,
                                   std::chrono::seconds margin) noexcept {
  auto lifetime = std::max(expires_in, std::chrono::seconds(0));
  return issued + std::max(lifetime - margin, lifetime / 2);
}

TokenCache::TokenCache(Fetch fetch, std::shared_ptr<Clock> clock) : fetch_(std::move(fetch)), clock_(std::move(clock)) {}

Result<std::string> TokenCache::get(std::stop_token stop) {
  // Held across the fetch on purpose: every caller needs the token, so they
  // wait for the one fetch in progress instead of starting their own.
  std::lock_guard lock(mutex_);
  if (token_ && clock_->now() < token_->refresh_at) return token_->value;
  auto fetched = fetch_(stop);
  ++fetches_;
  if (!fetched) {
    token_.reset();
    return std::move(fetched).error();
  }
  token_ = std::move(fetched).value();
  return token_->value;
}

void TokenCache::invalidate(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (token_ && token_->value == token) token_.reset();
}

int TokenCache::fetches() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

}  // namespace etl::spotify
