#include "pgwire/catalog_query.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "etl/ascii.h"
#include "pgwire/param_types.h"
#include "pgwire/patterns.h"
#include "pgwire/pg_catalog.h"
#include "pgwire/select_list.h"
#include "pgwire/sql_text.h"

namespace etl::pgwire {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; }

// `s` without parentheses around the whole of it.
std::string strip_parens(std::string s) {
  s = trim(std::move(s));
  while (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    int depth = 0;
    bool whole = true;
    for (std::size_t i = 0; i + 1 < s.size() && whole; ++i) {
      if (s[i] == '\'') i = s.find('\'', i + 1) == std::string::npos ? s.size() : s.find('\'', i + 1);
      else if (s[i] == '(') ++depth;
      else if (s[i] == ')' && --depth == 0) whole = false;
    }
    if (!whole) break;
    s = trim(s.substr(1, s.size() - 2));
  }
  return s;
}

std::string without_schema(std::string name) {
  if (name.rfind("pg_catalog.", 0) == 0) name = name.substr(11);
  return name;
}

// The relation name at the start of `text` (up to a space, parenthesis or comma).
std::string first_token(const std::string& text, char* next) {
  std::size_t end = 0;
  while (end < text.size() && text[end] != ' ' && text[end] != '(' && text[end] != ',' && text[end] != ')') ++end;
  std::size_t after = end;
  while (after < text.size() && text[after] == ' ') ++after;
  *next = after < text.size() ? text[after] : '\0';
  return text.substr(0, end);
}

Error unsupported(const std::string& what) {
  constexpr std::string_view kPrefix = "unsupported in a query over the emulated pg_catalog / information_schema: ";
  if (what.starts_with(kPrefix)) return make_error(Errc::invalid_argument, what);  // said once, not once per level
  return make_error(Errc::invalid_argument, std::string(kPrefix) + what.substr(0, 200));
}

const std::vector<std::string> kClauseWords = {"where", "group", "having", "order", "limit", "offset", "union",
                                               "intersect", "except", "window", "fetch", "for"};

}  // namespace

bool is_row_catalog(const std::string& r) {
  static const std::vector<std::string> rows = {"pg_class", "pg_tables", "pg_attribute", "pg_namespace", "pg_am",
                                                "pg_database", "pg_type", "pg_settings", "pg_roles",
                                                "information_schema.tables", "information_schema.columns",
                                                "information_schema.schemata"};
  return std::find(rows.begin(), rows.end(), without_schema(r)) != rows.end();
}

bool is_empty_catalog(const std::string& r) {
  // Nothing of these exists for the catalog's tables: no indexes (so no operator class
  // in use: SQLAlchemy's get_indexes asks for the non-default ones), constraints, defaults,
  // comments, policies, inheritance, triggers, rules, statistics objects, publications,
  // sequences, views, foreign tables, functions of the database's own, role memberships
  // or extensions; nor statistics of the tables (pg_stat_user_tables: their row counts unknown).
  static const std::vector<std::string> empty = {
      "pg_index", "pg_constraint", "pg_attrdef", "pg_description", "pg_policy", "pg_inherits", "pg_trigger",
      "pg_rewrite", "pg_statistic_ext", "pg_publication", "pg_publication_rel", "pg_publication_namespace",
      "pg_sequence", "pg_views", "pg_matviews", "pg_foreign_table", "pg_partitioned_table", "pg_collation",
      "pg_indexes", "pg_sequences", "pg_opclass", "pg_proc", "pg_auth_members", "pg_extension", "pg_stat_user_tables",
      "information_schema.views", "information_schema.table_constraints",
      "information_schema.key_column_usage", "information_schema.referential_constraints",
      "information_schema.constraint_column_usage", "information_schema.sequences"};
  return std::find(empty.begin(), empty.end(), without_schema(r)) != empty.end();
}

