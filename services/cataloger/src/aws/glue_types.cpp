#include "glue_types.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "etl/ascii.h"
#include "athena_types.h"
#include "aws_fields.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;
using aws_fields::field;
using aws_fields::text;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// Splits "a:int,b:array<string>" at top-level commas.
std::vector<std::string> split_top(std::string_view s) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<' || s[i] == '(') ++depth;
    else if ((s[i] == '>' || s[i] == ')') && depth > 0) --depth;
    else if (s[i] == ',' && depth == 0) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(trim(s.substr(start)));
  return out;
}

double epoch_seconds(const json& value) { return value.is_number() ? value.get<double>() : 0.0; }

}  // namespace

std::string glue_sql_type(std::string_view hive_type) {
  const std::string t = trim(hive_type);
  const std::string l = ascii_lower(t);
  auto inner = [&](size_t open) { return std::string_view(t).substr(open + 1, t.size() - open - 2); };
  if (l.starts_with("array<") && l.ends_with(">")) return glue_sql_type(inner(5)) + "[]";
  if (l.starts_with("map<") && l.ends_with(">")) {
    auto parts = split_top(inner(3));
    if (parts.size() == 2) return "MAP(" + glue_sql_type(parts[0]) + ", " + glue_sql_type(parts[1]) + ")";
  }
  if (l.starts_with("struct<") && l.ends_with(">")) {
    std::string out = "STRUCT(";
    bool first = true;
    for (const auto& field : split_top(inner(6))) {
      auto colon = field.find(':');
      if (colon == std::string::npos) continue;
      if (!first) out += ", ";
      first = false;
      out += trim(std::string_view(field).substr(0, colon)) + " " + glue_sql_type(std::string_view(field).substr(colon + 1));
    }
    return out + ")";
  }
  if (l.starts_with("decimal")) {
    std::string args = l.substr(7);
    args.erase(std::remove(args.begin(), args.end(), ' '), args.end());
    return "DECIMAL" + args;
  }
  if (l == "string" || l.starts_with("varchar") || l.starts_with("char")) return "VARCHAR";
  if (l == "int" || l == "integer") return "INTEGER";
  if (l == "bigint") return "BIGINT";
  if (l == "smallint") return "SMALLINT";
  if (l == "tinyint") return "TINYINT";
  if (l == "double") return "DOUBLE";
  if (l == "float" || l == "real") return "FLOAT";
  if (l == "boolean") return "BOOLEAN";
  if (l == "date") return "DATE";
  if (l == "timestamp") return "TIMESTAMP";
  if (l == "binary") return "BLOB";
  std::string upper = t;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string glue_table_format(const json& table) {
  auto from_text = [](std::string text) -> std::string {
    text = ascii_lower(text);
    if (text.find("parquet") != std::string::npos) return "parquet";
    if (text.find("json") != std::string::npos) return "jsonl";
    if (text.find("csv") != std::string::npos || text.find("lazysimpleserde") != std::string::npos) return "csv";
    return "";
  };
  const json& params = field(table, "Parameters");
  if (params.is_object())
    if (auto c = params.find("classification"); c != params.end() && c->is_string())
      if (auto f = from_text(c->get<std::string>()); !f.empty()) return f;
  const json& sd = field(table, "StorageDescriptor");
  if (!sd.is_object()) return "";
  const json& serde = field(sd, "SerdeInfo");
  if (serde.is_object())
    if (auto f = from_text(text(serde, "SerializationLibrary")); !f.empty()) return f;
  return from_text(text(sd, "InputFormat"));
}

std::int64_t glue_update_millis(const json& table) {
  double s = epoch_seconds(field(table, "UpdateTime"));
  if (s <= 0) s = epoch_seconds(field(table, "CreateTime"));
  return s > 0 ? static_cast<std::int64_t>(std::llround(s * 1000.0)) : 0;
}

TableInfo glue_table_info(const json& table, const std::string& database) {
  TableInfo info;
  info.name = text(table, "Name");
  info.database = text(table, "DatabaseName", database);
  const json& sd = field(table, "StorageDescriptor");
  if (sd.is_object()) {
    info.location = text(sd, "Location");
    if (auto cols = sd.find("Columns"); cols != sd.end() && cols->is_array())
      for (const auto& c : *cols) info.columns.push_back({text(c, "Name"), glue_sql_type(text(c, "Type", "string"))});
  }
  if (!info.location.empty() && info.location.back() != '/') info.location += '/';
  info.format = glue_table_format(table);
  info.partition_keys.clear();
  if (auto keys = table.find("PartitionKeys"); keys != table.end() && keys->is_array())
    for (const auto& k : *keys) info.partition_keys.push_back(text(k, "Name"));
  info.version = 1;
  if (auto v = table.find("VersionId"); v != table.end() && v->is_string()) {
    try {
      info.version = std::stoll(v->get<std::string>()) + 1;
    } catch (const std::exception&) {
      info.version = std::max<std::int64_t>(1, glue_update_millis(table) / 1000);
    }
  } else if (glue_update_millis(table) > 0) {
    info.version = glue_update_millis(table) / 1000;
  }
  json when = field(table, "UpdateTime");
  if (!when.is_number()) when = field(table, "CreateTime");
  info.updated_at = epoch_seconds_to_rfc3339(when);
  return info;
}

PartitionInfo glue_partition_info(const json& partition) {
  PartitionInfo p;
  if (auto values = partition.find("Values"); values != partition.end() && values->is_array())
    for (const auto& v : *values) p.values.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  p.location = text(field(partition, "StorageDescriptor"), "Location");
  return p;
}

}  // namespace etl::cataloger
