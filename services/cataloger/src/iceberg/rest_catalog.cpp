#include "rest_catalog.h"

#include <algorithm>

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

RestCatalog::RestCatalog(std::string database, std::shared_ptr<IcebergTables> tables, TableNames names, std::string why_not)
    : database_(std::move(database)), tables_(std::move(tables)), names_(std::move(names)), why_not_(std::move(why_not)) {}

RestReply RestCatalog::config() const { return {200, {{"defaults", json::object()}, {"overrides", json::object()}}}; }

RestReply RestCatalog::list_namespaces(const std::optional<std::string>& parent) const {
  if (parent) return {200, {{"namespaces", json::array()}}};
  return {200, {{"namespaces", json::array({namespace_json()})}}};
}

bool RestCatalog::known_namespace(std::string_view ns) const {
  return namespace_levels(ns) == std::vector<std::string>{database_};
}

RestReply RestCatalog::load_namespace(std::string_view ns) const {
  if (!known_namespace(ns)) return error_reply(RestError::no_such_namespace, "namespace does not exist: " + std::string(ns));
  return {200, {{"namespace", namespace_json()}, {"properties", json::object()}}};
}

RestReply RestCatalog::list_tables(std::string_view ns) const {
  if (!known_namespace(ns)) return error_reply(RestError::no_such_namespace, "namespace does not exist: " + std::string(ns));
  json identifiers = json::array();
  if (!tables_) return {200, {{"identifiers", identifiers}}};
  auto names = names_();
  if (!names) return error_reply(RestError::unavailable, names.error().message);
  for (const auto& name : *names) {
    auto current = tables_->current(name);
    if (!current) return error_reply(RestError::unavailable, current.error().message);
    if (*current) identifiers.push_back({{"namespace", namespace_json()}, {"name", name}});
  }
  return {200, {{"identifiers", identifiers}}};
}

RestReply RestCatalog::load_table(std::string_view ns, std::string_view table) const {
  if (!known_namespace(ns)) return error_reply(RestError::no_such_namespace, "namespace does not exist: " + std::string(ns));
  const std::string name(table);
  if (!tables_)
    return error_reply(RestError::no_such_table, "table " + database_ + "." + name + " is not an Iceberg table: " + why_not_);
  // Only the catalog's names reach the store: a path parameter never names a key.
  auto names = names_();
  if (!names) return error_reply(RestError::unavailable, names.error().message);
  if (std::find(names->begin(), names->end(), name) == names->end())
    return error_reply(RestError::no_such_table, "table does not exist: " + database_ + "." + name);
  auto current = tables_->current(name);
  if (!current) return error_reply(RestError::unavailable, current.error().message);
  if (!*current)
    return error_reply(RestError::no_such_table,
                       "table " + database_ + "." + name + " has no Iceberg metadata yet (no crawl has committed it)");
  return {200,
          {{"metadata-location", tables_->url_of((*current)->metadata_key)},
           {"metadata", (*current)->metadata},
           {"config", json::object()}}};
}

RestReply RestCatalog::refuse_write() {
  return error_reply(RestError::read_only, "read-only: this catalog's tables are committed by the cataloger");
}

}  // namespace etl::cataloger::iceberg
