// Run outcomes for the dashboard, read from the extractor's run records
// (`runs/<run_id>.json` in the raw store, docs/contract.md §4): the cataloger
// reads the same records the extractor's GET /v1/runs serves, so the page needs
// no other origin and it works the same embedded and distributed. Read-only:
// list + get, newest first, bounded; records of finished runs are cached (they
// never change again), the listing for a few seconds.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/object_store.h"

namespace etl::cataloger {

// What the dashboard shows of one run.
struct RunSummary {
  std::string run_id;
  std::string status;       // queued | running | succeeded | partial | failed
  std::string trigger;      // api | schedule
  std::string created_at, started_at, finished_at;  // RFC 3339; empty when not yet
  std::string error;        // run-level reason; empty when none
  int sources = 0;          // sources asked for
  int sources_failed = 0;
  int objects = 0;          // raw objects landed (sources with an object key)
  long long items = 0;      // items fetched from Spotify, all sources
};

// Parses one run record (the extractor's JSON). bad_data when it is not one.
Result<RunSummary> parse_run_record(const std::string& text);
nlohmann::json to_json(const RunSummary& run);

struct RunSummariesOptions {
  std::size_t max_limit = 100;                     // runs per answer at most
  std::uint64_t max_record_bytes = 1u << 20;       // larger records are skipped
  std::chrono::milliseconds list_ttl{5000};        // a listing is reused this long
  std::size_t max_cached = 1000;                   // finished records kept in memory
};

class RunSummaries final {
 public:
  RunSummaries(std::shared_ptr<ObjectStore> raw, RunSummariesOptions options = {});
  RunSummaries(const RunSummaries&) = delete;
  RunSummaries& operator=(const RunSummaries&) = delete;

  // The newest `limit` runs (capped at max_limit), newest first. A record that
  // cannot be read or parsed is left out and counted in `skipped`.
  struct Page {
    std::vector<RunSummary> runs;
    int skipped = 0;
  };
  Result<Page> recent(std::size_t limit);

 private:
  Result<std::vector<ObjectInfo>> listing();

  std::shared_ptr<ObjectStore> raw_;
  RunSummariesOptions options_;
  std::mutex mutex_;
  std::vector<ObjectInfo> listed_;  // runs/*.json, newest first
  std::chrono::steady_clock::time_point listed_at_{};
  std::map<std::string, RunSummary> finished_;  // key -> summary of a run that can no longer change
};

}  // namespace etl::cataloger
