// GET /v1/pipeline/runs: the newest run records' outcomes (RunSummaries), for the
// dashboard's pipeline-health section. Read-only; same bearer token as /v1.
#pragma once

#include "etl/http_server.h"
#include "runs/run_summaries.h"

namespace etl::cataloger {

inline constexpr std::size_t kDefaultRunsLimit = 20;
inline constexpr std::size_t kMaxRunsLimit = 100;

// `runs` nullptr (the raw store could not be opened): 503 with the reason `why`.
void install_run_routes(http::Server& server, RunSummaries* runs, std::string why);

}  // namespace etl::cataloger
