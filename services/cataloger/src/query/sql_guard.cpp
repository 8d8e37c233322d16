#include "sql_guard.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <span>

#include "etl/ascii.h"

namespace etl::cataloger {
namespace {

bool is_word_start(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool is_word_char(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

Error refuse(std::string reason) { return make_error(Errc::invalid_argument, "refused: " + std::move(reason)); }

// Reads a quoted run starting at `i` (the opening quote); doubled quotes escape,
// and with `backslash` a backslash escapes the next character. Returns the index
// past the closing quote, or npos when unterminated.
size_t scan_quoted(std::string_view sql, size_t i, char quote, bool backslash, std::string& content) {
  for (size_t j = i + 1; j < sql.size(); ++j) {
    char c = sql[j];
    if (backslash && c == '\\' && j + 1 < sql.size()) {
      content += sql[++j];
      continue;
    }
    if (c == quote) {
      if (j + 1 < sql.size() && sql[j + 1] == quote) {
        content += quote;
        ++j;
        continue;
      }
      return j + 1;
    }
    content += c;
  }
  return std::string_view::npos;
}

}  // namespace

Result<std::vector<SqlToken>> tokenize_sql(std::string_view sql) {
  std::vector<SqlToken> out;
  size_t i = 0;
  while (i < sql.size()) {
    unsigned char c = static_cast<unsigned char>(sql[i]);
    if (std::isspace(c)) {
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      // DuckDB's scanner (PostgreSQL's) ends a -- comment at \n or \r.
      while (i < sql.size() && sql[i] != '\n' && sql[i] != '\r') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      int depth = 0;  // block comments nest, as in PostgreSQL and DuckDB
      size_t j = i;
      for (; j < sql.size(); ++j) {
        if (sql[j] == '/' && j + 1 < sql.size() && sql[j + 1] == '*') {
          ++depth;
          ++j;
        } else if (sql[j] == '*' && j + 1 < sql.size() && sql[j + 1] == '/') {
          ++j;
          if (--depth == 0) break;
        }
      }
      if (depth != 0) return make_error(Errc::invalid_argument, "refused: unterminated /* comment");
      i = j + 1;
    } else if (c == '\'') {
      std::string content;
      size_t end = scan_quoted(sql, i, '\'', false, content);
      if (end == std::string_view::npos) return make_error(Errc::invalid_argument, "refused: unterminated string literal");
      out.push_back({TokenKind::string, std::move(content), sql.substr(i, end - i)});
      i = end;
    } else if (c == '"') {
      std::string content;
      size_t end = scan_quoted(sql, i, '"', false, content);
      if (end == std::string_view::npos) return make_error(Errc::invalid_argument, "refused: unterminated quoted identifier");
      out.push_back({TokenKind::quoted_identifier, std::move(content), sql.substr(i, end - i)});
      i = end;
    } else if (c == '$' && i + 1 < sql.size() && (sql[i + 1] == '$' || is_word_start(static_cast<unsigned char>(sql[i + 1])))) {
      // $tag$ ... $tag$ (a dollar-quoted string), unless it is a $name parameter.
      size_t j = i + 1;
      while (j < sql.size() && sql[j] != '$' && is_word_char(static_cast<unsigned char>(sql[j])) ) ++j;
      if (j < sql.size() && sql[j] == '$') {
        std::string_view tag = sql.substr(i, j - i + 1);
        size_t close = sql.find(tag, j + 1);
        if (close == std::string_view::npos) return make_error(Errc::invalid_argument, "refused: unterminated dollar-quoted string");
        out.push_back({TokenKind::string, std::string(sql.substr(j + 1, close - j - 1)), sql.substr(i, close + tag.size() - i)});
        i = close + tag.size();
      } else {
        out.push_back({TokenKind::symbol, "$", sql.substr(i, 1)});
        ++i;
      }
    } else if (is_word_start(c)) {
      size_t j = i;
      while (j < sql.size() && is_word_char(static_cast<unsigned char>(sql[j]))) ++j;
      std::string word = ascii_lower(sql.substr(i, j - i));
      // E'..' (backslash escapes), X'..', B'..', N'..', U&'..': prefixed string literals.
      if (j < sql.size() && sql[j] == '\'' && (word == "e" || word == "x" || word == "b" || word == "n")) {
        std::string content;
        size_t end = scan_quoted(sql, j, '\'', word == "e", content);
        if (end == std::string_view::npos) return make_error(Errc::invalid_argument, "refused: unterminated string literal");
        out.push_back({TokenKind::string, std::move(content), sql.substr(i, end - i)});
        i = end;
        continue;
      }
      out.push_back({TokenKind::word, std::move(word), sql.substr(i, j - i)});
      i = j;
    } else if (std::isdigit(c) || (c == '.' && i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1])))) {
      size_t j = i;
      while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) || sql[j] == '.' || sql[j] == '_' ||
                                ((sql[j] == '+' || sql[j] == '-') && (sql[j - 1] == 'e' || sql[j - 1] == 'E'))))
        ++j;
      out.push_back({TokenKind::number, std::string(sql.substr(i, j - i)), sql.substr(i, j - i)});
      i = j;
    } else {
      out.push_back({TokenKind::symbol, std::string(1, static_cast<char>(c)), sql.substr(i, 1)});
      ++i;
    }
  }
  return out;
}

