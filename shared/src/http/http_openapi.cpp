// The OpenAPI 3.1 frame every service's document starts from, and the part of
// each document the server itself decides: which security is real, and the
// responses the HTTP base gives on every operation.
#include "etl/http_server.h"
#include "http_impl.h"

#include <algorithm>
#include <cctype>

namespace etl::http {
namespace {

using nlohmann::json;

json problem(const char* what) {
  return {{"description", what},
          {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
}

json json_content(const char* what, json schema) {
  return {{"description", what}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

// OpenAPI 3.0's `nullable: true` is 3.1's type list with "null".
void nullable_to_type_lists(json& node) {
  if (node.is_array()) {
    for (auto& item : node) nullable_to_type_lists(item);
    return;
  }
  if (!node.is_object()) return;
  if (auto n = node.find("nullable"); n != node.end()) {
    bool nullable = n->is_boolean() && n->get<bool>();
    node.erase(n);
    if (nullable && node.contains("type") && node["type"].is_string()) node["type"] = json::array({node["type"], "null"});
  }
  for (auto& [key, value] : node.items()) nullable_to_type_lists(value);
}

}  // namespace

nlohmann::json openapi_document(std::string_view service, std::string_view description) {
  const json status = {{"type", "object"}, {"required", {"status"}}, {"properties", {{"status", {{"type", "string"}}}}}};
  const json readiness = {{"type", "object"},
                          {"required", {"status", "checks"}},
                          {"properties",
                           {{"status", {{"type", "string"}, {"enum", {"ready", "not ready"}}}},
                            {"checks", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}}}};
  return {{"openapi", "3.1.0"},
          {"info", {{"title", "spotify-etl " + std::string(service)}, {"version", ETL_VERSION}, {"description", description}}},
          {"components",
           {{"schemas",
             {{"Problem",
               {{"type", "object"},
                {"required", {"type", "title", "status"}},
                {"properties",
                 {{"type", {{"type", "string"}}},
                  {"title", {{"type", "string"}}},
                  {"status", {{"type", "integer"}}},
                  {"detail", {{"type", "string"}}}}}}}}}}},
          {"paths",
           {{"/healthz", {{"get", {{"summary", "Liveness"}, {"responses", {{"200", json_content("alive", status)}}}}}}},
            {"/readyz",
             {{"get",
               {{"summary", "Readiness of the dependencies"},
                {"responses", {{"200", json_content("ready", readiness)}, {"503", json_content("not ready", readiness)}}}}}}},
            {"/metrics",
             {{"get",
               {{"summary", "Prometheus metrics (text exposition format 0.0.4)"},
                {"responses",
                 {{"200", {{"description", "metrics"}, {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}}}}}}}},
            {"/openapi.json",
             {{"get", {{"summary", "This document"}, {"responses", {{"200", json_content("OpenAPI 3.1", {{"type", "object"}})}}}}}}}}}};
}

void finish_openapi(nlohmann::json& doc, bool token_required, const std::vector<std::string>& auth_prefixes) {
  doc["openapi"] = "3.1.0";
  nullable_to_type_lists(doc);
  auto& components = doc["components"];
  if (token_required) components["securitySchemes"] = {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}};
  else components.erase("securitySchemes");
  for (auto& [path, item] : doc["paths"].items()) {
    const std::string route = path;  // a lambda cannot capture a structured binding (clang 14)
    const bool v1 = std::any_of(auth_prefixes.begin(), auth_prefixes.end(),
                                [&route](const std::string& p) { return route.rfind(p, 0) == 0; });
    for (auto& [method, op] : item.items()) {
      if (!op.is_object() || !op.contains("responses")) continue;
      auto& responses = op["responses"];
      if (v1 && token_required) {
        op["security"] = json::array({{{"bearer", json::array()}}});
        responses["401"] = problem("Missing or wrong bearer token");
      } else {
        op.erase("security");
        responses.erase("401");
      }
      if (method == "post") {
        if (!responses.contains("400")) responses["400"] = problem("Invalid body");
        responses["413"] = problem("Body over ETL_MAX_REQUEST_BODY_BYTES");
        responses["415"] = problem("Body not sent as application/json");
      }
      if (item.contains("parameters") || op.contains("parameters")) {
        bool path_params = path.find('{') != std::string::npos;
        if (path_params && !responses.contains("404")) responses["404"] = problem("Not found");
      }
    }
  }
}

void mark_read_only_refusals(nlohmann::json& doc, const Router& router) {
  auto& paths = doc["paths"];
  for (const auto& route : router.routes()) {
    if (route.access != Access::write) continue;
    std::string method = route.method;
    std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string& path = route.path_template;
    if (!paths.contains(path) || !paths[path].contains(method)) continue;
    auto& op = paths[path][method];
    if (op.is_object() && op.contains("responses") && op.contains("security"))
      op["responses"]["403"] = problem("The read-only token (ETL_READ_TOKEN) may not call this: it needs ETL_API_TOKEN");
  }
}

}  // namespace etl::http
