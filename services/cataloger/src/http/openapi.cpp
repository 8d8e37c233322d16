// The OpenAPI 3 document of the cataloger's own endpoints.
#include <limits>

#include "routes.h"
#include "runs/run_routes.h"

namespace etl::cataloger {
namespace {

// The read-only Iceberg REST catalog (iceberg_routes.cpp): Iceberg's own shapes,
// failures as its ErrorModel in application/json.
void add_iceberg_paths(nlohmann::json& doc) {
  using nlohmann::json;
  auto& schemas = doc["components"]["schemas"];
  schemas["IcebergErrorResponse"] = {
      {"type", "object"},
      {"required", {"error"}},
      {"properties",
       {{"error",
         {{"type", "object"},
          {"required", {"message", "type", "code"}},
          {"properties", {{"message", {{"type", "string"}}}, {"type", {{"type", "string"}}}, {"code", {{"type", "integer"}}}}}}}}}};
  auto ok = [](const char* what, json schema) {
    return json{{"description", what}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
  };
  auto error = [](const char* what) {
    return json{{"description", what},
                {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/IcebergErrorResponse"}}}}}}}};
  };
  // A namespace or table unknown to the catalog answers the ErrorModel; a path the
  // server cannot route at all (an empty segment) answers problem+json.
  auto not_found = [](const char* what) {
    return json{{"description", what},
                {"content",
                 {{"application/json", {{"schema", {{"$ref", "#/components/schemas/IcebergErrorResponse"}}}}},
                  {"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
  };
  const json no_content = {{"description", "exists"}};
  const json object = {{"type", "object"}};
  auto path_param = [](const char* name, const char* what) {
    return json{{"name", name}, {"in", "path"}, {"required", true}, {"description", what},
                {"schema", {{"type", "string"}, {"minLength", 1}}}};
  };
  const json ns = path_param("namespace", "the database (levels separated by %1F; there is one level)");
  const json table = path_param("table", "a table name");
  auto query_param = [](const char* name, const char* what) {
    return json{{"name", name}, {"in", "query"}, {"required", false}, {"description", what}, {"schema", {{"type", "string"}}}};
  };
  auto refused = [&](const char* summary, bool body) {
    json op = {{"summary", summary}, {"responses", {{"403", error("read-only: the cataloger commits these tables")}}}};
    if (body) op["requestBody"] = {{"required", false}, {"content", {{"application/json", {{"schema", object}}}}}};
    return op;
  };
  const json level_list = {{"type", "array"}, {"items", {{"type", "string"}}}};  // a namespace: its levels
  const json identifier = {{"type", "object"}, {"properties", {{"namespace", level_list}, {"name", {{"type", "string"}}}}}};
  const json page_params = json::array(
      {{{"name", "pageToken"}, {"in", "query"}, {"required", false},
        {"description", "the next-page-token of the previous page (empty: the first page)"},
        {"schema", {{"type", "string"}, {"pattern", "^[0-9]{0,10}$"}}}},
       {{"name", "pageSize"}, {"in", "query"}, {"required", false}, {"description", "items per page (default: all, up to 1000)"},
        {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", static_cast<int>(iceberg::kMaxPageSize)}}}}});
  const json next_page = {{"type", json::array({"string", "null"})}};

  auto& paths = doc["paths"];
  paths["/iceberg/v1/config"]["get"] = {
      {"summary", "Iceberg REST: catalog configuration (none)"},
      {"parameters", json::array({query_param("warehouse", "accepted and ignored")})},
      {"responses", {{"200", ok("{\"defaults\":{},\"overrides\":{},\"endpoints\":[...]}",
                                {{"type", "object"},
                                 {"properties", {{"defaults", object}, {"overrides", object},
                                                 {"endpoints", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}})}}}};
  paths["/iceberg/v1/namespaces"]["get"] = {
      {"summary", "Iceberg REST: the namespaces (the database)"},
      {"parameters", [&] {
         json params = page_params;
         params.push_back(query_param("parent", "namespaces are not nested: any parent has none"));
         return params;
       }()},
      {"responses", {{"200", ok("namespaces", {{"type", "object"}, {"properties", {{"namespaces", {{"type", "array"}, {"items", level_list}}},
                                                                                  {"next-page-token", next_page}}}})},
                     {"400", error("a pageToken this catalog did not hand out, or a pageSize out of range")}}}};
  paths["/iceberg/v1/namespaces"]["post"] = refused("Iceberg REST: create a namespace (refused)", true);
  auto& one_ns = paths["/iceberg/v1/namespaces/{namespace}"];
  one_ns["parameters"] = json::array({ns});
  one_ns["get"] = {{"summary", "Iceberg REST: a namespace"},
                   {"responses", {{"200", ok("namespace and properties", {{"type", "object"}, {"properties", {{"namespace", level_list}, {"properties", object}}}})},
                                  {"404", not_found("NoSuchNamespaceException")}}}};
  one_ns["head"] = {{"summary", "Iceberg REST: whether a namespace exists"},
                    {"responses", {{"204", no_content}, {"404", {{"description", "NoSuchNamespaceException"}}}}}};
  one_ns["delete"] = refused("Iceberg REST: drop a namespace (refused)", false);
  auto& tables = paths["/iceberg/v1/namespaces/{namespace}/tables"];
  tables["parameters"] = json::array({ns});
  tables["get"] = {{"summary", "Iceberg REST: the tables with Iceberg metadata"},
                   {"parameters", page_params},
                   {"responses", {{"200", ok("identifiers", {{"type", "object"}, {"properties", {{"identifiers", {{"type", "array"}, {"items", identifier}}},
                                                                                                  {"next-page-token", next_page}}}})},
                                  {"400", error("a pageToken this catalog did not hand out, or a pageSize out of range")},
                                  {"404", not_found("NoSuchNamespaceException")},
                                  {"503", error("the store could not be read")}}}};
  tables["post"] = refused("Iceberg REST: create a table (refused)", true);
  auto& one_table = paths["/iceberg/v1/namespaces/{namespace}/tables/{table}"];
  one_table["parameters"] = json::array({ns, table});
  one_table["get"] = {{"summary", "Iceberg REST: load a table (its current metadata)"},
                      {"parameters", json::array({{{"name", "snapshots"}, {"in", "query"}, {"required", false},
                                                   {"description", "all (the default) or refs; both are answered with every kept snapshot"},
                                                   {"schema", {{"type", "string"}, {"enum", {"all", "refs"}}}}}})},
                      {"responses", {{"200", ok("LoadTableResult", {{"type", "object"},
                                                                    {"required", {"metadata"}},
                                                                    {"properties", {{"metadata-location", {{"type", "string"}}}, {"metadata", object}, {"config", object}}}})},
                                     {"400", error("BadRequestException: snapshots is neither all nor refs")},
                                     {"404", not_found("NoSuchNamespaceException or NoSuchTableException (also for every table under ETL_TABLE_FORMAT=hive)")},
                                     {"503", error("the store could not be read")}}}};
  one_table["head"] = {{"summary", "Iceberg REST: whether a table exists"},
                       {"responses", {{"204", no_content}, {"404", {{"description", "NoSuchTableException"}}},
                                      {"503", {{"description", "the store could not be read"}}}}}};
  one_table["post"] = refused("Iceberg REST: commit to a table (refused)", true);
  one_table["delete"] = refused("Iceberg REST: drop a table (refused)", false);
  paths["/iceberg/v1/namespaces/{namespace}/tables/{table}/credentials"]["get"] = {
      {"summary", "Iceberg REST: a table's current vended credentials (loadCredentials; an empty list without vending)"},
      {"parameters", json::array({ns, table})},
      {"responses", {{"200", ok("LoadCredentialsResponse", {{"type", "object"},
                                                            {"required", {"storage-credentials"}},
                                                            {"properties", {{"storage-credentials", {{"type", "array"}, {"items", object}}}}}})},
                     {"404", not_found("NoSuchNamespaceException or NoSuchTableException")},
                     {"503", error("the store could not be read, or STS gave no credentials")}}}};
  paths["/iceberg/v1/namespaces/{namespace}/tables/{table}/metrics"]["post"] = {
      {"summary", "Iceberg REST: a client's scan report (accepted and dropped)"},
      {"parameters", json::array({ns, table})},
      {"requestBody", {{"required", false}, {"content", {{"application/json", {{"schema", object}}}}}}},
      {"responses", {{"204", {{"description", "accepted"}}}, {"400", error("the body is not a JSON object")}}}};

  // The spec's other writes, refused alike.
  auto refused_at = [&](const std::string& path, json params, const char* summary) {
    auto& item = paths[path];
    if (!params.empty()) item["parameters"] = std::move(params);
    item["post"] = refused(summary, true);
    return &item;
  };
  refused_at("/iceberg/v1/namespaces/{namespace}/properties", json::array({ns}), "Iceberg REST: update a namespace's properties (refused)");
  refused_at("/iceberg/v1/namespaces/{namespace}/register", json::array({ns}), "Iceberg REST: register a table (refused)");
  refused_at("/iceberg/v1/namespaces/{namespace}/register-view", json::array({ns}), "Iceberg REST: register a view (refused)");
  refused_at("/iceberg/v1/namespaces/{namespace}/tables/{table}/unregister", json::array({ns, table}),
             "Iceberg REST: unregister a table (refused)");
  refused_at("/iceberg/v1/tables/rename", json::array(), "Iceberg REST: rename a table (refused)");
  refused_at("/iceberg/v1/views/rename", json::array(), "Iceberg REST: rename a view (refused)");
  refused_at("/iceberg/v1/transactions/commit", json::array(), "Iceberg REST: commit to several tables (refused)");

  // Views and functions: the catalog holds none.
  const json empty_listing = {{"type", "object"},
                              {"properties", {{"identifiers", {{"type", "array"}, {"maxItems", 0}}}, {"next-page-token", next_page}}}};
  auto listing_of_none = [&](const char* summary) {
    return json{{"summary", summary},
                {"parameters", page_params},
                {"responses", {{"200", ok("identifiers (always empty)", empty_listing)},
                               {"400", error("a pageToken this catalog did not hand out, or a pageSize out of range")},
                               {"404", not_found("NoSuchNamespaceException")}}}};
  };
  auto* views = refused_at("/iceberg/v1/namespaces/{namespace}/views", json::array({ns}), "Iceberg REST: create a view (refused)");
  (*views)["get"] = listing_of_none("Iceberg REST: the views (none)");
  auto* one_view = refused_at("/iceberg/v1/namespaces/{namespace}/views/{view}",
                              json::array({ns, path_param("view", "a view name (there are none)")}),
                              "Iceberg REST: replace a view (refused)");
  (*one_view)["get"] = {{"summary", "Iceberg REST: load a view (there are none)"},
                        {"responses", {{"404", not_found("NoSuchViewException, or NoSuchNamespaceException")}}}};
  (*one_view)["head"] = {{"summary", "Iceberg REST: whether a view exists (none does)"},
                         {"responses", {{"404", {{"description", "NoSuchViewException"}}}}}};
  (*one_view)["delete"] = refused("Iceberg REST: drop a view (refused)", false);
  auto& functions = paths["/iceberg/v1/namespaces/{namespace}/functions"];
  functions["parameters"] = json::array({ns});
  functions["get"] = listing_of_none("Iceberg REST: the functions (none)");
  auto& one_function = paths["/iceberg/v1/namespaces/{namespace}/functions/{function}"];
  one_function["parameters"] = json::array({ns, path_param("function", "a function name (there are none)")});
  one_function["get"] = {{"summary", "Iceberg REST: load a function (there are none)"},
                         {"responses", {{"404", not_found("NoSuchFunctionException, or NoSuchNamespaceException")}}}};

  // Server-side scan planning: clients plan from the metadata, so no plan exists.
  paths["/iceberg/v1/namespaces/{namespace}/tables/{table}/plan"]["post"] = {
      {"summary", "Iceberg REST: plan a scan on the server (not supported)"},
      {"parameters", json::array({ns, table})},
      {"requestBody", {{"required", false}, {"content", {{"application/json", {{"schema", object}}}}}}},
      {"responses", {{"406", error("UnsupportedOperationException: plan the scan from the table's metadata")}}}};
  auto& plan = paths["/iceberg/v1/namespaces/{namespace}/tables/{table}/plan/{plan_id}"];
  plan["parameters"] = json::array({ns, table, path_param("plan_id", "a plan id (none is handed out)")});
  plan["get"] = {{"summary", "Iceberg REST: a scan plan's result (there are none)"},
                 {"responses", {{"404", not_found("NoSuchPlanIdException")}}}};
  plan["delete"] = {{"summary", "Iceberg REST: cancel a scan plan (there are none)"},
                    {"responses", {{"404", not_found("NoSuchPlanIdException")}}}};
  paths["/iceberg/v1/namespaces/{namespace}/tables/{table}/tasks"]["post"] = {
      {"summary", "Iceberg REST: a plan task's scan tasks (there are none)"},
      {"parameters", json::array({ns, table})},
      {"requestBody", {{"required", false}, {"content", {{"application/json", {{"schema", object}}}}}}},
      {"responses", {{"404", not_found("NoSuchPlanTaskException")}}}};
}

}  // namespace

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
                        {"updated_at", {{"type", "string"}, {"format", "date-time"}}},
                        {"table_format", {{"type", "string"}, {"enum", {"iceberg", "hive"}}}},
                        {"iceberg", {{"anyOf", json::array({{{"$ref", "#/components/schemas/IcebergReport"}},
                                                             {{"type", "null"}}})}}}}}};
  const json count_or_null = {{"type", json::array({"integer", "null"})}};
  const json time_or_null = {{"type", json::array({"string", "null"})}, {"format", "date-time"}};
  schemas["IcebergReport"] = {{"type", "object"},
                              {"description", "The current snapshot of an Iceberg table (null before its first commit)"},
                              {"properties",
                               {{"metadata_location", {{"type", "string"}}},
                                {"current_snapshot_id", count_or_null},
                                {"snapshot_count", {{"type", "integer"}}},
                                {"files", count_or_null},
                                {"records", count_or_null},
                                {"bytes", count_or_null},
                                {"last_updated", time_or_null},
                                {"last_compaction", time_or_null}}}};
  schemas["Snapshot"] = {{"type", "object"},
                         {"properties",
                          {{"snapshot_id", {{"type", "integer"}}},
                           {"parent_snapshot_id", count_or_null},
                           {"sequence_number", {{"type", "integer"}}},
                           {"committed_at", {{"type", "string"}, {"format", "date-time"}}},
                           {"operation", {{"type", "string"}, {"enum", {"append", "delete", "overwrite", "replace", ""}}}},
                           {"current", {{"type", "boolean"}}},
                           {"added_files", count_or_null},
                           {"deleted_files", count_or_null},
                           {"total_files", count_or_null},
                           {"total_records", count_or_null},
                           {"total_bytes", count_or_null}}}};
  schemas["TableSnapshots"] = {
      {"type", "object"},
      {"properties",
       {{"table", {{"type", "string"}}},
        {"iceberg", {{"anyOf", json::array({{{"$ref", "#/components/schemas/IcebergReport"}}, {{"type", "null"}}})}}},
        {"snapshots", {{"type", "array"}, {"items", {{"$ref", "#/components/schemas/Snapshot"}}}}}}}};
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
                               {"async", {{"type", json::array({"boolean", "null"})}, {"description", "answer 202 at once; poll GET /v1/query/{id}"}}},
                               {"as_of", {{"type", json::array({"object", "null"})},
                                          {"description", "time travel: tables (named unqualified in sql) read as of a kept "
                                                          "snapshot, by id or by the time it was current (Iceberg tables only)"},
                                          {"maxProperties", static_cast<int>(kMaxAsOfTables)},
                                          {"propertyNames", {{"minLength", 1}, {"maxLength", 255}}},
                                          {"additionalProperties",
                                           {{"oneOf", json::array({{{"type", "integer"}, {"minimum", 0},
                                                                    {"maximum", std::numeric_limits<std::int64_t>::max()}},
                                                                   {{"type", "string"}, {"format", "date-time"}}})}}}}}}}};
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
  paths["/v1/tables"]["get"] = {{"summary", "Every table"},
                                {"responses", {{"200", {{"description", "{\"tables\":[Table]}"}}},
                                               {"503", problem("an Iceberg table's metadata cannot be read")}}}};
  paths["/v1/tables/{name}"]["get"] = {{"summary", "One table"}, {"parameters", id_param("name")},
                                       {"responses", {{"200", ok("table", "Table")}, {"404", problem("unknown table")},
                                                      {"503", problem("its Iceberg metadata cannot be read")}}}};
  paths["/v1/tables/{name}/snapshots"]["get"] = {
      {"summary", "An Iceberg table's kept snapshots, newest first"},
      {"parameters", id_param("name")},
      {"responses", {{"200", ok("snapshots", "TableSnapshots")},
                     {"404", problem("unknown table, or the tables are not Iceberg tables")},
                     {"503", problem("its Iceberg metadata cannot be read")}}}};
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
                                   {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", static_cast<int>(kMaxRunsLimit)}, {"default", static_cast<int>(kDefaultRunsLimit)}}}}})},
      {"responses", {{"200", {{"description", "{\"runs\":[{run_id,status,trigger,created_at,started_at,finished_at,"
                                               "error,sources,sources_failed,objects,items}],\"skipped\":n}"}}},
                     {"400", problem("bad limit")},
                     {"503", problem("the raw store cannot be read")}}}};
  add_iceberg_paths(doc);
  return doc;
}

}  // namespace etl::cataloger