std::optional<SqlError> unsupported_relation(const std::string& n) {
  auto check = [](std::string item) -> std::optional<SqlError> {
    item = trim(item);
    if (item.empty() || item.front() == '(') return std::nullopt;  // a subquery: its own FROM is checked
    char next = '\0';
    std::string name = first_token(item, &next);
    if (next == '(' && item.find('(') == name.size()) {
      static const std::vector<std::string> harmless = {"unnest", "generate_series", "generate_subscripts"};
      if (std::find(harmless.begin(), harmless.end(), without_schema(name)) != harmless.end()) return std::nullopt;
      return SqlError{"0A000", "unsupported in a query over the emulated pg_catalog / information_schema: the table function " + name + "()"};
    }
    if (is_row_catalog(name) || is_empty_catalog(name)) return std::nullopt;
    if (name.rfind("pg_", 0) == 0 || name.find("pg_catalog.") == 0 || name.find("information_schema.") == 0)
      return SqlError{"0A000", "the catalog " + name + " is not emulated by this endpoint"};
    return SqlError{"0A000", "a query over the emulated pg_catalog / information_schema cannot also read " + name +
                                 ": query the catalogs and the tables separately"};
  };
  // Every FROM list (at any depth) up to its end, and every JOIN; not the FROM of
  // substring(x FROM 1 FOR 6), trim(BOTH '"' FROM x) and their kin.
  std::vector<bool> in_call;  // per open parenthesis: of such a function
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    if (c == '\'' || c == '"') {
      const std::size_t end = skip_special(n, i);
      if (end == std::string::npos) break;
      i = end - 1;
      continue;
    }
    if (c == '(') {
      std::size_t start = i;
      while (start > 0 && n[start - 1] == ' ') --start;
      std::size_t word = start;
      while (word > 0 && ident_char(n[word - 1])) --word;
      static const std::vector<std::string> with_from = {"substring", "trim", "extract", "overlay", "position"};
      in_call.push_back(std::find(with_from.begin(), with_from.end(), n.substr(word, start - word)) != with_from.end());
      continue;
    }
    if (c == ')') {
      if (!in_call.empty()) in_call.pop_back();
      continue;
    }
    const bool boundary = i == 0 || !ident_char(n[i - 1]);
    if (!boundary || (!in_call.empty() && in_call.back())) continue;
    if (n.compare(i, 5, "join ") == 0) {
      if (auto e = check(n.substr(i + 5))) return e;
      continue;
    }
    if (n.compare(i, 5, "from ") != 0) continue;
    if (i >= 9 && n.compare(i - 9, 9, "distinct ") == 0) continue;  // a IS DISTINCT FROM b
    // The list: to the end of its parentheses or the next clause, split at its commas.
    int depth = 0;
    std::size_t start = i + 5;
    for (std::size_t j = start; j <= n.size(); ++j) {
      const bool end = j == n.size();
      char d = end ? '\0' : n[j];
      if (d == '\'' || d == '"') {
        const std::size_t close = skip_special(n, j);
        if (close == std::string::npos) break;
        j = close - 1;
        continue;
      }
      if (d == '(') ++depth;
      bool stop = end || (d == ')' && depth == 0);
      if (d == ')' && depth > 0) --depth;
      if (!stop && depth == 0 && !ident_char(n[j - 1]))
        for (const auto& w : kClauseWords)
          if (n.compare(j, w.size(), w) == 0 && (j + w.size() == n.size() || !ident_char(n[j + w.size()]))) stop = true;
      if (stop || (depth == 0 && d == ',')) {
        if (auto e = check(n.substr(start, j - start))) return e;
        start = j + 1;
        if (stop) break;
      }
    }
  }
  return std::nullopt;
}

namespace {

// "pg_class" -> pg_class: a quoted identifier that reads the same unquoted (lower case).
std::string unquote_identifiers(const std::string& n) {
  std::string out;
  out.reserve(n.size());
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    if (c == '\'') {  // a string literal, as it is
      const auto end = skip_special(n, i);
      if (end == std::string::npos) return n;
      out.append(n, i, end - i);
      i = end - 1;
      continue;
    }
    if (c != '"') {
      out += c;
      continue;
    }
    auto close = n.find('"', i + 1);
    if (close == std::string::npos) return n;
    const std::string name = n.substr(i + 1, close - i - 1);
    // Not a keyword the emulation reads the text by ("from", "order" ...): those stay quoted.
    static const std::vector<std::string> keywords = {
        "select", "from", "where", "group", "having", "order", "by", "limit", "offset", "union", "intersect",
        "except", "join", "left", "right", "inner", "outer", "full", "cross", "natural", "on", "using", "as",
        "and", "or", "not", "case", "when", "then", "else", "end", "in", "is", "null", "true", "false",
        "distinct", "with", "all", "any", "between", "like", "ilike", "escape", "window", "fetch", "for"};
    const bool plain = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                       std::all_of(name.begin(), name.end(), [](char x) {
                         return (x >= 'a' && x <= 'z') || (x >= '0' && x <= '9') || x == '_';
                       }) &&
                       std::find(keywords.begin(), keywords.end(), name) == keywords.end();
    out += plain ? name : n.substr(i, close - i + 1);
    i = close;
  }
  return out;
}

