#include "pgwire/pg_catalog.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <regex>

#include "pgwire/commands.h"

namespace etl::pgwire {
namespace {

enum class Rows { none, tables, columns, schemas, databases };

constexpr std::int32_t kNamespaceOid = 2200;

struct Relation {
  std::string name;  // "pg_class", "information_schema.columns"
  bool outer = false;
};

// "x (a, (b)) y" -> "x () y": the top-level text of a FROM clause.
std::string top_level(const std::string& s) {
  std::string out;
  int depth = 0;
  for (char c : s) {
    if (c == '(') {
      if (depth++ == 0) out += c;
    } else if (c == ')') {
      if (--depth == 0) out += c;
    } else if (depth == 0) out += c;
  }
  return out;
}

std::vector<Relation> relations(const std::string& from) {
  static const std::regex rel(R"((from|join|,)\s+(pg_catalog\.)?(pg_[a-z_]+|information_schema\.[a-z_]+))");
  std::vector<Relation> out;
  std::string text = "from " + top_level(from);
  for (std::sregex_iterator it(text.begin(), text.end(), rel), end; it != end; ++it) {
    auto before = text.substr(0, static_cast<std::size_t>(it->position()));
    bool outer = (*it)[1] == "join" && (before.ends_with("left ") || before.ends_with("outer "));
    out.push_back({(*it)[3].str(), outer});
  }
  return out;
}

Rows rows_for(const std::vector<Relation>& rels, const SelectParts& select) {
  if (rels.empty()) return Rows::none;
  static const std::vector<std::string> tables = {"pg_class", "pg_tables", "information_schema.tables"};
  static const std::vector<std::string> columns = {"pg_attribute", "information_schema.columns"};
  static const std::vector<std::string> harmless = {"pg_namespace", "pg_am", "pg_description", "pg_type", "pg_class",
                                                    "pg_attribute", "pg_attrdef", "pg_collation"};
  auto in = [](const std::vector<std::string>& set, const std::string& n) {
    return std::find(set.begin(), set.end(), n) != set.end();
  };
  // An inner join with a catalog we keep nothing in (pg_inherits, pg_index ...) has no rows.
  for (std::size_t i = 1; i < rels.size(); ++i)
    if (!rels[i].outer && !in(harmless, rels[i].name) && !in(tables, rels[i].name) && !in(columns, rels[i].name))
      return Rows::none;
  const std::string& first = rels[0].name;
  bool reads_attname = std::any_of(select.items.begin(), select.items.end(),
                                   [](const SelectItem& i) { return i.key == "attname" || i.alias == "attname"; });
  bool joins_attribute = std::any_of(rels.begin(), rels.end(), [](const Relation& r) { return r.name == "pg_attribute"; });
  if (in(columns, first) || (first == "pg_class" && joins_attribute && reads_attname)) return Rows::columns;
  if (in(tables, first)) return Rows::tables;
  if (first == "pg_namespace" || first == "information_schema.schemata") return Rows::schemas;
  if (first == "pg_database") return Rows::databases;
  return Rows::none;
}

std::vector<std::string> literals_in(const std::string& list) {
  static const std::regex lit(R"('((?:[^']|'')*)')");
  std::vector<std::string> out;
  for (std::sregex_iterator it(list.begin(), list.end(), lit), end; it != end; ++it) out.push_back((*it)[1].str());
  return out;
}

// The filters clients put on these catalogs.
struct Filters {
  std::optional<std::string> name_regex, schema_regex;
  std::optional<std::int64_t> oid;
  std::optional<std::vector<std::string>> names, schemas, kinds;
  bool views_only = false;

