// `spotify-etl migrate`: the transformed store's Hive-layout tables (Parquet folders
// `<table>/dt=<date>/`) become Iceberg v2 tables in place, in one command: one full
// crawl of the built-in catalog with ETL_TABLE_FORMAT=iceberg commits every Parquet
// file of each table (the files stay where they are; only `<table>/metadata/` is
// written), then a report per table. Running it again commits only what changed.
#pragma once

#include "etl/config.h"

namespace etl::app {

// Returns the process exit code (0: every table committed; 1: the crawl failed;
// 2: the configuration cannot be migrated).
int run_migrate(Config config);

}  // namespace etl::app
