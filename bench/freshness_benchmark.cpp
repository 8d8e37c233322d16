// Freshness, embedded: from `POST /v1/runs` (one 100-track playlist from the
// local Spotify server) to the rows answering in `/v1/query`. The three
// services run in this process on the in-process bus, as in `spotify-etl up`;
// every step goes over real HTTP. Reports the median and the split between
// extraction (run succeeded) and the rest (transform, announce, crawl, query).
//
//   build/bin/freshness_benchmark [runs=15]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cataloger_service.h"
#include "etl/http_client.h"
#include "etl/log.h"
#include "etl/memory_bus.h"
#include "extractor_service.h"
#include "fake_spotify.h"
#include "percentile.h"
#include "transformer_service.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

using etl::bench::percentile;

nlohmann::json post(etl::http::Client& client, const std::string& url, const nlohmann::json& body) {
  etl::http::ClientRequest req{"POST", url, {{"Content-Type", "application/json"}}, body.dump()};
  auto res = client.send(req);
  if (!res) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

nlohmann::json get(etl::http::Client& client, const std::string& url) {
  etl::http::ClientRequest req;
  req.url = url;
  auto res = client.send(req);
  if (!res) return nullptr;
  return nlohmann::json::parse(res->body, nullptr, false);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 15;
  etl::log::init("freshness-benchmark", "error", "json");
  etl::fakespotify::FakeSpotifyServer spotify;
  if (spotify.start() <= 0) return 1;

  auto root = std::filesystem::temp_directory_path() / ("spotify-etl-freshness-" + std::to_string(::getpid()));
  auto cfg = etl::load_config({}, etl::ConfigDefaults{"memory"});
  if (!cfg) return 1;
  etl::Config config = *cfg;
  config.extractor_addr = {"127.0.0.1", 0};
  config.transformer_addr = {"127.0.0.1", 0};
  config.cataloger_addr = {"127.0.0.1", 0};
  config.raw_url = "file://" + (root / "raw").string();
  config.transformed_url = "file://" + (root / "transformed").string();
  config.spotify_api_url = spotify.api_url();
  config.spotify_accounts_url = spotify.accounts_url();
  config.spotify_client_id = etl::fakespotify::FakeSpotifyOptions{}.client_id;
  config.spotify_client_secret = etl::fakespotify::FakeSpotifyOptions{}.client_secret;

  std::shared_ptr<etl::EventBus> bus = etl::make_memory_bus();
  auto cataloger = etl::cataloger::CatalogerService::create(config, bus);
  auto transformer = etl::transformer::TransformerService::create(config, bus);
  auto extractor = etl::extractor::ExtractorService::create(config, bus);
  if (!cataloger || !transformer || !extractor) {
    std::fprintf(stderr, "cannot create the services\n");
    return 1;
  }
  if (!(*cataloger)->start().ok() || !(*transformer)->start().ok() || !(*extractor)->start().ok()) return 1;

  etl::http::Client client;
  const std::string runs_url = (*extractor)->base_url() + "/v1/runs";
  const std::string query_url = (*cataloger)->base_url() + "/v1/query";
  std::vector<double> total, extract;
  for (int i = 0; i < runs + 1; ++i) {  // the first run warms up (token, DuckDB, catalog creation)
    auto t0 = Clock::now();
    auto started = post(client, runs_url, {{"sources", {{{"type", "playlist"}, {"id", etl::fakespotify::kDemoPlaylistId}}}}});
    if (!started.is_object() || !started.contains("run_id")) {
      std::fprintf(stderr, "run not accepted: %s\n", started.dump().c_str());
      return 1;
    }
    std::string run_id = started["run_id"];
    const nlohmann::json count = {{"sql", "SELECT count(*) FROM songs_data WHERE run_id = '" + run_id + "'"}};
    Clock::time_point extracted{};
    for (;;) {
      if (extracted == Clock::time_point{}) {
        auto run = get(client, runs_url + "/" + run_id);
        if (run.is_object() && run.value("status", "") == "succeeded") extracted = Clock::now();
      }
      auto q = post(client, query_url, count);
      if (q.is_object() && q["rows"].is_array() && q["rows"].size() == 1 && q["rows"][0][0] == 100) break;
      if (ms(Clock::now() - t0) > 60000) {
        std::fprintf(stderr, "rows never arrived for %s\n", run_id.c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    auto t1 = Clock::now();
    if (extracted == Clock::time_point{}) extracted = t1;
    if (i == 0) continue;
    total.push_back(ms(t1 - t0));
    extract.push_back(ms(extracted - t0));
  }

  std::printf("freshness, embedded (POST /v1/runs -> 100 rows answering /v1/query), %d runs\n", runs);
  std::printf("  total    median %7.1f ms  p90 %7.1f ms  min %7.1f ms  max %7.1f ms   (goal: median < 1000 ms)\n",
              percentile(total, 0.5), percentile(total, 0.9), *std::min_element(total.begin(), total.end()),
              *std::max_element(total.begin(), total.end()));
  std::printf("  extract  median %7.1f ms   (run succeeded: token, 2 pages, envelope landed, event published)\n",
              percentile(extract, 0.5));
  std::printf("  rest     median %7.1f ms   (transform, move, announce, crawl, query)\n",
              percentile(total, 0.5) - percentile(extract, 0.5));
  std::printf("  reference: the AWS design's Glue crawler run alone takes minutes (not measurable here)\n");

  (*extractor)->stop();
  (*transformer)->stop();
  (*cataloger)->stop();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}
