#include "pgwire/types.h"

#include <cctype>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "etl/ascii.h"
#include "value_json.h"

namespace etl::pgwire {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The engine's date ("2026-11-01", "12345-01-01", "0000-12-31", "-43-03-15": the
// year astronomical, 0 = 1 BC) -> PostgreSQL's ("0001-12-31 BC", "0044-03-15 BC").
// Anything else is left as it is.
std::string pg_date(const std::string& text) {
  const std::size_t month_dash = text.find('-', 1);
  if (month_dash == std::string::npos || text.size() != month_dash + 6) return text;
  long long year = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + month_dash, year);
  if (ec != std::errc{} || end != text.data() + month_dash) return text;
  if (year > 0) return text;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld", 1 - year);
  return buf + text.substr(month_dash) + " BC";
}

// "2026-11-01T10:00:00.5Z" -> "2026-11-01 10:00:00.5" (+ "+00" for timestamptz), the
// date as pg_date prints it and a BC era after the time, as PostgreSQL does.
std::string pg_timestamp(std::string text, bool with_zone) {
  if (text == "infinity" || text == "-infinity") return text;
  const std::size_t t = text.find('T', 1);
  if (t == std::string::npos) return text;
  std::string time = text.substr(t + 1);
  if (!time.empty() && time.back() == 'Z') {
    time.pop_back();
    if (with_zone) time += "+00";
  }
  std::string date = pg_date(text.substr(0, t));
  const bool bc = date.ends_with(" BC");
  if (bc) date.resize(date.size() - 3);
  return date + ' ' + time + (bc ? " BC" : "");
}

// The engine's text for a float that JSON cannot carry as a number -> PostgreSQL's spelling.
std::string pg_float(const std::string& text) {
  const std::string l = ascii_lower(text);
  if (l == "nan" || l == "+nan" || l == "-nan") return "NaN";
  if (l == "inf" || l == "+inf" || l == "infinity" || l == "+infinity") return "Infinity";
  if (l == "-inf" || l == "-infinity") return "-Infinity";
  return text;
}

// A JSON string's content -> the text of a PostgreSQL value of type `type_oid`.
std::string string_text(std::string s, std::int32_t type_oid) {
  if (type_oid == oid::timestamp || type_oid == oid::timestamptz) return pg_timestamp(std::move(s), type_oid == oid::timestamptz);
  if (type_oid == oid::date) return pg_date(s);
  if (type_oid == oid::float8 || type_oid == oid::float4) return pg_float(s);
  if (type_oid == oid::interval)
    if (auto parts = parse_iso_interval(s)) return pg_interval_text(*parts);
  return s;
}

// One scalar of a row or a list, as row_cells gives its JSON text (not null) -> the
// text of a PostgreSQL value of type `type_oid`; numbers keep their digits.
std::optional<std::string> scalar_text(std::string_view token, std::int32_t type_oid) {
  if (token == "true" || token == "false") return std::string(token == "true" ? "t" : "f");
  if (token.front() != '"') return std::string(token);
  auto v = nlohmann::json::parse(token, nullptr, false);
  if (!v.is_string()) return std::nullopt;
  return string_text(v.get<std::string>(), type_oid);
}

// A list's JSON text -> PostgreSQL's array literal of its items as `element` values;
// nullopt when the text is no list of scalars.
std::optional<std::string> list_text(std::string_view token, std::int32_t element) {
  auto cells = cataloger::row_cells(token);
  if (!cells) return std::nullopt;
  std::vector<std::optional<std::string>> items;
  items.reserve(cells->size());
  for (std::string_view cell : *cells) {
    if (cell == "null") {
      items.emplace_back(std::nullopt);
      continue;
    }
    if (cell.front() == '[' || cell.front() == '{') return std::nullopt;
    auto text = scalar_text(cell, element);
    if (!text) return std::nullopt;
    items.emplace_back(std::move(*text));
  }
  return array_literal(items);
}

}  // namespace

