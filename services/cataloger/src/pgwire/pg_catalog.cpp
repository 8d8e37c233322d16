#include "pgwire/pg_catalog.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "pgwire/catalog_query.h"
#include "pgwire/commands.h"
#include "pgwire/patterns.h"

namespace etl::pgwire {
namespace {

enum class Rows { none, tables, columns, schemas, databases };

constexpr std::int32_t kNamespaceOid = 2200;

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
            {"type", text("table")}, {"is_insertable_into", text("NO")}, {"tablespace", null()},
            {"reltoastrelid", number(0, oid::oid)}, {"reloptions", null()}, {"relacl", null()}};
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
            {"is_identity", text("NO")}, {"is_generated", text("NEVER")}, {"is_updatable", text("NO")},
            {"attstorage", text(pt.size == -1 ? "x" : "p")}, {"attcompression", text("")},
            {"attstattarget", number(-1)}, {"column_default", null()}};
  return d;
}

Dict schema_dict(const SessionInfo& s) {
  return {{"oid", number(kNamespaceOid, oid::oid)}, {"nspname", text(s.schema)}, {"schema_name", text(s.schema)},
          {"nspowner", number(10, oid::oid)}, {"catalog_name", text(s.database)}, {"schema_owner", text(s.user)},
          {"pg_get_userbyid", text(s.user)}, {"nspacl", null()}};
}

