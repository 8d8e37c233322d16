// The extractor binary: configuration from the environment, the service, a graceful stop.
#include "etl/service_main.h"
#include "extractor_service.h"

int main(int argc, char** argv) {
  etl::Program program;
  program.name = "extractor";
  program.summary = "extracts Spotify playlists, albums, artist albums and searches into raw objects";
  program.help =
      "Serves POST /v1/runs, GET /v1/runs, GET /v1/runs/{run_id} on ETL_EXTRACTOR_ADDR (default 127.0.0.1:8081).\n"
      "Reads: SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET, SPOTIFY_API_URL, SPOTIFY_ACCOUNTS_URL, SPOTIFY_MARKET,\n"
      "  ETL_SOURCES, ETL_SCHEDULE, ETL_RAW_URL, ETL_BUS, ETL_KAFKA_*, ETL_TOPIC_RAW, ETL_API_TOKEN,\n"
      "  ETL_SEARCH_MAX_RESULTS, ETL_SPOTIFY_MAX_RETRY_AFTER_S, ETL_SPOTIFY_MAX_RETRIES, ETL_SPOTIFY_RATE,\n"
      "  ETL_EXTRACT_PARALLELISM, ETL_MAX_REQUEST_BODY_BYTES, AWS_*, ETL_LOG_LEVEL, ETL_LOG_FORMAT.\n"
      "See docs/contract.md §3 and services/extractor/README.md.";
  program.make = [](const etl::Config& config) -> etl::Result<std::unique_ptr<etl::Runnable>> {
    auto service = etl::extractor::ExtractorService::create(config);
    if (!service) return std::move(service).error();
    return std::unique_ptr<etl::Runnable>(std::move(service).value());
  };
  return etl::run_program(program, argc, argv);
}