PgType pg_type(std::string_view engine_type) {
  std::string t = ascii_upper(engine_type);
  // Lists (X[]) and fixed-size arrays (X[3]) alike; a list of lists (INTEGER[][]) may be
  // ragged ([[1,2],[3]]), which a PostgreSQL array cannot be: it is sent as json.
  if (auto open = t.rfind('['); t.size() > 2 && t.back() == ']' && open != std::string::npos && open > 0 &&
                                t.find_first_not_of("0123456789", open + 1) == t.size() - 1) {
    std::string inner = t.substr(0, open);
    if (inner.back() == ']') return {oid::json, -1, "json"};
    const PgType item = pg_type(inner);
    if (item.oid == oid::json) return {oid::json, -1, "json"};  // lists of structs and maps
    if (const std::int32_t array = array_oid_of(item.oid); array != 0) return {array, -1, item.name + "[]", item.oid};
    return {oid::text_array, -1, "text[]", item.oid};  // intervals, UUIDs, times as their text
  }
  if (t == "VARCHAR" || t == "TEXT" || t == "STRING" || t == "ENUM" || starts_with(t, "VARCHAR(")) return {oid::text, -1, "text"};
  if (t == "BIGINT" || t == "INT8" || t == "LONG") return {oid::int8, 8, "bigint"};
  if (t == "INTEGER" || t == "INT" || t == "INT4") return {oid::int4, 4, "integer"};
  if (t == "SMALLINT" || t == "TINYINT" || t == "UTINYINT" || t == "INT2") return {oid::int2, 2, "smallint"};
  if (t == "USMALLINT") return {oid::int4, 4, "integer"};
  if (t == "UINTEGER") return {oid::int8, 8, "bigint"};
  if (t == "DOUBLE" || t == "FLOAT8") return {oid::float8, 8, "double precision"};
  if (t == "FLOAT" || t == "REAL" || t == "FLOAT4") return {oid::float4, 4, "real"};
  if (t == "BOOLEAN" || t == "BOOL") return {oid::boolean, 1, "boolean"};
  if (t == "DATE") return {oid::date, 4, "date"};
  if (t == "TIMESTAMP" || t == "TIMESTAMP_S" || t == "TIMESTAMP_MS" || t == "TIMESTAMP_NS")
    return {oid::timestamp, 8, "timestamp without time zone"};
  if (t == "TIMESTAMP WITH TIME ZONE" || t == "TIMESTAMPTZ") return {oid::timestamptz, 8, "timestamp with time zone"};
  if (t == "TIME") return {oid::time, 8, "time without time zone"};
  if (t == "INTERVAL") return {oid::interval, 16, "interval"};
  if (t == "UUID") return {oid::uuid, 16, "uuid"};
  if (t == "BLOB") return {oid::text, -1, "text"};  // the engine renders blobs as escaped text
  if (starts_with(t, "DECIMAL") || starts_with(t, "NUMERIC") || t == "HUGEINT" || t == "UHUGEINT" || t == "UBIGINT")
    return {oid::numeric, -1, "numeric"};
  if (starts_with(t, "STRUCT") || starts_with(t, "MAP") || t == "JSON") return {oid::json, -1, "json"};
  return {oid::text, -1, "text"};
}

std::optional<IntervalParts> parse_iso_interval(std::string_view s) {
  if (s.empty() || s.front() != 'P') return std::nullopt;
  s.remove_prefix(1);
  IntervalParts out;
  bool in_time = false, any = false;
  while (!s.empty()) {
    if (s.front() == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      s.remove_prefix(1);
      continue;
    }
    std::size_t i = 0;
    const bool negative = s[i] == '-';
    if (negative || s[i] == '+') ++i;
    std::int64_t whole = 0, frac = 0;
    int frac_digits = 0, whole_digits = 0;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i, ++whole_digits) {
      if (whole > 922337203685LL) return std::nullopt;  // keeps the microseconds below 2^63
      whole = whole * 10 + (s[i] - '0');
    }
    if (i < s.size() && s[i] == '.') {
      for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i)
        if (frac_digits < 6) frac = frac * 10 + (s[i] - '0'), ++frac_digits;
    }
    if (whole_digits == 0 || i >= s.size()) return std::nullopt;
    const char unit = s[i];
    s.remove_prefix(i + 1);
    if (frac_digits && !(in_time && unit == 'S')) return std::nullopt;
    for (; frac_digits < 6; ++frac_digits) frac *= 10;
    const std::int64_t sign = negative ? -1 : 1;
    if (!in_time && unit == 'Y') out.months += sign * whole * 12;
    else if (!in_time && unit == 'M') out.months += sign * whole;
    else if (!in_time && unit == 'W') out.days += sign * whole * 7;
    else if (!in_time && unit == 'D') out.days += sign * whole;
    else if (in_time && unit == 'H') out.micros += sign * whole * 3600000000LL;
    else if (in_time && unit == 'M') out.micros += sign * whole * 60000000LL;
    else if (in_time && unit == 'S') out.micros += sign * (whole * 1000000LL + frac);
    else return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  return out;
}

std::string pg_interval_text(const IntervalParts& p) {
  std::string out;
  auto field = [&](std::int64_t v, const char* one, const char* many) {
    if (v == 0) return;
    if (!out.empty()) out += ' ';
    out += std::to_string(v) + ' ' + (v == 1 ? one : many);
  };
  field(p.months / 12, "year", "years");
  field(p.months % 12, "mon", "mons");
  field(p.days, "day", "days");
  if (p.micros != 0 || out.empty()) {
    const bool earlier_negative = p.months < 0 || p.days < 0;
    if (!out.empty()) out += ' ';
    if (p.micros < 0) out += '-';
    else if (earlier_negative) out += '+';
    const std::uint64_t m = p.micros < 0 ? 0 - static_cast<std::uint64_t>(p.micros) : static_cast<std::uint64_t>(p.micros);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%02llu:%02llu:%02llu", static_cast<unsigned long long>(m / 3600000000ULL),
                  static_cast<unsigned long long>(m / 60000000ULL % 60), static_cast<unsigned long long>(m / 1000000ULL % 60));
    out += buf;
    if (const std::uint64_t frac = m % 1000000ULL; frac != 0) {
      std::snprintf(buf, sizeof buf, ".%06llu", static_cast<unsigned long long>(frac));
      std::string f(buf);
      while (f.back() == '0') f.pop_back();
      out += f;
    }
  }
  return out;
}

