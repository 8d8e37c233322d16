#include "runs/run_routes.h"

#include <charconv>

namespace etl::cataloger {

void install_run_routes(http::Server& server, RunSummaries* runs, std::string why) {
  server.get("/v1/pipeline/runs", [runs, why](const http::Request& req) {
    if (!runs) return http::error_response(make_error(Errc::unavailable, "run records unavailable: " + why));
    std::size_t limit = kDefaultRunsLimit;
    if (auto text = req.query_param("limit"); text && !text->empty()) {
      auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
      if (ec != std::errc{} || p != text->data() + text->size() || limit < 1 || limit > 100)
        return http::error_response(make_error(Errc::invalid_argument, "limit must be an integer from 1 to 100"));
    }
    auto page = runs->recent(limit);
    if (!page) return http::error_response(make_error(page.error().code == Errc::internal ? Errc::unavailable
                                                                                         : page.error().code,
                                                      "cannot read the run records: " + page.error().message));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : page->runs) out.push_back(to_json(r));
    return http::json_response(200, {{"runs", out}, {"skipped", page->skipped}, {"source", "runs/ in ETL_RAW_URL"}});
  });
}

}  // namespace etl::cataloger
