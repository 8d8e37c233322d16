// The extractor in-process against the fake Spotify server over real HTTP, with a
// MemoryBus and a temporary raw folder, for the extractor_*_test.cpp integration tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "etl/memory_bus.h"
#include "etl/object_store.h"
#include "http_spotify_api.h"
#include "extractor_service.h"
#include "fake_spotify.h"
#include "test_support.h"

namespace etl::extractor::testenv {

namespace fake = etl::fakespotify;
using namespace std::chrono_literals;

struct Env {
  fake::FakeSpotifyServer spotify;
  etl::testing::TempDir dir;
  std::shared_ptr<MemoryBus> bus = make_memory_bus();
  Config config;
  std::unique_ptr<ExtractorService> service;

  Env() {
    EXPECT_GT(spotify.start("127.0.0.1", 0), 0) << "the fake Spotify server did not start";
    config.extractor_addr = {"127.0.0.1", 0};
    config.raw_url = dir.url("raw");
    config.bus = "memory";
    config.spotify_api_url = spotify.api_url();
    config.spotify_accounts_url = spotify.accounts_url();
    config.spotify_client_id = fake::FakeSpotifyOptions{}.client_id;
    config.spotify_client_secret = fake::FakeSpotifyOptions{}.client_secret;
    config.spotify_rate_per_s = 1000;
    config.spotify_max_retries = 5;
  }
  ~Env() {
    if (service) service->stop();
  }

  // The real HTTP client with test-sized waits (backoff in ms, not s).
  std::shared_ptr<HttpSpotifyApi> client() const {
    auto options = SpotifyOptions::from_config(config);
    options.backoff = {std::chrono::milliseconds(5), std::chrono::milliseconds(50)};
    options.no_retry_after_wait = std::chrono::milliseconds(50);
    return std::make_shared<HttpSpotifyApi>(options);
  }

  ExtractorService& start() {
    auto created = ExtractorService::create(config, bus, client());
    EXPECT_TRUE(created.ok()) << created.error().message;
    service = std::move(created).value();
    auto started = service->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
    return *service;
  }

  std::shared_ptr<ObjectStore> raw() const {
    auto store = open_object_store(config.raw_url, config.aws);
    EXPECT_TRUE(store.ok());
    return std::shared_ptr<ObjectStore>(std::move(store).value());
  }

  // Submits and waits for a final status.
  RunRecord run(std::vector<SourceSpec> sources, std::chrono::milliseconds timeout = 30s) {
    RunRequest request;
    request.sources = std::move(sources);
    auto submitted = service->submit_run(request);
    EXPECT_TRUE(submitted.ok()) << submitted.error().message;
    if (!submitted) return {};
    return wait(submitted->run_id, timeout);
  }

  RunRecord wait(const std::string& run_id, std::chrono::milliseconds timeout = 30s) {
    RunRecord last;
    bool done = etl::testing::wait_until(
        [&] {
          auto r = service->get_run(run_id);
          if (r) last = *r;
          return r && is_final(r->status);
        },
        timeout);
    EXPECT_TRUE(done) << "run " << run_id << " still " << to_string(last.status) << " after the timeout";
    return last;
  }

  // API requests (token requests excluded) the fake received.
  std::vector<fake::FakeSpotifyServer::RequestRecord> api_requests() const {
    std::vector<fake::FakeSpotifyServer::RequestRecord> out;
    for (auto& r : spotify.requests())
      if (r.path != "/api/token") out.push_back(r);
    return out;
  }
};

}  // namespace etl::extractor::testenv
