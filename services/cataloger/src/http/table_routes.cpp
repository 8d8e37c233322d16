#include "routes.h"
#include "table_report.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

// An Iceberg table's current metadata (nullopt before its first commit); a store
// that cannot be read is unavailable (503).
Result<std::optional<iceberg::CurrentTable>> current_of(iceberg::IcebergTables& iceberg, const std::string& name) {
  auto current = iceberg.current(name);
  if (!current)
    return make_error(Errc::unavailable, "cannot read " + name + "'s Iceberg metadata: " + current.error().message);
  return current;
}

json report_json(iceberg::IcebergTables& iceberg, const std::optional<iceberg::CurrentTable>& current) {
  if (!current) return nullptr;
  return iceberg::to_json(iceberg::report_of(current->metadata, iceberg.url_of(current->metadata_key)));
}

// A table's catalog entry, with its table format and, for an Iceberg table, its
// snapshot report (null until the first commit).
Result<json> table_json(const TableInfo& table, iceberg::IcebergTables* iceberg) {
  json out = to_json(table);
  out["table_format"] = iceberg ? "iceberg" : "hive";
  out["iceberg"] = nullptr;
  if (!iceberg) return out;
  auto current = current_of(*iceberg, table.name);
  if (!current) return std::move(current).error();
  out["iceberg"] = report_json(*iceberg, *current);
  return out;
}

}  // namespace

void install_table_routes(http::Server& server, Catalog& catalog, std::shared_ptr<iceberg::IcebergTables> iceberg,
                          std::string why_not) {
  server.get("/v1/tables", [&catalog, iceberg](const http::Request&) {
    auto tables = catalog.list_tables();
    if (!tables) return http::error_response(tables.error());
    json out = json::array();
    for (const auto& t : *tables) {
      auto entry = table_json(t, iceberg.get());
      if (!entry) return http::error_response(entry.error());
      out.push_back(std::move(entry).value());
    }
    return http::json_response(200, {{"tables", out}});
  });
  server.get("/v1/tables/{name}", [&catalog, iceberg](const http::Request& req) {
    auto table = catalog.get_table(req.params.at(0));
    if (!table) return http::error_response(table.error());
    auto entry = table_json(*table, iceberg.get());
    return entry ? http::json_response(200, *entry) : http::error_response(entry.error());
  });
  server.get("/v1/tables/{name}/partitions", [&catalog](const http::Request& req) {
    auto partitions = catalog.get_partitions(req.params.at(0));
    if (!partitions) return http::error_response(partitions.error());
    json out = json::array();
    for (const auto& p : *partitions) out.push_back(to_json(p));
    return http::json_response(200, {{"table", req.params.at(0)}, {"partitions", out}});
  });
  server.get("/v1/tables/{name}/snapshots", [&catalog, iceberg, why_not](const http::Request& req) {
    const std::string& name = req.params.at(0);
    auto table = catalog.get_table(name);
    if (!table) return http::error_response(table.error());
    if (!iceberg) return http::error_response(make_error(Errc::not_found, name + " has no snapshots: " + why_not));
    auto current = current_of(*iceberg, name);
    if (!current) return http::error_response(current.error());
    json snapshots = json::array();
    if (*current)
      for (const auto& s : iceberg::snapshots_of((*current)->metadata)) snapshots.push_back(iceberg::to_json(s));
    return http::json_response(200, {{"table", name}, {"iceberg", report_json(*iceberg, *current)}, {"snapshots", snapshots}});
  });
}

}  // namespace etl::cataloger
