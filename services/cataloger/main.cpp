// The cataloger binary: configuration, then the service, via run_program.
#include "cataloger_service.h"
#include "engine_process.h"
#include "etl/service_main.h"

int main(int argc, char** argv) {
  // The query engine process (ETL_QUERY_ISOLATION=process) is this program too.
  if (auto code = etl::cataloger::run_query_engine_host_if_asked(argc, argv)) return *code;
  etl::Program program;
  program.name = "cataloger";
  program.summary = "built-in crawler + catalog and read-only SQL (DuckDB) over the transformed tables";
  program.help =
      "Environment: ETL_CATALOGER_ADDR (default 127.0.0.1:8083), ETL_TRANSFORMED_URL, ETL_GLUE_DATABASE,\n"
      "ETL_CATALOG (local), ETL_QUERY_ENGINE (duckdb), ETL_API_TOKEN, ETL_BUS / ETL_KAFKA_*,\n"
      "ETL_TOPIC_TRANSFORMED, ETL_TOPIC_DLQ, ETL_LOG_LEVEL, ETL_LOG_FORMAT.\n"
      "API: POST /v1/crawl, GET /v1/crawls/{id}, GET /v1/tables[/{name}], POST /v1/query,\n"
      "GET|DELETE /v1/query/{id}; /healthz /readyz /metrics /openapi.json.\n"
      "PostgreSQL wire protocol on ETL_PG_ADDR (default 127.0.0.1:5432, off to disable; password = ETL_API_TOKEN).\n"
      "Every variable (the query engine's, Iceberg's, Glue's and Athena's too), with its default and range:\n"
      "docs/contract.md §3; see also services/cataloger/README.md.";
  program.make = [](const etl::Config& config) -> etl::Result<std::unique_ptr<etl::Runnable>> {
    auto service = etl::cataloger::CatalogerService::create(config);
    if (!service) return std::move(service).error();
    return std::unique_ptr<etl::Runnable>(std::move(service).value());
  };
  return etl::run_program(program, argc, argv);
}
