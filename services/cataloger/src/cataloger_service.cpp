#include "cataloger_service.h"

#include "etl/consumer_loop.h"
#include "etl/http_server.h"
#include "etl/log.h"
#include "etl/object_store.h"
#include "etl/s3_event.h"
#include "local_catalog.h"
#include "pgwire/server.h"
#include "routes.h"
#include "runs/run_routes.h"
#include "table_state.h"
#include "ui/ui_routes.h"

namespace etl::cataloger {

Result<std::unique_ptr<CatalogerService>> CatalogerService::create(const Config& config, std::shared_ptr<EventBus> bus,
                                                                   CatalogerOptions options) {
  ETL_RETURN_IF_ERROR(check_backend_pair(config));
  std::unique_ptr<CatalogerService> svc(new CatalogerService());
  svc->config_ = config;
  svc->options_ = options;
  auto store = open_object_store(config.transformed_url, config.aws);
  if (!store) return std::move(store).error();
  svc->store_ = std::shared_ptr<ObjectStore>(std::move(store).value());

  if (!bus) {
    auto opened = open_event_bus(config, "cataloger");
    if (!opened) return std::move(opened).error();
    bus = *opened;
  }
  svc->bus_ = std::move(bus);

  BackendContext context{config, svc->store_, svc->metrics_, options.cache, options.duckdb_threads, options.queries,
                         options.gate_verdicts};
  auto catalog = open_catalog(context);
  if (!catalog) return std::move(catalog).error();
  svc->catalog_ = std::move(catalog).value();
  auto engine = open_query_engine(context, svc->catalog_);
  if (!engine) return std::move(engine).error();
  svc->engine_ = std::move(engine).value();

  CatalogerService* self = svc.get();
  svc->debouncer_ = std::make_unique<CrawlDebouncer>(options.debounce, [self](std::vector<std::string> keys) {
    CrawlRequest request;
    request.changed_keys = std::move(keys);
    request.trigger = "events";
    if (auto crawl = self->catalog_->start_crawl(request); !crawl)
      log::warn("cannot start an event crawl", {{"error", crawl.error().message}});
  });
  svc->consumer_ = std::make_unique<ConsumerLoop>(
      svc->bus_,
      ConsumerLoopOptions{"cataloger", {config.topic_transformed}, "spotify-etl-cataloger", config.topic_dlq},
      [self](const Message& m) { return self->on_event(m); }, svc->metrics_);

  http::ServerOptions server_options;
  server_options.service = "cataloger";
  server_options.address = config.cataloger_addr;
  server_options.api_token = config.api_token;
  server_options.read_token = config.read_token;
  server_options.auth_prefixes = {"/v1/", "/iceberg/"};
  server_options.max_body_bytes = config.max_request_body_bytes;
  server_options.http = config.http;
  svc->server_ = std::make_unique<http::Server>(server_options, svc->metrics_);
  install_routes(*svc->server_, *svc->catalog_, *svc->engine_);
  install_ui_routes(*svc->server_);
  // The Iceberg tables exist only under the built-in catalog (ETL_CATALOG=local, or glue
  // registering them) with ETL_TABLE_FORMAT=iceberg.
  std::shared_ptr<iceberg::IcebergTables> iceberg_tables;
  std::string why_not = "the catalog is Glue's crawlers (ETL_CATALOG=glue with ETL_TABLE_FORMAT=hive), whose tables "
                        "the cataloger does not commit";
  if (auto* local = dynamic_cast<LocalCatalog*>(svc->catalog_.get())) {
    iceberg_tables = local->iceberg();
    why_not = "the tables are Hive folders (ETL_TABLE_FORMAT=hive)";
  }
  install_table_routes(*svc->server_, *svc->catalog_, iceberg_tables, why_not);
  std::shared_ptr<iceberg::CredentialVendor> vendor;
  if (config.iceberg_vended_credentials == "sts" && iceberg_tables) {
    auto opened = iceberg::CredentialVendor::open(config);
    if (!opened) return std::move(opened).error();
    vendor = std::move(opened).value();
  }
  svc->iceberg_rest_ = std::make_unique<iceberg::RestCatalog>(
      svc->catalog_->database(), std::move(iceberg_tables), [self]() -> Result<std::vector<std::string>> {
        auto tables = self->catalog_->list_tables();
        if (!tables) return std::move(tables).error();
        std::vector<std::string> names;
        for (const auto& t : *tables) names.push_back(t.name);
        return names;
      },
      why_not, std::move(vendor));
  install_iceberg_routes(*svc->server_, *svc->iceberg_rest_);
  // The extractor's run records, for the dashboard: optional (a raw store that
  // cannot be opened leaves GET /v1/pipeline/runs answering 503, nothing else).
  std::string runs_unavailable;
  if (auto raw = open_object_store(config.raw_url, config.aws); raw) {
    svc->runs_ = std::make_unique<RunSummaries>(std::shared_ptr<ObjectStore>(std::move(raw).value()));
  } else {
    runs_unavailable = raw.error().message;
    log::warn("run records unavailable (GET /v1/pipeline/runs)", {{"error", runs_unavailable}});
  }
  install_run_routes(*svc->server_, svc->runs_.get(), runs_unavailable);
  svc->server_->set_openapi(openapi_spec());
  svc->server_->add_readiness_check("transformed_store", [self] { return self->store_->ping(); });
  svc->server_->add_readiness_check("bus", [self] { return self->bus_->ping(); });
  svc->server_->add_readiness_check("catalog", [self] { return self->catalog_->ping(); });
  svc->server_->add_readiness_check("engine", [self] { return self->engine_->ping(); });
  if (auto pg = pgwire::server_options(config))
    svc->pg_ = std::make_unique<pgwire::Server>(*pg, *svc->engine_, *svc->catalog_, svc->metrics_);
  return svc;
}

CatalogerService::~CatalogerService() { stop(); }

// Acknowledged once the keys are handed to the debouncer: the catalog is derived
// from the files, and the start-up crawl picks up anything a crash lost.
Status CatalogerService::on_event(const Message& message) {
  // A removed data file (a hive redo's, or anyone's) changes its partition as a new one does.
  auto events = parse_s3_events(message.value, S3EventKinds::created_and_removed);
  if (!events) return std::move(events).error();
  std::vector<std::string> keys;
  for (const auto& e : *events) {
    auto key = store_->relative_key(e.bucket, e.key);
    if (key && DataKey::parse(*key)) keys.push_back(*key);
  }
  debouncer_->add(keys);
  return {};
}

Status CatalogerService::start() {
  if (started_) return {};
  ETL_RETURN_IF_ERROR(server_->start());
  if (Status s = catalog_->start_workers(); !s.ok()) {
    server_->stop();
    return s;
  }
  if (Status s = engine_->start_workers(); !s.ok()) {
    catalog_->stop_workers();
    server_->stop();
    return s;
  }
  if (pg_) {
    if (Status s = pg_->start(); !s.ok()) {
      stop_backends();
      server_->stop();
      return s;
    }
  }
  debouncer_->start();
  if (options_.crawl_on_start) {
    CrawlRequest request;
    request.trigger = "startup";
    if (auto crawl = catalog_->start_crawl(request); !crawl)
      log::warn("cannot start the start-up crawl", {{"error", crawl.error().message}});
  }
  if (Status s = consumer_->start(); !s.ok()) {
    debouncer_->stop();
    stop_backends();
    server_->stop();
    return s;
  }
  started_ = true;
  return {};
}

void CatalogerService::stop() {
  if (!started_) return;
  started_ = false;
  // Queries first: a request waiting on a long query answers 503 at once instead
  // of holding the server's stop past the shutdown deadline.
  engine_->stop_workers();
  if (pg_) pg_->stop();
  server_->stop();
  consumer_->stop();
  debouncer_->stop();
  catalog_->stop_workers();
}

void CatalogerService::stop_backends() {
  engine_->stop_workers();
  if (pg_) pg_->stop();
  catalog_->stop_workers();
}

int CatalogerService::port() const { return server_->port(); }
std::string CatalogerService::base_url() const { return server_->base_url(); }
int CatalogerService::pg_port() const { return pg_ ? pg_->port() : 0; }
Catalog& CatalogerService::catalog() { return *catalog_; }
QueryEngine& CatalogerService::queries() { return *engine_; }

}  // namespace etl::cataloger
