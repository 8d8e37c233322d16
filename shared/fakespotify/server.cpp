// The HTTP side of the fake: routes, client-credentials tokens, fault injection
// and the request log. Endpoint logic is in spotify_api.cpp.
#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>

#include "etl/config.h"
#include "fake_spotify.h"
#include "spotify_api.h"
#include "token_auth.h"

namespace etl::fakespotify {
namespace {

using detail::Reply;
using Clock = std::chrono::steady_clock;

struct Fault {
  int remaining = 0;
  int status = 500;
  std::optional<int> retry_after_s;
  std::string body;
};

// Which request log entry the current worker thread is answering (the pre-routing
// handler, the route handler, the error handler and the logger of one request all
// run on the same worker thread, in that order).
struct CurrentRecord {
  const void* server = nullptr;
  std::uint64_t generation = 0;
  std::size_t index = 0;
};
thread_local CurrentRecord t_current;

std::string reason_message(int status) {
  switch (status) {
    case 429: return "API rate limit exceeded";
    case 500: return "Server error.";
    case 502: return "Bad gateway.";
    case 503: return "Service unavailable";
    case 504: return "Gateway timeout";
    default: return "Error";
  }
}

void send(httplib::Response& res, const Reply& r) {
  res.status = r.status;
  for (const auto& [name, value] : r.headers) res.set_header(name, value);
  res.set_content(r.body, "application/json; charset=utf-8");
}

}  // namespace

struct FakeSpotifyServer::Impl {
  explicit Impl(FakeSpotifyOptions o)
      : options(std::move(o)),
        api(default_catalogue(), {options.include_popularity, options.include_available_markets,
                                  options.dev_mode_playlist_object}),
        tokens(options.token_ttl_s) {}

  FakeSpotifyOptions options;
  detail::SpotifyApi api;
  detail::TokenStore tokens;

  mutable std::mutex mu;  // guards everything below
  std::deque<Fault> faults, token_faults;
  std::chrono::milliseconds delay{0};
  std::vector<RequestRecord> records;
  std::uint64_t generation = 0;
  int token_requests = 0;
  std::string base_url;  // "http://host:port"
  int port = 0;

  std::unique_ptr<httplib::Server> http;
  std::thread thread;

  std::optional<Fault> take(std::deque<Fault>& queue) {
    std::lock_guard lock(mu);
    if (queue.empty()) return std::nullopt;
    Fault f = queue.front();
    if (--queue.front().remaining <= 0) queue.pop_front();
    return f;
  }

  Reply fault_reply(const Fault& f) {
    Reply r{f.status, f.body.empty() ? detail::error_body(f.status, reason_message(f.status)) : f.body, {}};
    if (f.retry_after_s) r.headers.emplace_back("Retry-After", std::to_string(*f.retry_after_s));
    return r;
  }

  // Every API request: latency, then a queued fault, then the bearer token, then
  // the market (Spotify's 400 for a code that is not a country's).
  Reply guarded(const httplib::Request& req, const std::function<Reply(const detail::Params&)>& endpoint) {
    std::chrono::milliseconds d;
    {
      std::lock_guard lock(mu);
      d = delay;
    }
    if (d.count() > 0) std::this_thread::sleep_for(d);
    if (auto f = take(faults)) return fault_reply(*f);
    if (auto denied = tokens.check_bearer(req.get_header_value("Authorization"))) return *denied;
    if (auto market = req.params.find("market"); market != req.params.end() && !is_country_code(market->second))
      return detail::error_reply(400, "Invalid market code");
    return endpoint(req.params);
  }

  Reply token(const httplib::Request& req) {
    {
      std::lock_guard lock(mu);
      ++token_requests;
    }
    if (auto f = take(token_faults)) {
      return Reply{f->status,
                   nlohmann::json{{"error", "server_error"}, {"error_description", reason_message(f->status)}}.dump(),
                   {}};
    }
    return tokens.issue(req.get_header_value("Authorization"), req.params, options.client_id, options.client_secret);
  }

  // Notes the status of the request this thread answers, before it is written (the
  // logger runs after the client may already have read the response).
  void mark(const httplib::Request& req, int status) {
    std::lock_guard lock(mu);
    if (t_current.server != this) {
      records.push_back({Clock::now(), req.method, req.path, "", status});  // never routed (malformed)
      t_current = {this, generation, records.size() - 1};
    } else if (t_current.generation == generation && t_current.index < records.size()) {
      records[t_current.index].status = status;
    }
  }

  void route_api(const char* pattern, std::function<Reply(const std::string&, const detail::Params&)> fn) {
    http->Get(pattern, [this, fn](const httplib::Request& req, httplib::Response& res) {
      const std::string id = req.matches.size() > 1 ? req.matches[1].str() : std::string();
      send(res, guarded(req, [&](const detail::Params& q) { return fn(id, q); }));
      mark(req, res.status);
    });
  }