Dict database_dict(const SessionInfo& s) {
  return {{"oid", number(1, oid::oid)}, {"datname", text(s.database)}, {"encoding", number(6)},
          {"datallowconn", boolean(true)}, {"datistemplate", boolean(false)}, {"datdba", number(10, oid::oid)},
          {"pg_get_userbyid", text(s.user)}, {"pg_encoding_to_char", text("UTF8")}, {"datcollate", text("C")},
          {"datctype", text("C")}, {"daticulocale", null()}, {"datlocprovider", text("c")}, {"datacl", null()}};
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

Dict am_dict(std::int64_t am_oid = 2, const char* name = "heap", const char* type = "t") {
  return {{"oid", number(am_oid, oid::oid)}, {"amname", text(name)}, {"amtype", text(type)}};
}

// pg_am's rows, PostgreSQL's built-in access methods (SQLAlchemy's get_indexes looks up
// btree's oid first; then finds no index of it here).
std::vector<Dict> am_dicts() {
  return {am_dict(), am_dict(403, "btree", "i"), am_dict(405, "hash", "i"), am_dict(783, "gist", "i"),
          am_dict(2742, "gin", "i"), am_dict(4000, "spgist", "i"), am_dict(3580, "brin", "i")};
}

enum class Family { table, column, schema, database, am, empty };

Family family(const std::string& relation) {
  if (relation == "pg_class" || relation == "pg_tables" || relation == "information_schema.tables") return Family::table;
  if (relation == "pg_attribute" || relation == "information_schema.columns") return Family::column;
  if (relation == "pg_namespace" || relation == "information_schema.schemata") return Family::schema;
  if (relation == "pg_database") return Family::database;
  if (relation == "pg_am") return Family::am;
  return Family::empty;
}

// One answer row: the dicts of the relations it joins (null: that relation has no row).
struct RowDicts {
  const Dict* table = nullptr;
  const Dict* column = nullptr;
  const Dict* schema = nullptr;
  const Dict* database = nullptr;
  const Dict* am = nullptr;
  const Dict* of(Family f) const {
    switch (f) {
      case Family::table: return table;
      case Family::column: return column;
      case Family::schema: return schema;
      case Family::database: return database;
      case Family::am: return am;
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
      const Family f = family(r.relation);
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
  for (const Dict* d : {row.column, row.table, row.schema, row.database, row.am})
    if (d)
      if (auto it = d->find(key); it != d->end()) return it->second;
  return std::nullopt;
}

// `case <column> when 'a' then 'x' ... [else 'y'] end`, evaluated; nullopt for another form.
std::optional<std::optional<Cell>> simple_case(const std::string& expr, const Query& q, const RowDicts& row) {
  static const RE2 head(R"(^case ([a-z_][a-z0-9_.]*) when )");
  auto m = search(expr, head);
  if (!m || !expr.ends_with(" end")) return std::nullopt;
  auto ref = column_ref(m->str(1));
  if (!ref) return std::nullopt;
  auto v = q.column(*ref, row);
  if (!v) return std::optional<Cell>();
  std::string body = expr.substr(m->length() - 5, expr.size() - m->length() + 5 - 4);
  static const RE2 arm(R"(^\s*when ('(?:[^']|'')*') then ('(?:[^']|'')*'|null))");
  static const RE2 otherwise(R"(^\s*else ('(?:[^']|'')*'|null)\s*$)");
  std::optional<std::string> result;
  bool found = false;
  while (!body.empty() && body.find_first_not_of(' ') != std::string::npos) {
    if (auto a = search(body, arm)) {
      auto when = constant(a->str(1)), then = constant(a->str(2));
      if (!when || !then) return std::optional<Cell>();
      if (!found && v->value && *when == v->value) result = *then, found = true;
      body = body.substr(a->length());
    } else if (auto e_arm = search(body, otherwise)) {
      auto e = constant(e_arm->str(1));
      if (!e) return std::optional<Cell>();
      if (!found) result = *e;
      body.clear();
    } else {
      return std::optional<Cell>();
    }
  }
  return std::optional<Cell>(Cell{result, oid::text});
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

// A scalar subquery that reads only catalogs without rows here: NULL.
bool empty_subquery(const std::string& expr) {
  if (expr.rfind("(select ", 0) != 0 || expr.back() != ')') return false;
  static const RE2 rel(R"((from|join|,)\s+((pg_catalog\.)?pg_[a-z_]+|information_schema\.[a-z_]+))");
  bool any = false;
  for (auto m = search(expr, rel); m; m = match_at(expr, rel, m->position() + m->length(), RE2::UNANCHORED)) {
    std::string r = m->str(2);
    if (r.rfind("pg_catalog.", 0) == 0) r = r.substr(11);
    if (!is_empty_catalog(r) && r != "pg_type") return false;
    any = true;
  }
  return any && expr.find(" count(") == std::string::npos && expr.find("(count(") == std::string::npos;
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
  if (auto ref = column_ref(expr)) {
    if (auto v = q.column(*ref, row)) return *v;
    return make_error(Errc::invalid_argument, "the column " + expr);
  }
  // `case when (c.x is not null) then f(c.x) end` over a column that is NULL here (a LEFT JOIN
  // with a catalog without rows: SQLAlchemy's foreign keys and check constraints) is NULL.
  static const RE2 when_not_null(R"(^case when \(?([a-z_][a-z0-9_.]*) is not null\)? then .* end$)");
  if (auto m = full_match(expr, when_not_null)) {
    if (auto ref = column_ref(m->str(1)))
      if (auto v = q.column(*ref, row); v && !v->value) return null();
    return make_error(Errc::invalid_argument, "the expression " + expr);
  }
  if (auto c = simple_case(expr, q, row)) {
    if (*c) return **c;
    return make_error(Errc::invalid_argument, expr);
  }
  if (auto c = known_expression(expr)) return *c;
  if (empty_subquery(expr)) return null();
  static const RE2 call(R"((pg_catalog\.)?[a-z_]+\(.*\))");
  if (full_match(expr, call)) {
    if (auto v = session_value(item, s)) return *v;
    if (auto v = row_function(item.key, row)) return *v;
  }
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

LocalOutcome catalog_select(const SelectParts& select, const std::vector<TableInfo>& tables, const SessionInfo& s) {
  auto refuse = [](const std::string& what) {
    return local_error("0A000", what.rfind("unsupported", 0) == 0
                                    ? what
                                    : "unsupported in a query over the emulated pg_catalog / information_schema: " +
                                          what.substr(0, 200));
  };
  Clauses clauses = split_clauses(select.rest);
  auto from = from_relations(clauses.from);
  if (!from) return refuse(from.error().message);
  if (from->empty()) return refuse("a catalog query without a plain FROM list");
  Query q{*from, std::vector<bool>(from->size(), false)};

  // Which rows: an inner join with a catalog that has no rows here has none.
  Family rows_family = Family::empty;
  std::vector<std::size_t> seen(6, 0);
  bool empty = false;
  for (std::size_t i = 0; i < q.from.size(); ++i) {
    const auto& r = q.from[i];
    if (r.relation == "pg_type") {
      // Type lookups by name: types of extensions (hstore ...) are not here. psycopg's (and
      // SQLAlchemy's) `oid = to_regtype('x')`; psycopg2's hstore lookup (SQLAlchemy's psycopg2
      // dialect, Superset's default, runs it on connect) `typname = 'hstore'`, joined with pg_namespace.
      static const RE2 by_name(
          R"(([a-z_]+\.)?oid = (pg_catalog\.)?to_regtype\( *'([a-z0-9_]+)' *\)|([a-z_]+\.)?typname = '([a-z0-9_]+)')");
      static const std::vector<std::string> builtin = {"bool", "boolean", "int2", "int4", "int8", "smallint", "integer", "bigint",
                                                       "float4", "float8", "real", "text", "varchar", "name", "oid", "json",
                                                       "jsonb", "date", "time", "timestamp", "timestamptz", "interval",
                                                       "numeric", "uuid", "bytea", "char", "bpchar", "record"};
      std::optional<Match> m;
      const bool alone = q.from.size() == 1 || (q.from.size() == 2 && (q.from[0].relation == "pg_namespace" ||
                                                                      q.from[1].relation == "pg_namespace"));
      std::string name;
      if (alone && (m = full_match(clauses.where, by_name))) name = m->matched(3) ? m->str(3) : m->str(5);
      if (!name.empty() && (m->matched(5) || q.from.size() == 1) &&
          std::find(builtin.begin(), builtin.end(), name) == builtin.end()) {
        empty = true;
        continue;
      }
      return refuse("pg_type (only lookups of extension types by name are answered, and those types are not here)");
    }
    if (!r.subquery.empty()) {  // (SELECT ...) AS x: answered here too; only one without rows is joined
      auto sub = parse_select(r.subquery);
      if (!sub) return refuse("FROM (" + r.subquery + ")");
      auto answer = catalog_select(*sub, tables, s);
      if (answer.error) return answer;
      if (!answer.result.rows.empty()) return refuse("a subquery in FROM (" + r.alias + ") with rows");
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
      if (q.null_side[j] || family(q.from[j].relation) == Family::empty)
        matches_nothing = matches_nothing || r.on.find(q.from[j].alias + ".") != std::string::npos;
    if (r.left && matches_nothing) {
      q.null_side[i] = true;
      continue;
    }
    if (seen[static_cast<std::size_t>(f)]++ > 0) return refuse("the same catalog twice in FROM (" + r.relation + ")");
    if (f == Family::column || (f == Family::table && rows_family != Family::column) ||
        (f == Family::schema && rows_family == Family::empty) || (f == Family::database && rows_family == Family::empty) ||
        (f == Family::am && rows_family == Family::empty))
      rows_family = f;
  }
  if (!empty && rows_family == Family::empty) return refuse("FROM " + clauses.from);

  std::vector<SelectItem> items;
  for (const auto& item : select.items) {
    if (!item.star) {
      items.push_back(item);
      continue;
    }
    Rows kind = rows_family == Family::column ? Rows::columns : rows_family == Family::table ? Rows::tables
              : rows_family == Family::schema ? Rows::schemas : rows_family == Family::database ? Rows::databases : Rows::none;
    for (const auto& name : star_columns(kind, q.from[0].relation)) {
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
    // UNION: every other branch must have no rows either (INTERSECT and EXCEPT of nothing are nothing).
    if (auto u = find_keyword(select.rest, "union"); u != std::string::npos) {
      std::string next = select.rest.substr(u + 5);
      while (!next.empty() && next.front() == ' ') next.erase(next.begin());
      if (next.rfind("all ", 0) == 0) next = next.substr(4);
      auto branch = parse_select(next);
      if (!branch) return refuse("UNION " + next);
      auto answer = catalog_select(*branch, tables, s);
      if (answer.error) return answer;
      if (!answer.result.rows.empty()) return refuse("UNION with rows");
    }
    o.result.tag = "SELECT " + std::to_string(o.result.rows.size());
    return o;
  }
  if (!clauses.unsupported.empty()) return refuse(clauses.unsupported);
  if (!items.empty() && items[0].expr.rfind("on ", 0) == 0 && select.distinct) return refuse("DISTINCT ON");

  // The rows of the model, then the query's conditions on them.
  std::vector<Dict> table_dicts, column_dicts;
  std::vector<std::pair<std::size_t, std::size_t>> pairs;  // (table, column) indexes; column npos for none
  Dict schema = schema_dict(s), database = database_dict(s), am = am_dict();
  const std::vector<Dict> access_methods = am_dicts();
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
    return r;
  };
  if (rows_family == Family::column) {
    for (auto [ti, ci] : pairs) {
      RowDicts r = base();
      r.table = seen[static_cast<std::size_t>(Family::table)] ? &table_dicts[ti] : nullptr;
      r.column = &column_dicts[ci];
      rows.push_back(r);
    }
  } else if (rows_family == Family::table) {
    for (const auto& d : table_dicts) {
      RowDicts r = base();
      r.table = &d;
      rows.push_back(r);
    }
  } else if (rows_family == Family::am) {
    for (const auto& d : access_methods) {
      RowDicts r = base();
      r.am = &d;
      rows.push_back(r);
    }
  } else {
    rows.push_back(base());
  }
  if (rows_family == Family::column && seen[static_cast<std::size_t>(Family::table)] &&
      clauses.where.find("attrelid") == std::string::npos && clauses.from.find("attrelid") == std::string::npos &&
      q.from[0].relation != "information_schema.columns")
    return refuse("pg_attribute with pg_class but no join condition on attrelid");
  if (rows_family == Family::column && seen[static_cast<std::size_t>(Family::table)] &&
      q.from[0].relation == "information_schema.columns")
    return refuse("information_schema.columns joined with a table catalog");

  auto where = conditions(clauses.where);
  if (!where) return refuse(where.error().message);
  std::vector<Condition> all = std::move(*where);
  std::vector<Condition> left_on;  // LEFT JOIN conditions of catalogs with rows: must hold for every row
  for (std::size_t i = 1; i < q.from.size(); ++i) {
    if (q.null_side[i] || family(q.from[i].relation) == Family::empty || q.from[i].on.empty()) continue;
    auto on = conditions(q.from[i].on);
    if (!on) return refuse(on.error().message);
    for (auto& c : *on) (q.from[i].left ? left_on : all).push_back(std::move(c));
  }
  std::vector<RowDicts> kept;
  for (const auto& row : rows) {
    auto lookup = [&](const ColumnRef& ref) { return q.column(ref, row); };
    bool keep = true;
    for (const auto& c : left_on) {
      auto h = c.holds(lookup);
      if (!h) return refuse(h.error().message);
      if (!*h) return refuse("a LEFT JOIN whose condition does not match every row (" + q.from.back().on + ")");
    }
    for (const auto& c : all) {
      auto h = c.holds(lookup);
      if (!h) return refuse(h.error().message);
      keep = keep && *h;
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
  for (const auto& row : kept) {
    Out r;
    for (std::size_t i = 0; i < items.size(); ++i) {
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
    if (out.empty()) {
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
