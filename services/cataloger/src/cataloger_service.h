// The cataloger service: the built-in crawler + catalog and the DuckDB query
// endpoint behind one HTTP server, crawling when transformed events arrive
// (debounced), on request, and at start-up. `spotify-etl up` and the
// `cataloger` binary both build it from the configuration.
#pragma once

#include <memory>
#include <string>

#include "debouncer.h"
#include "etl/config.h"
#include "etl/event_bus.h"
#include "etl/metrics.h"
#include "etl/service_main.h"
#include "backends.h"
#include "runs/run_summaries.h"

namespace etl {
class ConsumerLoop;
class ObjectStore;
namespace http { class Server; }
}  // namespace etl

namespace etl::cataloger {

}  // namespace etl::cataloger
namespace etl::pgwire { class Server; }
namespace etl::cataloger::iceberg { class RestCatalog; }
namespace etl::cataloger {

struct CatalogerOptions {
  DebounceOptions debounce;        // events -> one crawl per burst
  bool crawl_on_start = true;      // reconcile with the store at start-up (events missed while down)
  int duckdb_threads = 2;          // DuckDB worker threads (shared by all queries)
  QueryManagerOptions queries;     // pool size, result memory, CSV location
  VerdictCacheLimits gate_verdicts{};  // the SQL gate's remembered verdicts (verdict_cache.h)
  // The mirror of an s3:// transformed store (ETL_CATALOG_READS=mirror); nullopt:
  // from ETL_CATALOG_CACHE_* in the process environment.
  std::optional<TableMirrorOptions> cache;
};

class CatalogerService final : public Runnable {
 public:
  // `bus` nullptr: open the configured one (open_event_bus(config, "cataloger")).
  // The catalog and the engine come from open_catalog / open_query_engine
  // (backends.h), which refuse pairs that cannot work together.
  static Result<std::unique_ptr<CatalogerService>> create(const Config& config, std::shared_ptr<EventBus> bus = nullptr,
                                                          CatalogerOptions options = {});
  ~CatalogerService() override;

  Status start() override;
  void stop() override;
  int port() const;
  std::string base_url() const;
  int pg_port() const;  // the PostgreSQL endpoint's port; 0 when it is off

  Catalog& catalog();
  QueryEngine& queries();
  MetricsRegistry& metrics() { return metrics_; }

 private:
  CatalogerService() = default;
  Status on_event(const Message& message);
  void stop_backends();

  MetricsRegistry metrics_;
  Config config_;
  CatalogerOptions options_;
  std::shared_ptr<EventBus> bus_;
  std::shared_ptr<ObjectStore> store_;
  std::shared_ptr<Catalog> catalog_;     // ETL_CATALOG
  std::shared_ptr<QueryEngine> engine_;  // ETL_QUERY_ENGINE
  std::unique_ptr<CrawlDebouncer> debouncer_;
  std::unique_ptr<ConsumerLoop> consumer_;
  std::unique_ptr<iceberg::RestCatalog> iceberg_rest_;  // GET /iceberg/v1/...: read-only Iceberg REST catalog
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<RunSummaries> runs_;     // the extractor's run records (GET /v1/pipeline/runs); nullptr: unavailable
  std::unique_ptr<pgwire::Server> pg_;     // the PostgreSQL endpoint (ETL_PG_ADDR); nullptr when off
  bool started_ = false;
};

}  // namespace etl::cataloger
