// The DuckDB query engine (ETL_QUERY_ENGINE=duckdb) with Athena's shape: queries
// pass the gate (sql_gate.h) when submitted, get an id (128 random bits) and wait
// in a bounded queue served round-robin across clients (fair_queue.h; full: 429)
// for a pool of workers, one DuckDB connection each. A watchdog interrupts a
// query past its timeout (FAILED, 504) and DELETE interrupts it at once
// (CANCELLED). Results stay in memory (result_cache.h) for paging, are stored
// once as CSV under `_query_results/<id>.csv` (result_files.h: bounded by bytes
// and age), and are reused for `max_age` requests when the exact SQL, page size
// and versions of the catalog's tables are the same.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "duckdb_engine.h"
#include "sql_engine.h"
#include "etl/catalog.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "etl/query_engine.h"
#include "fair_queue.h"
#include "result_cache.h"
#include "result_files.h"

namespace etl::cataloger {

struct QueryManagerOptions {
  std::size_t workers = 4;                        // ETL_QUERY_WORKERS: queries running at once
  std::size_t max_queued = 64;                    // ETL_QUERY_MAX_QUEUED: waiting queries; more get 429
  std::chrono::milliseconds max_timeout{300000};  // ETL_QUERY_MAX_TIMEOUT_MS: a larger timeout_ms is refused
  std::size_t cache_bytes = 256u << 20;           // results kept in memory for paging and reuse
  std::size_t max_result_bytes = 64u << 20;       // a larger result fails (too_large): aggregate or LIMIT
  std::size_t max_queries = 10000;                // query records remembered for GET /v1/query/{id} (finished ones keep no SQL)
  ResultFilesOptions results;                     // the stored CSVs: prefix, bytes and age bounds
  // ETL_QUERY_KILL_GRACE_MS: a query still running this long after it was
  // interrupted (timeout or cancel) ends with the engine process it runs in
  // (SqlSession::kill; nothing happens with an in-process engine).
  std::chrono::milliseconds kill_grace{5000};
  // Time travel (`as_of`): pins tables to snapshots; unset: the tables have no
  // snapshots (ETL_TABLE_FORMAT=hive) and `as_of` is refused.
  PinResolver pins;
};

class QueryManager final : public QueryEngine {
 public:
  // `results_root_url` names result locations in a store that is not local ("s3://b/p").
  QueryManager(std::shared_ptr<Catalog> catalog, std::unique_ptr<SqlEngine> engine,
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

  SqlEngine& engine() { return *engine_; }
  ResultFiles& result_files() { return files_; }

 private:
  struct Record;
  struct Worker;

  Status validate(const QueryRequest& request) const;
  // The tables `as_of` pins, resolved now (a time names the snapshot current then).
  Result<std::vector<PinnedTable>> resolve_pins(const QueryRequest& request);
  // The exact SQL + page size + the data version of each table it reads (`reads`,
  // from the SQL gate; every table when it holds kReadsEverything) + its pins:
  // versions from the catalog (lookups), or as the engine's views read them (results).
  std::string cache_key(const QueryRequest& request, const std::set<std::string>& reads,
                        const std::vector<PinnedTable>& pins);
  static std::string cache_key(const QueryRequest& request, const std::map<std::string, std::int64_t>& versions,
                               const std::set<std::string>& reads, const std::vector<PinnedTable>& pins);
  Result<QueryStatus> cached_locked(const QueryRequest& request, const std::string& key,
                                    const std::vector<PinnedTable>& pins);
  void worker_loop(Worker& worker);
  // One run of query `id` on the worker's session (made first when it has none of
  // the engine's epoch; not run when the query was stopped meanwhile): the result,
  // its cache key, the engine time, and whether the engine process stopped under
  // it (SqlSession::lost).
  struct Attempt {
    Result<ResultSet> result = Error{Errc::internal, "not run"};
    std::string key;
    double elapsed_ms = 0;
    bool lost = false;
  };
  Attempt attempt(Worker& worker, const std::string& id, const QueryRequest& request,
                  const std::vector<PinnedTable>& pins, const std::set<std::string>& reads);
  // Cancel was asked for it, or its timeout passed.
  bool stopped(const std::string& id);
  void watchdog_loop();
  void run(Worker& worker, const std::string& id);
  // Ends a run that did not succeed: cancelled or timed out when it was stopped
  // (whatever `e` says), else failed with `e`; `elapsed_ms` is what it ran.
  void fail_run(const std::string& id, Error e, double elapsed_ms = 0);
  std::string store_csv(const std::string& id, const std::string& csv);
  void finish(Record& record, QueryState state, std::optional<Error> error);
  static void forget_sql(Record& record);
  void interrupt_locked(Record& record);
  // kill_grace after the first interrupt: ends the engine process the query runs in.
  void kill_locked(Record& record);
  QueryStatus status_locked(const Record& record) const;
  std::string token(const std::string& id, std::size_t offset) const;
  Record& add_record_locked(const QueryRequest& request, std::vector<PinnedTable> pins = {});

  std::shared_ptr<Catalog> catalog_;
  std::unique_ptr<SqlEngine> engine_;
  std::shared_ptr<ObjectStore> store_;
  std::string root_url_;
  QueryManagerOptions options_;
  MetricsRegistry& metrics_;
  std::uint64_t token_salt_;
  ResultFiles files_;

  std::mutex mutex_;
  std::condition_variable done_cv_;     // a query became terminal
  std::condition_variable queue_cv_;    // work for the workers
  std::condition_variable watch_cv_;    // a new deadline
  std::unordered_map<std::string, std::unique_ptr<Record>> records_;
  std::deque<std::string> record_order_;
  FairQueue queue_;
  // Queries running per client (peer address). A client may run all workers but
  // one while another client could come (per_client_running()), so a client that
  // fills the workers with long queries and walks away leaves one for the others.
  std::map<std::string, std::size_t> running_by_client_;
  std::size_t per_client_running() const noexcept { return options_.workers > 1 ? options_.workers - 1 : 1; }
  std::set<std::string> active_;  // queued or running
  ResultCache cache_;
  // When the watchdog next hands the heap's free pages back (a second after a query
  // ended, so its reply has gone out too); unset: no query ended since the last time.
  std::optional<std::chrono::steady_clock::time_point> trim_due_;
  bool stopping_ = false;
  // The watchdog outlives stopping_ until the workers have ended: it interrupts
  // their queries again until they stop (an interrupt that lands just before a
  // statement starts is lost) and kills one that ignores them past the grace.
  bool watchdog_stopping_ = false;

  std::mutex versions_mutex_;
  std::uint64_t versions_generation_ = 0;
  std::map<std::string, std::int64_t> versions_;  // lower-cased table name -> data_version

  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread watchdog_;
};

}  // namespace etl::cataloger
