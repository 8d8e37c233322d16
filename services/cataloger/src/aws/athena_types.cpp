#include "athena_types.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "etl/ascii.h"
#include "etl/s3_event.h"
#include "etl/json_text.h"
#include "value_json.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

// The base of a parameterised type: "decimal(10,2)" -> "decimal", "array(varchar)" -> "array".
std::string base_type(std::string_view type) {
  auto paren = type.find_first_of("(<");
  std::string out = ascii_lower(type.substr(0, paren));
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// JSON's number grammar (what we may splice in unquoted).
bool is_json_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i >= s.size()) return false;
  if (s[i] == '0') ++i;
  else if (s[i] >= '1' && s[i] <= '9') while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  else return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  return i == s.size();
}

// Athena (Java) writes "1.0E-5", "NaN", "Infinity"; JSON has no NaN, so those stay
// strings, as the DuckDB engine writes them.
void append_floating(std::string& out, std::string_view text) {
  if (is_json_number(text)) {
    out += text;
    return;
  }
  append_json_string(out, text);
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!is_digits(s.substr(0, 4)) || !is_digits(s.substr(5, 2)) || !is_digits(s.substr(8, 2))) return false;
  int month = std::stoi(std::string(s.substr(5, 2))), day = std::stoi(std::string(s.substr(8, 2)));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

// Splits the inside of "[...]" at top-level ", " (Athena's separator); nested
// brackets and braces stay whole.
std::vector<std::string_view> split_elements(std::string_view inner) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < inner.size(); ++i) {
    char c = inner[i];
    if (c == '[' || c == '{' || c == '(') ++depth;
    else if ((c == ']' || c == '}' || c == ')') && depth > 0) --depth;
    else if (c == ',' && depth == 0) {
      out.push_back(inner.substr(start, i - start));
      start = i + 1;
      if (start < inner.size() && inner[start] == ' ') ++start;
    }
  }
  out.push_back(inner.substr(start));
  return out;
}

}  // namespace

std::vector<AthenaColumn> athena_columns(const json& metadata) {
  std::vector<AthenaColumn> out;
  auto info = metadata.find("ColumnInfo");
  if (info == metadata.end() || !info->is_array()) return out;
  for (const auto& c : *info) {
    AthenaColumn col;
    std::string label = c.value("Label", std::string());
    col.name = label.empty() ? c.value("Name", std::string()) : label;
    col.type = ascii_lower(c.value("Type", std::string("varchar")));
    col.precision = c.contains("Precision") && c["Precision"].is_number_integer() ? c["Precision"].get<int>() : 0;
    col.scale = c.contains("Scale") && c["Scale"].is_number_integer() ? c["Scale"].get<int>() : 0;
    out.push_back(std::move(col));
  }
  return out;
}

