// The DuckDB query engine (ETL_QUERY_ENGINE=duckdb) with Athena's shape: queries
// get an id and run on a pool of workers, one DuckDB connection each, so
// dashboards do not wait on each other; a watchdog interrupts a query past its
// timeout (FAILED, 504) and DELETE interrupts it on request (CANCELLED). Results
// stay in memory (LRU, bounded in bytes) for paging, are stored once as CSV
// under `_query_results/<id>.csv`, and are reused for `max_age` requests when
// the SQL, page size and versions of the tables it reads are the same.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "duckdb_engine.h"
#include "etl/catalog.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "etl/query_engine.h"

namespace etl::cataloger {

struct QueryManagerOptions {
  std::size_t workers = 8;                       // queries running at once (one DuckDB connection each)
  std::size_t cache_bytes = 256u << 20;          // results kept in memory for paging and reuse
  std::size_t max_result_bytes = 64u << 20;      // a larger result fails (too_large): aggregate or LIMIT
  std::size_t max_queries = 10000;               // query records remembered for GET /v1/query/{id}
  std::string results_prefix = "_query_results/";  // where result CSVs go in the store
  std::chrono::hours results_ttl{24};              // result CSVs older than this are deleted (swept now and then)
};

class QueryManager final : public QueryEngine {
 public:
  // `results_root_url` is how result locations are named ("file:///data/transformed").
  QueryManager(std::shared_ptr<Catalog> catalog, std::unique_ptr<DuckDbEngine> engine,
               std::shared_ptr<ObjectStore> results_store, std::string results_root_url, QueryManagerOptions options,
               MetricsRegistry& metrics);
  ~QueryManager() override;

  void start();
  // Interrupts running queries, fails queued ones, joins the workers.
  void stop();
  Status start_workers() override {
    start();
    return {};
  }
  void stop_workers() override { stop(); }

  std::string name() const override { return "duckdb"; }
  Result<QueryStatus> start(const QueryRequest& request) override;
  Result<QueryStatus> status(const std::string& query_id) override;
  Result<QueryStatus> wait(const std::string& query_id, std::chrono::milliseconds max_wait) override;
  Result<QueryPage> page(const std::string& query_id, const std::string& next_token) override;
  Result<QueryStatus> cancel(const std::string& query_id) override;
  Status ping() override;

  DuckDbEngine& engine() { return *engine_; }

 private:
  struct StoredResult;
  struct Record;
  struct Worker;

  // Normalised SQL + page size + the data versions of the tables it names: from
  // the catalog (lookups), or as the engine's views read them (results).
  std::string cache_key(const QueryRequest& request);
  static std::string cache_key(const QueryRequest& request, const std::map<std::string, std::int64_t>& versions);
  void worker_loop(Worker& worker);
  void watchdog_loop();
  void run(Worker& worker, const std::string& id);
  void finish(Record& record, QueryState state, std::optional<Error> error);
  void interrupt_locked(Record& record);
  std::shared_ptr<const StoredResult> keep(StoredResult result);
  void touch_locked(const StoredResult* result);
  QueryStatus status_locked(const Record& record) const;
  std::string token(const std::string& id, std::size_t offset) const;
  Record& add_record_locked(const QueryRequest& request);
  void sweep_results();

  std::shared_ptr<Catalog> catalog_;
  std::unique_ptr<DuckDbEngine> engine_;
  std::shared_ptr<ObjectStore> store_;
  std::string root_url_;
  QueryManagerOptions options_;
  MetricsRegistry& metrics_;
  std::uint64_t token_salt_;
  std::atomic<std::uint64_t> results_written_{0};

  std::mutex mutex_;
  std::condition_variable done_cv_;     // a query became terminal
  std::condition_variable queue_cv_;    // work for the workers
  std::condition_variable watch_cv_;    // a new deadline
  std::unordered_map<std::string, std::unique_ptr<Record>> records_;
  std::deque<std::string> record_order_;
  std::deque<std::string> queue_;
  std::set<std::string> active_;  // queued or running
  std::list<std::shared_ptr<const StoredResult>> lru_;  // most recent first
  std::unordered_map<const StoredResult*, std::list<std::shared_ptr<const StoredResult>>::iterator> lru_pos_;
  std::unordered_map<std::string, std::weak_ptr<const StoredResult>> cache_;  // by cache key
  std::size_t cached_bytes_ = 0;
  bool stopping_ = false;

  std::mutex versions_mutex_;
  std::uint64_t versions_generation_ = 0;
  std::map<std::string, std::int64_t> versions_;  // lower-cased table name -> data_version

  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread watchdog_;
};

}  // namespace etl::cataloger
