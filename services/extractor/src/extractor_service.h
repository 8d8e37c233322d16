// The extractor service: the HTTP API over runs, the run executor, the schedule,
// and the raw store + bus they land into. `services/extractor/main.cpp` and
// `spotify-etl up` build it; tests drive it over HTTP or through submit_run().
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "etl/config.h"
#include "etl/event_bus.h"
#include "etl/http_server.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "etl/service_main.h"
#include "etl/spotify.h"
#include "run_record.h"

namespace etl::extractor {

class ExtractorMetrics;
class RunStore;
class RunExecutor;
class Scheduler;

class ExtractorService final : public etl::Runnable {
 public:
  // bus: the shared in-process bus in `spotify-etl up`; nullptr = open_event_bus(config, "extractor").
  // spotify: nullptr = the real HTTP client from config (SPOTIFY_* variables).
  // Opens the raw store and loads the persisted run records (runs a dead
  // process left in progress are marked failed). invalid_argument for a bad
  // configuration (ETL_SCHEDULE without ETL_SOURCES), the store's error otherwise.
  static Result<std::unique_ptr<ExtractorService>> create(const Config& config, std::shared_ptr<EventBus> bus = nullptr,
                                                          std::shared_ptr<SpotifyApi> spotify = nullptr);
  ~ExtractorService() override;
  ExtractorService(const ExtractorService&) = delete;
  ExtractorService& operator=(const ExtractorService&) = delete;

  // Listens (unavailable when the address is taken), then runs queued runs and the schedule.
  Status start() override;
  // Stops accepting, stops the schedule, interrupts the run in progress (see RunExecutor::stop). Idempotent.
  void stop() override;
  int port() const;
  std::string base_url() const;

  // For the CLI and tests without HTTP: trigger and read runs.
  // Empty sources: ETL_SOURCES (none: invalid_argument); empty market: SPOTIFY_MARKET.
  Result<RunRecord> submit_run(const RunRequest& request);
  // not_found for an unknown id.
  Result<RunRecord> get_run(const std::string& run_id) const;
  // Newest first, at most `limit`.
  std::vector<RunRecord> list_runs(std::size_t limit) const;

  const Config& config() const { return config_; }
  MetricsRegistry& metrics() { return metrics_; }

 private:
  explicit ExtractorService(const Config& config);
  void on_schedule(std::chrono::system_clock::time_point planned);

  Config config_;
  MetricsRegistry metrics_;
  std::shared_ptr<ObjectStore> raw_;
  std::shared_ptr<EventBus> bus_;
  std::shared_ptr<SpotifyApi> spotify_;
  std::unique_ptr<ExtractorMetrics> extractor_metrics_;
  std::unique_ptr<RunStore> runs_;
  std::unique_ptr<RunExecutor> executor_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<http::Server> server_;

  std::mutex mutex_;
  bool started_ = false;
  bool stopped_ = false;
  std::string last_scheduled_run_;
};

}  // namespace etl::extractor