std::string athena_sql_type(const AthenaColumn& column) {
  const std::string t = base_type(column.type);
  if (t == "varchar" || t == "char" || t == "string") return "VARCHAR";
  if (t == "tinyint") return "TINYINT";
  if (t == "smallint") return "SMALLINT";
  if (t == "integer" || t == "int") return "INTEGER";
  if (t == "bigint") return "BIGINT";
  if (t == "double") return "DOUBLE";
  if (t == "float" || t == "real") return "FLOAT";
  if (t == "decimal") {
    if (column.precision > 0)
      return "DECIMAL(" + std::to_string(column.precision) + "," + std::to_string(column.scale) + ")";
    if (column.type.size() > t.size()) {  // "decimal(10,2)" given inline
      std::string inline_args = column.type.substr(t.size());
      inline_args.erase(std::remove(inline_args.begin(), inline_args.end(), ' '), inline_args.end());
      return "DECIMAL" + inline_args;
    }
    return "DECIMAL";
  }
  if (t == "boolean") return "BOOLEAN";
  if (t == "date") return "DATE";
  if (t == "timestamp" || t == "timestamp with time zone") return t == "timestamp" ? "TIMESTAMP" : "TIMESTAMP WITH TIME ZONE";
  if (t == "array") return "VARCHAR[]";
  if (t == "map") return "MAP";
  if (t == "row" || t == "struct") return "ROW";
  if (t == "varbinary" || t == "binary") return "BLOB";
  if (t == "json") return "JSON";
  std::string upper = column.type;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::vector<ColumnInfo> column_infos(const std::vector<AthenaColumn>& columns) {
  std::vector<ColumnInfo> out;
  for (const auto& c : columns) out.push_back({c.name, athena_sql_type(c)});
  return out;
}

std::optional<std::string> athena_timestamp_to_rfc3339(std::string_view text) {
  // YYYY-MM-DD[ T]HH:MM:SS[.fff...][ UTC| Z| +HH:MM| -HH:MM]
  if (text.size() < 19 || !valid_date(text.substr(0, 10)) || (text[10] != ' ' && text[10] != 'T') ||
      text[13] != ':' || text[16] != ':' || !is_digits(text.substr(11, 2)) || !is_digits(text.substr(14, 2)) ||
      !is_digits(text.substr(17, 2)))
    return std::nullopt;
  size_t i = 19;
  std::string fraction;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) fraction += text[i++];
    if (fraction.empty()) return std::nullopt;
  }
  std::string_view zone = text.substr(i);
  while (!zone.empty() && zone.front() == ' ') zone.remove_prefix(1);
  int offset_minutes = 0;
  if (zone.empty() || zone == "UTC" || zone == "Z" || zone == "Etc/UTC" || zone == "GMT") {
  } else if ((zone.front() == '+' || zone.front() == '-') && zone.size() == 6 && zone[3] == ':' &&
             is_digits(zone.substr(1, 2)) && is_digits(zone.substr(4, 2))) {
    offset_minutes = std::stoi(std::string(zone.substr(1, 2))) * 60 + std::stoi(std::string(zone.substr(4, 2)));
    if (zone.front() == '-') offset_minutes = -offset_minutes;
  } else {
    return std::nullopt;  // a named zone: no tz database here
  }
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  std::string base = std::string(text.substr(0, 10)) + "T" + std::string(text.substr(11, 8));
  if (offset_minutes != 0) {
    using namespace std::chrono;
    int y = std::stoi(base.substr(0, 4)), mo = std::stoi(base.substr(5, 2)), d = std::stoi(base.substr(8, 2));
    int h = std::stoi(base.substr(11, 2)), mi = std::stoi(base.substr(14, 2)), s = std::stoi(base.substr(17, 2));
    sys_days day = year_month_day{year{y}, month{static_cast<unsigned>(mo)}, std::chrono::day{static_cast<unsigned>(d)}};
    sys_seconds t = day + hours{h} + minutes{mi} + seconds{s} - minutes{offset_minutes};
    std::string utc = rfc3339(t);  // "YYYY-MM-DDTHH:MM:SSZ"
    base = utc.substr(0, 19);
  }
  return base + (fraction.empty() ? "" : "." + fraction) + "Z";
}

std::optional<std::string> athena_array_to_json(std::string_view text) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  std::string_view inner = text.substr(1, text.size() - 2);
  std::string out = "[";
  if (!inner.empty()) {
    bool first = true;
    for (auto element : split_elements(inner)) {
      if (!first) out += ',';
      first = false;
      if (element == "null") out += "null";
      else if (auto nested = athena_array_to_json(element)) out += *nested;
      else append_json_string(out, element);
    }
  }
  out += ']';
  return out;
}

void append_athena_value(std::string& out, const std::optional<std::string_view>& value, const AthenaColumn& column) {
  if (!value) {
    out += "null";
    return;
  }
  const std::string_view text = *value;
  const std::string t = base_type(column.type);
  if (t == "tinyint" || t == "smallint" || t == "integer" || t == "int" || t == "bigint" || t == "decimal") {
    if (is_json_number(text)) out += text;
    else append_json_string(out, text);
  } else if (t == "double" || t == "float" || t == "real") {
    append_floating(out, text);
  } else if (t == "boolean") {
    if (text == "true" || text == "false") out += text;
    else append_json_string(out, text);
  } else if (t == "timestamp" || t == "timestamp with time zone") {
    auto ts = athena_timestamp_to_rfc3339(text);
    append_json_string(out, ts ? std::string_view(*ts) : text);
  } else if (t == "array") {
    auto array = athena_array_to_json(text);
    if (array) out += *array;
    else append_json_string(out, text);
  } else {
    append_json_string(out, text);  // varchar, char, date (already YYYY-MM-DD), map, row, json, ...
  }
}

