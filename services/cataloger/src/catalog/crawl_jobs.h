// The crawl bookkeeping both catalogs share (built-in and Glue): crawls run one
// at a time, queued ones on a worker thread and direct ones on the caller's;
// each is visible as RUNNING from the moment it is accepted, and the most recent
// ones are remembered for GET /v1/crawls/{id}.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "etl/catalog.h"

namespace etl::cataloger {

// Crawls waiting at once; more join the last waiting one (CrawlJobs::submit).
inline constexpr std::size_t kMaxQueuedCrawls = 8;
inline constexpr std::size_t kMaxMergedKeys = 10000;

// Whether a crawl of `request` lists the partition of data key `key`: the tables
// it names, else the partitions of its changed keys, else everything (the rules
// of LocalCatalog's crawl scope; a merged request covers what both did).
bool crawl_covers(const CrawlRequest& request, const std::string& key);

class CrawlJobs final {
 public:
  // Does one crawl: fills in `info` (state, counts, error, finished_at).
  using Runner = std::function<void(CrawlInfo& info, const CrawlRequest& request)>;

  CrawlJobs(Runner runner, std::size_t history);
  ~CrawlJobs();
  CrawlJobs(const CrawlJobs&) = delete;
  CrawlJobs& operator=(const CrawlJobs&) = delete;

  // Starts / stops the worker; stop fails the queued crawls as abandoned.
  void start();
  void stop();

  // Queues a crawl of `tables` (what the catalog resolved the request to).
  CrawlInfo submit(const CrawlRequest& request, std::vector<std::string> tables);
  // Runs a crawl on the calling thread, after any crawl in progress.
  CrawlInfo run_now(const CrawlRequest& request, std::vector<std::string> tables);

  // For runners that poll: sleeps up to `delay`; true (at once) when stopping.
  bool stopping_within(std::chrono::milliseconds delay);

  Result<CrawlInfo> get(const std::string& crawl_id);
  Result<CrawlInfo> wait(const std::string& crawl_id, std::chrono::milliseconds max_wait);

 private:
  CrawlInfo accept(const CrawlRequest& request, std::vector<std::string> tables);
  void run(CrawlInfo& info, const CrawlRequest& request);
  void remember(const CrawlInfo& info);
  void worker();

  Runner runner_;
  std::size_t history_;
  std::mutex run_mutex_;  // one crawl at a time

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, CrawlRequest>> queue_;
  std::map<std::string, CrawlInfo> crawls_;
  std::deque<std::string> order_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace etl::cataloger
