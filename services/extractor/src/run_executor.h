// Executes runs: one run at a time from a FIFO queue (Spotify's limit is per
// app, so running runs side by side would not make them faster), the sources of
// a run in parallel up to ETL_EXTRACT_PARALLELISM. Every state change goes to
// the RunStore as it happens.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "etl/config.h"
#include "etl/event_bus.h"
#include "etl/object_store.h"
#include "etl/spotify.h"
#include "extractor_metrics.h"
#include "run_record.h"
#include "run_store.h"

namespace etl::extractor {

inline constexpr std::size_t kMaxQueuedRuns = 100;

class RunExecutor final {
 public:
  RunExecutor(Config config, std::shared_ptr<SpotifyApi> spotify, std::shared_ptr<ObjectStore> raw,
              std::shared_ptr<EventBus> bus, RunStore& runs, ExtractorMetrics& metrics);
  ~RunExecutor();
  RunExecutor(const RunExecutor&) = delete;
  RunExecutor& operator=(const RunExecutor&) = delete;

  void start();
  // Stops taking runs; the run in progress stops at its next Spotify call or
  // wait (sources already fetched still land, whole), is recorded failed
  // ("interrupted by shutdown") unless it completed, and queued runs are
  // recorded failed. Joins. Idempotent.
  void stop();

  // Validates (empty sources: ETL_SOURCES; none at all: invalid_argument),
  // records the run as queued and queues it. conflict when the queue is full,
  // unavailable when stopping or when the record cannot be written.
  Result<RunRecord> submit(RunRequest request);

 private:
  struct Queued {
    std::string run_id;
    RunRequest request;
  };
  struct RunState;

  void loop(std::stop_token stop);
  void execute(const Queued& run, std::stop_token service_stop);
  // One source of a run: fetch, land, announce. Whatever it throws (a parser
  // meeting an answer no test foresaw) fails that source, not the process.
  void run_source(RunState& state, std::size_t index);
  void fetch_and_land(RunState& state, std::size_t index);
  void fail_unstarted(const std::string& run_id, const std::string& why);

  Config config_;
  std::shared_ptr<SpotifyApi> spotify_;
  std::shared_ptr<ObjectStore> raw_;
  std::shared_ptr<EventBus> bus_;
  RunStore& runs_;
  ExtractorMetrics& metrics_;

  std::mutex mutex_;
  std::condition_variable_any cv_;
  std::deque<Queued> queue_;
  // The creation time of the last run id: each run's is at least a millisecond
  // later, so ids (which sort by time) list in the order the runs were submitted.
  std::chrono::sys_time<std::chrono::milliseconds> last_created_{};
  bool stopping_ = false;
  std::jthread worker_;
};

}  // namespace etl::extractor
