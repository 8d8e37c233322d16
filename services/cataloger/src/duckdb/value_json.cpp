// Over 400 lines on purpose: one reader per DuckDB physical type (integers of every
// width, decimals, dates, times, timestamps with and without zone, intervals, UUIDs,
// blobs, lists, structs, maps) and the JSON/CSV writers that must agree with them;
// split, the type switch would be spread over files that change together.
#include "value_json.h"

#include "etl/dates.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>

#include "etl/json_text.h"

namespace etl::cataloger {
namespace {

// Owns a logical type handle.
struct Type {
  duckdb_logical_type t = nullptr;
  explicit Type(duckdb_logical_type type) : t(type) {}
  ~Type() {
    if (t) duckdb_destroy_logical_type(&t);
  }
  Type(const Type&) = delete;
  Type& operator=(const Type&) = delete;
};

std::string take_string(char* s) {
  std::string out = s ? s : "";
  if (s) duckdb_free(s);
  return out;
}

// How to read one vector (and its children) of a chunk.
struct Reader {
  duckdb_type type = DUCKDB_TYPE_INVALID;
  const void* data = nullptr;
  const std::uint64_t* validity = nullptr;
  std::uint8_t scale = 0;                    // DECIMAL
  duckdb_type internal = DUCKDB_TYPE_INVALID;  // DECIMAL, ENUM storage
  std::vector<std::string> dict;             // ENUM
  std::vector<Reader> children;              // LIST / ARRAY: 1, STRUCT: n, MAP: key and value
  std::vector<std::string> names;            // STRUCT
  idx_t array_size = 0;                      // ARRAY

