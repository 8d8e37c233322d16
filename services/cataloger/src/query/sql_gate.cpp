#include "sql_gate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

#include "allowed_functions.h"
#include "etl/ascii.h"
#include "sql_guard.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

// Table functions a dashboard may use: they read nothing outside the query.
constexpr std::array kAllowedTableFunctions = {"range", "generate_series", "unnest"};
// Names of DuckDB's and PostgreSQL's system catalogs: never a table or CTE name here.
constexpr std::array kSystemPrefixes = {"duckdb_", "sqlite_", "pg_", "pragma_", "information_schema"};
// Functions of those prefixes that read nothing: DuckDB 1.4.4's macros
// `lower(typeof(expression))` and `format_bytes(bytes)`, which PostgreSQL users write.
constexpr std::array kPlainSystemFunctions = {"pg_typeof", "pg_size_pretty"};
// What SHOW TABLES / SHOW ALL TABLES / SHOW DATABASES describe.
constexpr std::array kShowTargets = {"", "\"tables\"", "__show_tables_expanded", "\"databases\""};

// Bounds on a statement's shape. DuckDB plans before any timeout or cancel can
// reach a query, and its optimizer's time grows exponentially with the nesting
// of subqueries and faster than linearly with expression depth and the number of
// query blocks (measured with DuckDB 1.4.4: 20 nested scalar subqueries plan in
// 0.5 s, 24 in 5 s, 100 never finish; a 300-term `1+1+...` plans in 0.9 s, 900 in
// 15 s; 400 CTEs in 0.9 s). Within these bounds planning stays under ~0.1 s, and
// dashboards' queries are far inside them.
constexpr int kMaxQueryNesting = 16;     // SELECTs inside SELECTs (subqueries, derived tables, CTE bodies)
constexpr int kMaxQueryBlocks = 128;     // SELECT, set-operation and CTE nodes in the whole statement
constexpr int kMaxExpressionDepth = 64;  // expressions inside expressions
constexpr int kMaxTreeDepth = 1024;      // the serialized tree itself (the walk recurses on it)
// Flat shapes the nesting bounds do not see. DuckDB 1.4.4's parser is quadratic in an
// AND/OR chain (8,000 terms: 0.11 s; 1 MB of them: 22 s, under the gate's lock), and
// each list item (select list, IN list, ORDER BY, VALUES) costs ~10 KB while the
// statement is parsed and serialized (200,000 items: a 2.8 GB peak).
constexpr int kMaxBooleanTerms = 1000;   // AND / OR words in one statement
constexpr int kMaxListItems = 10000;     // commas in one statement

Error refuse(std::string reason) { return make_error(Errc::invalid_argument, "refused: " + std::move(reason)); }