namespace {

// Words that only occur in statements that write, change the session or reach
// outside: refused anywhere (a column with such a name can be quoted).
constexpr std::array kForbiddenWords = {
    "insert", "update", "delete", "merge",  "upsert",  "create",     "drop",    "alter",    "attach",
    "detach", "copy",   "pragma", "set",    "reset",   "install",    "load",    "export",   "import",
    "call",   "checkpoint", "vacuum", "truncate", "grant", "revoke", "prepare", "execute", "deallocate",
    "into",   "returning",
};

// Table functions and scalars that read files, URLs, settings or the environment.
constexpr std::array kForbiddenFunctions = {
    "read_csv",       "read_csv_auto",     "read_parquet",      "parquet_scan",     "parquet_metadata",
    "parquet_schema", "parquet_file_metadata", "parquet_kv_metadata", "parquet_bloom_probe", "read_json",
    "read_json_auto", "read_json_objects", "read_ndjson",       "read_ndjson_auto", "read_ndjson_objects",
    "read_text",      "read_blob",         "glob",              "sniff_csv",        "query",
    "query_table",    "getenv",            "current_setting",   "which_secret",     "load_extension",
    "from_csv_auto",  "st_read",           "json_execute_serialized_sql", "force_checkpoint", "checkpoint",
    "getvariable",    "enable_profiling",  "disable_profiling", "http_get",         "http_post",
    // Binds and plans the SQL in its string argument (file reads included) and
    // shows the optimized plan, settings folded into it: the walk sees a string.
    "json_serialize_plan", "write_log",
    // Macros whose bodies read system tables (the walk sees the macro's name only).
    "format_type",    "get_block_size",
};
// Whole families, by prefix or suffix.
// (`__internal_`: the optimizer's own compress/decompress functions, meant for the
// values it made, not for any integer a client passes.)
constexpr std::array kForbiddenPrefixes = {"read_", "parquet_", "duckdb_", "pragma_", "iceberg_", "delta_",
                                           "sqlite_", "postgres_", "mysql_", "ducklake_", "http_", "glob", "__internal"};
constexpr std::array kForbiddenSuffixes = {"_scan", "_attach", "_query", "_metadata"};

// String distances and similarities whose time grows with the product of their
// arguments' lengths, under all their DuckDB 1.4.4 names (duckdb_functions();
// editdist3 is levenshtein). Measured single-threaded, two n-character strings:
// levenshtein 3.8 s and damerau_levenshtein 8 s at n = 20,000; jaro(_winkler) is
// bit-parallel but still quadratic (0.22 s at 160,000, so minutes at a few MB).
// jaccard and hamming (mismatches) are linear and stay allowed.
constexpr std::array kQuadraticFunctions = {"levenshtein", "editdist3", "damerau_levenshtein", "jaro_similarity",
                                            "jaro_winkler_similarity"};

// Functions that change the session, which a worker's later queries (other
// clients') share: setseed makes their random() and UUIDs predictable.
constexpr std::array kSessionFunctions = {"setseed"};

// The statement kinds a request may start with.
// PIVOT / UNPIVOT (and synonyms) as a statement are a SELECT over a pivoted table.
constexpr std::array kAllowedFirstWords = {"select", "with",      "show",  "describe",    "explain", "from",
                                           "values", "summarize", "pivot", "pivot_wider", "unpivot", "pivot_longer"};
// What EXPLAIN may explain: a query.
constexpr std::array kQueryFirstWords = {"select", "with",        "from",    "values",
                                         "pivot",  "pivot_wider", "unpivot", "pivot_longer"};

// Keywords after which a table is named: `FROM t`, `JOIN t`, `FROM ONLY t`,
// `PIVOT t ON ...` (and its synonyms), `DESCRIBE t`, `TABLE t`.
constexpr std::array kTableWords = {"from",  "join",  "only",        "describe", "show",        "summarize",
                                    "table", "pivot", "pivot_wider", "unpivot",  "pivot_longer"};
// Of those, the ones after which a comma at the same depth names another table.
constexpr std::array kTableListWords = {"from", "join", "pivot", "pivot_wider", "unpivot", "pivot_longer"};

// Keywords that end a FROM clause at the current bracket depth. ON and USING end
// it too, except after a JOIN: a comma after the join's condition names a table.
// Functions whose parentheses hold `FROM` as a word of their own syntax
// (`extract(year FROM d)`, `trim(BOTH 'x' FROM s)`, `substring(s FROM 2)`):
// no table follows it there.
constexpr std::array kFromArgumentFunctions = {"extract", "trim", "substring", "overlay"};
constexpr std::array kClauseWords = {"select", "where", "group", "having", "order", "limit", "qualify", "window",
                                     "union", "except", "intersect", "values", "offset"};

}  // namespace

