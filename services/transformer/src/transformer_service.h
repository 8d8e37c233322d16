// The transformer service: consumes raw object-created events in batches
// (BatchConsumer -> BatchRunner), runs single objects through the Pipeline for
// the HTTP API (CONTRACT.md section 7). On start it also queues a scan of
// to_be_processed/ that announces every object found there again, so objects
// whose events were lost (a crash, a bus outage) are transformed anyway.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "error_log.h"
#include "etl/config.h"
#include "batch_consumer.h"
#include "batch_index.h"
#include "etl/event_bus.h"
#include "etl/http_server.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "etl/service_main.h"
#include "jobs.h"
#include "pipeline.h"
#include "transformer_metrics.h"

namespace etl::transformer {

inline constexpr const char* kConsumerGroup = "spotify-etl-transformer";

class TransformerService final : public etl::Runnable {
 public:
  // `bus` nullptr: the one the configuration names (open_event_bus).
  static Result<std::unique_ptr<TransformerService>> create(const Config& config,
                                                            std::shared_ptr<EventBus> bus = nullptr);
  ~TransformerService() override;
  TransformerService(const TransformerService&) = delete;
  TransformerService& operator=(const TransformerService&) = delete;

  Status start() override;
  void stop() override;
  int port() const;
  std::string base_url() const;

  // What POST /v1/transform does: a to_be_processed/ key is transformed and
  // moved; a processed/ key is transformed in place. invalid_argument for keys
  // outside those folders (or with ".."), not_found for unknown objects.
  Result<TransformResult> transform_key(const std::string& raw_key);
  // What POST /v1/reprocess does: queues a backfill job over `prefix`.
  Result<std::string> reprocess(const std::string& prefix);
  std::optional<JobSnapshot> job(const std::string& job_id) const;
  // The job that scanned to_be_processed/ at start-up ("" before start).
  std::string startup_job_id() const { return startup_job_id_; }

  const ErrorLog& errors() const { return errors_; }
  const TransformerMetrics& counters() const { return *counters_; }
  MetricsRegistry& metrics() { return metrics_; }

  // What the consumer makes of a raw event: the raw objects of ours it names.
  BatchEvent read_event(Message message);
  // The start-up scan's step: announces a to_be_processed/ object on the raw topic, so
  // the consumer's batches (the one writer of batch files) transform it.
  Result<TransformResult> announce_raw(const std::string& key);

 private:
  TransformerService() = default;
  Result<TransformResult> run_recorded(const std::string& key, const std::string& source, RunOptions options);
  Result<TransformResult> redo_object(const std::string& key, const std::string& source, RunOptions options,
                                      const std::string& job_id = {});
  void add_routes();

  Config config_;
  MetricsRegistry metrics_;
  std::unique_ptr<TransformerMetrics> counters_;
  ErrorLog errors_;
  std::shared_ptr<ObjectStore> raw_;
  std::shared_ptr<ObjectStore> transformed_;
  std::shared_ptr<EventBus> bus_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<JobRunner> jobs_;
  std::unique_ptr<TaskPool> pool_;
  std::unique_ptr<BatchIndex> index_;
  std::unique_ptr<BatchRunner> runner_;
  std::unique_ptr<BatchConsumer> consumer_;
  std::unique_ptr<http::Server> server_;
  std::string startup_job_id_;
  std::mutex redone_mutex_;
  std::string redone_job_;        // the backfill job whose redone batches are in redone_
  std::set<std::string> redone_;  // finished-manifest keys
  bool started_ = false;
};

// Checks a reprocess prefix: under to_be_processed/ or processed/, no "..".
Result<std::string> validate_reprocess_prefix(std::string_view prefix);

// The request rules of POST /v1/transform ({"key"}: the raw key) and POST
// /v1/reprocess ({"prefix"}: the checked prefix), and the document that states them.
Result<std::string> parse_transform_request(const nlohmann::json& body);
Result<std::string> parse_reprocess_request(const nlohmann::json& body);
nlohmann::json transformer_openapi();

}  // namespace etl::transformer