// The position of the parenthesis closing the first one at or after `open`, outside
// quotes; npos for none.
std::size_t closing(const std::string& s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size(); ++i) {
    if (const auto end = skip_special(s, i); end != i) {
      if (end == std::string::npos) return std::string::npos;
      i = end - 1;
    } else if (s[i] == '(') {
      ++depth;
    } else if (s[i] == ')' && --depth == 0) {
      return i;
    }
  }
  return std::string::npos;
}

// WITH a AS (...), b AS (...) SELECT ... FROM a x: each query in place of its name after
// FROM or JOIN. nullopt when it is not that form (RECURSIVE, a column list, MATERIALIZED).
std::optional<std::string> inline_ctes(std::string n) {
  std::vector<std::pair<std::string, std::string>> ctes;
  std::size_t at = 5;  // after "with "
  static const RE2 head(R"(([a-z_][a-z0-9_]*) as \()");
  while (true) {
    auto m = match_at(n, head, at, RE2::ANCHOR_START);
    if (!m || m->position() != at) return std::nullopt;
    const std::size_t open = at + m->length() - 1, close = closing(n, open);
    if (close == std::string::npos) return std::nullopt;
    ctes.emplace_back(m->str(1), trim(n.substr(open + 1, close - open - 1)));
    at = close + 1;
    if (n.compare(at, 2, ", ") == 0) {
      at += 2;
      continue;
    }
    if (n.compare(at, 1, " ") == 0) ++at;
    break;
  }
  std::string main = n.substr(at);
  if (main.rfind("select ", 0) != 0 || ctes.size() > 8) return std::nullopt;
  static const std::vector<std::string> not_alias = {"where", "join", "left", "inner", "cross", "right", "full", "on",
                                                     "group", "order", "limit", "offset", "union", "natural", "as"};
  // The last first: a query may read the ones before it, whose names are then replaced too.
  for (auto cte = ctes.rbegin(); cte != ctes.rend(); ++cte) {
    const auto& [name, body] = *cte;
    std::string out;
    std::size_t from = 0;
    for (std::size_t i = 0; i < main.size(); ++i) {
      if (const auto end = skip_special(main, i); end != i) {  // not in a string or a quoted name
        if (end == std::string::npos) return std::nullopt;
        i = end - 1;
        continue;
      }
      const bool starts = (main.compare(i, 5, "from ") == 0 || main.compare(i, 5, "join ") == 0) &&
                          (i == 0 || !ident_char(main[i - 1]));
      if (!starts || main.compare(i + 5, name.size(), name) != 0) continue;
      const std::size_t end = i + 5 + name.size();
      if (end < main.size() && ident_char(main[end])) continue;
      // Its alias, if one follows; else the name itself.
      std::size_t word = end;
      while (word < main.size() && main[word] == ' ') ++word;
      std::size_t word_end = word;
      while (word_end < main.size() && ident_char(main[word_end])) ++word_end;
      const std::string next = main.substr(word, word_end - word);
      const bool aliased = !next.empty() && std::find(not_alias.begin(), not_alias.end(), next) == not_alias.end();
      out += main.substr(from, i + 5 - from) + "(" + body + ")" + (aliased ? "" : " " + name);
      from = end;
    }
    main = out + main.substr(from);
  }
  return main;
}

}  // namespace

std::string catalog_text(const std::string& normalized) {
  std::string c = normalized.find('"') == std::string::npos ? normalized : unquote_identifiers(normalized);
  if (c.rfind("with ", 0) == 0 && c.rfind("with recursive ", 0) != 0)
    if (auto inlined = inline_ctes(c)) c = std::move(*inlined);
  return c;
}

