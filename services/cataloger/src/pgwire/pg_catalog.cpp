#include "pgwire/pg_catalog.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "pgwire/catalog_query.h"
#include "pgwire/commands.h"
#include "pgwire/driver_queries.h"
#include "pgwire/patterns.h"
#include "pgwire/sql_text.h"

namespace etl::pgwire {
namespace {

constexpr std::int32_t kNamespaceOid = 2200;

using Dict = std::map<std::string, Cell>;

Cell text(std::string v) { return {std::move(v), oid::text}; }
Cell boolean(bool v) { return {std::string(v ? "t" : "f"), oid::boolean}; }
Cell number(std::int64_t v, std::int32_t type = oid::int4) { return {std::to_string(v), type}; }
Cell null() { return {std::nullopt, oid::text}; }

// A table's privileges: the session's user may read it (SELECT, `r`) and nothing else; an
// aclitem[] in its text form (a NULL relacl would mean the owner's defaults: every privilege).
Cell read_only_acl(const std::string& user) {
  static const RE2 plain(R"([a-z_][a-z0-9_]*)");
  if (full_match(user, plain)) return {"{" + user + "=r/" + user + "}", oid::text_array};
  std::string quoted = "\"";  // the aclitem quotes the name as an identifier, the array the item
  for (char c : user) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  quoted += '"';
  return {array_literal({quoted + "=r/" + quoted}), oid::text_array};
}

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
            {"type", text("table")}, {"is_insertable_into", text("NO")}, {"tablespace", null()},
            {"reltoastrelid", number(0, oid::oid)}, {"reloptions", null()}, {"relacl", read_only_acl(s.user)}};
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
  if (t.name.ends_with("[]") && array_element_oid(t.oid) != 0)  // _int4, _numeric ...
    return "_" + udt_name(PgType{array_element_oid(t.oid), -1, t.name.substr(0, t.name.size() - 2)});
  switch (t.oid) {
    case oid::int8: return "int8";
    case oid::int4: return "int4";
    case oid::int2: return "int2";
    case oid::float8: return "float8";
    case oid::float4: return "float4";
    case oid::boolean: return "bool";
    case oid::timestamptz: return "timestamptz";
    default: return t.name.substr(0, t.name.find(' '));
  }
}

// information_schema.columns' numeric and datetime facets, as PostgreSQL gives them for the
// type (`DECIMAL(18,3)`, the engine's, has its precision and scale; numeric without them none).
void add_type_facets(Dict& d, const PgType& pt, const std::string& engine_type) {
  std::optional<int> precision, radix, scale, datetime, octets;
  switch (pt.oid) {
    case oid::int2: precision = 16, radix = 2, scale = 0; break;
    case oid::int4: precision = 32, radix = 2, scale = 0; break;
    case oid::int8: precision = 64, radix = 2, scale = 0; break;
    case oid::float4: precision = 24, radix = 2; break;
    case oid::float8: precision = 53, radix = 2; break;
    case oid::numeric: {
      radix = 10;
      int p = 0, q = 0;
      if (std::sscanf(engine_type.c_str(), "DECIMAL(%d,%d)", &p, &q) == 2) precision = p, scale = q;
      break;
    }
    case oid::date: datetime = 0; break;
    case oid::timestamp: case oid::timestamptz: case oid::time: case oid::interval: datetime = 6; break;
    case oid::text: case oid::varchar: octets = 1073741824; break;
    default: break;
  }
  auto maybe = [](std::optional<int> v) { return v ? number(*v) : null(); };
  d["numeric_precision"] = maybe(precision);
  d["numeric_precision_radix"] = maybe(radix);
  d["numeric_scale"] = maybe(scale);
  d["datetime_precision"] = maybe(datetime);
  d["character_octet_length"] = maybe(octets);
  for (const char* none : {"character_maximum_length", "interval_type", "interval_precision", "character_set_catalog",
                           "character_set_schema", "character_set_name", "collation_catalog", "collation_schema",
                           "collation_name", "domain_catalog", "domain_schema", "domain_name", "scope_catalog",
                           "scope_schema", "scope_name", "maximum_cardinality", "identity_generation", "identity_start",
                           "identity_increment", "identity_maximum", "identity_minimum", "generation_expression"})
    d[none] = null();
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
            {"is_identity", text("NO")}, {"is_generated", text("NEVER")}, {"is_updatable", text("NO")},
            {"attstorage", text(pt.size == -1 ? "x" : "p")}, {"attcompression", text("")},
            {"attstattarget", number(-1)}, {"column_default", null()}, {"attacl", null()},
            {"udt_catalog", text(s.database)}, {"udt_schema", text("pg_catalog")},
            {"dtd_identifier", text(std::to_string(attnum))}, {"is_self_referencing", text("NO")},
            {"identity_cycle", text("NO")}};
  add_type_facets(d, pt, c.type);
  return d;
}

Dict schema_dict(const SessionInfo& s, std::int32_t ns_oid = kNamespaceOid, std::string name = "") {
  if (name.empty()) name = s.schema;
  return {{"oid", number(ns_oid, oid::oid)}, {"nspname", text(name)}, {"schema_name", text(name)},
          {"nspowner", number(10, oid::oid)}, {"catalog_name", text(s.database)}, {"schema_owner", text(s.user)},
          {"pg_get_userbyid", text(s.user)}, {"nspacl", null()}};
}

constexpr std::int32_t kPgCatalogOid = 11;

// pg_type's rows: the types this endpoint sends (driver_queries.h), all in pg_catalog.
Dict type_dict(const PgTypeRow& t) {
  std::int32_t array = 0;
  for (const auto& a : type_rows())
    if (a.elem == t.oid) array = a.oid;
  return {{"oid", number(t.oid, oid::oid)}, {"typname", text(t.name)}, {"typnamespace", number(kPgCatalogOid, oid::oid)},
          {"typowner", number(10, oid::oid)}, {"typlen", number(t.len, oid::int2)},
          {"typbyval", boolean(t.len > 0 && t.len <= 8)}, {"typtype", text("b")},
          {"typcategory", text(std::string(1, t.category))}, {"typispreferred", boolean(false)},
          {"typisdefined", boolean(true)}, {"typdelim", text(",")}, {"typrelid", number(0, oid::oid)},
          {"typelem", number(t.elem, oid::oid)}, {"typarray", number(array, oid::oid)},
          {"typnotnull", boolean(false)}, {"typbasetype", number(0, oid::oid)}, {"typtypmod", number(-1)},
          {"typndims", number(0)}, {"typcollation", number(t.category == 'S' ? 100 : 0, oid::oid)},
          {"typdefault", null()}, {"typacl", null()}, {"typalign", text(t.len == 8 ? "d" : t.len == 2 ? "s" : t.len == 1 ? "c" : "i")},
          {"typstorage", text(t.len == -1 ? "x" : "p")}};
}

