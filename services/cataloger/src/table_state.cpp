#include "table_state.h"

#include <cctype>
#include <cstdio>
#include <set>

#include "schema_merge.h"

namespace etl::cataloger {

bool is_table_name(std::string_view name) {
  if (name.empty() || name.front() == '_') return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::optional<DataKey> parse_data_key(std::string_view key) {
  // DuckDB expands glob characters in the paths a view reads (read_parquet of a
  // list globs each entry): such a key would read other files. Never a data file.
  if (key.find_first_of("*?[]{}\\") != std::string_view::npos) return std::nullopt;
  auto s1 = key.find('/');
  if (s1 == std::string_view::npos) return std::nullopt;
  auto s2 = key.find('/', s1 + 1);
  if (s2 == std::string_view::npos || key.find('/', s2 + 1) != std::string_view::npos) return std::nullopt;
  std::string_view table = key.substr(0, s1), part = key.substr(s1 + 1, s2 - s1 - 1), file = key.substr(s2 + 1);
  if (!is_table_name(table) || part.rfind("dt=", 0) != 0 || part.size() == 3) return std::nullopt;
  if (file.empty() || file.front() == '.' || file.front() == '_') return std::nullopt;
  auto dot = file.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view ext = file.substr(dot + 1);
  std::string format;
  if (ext == "parquet") format = "parquet";
  else if (ext == "csv") format = "csv";
  else if (ext == "jsonl" || ext == "ndjson" || ext == "json") format = "jsonl";
  else return std::nullopt;
  return DataKey{std::string(table), std::string(part.substr(3)), std::string(file), format};
}

std::string schema_id(const std::vector<ColumnInfo>& columns) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  };
  for (const auto& c : columns) {
    mix(c.name);
    mix(c.type);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string table_format(const TableState& table) {
  std::set<std::string> formats;
  for (const auto& [dt, p] : table.partitions)
    for (const auto& [key, f] : p.files) formats.insert(f.format);
  if (formats.empty()) return "";
  return formats.size() == 1 ? *formats.begin() : "mixed";
}

namespace {

nlohmann::json columns_json(const std::vector<ColumnInfo>& columns) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : columns) out.push_back({{"name", c.name}, {"type", c.type}});
  return out;
}

std::vector<ColumnInfo> columns_from(const nlohmann::json& arr) {
  std::vector<ColumnInfo> out;
  for (const auto& c : arr) out.push_back({c.at("name").get<std::string>(), c.at("type").get<std::string>()});
  return out;
}

}  // namespace

nlohmann::json to_json(const TableState& table) {
  nlohmann::json partitions = nlohmann::json::array();
  std::set<std::string> used;
  for (const auto& [dt, p] : table.partitions) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& [key, f] : p.files) {
      files.push_back({{"key", f.key}, {"size", f.size}, {"etag", f.etag}, {"format", f.format}, {"schema", f.schema_id}});
      used.insert(f.schema_id);
    }
    partitions.push_back({{"dt", dt}, {"files", files}});
  }
  nlohmann::json schemas = nlohmann::json::object();
  for (const auto& [id, cols] : table.schemas)
    if (used.count(id)) schemas[id] = columns_json(cols);
  return {{"format", "spotify-etl.catalog.table.v1"},
          {"name", table.name},
          {"columns", columns_json(table.columns)},
          {"partition_keys", {"dt"}},
          {"version", table.version},
          {"data_version", table.data_version},
          {"created_at", table.created_at},
          {"updated_at", table.updated_at},
          {"schemas", schemas},
          {"partitions", partitions}};
}

Result<TableState> table_state_from_json(const nlohmann::json& doc) {
  try {
    TableState t;
    t.name = doc.at("name").get<std::string>();
    t.columns = columns_from(doc.at("columns"));
    t.version = doc.value("version", std::int64_t{0});
    t.data_version = doc.value("data_version", std::int64_t{0});
    t.created_at = doc.value("created_at", "");
    t.updated_at = doc.value("updated_at", "");
    for (const auto& [id, cols] : doc.at("schemas").items()) t.schemas[id] = columns_from(cols);
    for (const auto& p : doc.at("partitions")) {
      PartitionState& part = t.partitions[p.at("dt").get<std::string>()];
      for (const auto& f : p.at("files")) {
        FileState fs{f.at("key").get<std::string>(), f.value("size", std::uint64_t{0}), f.value("etag", ""),
                     f.value("format", ""), f.value("schema", "")};
        part.files[fs.key] = fs;
      }
    }
    if (!is_table_name(t.name)) return make_error(Errc::bad_data, "catalog entry has a bad table name");
    return t;
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::bad_data, std::string("catalog entry is malformed: ") + e.what());
  }
}

TableInfo table_info(const TableState& table, const std::string& database, const std::string& root_url) {
  TableInfo info;
  info.name = table.name;
  info.database = database;
  info.location = root_url + "/" + table.name + "/";
  info.format = table_format(table);
  for (const auto& c : table.columns) info.columns.push_back({c.name, exposed_type(c.type)});
  info.partitions = static_cast<std::int64_t>(table.partitions.size());
  info.version = table.version;
  info.data_version = table.data_version;
  info.updated_at = table.updated_at;
  return info;
}

std::vector<PartitionInfo> partition_infos(const TableState& table, const std::string& root_url) {
  std::vector<PartitionInfo> out;
  for (const auto& [dt, p] : table.partitions) {
    PartitionInfo info{{dt}, root_url + "/" + table.name + "/dt=" + dt + "/", {}};
    for (const auto& [key, f] : p.files) {
      auto schema = table.schemas.find(f.schema_id);
      info.files.push_back({f.key, f.size, f.etag, f.format,
                            schema == table.schemas.end() ? std::vector<ColumnInfo>{} : schema->second});
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace etl::cataloger