Result<std::vector<FromRelation>> from_relations(const std::string& from) {
  std::vector<FromRelation> out;
  for (const auto& item : split_top_level(from, ',')) {
    // "rel a [left [outer] | inner | cross] join rel b on cond ..."
    std::string text = item;
    bool left = false;
    while (!text.empty()) {
      std::size_t next = find_keyword(text, "join");
      std::string piece = trim(text.substr(0, next));
      std::string rest = next == std::string::npos ? "" : trim(text.substr(next + 4));
      bool next_left = false;
      for (const char* mod : {" left outer", " left", " inner", " cross"}) {
        std::string m(mod);
        if (piece.size() >= m.size() && piece.ends_with(m)) {
          next_left = m.find("left") != std::string::npos;
          piece = trim(piece.substr(0, piece.size() - m.size()));
          break;
        }
      }
      if (piece.ends_with(" right") || piece.ends_with(" full") || piece.ends_with(" outer") || piece.ends_with(" natural"))
        return unsupported("RIGHT, FULL and NATURAL joins");
      FromRelation r;
      r.left = left;
      std::string on;
      if (auto pos = find_keyword(piece, "on"); pos != std::string::npos) {
        r.on = trim(piece.substr(pos + 2));
        piece = trim(piece.substr(0, pos));
      }
      if (find_keyword(piece, "using") != std::string::npos) return unsupported("JOIN ... USING");
      char next_char = '\0';
      std::string name = first_token(piece, &next_char);
      std::string tail;
      if (name.empty() && next_char == '(') {  // (SELECT ...) [AS] alias
        const std::size_t close = closing(piece, 0);
        if (close == std::string::npos) return unsupported("FROM " + piece);
        r.subquery = trim(piece.substr(1, close - 1));
        tail = trim(piece.substr(close + 1));
      } else if (!name.empty() && next_char == '(') {  // generate_series(1, 32) [AS] pos(n)
        const std::size_t close = closing(piece, name.size());
        if (close == std::string::npos) return unsupported("FROM " + piece);
        r.function = without_schema(name);
        tail = trim(piece.substr(close + 1));
        if (tail.rfind("as ", 0) == 0) tail = trim(tail.substr(3));
        static const RE2 column_names(R"(([a-z_][a-z0-9_]*)\s*\([a-z0-9_, ]*\))");
        if (auto m = full_match(tail, column_names)) tail = m->str(1);
      } else {
        if (name.empty()) return unsupported("a function in FROM");
        r.relation = without_schema(name);
        tail = trim(piece.substr(name.size()));
      }
      if (tail.rfind("as ", 0) == 0) tail = trim(tail.substr(3));
      if (tail.find(' ') != std::string::npos || tail.find('(') != std::string::npos) return unsupported("FROM " + piece);
      r.alias = tail.empty() ? (r.function.empty() ? r.relation : r.function) : tail;
      if (!r.subquery.empty() && tail.empty()) return unsupported("a subquery in FROM without an alias");
      out.push_back(std::move(r));
      left = next_left;
      text = rest;
    }
  }
  return out;
}

Clauses split_clauses(const std::string& rest) {
  Clauses c;
  std::vector<std::pair<std::size_t, std::string>> found;
  for (const auto& w : kClauseWords)
    if (auto pos = find_keyword(rest, w); pos != std::string::npos) found.emplace_back(pos, w);
  std::sort(found.begin(), found.end());
  c.from = trim(rest.substr(0, found.empty() ? std::string::npos : found[0].first));
  for (std::size_t i = 0; i < found.size(); ++i) {
    const auto& [pos, word] = found[i];
    std::size_t end = i + 1 < found.size() ? found[i + 1].first : rest.size();
    std::string body = trim(rest.substr(pos + word.size(), end - pos - word.size()));
    auto integer = [&](std::string v) -> std::optional<long long> {
      if (v.ends_with(" rows") || v.ends_with(" row")) v = trim(v.substr(0, v.rfind(' ')));
      long long n = 0;
      auto r = std::from_chars(v.data(), v.data() + v.size(), n);
      if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || n < 0) return std::nullopt;
      return n;
    };
    if (word == "where") {
      c.where = body;
    } else if (word == "order") {
      if (body.rfind("by ", 0) == 0) c.order_by = trim(body.substr(3));
      else c.unsupported = "ORDER " + body;
    } else if (word == "limit") {
      if (body != "all" && !(c.limit = integer(body))) c.unsupported = "LIMIT " + body;
    } else if (word == "offset") {
      if (!(c.offset = integer(body))) c.unsupported = "OFFSET " + body;
    } else if (c.unsupported.empty()) {
      c.unsupported = word == "group" ? "GROUP BY" : word;
    }
  }
  return c;
}

std::optional<ColumnRef> column_ref(const std::string& text) {
  static const RE2 ref(R"((?:([a-z_][a-z0-9_$]*(?:\.[a-z_][a-z0-9_$]*)?)\.)?([a-z_][a-z0-9_$]*))");
  auto m = full_match(text, ref);
  if (!m) return std::nullopt;
  static const std::vector<std::string> words = {"null", "true", "false", "not", "and", "or", "case", "select"};
  if (std::find(words.begin(), words.end(), m->str(2)) != words.end()) return std::nullopt;
  std::string qualifier = m->str(1);
  if (auto dot = qualifier.rfind('.'); dot != std::string::npos) qualifier = qualifier.substr(dot + 1);
  return ColumnRef{qualifier, m->str(2)};
}