// pg_settings' rows: the session's settings; one SET in the session (or its start-up
// options) changed is of source `session`, with its start-up value as boot_val.
Dict setting_dict(const std::string& name, const std::string& value, const std::string& boot) {
  return {{"name", text(name)}, {"setting", text(value)}, {"current_setting", text(value)}, {"unit", null()},
          {"category", text("")}, {"short_desc", text("")}, {"extra_desc", null()}, {"context", text("user")},
          {"vartype", text("string")}, {"source", text(value == boot ? "default" : "session")}, {"min_val", null()},
          {"max_val", null()}, {"enumvals", null()}, {"boot_val", text(boot)}, {"reset_val", text(boot)},
          {"sourcefile", null()}, {"sourceline", null()}, {"pending_restart", boolean(false)}};
}

// pg_roles' one row: the session's user, who owns everything here and may only read it.
Dict role_dict(const SessionInfo& s) {
  Dict d = {{"oid", number(10, oid::oid)}, {"rolname", text(s.user)}, {"rolconnlimit", number(-1)},
            {"rolpassword", text("********")}, {"rolvaliduntil", null()}, {"rolconfig", null()}};
  for (const char* b : {"rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls"}) d[b] = boolean(false);
  for (const char* b : {"rolinherit", "rolcanlogin"}) d[b] = boolean(true);
  return d;
}

Dict database_dict(const SessionInfo& s) {
  return {{"oid", number(1, oid::oid)}, {"datname", text(s.database)}, {"encoding", number(6)},
          {"datallowconn", boolean(true)}, {"datistemplate", boolean(false)}, {"datdba", number(10, oid::oid)},
          {"pg_get_userbyid", text(s.user)}, {"pg_encoding_to_char", text("UTF8")}, {"datcollate", text("C")},
          {"datctype", text("C")}, {"daticulocale", null()}, {"datlocprovider", text("c")}, {"datacl", null()}};
}


Dict am_dict(std::int64_t am_oid = 2, const char* name = "heap", const char* type = "t") {
  return {{"oid", number(am_oid, oid::oid)}, {"amname", text(name)}, {"amtype", text(type)}};
}

// pg_am's rows, PostgreSQL's built-in access methods (SQLAlchemy's get_indexes looks up
// btree's oid first; then finds no index of it here).
std::vector<Dict> am_dicts() {
  return {am_dict(), am_dict(403, "btree", "i"), am_dict(405, "hash", "i"), am_dict(783, "gist", "i"),
          am_dict(2742, "gin", "i"), am_dict(4000, "spgist", "i"), am_dict(3580, "brin", "i")};
}

enum class Family { table, column, schema, database, am, type, setting, role, derived, empty };
constexpr std::size_t kFamilies = 10;

Family family(const std::string& relation) {
  if (relation == "pg_class" || relation == "pg_tables" || relation == "information_schema.tables") return Family::table;
  if (relation == "pg_attribute" || relation == "information_schema.columns") return Family::column;
  if (relation == "pg_namespace" || relation == "information_schema.schemata") return Family::schema;
  if (relation == "pg_database") return Family::database;
  if (relation == "pg_am") return Family::am;
  if (relation == "pg_type") return Family::type;
  if (relation == "pg_settings") return Family::setting;
  if (relation == "pg_roles") return Family::role;
  return Family::empty;
}

Family family(const FromRelation& r) { return r.subquery.empty() ? family(r.relation) : Family::derived; }

// Star expansions, one list per kind of row (a subquery's are its own columns).
std::vector<std::string> star_columns(Family rows, const std::string& first) {
  switch (rows) {
    case Family::table:
      if (first == "pg_tables") return {"schemaname", "tablename", "tableowner", "tablespace", "hasindexes", "hasrules", "hastriggers", "rowsecurity"};
      if (first == "pg_class") return {"oid", "relname", "relnamespace", "relkind", "relowner", "relnatts"};
      return {"table_catalog", "table_schema", "table_name", "table_type"};
    case Family::column:
      if (first == "pg_attribute") return {"attrelid", "attname", "atttypid", "attnum", "attnotnull"};
      return {"table_catalog", "table_schema", "table_name", "column_name", "ordinal_position", "is_nullable", "data_type", "udt_name"};
    case Family::schema: return first == "pg_namespace" ? std::vector<std::string>{"oid", "nspname", "nspowner"}
                                                        : std::vector<std::string>{"catalog_name", "schema_name", "schema_owner"};
    case Family::database: return {"oid", "datname", "encoding"};
    case Family::type: return {"oid", "typname", "typnamespace", "typowner", "typlen", "typbyval", "typtype", "typcategory",
                               "typdelim", "typrelid", "typelem", "typarray", "typnotnull", "typbasetype", "typtypmod"};
    case Family::setting: return {"name", "setting", "unit", "category", "short_desc", "context", "vartype", "source",
                                  "boot_val", "reset_val"};
    case Family::role: return {"rolname", "rolsuper", "rolinherit", "rolcreaterole", "rolcreatedb", "rolcanlogin",
                               "rolreplication", "rolconnlimit", "oid"};
    case Family::am: return {"oid", "amname", "amtype"};
    case Family::derived:
    case Family::empty: return {};
  }
  return {};
}

// One answer row: the dicts of the relations it joins (null: that relation has no row).
struct RowDicts {
  const Dict* table = nullptr;
  const Dict* column = nullptr;
  const Dict* schema = nullptr;
  const Dict* database = nullptr;
  const Dict* am = nullptr;
  const Dict* type = nullptr;
  const Dict* setting = nullptr;
  const Dict* role = nullptr;
  const Dict* derived = nullptr;  // a row of a subquery in FROM
  const Dict* of(Family f) const {
    switch (f) {
      case Family::table: return table;
      case Family::column: return column;
      case Family::schema: return schema;
      case Family::database: return database;
      case Family::am: return am;
      case Family::type: return type;
      case Family::setting: return setting;
      case Family::role: return role;
      case Family::derived: return derived;
      case Family::empty: return nullptr;
    }
    return nullptr;
  }
};

struct Query {
  std::vector<FromRelation> from;
  std::vector<bool> null_side;  // per relation: always NULL (a LEFT JOIN that matches nothing here)

  // The value of a column of the row; nullopt for a column the emulation does not know.
  std::optional<Cell> column(const ColumnRef& ref, const RowDicts& row) const {
    for (std::size_t i = 0; i < from.size(); ++i) {
      const auto& r = from[i];
      // A qualifier names the alias; the relation's own name only when it has no other
      // (SQLAlchemy joins pg_namespace twice: as nsp_ref, and as pg_catalog.pg_namespace).
      if (!ref.qualifier.empty() && ref.qualifier != r.alias) continue;
      const Family f = family(r);
      if (null_side[i] || f == Family::empty) {
        if (!ref.qualifier.empty()) return null();
        continue;
      }
      const Dict* d = row.of(f);
      if (!d) continue;
      if (auto it = d->find(ref.column); it != d->end()) return it->second;
      if (!ref.qualifier.empty()) return std::nullopt;
    }
    return std::nullopt;
  }
};

