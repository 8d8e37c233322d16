#include "routes.h"

#include "etl/http_params.h"
#include "extractor_service.h"

namespace etl::extractor {

Result<std::size_t> parse_runs_limit(const std::optional<std::string>& text) {
  return http::count_param(text, "limit", kDefaultRunsLimit, 1, kMaxRunsLimit);
}

void install_routes(http::Server& server, ExtractorService& service) {
  server.post("/v1/runs", [&service](const http::Request& req) {
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
  server.get("/v1/runs/{run_id}", [&service](const http::Request& req) {
    auto run = service.get_run(req.params.at(0));
    if (!run) return http::error_response(run.error());
    return http::json_response(200, to_json(*run));
  });
  auto list = [&service](const http::Request& req) {
    auto limit = parse_runs_limit(req.query_param("limit"));
    if (!limit) return http::error_response(limit.error());
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& run : service.list_runs(*limit)) runs.push_back(to_json(run));
    return http::json_response(200, {{"runs", std::move(runs)}});
  };
  server.get("/v1/runs", list);
  server.get("/v1/runs/", list);  // the contract's alias (§7.2)
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

  // The request rules parse_run_request and validate_run_request enforce
  // (tests/unit/extractor/openapi_rules_test.cpp checks both agree).
  const nlohmann::json id_source = {
      {"type", "object"},
      {"required", {"type", "id"}},
      {"properties",
       {{"type", {{"type", "string"}, {"enum", {"playlist", "album", "artist-albums"}}}},
        {"id", {{"type", "string"}, {"pattern", "^[A-Za-z0-9]{22}$"}, {"example", "7kwYwFTY6UeVCDzqOAzRKN"}, {"description", "22-character base62 Spotify id"}}}}}};
  const nlohmann::json query_text = {{"type", "string"}, {"minLength", 1}, {"maxLength", 200}};
  const nlohmann::json search_source = {{"type", "object"},
                                        {"required", {"type", "query"}},
                                        {"properties", {{"type", {{"const", "search"}}}, {"query", query_text}}}};
  const nlohmann::json search_by_id = {{"type", "object"},
                                       {"required", {"type", "id"}},
                                       {"properties", {{"type", {{"const", "search"}}}, {"id", query_text}}}};
  doc["paths"]["/v1/runs"]["post"] = {
      {"summary", "Start a run (body optional: without sources, ETL_SOURCES)"},
      {"requestBody",
       {{"required", false},
        {"content",
         {{"application/json",
           {{"schema",
             {{"type", "object"},
              {"properties",
               {{"sources",
                 {{"type", nlohmann::json::array({"array", "null"})},
                  {"maxItems", static_cast<int>(kMaxSourcesPerRun)},
                  {"description", "each source once (two sources landing under one object key are refused)"},
                  {"items", {{"anyOf", {id_source, search_source, search_by_id}}}}}},
                {"market", {{"type", nlohmann::json::array({"string", "null"})}, {"pattern", "^([A-Za-z]{2})?$"}, {"description", "an assigned ISO 3166-1 alpha-2 country code (or XK, Kosovo), any case; empty: SPOTIFY_MARKET"}, {"example", "US"}}}}}}}}}}}}},
      {"responses",
       {{"202", json_body("Accepted; Location names the run",
                          {{"type", "object"},
                           {"properties", {{"run_id", {{"type", "string"}}}, {"status", {{"type", "string"}}}}}})},
        {"400", problem("Invalid body, source or market; no sources at all")},
        {"409", problem("Too many runs queued")},
        {"503", problem("Raw store unavailable or shutting down")}}}};
  doc["paths"]["/v1/runs"]["get"] = {
      {"summary", "Recent runs, newest first"},
      {"parameters",
       {{{"name", "limit"}, {"in", "query"}, {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", static_cast<int>(kMaxRunsLimit)}, {"default", static_cast<int>(kDefaultRunsLimit)}}}}}},
      {"responses",
       {{"200", json_body("Runs", {{"type", "object"}, {"properties", {{"runs", {{"type", "array"}, {"items", ref_run}}}}}})},
        {"400", problem("Bad limit")}}}};
  doc["paths"]["/v1/runs/{run_id}"]["get"] = {
      {"summary", "One run and its sources"},
      {"parameters", {{{"name", "run_id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
      {"responses",
       {{"200", json_body("The run", ref_run)}, {"404", problem("Unknown run id")}}}};
  return doc;
}

}  // namespace etl::extractor
