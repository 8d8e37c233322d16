#include "table_metadata.h"

#include <set>

namespace etl::cataloger::iceberg {

using nlohmann::json;

std::optional<json> iceberg_type(const std::string& sql_type, int& next_id, const std::map<std::string, int>& element_ids,
                                 const std::string& column) {
  if (sql_type.size() > 2 && sql_type.ends_with("[]")) {
    int dummy = 0;
    auto element = iceberg_type(sql_type.substr(0, sql_type.size() - 2), dummy, {}, "");
    if (!element || !element->is_string()) return std::nullopt;  // lists of lists: not written here
    auto it = element_ids.find(column + ".element");
    const int id = it != element_ids.end() ? it->second : next_id++;
    return json{{"type", "list"}, {"element-id", id}, {"element", *element}, {"element-required", false}};
  }
  static const std::map<std::string, std::string> kTypes = {
      {"VARCHAR", "string"},       {"BIGINT", "long"},        {"INTEGER", "int"},     {"SMALLINT", "int"},
      {"TINYINT", "int"},          {"BOOLEAN", "boolean"},    {"DOUBLE", "double"},   {"FLOAT", "float"},
      {"DATE", "date"},            {"TIMESTAMP", "timestamp"}, {"TIMESTAMP WITH TIME ZONE", "timestamptz"},
      {"BLOB", "binary"},          {"UUID", "uuid"},          {"TIME", "time"},       {"JSON", "string"},
      {"__UNKNOWN__", "string"}};
  auto it = kTypes.find(sql_type);
  if (it == kTypes.end()) return std::nullopt;
  return json(it->second);
}

namespace {

bool promotion_allowed(const json& from, const json& to) {
  if (from == to) return true;
  return (from == "int" && to == "long") || (from == "float" && to == "double");
}

std::set<int> ids_of(const json& schema) {
  std::set<int> ids;
  for (const auto& f : schema.value("fields", json::array())) {
    ids.insert(f.value("id", 0));
    if (f["type"].is_object() && f["type"].contains("element-id")) ids.insert(f["type"].value("element-id", 0));
  }
  return ids;
}

}  // namespace

json evolve_schema(const json* previous, const std::vector<ColumnInfo>& columns, const std::map<std::string, int>& file_ids,
                   int schema_id, int& last_column_id, std::vector<std::string>& refused) {
  std::map<std::string, json> old;
  std::vector<std::string> order;
  if (previous)
    for (const auto& f : previous->value("fields", json::array())) {
      old[f.value("name", "")] = f;
      order.push_back(f.value("name", ""));
    }
  std::set<int> taken = previous ? ids_of(*previous) : std::set<int>{};
  auto fresh_id = [&](const std::string& name) {
    auto it = file_ids.find(name);
    int id = (it != file_ids.end() && it->second > 0 && !taken.count(it->second)) ? it->second : 0;
    if (id == 0) {
      id = last_column_id + 1;
      while (taken.count(id)) ++id;
    }
    taken.insert(id);
    if (id > last_column_id) last_column_id = id;
    return id;
  };

  json fields = json::array();
  std::set<std::string> seen;
  auto add_new = [&](const std::string& name, const std::string& sql_type) {
    // Element ids of a new list column come from its files when free.
    std::map<std::string, int> element_ids;
    auto eit = file_ids.find(name + ".element");
    if (eit != file_ids.end() && !taken.count(eit->second)) element_ids[name + ".element"] = eit->second;
    const int id = fresh_id(name);
    int next = last_column_id + 1;
    while (taken.count(next)) ++next;
    auto type = iceberg_type(sql_type, next, element_ids, name);
    if (!type) {
      refused.push_back(name + ": no Iceberg type for " + sql_type + " (left out)");
      return;
    }
    if (type->is_object() && type->contains("element-id")) {
      int eid = (*type)["element-id"];
      taken.insert(eid);
      if (eid > last_column_id) last_column_id = eid;
    }
    fields.push_back({{"id", id}, {"name", name}, {"required", false}, {"type", *type}});
  };

  // Existing fields first, in their order; dt stays where it is.
  std::map<std::string, std::string> wanted;
  for (const auto& c : columns) wanted[c.name] = c.type;
  for (const auto& name : order) {
    json f = old[name];
    seen.insert(name);
    auto w = wanted.find(name);
    if (w != wanted.end() && !f["type"].is_object()) {
      int dummy = 0;
      auto t = iceberg_type(w->second, dummy, {}, name);
      if (t && *t != f["type"]) {
        if (promotion_allowed(f["type"], *t)) f["type"] = *t;
        else refused.push_back(name + ": " + f["type"].dump() + " -> " + t->dump() + " is not an Iceberg type promotion");
      }
    }
    fields.push_back(f);
  }
  for (const auto& c : columns)
    if (!seen.count(c.name) && c.name != "dt") {
      seen.insert(c.name);
      add_new(c.name, c.type);
    }
  if (!seen.count("dt")) add_new("dt", "VARCHAR");
  return {{"type", "struct"}, {"schema-id", schema_id}, {"fields", fields}};
}

bool same_fields(const json& a, const json& b) { return a.value("fields", json::array()) == b.value("fields", json::array()); }

std::string name_mapping(const json& schema) {
  json mapping = json::array();
  for (const auto& f : schema.value("fields", json::array())) {
    json m = {{"field-id", f.value("id", 0)}, {"names", json::array({f.value("name", "")})}};
    if (f["type"].is_object() && f["type"].contains("element-id"))
      m["fields"] = json::array({{{"field-id", f["type"].value("element-id", 0)}, {"names", json::array({"element"})}}});
    mapping.push_back(m);
  }
  return mapping.dump();
}

json new_table_metadata(const std::string& table_uuid, const std::string& location, json schema, int last_column_id,
                        std::int64_t now_ms) {
  int dt_id = 0;
  for (const auto& f : schema["fields"])
    if (f.value("name", "") == "dt") dt_id = f.value("id", 0);
  json spec_fields = json::array({{{"name", "dt"}, {"transform", "identity"}, {"source-id", dt_id}, {"field-id", kPartitionFieldId}}});
  const std::string mapping = name_mapping(schema);
  return {{"format-version", 2},
          {"table-uuid", table_uuid},
          {"location", location},
          {"last-sequence-number", 0},
          {"last-updated-ms", now_ms},
          {"last-column-id", last_column_id},
          {"current-schema-id", schema.value("schema-id", 0)},
          {"schemas", json::array({schema})},
          {"default-spec-id", 0},
          {"partition-specs", json::array({{{"spec-id", 0}, {"fields", spec_fields}}})},
          {"last-partition-id", kPartitionFieldId},
          {"default-sort-order-id", 0},
          {"sort-orders", json::array({{{"order-id", 0}, {"fields", json::array()}}})},
          {"properties",
           {{"write.format.default", "parquet"},
            {"schema.name-mapping.default", mapping},
            {"created-by", "spotify-etl cataloger"}}},
          {"current-snapshot-id", -1},
          {"refs", json::object()},
          {"snapshots", json::array()},
          {"snapshot-log", json::array()},
          {"metadata-log", json::array()}};
}

const json* current_schema(const json& metadata) {
  const int id = metadata.value("current-schema-id", -1);
  if (!metadata.contains("schemas") || !metadata["schemas"].is_array()) return nullptr;
  for (const auto& s : metadata["schemas"])
    if (s.value("schema-id", -2) == id) return &s;
  return nullptr;
}

const json* current_snapshot(const json& metadata) {
  if (!metadata.contains("current-snapshot-id") || !metadata["current-snapshot-id"].is_number_integer()) return nullptr;
  const std::int64_t id = metadata["current-snapshot-id"];
  if (id < 0 || !metadata.contains("snapshots") || !metadata["snapshots"].is_array()) return nullptr;
  for (const auto& s : metadata["snapshots"])
    if (s.value("snapshot-id", std::int64_t{-2}) == id) return &s;
  return nullptr;
}

Status validate_metadata(const json& doc) {
  if (!doc.is_object()) return make_error(Errc::invalid_argument, "Iceberg metadata is not a JSON object");
  if (doc.value("format-version", 0) != 2)
    return make_error(Errc::invalid_argument, "Iceberg metadata is not format-version 2");
  for (const char* field : {"table-uuid", "location", "schemas", "partition-specs", "last-sequence-number"})
    if (!doc.contains(field)) return make_error(Errc::invalid_argument, std::string("Iceberg metadata has no ") + field);
  if (!current_schema(doc)) return make_error(Errc::invalid_argument, "Iceberg metadata names no current schema");
  if (doc.value("current-snapshot-id", std::int64_t{-1}) >= 0 && !current_snapshot(doc))
    return make_error(Errc::invalid_argument, "Iceberg metadata's current snapshot is not among its snapshots");
  return {};
}

}  // namespace etl::cataloger::iceberg
