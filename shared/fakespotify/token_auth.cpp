#include "token_auth.h"

#include <random>

#include <nlohmann/json.hpp>

namespace etl::fakespotify::detail {
namespace {

Reply oauth_error(std::string_view error, std::string_view description) {
  return Reply{400, nlohmann::json{{"error", error}, {"error_description", description}}.dump(), {}};
}

std::string first(const Params& form, const char* name) {
  auto it = form.find(name);
  return it == form.end() ? std::string() : it->second;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

TokenStore::TokenStore(int ttl_s) : ttl_s_(ttl_s) {
  std::random_device rd;
  salt_ = std::to_string(rd()) + ":" + std::to_string(rd());
}

Reply TokenStore::issue(const std::string& authorization, const Params& form, const std::string& client_id,
                        const std::string& client_secret) {
  const std::string grant = first(form, "grant_type");
  if (grant.empty()) return oauth_error("unsupported_grant_type", "grant_type parameter is missing");
  if (grant != "client_credentials")
    return oauth_error("unsupported_grant_type", "grant_type must be client_credentials, authorization_code or refresh_token");

  std::string id = first(form, "client_id"), secret = first(form, "client_secret");
  if (authorization.rfind("Basic ", 0) == 0) {
    auto decoded = base64_decode(authorization.substr(6));
    if (!decoded) return oauth_error("invalid_client", "Invalid client");
    auto colon = decoded->find(':');
    id = decoded->substr(0, colon);
    secret = colon == std::string::npos ? std::string() : decoded->substr(colon + 1);
  }
  if (id != client_id || secret != client_secret) return oauth_error("invalid_client", "Invalid client");

  std::lock_guard lock(mu_);
  std::string token = "BQ";
  const std::string seed = salt_ + ":" + std::to_string(serial_++);
  for (int i = 0; i < 5; ++i) token += make_id(seed + ":" + std::to_string(i));
  expiry_[token] = Clock::now() + std::chrono::seconds(ttl_s_);
  return Reply{200,
               nlohmann::json{{"access_token", token}, {"token_type", "Bearer"}, {"expires_in", ttl_s_}}.dump(),
               {}};
}

std::optional<Reply> TokenStore::check_bearer(const std::string& authorization) const {
  if (authorization.empty()) return error_reply(401, "No token provided");
  if (authorization.rfind("Bearer ", 0) != 0) return error_reply(400, "Only valid bearer authentication supported");
  const std::string token = authorization.substr(7);
  std::lock_guard lock(mu_);
  auto it = expiry_.find(token);
  if (it == expiry_.end()) return error_reply(401, "Invalid access token");
  if (Clock::now() >= it->second) return error_reply(401, "The access token expired");
  return std::nullopt;
}

void TokenStore::expire_all() {
  std::lock_guard lock(mu_);
  const auto now = Clock::now();
  for (auto& [token, expiry] : expiry_) expiry = std::min(expiry, now);
}

}  // namespace etl::fakespotify::detail
