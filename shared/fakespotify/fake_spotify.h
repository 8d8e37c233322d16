// A local fake of the Spotify Web API and Accounts service over real HTTP, for
// the extractor's integration tests and the offline `spotify-etl demo`. It serves
// the generated catalogue (catalogue.h) in Spotify's real JSON shapes, pages with
// absolute `next` URLs, checks client-credentials tokens, and injects faults.
// Not a model of Spotify's authorization scopes, markets or rate limiter.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalogue.h"

namespace etl::fakespotify {

struct FakeSpotifyOptions {
  std::string client_id = "spotify-etl-demo";      // Basic auth on the token endpoint
  std::string client_secret = "offline-sample";
  int token_ttl_s = 3600;                           // expires_in of issued tokens (also enforced)
  bool include_popularity = true;                   // false: dev-mode responses, no popularity (nor artist followers)
  bool include_available_markets = true;            // false: no available_markets (~185 codes per track and album)
  bool dev_mode_playlist_object = false;            // true: GET /playlists/{id} carries its page under "items"
};

class FakeSpotifyServer final {
 public:
  explicit FakeSpotifyServer(FakeSpotifyOptions options = {});
  ~FakeSpotifyServer();  // stops
  FakeSpotifyServer(const FakeSpotifyServer&) = delete;
  FakeSpotifyServer& operator=(const FakeSpotifyServer&) = delete;

  // Binds and serves on a background thread; returns the bound port (port 0 picks a
  // free one), or -1 when the address cannot be bound. Starting twice returns the port.
  int start(const std::string& host = "127.0.0.1", int port = 0);
  void stop();  // idempotent; waits for in-flight requests

  std::string api_url() const;       // "http://127.0.0.1:<port>/v1"
  std::string accounts_url() const;  // "http://127.0.0.1:<port>"; token endpoint <accounts_url>/api/token
  const Catalogue& catalogue() const;

  // Fault injection, thread-safe. Each call queues a fault answering the next `count`
  // API requests (token requests excluded); queued faults apply in call order.
  // An empty `body` becomes Spotify's {"error":{"status":..,"message":..}}.
  void fail_next(int count, int status, std::optional<int> retry_after_s = {}, std::string body = {});
  // 429 with {"error":{"status":429,"message":"...","reason":"QUOTA_EXCEEDED"}} and no
  // Retry-After: the development-mode quota, where waiting does not help.
  void quota_exceeded_next(int count);
  // The next `count` token requests get `status` (e.g. 503) with an OAuth error body.
  void fail_next_token_requests(int count, int status);
  // Tokens issued so far get 401 "The access token expired"; new ones work.
  void expire_all_tokens();
  void set_delay(std::chrono::milliseconds delay);  // latency added to every API request

  struct RequestRecord {
    std::chrono::steady_clock::time_point at;  // when the request arrived
    std::string method, path, query;           // query: the raw query string, without '?'
    int status = 0;                            // the status answered
  };
  std::vector<RequestRecord> requests() const;  // every request received (token ones too), in arrival order
  int token_requests() const;                   // POST /api/token calls, successful or not
  void clear_requests();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etl::fakespotify
