// The extractor's HTTP endpoints: thin handlers over ExtractorService, and the
// OpenAPI document describing them.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "etl/http_server.h"

namespace etl::extractor {

class ExtractorService;

inline constexpr std::size_t kDefaultRunsLimit = 20;
inline constexpr std::size_t kMaxRunsLimit = 1000;

// `?limit=` of GET /v1/runs: absent -> 20; a whole number 1..1000, else invalid_argument.
Result<std::size_t> parse_runs_limit(const std::optional<std::string>& text);

void install_routes(http::Server& server, ExtractorService& service);
nlohmann::json extractor_openapi();

}  // namespace etl::extractor
