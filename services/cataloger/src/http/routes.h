// The cataloger's HTTP API (docs/contract.md §7.4): thin handlers that parse,
// call the catalog or the query engine, and map the result in one place
// (http::error_response). The parsing and rendering are pure and tested alone.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "etl/catalog.h"
#include "etl/http_server.h"
#include "etl/query_engine.h"
#include "rest_catalog.h"

namespace etl::cataloger {

struct QuerySubmission {
  QueryRequest request;
  bool async = false;  // answer 202 at once; poll GET /v1/query/{id}
};

inline constexpr std::size_t kMaxAsOfTables = 16;

// {"sql","max_rows","timeout_ms","max_age_s","async","as_of"}; invalid_argument names the bad field
// (also for SQL holding a NUL character, which the engine would take for the end of the statement).
Result<QuerySubmission> parse_query_request(const nlohmann::json& body);
// as_of: {"<table>": <snapshot id> | "<RFC 3339 time>", ...} (names lower-cased).
Result<std::map<std::string, AsOf>> parse_as_of(const nlohmann::json& value);
// {"elapsed_ms","rows","cached"[,"as_of":{"<table>":<snapshot id>}]}
nlohmann::json stats_json(const QueryStats& stats);
// {"tables":[...],"full":bool}, both optional.
Result<CrawlRequest> parse_crawl_request(const nlohmann::json& body);

nlohmann::json status_json(const QueryStatus& status);
// The 200 body of a page: {"query_id","engine","state","columns","rows","next_token","stats","result_location"}.
std::string page_json(const QueryPage& page);
// The page as CSV: a header line, then one line per row (numbers with the exact
// text of the JSON row, lists and structs as JSON, NULL empty). internal when a
// row is not a JSON array (never dropped).
Result<std::string> page_csv(const QueryPage& page);

nlohmann::json openapi_spec();

void install_routes(http::Server& server, Catalog& catalog, QueryEngine& engine);
// GET /v1/tables, /v1/tables/{name}, .../partitions and .../snapshots (table_routes.cpp).
// Each table says its table_format; with `iceberg` (ETL_TABLE_FORMAT=iceberg under the
// local catalog) an "iceberg" object reports its current snapshot (iceberg/table_report.h).
// Without, the snapshots route answers 404 saying `why_not`.
void install_table_routes(http::Server& server, Catalog& catalog, std::shared_ptr<iceberg::IcebergTables> iceberg,
                          std::string why_not);
// The read-only Iceberg REST catalog under /iceberg (iceberg_routes.cpp); `catalog` outlives the server.
void install_iceberg_routes(http::Server& server, const iceberg::RestCatalog& catalog);

}  // namespace etl::cataloger
