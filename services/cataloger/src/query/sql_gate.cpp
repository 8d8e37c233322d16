#include "sql_gate.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "etl/ascii.h"
#include "sql_guard.h"

namespace etl::cataloger {
namespace {

using nlohmann::json;

// Table functions a dashboard may use: they read nothing outside the query.
constexpr std::array kAllowedTableFunctions = {"range", "generate_series", "unnest"};
// Names of DuckDB's and PostgreSQL's system catalogs: never a table or CTE name here.
constexpr std::array kSystemPrefixes = {"duckdb_", "sqlite_", "pg_", "pragma_", "information_schema"};
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

// Every CTE name declared anywhere in the tree (a superset of what is in scope:
// fine, CTE names are refused when they shadow a system name).
void collect_ctes(const json& node, std::set<std::string>& out) {
  if (node.is_object()) {
    if (auto m = node.find("cte_map"); m != node.end() && m->is_object()) {
      if (auto entries = m->find("map"); entries != m->end() && entries->is_array())
        for (const auto& e : *entries)
          if (e.is_object() && e.contains("key") && e["key"].is_string()) out.insert(ascii_lower(e["key"].get<std::string>()));
    }
    for (const auto& [k, v] : node.items()) collect_ctes(v, out);
  } else if (node.is_array()) {
    for (const auto& v : node) collect_ctes(v, out);
  }
}

struct Walker {
  const std::set<std::string>& tables;
  std::string database;
  std::set<std::string> ctes;
  std::set<std::string>* reads = nullptr;
  int tree_depth = 0, query_depth = 0, expression_depth = 0, query_blocks = 0;

  // Counts one more level of `depth` for as long as it lives.
  struct Level {
    int& depth;
    explicit Level(int& d) : depth(++d) {}
    ~Level() { --depth; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
  };

  Status table(const json& node) {
    std::string catalog = text(node, "catalog_name"), schema = ascii_lower(text(node, "schema_name"));
    std::string name = ascii_lower(text(node, "table_name"));
    if (!catalog.empty() || !(schema.empty() || schema == "main" || schema == database) || system_name(schema))
      return refuse("only the catalog's tables can be queried (not " + (catalog.empty() ? "" : catalog + ".") + schema +
                    "." + name + ")");
    if (system_name(name)) return refuse("system catalogs are not available (" + name + "); GET /v1/tables lists the tables");
    if (tables.count(name)) {
      if (reads) reads->insert(name);
      return {};
    }
    if (schema.empty() && ctes.count(name)) return {};
    std::string known;
    for (const auto& t : tables) known += (known.empty() ? "" : ", ") + t;
    return refuse("unknown table '" + name + "' (the tables are: " + (known.empty() ? "none yet" : known) + ")");
  }

  Status function(const json& node, bool table_function) {
    std::string name = ascii_lower(text(node, "function_name"));
    if (table_function &&
        std::none_of(kAllowedTableFunctions.begin(), kAllowedTableFunctions.end(), [&](const char* f) { return name == f; }))
      return refuse("table function " + name + "() is not allowed; query the catalog's tables");
    if (forbidden_function(name) || system_name(name))
      return refuse("function " + name + "() reads files, URLs or settings; query the catalog's tables instead");
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
    if (type == "BASE_TABLE") ETL_RETURN_IF_ERROR(table(node));
    if (type == "TABLE_FUNCTION") {
      auto f = node.find("function");
      if (f == node.end() || !f->is_object()) return refuse("a table function this gate does not know");
      ETL_RETURN_IF_ERROR(function(*f, true));
    }
    if (cls == "FUNCTION" || type == "FUNCTION") ETL_RETURN_IF_ERROR(function(node, false));
    if (type == "SHOW_REF") {
      std::string name = text(node, "table_name");
      if (std::none_of(kShowTargets.begin(), kShowTargets.end(), [&](const char* t) { return name == t; }))
        return refuse("SHOW/DESCRIBE of '" + name + "' is not allowed");
      if (reads) reads->insert(kReadsEverything);
    }
    for (const auto& [k, v] : node.items()) ETL_RETURN_IF_ERROR(walk(v));
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

Status check_syntax_tree(const json& serialized, const std::set<std::string>& tables, const std::string& database,
                         std::set<std::string>* reads) {
  if (!serialized.is_object()) return refuse("the statement does not parse");
  if (serialized.value("error", true)) {
    std::string message = serialized.value("error_message", std::string("the statement does not parse"));
    if (message.find("Only SELECT") != std::string::npos)
      return refuse("only read-only statements are allowed (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN of a query)");
    return make_error(Errc::invalid_argument, message);
  }
  auto statements = serialized.find("statements");
  if (statements == serialized.end() || !statements->is_array() || statements->size() != 1)
    return refuse("only one statement is allowed");
  Walker walker{tables, ascii_lower(database), {}, reads};
  collect_ctes(*statements, walker.ctes);
  for (const auto& name : walker.ctes)
    if (system_name(name)) return refuse("a CTE cannot be named like a system catalog (" + name + ")");
  return walker.walk(*statements);
}

Result<json> SqlGate::serialize(const std::string& sql) {
  duckdb_prepared_statement p = nullptr;
  if (duckdb_prepare(conn_->raw(), "SELECT json_serialize_sql(?::VARCHAR)", &p) == DuckDBError) {
    duckdb_destroy_prepare(&p);
    return make_error(Errc::internal, "json_serialize_sql is not available in this DuckDB build");
  }
  duck::PreparedStatement prepared(p);
  duckdb_bind_varchar_length(prepared.raw(), 1, sql.data(), sql.size());
  duckdb_result r;
  if (duckdb_execute_prepared(prepared.raw(), &r) == DuckDBError) {
    std::string message = duckdb_result_error(&r) ? duckdb_result_error(&r) : "cannot parse";
    duckdb_destroy_result(&r);
    return make_error(Errc::invalid_argument, message);
  }
  duck::QueryResult owned(r);
  auto serialized = owned.text(0, 0);
  if (!serialized) return make_error(Errc::invalid_argument, "the statement does not parse");
  json out = json::parse(*serialized, nullptr, false);
  if (out.is_discarded()) return make_error(Errc::internal, "json_serialize_sql gave invalid JSON");
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
  if (*count != 1) return refuse("only one statement is allowed (DuckDB's parser found " + std::to_string(*count) + ")");
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

}  // namespace etl::cataloger
