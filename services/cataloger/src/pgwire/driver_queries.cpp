#include "pgwire/driver_queries.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

struct PgTypeRow {
  std::int32_t oid;
  const char* name;     // typname
  std::int32_t elem;    // typelem (0: not an array)
  const char* regtype;  // what ::regtype::text prints
};

// Every type this endpoint sends or binds (types.h), arrays with their elements.
constexpr PgTypeRow kTypes[] = {
    {oid::boolean, "bool", 0, "boolean"}, {oid::name, "name", 0, "name"}, {oid::int8, "int8", 0, "bigint"},
    {oid::int2, "int2", 0, "smallint"}, {oid::int4, "int4", 0, "integer"}, {oid::text, "text", 0, "text"},
    {oid::oid, "oid", 0, "oid"}, {oid::json, "json", 0, "json"}, {oid::float4, "float4", 0, "real"},
    {oid::float8, "float8", 0, "double precision"}, {oid::varchar, "varchar", 0, "character varying"},
    {oid::date, "date", 0, "date"}, {oid::time, "time", 0, "time without time zone"},
    {oid::timestamp, "timestamp", 0, "timestamp without time zone"},
    {oid::timestamptz, "timestamptz", 0, "timestamp with time zone"}, {oid::interval, "interval", 0, "interval"},
    {oid::numeric, "numeric", 0, "numeric"}, {oid::uuid, "uuid", 0, "uuid"}, {oid::jsonb, "jsonb", 0, "jsonb"},
    {oid::bool_array, "_bool", oid::boolean, "boolean[]"}, {oid::int2_array, "_int2", oid::int2, "smallint[]"},
    {oid::int4_array, "_int4", oid::int4, "integer[]"}, {oid::int8_array, "_int8", oid::int8, "bigint[]"},
    {oid::text_array, "_text", oid::text, "text[]"}, {oid::oid_array, "_oid", oid::oid, "oid[]"},
    {oid::float4_array, "_float4", oid::float4, "real[]"}, {oid::float8_array, "_float8", oid::float8, "double precision[]"},
    {oid::varchar_array, "_varchar", oid::varchar, "character varying[]"}, {oid::date_array, "_date", oid::date, "date[]"},
    {oid::timestamp_array, "_timestamp", oid::timestamp, "timestamp without time zone[]"},
    {oid::timestamptz_array, "_timestamptz", oid::timestamptz, "timestamp with time zone[]"},
    {oid::numeric_array, "_numeric", oid::numeric, "numeric[]"}};

const PgTypeRow* find_type(std::int32_t type_oid) {
  for (const auto& t : kTypes)
    if (t.oid == type_oid) return &t;
  return nullptr;
}

// The OIDs in the bound `ti.oid = any(CAST([1016, 20] AS BIGINT[])::oid[])`; none for NULL.
std::vector<std::int32_t> requested_oids(const std::string& n) {
  std::vector<std::int32_t> out;
  const auto any = n.find("ti.oid = any(");
  if (any == std::string::npos) return out;
  const auto open = n.find('[', any), close = n.find(']', any), end = n.find(" where ", any);
  if (open == std::string::npos || close == std::string::npos || close < open || (end != std::string::npos && open > end))
    return out;
  for (std::size_t i = open + 1; i < close && out.size() < 1024;) {
    std::int32_t v = 0;
    auto r = std::from_chars(n.data() + i, n.data() + close, v);
    if (r.ec == std::errc{}) {
      out.push_back(v);
      i = static_cast<std::size_t>(r.ptr - n.data());
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace

std::optional<LocalOutcome> driver_type_query(const std::string& n) {
  if (!n.starts_with("with recursive typeinfo_tree(") || !n.ends_with("from typeinfo_tree order by depth desc"))
    return std::nullopt;
  LocalOutcome o;
  o.result.returns_rows = true;
  o.result.columns = {{"oid", oid::oid},          {"ns", oid::name},          {"name", oid::name},
                      {"kind", oid::char_type},            {"basetype", oid::oid},     {"elemtype", oid::oid},
                      {"elemdelim", oid::char_type},       {"range_subtype", oid::oid}, {"attrtypoids", oid::oid_array},
                      {"attrnames", oid::text_array}, {"depth", oid::int4}, {"basetype_name", oid::text},
                      {"elemtype_name", oid::text}, {"range_subtype_name", oid::text}};
  auto row = [](const PgTypeRow& t, int depth) {
    const PgTypeRow* elem = t.elem ? find_type(t.elem) : nullptr;
    return std::vector<std::optional<std::string>>{
        std::to_string(t.oid), std::string("pg_catalog"), std::string(t.name), std::string("b"), std::nullopt,
        std::to_string(t.elem), t.elem ? std::optional<std::string>(",") : std::nullopt, std::nullopt, std::nullopt,
        std::nullopt, std::to_string(depth), std::nullopt, std::string(elem ? elem->regtype : "-"), std::nullopt};
  };
  // The requested types (depth 0) and the elements of the arrays among them (depth 1),
  // deepest first, each distinct, as the recursive query gives them.
  std::vector<std::vector<std::optional<std::string>>> requested, elements;
  for (std::int32_t type_oid : requested_oids(n)) {
    const PgTypeRow* t = find_type(type_oid);
    if (!t) continue;  // a type not sent here: no row, and asyncpg says it does not know it
    auto r = row(*t, 0);
    if (std::find(requested.begin(), requested.end(), r) == requested.end()) requested.push_back(std::move(r));
    if (const PgTypeRow* e = t->elem ? find_type(t->elem) : nullptr) {
      auto er = row(*e, 1);
      if (std::find(elements.begin(), elements.end(), er) == elements.end()) elements.push_back(std::move(er));
    }
  }
  o.result.rows = std::move(elements);
  for (auto& r : requested) o.result.rows.push_back(std::move(r));
  o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
  return o;
}

}  // namespace etl::pgwire