std::optional<std::optional<std::string>> constant(const std::string& input) {
  std::string t = trim(input);
  static const RE2 cast(R"(\s*::\s*([a-z_][a-z0-9_.]*)(\[\])?$)");
  std::string reg;  // a cast to regclass or regtype: a name read as its OID
  while (auto m = search(t, cast)) {
    std::string type = m->str(1);
    if (type.rfind("pg_catalog.", 0) == 0) type = type.substr(11);
    if (type == "regclass" || type == "regtype") reg = type;
    t = trim(t.substr(0, m->position()));
  }
  t = strip_parens(t);
  if (!reg.empty()) {  // 'songs_data'::regclass, 'spotify.songs_data'::regclass, 'int4'::regtype
    auto name = constant(t);
    if (!name || !*name || (*name)->empty() || std::all_of((*name)->begin(), (*name)->end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        }))
      return name;  // NULL, or an OID already
    if (reg == "regtype") {
      const std::int32_t type = type_oid_of_name(ascii_lower(**name));
      return type == 0 ? std::nullopt : std::optional<std::optional<std::string>>(std::to_string(type));
    }
    // The relation's name as PostgreSQL reads it: after its schema, unquoted, else lower-cased.
    std::string relation = **name;
    if (auto dot = relation.rfind('.'); dot != std::string::npos && relation.back() != '"') relation = relation.substr(dot + 1);
    else if (auto quoted_dot = relation.rfind("\"."); quoted_dot != std::string::npos) relation = relation.substr(quoted_dot + 2);
    relation = relation.size() >= 2 && relation.front() == '"' && relation.back() == '"'
                   ? relation.substr(1, relation.size() - 2)
                   : ascii_lower(relation);
    return std::optional<std::string>(std::to_string(table_oid(relation)));
  }
  if (t == "null") return std::optional<std::string>();
  static const RE2 replace_call(R"((?:pg_catalog\.)?replace\s*\((.*)\))");
  if (auto m = full_match(t, replace_call)) {  // replace('pg_catalog', 'pg_temp_', 'pg_toast_temp_')
    auto args = split_top_level(m->str(1), ',');
    if (args.size() != 3) return std::nullopt;
    std::optional<std::string> v[3];
    for (int i = 0; i < 3; ++i) {
      auto a = constant(args[static_cast<std::size_t>(i)]);
      if (!a) return std::nullopt;
      if (!*a) return std::optional<std::string>();  // NULL in, NULL out
      v[i] = **a;
    }
    std::string out = *v[0];
    if (!v[1]->empty())
      for (std::size_t at = 0; (at = out.find(*v[1], at)) != std::string::npos; at += v[2]->size())
        out.replace(at, v[1]->size(), *v[2]);
    return std::optional<std::string>(out);
  }
  static const RE2 number(R"([-+]?\d+(\.\d+)?)");
  if (full_match(t, number)) return std::optional<std::string>(t);
  // 'text', or E'text' with backslash escapes (psql's E'\n' separators)
  const bool escapes = t.size() >= 3 && t[0] == 'e';
  const std::size_t first = escapes ? 2 : 1;
  if (t.size() < first + 1 || t[first - 1] != '\'' || t.back() != '\'') return std::nullopt;
  std::string v;
  for (std::size_t i = first; i + 1 < t.size(); ++i) {
    char c = t[i];
    if (c == '\'') {
      if (t[i + 1] != '\'' || i + 2 >= t.size()) return std::nullopt;
      ++i;
    } else if (escapes && c == '\\') {
      if (i + 2 >= t.size()) return std::nullopt;
      c = t[++i];
      c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c;
    }
    v += c;
  }
  return std::optional<std::string>(v);
}

namespace {

// 'a' || 'b' || NULL: constants joined (NULL when one is NULL); a single constant as constant().
std::optional<std::optional<std::string>> concatenated_constant(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  bool quoted = false;
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\'') quoted = !quoted;
    else if (!quoted && text[i] == '(') ++depth;
    else if (!quoted && text[i] == ')') --depth;
    else if (!quoted && depth == 0 && text.compare(i, 2, "||") == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 2;
      ++i;
    }
  }
  parts.push_back(text.substr(start));
  std::optional<std::string> joined = std::string();
  for (const auto& part : parts) {
    auto value = constant(part);
    if (!value) return std::nullopt;
    if (!*value) joined.reset();
    else if (joined) *joined += **value;
  }
  return joined;
}

