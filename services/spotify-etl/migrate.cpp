#include "migrate.h"

#include <cstdio>
#include <iostream>

#include "backends.h"
#include "cli.h"
#include "local_catalog.h"
#include "table_report.h"

namespace etl::app {

int run_migrate(Config config) {
  if (config.output_format != OutputFormat::parquet)
    std::fprintf(stderr, "spotify-etl migrate: note: ETL_OUTPUT_FORMAT is not parquet; only Parquet files become "
                 "Iceberg data files (CSV and JSON Lines files are left out)\n");
  config.table_format = "iceberg";
  config.catalog = "local";  // the built-in catalog commits; Glue registration happens when the cataloger runs
  config.query_engine = "duckdb";
  config.iceberg_maintenance_interval = std::chrono::seconds(0);  // no compaction during the migration
  auto store = open_object_store(config.transformed_url, config.aws);
  if (!store) {
    std::fprintf(stderr, "spotify-etl migrate: %s\n", store.error().message.c_str());
    return 2;
  }
  MetricsRegistry metrics;
  cataloger::BackendContext context{config, std::shared_ptr<ObjectStore>(std::move(store).value()), metrics,
                                    std::nullopt, 2, {}};
  auto opened = cataloger::open_catalog(context);
  if (!opened) {
    std::fprintf(stderr, "spotify-etl migrate: %s\n", opened.error().message.c_str());
    return 2;
  }
  auto* local = dynamic_cast<cataloger::LocalCatalog*>(opened->get());
  if (!local || !local->iceberg()) {
    std::fprintf(stderr, "spotify-etl migrate: the built-in catalog did not open with Iceberg tables\n");
    return 2;
  }
  CrawlRequest request;
  request.trigger = "migrate";
  auto crawled = local->crawl(request);
  if (!crawled || crawled->state != CrawlState::succeeded) {
    std::fprintf(stderr, "spotify-etl migrate: the crawl failed: %s\n",
                 crawled ? crawled->error.c_str() : crawled.error().message.c_str());
    return 1;
  }
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> locations;
  for (const auto& table : crawled->tables) {
    auto current = local->iceberg()->current(table);
    if (!current || !*current) {
      rows.push_back({table, "", "", ""});
      locations.push_back(table + ": " + (current ? "no Parquet files" : current.error().message));
      continue;
    }
    const auto report = cataloger::iceberg::report_of((*current)->metadata, local->iceberg()->url_of((*current)->metadata_key));
    auto number = [](const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : std::string(); };
    rows.push_back({table, number(report.current_snapshot_id), number(report.files), number(report.records)});
    locations.push_back(table + ": " + report.metadata_location);
  }
  std::cout << render_table({"table", "snapshot_id", "files", "records"}, rows) << "\nCurrent metadata:\n";
  for (const auto& line : locations) std::cout << "  " << line << "\n";
  return 0;
}

}  // namespace etl::app
