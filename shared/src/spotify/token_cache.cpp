#include <nlohmann/json.hpp>

#include <algorithm>

#include "http_spotify_api.h"

namespace etl::spotify {

Clock::time_point token_refresh_at(Clock::time_point issued, std::chrono::seconds expires_in,
                                   std::chrono::seconds margin) noexcept {
  auto lifetime = std::max(expires_in, std::chrono::seconds(0));
  return issued + std::max(lifetime - margin, lifetime / 2);
}

Result<AccessToken> parse_token_response(std::string_view body, Clock::time_point issued, std::chrono::seconds margin) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return make_error(Errc::bad_data, "Spotify's token endpoint answered with something not a JSON object");
  auto token = json.find("access_token");
  if (token == json.end() || !token->is_string() || token->get_ref<const std::string&>().empty())
    return make_error(Errc::bad_data, "Spotify's token endpoint answered without an access_token");
  long long lifetime = 3600;
  if (auto expires = json.find("expires_in"); expires != json.end()) {
    // Integers only: a fraction or an exponent is not a lifetime, and a double
    // past long long's range would not convert.
    const bool whole = expires->is_number_integer();
    if (whole) lifetime = expires->is_number_unsigned() && expires->get<std::uint64_t>() > std::uint64_t(kMaxTokenLifetime.count())
                              ? kMaxTokenLifetime.count() + 1
                              : expires->get<long long>();
    if (!whole || lifetime < 1 || lifetime > kMaxTokenLifetime.count())
      return make_error(Errc::bad_data, "Spotify's token endpoint answered expires_in " + expires->dump() +
                                            ": not a whole number of seconds from 1 to " +
                                            std::to_string(kMaxTokenLifetime.count()));
  }
  return AccessToken{token->get<std::string>(), token_refresh_at(issued, std::chrono::seconds(lifetime), margin)};
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
