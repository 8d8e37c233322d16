// Internal: the Accounts service's client-credentials flow and the bearer check
// every Web API call goes through, with Spotify's error bodies.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "spotify_api.h"

namespace etl::fakespotify::detail {

class TokenStore final {
 public:
  explicit TokenStore(int ttl_s);
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // POST /api/token: credentials from `Authorization: Basic ...` or the form's
  // client_id/client_secret; grant_type must be client_credentials.
  Reply issue(const std::string& authorization, const Params& form, const std::string& client_id,
              const std::string& client_secret);
  // nullopt when `Authorization: Bearer <token>` holds a live token; the 400/401 otherwise.
  std::optional<Reply> check_bearer(const std::string& authorization) const;
  void expire_all();

 private:
  using Clock = std::chrono::steady_clock;
  int ttl_s_;
  std::string salt_;
  mutable std::mutex mu_;
  std::uint64_t serial_ = 0;
  std::unordered_map<std::string, Clock::time_point> expiry_;
};

// Standard base64 (padding optional); nullopt on a character outside the alphabet.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace etl::fakespotify::detail
