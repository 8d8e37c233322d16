// The catalog and query-engine backends, chosen by configuration through one
// factory each (ETL_CATALOG, ETL_QUERY_ENGINE). Adding a backend is a folder of
// its own under src/, one line in a factory below, and passing the conformance
// suites (tests/unit/cataloger/catalog_conformance_test.cpp and
// query_engine_conformance_test.cpp) that every backend passes.
#pragma once

#include <memory>
#include <optional>

#include "etl/catalog.h"
#include "etl/config.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "etl/query_engine.h"
#include "query_manager.h"
#include "table_mirror.h"
#include "verdict_cache.h"

namespace etl::cataloger {

// What the backends are built from besides the configuration.
struct BackendContext {
  const Config& config;
  std::shared_ptr<ObjectStore> store;  // the transformed store
  MetricsRegistry& metrics;
  // The mirror of an s3:// store (ETL_CATALOG_READS=mirror); nullopt: Config::catalog_cache.
  std::optional<TableMirrorOptions> cache;
  int duckdb_threads = 2;       // DuckDB worker threads (shared by all queries)
  QueryManagerOptions queries;  // pool size, result memory, CSV location
  VerdictCacheLimits gate_verdicts{};  // the SQL gate's remembered verdicts (verdict_cache.h)
};

// Refuses, before anything is opened, engine and catalog pairs that cannot work
// together (the same rule open_query_engine applies to opened backends).
Status check_backend_pair(const Config& config);

// ETL_CATALOG: local (crawls the store itself, keeping a local copy when it is
// remote) | glue, the store in S3: with ETL_TABLE_FORMAT=iceberg the built-in
// catalog committing Iceberg tables and registering each commit in the Glue Data
// Catalog (its name() is "glue"), with hive Glue crawlers and the Glue Data Catalog.
Result<std::shared_ptr<Catalog>> open_catalog(const BackendContext& context);

// ETL_QUERY_ENGINE: duckdb (reads the catalog's files where they lie on this
// machine, so it needs a catalog with table_files()) | athena (reads the Glue
// catalog, so it needs ETL_CATALOG=glue). invalid_argument for other pairs.
Result<std::shared_ptr<QueryEngine>> open_query_engine(const BackendContext& context, std::shared_ptr<Catalog> catalog);

}  // namespace etl::cataloger
