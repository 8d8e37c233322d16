// The read-only Apache Iceberg REST catalog the cataloger serves under /iceberg
// (docs/contract.md §7.4): one namespace, the catalog's database, holding the
// tables that have Iceberg metadata, each loaded as its current
// `v<N>.metadata.json`. Clients (PyIceberg's RestCatalog, DuckDB's iceberg
// extension) then read the metadata, manifests and data files themselves.
//
// Only the decisions live here, without HTTP: each call answers a status and a
// JSON body; failures carry Iceberg's ErrorModel ({"error":{message,type,code}}),
// which those clients parse (not problem+json). Writes are refused: the
// cataloger alone commits these tables, from its crawls. It holds no views or
// functions and plans no scans, and says so in the ErrorModel too.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/result.h"
#include "credential_vendor.h"
#include "iceberg_tables.h"

namespace etl::cataloger::iceberg {

// What a REST call answers: a status and its JSON body (null for 204).
struct RestReply {
  int status = 200;
  nlohmann::json body;
};

enum class RestError {
  bad_request,        // 400 BadRequestException
  read_only,          // 403 ForbiddenException: a write on this read-only catalog
  no_such_namespace,  // 404 NoSuchNamespaceException
  no_such_table,      // 404 NoSuchTableException
  no_such_view,       // 404 NoSuchViewException: the catalog holds no views
  no_such_function,   // 404 NoSuchFunctionException: nor functions
  no_such_plan_id,    // 404 NoSuchPlanIdException: nor scan plans
  no_such_plan_task,  // 404 NoSuchPlanTaskException
  unsupported,        // 406 UnsupportedOperationException: server-side scan planning
  unavailable,        // 503 ServiceUnavailableException: the store could not be read
};

// The one place a RestError becomes a status and an ErrorModel body.
RestReply error_reply(RestError error, std::string_view message);

// A listing's page (the spec's pageToken / pageSize query parameters). Tokens are
// the ones this catalog hands out as next-page-token: the offset of the next item.
struct PageRequest {
  std::size_t offset = 0;
  std::size_t size = 0;  // 0: the rest of the listing, up to kMaxPageSize
};
inline constexpr std::size_t kMaxPageSize = 1000;

// pageToken and pageSize as sent (nullopt: absent); an empty token is the first
// page. A token this catalog did not hand out, or a size outside 1..kMaxPageSize,
// is BadRequestException.
std::variant<PageRequest, RestReply> parse_page(const std::optional<std::string>& token,
                                                const std::optional<std::string>& size);

// The levels of a namespace path parameter: the spec separates them with the
// unit separator (0x1F, "%1F" when not yet decoded).
std::vector<std::string> namespace_levels(std::string_view param);

class RestCatalog final {
 public:
  // The catalog's table names (those that may have Iceberg metadata).
  using TableNames = std::function<Result<std::vector<std::string>>()>;

  // `tables` nullptr: no table is an Iceberg table, for `why_not` (said in the 404s).
  // `vendor`: hands out read credentials to clients that ask for them (nullptr: none).
  RestCatalog(std::string database, std::shared_ptr<IcebergTables> tables, TableNames names,
              std::string why_not = "the tables are Hive folders (ETL_TABLE_FORMAT=hive)",
              std::shared_ptr<CredentialVendor> vendor = nullptr);

  // GET /v1/config: no defaults, no overrides (the `warehouse` asked for is
  // ignored), and the endpoints this catalog serves.
  RestReply config() const;
  // GET /v1/namespaces: the one namespace; namespaces are not nested, so any
  // `parent` has no children.
  RestReply list_namespaces(const std::optional<std::string>& parent, const PageRequest& page = {}) const;
  // GET /v1/namespaces/{namespace}: 404 NoSuchNamespaceException unless it is the database.
  RestReply load_namespace(std::string_view ns) const;
  // GET /v1/namespaces/{namespace}/tables: the tables whose metadata exists (none under hive).
  RestReply list_tables(std::string_view ns, const PageRequest& page = {}) const;
  // GET /v1/namespaces/{namespace}/tables/{table}: {"metadata-location","metadata","config"};
  // 404 NoSuchTableException for an unknown table, one not committed yet, or any without `tables`.
  // `vended`: the client asked for credentials (X-Iceberg-Access-Delegation: vended-credentials);
  // with a vendor, "config" and "storage-credentials" carry them (503 when none can be had).
  // With a vendor, vended credentials come with "client.refresh-credentials-endpoint"
  // (the route below, relative to the catalog's URL, as Iceberg's Java clients resolve
  // it) so that clients that refresh take new ones before these expire.
  RestReply load_table(std::string_view ns, std::string_view table, bool vended = false) const;
  // GET /v1/namespaces/{namespace}/tables/{table}/credentials (the spec's
  // loadCredentials): {"storage-credentials": [...]}, the vendor's current
  // credentials for the table, as load_table hands them out; an empty list
  // without a vendor (clients read with keys of their own). 404 as load_table.
  RestReply load_credentials(std::string_view ns, std::string_view table) const;
  // GET /v1/namespaces/{namespace}/views and .../functions: the catalog holds
  // none, so an empty listing (404 NoSuchNamespaceException for another namespace).
  RestReply list_views(std::string_view ns, const PageRequest& page = {}) const;
  RestReply list_functions(std::string_view ns, const PageRequest& page = {}) const;
  // GET /v1/namespaces/{namespace}/views/{view} (and HEAD), .../functions/{function}:
  // 404 NoSuchViewException / NoSuchFunctionException, or NoSuchNamespaceException.
  RestReply load_view(std::string_view ns, std::string_view view) const;
  RestReply load_function(std::string_view ns, std::string_view function) const;
  // Any create, commit, rename, register or drop, of a namespace, table or view,
  // and namespace properties: 403 ForbiddenException.
  static RestReply refuse_write();
  // POST .../tables/{table}/plan: 406 UnsupportedOperationException (clients plan
  // their scans from the metadata). No plan is ever handed out, so
  // .../plan/{plan-id} is 404 NoSuchPlanIdException and .../tasks 404 NoSuchPlanTaskException.
  static RestReply refuse_planning();
  static RestReply no_such_plan(std::string_view plan_id);
  static RestReply no_such_plan_task();

 private:
  bool known_namespace(std::string_view ns) const;
  // 404 NoSuchNamespaceException for `ns`.
  static RestReply no_such_namespace(std::string_view ns);
  // An empty listing (views, functions) of the one namespace.
  RestReply list_none(std::string_view ns, const PageRequest& page) const;
  // `kind` `name` does not exist in the one namespace (it holds none).
  RestReply load_none(std::string_view ns, RestError error, const char* kind, std::string_view name) const;
  nlohmann::json namespace_json() const { return nlohmann::json::array({database_}); }
  // The 404 (or 503) for a table this catalog cannot name: another namespace, no
  // Iceberg tables, or a name the catalog does not hold; nullopt for one it holds.
  std::optional<RestReply> refuse_table(std::string_view ns, const std::string& name) const;
  // 404 NoSuchTableException for a table no crawl has committed yet.
  RestReply not_committed(const std::string& name) const;

  std::string database_;
  std::shared_ptr<IcebergTables> tables_;
  TableNames names_;
  std::string why_not_;
  std::shared_ptr<CredentialVendor> vendor_;
};

}  // namespace etl::cataloger::iceberg
