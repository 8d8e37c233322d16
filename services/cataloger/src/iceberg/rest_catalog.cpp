#include "rest_catalog.h"

#include <algorithm>

#include "etl/http_params.h"

namespace etl::cataloger::iceberg {

using nlohmann::json;

RestReply error_reply(RestError error, std::string_view message) {
  int status = 500;
  const char* type = "InternalServerError";
  switch (error) {
    case RestError::bad_request: status = 400, type = "BadRequestException"; break;
    case RestError::read_only: status = 403, type = "ForbiddenException"; break;
    case RestError::no_such_namespace: status = 404, type = "NoSuchNamespaceException"; break;
    case RestError::no_such_table: status = 404, type = "NoSuchTableException"; break;
    case RestError::no_such_view: status = 404, type = "NoSuchViewException"; break;
    case RestError::no_such_function: status = 404, type = "NoSuchFunctionException"; break;
    case RestError::no_such_plan_id: status = 404, type = "NoSuchPlanIdException"; break;
    case RestError::no_such_plan_task: status = 404, type = "NoSuchPlanTaskException"; break;
    case RestError::unsupported: status = 406, type = "UnsupportedOperationException"; break;
    case RestError::unavailable: status = 503, type = "ServiceUnavailableException"; break;
  }
  return {status, {{"error", {{"message", message}, {"type", type}, {"code", status}}}}};
}

std::vector<std::string> namespace_levels(std::string_view param) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < param.size(); ++i) {
    if (param[i] == '\x1f') {
      out.emplace_back();
    } else if (param.substr(i, 3) == "%1F" || param.substr(i, 3) == "%1f") {
      out.emplace_back();
      i += 2;
    } else {
      out.back() += param[i];
    }
  }
  return out;
}

RestCatalog::RestCatalog(std::string database, std::shared_ptr<IcebergTables> tables, TableNames names, std::string why_not,
                         std::shared_ptr<CredentialVendor> vendor)
    : database_(std::move(database)),
      tables_(std::move(tables)),
      names_(std::move(names)),
      why_not_(std::move(why_not)),
      vendor_(std::move(vendor)) {}

