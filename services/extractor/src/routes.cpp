#include "routes.h"

#include <charconv>

#include "extractor_service.h"

namespace etl::extractor {

Result<std::size_t> parse_runs_limit(const std::optional<std::string>& text) {
  if (!text) return kDefaultRunsLimit;
  std::size_t limit = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (text->empty() || ec != std::errc{} || end != text->data() + text->size() || limit < 1 || limit > kMaxRunsLimit)
    return make_error(Errc::invalid_argument, "limit must be a whole number from 1 to " + std::to_string(kMaxRunsLimit) +
                                                  ", got '" + *text + "'");
  return limit;
}

void install_routes(http::Server& server, ExtractorService& service) {
  server.post(R"(/v1/runs)", [&service](const http::Request& req) {
    auto body = http::parse_json_object(req);
    if (!body) return http::error_response(body.error());
    auto request = parse_run_request(*body);
    if (!request) return http::error_response(request.error());
    request->trigger = "api";
    auto run = service.submit_run(*request);
    if (!run) return http::error_response(run.error());
    auto response = http::json_response(202, {{"run_id", run->run_id}, {"status", to_string(run->status)}});
    response.headers.emplace_back("Location", "/v1/runs/" + run->run_id);
    return response;
  });
  server.get(R"(/v1/runs/([^/]+))", [&service](const http::Request& req) {
    auto run = service.get_run(req.params.at(0));
    if (!run) return http::error_response(run.error());
    return http::json_response(200, to_json(*run));
  });
  server.get(R"(/v1/runs/?)", [&service](const http::Request& req) {
    auto limit = parse_runs_limit(req.query_param("limit"));
    if (!limit) return http::error_response(limit.error());
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& run : service.list_runs(*limit)) runs.push_back(to_json(run));
    return http::json_response(200, {{"runs", std::move(runs)}});
  });
}

nlohmann::json extractor_openapi() {
  auto doc = http::openapi_document("extractor",
                                    "Extracts Spotify playlists, albums, artist albums and searches into raw objects "
                                    "(to_be_processed/) and announces each with an S3 event on the raw topic.");
  auto problem = [](const char* what) {
    return nlohmann::json{{"description", what},
                          {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
  };
  auto json_body = [](const char* what, nlohmann::json schema) {
    return nlohmann::json{{"description", what}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
  };
  nlohmann::json source = {
      {"type", "object"},
      {"properties",
       {{"type", {{"type", "string"}, {"enum", {"playlist", "album", "artist-albums", "search"}}}},
        {"id", {{"type", "string"}, {"description", "22-character base62 Spotify id (search: the slugged query)"}}},
        {"query", {{"type", "string"}, {"description", "search only"}}},
        {"status", {{"type", "string"}, {"enum", {"queued", "running", "succeeded", "failed"}}}},
        {"pages", {{"type", "integer"}}},
        {"items", {{"type", "integer"}}},
        {"object_key", {{"type", "string"}, {"nullable", true}}},
        {"endpoint", {{"type", "string"}, {"nullable", true}}},
        {"error", {{"type", "string"}, {"nullable", true}}}}}};
  nlohmann::json run = {
      {"type", "object"},
      {"properties",
       {{"run_id", {{"type", "string"}}},
        {"status", {{"type", "string"}, {"enum", {"queued", "running", "succeeded", "partial", "failed"}}}},
        {"trigger", {{"type", "string"}, {"enum", {"api", "schedule"}}}},
        {"market", {{"type", "string"}, {"nullable", true}}},
        {"created_at", {{"type", "string"}, {"format", "date-time"}}},
        {"started_at", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}},
        {"finished_at", {{"type", "string"}, {"format", "date-time"}, {"nullable", true}}},
        {"error", {{"type", "string"}, {"nullable", true}}},
        {"sources", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/RunSource"}}}}}}}};
  doc["components"]["schemas"]["RunSource"] = source;
  doc["components"]["schemas"]["Run"] = run;
  nlohmann::json ref_run = {{"$ref", "#/components/schemas/Run"}};
  nlohmann::json security = nlohmann::json::array({{{"bearer", nlohmann::json::array()}}});

  doc["paths"]["/v1/runs"]["post"] = {
      {"summary", "Start a run (body optional: without sources, ETL_SOURCES)"},
      {"security", security},
      {"requestBody",
       {{"required", false},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"properties",
               {{"sources",
                 {{"type", "array"},
                  {"items",
                   {{"type", "object"},
                    {"required", {"type"}},
                    {"properties",
                     {{"type", {{"type", "string"}, {"enum", {"playlist", "album", "artist-albums", "search"}}}},
                      {"id", {{"type", "string"}}},
                      {"query", {{"type", "string"}}}}}}}}},
                {"market", {{"type", "string"}, {"example", "US"}}}}}}}}}}}}},
      {"responses",
       {{"202", json_body("Accepted; Location names the run",
                          {{"type", "object"},
                           {"properties", {{"run_id", {{"type", "string"}}}, {"status", {{"type", "string"}}}}}})},
        {"400", problem("Invalid body, source or market; no sources at all")},
        {"401", problem("Missing or wrong bearer token")},
        {"409", problem("Too many runs queued")},
        {"413", problem("Body over the limit")},
        {"503", problem("Raw store unavailable or shutting down")}}}};
  doc["paths"]["/v1/runs"]["get"] = {
      {"summary", "Recent runs, newest first"},
      {"security", security},
      {"parameters",
       {{{"name", "limit"}, {"in", "query"}, {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 20}}}}}},
      {"responses",
       {{"200", json_body("Runs", {{"type", "object"}, {"properties", {{"runs", {{"type", "array"}, {"items", ref_run}}}}}})},
        {"400", problem("Bad limit")},
        {"401", problem("Missing or wrong bearer token")}}}};
  doc["paths"]["/v1/runs/{run_id}"]["get"] = {
      {"summary", "One run and its sources"},
      {"security", security},
      {"parameters", {{{"name", "run_id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
      {"responses",
       {{"200", json_body("The run", ref_run)},
        {"401", problem("Missing or wrong bearer token")},
        {"404", problem("Unknown run id")}}}};
  return doc;
}

}  // namespace etl::extractor
