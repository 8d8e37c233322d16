// The read-only Iceberg REST catalog under /iceberg: thin handlers over
// iceberg::RestCatalog, whose replies (ErrorModel bodies included) pass as they are.
#include "routes.h"

#include <string>
#include <vector>

namespace etl::cataloger {
namespace {

constexpr const char* kTable = "/iceberg/v1/namespaces/{namespace}/tables/{table}";
constexpr const char* kView = "/iceberg/v1/namespaces/{namespace}/views/{view}";

// HEAD asks whether the thing exists: 204 instead of the GET's 200 and body.
http::Response reply(const iceberg::RestReply& r, const http::Request& req) {
  if (r.status == 204 || (r.status == 200 && req.method == "HEAD")) return http::Response{204, "text/plain", "", {}};
  return http::json_response(r.status, r.body);
}

// The listing's page from pageToken / pageSize, then `list` of it; a bad page is 400.
template <typename List>
http::Response paged(const http::Request& req, List list) {
  auto page = iceberg::parse_page(req.query_param("pageToken"), req.query_param("pageSize"));
  if (auto* refused = std::get_if<iceberg::RestReply>(&page)) return reply(*refused, req);
  return reply(list(std::get<iceberg::PageRequest>(page)), req);
}

}  // namespace

void install_iceberg_routes(http::Server& server, const iceberg::RestCatalog& catalog) {
  using iceberg::RestCatalog;
  // Every route is Access::read: the catalog is read-only, and its writes refuse
  // every caller alike with Iceberg's own error (a 403 problem+json for the
  // read-only token would be one an Iceberg client cannot read).
  auto refuse = [](const http::Request& req) { return reply(RestCatalog::refuse_write(), req); };
  server.get("/iceberg/v1/config", [&catalog](const http::Request& req) { return reply(catalog.config(), req); });
  server.get("/iceberg/v1/namespaces", [&catalog](const http::Request& req) {
    return paged(req, [&](const iceberg::PageRequest& page) { return catalog.list_namespaces(req.query_param("parent"), page); });
  });
  server.post("/iceberg/v1/namespaces", refuse, http::Access::read);
  server.get("/iceberg/v1/namespaces/{namespace}", [&catalog](const http::Request& req) {
    return reply(catalog.load_namespace(req.params.at(0)), req);
  });
  server.del("/iceberg/v1/namespaces/{namespace}", refuse, http::Access::read);
  server.get("/iceberg/v1/namespaces/{namespace}/tables", [&catalog](const http::Request& req) {
    return paged(req, [&](const iceberg::PageRequest& page) { return catalog.list_tables(req.params.at(0), page); });
  });
  server.post("/iceberg/v1/namespaces/{namespace}/tables", refuse, http::Access::read);
  server.get(kTable, [&catalog](const http::Request& req) {
    // The spec's snapshot modes: `all` (the default) and `refs`, which may be answered
    // with all of them (a client loads the rest lazily); anything else is 400, as in Iceberg's own server.
    if (auto mode = req.query_param("snapshots"); mode && *mode != "all" && *mode != "refs")
      return reply(iceberg::error_reply(iceberg::RestError::bad_request,
                                        "snapshots must be all or refs, not '" + mode->substr(0, 64) + "'"),
                   req);
    // Credentials only for a GET that asks for them (HEAD only asks whether the table exists).
    const bool vended = req.method == "GET" &&
                        req.header("X-Iceberg-Access-Delegation").find("vended-credentials") != std::string::npos;
    return reply(catalog.load_table(req.params.at(0), req.params.at(1), vended), req);
  });
  server.post(kTable, refuse, http::Access::read);
  server.del(kTable, refuse, http::Access::read);
  server.get(std::string(kTable) + "/credentials", [&catalog](const http::Request& req) {
    return reply(catalog.load_credentials(req.params.at(0), req.params.at(1)), req);
  });
  // Scan reports: accepted and dropped.
  server.post(std::string(kTable) + "/metrics", [](const http::Request& req) {
    auto body = http::parse_json_object(req);
    if (!body) return reply(iceberg::error_reply(iceberg::RestError::bad_request, body.error().message), req);
    return reply({204, nullptr}, req);
  }, http::Access::read);
  // The spec's other writes, refused alike: an unrouted path would answer
  // problem+json, which Iceberg clients cannot read.
  for (const auto& path : std::vector<std::string>{
           "/iceberg/v1/namespaces/{namespace}/properties", "/iceberg/v1/namespaces/{namespace}/register",
           "/iceberg/v1/namespaces/{namespace}/register-view", std::string(kTable) + "/unregister",
           "/iceberg/v1/namespaces/{namespace}/views", kView, "/iceberg/v1/tables/rename", "/iceberg/v1/views/rename",
           "/iceberg/v1/transactions/commit"})
    server.post(path, refuse, http::Access::read);
  server.del(kView, refuse, http::Access::read);
  // No views or functions: empty listings, and every one is unknown.
  server.get("/iceberg/v1/namespaces/{namespace}/views", [&catalog](const http::Request& req) {
    return paged(req, [&](const iceberg::PageRequest& page) { return catalog.list_views(req.params.at(0), page); });
  });
  server.get(kView, [&catalog](const http::Request& req) { return reply(catalog.load_view(req.params.at(0), req.params.at(1)), req); });
  server.get("/iceberg/v1/namespaces/{namespace}/functions", [&catalog](const http::Request& req) {
    return paged(req, [&](const iceberg::PageRequest& page) { return catalog.list_functions(req.params.at(0), page); });
  });
  server.get("/iceberg/v1/namespaces/{namespace}/functions/{function}", [&catalog](const http::Request& req) {
    return reply(catalog.load_function(req.params.at(0), req.params.at(1)), req);
  });
  // Clients plan their scans from the metadata: no plans, no plan tasks.
  server.post(std::string(kTable) + "/plan", [](const http::Request& req) { return reply(RestCatalog::refuse_planning(), req); },
              http::Access::read);
  auto no_plan = [](const http::Request& req) { return reply(RestCatalog::no_such_plan(req.params.at(2)), req); };
  server.get(std::string(kTable) + "/plan/{plan_id}", no_plan);
  server.del(std::string(kTable) + "/plan/{plan_id}", no_plan, http::Access::read);
  server.post(std::string(kTable) + "/tasks", [](const http::Request& req) { return reply(RestCatalog::no_such_plan_task(), req); },
              http::Access::read);
}

}  // namespace etl::cataloger