std::variant<PageRequest, RestReply> parse_page(const std::optional<std::string>& token,
                                                const std::optional<std::string>& size) {
  PageRequest page;
  if (size) {
    auto n = http::count_param(size, "pageSize", 0, 1, kMaxPageSize);
    if (!n) return error_reply(RestError::bad_request, n.error().message);
    page.size = *n;
  }
  if (token && !token->empty()) {
    auto offset = http::count_param(token, "pageToken", 0, 0, 9'999'999'999);  // the documented 10 digits
    if (!offset) return error_reply(RestError::bad_request, "pageToken is not one this catalog handed out");
    page.offset = *offset;
  }
  return page;
}

namespace {

// One page of `items` under `field`, with next-page-token while more follow.
json paged(const char* field, const json& items, const PageRequest& page) {
  const std::size_t size = page.size ? page.size : kMaxPageSize;
  json out = {{field, json::array()}};
  for (std::size_t i = page.offset; i < items.size() && i < page.offset + size; ++i) out[field].push_back(items[i]);
  if (page.offset + size < items.size()) out["next-page-token"] = std::to_string(page.offset + size);
  return out;
}

}  // namespace

RestReply RestCatalog::config() const {
  // The spec's endpoint names ("{prefix}" is this catalog's empty prefix).
  const json endpoints = json::array({"GET /v1/{prefix}/namespaces", "GET /v1/{prefix}/namespaces/{namespace}",
                                      "HEAD /v1/{prefix}/namespaces/{namespace}",
                                      "GET /v1/{prefix}/namespaces/{namespace}/tables",
                                      "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                                      "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
                                      "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
                                      "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}/credentials"});
  return {200, {{"defaults", json::object()}, {"overrides", json::object()}, {"endpoints", endpoints}}};
}

RestReply RestCatalog::list_namespaces(const std::optional<std::string>& parent, const PageRequest& page) const {
  return {200, paged("namespaces", parent ? json::array() : json::array({namespace_json()}), page)};
}

bool RestCatalog::known_namespace(std::string_view ns) const {
  return namespace_levels(ns) == std::vector<std::string>{database_};
}

RestReply RestCatalog::load_namespace(std::string_view ns) const {
  if (!known_namespace(ns)) return no_such_namespace(ns);
  return {200, {{"namespace", namespace_json()}, {"properties", json::object()}}};
}

RestReply RestCatalog::list_tables(std::string_view ns, const PageRequest& page) const {
  if (!known_namespace(ns)) return no_such_namespace(ns);
  json identifiers = json::array();
  if (!tables_) return {200, paged("identifiers", identifiers, page)};
  auto names = names_();
  if (!names) return error_reply(RestError::unavailable, names.error().message);
  for (const auto& name : *names) {
    auto committed = tables_->committed(name);  // the metadata itself is not needed here
    if (!committed) return error_reply(RestError::unavailable, committed.error().message);
    if (*committed) identifiers.push_back({{"namespace", namespace_json()}, {"name", name}});
  }
  return {200, paged("identifiers", identifiers, page)};
}

std::optional<RestReply> RestCatalog::refuse_table(std::string_view ns, const std::string& name) const {
  if (!known_namespace(ns)) return no_such_namespace(ns);
  if (!tables_)
    return error_reply(RestError::no_such_table, "table " + database_ + "." + name + " is not an Iceberg table: " + why_not_);
  // Only the catalog's names reach the store: a path parameter never names a key.
  auto names = names_();
  if (!names) return error_reply(RestError::unavailable, names.error().message);
  if (std::find(names->begin(), names->end(), name) == names->end())
    return error_reply(RestError::no_such_table, "table does not exist: " + database_ + "." + name);
  return std::nullopt;
}

RestReply RestCatalog::not_committed(const std::string& name) const {
  return error_reply(RestError::no_such_table,
                     "table " + database_ + "." + name + " has no Iceberg metadata yet (no crawl has committed it)");
}

RestReply RestCatalog::load_table(std::string_view ns, std::string_view table, bool vended) const {
  const std::string name(table);
  if (auto refused = refuse_table(ns, name)) return std::move(*refused);
  auto current = tables_->current(name);
  if (!current) return error_reply(RestError::unavailable, current.error().message);
  if (!*current) return not_committed(name);
  json out = {{"metadata-location", tables_->url_of((*current)->metadata_key)},
              {"metadata", (*current)->metadata},
              {"config", json::object()}};
  if (vended && vendor_) {
    auto granted = vendor_->vend(name);
    if (!granted) return error_reply(RestError::unavailable, granted.error().message);
    out.update(*granted);
    out["config"]["client.refresh-credentials-endpoint"] =
        "v1/namespaces/" + std::string(ns) + "/tables/" + name + "/credentials";
    out["config"]["client.refresh-credentials-enabled"] = "true";
  }
  return {200, std::move(out)};
}

RestReply RestCatalog::load_credentials(std::string_view ns, std::string_view table) const {
  const std::string name(table);
  if (auto refused = refuse_table(ns, name)) return std::move(*refused);
  auto committed = tables_->committed(name);  // the metadata itself is not needed here
  if (!committed) return error_reply(RestError::unavailable, committed.error().message);
  if (!*committed) return not_committed(name);
  if (!vendor_) return {200, {{"storage-credentials", json::array()}}};
  auto granted = vendor_->vend(name);
  if (!granted) return error_reply(RestError::unavailable, granted.error().message);
  return {200, {{"storage-credentials", (*granted)["storage-credentials"]}}};
}

RestReply RestCatalog::list_none(std::string_view ns, const PageRequest& page) const {
  if (!known_namespace(ns)) return no_such_namespace(ns);
  return {200, paged("identifiers", json::array(), page)};
}

RestReply RestCatalog::load_none(std::string_view ns, RestError error, const char* kind, std::string_view name) const {
  if (!known_namespace(ns)) return no_such_namespace(ns);
  return error_reply(error, std::string(kind) + " does not exist: " + database_ + "." + std::string(name) + " (this catalog holds tables only)");
}

RestReply RestCatalog::list_views(std::string_view ns, const PageRequest& page) const { return list_none(ns, page); }

RestReply RestCatalog::list_functions(std::string_view ns, const PageRequest& page) const { return list_none(ns, page); }

RestReply RestCatalog::load_view(std::string_view ns, std::string_view view) const {
  return load_none(ns, RestError::no_such_view, "view", view);
}

RestReply RestCatalog::load_function(std::string_view ns, std::string_view function) const {
  return load_none(ns, RestError::no_such_function, "function", function);
}

RestReply RestCatalog::no_such_namespace(std::string_view ns) {
  return error_reply(RestError::no_such_namespace, "namespace does not exist: " + std::string(ns));
}

RestReply RestCatalog::refuse_write() {
  return error_reply(RestError::read_only, "read-only: this catalog's tables are committed by the cataloger");
}

RestReply RestCatalog::refuse_planning() {
  return error_reply(RestError::unsupported,
                     "server-side scan planning is not supported: plan the scan from the table's metadata");
}

RestReply RestCatalog::no_such_plan(std::string_view plan_id) {
  return error_reply(RestError::no_such_plan_id, "plan id does not exist: " + std::string(plan_id) + " (this catalog plans no scans)");
}

RestReply RestCatalog::no_such_plan_task() {
  return error_reply(RestError::no_such_plan_task, "plan task does not exist (this catalog plans no scans)");
}

}  // namespace etl::cataloger::iceberg