std::string text(const json& node, const char* field) {
  auto it = node.find(field);
  return it != node.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool system_name(const std::string& name) {
  return std::any_of(kSystemPrefixes.begin(), kSystemPrefixes.end(),
                     [&](const char* p) { return name.rfind(p, 0) == 0; });
}

// Why a call of `name` (lower-case) is refused by its name alone, or "": the
// guard's reasons (refused_function), or a system catalog's function.
std::string refused_call(const std::string& name) {
  if (std::string why = refused_function(name); !why.empty()) return why;
  if (system_name(name) && !contains(kPlainSystemFunctions, name))
    return "function " + name + "() reads files, URLs or settings; query the catalog's tables instead";
  return {};
}

struct Walker {
  const std::set<std::string>& tables;
  std::string database;
  std::set<std::string>* reads = nullptr;
  // The CTE names in scope where the walk is, innermost last. DuckDB 1.4.4 binds a
  // WITH's names in the later CTEs of the same WITH, in its query and in their
  // subqueries, and nowhere else: a name declared in a sibling subquery is not a
  // CTE here, and DuckDB would read an unknown path-like name as a file.
  std::vector<std::string> ctes{};
  // The WITHs (query nodes' cte_map) around the walk, innermost last, and where
  // their names start in `ctes`.
  struct With {
    const json* cte_map;
    std::size_t start;
  };
  std::vector<With> withs{};
  int tree_depth = 0, query_depth = 0, expression_depth = 0, query_blocks = 0;

  // Counts one more level of `depth` for as long as it lives.
  struct Level {
    int& depth;
    explicit Level(int& d) : depth(++d) {}
    ~Level() { --depth; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
  };

  // Drops the CTE names and WITHs declared while it lives.
  struct Scope {
    Walker& w;
    std::size_t names, withs;
    explicit Scope(Walker& walker) : w(walker), names(walker.ctes.size()), withs(walker.withs.size()) {}
    ~Scope() {
      w.ctes.resize(names);
      w.withs.resize(withs);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  };

  bool cte_in_scope(const std::string& name) const { return std::find(ctes.begin(), ctes.end(), name) != ctes.end(); }

  static Status check_cte_name(const std::string& name) {
    if (system_name(name)) return refuse("a CTE cannot be named like a system catalog (" + name + ")");
    if (looks_like_path(name)) return refuse("a CTE cannot be named like a file path (\"" + name + "\")");
    return {};
  }

  // Walks a query node's WITH (`cte_map`, its `map` in the order written): each
  // body with the names declared before it in scope; then leaves all of its names
  // in scope for the rest of the node.
  Status declare_ctes(const json& cte_map) {
    for (const auto& [field, value] : cte_map.items()) {
      if (field != "map" || !value.is_array()) {
        ETL_RETURN_IF_ERROR(walk(value));
        continue;
      }
      for (const auto& entry : value) {
        std::string name = entry.is_object() ? ascii_lower(text(entry, "key")) : std::string();
        if (name.empty()) return refuse("a CTE this gate does not know");
        ETL_RETURN_IF_ERROR(check_cte_name(name));
        ETL_RETURN_IF_ERROR(walk(entry));
        ctes.push_back(std::move(name));
      }
    }
    return {};
  }

  // Runs `walk_part` with only the names in scope before the innermost WITH's
  // `cte_name` (before that WITH when `cte_name` is not one of its names), then
  // puts the names back.
  template <typename WalkPart>
  Status with_names_before(const std::string& cte_name, WalkPart walk_part) {
    std::vector<std::string> all = ctes;
    auto start = ctes.begin() + static_cast<std::ptrdiff_t>(withs.empty() ? ctes.size() : withs.back().start);
    auto own = std::find(start, ctes.end(), cte_name);
    ctes.erase(own == ctes.end() ? start : own, ctes.end());
    Status walked = walk_part();
    ctes = std::move(all);
    return walked;
  }

  // A query node's WITH. With a MATERIALIZED CTE, DuckDB makes a CTE_NODE of each
  // such CTE, nested, and repeats the whole WITH on each and on the query under
  // them: a repeat (the same map as the WITH around it) walks its bodies again as
  // that WITH's, and leaves the same names in scope.
  Status declare_with(const json& cte_map) {
    if (withs.empty() || *withs.back().cte_map != cte_map) {
      withs.push_back({&cte_map, ctes.size()});
      return declare_ctes(cte_map);
    }
    return with_names_before("", [&] { return declare_ctes(cte_map); });
  }

  Status table(const json& node) {
    std::string catalog = text(node, "catalog_name"), schema = ascii_lower(text(node, "schema_name"));
    std::string name = ascii_lower(text(node, "table_name"));
    // Refused even where a CTE of that name is in scope: no scoping mistake here
    // can turn into a file read.
    if (looks_like_path(name))
      return refuse("a file path cannot be used as a table (\"" + text(node, "table_name") +
                    "\"); query the catalog's tables");
    if (!catalog.empty() || !(schema.empty() || schema == "main" || schema == database) || system_name(schema))
      return refuse("only the catalog's tables can be queried (not " + (catalog.empty() ? "" : catalog + ".") + schema +
                    "." + name + ")");
    if (system_name(name)) return refuse("system catalogs are not available (" + name + "); GET /v1/tables lists the tables");
    if (tables.count(name)) {
      if (reads) reads->insert(name);
      return {};
    }
    if (schema.empty() && cte_in_scope(name)) return {};
    std::string known;
    for (const auto& t : tables) known += (known.empty() ? "" : ", ") + t;
    return refuse("unknown table '" + name + "' (the tables are: " + (known.empty() ? "none yet" : known) + ")");
  }

  Status function(const json& node, bool table_function) {
    std::string name = ascii_lower(text(node, "function_name"));
    if (table_function && !contains(kAllowedTableFunctions, name))
      return refuse("table function " + name + "() is not allowed; query the catalog's tables");
    if (std::string why = refused_call(name); !why.empty()) return refuse(why);
    if (!table_function && !allowed_function(name))
      return refuse("function " + name + "() does not exist or is not available on this endpoint");
    return {};
  }

  Status walk(const json& node) {
    Level tree(tree_depth);
    if (tree_depth > kMaxTreeDepth) return refuse("the statement is nested too deeply");
    if (node.is_array()) {
      for (const auto& v : node) ETL_RETURN_IF_ERROR(walk(v));
      return {};
    }
    if (!node.is_object()) return {};
    std::string type = text(node, "type"), cls = text(node, "class");
    const bool query = type.size() > 5 && type.ends_with("_NODE");
    std::optional<Level> in_query, in_expression;
    if (query) {
      in_query.emplace(query_depth);
      if (query_depth > kMaxQueryNesting)
        return refuse("subqueries are nested more than " + std::to_string(kMaxQueryNesting) + " deep");
      if (++query_blocks > kMaxQueryBlocks)
        return refuse("more than " + std::to_string(kMaxQueryBlocks) + " SELECTs, set operations and CTEs in one statement");
    }
    if (!cls.empty()) {
      in_expression.emplace(expression_depth);
      if (expression_depth > kMaxExpressionDepth)
        return refuse("expressions are nested more than " + std::to_string(kMaxExpressionDepth) + " deep");
    }
    Scope scope(*this);
    auto cte_map = node.find("cte_map");
    if (query && cte_map != node.end()) ETL_RETURN_IF_ERROR(declare_with(*cte_map));
    if (type == "RECURSIVE_CTE_NODE") {  // its second half reads the CTE itself
      std::string name = ascii_lower(text(node, "cte_name"));
      ETL_RETURN_IF_ERROR(check_cte_name(name));
      if (!name.empty()) ctes.push_back(std::move(name));
    }
    if (type == "BASE_TABLE") ETL_RETURN_IF_ERROR(table(node));
    if (type == "TABLE_FUNCTION") {
      auto f = node.find("function");
      if (f == node.end() || !f->is_object()) return refuse("a table function this gate does not know");
      ETL_RETURN_IF_ERROR(function(*f, true));
    }
    if (cls == "FUNCTION" || type == "FUNCTION") ETL_RETURN_IF_ERROR(function(node, false));
    // `f(x) OVER (...)` of any aggregate; the other window kinds (row_number, lag,
    // ...) are DuckDB's own, named by their type.
    if (cls == "WINDOW" && type == "WINDOW_AGGREGATE") ETL_RETURN_IF_ERROR(function(node, false));
    if (type == "SHOW_REF") {
      std::string name = text(node, "table_name");
      if (!contains(kShowTargets, name))
        return refuse("SHOW/DESCRIBE of '" + name + "' is not allowed");
      if (reads) reads->insert(kReadsEverything);
    }
    for (const auto& [k, v] : node.items()) {
      if (query && k == "cte_map") continue;  // declare_ctes walked it
      const json& child = v;                  // (clang 14 cannot capture a structured binding)
      // A CTE_NODE's `query` is the body of its `cte_name` (a MATERIALIZED CTE).
      if (type == "CTE_NODE" && k == "query")
        ETL_RETURN_IF_ERROR(with_names_before(ascii_lower(text(node, "cte_name")), [&] { return walk(child); }));
      else
        ETL_RETURN_IF_ERROR(walk(child));
    }
    return {};
  }
};

// The same bounds, roughly, on the tokens, before DuckDB parses anything: its
// parser and json_serialize_sql take time superlinear in the number of CTEs
// (1,600 CTEs: 6.5 s, under the gate's lock) and recursion in the nesting.
// Counts SELECT words and `AS (` (CTE bodies, also named windows) as blocks.
Status check_size_before_parsing(const std::vector<SqlToken>& tokens) {
  int selects = 0, bodies = 0, depth = 0, booleans = 0, commas = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const SqlToken& t = tokens[i];
    if (t.kind == TokenKind::word && t.text == "select") ++selects;
    if (t.kind == TokenKind::word && (t.text == "and" || t.text == "or") && ++booleans > kMaxBooleanTerms)
      return refuse("more than " + std::to_string(kMaxBooleanTerms) +
                    " ANDs and ORs in one statement: compare with IN (...) or join a list instead");
    if (t.kind == TokenKind::symbol && t.text == "," && ++commas > kMaxListItems)
      return refuse("more than " + std::to_string(kMaxListItems) + " list items (columns, IN values, rows) in one statement");
    if (t.kind == TokenKind::word && t.text == "as" && i + 1 < tokens.size() && tokens[i + 1].kind == TokenKind::symbol &&
        tokens[i + 1].text == "(")
      ++bodies;
    if (t.kind == TokenKind::symbol && (t.text == "(" || t.text == "[")) ++depth;
    if (t.kind == TokenKind::symbol && (t.text == ")" || t.text == "]")) --depth;
    if (depth > kMaxExpressionDepth * 2) return refuse("the statement is nested too deeply");
  }
  if (selects > kMaxQueryBlocks || bodies > kMaxQueryBlocks)
    return refuse("more than " + std::to_string(kMaxQueryBlocks) + " SELECTs, set operations and CTEs in one statement");
  return {};
}

// json_serialize_sql writes a DOUBLE constant that overflows (`SELECT 1e999`, a
// 400-digit literal) as a bare Infinity or -Infinity (NaN too, should one come),
// which is not JSON. The walk never reads a constant's value: each such word
// outside a JSON string becomes null. Other text is kept as it is.
std::string with_non_finite_numbers_as_null(std::string_view serialized) {
  auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  std::string out;
  out.reserve(serialized.size());
  bool in_string = false;
  for (std::size_t i = 0; i < serialized.size(); ++i) {
    char c = serialized[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < serialized.size()) out += serialized[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    std::size_t word = c == '-' ? i + 1 : i, end = word;
    while (end < serialized.size() && is_alpha(serialized[end])) ++end;
    if (end == word) {
      out += c;
      continue;
    }
    std::string lower = ascii_lower(serialized.substr(word, end - word));
    if (lower == "infinity" || lower == "inf" || lower == "nan") out += "null";  // its sign too
    else out += serialized.substr(i, end - i);  // true, false, null, an exponent's e
    i = end - 1;
  }
  return out;
}

// The text after EXPLAIN [ANALYZE]: json_serialize_sql only takes SELECTs.
std::string_view explained_query(std::string_view sql) {
  auto tokens = tokenize_sql(sql);
  if (!tokens || tokens->empty() || (*tokens)[0].kind != TokenKind::word || (*tokens)[0].text != "explain") return sql;
  size_t i = 1;
  if (i < tokens->size() && (*tokens)[i].kind == TokenKind::word && (*tokens)[i].text == "analyze") ++i;
  if (i >= tokens->size()) return {};
  return sql.substr(static_cast<size_t>((*tokens)[i].source.data() - sql.data()));
}

}  // namespace

bool refused_by_name(std::string_view name) { return !refused_call(ascii_lower(name)).empty(); }

Status check_syntax_tree(const json& serialized, const std::set<std::string>& tables, const std::string& database,
                         std::set<std::string>* reads) {
  if (!serialized.is_object()) return refuse("the statement does not parse");
  if (serialized.value("error", true)) {
    std::string message = serialized.value("error_message", std::string("the statement does not parse"));
    if (message.find("Only SELECT") != std::string::npos)
      return refuse("only read-only statements are allowed (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN of a query, PIVOT)");
    return make_error(Errc::invalid_argument, message);
  }
  auto statements = serialized.find("statements");
  if (statements == serialized.end() || !statements->is_array() || statements->size() != 1)
    return refuse("only one statement is allowed");
  Walker walker{tables, ascii_lower(database), reads};
  return walker.walk(*statements);
}

Result<json> SqlGate::serialize(const std::string& sql) {
  duckdb_prepared_statement p = nullptr;
  if (duckdb_prepare(conn_->raw(), "SELECT json_serialize_sql(?::VARCHAR)", &p) == DuckDBError) {
    duckdb_destroy_prepare(&p);
    return make_error(Errc::internal, "json_serialize_sql is not available in this DuckDB build");
  }
  duck::PreparedStatement prepared(p);
  // DuckDB takes only UTF-8 text (the pgwire endpoint may pass other bytes).
  if (duckdb_bind_varchar_length(prepared.raw(), 1, sql.data(), sql.size()) == DuckDBError)
    return refuse("the statement is not valid UTF-8");
  duckdb_result r;
  if (duckdb_execute_prepared(prepared.raw(), &r) == DuckDBError) {
    std::string message = duckdb_result_error(&r) ? duckdb_result_error(&r) : "cannot parse";
    duckdb_destroy_result(&r);
    return make_error(Errc::invalid_argument, message);
  }
  duck::QueryResult owned(r);
  auto serialized = owned.text(0, 0);
  if (!serialized) return make_error(Errc::invalid_argument, "the statement does not parse");
  json out = json::parse(with_non_finite_numbers_as_null(*serialized), nullptr, false);
  // The statement parsed but its tree cannot be read: refused (the statement's
  // fault or DuckDB's, never a reason to run it unchecked nor a 500).
  if (out.is_discarded()) return refuse("DuckDB's syntax tree of this statement cannot be checked (not JSON)");
  return out;
}

Status SqlGate::check(const std::string& sql, const std::set<std::string>& tables, std::set<std::string>* reads) {
  auto tokens = tokenize_sql(sql);
  if (!tokens) return std::move(tokens).error();
  ETL_RETURN_IF_ERROR(check_read_only_tokens(*tokens));
  ETL_RETURN_IF_ERROR(check_size_before_parsing(*tokens));
  std::lock_guard lock(mutex_);
  auto count = conn_->count_statements(sql);
  if (!count) return make_error(Errc::invalid_argument, count.error().message);
  if (*count != 1) {
    // DuckDB turns a PIVOT without an IN list into two statements (one finds the values).
    const bool pivot = std::any_of(tokens->begin(), tokens->end(), [](const SqlToken& t) {
      return t.kind == TokenKind::word && (t.text == "pivot" || t.text == "pivot_wider");
    });
    return refuse("only one statement is allowed (DuckDB's parser found " + std::to_string(*count) + ")" +
                  (pivot ? "; a PIVOT without an IN list is two statements to DuckDB: name its values, "
                           "ON col IN ('a', 'b')"
                         : ""));
  }
  std::string_view query = explained_query(sql);
  if (query.empty()) return refuse("EXPLAIN is allowed only of a SELECT or WITH query");
  auto serialized = serialize(std::string(query));
  if (!serialized) return std::move(serialized).error();
  return check_syntax_tree(*serialized, tables, database_, reads);
}

Status SqlGate::check(const std::string& sql, const std::set<std::string>& tables, std::uint64_t generation,
                      std::set<std::string>* reads) {
  std::set<std::string> named;
  if (auto verdict = verdicts_.find(sql, generation, &named)) {
    if (reads) *reads = std::move(named);
    return *std::move(verdict);
  }
  Status verdict = check(sql, tables, &named);
  verdicts_.remember(sql, generation, verdict, named);
  if (reads) *reads = std::move(named);
  return verdict;
}

void SqlGate::set_tables(const std::map<std::string, std::int64_t>& views) {
  std::set<std::string> tables;
  for (const auto& [name, version] : views) tables.insert(name);
  std::lock_guard lock(tables_mutex_);
  if (tables == tables_) return;
  tables_ = std::move(tables);
  ++tables_generation_;
}

Status SqlGate::check_current(const std::string& sql, std::set<std::string>* reads) {
  std::set<std::string> tables;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(tables_mutex_);
    tables = tables_;
    generation = tables_generation_;
  }
  return check(sql, tables, generation, reads);
}

}  // namespace etl::cataloger
