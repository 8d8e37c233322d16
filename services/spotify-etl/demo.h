// `spotify-etl demo`: everything embedded, the offline Spotify sample served on
// loopback, one run triggered through the HTTP API, and a short report.
#pragma once

#include <string>

#include "etl/config.h"

namespace etl::app {

struct DemoOptions {
  bool once = false;        // exit after the report instead of serving until Ctrl-C
  bool user_set_raw = false;          // ETL_RAW_URL was given: use it, never wipe it
  bool user_set_transformed = false;  // ETL_TRANSFORMED_URL was given
  std::string program = "spotify-etl";  // as the user called it (argv[0]): the report's command lines use it
};

int run_demo(Config config, const DemoOptions& options);

}  // namespace etl::app