  bool valid(idx_t row) const { return !validity || ((validity[row >> 6] >> (row & 63)) & 1); }
  template <class T>
  T at(idx_t row) const {
    T v;
    std::memcpy(&v, static_cast<const char*>(data) + row * sizeof(T), sizeof(T));
    return v;
  }
};

Reader make_reader(duckdb_vector vec, duckdb_logical_type type) {
  Reader r;
  r.type = duckdb_get_type_id(type);
  r.data = duckdb_vector_get_data(vec);
  r.validity = duckdb_vector_get_validity(vec);
  switch (r.type) {
    case DUCKDB_TYPE_DECIMAL:
      r.scale = duckdb_decimal_scale(type);
      r.internal = duckdb_decimal_internal_type(type);
      break;
    case DUCKDB_TYPE_ENUM: {
      r.internal = duckdb_enum_internal_type(type);
      auto n = duckdb_enum_dictionary_size(type);
      for (uint32_t i = 0; i < n; ++i) r.dict.push_back(take_string(duckdb_enum_dictionary_value(type, i)));
      break;
    }
    case DUCKDB_TYPE_LIST: {
      Type child(duckdb_list_type_child_type(type));
      r.children.push_back(make_reader(duckdb_list_vector_get_child(vec), child.t));
      break;
    }
    case DUCKDB_TYPE_ARRAY: {
      Type child(duckdb_array_type_child_type(type));
      r.array_size = duckdb_array_type_array_size(type);
      r.children.push_back(make_reader(duckdb_array_vector_get_child(vec), child.t));
      break;
    }
    case DUCKDB_TYPE_MAP: {
      duckdb_vector entries = duckdb_list_vector_get_child(vec);
      Type key(duckdb_map_type_key_type(type)), value(duckdb_map_type_value_type(type));
      r.children.push_back(make_reader(duckdb_struct_vector_get_child(entries, 0), key.t));
      r.children.push_back(make_reader(duckdb_struct_vector_get_child(entries, 1), value.t));
      break;
    }
    case DUCKDB_TYPE_STRUCT: {
      idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        Type child(duckdb_struct_type_child_type(type, i));
        r.names.push_back(take_string(duckdb_struct_type_child_name(type, i)));
        r.children.push_back(make_reader(duckdb_struct_vector_get_child(vec, i), child.t));
      }
      break;
    }
    default:
      break;
  }
  return r;
}

template <class T>
void append_number(std::string& out, T v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void append_int128(std::string& out, __int128 v) {
  if (v >= std::numeric_limits<std::int64_t>::min() && v <= std::numeric_limits<std::int64_t>::max()) {
    append_number(out, static_cast<std::int64_t>(v));
    return;
  }
  bool negative = v < 0;
  unsigned __int128 u = negative ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  char buf[48];
  int i = sizeof buf;
  while (u > 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  if (negative) buf[--i] = '-';
  out.append(buf + i, sizeof buf - i);
}

void append_uint128(std::string& out, unsigned __int128 u) {
  if (u == 0) {
    out += '0';
    return;
  }
  char buf[48];
  int i = sizeof buf;
  while (u > 0) {
    buf[--i] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  }
  out.append(buf + i, sizeof buf - i);
}

void append_decimal(std::string& out, __int128 v, int scale) {
  if (scale == 0) return append_int128(out, v);
  std::string digits;
  bool negative = v < 0;
  unsigned __int128 u = negative ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  append_uint128(digits, u);
  if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
  if (negative) out += '-';
  out.append(digits, 0, digits.size() - scale);
  out += '.';
  out.append(digits, digits.size() - scale, std::string::npos);
}

void append_two(std::string& out, int v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

void append_time_of_day(std::string& out, std::int64_t micros) {
  int h = static_cast<int>(micros / 3600000000LL), m = static_cast<int>(micros / 60000000LL % 60),
      s = static_cast<int>(micros / 1000000 % 60);
  append_two(out, h);
  out += ':';
  append_two(out, m);
  out += ':';
  append_two(out, s);
  if (std::int64_t frac = micros % 1000000; frac != 0) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%06lld", static_cast<long long>(frac));
    std::string f(buf);
    while (f.back() == '0') f.pop_back();
    out += '.';
    out += f;
  }
}

std::string format_interval(duckdb_interval iv) {
  std::string out = "P";
  if (iv.months / 12) out += std::to_string(iv.months / 12) + "Y";
  if (iv.months % 12) out += std::to_string(iv.months % 12) + "M";
  if (iv.days) out += std::to_string(iv.days) + "D";
  if (iv.micros || out == "P") {
    out += "T";
    std::int64_t m = iv.micros;
    if (m / 3600000000LL) out += std::to_string(m / 3600000000LL) + "H";
    if (m / 60000000LL % 60) out += std::to_string(m / 60000000LL % 60) + "M";
    std::int64_t rest = m % 60000000LL;
    if (rest || out.back() == 'T') {
      std::string s;
      append_decimal(s, rest, 6);
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
      out += s + "S";
    }
  }
  return out;
}

// raw: a JSON number or boolean as is; text: a JSON string; word: a JSON string that
// is no text a user typed (a float's NaN or -Infinity, a date, a time, an interval):
// CSV writes it as it is, where text starting with '-' or '=' gets a guarding apostrophe.
enum class Shape { null, raw, text, word };

// The text of a non-nested value: raw (JSON number or boolean as is) or text.
Shape scalar(const Reader& r, idx_t row, std::string& out) {
  switch (r.type) {
    case DUCKDB_TYPE_BOOLEAN: out += r.at<bool>(row) ? "true" : "false"; return Shape::raw;
    case DUCKDB_TYPE_TINYINT: append_number(out, r.at<std::int8_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_SMALLINT: append_number(out, r.at<std::int16_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_INTEGER: append_number(out, r.at<std::int32_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_BIGINT: append_number(out, r.at<std::int64_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_UTINYINT: append_number(out, r.at<std::uint8_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_USMALLINT: append_number(out, r.at<std::uint16_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_UINTEGER: append_number(out, r.at<std::uint32_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_UBIGINT: append_number(out, r.at<std::uint64_t>(row)); return Shape::raw;
    case DUCKDB_TYPE_HUGEINT: {
      auto h = r.at<duckdb_hugeint>(row);
      append_int128(out, static_cast<__int128>(h.upper) * (static_cast<__int128>(1) << 64) + h.lower);
      return Shape::raw;
    }
    case DUCKDB_TYPE_UHUGEINT: {
      auto h = r.at<duckdb_uhugeint>(row);
      append_uint128(out, (static_cast<unsigned __int128>(h.upper) << 64) | h.lower);
      return Shape::raw;
    }
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: {
      double v = r.type == DUCKDB_TYPE_FLOAT ? static_cast<double>(r.at<float>(row)) : r.at<double>(row);
      if (!std::isfinite(v)) {  // JSON has no such numbers: PostgreSQL's and Trino's words, as strings
        out += non_finite_word(v);
        return Shape::word;
      }
      if (r.type == DUCKDB_TYPE_FLOAT) append_number(out, r.at<float>(row));
      else append_number(out, v);
      return Shape::raw;
    }
    case DUCKDB_TYPE_DECIMAL: {
      __int128 v = 0;
      switch (r.internal) {
        case DUCKDB_TYPE_SMALLINT: v = r.at<std::int16_t>(row); break;
        case DUCKDB_TYPE_INTEGER: v = r.at<std::int32_t>(row); break;
        case DUCKDB_TYPE_BIGINT: v = r.at<std::int64_t>(row); break;
        default: {
          auto h = r.at<duckdb_hugeint>(row);
          v = static_cast<__int128>(h.upper) * (static_cast<__int128>(1) << 64) + h.lower;
        }
      }
      append_decimal(out, v, r.scale);
      return Shape::raw;
    }
    case DUCKDB_TYPE_VARCHAR:
    case DUCKDB_TYPE_BLOB: {
      // Inlined strings live inside the vector's own slot: read them in place.
      auto* slot = static_cast<duckdb_string_t*>(const_cast<void*>(r.data)) + row;
      const char* p = duckdb_string_t_data(slot);
      std::uint32_t n = duckdb_string_t_length(*slot);
      if (r.type == DUCKDB_TYPE_VARCHAR) {
        out.append(p, n);
      } else {
        for (std::uint32_t i = 0; i < n; ++i) {
          unsigned char c = static_cast<unsigned char>(p[i]);
          if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
          } else {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
          }
        }
      }
      return Shape::text;
    }
    case DUCKDB_TYPE_DATE: {
      std::int32_t d = r.at<std::int32_t>(row);
      if (d == std::numeric_limits<std::int32_t>::max()) out += "infinity";
      else if (d == -std::numeric_limits<std::int32_t>::max()) out += "-infinity";
      else out += format_date(d);
      return Shape::word;
    }
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS: {
      std::int64_t v = r.at<std::int64_t>(row);
      if (v == std::numeric_limits<std::int64_t>::max()) {
        out += "infinity";
        return Shape::word;
      }
      if (v == -std::numeric_limits<std::int64_t>::max()) {
        out += "-infinity";
        return Shape::word;
      }
      if (r.type == DUCKDB_TYPE_TIMESTAMP_S) v *= 1000000;
      else if (r.type == DUCKDB_TYPE_TIMESTAMP_MS) v *= 1000;
      else if (r.type == DUCKDB_TYPE_TIMESTAMP_NS) v = v / 1000 - (v % 1000 < 0);  // floor: before 1970 too
      out += format_timestamp_micros(v);
      return Shape::word;
    }
    case DUCKDB_TYPE_TIME: append_time_of_day(out, r.at<std::int64_t>(row)); return Shape::word;
    case DUCKDB_TYPE_TIME_NS: append_time_of_day(out, r.at<std::int64_t>(row) / 1000); return Shape::word;
    case DUCKDB_TYPE_TIME_TZ: {
      auto t = duckdb_from_time_tz(r.at<duckdb_time_tz>(row));
      std::int64_t micros = ((t.time.hour * 60LL + t.time.min) * 60 + t.time.sec) * 1000000LL + t.time.micros;
      append_time_of_day(out, micros);
      int off = t.offset;
      out += off < 0 ? '-' : '+';
      off = std::abs(off);
      append_two(out, off / 3600);
      out += ':';
      append_two(out, off / 60 % 60);
      return Shape::word;
    }
    case DUCKDB_TYPE_INTERVAL: out += format_interval(r.at<duckdb_interval>(row)); return Shape::word;
    case DUCKDB_TYPE_UUID: {
      auto h = r.at<duckdb_hugeint>(row);
      std::uint64_t upper = static_cast<std::uint64_t>(h.upper) ^ (std::uint64_t{1} << 63);
      char buf[40];
      std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(upper >> 32),
                    static_cast<unsigned long long>((upper >> 16) & 0xffff), static_cast<unsigned long long>(upper & 0xffff),
                    static_cast<unsigned long long>(h.lower >> 48), static_cast<unsigned long long>(h.lower & 0xffffffffffffull));
      out += buf;
      return Shape::text;
    }
    case DUCKDB_TYPE_ENUM: {
      std::uint64_t idx = r.internal == DUCKDB_TYPE_UTINYINT    ? r.at<std::uint8_t>(row)
                          : r.internal == DUCKDB_TYPE_USMALLINT ? r.at<std::uint16_t>(row)
                                                                : r.at<std::uint32_t>(row);
      if (idx >= r.dict.size()) return Shape::null;
      out += r.dict[idx];
      return Shape::text;
    }
    default:
      return Shape::null;  // BIT, BIGNUM, UNION ...: not mapped
  }
}

bool is_nested(duckdb_type t) {
  return t == DUCKDB_TYPE_LIST || t == DUCKDB_TYPE_ARRAY || t == DUCKDB_TYPE_STRUCT || t == DUCKDB_TYPE_MAP;
}

// The length of a VARCHAR or BLOB value, read before any copy of it is made; 0
// for other types.
std::size_t text_length(const Reader& r, idx_t row) {
  if (r.type != DUCKDB_TYPE_VARCHAR && r.type != DUCKDB_TYPE_BLOB) return 0;
  return duckdb_string_t_length(static_cast<const duckdb_string_t*>(r.data)[row]);
}

// Appends the value's JSON to `out`, or returns false (`out` then holds part of it)
// as soon as `out` would grow past `limit` bytes: a list of a million long strings
// is refused by its size before all of it is copied.
bool append_json(std::string& out, const Reader& r, idx_t row, std::size_t limit) {
  if (!r.valid(row)) {
    out += "null";
    return true;
  }
  switch (r.type) {
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
      idx_t offset = row * r.array_size, length = r.array_size;
      if (r.type == DUCKDB_TYPE_LIST) {
        auto e = r.at<duckdb_list_entry>(row);
        offset = e.offset;
        length = e.length;
      }
      out += '[';
      for (idx_t i = 0; i < length; ++i) {
        if (i) out += ',';
        if (!append_json(out, r.children[0], offset + i, limit)) return false;
      }
      out += ']';
      return out.size() <= limit;
    }
    case DUCKDB_TYPE_MAP: {
      auto e = r.at<duckdb_list_entry>(row);
      out += '{';
      for (idx_t i = 0; i < e.length; ++i) {
        if (i) out += ',';
        std::string key;
        if (out.size() + text_length(r.children[0], e.offset + i) > limit) return false;
        if (is_nested(r.children[0].type) || scalar(r.children[0], e.offset + i, key) == Shape::null) key.clear();
        append_json_string(out, key);
        out += ':';
        if (!append_json(out, r.children[1], e.offset + i, limit)) return false;
      }
      out += '}';
      return out.size() <= limit;
    }
    case DUCKDB_TYPE_STRUCT: {
      // An unnamed struct (a row: `(1, 'a')`, `row(1, 'a')`) names every field "": as an
      // object its fields would share one key, and a reader would keep only the last.
      const bool unnamed = std::all_of(r.names.begin(), r.names.end(), [](const std::string& n) { return n.empty(); });
      out += unnamed ? '[' : '{';
      for (size_t i = 0; i < r.children.size(); ++i) {
        if (i) out += ',';
        if (!unnamed) {
          append_json_string(out, r.names[i]);
          out += ':';
        }
        if (!append_json(out, r.children[i], row, limit)) return false;
      }
      out += unnamed ? ']' : '}';
      return out.size() <= limit;
    }
    default: {
      if (out.size() + text_length(r, row) > limit) return false;
      std::string text;
      switch (scalar(r, row, text)) {
        case Shape::null: out += "null"; break;
        case Shape::raw: out += text; break;
        case Shape::text:
        case Shape::word: append_json_string(out, text); break;
      }
      return out.size() <= limit;
    }
  }
}

// The end of the JSON value starting at `i` (strings, nested arrays and objects skipped
// whole), or npos when the text ends first.
std::size_t value_end(std::string_view s, std::size_t i) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t j = i; j < s.size(); ++j) {
    char c = s[j];
    if (in_string) {
      if (c == '\\') ++j;
      else if (c == '"') {
        in_string = false;
        if (depth == 0) return j + 1;
      }
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if (c == ']' || c == '}') {
      if (depth == 0) return j;  // the end of a scalar that ends the row
      if (--depth == 0) return j + 1;
    } else if (c == ',' && depth == 0) return j;
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<std::vector<std::string_view>> row_cells(std::string_view row) {
  constexpr std::string_view kBlanks = " \t\r\n";
  std::vector<std::string_view> cells;
  std::size_t i = row.find_first_not_of(kBlanks);
  if (i == std::string_view::npos || row[i] != '[') return std::nullopt;
  ++i;
  while (true) {
    i = row.find_first_not_of(kBlanks, i);
    if (i == std::string_view::npos) return std::nullopt;
    if (row[i] == ']' && cells.empty()) return cells;
    auto end = value_end(row, i);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view cell = row.substr(i, end - i);
    while (!cell.empty() && kBlanks.find(cell.back()) != std::string_view::npos) cell.remove_suffix(1);
    if (cell.empty()) return std::nullopt;
    cells.push_back(cell);
    i = row.find_first_not_of(kBlanks, end);
    if (i == std::string_view::npos) return std::nullopt;
    if (row[i] == ']') return cells;
    if (row[i] != ',') return std::nullopt;
    ++i;
  }
}

std::string unmapped_type(duckdb_logical_type type) {
  switch (duckdb_get_type_id(type)) {
    case DUCKDB_TYPE_BOOLEAN: case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_DECIMAL: case DUCKDB_TYPE_VARCHAR: case DUCKDB_TYPE_BLOB:
    case DUCKDB_TYPE_DATE: case DUCKDB_TYPE_TIMESTAMP: case DUCKDB_TYPE_TIMESTAMP_TZ: case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS: case DUCKDB_TYPE_TIMESTAMP_NS: case DUCKDB_TYPE_TIME: case DUCKDB_TYPE_TIME_NS:
    case DUCKDB_TYPE_TIME_TZ: case DUCKDB_TYPE_INTERVAL: case DUCKDB_TYPE_UUID: case DUCKDB_TYPE_ENUM:
    case DUCKDB_TYPE_SQLNULL:
      return "";
    case DUCKDB_TYPE_LIST: {
      Type child(duckdb_list_type_child_type(type));
      return unmapped_type(child.t);
    }
    case DUCKDB_TYPE_ARRAY: {
      Type child(duckdb_array_type_child_type(type));
      return unmapped_type(child.t);
    }
    case DUCKDB_TYPE_MAP: {
      Type key(duckdb_map_type_key_type(type)), value(duckdb_map_type_value_type(type));
      if (is_nested(duckdb_get_type_id(key.t))) return type_name(type);
      std::string k = unmapped_type(key.t);
      return k.empty() ? unmapped_type(value.t) : k;
    }
    case DUCKDB_TYPE_STRUCT: {
      idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        Type child(duckdb_struct_type_child_type(type, i));
        if (std::string u = unmapped_type(child.t); !u.empty()) return u;
      }
      return "";
    }
    default:
      return type_name(type);
  }
}

std::string type_name(duckdb_logical_type type) {
  duckdb_type id = duckdb_get_type_id(type);
  switch (id) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL(" + std::to_string(duckdb_decimal_width(type)) + "," + std::to_string(duckdb_decimal_scale(type)) + ")";
    case DUCKDB_TYPE_VARCHAR: {
      std::string alias = take_string(duckdb_logical_type_get_alias(type));
      return alias.empty() ? "VARCHAR" : alias;
    }
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIME: return "TIME";
    case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
    case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_TIMESTAMP_S: return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS: return "TIMESTAMP_NS";
    case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
    case DUCKDB_TYPE_UUID: return "UUID";
    case DUCKDB_TYPE_ENUM: return "ENUM";
    case DUCKDB_TYPE_LIST: {
      Type child(duckdb_list_type_child_type(type));
      return type_name(child.t) + "[]";
    }
    case DUCKDB_TYPE_ARRAY: {
      Type child(duckdb_array_type_child_type(type));
      return type_name(child.t) + "[" + std::to_string(duckdb_array_type_array_size(type)) + "]";
    }
    case DUCKDB_TYPE_MAP: {
      Type key(duckdb_map_type_key_type(type)), value(duckdb_map_type_value_type(type));
      return "MAP(" + type_name(key.t) + ", " + type_name(value.t) + ")";
    }
    case DUCKDB_TYPE_STRUCT: {
      std::string out = "STRUCT(";
      idx_t n = duckdb_struct_type_child_count(type);
      for (idx_t i = 0; i < n; ++i) {
        Type child(duckdb_struct_type_child_type(type, i));
        out += (i ? ", " : "") + take_string(duckdb_struct_type_child_name(type, i)) + " " + type_name(child.t);
      }
      return out + ")";
    }
    case DUCKDB_TYPE_SQLNULL: return "NULL";
    // Types without a JSON form: named, so the 400 that refuses them says which (cast it).
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_UNION: return "UNION";
    default: return "UNKNOWN";
  }
}

void append_csv_cell(std::string& out, std::string_view text, bool is_null, bool is_text) {
  if (is_null) return;
  // A text cell a spreadsheet would take for a formula gets a leading apostrophe
  // (OWASP's advice for CSV injection); numbers are never changed.
  if (is_text && !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) {
    std::string guarded = "'" + std::string(text);
    return append_csv_cell(out, guarded, false, false);
  }
  if (!text.empty() && text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

const char* non_finite_word(double v) { return std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"; }

bool is_non_finite_word(std::string_view text) { return text == "NaN" || text == "Infinity" || text == "-Infinity"; }

std::string format_date(std::int32_t days) {
  int y, m, d;
  civil_from_days(days, y, m, d);
  char buf[80];
  // ISO 8601's expanded years outside 0000-9999 (astronomical numbering: 44 BC is -0043).
  if (y >= 0 && y <= 9999) std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  else std::snprintf(buf, sizeof buf, "%+05d-%02d-%02d", y, m, d);
  return buf;
}

std::string format_timestamp_micros(std::int64_t micros) {
  std::int64_t days = micros / 86400000000LL;
  std::int64_t rest = micros % 86400000000LL;
  if (rest < 0) {
    rest += 86400000000LL;
    --days;
  }
  std::string out = format_date(static_cast<std::int32_t>(days));
  out += 'T';
  append_time_of_day(out, rest);
  out += 'Z';
  return out;
}

ChunkConverter::Converted ChunkConverter::convert(duckdb_data_chunk chunk, std::vector<std::string>& rows,
                                                  std::string* csv, std::size_t budget) {
  idx_t columns = duckdb_data_chunk_get_column_count(chunk);
  idx_t size = duckdb_data_chunk_get_size(chunk);
  std::vector<Reader> readers;
  readers.reserve(columns);
  for (idx_t c = 0; c < columns; ++c) {
    duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
    Type type(duckdb_vector_get_column_type(vec));
    readers.push_back(make_reader(vec, type.t));
  }
  Converted done;
  std::size_t held = 0;  // what this call appended: rows' JSON, CSV lines, a string per row
  std::string text;
  for (idx_t row = 0; row < size; ++row) {
    const std::size_t csv_start = csv ? csv->size() : 0;
    std::string json = "[";
    // What this call holds with the row so far; checked against the budget before
    // each cell is copied (by its length, where the value knows it) and after it.
    auto used = [&] { return held + sizeof(std::string) + json.size() + (csv ? csv->size() - csv_start : 0); };
    bool fits = true;
    for (idx_t c = 0; c < columns && fits; ++c) {
      if (c) json += ',';
      const Reader& r = readers[c];
      if (csv && c) *csv += ',';
      if (!r.valid(row)) {
        json += "null";
        continue;
      }
      if (used() + text_length(r, row) > budget) {
        fits = false;
        break;
      }
      if (is_nested(r.type)) {
        size_t start = json.size();
        if (!append_json(json, r, row, start + (budget - used()))) {
          fits = false;
          break;
        }
        if (csv) append_csv_cell(*csv, std::string_view(json).substr(start), false);
      } else {
        text.clear();
        Shape shape = scalar(r, row, text);
        if (shape == Shape::null) json += "null";
        else if (shape == Shape::raw) json += text;
        else append_json_string(json, text);
        if (csv) append_csv_cell(*csv, text, shape == Shape::null, shape == Shape::text);
      }
      fits = used() <= budget;
    }
    if (fits) {
      json += ']';
      if (csv) *csv += '\n';
      fits = used() <= budget;
    }
    if (!fits) {
      if (csv) csv->resize(csv_start);
      done.over_budget = true;
      return done;
    }
    held = used();
    done.bytes += json.size();
    rows.push_back(std::move(json));
  }
  return done;
}

}  // namespace etl::cataloger
