#include "runs/run_routes.h"

#include "etl/http_params.h"

namespace etl::cataloger {

void install_run_routes(http::Server& server, RunSummaries* runs, std::string why) {
  server.get("/v1/pipeline/runs", [runs, why](const http::Request& req) {
    if (!runs) return http::error_response(make_error(Errc::unavailable, "run records unavailable: " + why));
    auto limit = http::count_param(req.query_param("limit"), "limit", kDefaultRunsLimit, 1, kMaxRunsLimit);
    if (!limit) return http::error_response(limit.error());
    auto page = runs->recent(*limit);
    if (!page) return http::error_response(make_error(page.error().code == Errc::internal ? Errc::unavailable
                                                                                         : page.error().code,
                                                      "cannot read the run records: " + page.error().message));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : page->runs) out.push_back(to_json(r));
    return http::json_response(200, {{"runs", out}, {"skipped", page->skipped}, {"source", "runs/ in ETL_RAW_URL"}});
  });
}

}  // namespace etl::cataloger
