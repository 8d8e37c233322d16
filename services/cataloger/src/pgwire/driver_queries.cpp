#include "pgwire/driver_queries.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "pgwire/patterns.h"
#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

// Every type this endpoint sends or binds (types.h), arrays with their elements.
constexpr PgTypeRow kTypes[] = {
    {oid::boolean, "bool", 0, "boolean", 1, 'B'}, {oid::name, "name", 0, "name", 64, 'S'},
    {oid::int8, "int8", 0, "bigint", 8, 'N'}, {oid::int2, "int2", 0, "smallint", 2, 'N'},
    {oid::int4, "int4", 0, "integer", 4, 'N'}, {oid::text, "text", 0, "text", -1, 'S'},
    {oid::oid, "oid", 0, "oid", 4, 'N'}, {oid::json, "json", 0, "json", -1, 'U'},
    {oid::float4, "float4", 0, "real", 4, 'N'}, {oid::float8, "float8", 0, "double precision", 8, 'N'},
    {oid::varchar, "varchar", 0, "character varying", -1, 'S'}, {oid::date, "date", 0, "date", 4, 'D'},
    {oid::time, "time", 0, "time without time zone", 8, 'D'},
    {oid::timestamp, "timestamp", 0, "timestamp without time zone", 8, 'D'},
    {oid::timestamptz, "timestamptz", 0, "timestamp with time zone", 8, 'D'},
    {oid::interval, "interval", 0, "interval", 16, 'T'}, {oid::numeric, "numeric", 0, "numeric", -1, 'N'},
    {oid::uuid, "uuid", 0, "uuid", 16, 'U'}, {oid::jsonb, "jsonb", 0, "jsonb", -1, 'U'},
    {oid::bool_array, "_bool", oid::boolean, "boolean[]", -1, 'A'},
    {oid::int2_array, "_int2", oid::int2, "smallint[]", -1, 'A'},
    {oid::int4_array, "_int4", oid::int4, "integer[]", -1, 'A'},
    {oid::int8_array, "_int8", oid::int8, "bigint[]", -1, 'A'},
    {oid::text_array, "_text", oid::text, "text[]", -1, 'A'}, {oid::oid_array, "_oid", oid::oid, "oid[]", -1, 'A'},
    {oid::float4_array, "_float4", oid::float4, "real[]", -1, 'A'},
    {oid::float8_array, "_float8", oid::float8, "double precision[]", -1, 'A'},
    {oid::varchar_array, "_varchar", oid::varchar, "character varying[]", -1, 'A'},
    {oid::date_array, "_date", oid::date, "date[]", -1, 'A'},
    {oid::timestamp_array, "_timestamp", oid::timestamp, "timestamp without time zone[]", -1, 'A'},
    {oid::timestamptz_array, "_timestamptz", oid::timestamptz, "timestamp with time zone[]", -1, 'A'},
    {oid::numeric_array, "_numeric", oid::numeric, "numeric[]", -1, 'A'}};


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

// pgjdbc's TypeInfoCache: getPGType(String), a type's oid by its name, and the list of
// every type (getTypeInfo, and the SQL type of a name), each looked up first in the
// schemas on the search path (types here are all pg_catalog's, which is not on it).
std::optional<LocalOutcome> pgjdbc_type_query(const std::string& n) {
  static const std::string by_name = "select pg_type.oid, typname from ";
  static const std::string all = "select typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid from ";
  static const std::string from =
      "pg_catalog.pg_type left join (select ns.oid as nspoid, ns.nspname, r.r from "
      "pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as nspname from generate_series(1, "
      "array_upper(current_schemas(false), 1)) as s(r) ) as r using ( nspname ) ) as sp on sp.nspoid = typnamespace ";
  const bool listing = n.starts_with(all);
  const std::size_t head = (listing ? all : by_name).size();
  if (n.size() > head + from.size() + 200 || (!listing && !n.starts_with(by_name)) || n.compare(head, from.size(), from) != 0)
    return std::nullopt;
  const std::string_view rest = std::string_view(n).substr(head + from.size());
  LocalOutcome o;
  o.result.returns_rows = true;
  if (listing) {
    if (rest != "order by sp.r, pg_type.oid desc") return std::nullopt;
    o.result.columns = {{"is_array", oid::boolean}, {"typtype", oid::char_type}, {"typname", oid::name}, {"oid", oid::oid}};
    std::vector<const PgTypeRow*> rows;
    for (const auto& t : kTypes) rows.push_back(&t);
    std::sort(rows.begin(), rows.end(), [](const PgTypeRow* a, const PgTypeRow* b) { return a->oid > b->oid; });
    for (const PgTypeRow* t : rows)
      o.result.rows.push_back({std::string(t->category == 'A' ? "t" : "f"), std::string("b"), std::string(t->name),
                               std::to_string(t->oid)});
  } else {
    static const RE2 tail(R"(where typname = '([a-z0-9_]*)'(?:::[a-z]+)? order by sp\.r, pg_type\.oid desc limit 1)");
    auto m = full_match(rest, tail);
    if (!m) return std::nullopt;
    o.result.columns = {{"oid", oid::oid}, {"typname", oid::name}};
    if (const PgTypeRow* t = find_type(m->str(1))) o.result.rows.push_back({std::to_string(t->oid), std::string(t->name)});
  }
  o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
  return o;
}

}  // namespace

std::span<const PgTypeRow> type_rows() { return kTypes; }

const PgTypeRow* find_type(std::int32_t type_oid) {
  for (const auto& t : kTypes)
    if (t.oid == type_oid) return &t;
  return nullptr;
}

const PgTypeRow* find_type(const std::string& typname) {
  for (const auto& t : kTypes)
    if (typname == t.name) return &t;
  return nullptr;
}

std::optional<LocalOutcome> driver_type_query(const std::string& n) {
  if (auto o = pgjdbc_type_query(n)) return o;
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