  void install_routes() {
    using detail::ItemShape;
    http->Post("/api/token", [this](const httplib::Request& req, httplib::Response& res) {
      send(res, token(req));
      mark(req, res.status);
    });
    route_api(R"(/v1/playlists/([^/]+))", [this](auto& id, auto& q) { return api.playlist(id, q); });
    route_api(R"(/v1/playlists/([^/]+)/tracks)",
              [this](auto& id, auto& q) { return api.playlist_items(id, q, ItemShape::classic); });
    route_api(R"(/v1/playlists/([^/]+)/items)",
              [this](auto& id, auto& q) { return api.playlist_items(id, q, ItemShape::dev); });
    route_api(R"(/v1/albums/([^/]+))", [this](auto& id, auto& q) { return api.album(id, q); });
    route_api(R"(/v1/albums/([^/]+)/tracks)", [this](auto& id, auto& q) { return api.album_tracks(id, q); });
    route_api(R"(/v1/artists/([^/]+))", [this](auto& id, auto& q) { return api.artist(id, q); });
    route_api(R"(/v1/artists/([^/]+)/albums)", [this](auto& id, auto& q) { return api.artist_albums(id, q); });
    route_api(R"(/v1/tracks/([^/]+))", [this](auto& id, auto& q) { return api.track(id, q); });
    route_api(R"(/v1/search)", [this](auto&, auto& q) { return api.search(q); });

    // Unknown paths answer like Spotify; bodies our handlers set are left alone.
    const httplib::Server::HandlerWithResponse on_error = [this](const httplib::Request& req, httplib::Response& res) {
      mark(req, res.status);
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      send(res, detail::error_reply(res.status, res.status == 404 ? "Service not found" : reason_message(res.status)));
      return httplib::Server::HandlerResponse::Handled;
    };
    http->set_error_handler(on_error);
    http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      auto q = req.target.find('?');
      std::lock_guard lock(mu);
      t_current = {this, generation, records.size()};
      records.push_back({Clock::now(), req.method, req.path, q == std::string::npos ? "" : req.target.substr(q + 1), 0});
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http->set_logger([](const httplib::Request&, const httplib::Response&) { t_current = {}; });
  }
};

FakeSpotifyServer::FakeSpotifyServer(FakeSpotifyOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FakeSpotifyServer::~FakeSpotifyServer() { stop(); }

int FakeSpotifyServer::start(const std::string& host, int port) {
  if (impl_->http) return impl_->port;
  impl_->http = std::make_unique<httplib::Server>();
  impl_->http->set_keep_alive_timeout(1);
  impl_->install_routes();
  int bound = port == 0 ? impl_->http->bind_to_any_port(host) : (impl_->http->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    impl_->http.reset();
    return -1;
  }
  const std::string url_host = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host;
  {
    std::lock_guard lock(impl_->mu);
    impl_->base_url = "http://" + url_host + ":" + std::to_string(bound);
    impl_->port = bound;
  }
  impl_->api.set_api_url(impl_->base_url + "/v1");
  impl_->thread = std::thread([server = impl_->http.get()] { server->listen_after_bind(); });
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!impl_->http->is_running() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return bound;
}

void FakeSpotifyServer::stop() {
  if (!impl_->http) return;
  impl_->http->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->http.reset();
}

std::string FakeSpotifyServer::api_url() const { return accounts_url() + "/v1"; }

std::string FakeSpotifyServer::accounts_url() const {
  std::lock_guard lock(impl_->mu);
  return impl_->base_url;
}

const Catalogue& FakeSpotifyServer::catalogue() const { return default_catalogue(); }

void FakeSpotifyServer::fail_next(int count, int status, std::optional<int> retry_after_s, std::string body) {
  if (count <= 0) return;
  std::lock_guard lock(impl_->mu);
  impl_->faults.push_back({count, status, retry_after_s, std::move(body)});
}

void FakeSpotifyServer::quota_exceeded_next(int count) {
  const std::string body = nlohmann::json{{"error",
                                           {{"status", 429},
                                            {"message", "Development mode quota exceeded for this app"},
                                            {"reason", "QUOTA_EXCEEDED"}}}}
                               .dump();
  fail_next(count, 429, std::nullopt, body);
}

void FakeSpotifyServer::fail_next_token_requests(int count, int status) {
  if (count <= 0) return;
  std::lock_guard lock(impl_->mu);
  impl_->token_faults.push_back({count, status, std::nullopt, {}});
}

void FakeSpotifyServer::expire_all_tokens() { impl_->tokens.expire_all(); }

void FakeSpotifyServer::set_delay(std::chrono::milliseconds delay) {
  std::lock_guard lock(impl_->mu);
  impl_->delay = delay;
}

std::vector<FakeSpotifyServer::RequestRecord> FakeSpotifyServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->records;
}

int FakeSpotifyServer::token_requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->token_requests;
}

void FakeSpotifyServer::clear_requests() {
  std::lock_guard lock(impl_->mu);
  impl_->records.clear();
  ++impl_->generation;
}

}  // namespace etl::fakespotify