bool forbidden_function(std::string_view name) {
  if (contains(kForbiddenFunctions, name)) return true;
  for (const char* p : kForbiddenPrefixes)
    if (name.rfind(p, 0) == 0) return true;
  for (std::string_view s : kForbiddenSuffixes)
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) return true;
  return false;
}

bool quadratic_function(std::string_view name) { return contains(kQuadraticFunctions, name); }

std::string refused_function(std::string_view name) {
  std::string call = "function " + std::string(name) + "()";
  if (forbidden_function(name)) return call + " reads files, URLs or settings; query the catalog's tables instead";
  if (quadratic_function(name))
    return call + " is not allowed: its time grows with the product of its arguments' lengths and a running call "
                  "cannot be interrupted";
  if (contains(kSessionFunctions, name))
    return call + " is not allowed: it changes the session that later queries, other clients' too, run on";
  return {};
}

bool looks_like_path(std::string_view name) {
  return name.find_first_of("/\\:.~") != std::string_view::npos;
}

namespace {

Status check_statement(std::span<const SqlToken> t) {
  const SqlToken& first = t.front();
  bool starts_ok = (first.kind == TokenKind::word && contains(kAllowedFirstWords, first.text)) ||
                   (first.kind == TokenKind::symbol && first.text == "(");
  if (!starts_ok)
    return refuse("only read-only statements are allowed (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, PIVOT); got '" +
                  std::string(first.source) + "'");
  size_t body = 0;  // index of the first token of the explained query
  if (first.kind == TokenKind::word && first.text == "explain") {
    body = 1;
    if (body < t.size() && t[body].kind == TokenKind::word && t[body].text == "analyze") ++body;
    bool query_follows =
        body < t.size() && ((t[body].kind == TokenKind::word && contains(kQueryFirstWords, t[body].text)) ||
                            (t[body].kind == TokenKind::symbol && t[body].text == "("));
    if (!query_follows) return refuse("EXPLAIN is allowed only of a SELECT or WITH query");
  }

  // Per bracket depth: whether a comma there names another table (in a FROM or
  // after PIVOT), whether the last table word there was JOIN (its ON / USING
  // condition keeps the FROM going), and whether the bracket itself opened in a
  // table's place (`FROM ("a.csv" JOIN t ON ...)`).
  struct Depth {
    bool in_from = false, joined = false, table_bracket = false, from_arguments = false;
  };
  std::vector<Depth> depth{{}};
  bool prev_in_table_place = false;  // the previous token stood where a table is named
  bool unpivoted = false;            // an UNPIVOT came before
  auto is_symbol = [](const SqlToken* x, const char* symbol) {
    return x && x->kind == TokenKind::symbol && x->text == symbol;
  };
  // Whether t[j] is a FROM of an expression's own syntax, after which no table
  // comes: inside `extract(year FROM d)` and the like, or `IS [NOT] DISTINCT FROM x`.
  auto from_of_an_expression = [&](size_t j) {
    return t[j].kind == TokenKind::word && t[j].text == "from" &&
           (depth.back().from_arguments || (j >= 1 && t[j - 1].kind == TokenKind::word && t[j - 1].text == "distinct"));
  };
  for (size_t i = 0; i < t.size(); ++i) {
    const SqlToken& tok = t[i];
    const SqlToken* prev = i > 0 ? &t[i - 1] : nullptr;
    const SqlToken* next = i + 1 < t.size() ? &t[i + 1] : nullptr;
    bool table_place = (prev && prev->kind == TokenKind::word && contains(kTableWords, prev->text) &&
                        !from_of_an_expression(i - 1)) ||
                       (is_symbol(prev, ",") && depth.back().in_from) ||
                       (is_symbol(prev, "(") && depth.back().table_bracket) ||
                       // a qualified name's later parts (`main."a.csv"`)
                       ((is_symbol(&tok, ".") || is_symbol(prev, ".")) && prev_in_table_place);
    prev_in_table_place = table_place;
    if (tok.kind == TokenKind::symbol) {
      if (tok.text == "(" || tok.text == "[" || tok.text == "{")
        depth.push_back({.in_from = false,
                         .joined = false,
                         .table_bracket = tok.text == "(" && table_place,
                         .from_arguments = tok.text == "(" && prev && prev->kind == TokenKind::word &&
                                           contains(kFromArgumentFunctions, prev->text)});
      if ((tok.text == ")" || tok.text == "]" || tok.text == "}") && depth.size() > 1) depth.pop_back();
      continue;
    }
    bool is_call = next && next->kind == TokenKind::symbol && next->text == "(";
    if (tok.kind == TokenKind::word) {
      if (tok.text == "analyze" && i == 1 && first.text == "explain") continue;
      // UNPIVOT ... INTO NAME k VALUE v names the new columns.
      const bool unpivot_into = tok.text == "into" && unpivoted && next && next->kind == TokenKind::word && next->text == "name";
      if (tok.text == "unpivot" || tok.text == "pivot_longer") unpivoted = true;
      if ((contains(kForbiddenWords, tok.text) && !unpivot_into) || tok.text == "analyze")
        return refuse(ascii_upper(tok.text) + " is not allowed in a read-only query (quote it as \"" + tok.text +
                      "\" if it is a column name)");
      Depth& d = depth.back();
      if (contains(kTableListWords, tok.text) && !from_of_an_expression(i)) {
        d.in_from = true;
        d.joined = tok.text == "join";
      } else if (tok.text == "on" || tok.text == "using") {
        d.in_from = d.joined;
      } else if (contains(kClauseWords, tok.text)) {
        d.in_from = d.joined = false;
      }
    }
    if ((tok.kind == TokenKind::word || tok.kind == TokenKind::quoted_identifier) && is_call) {
      std::string name = tok.kind == TokenKind::word ? tok.text : ascii_lower(tok.text);
      if (std::string why = refused_function(name); !why.empty()) return refuse(why);
    }
    if (table_place && tok.kind == TokenKind::string)
      return refuse("a string literal cannot be used as a table ('" + tok.text +
                    "'); files are read through the catalog's tables");
    if (table_place && tok.kind == TokenKind::quoted_identifier && looks_like_path(tok.text))
      return refuse("a file path cannot be used as a table (\"" + tok.text + "\"); query the catalog's tables");
  }
  return {};
}

}  // namespace