  bool table_matches(const TableInfo& t, const std::string& schema, std::int32_t toid) const {
    if (oid && *oid != toid) return false;
    if (names && std::find(names->begin(), names->end(), t.name) == names->end()) return false;
    if (schemas && std::find(schemas->begin(), schemas->end(), schema) == schemas->end()) return false;
    if (kinds && std::find(kinds->begin(), kinds->end(), "r") == kinds->end()) return false;
    if (views_only) return false;
    try {
      if (name_regex && !std::regex_search(t.name, std::regex(*name_regex))) return false;
      if (schema_regex && !std::regex_search(schema, std::regex(*schema_regex))) return false;
    } catch (const std::regex_error&) {
      return false;
    }
    return true;
  }
};

Filters filters(const std::string& rest) {
  Filters f;
  std::smatch m;
  static const std::regex name_re(R"(relname operator\(pg_catalog\.~\) '((?:[^']|'')*)')");
  static const std::regex schema_re(R"(nspname operator\(pg_catalog\.~\) '((?:[^']|'')*)')");
  static const std::regex oid_eq(R"((?:\boid|attrelid)\s*=\s*'?(\d{1,10})'?)");
  static const std::regex name_eq(R"(\b(?:relname|table_name|tablename)\s*(=\s*'(?:[^']|'')*'|in\s*\([^)]*\)))");
  static const std::regex schema_eq(R"(\b(?:nspname|table_schema|schemaname)\s*(=\s*'(?:[^']|'')*'|in\s*\([^)]*\)))");
  static const std::regex kinds(R"(relkind\s*(=\s*'.'|in\s*\([^)]*\)|=\s*any\s*\(\s*array\s*\[[^\]]*\]))");
  static const std::regex views(R"(table_type\s*=\s*'VIEW')");
  if (rest.size() > 20000) return f;  // regexes over huge texts: not for introspection
  if (std::regex_search(rest, m, name_re)) f.name_regex = m[1].str();
  if (std::regex_search(rest, m, schema_re)) f.schema_regex = m[1].str();
  if (std::regex_search(rest, m, oid_eq)) f.oid = std::stoll(m[1].str());
  if (std::regex_search(rest, m, name_eq)) f.names = literals_in(m[1].str());
  if (std::regex_search(rest, m, schema_eq)) f.schemas = literals_in(m[1].str());
  if (std::regex_search(rest, m, kinds)) f.kinds = literals_in(m[1].str());
  f.views_only = std::regex_search(rest, views);
  return f;
}

using Dict = std::map<std::string, Cell>;

Cell text(std::string v) { return {std::move(v), oid::text}; }
Cell boolean(bool v) { return {std::string(v ? "t" : "f"), oid::boolean}; }
Cell number(std::int64_t v, std::int32_t type = oid::int4) { return {std::to_string(v), type}; }
Cell null() { return {std::nullopt, oid::text}; }

Dict table_dict(const TableInfo& t, const SessionInfo& s) {
  auto toid = std::to_string(table_oid(t.name));
  Dict d = {{"oid", {toid, oid::oid}}, {"relname", text(t.name)}, {"tablename", text(t.name)}, {"table_name", text(t.name)},
            {"nspname", text(s.schema)}, {"schemaname", text(s.schema)}, {"table_schema", text(s.schema)},
            {"relnamespace", number(kNamespaceOid, oid::oid)}, {"relkind", text("r")}, {"relowner", number(10, oid::oid)},
            {"pg_get_userbyid", text(s.user)}, {"tableowner", text(s.user)}, {"owner", text(s.user)},
            {"relchecks", number(0, oid::int2)}, {"reltablespace", number(0, oid::oid)}, {"relpersistence", text("p")},
            {"relreplident", text("d")}, {"amname", text("heap")}, {"relam", number(2, oid::oid)},
            {"reltuples", number(-1, oid::float4)}, {"relpages", number(0)},
            {"relnatts", number(static_cast<std::int64_t>(t.columns.size() + t.partition_keys.size()), oid::int2)},
            {"reloftype", number(0, oid::oid)}, {"table_catalog", text(s.database)}, {"table_type", text("BASE TABLE")},
            {"type", text("table")}, {"is_insertable_into", text("NO")}, {"tablespace", null()}};
  for (const char* b : {"relhasindex", "relhasrules", "relhastriggers", "relrowsecurity", "relforcerowsecurity",
                        "relhasoids", "relispartition", "hasindexes", "hasrules", "hastriggers", "rowsecurity",
                        "relhassubclass", "relisshared"})
    d[b] = boolean(false);
  return d;
}

std::string information_schema_type(const PgType& t) {
  if (t.name.ends_with("[]")) return "ARRAY";
  return t.name;
}

std::string udt_name(const PgType& t) {
  switch (t.oid) {
    case oid::int8: return "int8";
    case oid::int4: return "int4";
    case oid::int2: return "int2";
    case oid::float8: return "float8";
    case oid::float4: return "float4";
    case oid::boolean: return "bool";
    case oid::timestamptz: return "timestamptz";
    case oid::text_array: return "_text";
    case oid::int8_array: return "_int8";
    default: return t.name.substr(0, t.name.find(' '));
  }
}

Dict column_dict(const TableInfo& t, const ColumnInfo& c, int attnum, const SessionInfo& s) {
  PgType pt = pg_type(c.type);
  Dict d = {{"attname", text(c.name)}, {"column_name", text(c.name)}, {"name", text(c.name)},
            {"format_type", text(pt.name)}, {"data_type", text(information_schema_type(pt))},
            {"udt_name", text(udt_name(pt))}, {"typname", text(udt_name(pt))},
            {"atttypid", number(pt.oid, oid::oid)}, {"atttypmod", number(-1)}, {"attnum", number(attnum, oid::int2)},
            {"ordinal_position", number(attnum)}, {"attnotnull", boolean(false)}, {"not_null", boolean(false)},
            {"is_nullable", text("YES")}, {"atthasdef", boolean(false)}, {"attisdropped", boolean(false)},
            {"attidentity", text("")}, {"attgenerated", text("")}, {"generated", text("")},
            {"relname", text(t.name)}, {"table_name", text(t.name)}, {"nspname", text(s.schema)},
            {"table_schema", text(s.schema)}, {"table_catalog", text(s.database)},
            {"attrelid", number(table_oid(t.name), oid::oid)}, {"attlen", number(pt.size, oid::int2)},
            {"is_identity", text("NO")}, {"is_generated", text("NEVER")}, {"is_updatable", text("NO")}};
  return d;
}

Dict schema_dict(const SessionInfo& s) {
  return {{"oid", number(kNamespaceOid, oid::oid)}, {"nspname", text(s.schema)}, {"schema_name", text(s.schema)},
          {"nspowner", number(10, oid::oid)}, {"catalog_name", text(s.database)}, {"schema_owner", text(s.user)}};
}

Dict database_dict(const SessionInfo& s) {
  return {{"oid", number(1, oid::oid)}, {"datname", text(s.database)}, {"encoding", number(6)},
          {"datallowconn", boolean(true)}, {"datistemplate", boolean(false)}, {"datdba", number(10, oid::oid)}};
}

// Star expansions, one list per kind of row.
std::vector<std::string> star_columns(Rows rows, const std::string& first) {
  switch (rows) {
    case Rows::tables:
      if (first == "pg_tables") return {"schemaname", "tablename", "tableowner", "tablespace", "hasindexes", "hasrules", "hastriggers", "rowsecurity"};
      if (first == "pg_class") return {"oid", "relname", "relnamespace", "relkind", "relowner", "relnatts"};
      return {"table_catalog", "table_schema", "table_name", "table_type"};
    case Rows::columns:
      if (first == "pg_attribute") return {"attrelid", "attname", "atttypid", "attnum", "attnotnull"};
      return {"table_catalog", "table_schema", "table_name", "column_name", "ordinal_position", "is_nullable", "data_type", "udt_name"};
    case Rows::schemas: return first == "pg_namespace" ? std::vector<std::string>{"oid", "nspname", "nspowner"}
                                                       : std::vector<std::string>{"catalog_name", "schema_name", "schema_owner"};
    case Rows::databases: return {"oid", "datname", "encoding"};
    case Rows::none: return {};
  }
  return {};
}

Cell lookup(const SelectItem& item, const Dict& d, const SessionInfo& s) {
  if (item.literal) return *item.literal;
  if (auto it = d.find(item.key); !item.key.empty() && it != d.end()) return it->second;
  if (auto it = d.find(item.alias); !item.alias.empty() && it != d.end()) return it->second;
  if (auto v = session_value(item, s)) return *v;
  return null();
}

}  // namespace

bool reads_catalog(const std::string& n) {
  static const std::regex rel(R"((from|join|,)\s+(pg_catalog\.)?(pg_[a-z_]+|information_schema\.[a-z_]+)\b)");
  return n.size() <= 20000 && std::regex_search(n, rel);
}

std::int32_t table_oid(const std::string& name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return static_cast<std::int32_t>(16384 + h % 1000000000u);
}

LocalOutcome catalog_select(const SelectParts& select, const std::vector<TableInfo>& tables, const SessionInfo& s) {
  auto rels = relations(select.rest);
  Rows kind = rows_for(rels, select);
  Filters f = filters(select.rest);

  std::vector<Dict> dicts;
  for (const auto& t : tables) {
    if (kind == Rows::tables || kind == Rows::columns) {
      if (!f.table_matches(t, s.schema, table_oid(t.name))) continue;
      if (kind == Rows::tables) {
        dicts.push_back(table_dict(t, s));
        continue;
      }
      int attnum = 0;
      for (const auto& c : t.columns) dicts.push_back(column_dict(t, c, ++attnum, s));
      for (const auto& k : t.partition_keys) dicts.push_back(column_dict(t, {k, "VARCHAR"}, ++attnum, s));
    }
  }
  bool schema_ok = !f.schemas || std::find(f.schemas->begin(), f.schemas->end(), s.schema) != f.schemas->end();
  if (kind == Rows::schemas && schema_ok) dicts.push_back(schema_dict(s));
  if (kind == Rows::databases) dicts.push_back(database_dict(s));

  std::vector<SelectItem> items;
  for (const auto& item : select.items) {
    if (!item.star) {
      items.push_back(item);
      continue;
    }
    for (const auto& name : star_columns(kind, rels.empty() ? "" : rels[0].name)) {
      SelectItem expanded;
      expanded.expr = expanded.key = expanded.name = name;
      items.push_back(expanded);
    }
  }

  LocalOutcome o;
  o.result.returns_rows = true;
  if (items.size() == 1 && items[0].key == "count") {  // SELECT count(*) FROM ...
    o.result.columns = {{items[0].name, oid::int8}};
    o.result.rows.push_back({std::to_string(dicts.size())});
    o.result.tag = "SELECT 1";
    return o;
  }
  Dict empty;
  for (const auto& item : items) o.result.columns.push_back({item.name, lookup(item, dicts.empty() ? empty : dicts[0], s).type_oid});
  for (const auto& d : dicts) {
    std::vector<std::optional<std::string>> row;
    for (const auto& item : items) row.push_back(lookup(item, d, s).value);
    o.result.rows.push_back(std::move(row));
  }
  o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
  return o;
}

}  // namespace etl::pgwire