// The elements of a one-dimensional array literal ({"a",NULL,b}); nullopt for
// anything else (nested arrays included). As PostgreSQL's array_in reads one: white
// space around an element is not part of it, a backslash takes the next character as
// it is, NULL unquoted in any case is NULL, and an empty unquoted element is malformed.
std::optional<std::vector<std::optional<std::string>>> array_items(std::string_view s) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  std::vector<std::optional<std::string>> items;
  std::size_t i = 0;
  while (i < s.size() && space(s[i])) ++i;
  if (i == s.size()) return items;
  while (true) {
    while (i < s.size() && space(s[i])) ++i;
    std::string item;
    bool quoted = false;  // or escaped: "NULL" and N\ULL are text
    if (i < s.size() && s[i] == '"') {
      quoted = true;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        item += s[i];
      }
      if (i == s.size()) return std::nullopt;
      ++i;
      while (i < s.size() && space(s[i])) ++i;
    } else {
      std::size_t kept = 0;  // item's length up to its last escaped or non-space character
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '{' || s[i] == '}' || s[i] == '"') return std::nullopt;
        if (s[i] == '\\' && i + 1 < s.size()) {
          item += s[i + 1];
          i += 2;
          kept = item.size();
          quoted = true;
          continue;
        }
        item += s[i];
        if (!space(s[i++])) kept = item.size();
      }
      item.resize(kept);
      if (item.empty()) return std::nullopt;
    }
    if (!quoted && item.size() == 4 && ascii_lower(item) == "null")
      items.emplace_back(std::nullopt);
    else
      items.emplace_back(std::move(item));
    if (i == s.size()) return items;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
}


std::int32_t array_element_oid(std::int32_t array_oid) {
  switch (array_oid) {
    case oid::bool_array: return oid::boolean;
    case oid::int2_array: return oid::int2;
    case oid::int4_array: return oid::int4;
    case oid::int8_array: return oid::int8;
    case oid::float4_array: return oid::float4;
    case oid::float8_array: return oid::float8;
    case oid::numeric_array: return oid::numeric;
    case oid::text_array: return oid::text;
    case oid::varchar_array: return oid::varchar;
    case oid::date_array: return oid::date;
    case oid::timestamp_array: return oid::timestamp;
    case oid::timestamptz_array: return oid::timestamptz;
    case oid::oid_array: return oid::oid;
    default: return 0;
  }
}

std::int32_t array_oid_of(std::int32_t element_oid) {
  for (std::int32_t a : {oid::bool_array, oid::int2_array, oid::int4_array, oid::int8_array, oid::float4_array,
                         oid::float8_array, oid::numeric_array, oid::text_array, oid::varchar_array, oid::date_array,
                         oid::timestamp_array, oid::timestamptz_array, oid::oid_array})
    if (array_element_oid(a) == element_oid) return a;
  return 0;
}

std::string array_literal(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    if (!items[i]) {
      out += "NULL";
      continue;
    }
    const std::string& item = *items[i];
    const bool quoted = item.empty() || ascii_lower(item) == "null" ||
                        item.find_first_of("\"\\{},\t\n\v\f\r ") != std::string::npos;
    if (!quoted) {
      out += item;
      continue;
    }
    out += '"';
    for (char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

namespace {

Error bad_row() { return make_error(Errc::internal, "the engine returned a row that does not match its columns"); }

}  // namespace

Result<std::vector<std::optional<std::string>>> row_values(std::string_view json_row, const std::vector<PgType>& types) {
  // Numbers are taken as their text, in lists too (HUGEINT and DECIMAL digits stay
  // exact); strings go through the JSON parser, and so do json values.
  auto cells = cataloger::row_cells(json_row);
  if (!cells || cells->size() != types.size()) return bad_row();
  std::vector<std::optional<std::string>> out;
  out.reserve(types.size());
  for (std::size_t i = 0; i < cells->size(); ++i) {
    std::string_view token = (*cells)[i];
    const PgType& type = types[i];
    const std::int32_t element = type.element != 0 ? type.element : array_element_oid(type.oid);
    std::optional<std::string> text;
    if (token == "null") {
      out.emplace_back(std::nullopt);
      continue;
    }
    if (token.front() == '[' && element != 0) {
      text = list_text(token, element);
    } else if (token.front() == '[' || token.front() == '{') {  // json: lists of lists or structs, maps
      if (nlohmann::json::accept(token)) text = std::string(token);  // a struct's fields stay in their order
    } else {
      text = scalar_text(token, type.oid);
    }
    if (!text) return bad_row();
    out.emplace_back(std::move(text));
  }
  return out;
}

}  // namespace etl::pgwire
