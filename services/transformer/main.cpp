// The transformer binary: configuration, then the service. Nothing else.
#include "etl/service_main.h"
#include "transformer_service.h"

int main(int argc, char** argv) {
  etl::Program program;
  program.name = "transformer";
  program.summary = "turns raw Spotify objects into Hive-partitioned albums_data, artists_data and songs_data";
  program.help =
      "Consumes ETL_TOPIC_RAW (group spotify-etl-transformer), reads ETL_RAW_URL/to_be_processed/,\n"
      "writes ETL_TRANSFORMED_URL/<table>/dt=YYYY-MM-DD/ in ETL_OUTPUT_FORMAT (parquet|csv|jsonl),\n"
      "moves raw objects to processed/, announces outputs on ETL_TOPIC_TRANSFORMED; poison objects\n"
      "go to ETL_TOPIC_DLQ. On start it transforms whatever waits in to_be_processed/.\n\n"
      "Variables: ETL_TRANSFORMER_ADDR (default 127.0.0.1:8082), ETL_API_TOKEN, ETL_RAW_URL,\n"
      "ETL_TRANSFORMED_URL, ETL_OUTPUT_FORMAT, ETL_MAX_RAW_OBJECT_BYTES, ETL_BUS (memory|kafka),\n"
      "ETL_KAFKA_BOOTSTRAP_SERVERS, ETL_KAFKA_*, ETL_TOPIC_RAW, ETL_TOPIC_TRANSFORMED, ETL_TOPIC_DLQ,\n"
      "AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL(_S3),\n"
      "ETL_LOG_LEVEL, ETL_LOG_FORMAT; the window and batches: ETL_TRANSFORM_WINDOW(_BYTES),\n"
      "ETL_TRANSFORM_BATCH_*, ETL_TRANSFORM_CONCURRENCY; the tables: ETL_TABLE_FORMAT.\n"
      "Every variable, with its default and range: docs/contract.md §3.\n\n"
      "HTTP: POST /v1/transform, POST /v1/reprocess, GET /v1/jobs/{id}, GET /v1/status,\n"
      "/healthz, /readyz, /metrics, /openapi.json.";
  program.make = [](const etl::Config& config) -> etl::Result<std::unique_ptr<etl::Runnable>> {
    auto service = etl::transformer::TransformerService::create(config);
    if (!service) return std::move(service).error();
    return std::unique_ptr<etl::Runnable>(std::move(service).value());
  };
  return etl::run_program(program, argc, argv);
}
