#include "cataloger_service.h"

#include "etl/consumer_loop.h"
#include "etl/http_server.h"
#include "etl/log.h"
#include "etl/object_store.h"
#include "etl/s3_event.h"
#include "athena_engine.h"
#include "engine_limits.h"
#include "glue_catalog.h"
#include "local_catalog.h"
#include "routes.h"

namespace etl::cataloger {

Result<std::unique_ptr<CatalogerService>> CatalogerService::create(const Config& config, std::shared_ptr<EventBus> bus,
                                                                   CatalogerOptions options) {
  if (config.catalog != "local" && config.catalog != "glue")
    return make_error(Errc::invalid_argument, "ETL_CATALOG must be local or glue, got '" + config.catalog + "'");
  if (config.query_engine != "duckdb" && config.query_engine != "athena")
    return make_error(Errc::invalid_argument, "ETL_QUERY_ENGINE must be duckdb or athena, got '" + config.query_engine + "'");
  const bool aws = config.catalog == "glue";
  if (aws != (config.query_engine == "athena"))
    return make_error(Errc::invalid_argument,
                      "ETL_CATALOG=glue goes with ETL_QUERY_ENGINE=athena (Athena reads the Glue catalog, DuckDB the "
                      "built-in one): set both or neither");

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

  if (aws) {
    auto glue_options = glue_catalog_options(config, process_env());
    if (!glue_options) return std::move(glue_options).error();
    auto glue = GlueCatalog::open(config.aws, std::move(glue_options).value());
    if (!glue) return std::move(glue).error();
    svc->glue_ = std::move(glue).value();
    svc->catalog_ = svc->glue_;
    AthenaEngineOptions athena_options;
    athena_options.database = config.glue_database;
    athena_options.workgroup = config.athena_workgroup;
    athena_options.output_location = config.athena_output;
    auto athena = AthenaEngine::open(config.aws, athena_options, svc->catalog_);
    if (!athena) return std::move(athena).error();
    svc->athena_ = std::move(athena).value();
    svc->engine_ = svc->athena_.get();
  } else {
    // DuckDB reads a file:// store in place, and an s3:// one from a local copy
    // kept by the crawls (table_mirror.h says why not httpfs).
    std::filesystem::path root;
    std::string root_url = config.transformed_url;
    while (root_url.size() > 1 && root_url.back() == '/') root_url.pop_back();
    if (auto local = svc->store_->local_path("")) {
      ETL_RETURN_IF_ERROR(svc->store_->ping());  // creates the root folder
      root = std::filesystem::absolute(*local).lexically_normal();
      std::string root_str = root.string();
      while (root_str.size() > 1 && root_str.back() == '/') root_str.pop_back();
      root = root_str;
      root_url = "file://" + root_str;
    } else {
      auto cache_options = options.cache ? Result<TableMirrorOptions>(*options.cache) : table_mirror_options(process_env());
      if (!cache_options) return std::move(cache_options).error();
      auto mirror = TableMirror::open(svc->store_, std::move(cache_options).value(), svc->metrics_);
      if (!mirror) return std::move(mirror).error();
      svc->mirror_ = std::move(mirror).value();
      root = svc->mirror_->root();
    }

    auto reader = DuckDbSchemaReader::open(root);
    if (!reader) return std::move(reader).error();
    auto catalog = LocalCatalog::open(svc->store_, std::move(reader).value(),
                                      {config.glue_database, root_url, 1000, svc->mirror_}, svc->metrics_);
    if (!catalog) return std::move(catalog).error();
    svc->local_ = std::move(catalog).value();
    svc->catalog_ = svc->local_;

    DuckDbEngineOptions engine_options;
    engine_options.root = root;
    engine_options.database = config.glue_database;
    engine_options.threads = options.duckdb_threads;
    std::uint64_t memory = engine_memory_limit(config.query_memory_limit, cgroup_memory_limit());
    engine_options.memory_limit = std::to_string(memory) + "B";
    engine_options.data_dir = config.query_data_dir;
    engine_options.max_temp_bytes = config.query_max_temp_bytes;
    log::info("query engine limits", {{"memory_limit_bytes", memory}, {"max_temp_bytes", config.query_max_temp_bytes},
                                      {"workers", config.query_workers}, {"max_queued", config.query_max_queued}});
    auto engine = DuckDbEngine::open(std::move(engine_options));
    if (!engine) return std::move(engine).error();
    QueryManagerOptions queries = options.queries;
    queries.workers = static_cast<std::size_t>(config.query_workers);
    queries.max_queued = static_cast<std::size_t>(config.query_max_queued);
    queries.max_timeout = config.query_max_timeout;
    queries.results.max_bytes = config.query_results_max_bytes;
    queries.results.ttl = config.query_results_ttl;
    svc->queries_ = std::make_unique<QueryManager>(svc->local_, std::move(engine).value(), svc->store_, root_url,
                                                   queries, svc->metrics_);
    svc->engine_ = svc->queries_.get();
  }

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
  server_options.max_body_bytes = config.max_request_body_bytes;
  svc->server_ = std::make_unique<http::Server>(server_options, svc->metrics_);
  install_routes(*svc->server_, *svc->catalog_, *svc->engine_);
  svc->server_->set_openapi(openapi_spec());
  svc->server_->add_readiness_check("transformed_store", [self] { return self->store_->ping(); });
  svc->server_->add_readiness_check("bus", [self] { return self->bus_->ping(); });
  svc->server_->add_readiness_check("catalog", [self] { return self->catalog_->ping(); });
  svc->server_->add_readiness_check("engine", [self] { return self->engine_->ping(); });
  if (svc->mirror_) svc->server_->add_readiness_check("table_cache", [self] { return self->cache_ready(); });
  return svc;
}

CatalogerService::~CatalogerService() { stop(); }

// Acknowledged once the keys are handed to the debouncer: the catalog is derived
// from the files, and the start-up crawl picks up anything a crash lost.
Status CatalogerService::on_event(const Message& message) {
  auto events = parse_s3_events(message.value);
  if (!events) return std::move(events).error();
  std::vector<std::string> keys;
  for (const auto& e : *events) {
    auto key = store_->relative_key(e.bucket, e.key);
    if (key && parse_data_key(*key)) keys.push_back(*key);
  }
  debouncer_->add(keys);
  return {};
}

Status CatalogerService::start() {
  if (started_) return {};
  ETL_RETURN_IF_ERROR(server_->start());
  if (glue_) {
    glue_->start();
    if (Status s = glue_->ensure_resources(); !s.ok()) {
      if (s.error().code == Errc::invalid_argument) {
        glue_->stop();
        server_->stop();
        return s;  // e.g. a crawler to create without ETL_GLUE_CRAWLER_ROLE
      }
      log::warn("Glue resources not ready yet; the first crawl retries", {{"error", s.error().message}});
    }
  }
  if (local_) local_->start();
  if (queries_) queries_->start();
  if (athena_) athena_->start();
  debouncer_->start();
  if (options_.crawl_on_start) {
    if (mirror_) {
      std::lock_guard lock(cache_mutex_);
      last_cache_crawl_ = std::chrono::steady_clock::now();
    }
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
  if (queries_) queries_->stop();
  if (athena_) athena_->stop();
  server_->stop();
  consumer_->stop();
  debouncer_->stop();
  if (local_) local_->stop();
  if (glue_) glue_->stop();
}

void CatalogerService::stop_backends() {
  if (queries_) queries_->stop();
  if (athena_) athena_->stop();
  if (local_) local_->stop();
  if (glue_) glue_->stop();
}

// Ready once a crawl of the whole store has filled the local cache. Until then a
// failed start-up crawl (S3 down, cache full) is retried now and then from here:
// readiness probes keep coming, events may not.
Status CatalogerService::cache_ready() {
  if (mirror_->complete()) return {};
  {
    std::lock_guard lock(cache_mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_cache_crawl_ >= std::chrono::seconds(15)) {
      last_cache_crawl_ = now;
      CrawlRequest request;
      request.trigger = "cache";
      (void)catalog_->start_crawl(request);
    }
  }
  return make_error(Errc::unavailable, "copying the tables of " + config_.transformed_url + " into the local cache at " +
                                           mirror_->root().string() + " (" + std::to_string(mirror_->files()) +
                                           " files so far; crawl errors are logged)");
}

int CatalogerService::port() const { return server_->port(); }
std::string CatalogerService::base_url() const { return server_->base_url(); }
Catalog& CatalogerService::catalog() { return *catalog_; }
QueryEngine& CatalogerService::queries() { return *engine_; }

}  // namespace etl::cataloger
