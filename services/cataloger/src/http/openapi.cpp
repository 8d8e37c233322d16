// The OpenAPI 3 document of the cataloger's own endpoints.
#include "routes.h"

namespace etl::cataloger {

nlohmann::json openapi_spec() {
  using nlohmann::json;
  auto doc = http::openapi_document("cataloger",
                                    "Built-in crawler + catalog (Glue's place) and read-only SQL on embedded DuckDB "
                                    "(Athena's place) over the transformed tables.");
  auto problem = [](const char* what) {
    return json{{"description", what},
                {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
  };
  auto ok = [](const char* what, const char* schema) {
    return json{{"description", what}, {"content", {{"application/json", {{"schema", {{"$ref", std::string("#/components/schemas/") + schema}}}}}}}};
  };
  auto id_param = [](const char* name) {
    return json::array({{{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}});
  };
  // The rules of parse_query_request and parse_crawl_request
  // (tests/unit/cataloger/openapi_rules_test.cpp checks both agree).
  const json crawl_request = {
      {"type", "object"},
      {"properties",
       {{"tables", {{"type", json::array({"array", "null"})}, {"items", {{"type", "string"}}}}},
        {"full", {{"type", json::array({"boolean", "null"})}}}}}};
  auto& schemas = doc["components"]["schemas"];
  schemas["Column"] = {{"type", "object"}, {"properties", {{"name", {{"type", "string"}}}, {"type", {{"type", "string"}}}}}};
  schemas["Table"] = {{"type", "object"},
                      {"properties",
                       {{"name", {{"type", "string"}}},
                        {"database", {{"type", "string"}}},
                        {"location", {{"type", "string"}}},
                        {"format", {{"type", "string"}, {"enum", {"parquet", "csv", "jsonl", "mixed"}}}},
                        {"columns", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Column"}}}}},
                        {"partition_keys", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                        {"partitions", {{"type", "integer"}}},
                        {"version", {{"type", "integer"}}},
                        {"data_version", {{"type", "integer"}}},
                        {"updated_at", {{"type", "string"}, {"format", "date-time"}}}}}};
  schemas["Crawl"] = {{"type", "object"},
                      {"properties",
                       {{"crawl_id", {{"type", "string"}}},
                        {"state", {{"type", "string"}, {"enum", {"RUNNING", "SUCCEEDED", "FAILED"}}}},
                        {"tables", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                        {"partitions_added", {{"type", "integer"}}},
                        {"files_inspected", {{"type", "integer"}}},
                        {"schema_changes", {{"type", "array"}, {"items", {{"type", "object"}}}}},
                        {"started_at", {{"type", "string"}}},
                        {"finished_at", {{"type", "string"}, {"nullable", true}}}}}};
  schemas["QueryRequest"] = {{"type", "object"},
                             {"required", {"sql"}},
                             {"properties",
                              {{"sql", {{"type", "string"}, {"pattern", "[^ \t\r\n]"}, {"description", "one read-only statement"}}},
                               {"max_rows", {{"type", json::array({"integer", "null"})}, {"minimum", 1}, {"maximum", 1000}, {"default", 1000}}},
                               {"timeout_ms", {{"type", json::array({"integer", "null"})}, {"minimum", 1}, {"maximum", 3600000}, {"default", 30000}}},
                               {"max_age_s", {{"type", json::array({"integer", "null"})}, {"minimum", 0}, {"maximum", 604800},
                                              {"description", "reuse a cached result up to N s old"}}},
                               {"async", {{"type", json::array({"boolean", "null"})}, {"description", "answer 202 at once; poll GET /v1/query/{id}"}}}}}};
  schemas["QueryPage"] = {{"type", "object"},
                          {"properties",
                           {{"query_id", {{"type", "string"}}},
                            {"engine", {{"type", "string"}}},
                            {"state", {{"type", "string"}}},
                            {"columns", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Column"}}}}},
                            {"rows", {{"type", "array"}, {"items", {{"type", "array"}, {"items", json::object()}}}}},
                            {"next_token", {{"type", "string"}, {"nullable", true}}},
                            {"stats", {{"type", "object"}}},
                            {"result_location", {{"type", "string"}, {"nullable", true}}}}}};
  auto& paths = doc["paths"];
  paths["/v1/crawl"]["post"] = {{"summary", "Crawl now (all tables, or the ones named)"},
                                                                {"requestBody", {{"required", false}, {"content", {{"application/json", {{"schema", crawl_request}}}}}}},
                                {"responses", {{"202", ok("crawl started", "Crawl")}, {"400", problem("unknown table")}}}};
  paths["/v1/crawls/{crawl_id}"]["get"] = {{"summary", "A crawl's state"},                                            {"parameters", id_param("crawl_id")},
                                           {"responses", {{"200", ok("crawl", "Crawl")}, {"404", problem("unknown crawl")}}}};
  paths["/v1/tables"]["get"] = {{"summary", "Every table"},                                 {"responses", {{"200", {{"description", "{\"tables\":[Table]}"}}}}}};
  paths["/v1/tables/{name}"]["get"] = {{"summary", "One table"}, {"parameters", id_param("name")},
                                       {"responses", {{"200", ok("table", "Table")}, {"404", problem("unknown table")}}}};
  paths["/v1/tables/{name}/partitions"]["get"] = {{"summary", "A table's partitions and files"},                                                   {"parameters", id_param("name")},
                                                  {"responses", {{"200", {{"description", "partitions"}}}, {"404", problem("unknown table")}}}};
  paths["/v1/query"]["post"] = {
      {"summary", "Run read-only SQL (SELECT / WITH / SHOW / DESCRIBE / EXPLAIN)"},
            {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/QueryRequest"}}}}}}}}},
      {"responses", {{"200", ok("first page (Accept: text/csv for CSV)", "QueryPage")},
                     {"202", {{"description", "async: started"}}},
                     {"400", problem("refused or invalid SQL")},
                     {"409", problem("cancelled")},
                     {"504", problem("timeout")}}}};
  paths["/v1/query/{query_id}"]["get"] = {
      {"summary", "State, first page, or the page of ?next_token="},
            {"parameters", id_param("query_id")},
      {"responses", {{"200", ok("state or page", "QueryPage")}, {"400", problem("bad token")}, {"404", problem("unknown query or expired result")}}}};
  paths["/v1/query/{query_id}"]["delete"] = {{"summary", "Cancel"}, {"parameters", id_param("query_id")},
                                             {"responses", {{"200", {{"description", "state"}}}, {"404", problem("unknown query")}}}};
  paths["/v1/pipeline/runs"]["get"] = {
      {"summary", "The newest runs' outcomes, from the extractor's run records (runs/ in the raw store)"},
      {"parameters", json::array({{{"name", "limit"}, {"in", "query"}, {"required", false},
                                   {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 20}}}}})},
      {"responses", {{"200", {{"description", "{\"runs\":[{run_id,status,trigger,created_at,started_at,finished_at,"
                                               "error,sources,sources_failed,objects,items}],\"skipped\":n}"}}},
                     {"400", problem("bad limit")},
                     {"503", problem("the raw store cannot be read")}}}};
  return doc;
}

}  // namespace etl::cataloger