// A function of the select list the row answers: format_type(), pg_get_userbyid() ...
std::optional<Cell> row_function(const std::string& key, const RowDicts& row) {
  for (const Dict* d : {row.derived, row.column, row.table, row.type, row.setting, row.schema, row.database, row.role, row.am})
    if (d)
      if (auto it = d->find(key); it != d->end()) return it->second;
  return std::nullopt;
}

bool empty_subquery(const std::string& expr);

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$' || c == '.'; }

// The top-level WHEN, THEN and ELSE of a CASE's body (after `case`, before its `end`):
// (position, keyword), outside quotes, parentheses and nested CASEs.
std::vector<std::pair<std::size_t, std::string>> case_keywords(const std::string& body) {
  std::vector<std::pair<std::size_t, std::string>> out;
  int depth = 0, cases = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (const auto end = skip_special(body, i); end != i) {  // a string or a quoted name
      if (end == std::string::npos) break;
      i = end - 1;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth != 0 || (i > 0 && word_char(body[i - 1])) || !std::isalpha(static_cast<unsigned char>(c))) continue;
    std::size_t end = i;
    while (end < body.size() && word_char(body[end])) ++end;
    const std::string word = body.substr(i, end - i);
    if (word == "case") ++cases;
    else if (word == "end") --cases;
    else if (cases == 0 && (word == "when" || word == "then" || word == "else")) out.emplace_back(i, word);
    i = end - 1;
  }
  return out;
}

Cell literal_cell(const std::optional<std::string>& v) {
  static const RE2 integer(R"([-+]?\d+)");
  return Cell{v, v && full_match(*v, integer) ? oid::int4 : oid::text};
}

// The value of an expression inside a select-list item: a constant, a column, a CASE
// (simple or searched, nested) or a condition (a boolean). Only the arms a row takes
// are read, so an arm of another form fails only the rows that reach it.
Result<Cell> expression_value(const std::string& input, const Query& q, const RowDicts& row, int depth = 0) {
  const std::string x = trim(input);
  if (depth > 16) return make_error(Errc::invalid_argument, "an expression nested this deep");
  if (auto k = constant(x)) return literal_cell(*k);
  if (auto ref = column_ref(x)) {
    if (auto v = q.column(*ref, row)) return *v;
    return make_error(Errc::invalid_argument, "the column " + x);
  }
  if (x.rfind("case ", 0) == 0 && x.ends_with(" end")) {
    const std::string body = x.substr(5, x.size() - 9);
    auto words = case_keywords(body);
    auto piece = [&](std::size_t k) {  // the text after keyword k, up to the next
      std::size_t from = words[k].first + words[k].second.size();
      std::size_t to = k + 1 < words.size() ? words[k + 1].first : body.size();
      return body.substr(from, to - from);
    };
    if (words.empty() || words[0].second != "when") return make_error(Errc::invalid_argument, "the expression " + x);
    std::optional<Cell> operand;
    if (!trim(body.substr(0, words[0].first)).empty()) {
      auto v = expression_value(body.substr(0, words[0].first), q, row, depth + 1);
      if (!v) return v;
      operand = *v;
    }
    for (std::size_t k = 0; k < words.size(); ++k) {
      if (words[k].second == "else") {
        if (k + 1 != words.size()) break;
        return expression_value(piece(k), q, row, depth + 1);
      }
      if (words[k].second != "when" || k + 1 >= words.size() || words[k + 1].second != "then")
        return make_error(Errc::invalid_argument, "the expression " + x);
      auto when = expression_value(piece(k), q, row, depth + 1);
      if (!when) return when;
      bool taken = false;
      if (operand) {
        auto a = operand->value, b = when->value;
        if (a && b && (operand->type_oid == oid::boolean || when->type_oid == oid::boolean)) {
          taken = (*a == "t") == (*b == "t");
        } else {
          taken = a && b && *a == *b;
        }
      } else {
        taken = when->value && *when->value == "t" && when->type_oid == oid::boolean;
      }
      if (taken) return expression_value(piece(k + 1), q, row, depth + 1);
      ++k;  // past its THEN
    }
    return null();  // no arm taken, no ELSE
  }
  static const RE2 array_to_string(R"((?:pg_catalog\.)?array_to_string\((.*)\))");
  if (auto m = full_match(x, array_to_string)) {  // psql's \dp and \dn+: an ACL's items, one per line
    auto args = split_top_level(m->str(1), ',');
    if (args.size() == 2) {
      auto separator = constant(args[1]);
      std::string array_expr = trim(args[0]);
      if (!separator || !*separator) return make_error(Errc::invalid_argument, "the expression " + x);
      if (empty_subquery(array_expr)) return text("");
      auto a = expression_value(array_expr, q, row, depth + 1);
      if (!a) return a;
      if (!a->value) return null();
      auto items = array_items(*a->value);
      if (!items) return make_error(Errc::invalid_argument, "the expression " + x);
      std::string joined;
      for (const auto& item : *items) {
        if (!item) continue;  // NULL elements are left out
        if (!joined.empty()) joined += **separator;
        joined += *item;
      }
      return text(joined);
    }
  }
  static const RE2 nullif(R"((?:pg_catalog\.)?nullif\((.*)\))");
  if (auto m = full_match(x, nullif)) {
    auto args = split_top_level(m->str(1), ',');
    if (args.size() == 2) {
      auto a = expression_value(args[0], q, row, depth + 1), b = expression_value(args[1], q, row, depth + 1);
      if (!a) return a;
      if (!b) return b;
      if (a->value && b->value && *a->value == *b->value) return Cell{std::nullopt, a->type_oid};
      return *a;
    }
  }
  auto condition = Condition::parse(x);
  if (!condition) return make_error(Errc::invalid_argument, "the expression " + x);
  auto v = condition->value([&](const ColumnRef& ref) { return q.column(ref, row); });
  if (!v) return std::move(v).error();
  if (!*v) return Cell{std::nullopt, oid::boolean};
  return boolean(**v);
}

