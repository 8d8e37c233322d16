// The Athena query engine (ETL_QUERY_ENGINE=athena): the read-only guard, then
// StartQueryExecution (workgroup, database, output location, result reuse when
// the request allows an age); a monitor thread polls GetQueryExecution with
// backoff, stops a query past its timeout (FAILED, 504) and picks up DELETE's
// StopQueryExecution (CANCELLED); pages come from GetQueryResults, 1,000 rows at
// most, with Athena's NextToken passed through. Results stay in Athena (its
// output CSV is `result_location`); nothing is kept in memory but the records.
// Ids are Athena's QueryExecutionIds, so a query started by another replica (or
// before a restart) is found by asking Athena.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "etl/aws_json.h"
#include "etl/catalog.h"
#include "etl/query_engine.h"

namespace etl::cataloger {

struct AthenaEngineOptions {
  std::string database = "spotify";                  // Config::glue_database (QueryExecutionContext)
  std::string workgroup = "primary";                 // Config::athena_workgroup
  std::string output_location;                       // Config::athena_output; "" = the workgroup's own
  std::chrono::milliseconds poll_initial{200};       // first GetQueryExecution after start
  std::chrono::milliseconds poll_max{2000};          // polls back off up to this
  std::size_t max_queries = 10000;                   // records remembered (terminal ones are forgotten first)
  std::chrono::minutes adopted_timeout{60};          // limit for queries found in Athena, not started here
};

class AthenaEngine final : public QueryEngine {
 public:
  // `catalog` (optional) caps result reuse at the age of the data the query reads.
  static Result<std::unique_ptr<AthenaEngine>> open(const AwsConfig& aws, AthenaEngineOptions options,
                                                    std::shared_ptr<Catalog> catalog = nullptr,
                                                    aws::JsonClientOptions client_options = {});
  AthenaEngine(std::unique_ptr<aws::JsonClient> client, AthenaEngineOptions options, std::shared_ptr<Catalog> catalog);
  ~AthenaEngine() override;

  // Starts / stops the monitor thread (stop leaves running Athena queries alone:
  // another replica, or this one after a restart, can still read them).
  void start();
  void stop();
  Status start_workers() override {
    start();
    return {};
  }
  void stop_workers() override { stop(); }

  std::string name() const override { return "athena"; }
  Result<QueryStatus> start(const QueryRequest& request) override;
  Result<QueryStatus> status(const std::string& query_id) override;
  Result<QueryStatus> wait(const std::string& query_id, std::chrono::milliseconds max_wait) override;
  Result<QueryPage> page(const std::string& query_id, const std::string& next_token) override;
  Result<QueryStatus> cancel(const std::string& query_id) override;
  // GetWorkGroup of the configured workgroup: reachable, credentials good, workgroup there.
  Status ping() override;

  // The ResultReuseConfiguration for a request ({} when none): minutes rounded up,
  // at least 1, but never past the last change of the tables the SQL names.
  nlohmann::json reuse_configuration(const QueryRequest& request);

 private:
  struct Record {
    QueryStatus status;
    std::size_t max_rows = kMaxPageRows;
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point next_poll;
    std::chrono::milliseconds poll_delay{0};
    std::chrono::milliseconds timeout{0};
    bool cancel_requested = false;
    std::set<std::string> tokens;  // next tokens handed out
    std::uint64_t rows_read = 0;
  };

  Result<QueryStatus> fetch(const std::string& query_id);
  Record& adopt_locked(const QueryStatus& status);
  void apply_locked(Record& record, QueryStatus fresh);
  void monitor();
  void poll(const std::string& id);
  void expire(const std::string& id);
  void forget_locked();

  std::unique_ptr<aws::JsonClient> client_;
  AthenaEngineOptions options_;
  std::shared_ptr<Catalog> catalog_;

  std::mutex mutex_;
  std::condition_variable changed_cv_;  // a record changed (terminal, or work for the monitor)
  std::map<std::string, Record> records_;
  std::deque<std::string> order_;
  std::set<std::string> active_;  // not terminal
  bool stopping_ = false;
  bool running_ = false;
  std::thread monitor_;
};

}  // namespace etl::cataloger
