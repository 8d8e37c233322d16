#include "schema_merge.h"

#include <algorithm>
#include <array>
#include <utility>

namespace etl::cataloger {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Integers by how wide they are; unsigned ones at the signed type that holds them.
int integer_rank(std::string_view t) {
  constexpr std::array<std::pair<std::string_view, int>, 10> ranks = {{{"TINYINT", 1},
                                                                       {"SMALLINT", 2},
                                                                       {"INTEGER", 3},
                                                                       {"BIGINT", 4},
                                                                       {"HUGEINT", 5},
                                                                       {"UTINYINT", 2},
                                                                       {"USMALLINT", 3},
                                                                       {"UINTEGER", 4},
                                                                       {"UBIGINT", 5},
                                                                       {"UHUGEINT", 6}}};
  for (const auto& [name, rank] : ranks)
    if (t == name) return rank;
  return 0;
}

std::string signed_integer(int rank) {
  switch (rank) {
    case 1: return "TINYINT";
    case 2: return "SMALLINT";
    case 3: return "INTEGER";
    case 4: return "BIGINT";
    case 5: return "HUGEINT";
    default: return "VARCHAR";
  }
}

bool is_float(std::string_view t) { return t == "FLOAT" || t == "DOUBLE"; }
bool is_decimal(std::string_view t) { return t.rfind("DECIMAL", 0) == 0; }
bool is_numeric(std::string_view t) { return integer_rank(t) > 0 || is_float(t) || is_decimal(t); }
bool is_plain_timestamp(std::string_view t) {
  return t == "TIMESTAMP" || t == "TIMESTAMP_S" || t == "TIMESTAMP_MS" || t == "TIMESTAMP_NS";
}

}  // namespace

std::string widen_type(std::string_view a, std::string_view b) {
  if (a == b) return std::string(a);
  if (a == kUnknownType) return std::string(b);
  if (b == kUnknownType) return std::string(a);
  if (ends_with(a, "[]") && ends_with(b, "[]"))
    return widen_type(a.substr(0, a.size() - 2), b.substr(0, b.size() - 2)) + "[]";
  int ra = integer_rank(a), rb = integer_rank(b);
  if (ra && rb) return signed_integer(std::max(ra, rb));
  if (is_numeric(a) && is_numeric(b)) return "DOUBLE";
  if ((a == "DATE" || is_plain_timestamp(a)) && (b == "DATE" || is_plain_timestamp(b))) return "TIMESTAMP";
  constexpr std::string_view tz = "TIMESTAMP WITH TIME ZONE";
  if ((a == tz || a == "DATE" || is_plain_timestamp(a)) && (b == tz || b == "DATE" || is_plain_timestamp(b)))
    return std::string(tz);
  return "VARCHAR";
}

MergeResult merge_columns(const std::vector<ColumnInfo>& table, const std::vector<ColumnInfo>& file) {
  MergeResult out{table, {}};
  for (const auto& col : file) {
    auto it = std::find_if(out.columns.begin(), out.columns.end(), [&](const ColumnInfo& c) { return c.name == col.name; });
    if (it == out.columns.end()) {
      out.columns.push_back(col);
      out.changes.push_back({"", col.name, "added", "", col.type});
      continue;
    }
    std::string widened = widen_type(it->type, col.type);
    if (widened == it->type) continue;
    out.changes.push_back({"", col.name, it->type == kUnknownType ? "typed" : "widened", it->type, widened});
    it->type = widened;
  }
  return out;
}

std::string exposed_type(std::string_view type) {
  return type == kUnknownType ? "VARCHAR" : std::string(type);
}

}  // namespace etl::cataloger
