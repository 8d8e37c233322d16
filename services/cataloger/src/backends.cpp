#include "backends.h"

#include <algorithm>
#include <set>

#include "athena_engine.h"
#include "duckdb_engine.h"
#include "engine_limits.h"
#include "engine_process.h"
#include "etl/log.h"
#include "glue_catalog.h"
#include "glue_iceberg.h"
#include "local_catalog.h"
#include "time_travel.h"

namespace etl::cataloger {
namespace {

// The built-in catalog; `publish` and `name` as LocalCatalogOptions says.
Result<std::shared_ptr<Catalog>> open_local_catalog(const BackendContext& context,
                                                    std::function<Status(const PublishedTable&)> publish = nullptr,
                                                    std::string name = "local") {
  const Config& config = context.config;
  duck::TableFiles files;
  std::string root_url = config.transformed_url;
  while (root_url.size() > 1 && root_url.back() == '/') root_url.pop_back();
  std::shared_ptr<TableMirror> mirror;
  if (auto local = context.store->local_path("")) {
    ETL_RETURN_IF_ERROR(context.store->ping());  // creates the root folder
    files = *local;  // absolute and normalised, no trailing '/'
    root_url = "file://" + files.root();
  } else if (config.catalog_cache.reads == "in_place") {
    // DuckDB reads s3:// in place (httpfs): the crawls, the commits, compaction and queries.
    auto s3 = duck::TableFiles::s3(config.aws, config.transformed_url, config.catalog_cache.extension_dir);
    if (!s3) return std::move(s3).error();
    files = std::move(s3).value();
  } else {
    // ETL_CATALOG_READS=mirror: DuckDB reads a local copy the crawls keep (table_mirror.h).
    auto opened = TableMirror::open(context.store, context.cache.value_or(table_mirror_options(config.catalog_cache)),
                                    context.metrics);
    if (!opened) return std::move(opened).error();
    mirror = std::move(opened).value();
    files = mirror->root();
  }
  auto reader = DuckDbSchemaReader::open(files);
  if (!reader) return std::move(reader).error();
  std::shared_ptr<iceberg::IcebergTables> iceberg;
  std::shared_ptr<iceberg::Compactor> compactor;
  if (config.table_format == "iceberg") {
    auto opened_compactor = iceberg::Compactor::open(context.store, files, {config.iceberg_target_file_bytes});
    if (!opened_compactor) return std::move(opened_compactor).error();
    compactor = std::move(opened_compactor).value();
    iceberg::IcebergTablesOptions options;
    options.files = files;
    options.snapshot_retention = config.iceberg_snapshot_retention;
    options.min_snapshots = config.iceberg_min_snapshots;
    options.max_snapshots = config.iceberg_max_snapshots;  // load_config refuses one below the minimum
    options.manifest_cache_bytes = static_cast<std::size_t>(config.iceberg_manifest_cache_bytes);
    auto opened = iceberg::IcebergTables::open(context.store, std::move(options), context.metrics);
    if (!opened) return std::move(opened).error();
    iceberg = std::move(opened).value();
  }
  LocalCatalogOptions options{config.glue_database, root_url, 1000, mirror, files, iceberg, compactor,
                             std::chrono::duration_cast<std::chrono::milliseconds>(config.iceberg_maintenance_interval),
                             std::chrono::duration_cast<std::chrono::milliseconds>(config.iceberg_orphan_age),
                             std::move(publish), std::move(name)};
  auto catalog = LocalCatalog::open(context.store, std::move(reader).value(), std::move(options), context.metrics);
  if (!catalog) return std::move(catalog).error();
  return std::shared_ptr<Catalog>(std::move(catalog).value());
}

// ETL_GLUE_ICEBERG_REGISTRATION=crawler: after each commit the table's Glue crawler
// (an Iceberg target on the table folder) is started on a GlueCatalog's crawl worker,
// where a crawl asked for while one waits joins it and a running crawler is waited
// for and started again. Tables without a crawler are left out.
Result<std::function<Status(const PublishedTable&)>> glue_crawler_publisher(const Config& config) {
  auto options = glue_catalog_options(config);
  if (!options) return std::move(options).error();
  options->iceberg_targets = true;
  for (const auto& table : options->tables)
    if (!options->crawlers.contains(table) && options->create && options->crawler_role.empty())
      return make_error(Errc::invalid_argument,
                        "ETL_GLUE_ICEBERG_REGISTRATION=crawler creates a Glue crawler with an Iceberg target for " + table +
                            ": set ETL_GLUE_CRAWLER_ROLE to the IAM role it runs as (or name existing crawlers in "
                            "ETL_GLUE_CRAWLERS)");
  const std::set<std::string> tables(options->tables.begin(), options->tables.end());
  auto opened = GlueCatalog::open(config.aws, std::move(options).value());
  if (!opened) return std::move(opened).error();
  std::shared_ptr<GlueCatalog> crawlers = std::move(opened).value();
  crawlers->start();  // stopped when the last copy of the hook goes, with the catalog
  return std::function<Status(const PublishedTable&)>([crawlers, tables](const PublishedTable& table) -> Status {
    if (!tables.contains(table.table)) return {};
    CrawlRequest request;
    request.tables = {table.table};
    request.trigger = "events";  // a crawler found running is started again once it ends
    auto queued = crawlers->start_crawl(request);
    if (!queued) return Error{queued.error().code, "Glue crawler: " + queued.error().message};
    return {};
  });
}

// ETL_CATALOG=glue with ETL_TABLE_FORMAT=iceberg: the built-in catalog commits the
// Iceberg tables and each commit is registered in the Glue Data Catalog at once
// (aws/glue_iceberg.h), where Athena finds it; no crawler runs. Or, with
// ETL_GLUE_ICEBERG_REGISTRATION=crawler, the table's crawler registers it.
Result<std::shared_ptr<Catalog>> open_glue_iceberg_catalog(const BackendContext& context) {
  const Config& config = context.config;
  if (!config.transformed_url.starts_with("s3://"))
    return make_error(Errc::invalid_argument, "ETL_CATALOG=glue needs ETL_TRANSFORMED_URL=s3://bucket[/prefix] (Athena "
                                              "reads the tables from S3), got '" + config.transformed_url + "'");
  if (config.glue.iceberg_registration == "crawler") {
    auto publish = glue_crawler_publisher(config);
    if (!publish) return std::move(publish).error();
    return open_local_catalog(context, std::move(publish).value(), "glue");
  }
  GlueRegistrarOptions options;
  options.database = config.glue_database;
  options.create_database = config.glue.create;
  auto opened = GlueIcebergRegistrar::open(config.aws, std::move(options));
  if (!opened) return std::move(opened).error();
  std::shared_ptr<GlueIcebergRegistrar> glue = std::move(opened).value();
  auto publish = [glue](const PublishedTable& table) -> Status {
    auto registered = glue->register_table({table.table, table.metadata_location, table.metadata});
    if (!registered) return Error{registered.error().code, "Glue registration: " + registered.error().message};
    return {};
  };
  return open_local_catalog(context, std::move(publish), "glue");
}

Result<std::shared_ptr<Catalog>> open_glue_catalog(const BackendContext& context) {
  auto options = glue_catalog_options(context.config);
  if (!options) return std::move(options).error();
  auto glue = GlueCatalog::open(context.config.aws, std::move(options).value());
  if (!glue) return std::move(glue).error();
  return std::shared_ptr<Catalog>(std::move(glue).value());
}

Result<std::shared_ptr<QueryEngine>> open_duckdb_engine(const BackendContext& context, std::shared_ptr<Catalog> catalog) {
  auto files = catalog->table_files();
  if (!files || catalog->name() != "local")
    return make_error(Errc::invalid_argument, "ETL_QUERY_ENGINE=duckdb reads the files of the built-in catalog "
                                              "(ETL_CATALOG=local); with ETL_CATALOG=" + catalog->name() +
                                              " use ETL_QUERY_ENGINE=athena");
  const Config& config = context.config;
  DuckDbEngineOptions engine_options;
  engine_options.files = *files;
  if (auto tables = catalog->list_tables())  // with the three the transformer writes (the default)
    for (const auto& table : *tables)
      if (std::find(engine_options.tables.begin(), engine_options.tables.end(), table.name) ==
          engine_options.tables.end())
        engine_options.tables.push_back(table.name);
  engine_options.database = config.glue_database;
  engine_options.threads = context.duckdb_threads;
  std::uint64_t memory = engine_memory_limit(config.query_memory_limit, cgroup_memory_limit());
  engine_options.memory_limit = std::to_string(memory) + "B";
  engine_options.data_dir = config.query_data_dir;
  engine_options.max_temp_bytes = config.query_max_temp_bytes;
  engine_options.resident_bytes = resident_budget(config.query_resident_bytes, memory);
  engine_options.postgres_connections = config.query_workers + 1;  // a session each, and one to spare
  engine_options.s3_metadata_cache =
      config.query_s3_metadata_cache && config.table_format == "iceberg" && engine_options.files.remote();
  // In a process of its own when this program can start one (a test binary cannot: in-process).
  const std::filesystem::path program = query_engine_host_program();
  const bool isolated = config.query_isolation == "process" && !program.empty();
  std::uint64_t cap = 0;
  if (isolated) {
    auto bound = engine_process_memory(config.query_process_memory, memory);
    if (!bound) return std::move(bound).error();
    cap = *bound;
  }
  log::info("query engine limits", {{"memory_limit_bytes", memory}, {"max_temp_bytes", config.query_max_temp_bytes},
                                    {"resident_bytes", engine_options.resident_bytes},
                                    {"workers", config.query_workers}, {"max_queued", config.query_max_queued},
                                    {"s3_metadata_cache", engine_options.s3_metadata_cache},
                                    {"isolation", isolated ? "process" : "none"}, {"process_memory_bytes", cap},
                                    {"process_waits_ms", {{"start", config.query_process_start_timeout.count()},
                                                          {"sync", config.query_process_sync_timeout.count()},
                                                          {"reply", config.query_process_reply_timeout.count()}}}});
  std::unique_ptr<SqlEngine> engine;
  if (isolated) {
    EngineProcessOptions process;
    process.engine = std::move(engine_options);
    process.memory_cap = cap;
    process.program = program;
    process.log_level = config.log_level;
    process.log_format = config.log_format;
    process.start_timeout = config.query_process_start_timeout;
    process.sync_timeout = config.query_process_sync_timeout;
    process.reply_timeout = config.query_process_reply_timeout;
    auto opened = EngineProcess::open(std::move(process), context.gate_verdicts, context.metrics);
    if (!opened) return std::move(opened).error();
    engine = std::move(opened).value();
  } else {
    auto opened = DuckDbEngine::open(std::move(engine_options), context.gate_verdicts);
    if (!opened) return std::move(opened).error();
    engine = std::move(opened).value();
  }
  QueryManagerOptions queries = context.queries;
  queries.kill_grace = config.query_kill_grace;
  queries.workers = static_cast<std::size_t>(config.query_workers);
  queries.max_queued = static_cast<std::size_t>(config.query_max_queued);
  queries.max_timeout = config.query_max_timeout;
  queries.results.max_bytes = config.query_results_max_bytes;
  queries.results.ttl = config.query_results_ttl;
  if (auto* local = dynamic_cast<LocalCatalog*>(catalog.get()); local && local->iceberg())
    queries.pins = [tables = local->iceberg()](const std::string& table, const AsOf& as_of) {
      return iceberg::pin_table(*tables, table, as_of);
    };
  std::string root_url = "file://" + files->root();
  if (!context.store->local_path("")) {
    root_url = context.config.transformed_url;
    while (root_url.size() > 1 && root_url.back() == '/') root_url.pop_back();
  }
  return std::shared_ptr<QueryEngine>(std::make_shared<QueryManager>(std::move(catalog), std::move(engine),
                                                                     context.store, root_url, queries, context.metrics));
}

Result<std::shared_ptr<QueryEngine>> open_athena_engine(const BackendContext& context, std::shared_ptr<Catalog> catalog) {
  if (catalog->name() != "glue")
    return make_error(Errc::invalid_argument, "ETL_QUERY_ENGINE=athena reads the Glue Data Catalog (ETL_CATALOG=glue); "
                                              "with ETL_CATALOG=" + catalog->name() + " use ETL_QUERY_ENGINE=duckdb");
  AthenaEngineOptions options;
  options.database = context.config.glue_database;
  options.workgroup = context.config.athena_workgroup;
  options.output_location = context.config.athena_output;
  auto athena = AthenaEngine::open(context.config.aws, options, std::move(catalog));
  if (!athena) return std::move(athena).error();
  return std::shared_ptr<QueryEngine>(std::move(athena).value());
}

}  // namespace

Status check_backend_pair(const Config& config) {
  if (config.query_engine == "duckdb" && config.catalog != "local")
    return make_error(Errc::invalid_argument, "ETL_QUERY_ENGINE=duckdb reads the files of the built-in catalog "
                                              "(ETL_CATALOG=local); with ETL_CATALOG=" + config.catalog +
                                              " use ETL_QUERY_ENGINE=athena");
  if (config.query_engine == "athena" && config.catalog != "glue")
    return make_error(Errc::invalid_argument, "ETL_QUERY_ENGINE=athena reads the Glue Data Catalog (ETL_CATALOG=glue); "
                                              "with ETL_CATALOG=" + config.catalog + " use ETL_QUERY_ENGINE=duckdb");
  return {};
}

Result<std::shared_ptr<Catalog>> open_catalog(const BackendContext& context) {
  const std::string& name = context.config.catalog;
  if (name == "local") return open_local_catalog(context);
  if (name == "glue")
    return context.config.table_format == "iceberg" ? open_glue_iceberg_catalog(context) : open_glue_catalog(context);
  return make_error(Errc::invalid_argument, "ETL_CATALOG must be local or glue, got '" + name + "'");
}

Result<std::shared_ptr<QueryEngine>> open_query_engine(const BackendContext& context, std::shared_ptr<Catalog> catalog) {
  const std::string& name = context.config.query_engine;
  if (name == "duckdb") return open_duckdb_engine(context, std::move(catalog));
  if (name == "athena") return open_athena_engine(context, std::move(catalog));
  return make_error(Errc::invalid_argument, "ETL_QUERY_ENGINE must be duckdb or athena, got '" + name + "'");
}

}  // namespace etl::cataloger