// A LIKE pattern with escape character `escape` -> the same pattern with backslash escapes.
std::string with_backslash_escapes(const std::string& pattern, char escape) {
  if (escape == '\\') return pattern;
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == escape && i + 1 < pattern.size()) {
      out += '\\';
      out += pattern[++i];
    } else if (pattern[i] == '\\') {
      out += "\\\\";  // a plain backslash, escaped
    } else {
      out += pattern[i];
    }
  }
  return out;
}

constexpr const char* kTooDeep = "a condition nested this deep";

// `text` split at the keyword `word` outside quotes and parentheses.
std::vector<std::string> split_keyword(const std::string& text, const std::string& word) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto pos = find_keyword(text, word); pos != std::string::npos; pos = find_keyword(text, word, start)) {
    out.push_back(text.substr(start, pos - start));
    start = pos + word.size();
  }
  out.push_back(text.substr(start));
  return out;
}

}  // namespace

Condition Condition::unread_part(std::string why) {
  Condition u;
  u.kind_ = Kind::unread;
  u.unread_ = std::move(why);
  return u;
}

Result<Condition> Condition::parse(const std::string& input, int depth) {
  if (depth > kMaxDepth) return unsupported(kTooDeep);
  Condition c;
  std::string t = strip_parens(input);
  // OR binds loosest, then AND, then NOT. A part of either that is not read here is
  // refused only if a row needs it (BETWEEN a AND b is split, and its halves not read).
  for (auto [word, kind] : {std::pair{"or", Kind::any_of}, std::pair{"and", Kind::all_of}}) {
    auto pieces = split_keyword(t, word);
    if (pieces.size() < 2) continue;
    c.kind_ = kind;
    for (const auto& piece : pieces) {
      auto p = parse(piece, depth + 1);
      if (!p && p.error().message.ends_with(kTooDeep)) return p;  // refused as a whole, not part by part
      c.parts_.push_back(p ? std::move(*p) : unread_part(p.error().message));
    }
    std::stable_partition(c.parts_.begin(), c.parts_.end(), [](const Condition& x) { return !x.unread(); });
    return c;
  }
  if (t.rfind("not ", 0) == 0) {
    auto inner = parse(t.substr(4), depth + 1);
    if (!inner) return inner;
    inner->negate_ = !inner->negate_;
    return inner;
  }
  if (t == "true" || t == "false") {
    c.value_ = t == "true";
    return c;
  }
  // has_table_privilege(), has_schema_privilege() ... (Metabase's sync): the session's user
  // may read every table (SELECT), use the schema and connect; nothing else.
  static const RE2 privilege(
      R"((?:pg_catalog\.)?has_(?:table|any_column|column|schema|database)_privilege\s*\((?:.*,)?\s*'([A-Za-z_, ]+)'\s*\))");
  if (auto m = full_match(t, privilege)) {
    c.value_ = true;
    for (const auto& p : split_top_level(m->str(1), ',')) {
      const std::string what = ascii_lower(trim(p));
      c.value_ = c.value_ && (what == "select" || what == "usage" || what == "connect");
    }
    return c;
  }
  static const RE2 visible(R"((pg_catalog\.)?pg_(table|type)_is_visible\s*\(\s*[a-z_.]+\s*\))");
  if (full_match(t, visible)) {
    c.kind_ = Kind::visible;  // every table of ours is in the schema on the search path, every type in pg_catalog
    return c;
  }
  if (auto ref = column_ref(t)) {
    c.kind_ = Kind::boolean;
    c.left_ = *ref;
    return c;
  }
  // a IS [NOT] DISTINCT FROM b: equality in which NULL is a value (psql's \dconfig); and
  // a IS [NOT] NULL, which is a IS [NOT] DISTINCT FROM NULL negated.
  static const RE2 distinct(R"((.+?)\s+is\s+(not\s+)?(?:distinct\s+from\s+(.+)|(null)))");
  if (auto m = full_match(t, distinct)) {
    auto left = column_ref(trim(m->str(1)));
    if (!left) return unsupported(t);
    c.kind_ = Kind::distinct;
    c.left_ = *left;
    c.negate_ = m->matched(2) != m->matched(4);
    const std::string right = m->matched(4) ? "null" : trim(m->str(3));
    if (auto other = column_ref(right)) {
      c.right_ = *other;
      return c;
    }
    auto value = constant(right);
    if (!value) return unsupported(t);
    c.values_ = {*value};
    return c;
  }
  // column [NOT] IN (constants)
  if (auto in = find_keyword(t, "in"); in != std::string::npos) {
    std::string left = trim(t.substr(0, in));
    if (left.ends_with(" not")) {
      c.negate_ = true;
      left = trim(left.substr(0, left.size() - 4));
    }
    std::string list = strip_parens(t.substr(in + 2));
    auto ref = column_ref(left);
    if (!ref || trim(t.substr(in + 2)).front() != '(') return unsupported(t);
    c.kind_ = Kind::in_list;
    c.left_ = *ref;
    for (const auto& v : split_top_level(list, ',')) {
      auto value = constant(v);
      if (!value) return unsupported(t);
      c.values_.push_back(*value);
    }
    return c;
  }
  static const std::vector<std::string> ops = {"operator(pg_catalog.~)", " not ilike ", " not like ", " ilike ", " like ",
                                               "!~", "<>", "!=", ">=", "<=", "=", "<", ">", "~"};
  for (const auto& op : ops) {
    std::size_t pos = std::string::npos;
    for (std::size_t from = 0; (pos = t.find(op, from)) != std::string::npos; from = pos + 1) {
      // outside quotes and parentheses
      int depth = 0;
      bool quoted = false;
      for (std::size_t i = 0; i < pos; ++i) {
        if (t[i] == '\'') quoted = !quoted;
        else if (!quoted && t[i] == '(') ++depth;
        else if (!quoted && t[i] == ')') --depth;
      }
      if (!quoted && depth == 0) break;
    }
    if (pos == std::string::npos) continue;
    auto ref = column_ref(trim(t.substr(0, pos)));
    std::string right = trim(t.substr(pos + op.size()));
    static const RE2 collate(R"(\s+collate\s+[a-z_."]+$)");
    RE2::Replace(&right, collate, "");
    if (!ref) return unsupported(t);
    c.left_ = *ref;
    c.op_ = trim(op) == "operator(pg_catalog.~)" ? "~" : trim(op);
    if ((right == "true" || right == "false") && (c.op_ == "=" || c.op_ == "<>" || c.op_ == "!=")) {
      c.kind_ = Kind::boolean;  // datallowconn = true (pgjdbc's catalog list)
      c.negate_ = (right == "false") != (c.op_ != "=");
      return c;
    }
    static const RE2 any(R"(any\s*\(\s*array\s*\[(.*)\]\s*\))");
    if (std::optional<Match> a; c.op_ == "=" && (a = full_match(right, any))) {
      c.kind_ = Kind::in_list;
      for (const auto& v : split_top_level(a->str(1), ',')) {
        auto value = constant(v);
        if (!value) return unsupported(t);
        c.values_.push_back(*value);
      }
      return c;
    }
    // LIKE ... ESCAPE 'c' (SQLAlchemy's NOT LIKE 'pg/_' || '%' ESCAPE '/'): the pattern in the
    // default backslash form.
    std::optional<char> escape;
    static const RE2 escape_clause(R"((.*\S)\s+escape\s+'([^'])')");
    if (std::optional<Match> e; c.op_.find("like") != std::string::npos && (e = full_match(right, escape_clause))) {
      escape = e->str(2)[0];
      right = trim(e->str(1));
    }
    if (auto value = concatenated_constant(right)) {
      c.kind_ = Kind::compare;
      if (escape && *value) *value = with_backslash_escapes(**value, *escape);
      c.values_ = {*value};
      const bool matching = c.op_.find('~') != std::string::npos || c.op_.find("like") != std::string::npos;
      if (matching && *value) {
        auto pattern = ValuePattern::compile(c.op_, **value);
        if (!pattern) return unsupported(pattern.error().message);
        c.pattern_ = std::move(*pattern);
      }
      return c;
    }
    if (auto other = column_ref(right); other && c.op_ == "=") {
      c.kind_ = Kind::join;
      c.right_ = *other;
      return c;
    }
    return unsupported(t);
  }
  return unsupported(t);
}