std::string athena_row_json(const json& row, const std::vector<AthenaColumn>& columns) {
  std::string out = "[";
  const json* data = row.is_object() && row.contains("Data") ? &row["Data"] : nullptr;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ',';
    std::optional<std::string_view> value;
    if (data && data->is_array() && i < data->size()) {
      const json& datum = (*data)[i];
      if (datum.is_object())
        if (auto v = datum.find("VarCharValue"); v != datum.end() && v->is_string())
          value = std::string_view(v->get_ref<const std::string&>());
    }
    append_athena_value(out, value, columns[i]);
  }
  out += ']';
  return out;
}

bool is_header_row(const json& row, const std::vector<AthenaColumn>& columns) {
  if (!row.is_object() || !row.contains("Data") || !row["Data"].is_array()) return false;
  const json& data = row["Data"];
  if (data.size() != columns.size() || columns.empty()) return false;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!data[i].is_object() || !data[i].contains("VarCharValue") || !data[i]["VarCharValue"].is_string()) return false;
    if (data[i]["VarCharValue"].get<std::string>() != columns[i].name) return false;
  }
  return true;
}

std::optional<QueryState> parse_query_state(std::string_view state) {
  if (state == "QUEUED") return QueryState::queued;
  if (state == "RUNNING") return QueryState::running;
  if (state == "SUCCEEDED") return QueryState::succeeded;
  if (state == "FAILED") return QueryState::failed;
  if (state == "CANCELLED") return QueryState::cancelled;
  return std::nullopt;
}

std::string epoch_seconds_to_rfc3339(const json& value) {
  if (!value.is_number()) return "";
  double seconds = value.get<double>();
  if (!std::isfinite(seconds) || seconds < 0) return "";
  auto t = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds)));
  return rfc3339(t);
}

QueryStatus status_from_execution(const json& qe) {
  QueryStatus s;
  s.engine = "athena";
  s.query_id = qe.value("QueryExecutionId", std::string());
  json status = qe.value("Status", json::object());
  auto state = parse_query_state(status.value("State", std::string()));
  s.state = state.value_or(QueryState::running);
  s.submitted_at = epoch_seconds_to_rfc3339(status.value("SubmissionDateTime", json()));
  if (is_terminal(s.state)) s.completed_at = epoch_seconds_to_rfc3339(status.value("CompletionDateTime", json()));
  json stats = qe.value("Statistics", json::object());
  if (auto ms = stats.find("EngineExecutionTimeInMillis"); ms != stats.end() && ms->is_number())
    s.stats.elapsed_ms = ms->get<double>();
  if (auto reuse = stats.find("ResultReuseInformation"); reuse != stats.end() && reuse->is_object())
    s.stats.cached = reuse->value("ReusedPreviousResult", false);
  if (s.state == QueryState::succeeded) {
    json config = qe.value("ResultConfiguration", json::object());
    if (config.is_object()) s.result_location = config.value("OutputLocation", std::string());
  }
  if (s.state == QueryState::failed) {
    std::string reason = status.value("StateChangeReason", std::string());
    Errc code = Errc::invalid_argument;
    if (auto error = status.find("AthenaError"); error != status.end() && error->is_object()) {
      if (error->value("ErrorCategory", 0) == 1) code = Errc::unavailable;  // SYSTEM: Athena's side, not the SQL
      if (reason.empty()) reason = error->value("ErrorMessage", std::string());
    }
    s.error = make_error(code, "Athena: " + (reason.empty() ? std::string("the query failed") : reason));
  } else if (s.state == QueryState::cancelled) {
    s.error = make_error(Errc::cancelled, "cancelled");
  }
  return s;
}

}  // namespace etl::cataloger