// Select-list expressions of BI tools whose value is the same for every table and column
// here (no defaults, identities, collations other than the default, options or comments).
std::optional<Cell> known_expression(const std::string& expr) {
  struct Known {
    RE2 re;
    std::optional<std::string> value;
  };
  static const Known known[] = {
      {R"(^case when c\.reloftype = 0 then '' else .* end$)", ""},
      {R"(^case when a\.attstattarget ?= ?-1 then null else a\.attstattarget end$)", std::nullopt},
      {R"(^pg_catalog\.array_to_string\(c\.reloptions \|\| array\(select 'toast\.' \|\| x from pg_catalog\.unnest\(tc\.reloptions\) x\), ', '\)$)", ""},
      {R"(^pg_catalog\.array_to_string\(d\.datacl, e'\\n'\)$)", std::nullopt},
      // \dp's column privileges: of the columns with an attacl, and no column has one (no
      // column-level grants: the table's SELECT covers its columns).
      {R"(^pg_catalog\.array_to_string\(array\( ?select attname \|\| .* from pg_catalog\.pg_attribute a where attrelid = c\.oid and not attisdropped and attacl is not null ?\), e'\\n'\)$)", ""},
      {R"(^case when pg_catalog\.pg_attribute\.atthasdef then \(select .* end$)", std::nullopt},
      {R"(^case when \(pg_catalog\.pg_attribute\.attidentity != .* end$)", std::nullopt},
      {R"(^case when \(pg_catalog\.pg_attribute\.attcollation != .* end$)", std::nullopt},
      {R"(^(pg_catalog\.)?(obj_description|col_description|shobj_description|pg_get_expr)\(.*\)$)", std::nullopt},
      // \dt+'s Size: the endpoint does not know it (the files are the engine's); NULL, as unknown.
      {R"(^pg_catalog\.pg_size_pretty\(pg_catalog\.pg_table_size\(c\.oid\)\)$)", std::nullopt},
  };
  for (const auto& [re, value] : known)
    if (full_match(expr, re)) return Cell{value, oid::text};
  return std::nullopt;
}

// A scalar subquery (or ARRAY(subquery)) with no rows: one that joins (not LEFT JOINs) a
// catalog without rows here, and reads nothing but catalogs. Its value is NULL (an empty
// array), unless it counts.
bool empty_subquery(const std::string& expr) {
  std::string e = expr;
  if (e.rfind("array(", 0) == 0) e = e.substr(5);
  if (e.rfind("( ", 0) == 0) e = "(" + trim(e.substr(1));
  if (e.rfind("(select ", 0) != 0 || e.back() != ')' || find_keyword(e.substr(1, e.size() - 2), "union") != std::string::npos)
    return false;
  static const RE2 rel(R"((left (?:outer )?join|from|join|,)\s+((pg_catalog\.)?pg_[a-z_]+|information_schema\.[a-z_]+))");
  bool empty = false;
  for (auto m = search(e, rel); m; m = match_at(e, rel, m->position() + m->length(), RE2::UNANCHORED)) {
    std::string r = m->str(2);
    if (r.rfind("pg_catalog.", 0) == 0) r = r.substr(11);
    if (!is_empty_catalog(r) && !is_row_catalog(r)) return false;
    if (is_empty_catalog(r) && m->str(1).rfind("left", 0) != 0) empty = true;
  }
  return empty && e.find(" count(") == std::string::npos && e.find("(count(") == std::string::npos;
}

Result<Cell> item_value(const SelectItem& item, const Query& q, const RowDicts& row, const SessionInfo& s) {
  if (item.literal) return *item.literal;
  std::string expr = item.expr;
  static const RE2 cast(R"(::\s*[a-z_][a-z0-9_.]*$)");
  while (true) {  // casts to text types change nothing here; others (::regclass) are refused below
    auto m = search(expr, cast);
    if (!m) break;
    std::string type = m->str().substr(2);
    if (type != "text" && type != "pg_catalog.text" && type != "varchar" && type != "name" && type != "pg_catalog.name")
      break;
    expr = expr.substr(0, m->position());
  }
  // A bare name, also one column_ref() takes for a keyword: a subquery's column named
  // `select` (Metabase's table privileges), expanded from `t.*`.
  static const RE2 plain_name(R"([a-z_][a-z0-9_$]*)");
  if (full_match(expr, plain_name))
    if (auto v = q.column(ColumnRef{"", expr}, row)) return *v;
  if (auto ref = column_ref(expr)) {
    if (auto v = q.column(*ref, row)) return *v;
    return make_error(Errc::invalid_argument, "the column " + expr);
  }
  if (auto c = known_expression(expr)) return *c;
  // A CASE reads only the arm a row takes: `case when (c.x is not null) then f(c.x) end`
  // over a column NULL here (SQLAlchemy's foreign keys and check constraints) is NULL.
  if (expr.rfind("case ", 0) == 0) return expression_value(expr, q, row);
  if (empty_subquery(expr)) return expr.rfind("array(", 0) == 0 ? Cell{std::string("{}"), oid::text_array} : null();
  static const RE2 call(R"((pg_catalog\.)?[a-z_]+\(.*\))");
  if (full_match(expr, call)) {
    if (auto v = session_value(item, s)) return *v;
    if (auto v = row_function(item.key, row)) return *v;
  }
  // nullif(a.attidentity, ''), a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) (pgjdbc's columns)
  if (auto v = expression_value(expr, q, row)) return *v;
  return make_error(Errc::invalid_argument, "the expression " + expr);
}

// A ready answer: its rows sorted, made distinct and cut as the query says.
struct SortKey {
  std::size_t column = 0;       // index into the answer's columns, or
  std::optional<ColumnRef> ref;  // a column not selected
  bool descending = false, nulls_first = false;
};

std::string trimmed(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Result<std::vector<SortKey>> sort_keys(const std::string& order_by, const std::vector<SelectItem>& items) {
  std::vector<SortKey> keys;
  if (order_by.empty()) return keys;
  for (std::string part : split_top_level(order_by, ',')) {
    SortKey k;
    std::optional<bool> nulls_first;
    for (bool changed = true; changed;) {
      changed = false;
      for (const char* suffix : {" nulls first", " nulls last", " desc", " asc"}) {
        std::string sfx(suffix);
        if (part.size() <= sfx.size() || !part.ends_with(sfx)) continue;
        part = trimmed(part.substr(0, part.size() - sfx.size()));
        if (sfx == " nulls first" || sfx == " nulls last") nulls_first = sfx == " nulls first";
        if (sfx == " desc") k.descending = true;
        changed = true;
      }
    }
    // PostgreSQL: NULLs sort as larger than any value (first when descending) unless said.
    k.nulls_first = nulls_first.value_or(k.descending);
    std::size_t pos = 0;
    auto r = std::from_chars(part.data(), part.data() + part.size(), pos);
    bool found = false;
    if (r.ec == std::errc{} && r.ptr == part.data() + part.size()) {
      if (pos < 1 || pos > items.size()) return make_error(Errc::invalid_argument, "ORDER BY position " + part);
      k.column = pos - 1;
      found = true;
    }
    for (std::size_t i = 0; i < items.size() && !found; ++i) {
      std::string name = items[i].alias.empty() ? items[i].name : items[i].alias;
      if (part == items[i].expr || part == name || part == "\"" + items[i].name + "\"") k.column = i, found = true;
    }
    if (!found) {
      k.ref = column_ref(part);
      if (!k.ref) return make_error(Errc::invalid_argument, "ORDER BY " + part);
    }
    keys.push_back(std::move(k));
  }
  return keys;
}

int compare_values(const std::optional<std::string>& a, const std::optional<std::string>& b, bool nulls_first) {
  if (!a || !b) return !a && !b ? 0 : (!a ? (nulls_first ? -1 : 1) : (nulls_first ? 1 : -1));
  double x = 0, y = 0;
  auto ra = std::from_chars(a->data(), a->data() + a->size(), x);
  auto rb = std::from_chars(b->data(), b->data() + b->size(), y);
  if (ra.ec == std::errc{} && rb.ec == std::errc{} && ra.ptr == a->data() + a->size() && rb.ptr == b->data() + b->size())
    return x < y ? -1 : x > y ? 1 : 0;
  return *a < *b ? -1 : *a > *b ? 1 : 0;
}

}  // namespace