namespace {

bool equal(const std::string& a, const std::string& b) {
  double x = 0, y = 0;
  auto ra = std::from_chars(a.data(), a.data() + a.size(), x);
  auto rb = std::from_chars(b.data(), b.data() + b.size(), y);
  if (ra.ec == std::errc{} && rb.ec == std::errc{} && ra.ptr == a.data() + a.size() && rb.ptr == b.data() + b.size())
    return x == y;
  return a == b;
}

// -1, 0, 1: numbers as numbers, other text by bytes (the C collation).
int compare(const std::string& a, const std::string& b) {
  double x = 0, y = 0;
  auto ra = std::from_chars(a.data(), a.data() + a.size(), x);
  auto rb = std::from_chars(b.data(), b.data() + b.size(), y);
  if (ra.ec == std::errc{} && rb.ec == std::errc{} && ra.ptr == a.data() + a.size() && rb.ptr == b.data() + b.size())
    return x < y ? -1 : x > y ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

}  // namespace

Result<bool> Condition::holds(const ColumnLookup& lookup) const {
  auto v = value(lookup);
  if (!v) return std::move(v).error();
  return v->value_or(false);  // NULL, and NOT NULL, are not true
}

Result<std::optional<bool>> Condition::value(const ColumnLookup& lookup) const {
  auto negated = [this](std::optional<bool> v) -> std::optional<bool> {
    if (!v) return std::nullopt;  // NOT NULL is NULL
    return *v != negate_;
  };
  if (kind_ == Kind::unread) return unsupported(unread_);
  if (kind_ == Kind::any_of || kind_ == Kind::all_of) {
    const bool any = kind_ == Kind::any_of;
    bool saw_null = false;
    for (const auto& part : parts_) {  // in order, stopping at the first that decides
      auto v = part.value(lookup);
      if (!v) return v;
      if (!*v) saw_null = true;
      else if (**v == any) return negated(any);
    }
    return negated(saw_null ? std::nullopt : std::optional<bool>(!any));
  }
  std::optional<std::string> a, b;  // the values of the columns compared (nullopt: NULL)
  const bool two_columns = kind_ == Kind::join || (kind_ == Kind::distinct && values_.empty());
  for (const ColumnRef* r : {&left_, &right_}) {
    if (kind_ == Kind::constant || kind_ == Kind::visible || (r == &right_ && !two_columns)) continue;
    auto cell = lookup(*r);
    if (!cell) return unsupported("the column " + (r->qualifier.empty() ? "" : r->qualifier + ".") + r->column);
    (r == &left_ ? a : b) = cell->value;
  }
  std::optional<bool> result;  // nullopt: SQL NULL
  switch (kind_) {
    case Kind::constant: result = value_; break;
    case Kind::visible: result = true; break;
    case Kind::boolean:
      if (a) result = *a == "t" || *a == "true";
      break;
    case Kind::in_list: {
      if (!a) break;
      bool any_null = false;
      for (const auto& item : values_) {
        if (!item) any_null = true;
        else if (equal(*a, *item)) result = true;
      }
      if (!result && !any_null) result = false;
      break;
    }
    case Kind::join:
      if (a && b) result = equal(*a, *b);
      break;
    case Kind::distinct: {  // never NULL
      const std::optional<std::string>& other = values_.empty() ? b : values_[0];
      result = a.has_value() != other.has_value() || (a && !equal(*a, *other));
      break;
    }
    case Kind::any_of:
    case Kind::all_of:
    case Kind::unread: break;  // answered above
    case Kind::compare: {
      const auto& k = values_[0];
      if (!a || !k) break;
      const int cmp = compare(*a, *k);
      if (op_ == "=") result = equal(*a, *k);
      else if (op_ == "<>" || op_ == "!=") result = !equal(*a, *k);
      else if (op_ == "<") result = cmp < 0;
      else if (op_ == ">") result = cmp > 0;
      else if (op_ == "<=") result = cmp <= 0;
      else if (op_ == ">=") result = cmp >= 0;
      else if (pattern_) {
        const bool match = pattern_->matches(*a);
        result = op_ == "!~" || op_.rfind("not", 0) == 0 ? !match : match;
      }
      break;
    }
  }
  return negated(result);
}

Result<std::vector<Condition>> conditions(const std::string& where) {
  std::vector<Condition> out;
  if (trim(where).empty()) return out;
  auto c = Condition::parse(where);
  if (!c) return std::move(c).error();
  if (c->kind_ == Condition::Kind::all_of) return std::move(c->parts_);  // the top-level ANDs one by one
  out.push_back(std::move(*c));
  return out;
}

std::string fold_session_constants(std::string text, const std::string& schema) {
  static const RE2 first_schema(R"(\(?(?:pg_catalog\.)?current_schemas\s*\(\s*(true|false)\s*\)\)?\s*\[\s*1\s*\])");
  std::string out;
  std::size_t from = 0;
  for (auto m = match_at(text, first_schema, 0, RE2::UNANCHORED); m;
       m = match_at(text, first_schema, from, RE2::UNANCHORED)) {
    out += text.substr(from, m->position() - from);
    out += m->str(1) == "true" ? std::string("'pg_catalog'") : quote_literal(schema);
    from = m->position() + m->length();
  }
  return out + text.substr(from);
}

}  // namespace etl::pgwire