Status check_read_only_sql(std::string_view sql) {
  auto tokens = tokenize_sql(sql);
  if (!tokens) return std::move(tokens).error();
  return check_read_only_tokens(*tokens);
}

Status check_read_only_tokens(const std::vector<SqlToken>& tokens) {
  // The statements between semicolons, as views of `tokens` (empty ones dropped).
  std::vector<std::span<const SqlToken>> statements;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= tokens.size(); ++i) {
    if (i < tokens.size() && !(tokens[i].kind == TokenKind::symbol && tokens[i].text == ";")) continue;
    if (i > start) statements.emplace_back(tokens.data() + start, i - start);
    start = i + 1;
  }
  if (statements.empty()) return refuse("the statement is empty");
  if (statements.size() > 1)
    return refuse("only one statement is allowed (found " + std::to_string(statements.size()) + ")");
  return check_statement(statements.front());
}

std::string normalize_sql(std::string_view sql) {
  auto tokens = tokenize_sql(sql);
  if (!tokens) return std::string(sql);
  std::string out;
  for (const auto& tok : *tokens) {
    if (tok.kind == TokenKind::symbol && tok.text == ";") continue;
    if (!out.empty()) out += ' ';
    // Unquoted words are case-insensitive in SQL; literals and quoted names are not.
    out += tok.kind == TokenKind::word ? std::string_view(tok.text) : tok.source;
  }
  return out;
}

std::set<std::string> referenced_names(std::string_view sql) {
  std::set<std::string> out;
  auto tokens = tokenize_sql(sql);
  if (!tokens) return out;
  for (const auto& tok : *tokens) {
    if (tok.kind == TokenKind::word) out.insert(tok.text);
    if (tok.kind == TokenKind::quoted_identifier) out.insert(ascii_lower(tok.text));
  }
  return out;
}

}  // namespace etl::cataloger