bool reads_catalog(const std::string& n) {
  // A catalog's name as a relation: not followed by `(`, so `SELECT x, pg_typeof(x)`
  // (a function after a select list's comma) goes to the engine.
  static const RE2 rel(R"((from|join|,)\s+(pg_catalog\.)?(pg_[a-z_]+|information_schema\.[a-z_]+)\b\s*([^\s(]|$))");
  return n.size() <= 20000 && search(n, rel).has_value();
}

std::int32_t table_oid(const std::string& name) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return static_cast<std::int32_t>(16384 + h % 1000000000u);
}

std::string quote_ident(const std::string& name) {
  // PostgreSQL 15's keywords that are not unreserved (pg_get_keywords() where catcode <> 'U').
  static const std::set<std::string, std::less<>> kKeywords = {
      "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between",
      "bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce",
      "collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog",
      "current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "dec",
      "decimal", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists", "extract",
      "false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group",
      "grouping", "having", "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect",
      "interval", "into", "is", "isnull", "join", "lateral", "leading", "least", "left", "like", "limit",
      "localtime", "localtimestamp", "national", "natural", "nchar", "none", "normalize", "not", "notnull", "null",
      "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "placing",
      "position", "precision", "primary", "real", "references", "returning", "right", "row", "select",
      "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample",
      "then", "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using",
      "values", "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat",
      "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize",
      "xmltable"};
  bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) && !kKeywords.count(name);
  for (char c : name) plain = plain && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_');
  if (plain) return name;
  std::string quoted = "\"";
  for (char c : name) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

namespace {

// `sql` without its white space outside quotes: Grafana's queries as one string to match,
// however they were indented (catalog_text() has unquoted "table" and "column" in them).
std::string squeezed(const std::string& sql) {
  std::string out;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      continue;
    }
    out += c;
  }
  return out;
}

// PostgreSQL's parse_ident(): a dotted name's parts, each unquoted or lower-cased; nullopt
// for text that is no such name.
std::optional<std::vector<std::string>> parse_ident(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (true) {
    std::string part;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size(); ++i) {
        if (text[i] == '"' && i + 1 < text.size() && text[i + 1] == '"') part += text[++i];
        else if (text[i] == '"') break;
        else part += text[i];
      }
      if (i++ >= text.size() || part.empty()) return std::nullopt;
    } else {
      while (i < text.size() && text[i] != '.') {
        const unsigned char c = static_cast<unsigned char>(text[i++]);
        if (!std::isalnum(c) && c != '_' && c != '$' && c < 0x80) return std::nullopt;
        part += static_cast<char>(std::tolower(c));
      }
      if (part.empty()) return std::nullopt;
    }
    parts.push_back(part);
    if (i == text.size()) return parts;
    if (text[i++] != '.') return std::nullopt;
  }
}

}  // namespace

std::optional<LocalOutcome> grafana_metadata_query(const std::string& normalized, Catalog& catalog,
                                                   const SessionInfo& s) {
  if (normalized.find("string_to_array(current_setting('search_path')") == std::string::npos) return std::nullopt;
  const std::string q = squeezed(normalized);
  // quote_ident(table_schema) IN (the search_path's schemas, "$user" as the user)
  static const std::string in_path =
      R"(quote_ident\(table_schema\)in\(selectcasewhentrim\(s\[i\]\)='"\$user"'thenuserelsetrim\(s\[i\]\)endfrom)"
      R"(generate_series\(array_lower\(string_to_array\(current_setting\('search_path'\),','\),1\),)"
      R"(array_upper\(string_to_array\(current_setting\('search_path'\),','\),1\)\)asi,)"
      R"(string_to_array\(current_setting\('search_path'\),','\)s\))";
  static const RE2 show_tables(
      R"(selectcasewhen)" + in_path +
      R"(thenquote_ident\(table_name\)elsequote_ident\(table_schema\)\|\|'\.'\|\|quote_ident\(table_name\)endas"?table"?)"
      R"(frominformation_schema\.tableswherequote_ident\(table_schema\)notin\(('(?:[^']|'')*',?)+\))"
      R"(orderbycasewhen)" + in_path + R"(then0else1end,1;?)");
  static const RE2 get_schema(
      R"(selectquote_ident\(column_name\)as"?column"?,data_typeas"?type"?frominformation_schema\.columnswhere)"
      R"(casewhenarray_length\(parse_ident\('((?:[^']|'')*)'\),1\)=2)"
      R"(thenquote_ident\(table_schema\)=\(parse_ident\('((?:[^']|'')*)'\)\)\[1\])"
      R"(andquote_ident\(table_name\)=\(parse_ident\('((?:[^']|'')*)'\)\)\[2\])"
      R"(elsequote_ident\(table_name\)='((?:[^']|'')*)'and)" + in_path + R"(end;?)");
  // The search path as the subquery reads it: its entries trimmed, "$user" the user.
  std::vector<std::string> path;
  if (auto it = s.settings.find("search_path"); it != s.settings.end())
    for (auto& entry : split_top_level(it->second, ',')) {
      std::string e = trim(entry);
      path.push_back(e == "\"$user\"" ? s.user : e);
    }
  const bool schema_in_path = std::find(path.begin(), path.end(), quote_ident(s.schema)) != path.end();
  std::string a, b, c, d;  // getSchema's table literal, four times
  const bool tables_query = RE2::FullMatch(q, show_tables);
  if (!tables_query && (!RE2::FullMatch(q, get_schema, &a, &b, &c, &d) || a != b || a != c || a != d)) return std::nullopt;
  auto listed = catalog.list_tables();
  if (!listed) return local_error(listed.error().code == Errc::unavailable ? "53400" : "XX000", listed.error().message);
  const std::vector<TableInfo>& tables = *listed;
  LocalOutcome o;
  o.result.returns_rows = true;
  if (tables_query) {
    o.result.columns = {{"table", oid::text}};
    std::vector<std::string> names;
    for (const auto& t : tables)
      names.push_back(schema_in_path ? quote_ident(t.name) : quote_ident(s.schema) + "." + quote_ident(t.name));
    std::sort(names.begin(), names.end());
    for (auto& n : names) o.result.rows.push_back({std::move(n)});
  } else {
    std::string table;  // the literal's text
    for (std::size_t i = 0; i < a.size(); ++i) table += a[i], i += a[i] == '\'' ? 1 : 0;
    o.result.columns = {{"column", oid::text}, {"type", oid::text}};
    auto parts = parse_ident(table);
    const TableInfo* found = nullptr;
    for (const auto& t : tables) {
      const bool match = parts && parts->size() == 2 ? quote_ident(s.schema) == (*parts)[0] && quote_ident(t.name) == (*parts)[1]
                                                     : quote_ident(t.name) == table && schema_in_path;
      if (match) found = &t;
    }
    if (found) {
      for (const auto& c : found->columns)
        o.result.rows.push_back({quote_ident(c.name), information_schema_type(pg_type(c.type))});
      for (const auto& k : found->partition_keys)
        o.result.rows.push_back({quote_ident(k), information_schema_type(pg_type("VARCHAR"))});
    }
  }
  o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
  return o;
}

