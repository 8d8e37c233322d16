// spotify-etl: the all-in-one host (`up`, `demo`) and a small CLI over the APIs.
#include <cstdio>
#include <string>
#include <vector>

#include "all_in_one.h"
#include "cli.h"
#include "demo.h"
#include "engine_process.h"
#include "etl/log.h"
#include "etl/service_main.h"
#include "migrate.h"

namespace {

constexpr const char* kHelp = R"(spotify-etl )" ETL_VERSION R"( — Spotify to data lake, embedded or distributed

Usage:
  spotify-etl up                      all three services in one process (in-process bus,
                                      folder stores, built-in catalog, DuckDB)
  spotify-etl demo [--once]           `up` + the offline Spotify sample, one run, a report;
                                      serves until Ctrl-C (--once: exit after the report)
  spotify-etl run [--source TYPE:ID ...] [--market CC] [--wait]
                                      trigger an extraction (TYPE: playlist, album,
                                      artist-albums, search)
  spotify-etl runs [--format table|csv|json]
  spotify-etl tables [--format table|csv|json]
  spotify-etl query "SQL" [--format table|csv|json]
  spotify-etl migrate                 make the transformed store's Hive-layout tables Iceberg
                                      tables in place (the files stay; metadata/ is written)
  spotify-etl --help | --version

Configuration comes from the environment (every variable: docs/contract.md §3): service
addresses ETL_EXTRACTOR_ADDR / ETL_TRANSFORMER_ADDR / ETL_CATALOGER_ADDR, ETL_API_TOKEN,
SPOTIFY_CLIENT_ID / SPOTIFY_CLIENT_SECRET, ETL_RAW_URL, ETL_TRANSFORMED_URL, ...
)";

}  // namespace

int main(int argc, char** argv) {
  // The cataloger's query engine process (ETL_QUERY_ISOLATION=process) is this program too.
  if (auto code = etl::cataloger::run_query_engine_host_if_asked(argc, argv)) return *code;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kHelp, stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("spotify-etl %s\n", ETL_VERSION);
    return 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());

  etl::Environment env = etl::process_env();
  if (command == "up") {
    etl::Program program;
    program.name = "spotify-etl";
    program.summary = "all three services in one process";
    program.help = kHelp;
    program.defaults.bus = "memory";
    program.addr_refused = "set ETL_EXTRACTOR_ADDR, ETL_TRANSFORMER_ADDR and ETL_CATALOGER_ADDR";  // three listeners
    program.make = [](const etl::Config& config) -> etl::Result<std::unique_ptr<etl::Runnable>> {
      auto app = etl::app::AllInOne::create(config);
      if (!app) return std::move(app).error();
      return std::unique_ptr<etl::Runnable>(std::move(app).value());
    };
    std::vector<char*> rest{argv[0]};
    for (int i = 2; i < argc; ++i) rest.push_back(argv[i]);
    return etl::run_program(program, static_cast<int>(rest.size()), rest.data());
  }

  auto config = etl::load_config(env, etl::ConfigDefaults{"memory"});
  if (!config) {
    std::fprintf(stderr, "spotify-etl: configuration error: %s\n", config.error().message.c_str());
    return 2;
  }
  if (command == "demo") {
    etl::app::DemoOptions options;
    options.program = argv[0];
    for (const auto& a : args) {
      if (a == "--once") options.once = true;
      else {
        std::fprintf(stderr, "spotify-etl demo: unknown argument '%s'\n", a.c_str());
        return 2;
      }
    }
    options.user_set_raw = etl::env_value(env, "ETL_RAW_URL").has_value();
    options.user_set_transformed = etl::env_value(env, "ETL_TRANSFORMED_URL").has_value();
    // The level goes into the config, not only this logger: the query engine's
    // process takes it from there.
    if (!etl::env_value(env, "ETL_LOG_LEVEL")) config->log_level = "warn";
    etl::log::init("spotify-etl", config->log_level, config->log_format);
    return etl::app::run_demo(*config, options);
  }
  if (command == "migrate") {
    if (!args.empty()) {
      std::fprintf(stderr, "spotify-etl migrate: unknown argument '%s'\n", args[0].c_str());
      return 2;
    }
    if (!etl::env_value(env, "ETL_LOG_LEVEL")) config->log_level = "warn";
    etl::log::init("spotify-etl", config->log_level, config->log_format);
    return etl::app::run_migrate(*config);
  }
  return etl::app::run_cli_command(command, args, *config);
}