LocalOutcome catalog_select(const SelectParts& select, const std::vector<TableInfo>& tables, const SessionInfo& s) {
  auto refuse = [](const std::string& what) {
    return local_error("0A000", what.rfind("unsupported", 0) == 0
                                    ? what
                                    : "unsupported in a query over the emulated pg_catalog / information_schema: " +
                                          what.substr(0, 200));
  };
  // Each subquery in FROM or UNION branch is answered by a call of this one: bounded here.
  std::size_t subqueries = 0;
  for (const char* word : {"(select ", " union "})
    for (auto at = select.rest.find(word); at != std::string::npos; at = select.rest.find(word, at + 1)) ++subqueries;
  if (subqueries > 32) return refuse("more than 32 subqueries and UNIONs");
  // UNION [ALL]: each branch answered here; the rows of both (distinct for UNION). An ORDER
  // BY or LIMIT after the last branch is the whole UNION's: refused when there are rows.
  if (auto u = find_keyword(select.rest, "union"); u != std::string::npos) {
    SelectParts first = select;
    first.rest = trim(select.rest.substr(0, u));
    std::string next = trim(select.rest.substr(u + 5));
    const bool all = next.rfind("all ", 0) == 0;
    if (all) next = trim(next.substr(4));
    auto branch = parse_select(next);
    if (!branch) return refuse("UNION " + next);
    auto a = catalog_select(first, tables, s);
    if (a.error) return a;
    auto b = catalog_select(*branch, tables, s);
    if (b.error) return b;
    if (a.result.columns.size() != b.result.columns.size()) return refuse("UNION of branches with different columns");
    if (a.result.rows.empty() && b.result.rows.empty()) return a;
    if (find_keyword(next, "union") == std::string::npos) {
      Clauses last = split_clauses(branch->rest);
      if (!last.order_by.empty() || last.limit || last.offset) return refuse("ORDER BY, LIMIT or OFFSET after a UNION");
    }
    LocalOutcome o = a.result.rows.empty() ? b : a;
    o.result.rows.clear();
    std::set<std::vector<std::optional<std::string>>> seen_rows;
    for (auto* part : {&a, &b})
      for (auto& row : part->result.rows)
        if (all || seen_rows.insert(row).second) o.result.rows.push_back(std::move(row));
    o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
    return o;
  }
  Clauses clauses = split_clauses(select.rest);
  auto from = from_relations(clauses.from);
  if (!from) return refuse(from.error().message);
  if (from->empty()) return refuse("a catalog query without a plain FROM list");
  Query q{*from, std::vector<bool>(from->size(), false)};

  // Which rows: an inner join with a catalog that has no rows here has none.
  Family rows_family = Family::empty;
  std::vector<std::size_t> seen(kFamilies, 0);
  bool empty = false;
  std::vector<Dict> derived_dicts;  // the rows of a subquery in FROM, by its column names
  std::vector<std::string> derived_columns;
  std::string unread;  // a relation not read here: refused unless an inner join leaves no rows anyway
  for (std::size_t i = 0; i < q.from.size(); ++i) {
    const auto& r = q.from[i];
    if (!r.function.empty()) {  // generate_series(1, 32) pos(n) (pgjdbc's foreign keys)
      if (unread.empty()) unread = "the function " + r.function + "() in FROM";
      q.null_side[i] = true;
      continue;
    }
    if (r.relation == "pg_type") {
      // psycopg's (and SQLAlchemy's) `oid = to_regtype('x')`: types of extensions (hstore ...) are not here.
      static const RE2 by_regtype(R"(([a-z_]+\.)?oid = (pg_catalog\.)?to_regtype\( *'([a-z0-9_]+)' *\))");
      if (auto m = full_match(clauses.where, by_regtype)) {
        static const std::vector<std::string> builtin = {"bool", "boolean", "int2", "int4", "int8", "smallint", "integer",
                                                         "bigint", "float4", "float8", "real", "text", "varchar", "name",
                                                         "oid", "json", "jsonb", "date", "time", "timestamp", "timestamptz",
                                                         "interval", "numeric", "uuid", "bytea", "char", "bpchar", "record"};
        if (q.from.size() != 1 || std::find(builtin.begin(), builtin.end(), m->str(3)) != builtin.end())
          return refuse("pg_type by to_regtype() of a built-in type");
        empty = true;
        continue;
      }
    }
    if (!r.subquery.empty()) {  // (SELECT ...) AS x: answered here too
      auto sub = parse_select(r.subquery);
      if (!sub) return refuse("FROM (" + r.subquery + ")");
      auto answer = catalog_select(*sub, tables, s);
      if (answer.error) return answer;
      if (!answer.result.rows.empty()) {
        // Rows: read as a relation of their own when it is the only one (pgjdbc's getColumns
        // filters its columns' names outside a subquery that numbers them).
        if (q.from.size() != 1) return refuse("a subquery in FROM (" + r.alias + ") with rows, joined");
        for (const auto& c : answer.result.columns) derived_columns.push_back(c.name);
        for (const auto& values : answer.result.rows) {
          Dict d;
          for (std::size_t c = 0; c < values.size() && c < derived_columns.size(); ++c)
            d[derived_columns[c]] = Cell{values[c], answer.result.columns[c].type_oid};
          derived_dicts.push_back(std::move(d));
        }
        rows_family = Family::derived;
        continue;
      }
      if (!r.left || i == 0) empty = true;
      q.null_side[i] = true;
      continue;
    }
    if (!is_row_catalog(r.relation) && !is_empty_catalog(r.relation)) return refuse("the catalog " + r.relation);
    const Family f = family(r.relation);
    if (f == Family::empty) {
      if (!r.left || i == 0) empty = true;
      continue;
    }
    // A LEFT JOIN on a column of a relation without rows here matches nothing (SQLAlchemy's
    // foreign keys: pg_class AS cls_ref ON cls_ref.oid = pg_constraint.confrelid), nor on
    // reltoastrelid (psql's \d: no table has a TOAST table here).
    bool matches_nothing = r.on.find("reltoastrelid") != std::string::npos;
    for (std::size_t j = 0; j < i && r.left; ++j)
      if (q.null_side[j] || family(q.from[j]) == Family::empty)
        matches_nothing = matches_nothing || r.on.find(q.from[j].alias + ".") != std::string::npos;
    if (r.left && matches_nothing) {
      q.null_side[i] = true;
      continue;
    }
    if (seen[static_cast<std::size_t>(f)]++ > 0 && unread.empty()) unread = "the same catalog twice in FROM (" + r.relation + ")";
  }
  if (!empty && !unread.empty()) return refuse(unread);
  // The relation whose rows the answer has; the others join them: a column's table, type
  // and schema; a table's schema; a type's schema (pg_catalog); the one database and role.
  auto has = [&](Family f) { return seen[static_cast<std::size_t>(f)] > 0; };
  if (rows_family != Family::derived) {
    for (Family f : {Family::column, Family::table, Family::type, Family::setting, Family::am, Family::schema,
                     Family::database, Family::role})
      if (has(f)) {
        rows_family = f;
        break;
      }
  }
  std::string joins = clauses.where;  // the conditions, where the joins are
  for (const auto& r : q.from) joins += " " + r.on;
  if (has(Family::type) && rows_family != Family::type &&
      (rows_family != Family::column || joins.find("atttypid") == std::string::npos))
    return refuse("pg_type joined other than by a column's atttypid");
  if (has(Family::setting) && q.from.size() > 1) return refuse("pg_settings joined with other catalogs");
  if (has(Family::schema) && rows_family != Family::schema && joins.find("relnamespace") == std::string::npos &&
      joins.find("typnamespace") == std::string::npos &&
      std::any_of(q.from.begin(), q.from.end(), [](const FromRelation& r) { return r.relation == "pg_namespace"; }))
    return refuse("pg_namespace joined without a condition on a namespace");
  if (!empty && rows_family == Family::empty) return refuse("FROM " + clauses.from);

  std::vector<SelectItem> items;
  for (const auto& item : select.items) {
    if (!item.star) {
      items.push_back(item);
      continue;
    }
    const std::vector<std::string> names =
        rows_family == Family::derived ? derived_columns : star_columns(rows_family, q.from[0].relation);
    for (const auto& name : names) {
      SelectItem expanded;
      expanded.expr = expanded.key = expanded.name = name;
      items.push_back(expanded);
    }
  }

  LocalOutcome o;
  o.result.returns_rows = true;
  if (empty) {  // no rows to read: only the columns' names matter, unless aggregates make one row
    for (const auto& item : items) o.result.columns.push_back({item.name, item.literal ? item.literal->type_oid : oid::text});
    static const std::vector<std::string> aggregates = {"count", "max", "min", "sum", "avg", "array_agg", "string_agg",
                                                        "bool_and", "bool_or", "json_agg", "every"};
    std::size_t aggregated = 0;
    for (const auto& item : items)
      aggregated += std::find(aggregates.begin(), aggregates.end(), item.key) != aggregates.end() ? 1 : 0;
    const bool grouped = find_keyword(select.rest, "group") != std::string::npos;
    if (aggregated > 0 && !grouped) {
      if (aggregated != items.size() || find_keyword(select.rest, "having") != std::string::npos)
        return refuse("aggregates over a catalog without rows here, with other items or HAVING");
      std::vector<std::optional<std::string>> row;
      for (auto& item : items) row.push_back(item.key == "count" ? std::optional<std::string>("0") : std::nullopt);
      o.result.rows.push_back(std::move(row));
    }
    o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
    return o;
  }
  if (!clauses.unsupported.empty()) return refuse(clauses.unsupported);
  if (!items.empty() && items[0].expr.rfind("on ", 0) == 0 && select.distinct) return refuse("DISTINCT ON");

  // The rows of the model, then the query's conditions on them.
  std::vector<Dict> table_dicts, column_dicts;
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (table, column) indexes; column npos for none
  Dict schema = schema_dict(s), database = database_dict(s), am = am_dict(), role = role_dict(s);
  const Dict pg_catalog_schema = schema_dict(s, kPgCatalogOid, "pg_catalog");
  const std::vector<Dict> access_methods = am_dicts();
  std::vector<Dict> type_dicts, setting_dicts;
  if (has(Family::type))
    for (const auto& t : type_rows()) type_dicts.push_back(type_dict(t));
  if (has(Family::setting)) {
    std::map<std::string, std::string> settings = {{"max_index_keys", "32"}, {"max_identifier_length", "63"},
                                                   {"block_size", "8192"}, {"server_version_num", "150000"}};
    std::map<std::string, std::string> boot = settings;
    for (const auto& [k, v] : s.settings) settings[k] = v;
    for (const auto& [k, v] : s.defaults) boot[k] = v;
    for (const auto& [k, v] : settings) setting_dicts.push_back(setting_dict(k, v, boot.count(k) ? boot[k] : v));
  }
  // pg_namespace's rows: our schema, and pg_catalog, where pg_type's rows are (no tables of
  // its are listed). Not information_schema: its views are answered, but listed as a schema
  // it would be one more to browse in every tool, with nothing in it.
  const std::vector<Dict> schemas = {pg_catalog_schema, schema};
  for (const auto& t : tables) table_dicts.push_back(table_dict(t, s));
  for (std::size_t ti = 0; ti < tables.size(); ++ti) {
    const auto& t = tables[ti];
    int attnum = 0;
    for (const auto& c : t.columns) column_dicts.push_back(column_dict(t, c, ++attnum, s)), pairs.emplace_back(ti, column_dicts.size() - 1);
    for (const auto& k : t.partition_keys)
      column_dicts.push_back(column_dict(t, {k, "VARCHAR"}, ++attnum, s)), pairs.emplace_back(ti, column_dicts.size() - 1);
  }
  std::vector<RowDicts> rows;
  auto base = [&] {
    RowDicts r;
    r.schema = &schema;
    r.database = &database;
    r.am = &am;
    r.role = &role;
    return r;
  };
  // One row per dict of the relation the rows are of, in `slot` (a type's schema is pg_catalog).
  auto each = [&](const std::vector<Dict>& dicts, const Dict* RowDicts::*slot) {
    for (const auto& d : dicts) {
      RowDicts r = base();
      r.*slot = &d;
      if (slot == &RowDicts::type) r.schema = &pg_catalog_schema;
      rows.push_back(r);
    }
  };
  if (rows_family == Family::column) {
    for (auto [ti, ci] : pairs) {
      RowDicts r = base();
      r.table = has(Family::table) ? &table_dicts[ti] : nullptr;
      r.column = &column_dicts[ci];
      if (has(Family::type)) {  // joined ON (a.atttypid = t.oid): every column's type is in pg_type
        const auto type_oid = column_dicts[ci].at("atttypid").value;
        for (const auto& t : type_dicts)
          if (t.at("oid").value == type_oid) r.type = &t;
        if (!r.type) return refuse("a column of a type not in pg_type here (" + type_oid.value_or("") + ")");
      }
      rows.push_back(r);
    }
  } else if (rows_family == Family::derived) {
    each(derived_dicts, &RowDicts::derived);
  } else if (rows_family == Family::type) {
    each(type_dicts, &RowDicts::type);
  } else if (rows_family == Family::setting) {
    each(setting_dicts, &RowDicts::setting);
  } else if (rows_family == Family::schema) {
    each(schemas, &RowDicts::schema);
  } else if (rows_family == Family::table) {
    each(table_dicts, &RowDicts::table);
  } else if (rows_family == Family::am) {
    each(access_methods, &RowDicts::am);
  } else {
    rows.push_back(base());
  }
  if (rows_family == Family::column && has(Family::table) && joins.find("attrelid") == std::string::npos &&
      q.from[0].relation != "information_schema.columns")
    return refuse("pg_attribute with pg_class but no join condition on attrelid");
  if (rows_family == Family::column && has(Family::table) && q.from[0].relation == "information_schema.columns")
    return refuse("information_schema.columns joined with a table catalog");

  auto where = conditions(fold_session_constants(clauses.where, s.schema));
  if (!where) return refuse(where.error().message);
  std::vector<Condition> all = std::move(*where);
  std::vector<Condition> left_on;  // LEFT JOIN conditions of catalogs with rows: must hold for every row
  for (std::size_t i = 1; i < q.from.size(); ++i) {
    if (q.null_side[i] || family(q.from[i]) == Family::empty || q.from[i].on.empty()) continue;
    auto on = conditions(fold_session_constants(q.from[i].on, s.schema));
    if (!on) return refuse(on.error().message);
    for (auto& c : *on) (q.from[i].left ? left_on : all).push_back(std::move(c));
  }
  std::stable_partition(all.begin(), all.end(), [](const Condition& c) { return !c.unread(); });
  std::vector<RowDicts> kept;
  for (const auto& row : rows) {
    auto lookup = [&](const ColumnRef& ref) { return q.column(ref, row); };
    bool keep = true;
    for (const auto& c : left_on) {
      auto h = c.holds(lookup);
      if (!h) return refuse(h.error().message);
      if (!*h) return refuse("a LEFT JOIN whose condition does not match every row (" + q.from.back().on + ")");
    }
    for (const auto& c : all) {  // those not read here last, and only while the row is kept
      auto h = c.holds(lookup);
      if (!h) return refuse(h.error().message);
      keep = *h;
      if (!keep) break;
    }
    if (keep) kept.push_back(row);
  }

  if (items.size() == 1 && items[0].key == "count" && (items[0].expr == "count(*)" || items[0].expr == "count(1)")) {
    o.result.columns = {{items[0].name, oid::int8}};
    o.result.rows.push_back({std::to_string(kept.size())});
    o.result.tag = "SELECT 1";
    return o;
  }

  // Select list, sort keys, DISTINCT, OFFSET and LIMIT.
  auto keys = sort_keys(clauses.order_by, items);
  if (!keys) return refuse(keys.error().message);
  struct Out {
    std::vector<std::optional<std::string>> values, sort;
  };
  std::vector<Out> out;
  std::vector<std::int32_t> types(items.size(), oid::text);
  // row_number() OVER (PARTITION BY a ORDER BY b) (pgjdbc's attnum): numbered over the rows kept.
  std::vector<std::vector<std::string>> numbers(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    static const RE2 row_number(R"(row_number\(\) over \(partition by ([a-z_.]+) order by ([a-z_.]+)\))");
    auto m = full_match(items[i].expr, row_number);
    if (!m) continue;
    auto by = column_ref(m->str(1)), order = column_ref(m->str(2));
    if (!by || !order) return refuse("the expression " + items[i].expr);
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> keys;
    for (const auto& row : kept) {
      auto a = q.column(*by, row), b = q.column(*order, row);
      if (!a || !b) return refuse("the expression " + items[i].expr);
      keys.emplace_back(a->value, b->value);
    }
    std::vector<std::size_t> order_of(kept.size());
    for (std::size_t k = 0; k < order_of.size(); ++k) order_of[k] = k;
    std::stable_sort(order_of.begin(), order_of.end(), [&](std::size_t x, std::size_t y) {
      int c = compare_values(keys[x].first, keys[y].first, false);
      return c != 0 ? c < 0 : compare_values(keys[x].second, keys[y].second, false) < 0;
    });
    numbers[i].resize(kept.size());
    for (std::size_t k = 0, n = 0; k < order_of.size(); ++k) {
      n = k > 0 && keys[order_of[k]].first == keys[order_of[k - 1]].first ? n + 1 : 1;
      numbers[i][order_of[k]] = std::to_string(n);
    }
    types[i] = oid::int8;
  }
  for (std::size_t k = 0; k < kept.size(); ++k) {
    const auto& row = kept[k];
    Out r;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!numbers[i].empty()) {
        r.values.push_back(numbers[i][k]);
        continue;
      }
      auto cell = item_value(items[i], q, row, s);
      if (!cell) return refuse(cell.error().message);
      types[i] = cell->value ? cell->type_oid : types[i];
      r.values.push_back(cell->value);
    }
    for (const auto& k : *keys) {
      if (!k.ref) {
        r.sort.push_back(r.values[k.column]);
        continue;
      }
      auto v = q.column(*k.ref, row);
      if (!v) return refuse("ORDER BY " + k.ref->column);
      r.sort.push_back(v->value);
    }
    out.push_back(std::move(r));
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (out.empty() && numbers[i].empty()) {
      RowDicts r = base();
      if (auto cell = item_value(items[i], q, r, s)) types[i] = cell->type_oid;
    }
    o.result.columns.push_back({items[i].name, types[i]});
  }
  std::stable_sort(out.begin(), out.end(), [&](const Out& a, const Out& b) {
    for (std::size_t k = 0; k < keys->size(); ++k) {
      int c = compare_values(a.sort[k], b.sort[k], (*keys)[k].nulls_first);
      if (c != 0) return (*keys)[k].descending && a.sort[k] && b.sort[k] ? c > 0 : c < 0;
    }
    return false;
  });
  std::set<std::vector<std::optional<std::string>>> distinct;
  std::size_t skipped = 0;
  for (auto& r : out) {
    if (select.distinct && !distinct.insert(r.values).second) continue;
    if (clauses.offset && skipped < static_cast<std::size_t>(*clauses.offset)) {
      ++skipped;
      continue;
    }
    if (clauses.limit && o.result.rows.size() >= static_cast<std::size_t>(*clauses.limit)) break;
    o.result.rows.push_back(std::move(r.values));
  }
  o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
  return o;
}

}  // namespace etl::pgwire
