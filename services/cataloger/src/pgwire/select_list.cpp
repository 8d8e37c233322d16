#include "pgwire/select_list.h"

#include <algorithm>
#include <cctype>

#include "etl/ascii.h"

namespace etl::pgwire {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; }

// Calls `visit(i, depth)` for each character outside quotes; stops when it returns false.
template <class F>
void scan(const std::string& s, F visit) {
  int depth = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      auto close = s.find(c, i + 1);
      while (close != std::string::npos && close + 1 < s.size() && s[close + 1] == c) close = s.find(c, close + 2);
      if (close == std::string::npos) return;
      i = close;
      continue;
    }
    if (c == '(' || c == '[') ++depth;
    else if (c == ')' || c == ']') --depth;
    if (!visit(i, depth)) return;
  }
}


}  // namespace

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::size_t find_keyword(const std::string& s, const std::string& word, std::size_t from) {
  std::size_t found = std::string::npos;
  scan(s, [&](std::size_t i, int depth) {
    if (i < from || depth != 0 || s.compare(i, word.size(), word) != 0) return true;
    bool before = i == 0 || !ident_char(s[i - 1]);
    bool after = i + word.size() >= s.size() || !ident_char(s[i + word.size()]);
    if (before && after) {
      found = i;
      return false;
    }
    return true;
  });
  return found;
}

namespace {

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

// "pg_catalog.pg_class.relname" -> "relname"; "pg_catalog.format_type(a, b)" -> "format_type".
std::string base_name(std::string e) {
  while (e.size() >= 2 && e.front() == '(' && e.back() == ')') e = trim(e.substr(1, e.size() - 2));
  // drop a top-level cast
  std::size_t cast = std::string::npos;
  scan(e, [&](std::size_t i, int depth) {
    if (depth == 0 && e.compare(i, 2, "::") == 0) {
      cast = i;
      return false;
    }
    return true;
  });
  if (cast != std::string::npos) e = trim(e.substr(0, cast));
  auto paren = e.find('(');
  std::string head = paren == std::string::npos ? e : trim(e.substr(0, paren));
  if (paren != std::string::npos && e.back() != ')') return "";
  for (char c : head)
    if (!ident_char(c) && c != '.' && c != '"') return "";
  auto dot = head.rfind('.');
  return unquote(dot == std::string::npos ? head : head.substr(dot + 1));
}

std::optional<Cell> literal(const std::string& e) {
  if (e == "null") return Cell{std::nullopt, oid::text};
  if (e == "true" || e == "false") return Cell{std::string(e == "true" ? "t" : "f"), oid::boolean};
  if (e.size() >= 2 && e.front() == '\'' && e.back() == '\'' && e.find('\'', 1) == e.size() - 1)
    return Cell{e.substr(1, e.size() - 2), oid::text};
  if (!e.empty() && e.find_first_not_of("0123456789") == std::string::npos) return Cell{e, oid::int4};
  return std::nullopt;
}

SelectItem parse_item(std::string text) {
  SelectItem item;
  auto as = std::string::npos;
  for (auto pos = find_keyword(text, "as"); pos != std::string::npos; pos = find_keyword(text, "as", pos + 2)) as = pos;
  if (as != std::string::npos && as > 0) {
    item.alias = unquote(trim(text.substr(as + 2)));
    text = trim(text.substr(0, as));
  }
  item.expr = text;
  item.star = text == "*" || (text.size() > 2 && text.ends_with(".*"));
  item.literal = literal(text);
  item.key = base_name(text);
  std::string lowered_alias;
  for (char c : item.alias) lowered_alias += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!item.alias.empty()) item.name = item.alias;
  else if (text.rfind("case ", 0) == 0) item.name = "case";
  else if (!item.key.empty()) item.name = item.key;
  else item.name = "?column?";
  item.alias = lowered_alias;
  return item;
}

}  // namespace

std::vector<std::string> split_top_level(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  scan(text, [&](std::size_t i, int depth) {
    if (depth == 0 && text[i] == sep) {
      parts.push_back(trim(text.substr(start, i - start)));
      start = i + 1;
    }
    return true;
  });
  parts.push_back(trim(text.substr(start)));
  return parts;
}

std::optional<SelectParts> parse_select(const std::string& normalized) {
  if (normalized.rfind("select ", 0) != 0) return std::nullopt;
  std::string body = normalized.substr(7);
  SelectParts parts;
  if (body.rfind("distinct ", 0) == 0) {
    body = body.substr(9);
    parts.distinct = true;
  }
  std::string list = body;
  auto from = find_keyword(body, "from");
  while (from != std::string::npos && from >= 9 && body.compare(from - 9, 9, "distinct ") == 0 &&
         (from == 9 || !ident_char(body[from - 10])))  // IS DISTINCT FROM
    from = find_keyword(body, "from", from + 4);
  // the first top-level clause that ends the select list when there is no FROM
  std::size_t end = std::string::npos;
  for (const char* kw : {"where", "order", "limit", "offset", "union", "except", "intersect", "group", "having", "window"})
    if (from == std::string::npos) end = std::min(end, find_keyword(body, kw));
  if (end != std::string::npos) {
    list = body.substr(0, end);
    parts.rest = trim(body.substr(end));
  }
  if (from != std::string::npos) {
    list = body.substr(0, from);
    parts.rest = trim(body.substr(from + 4));
    parts.has_from = true;
  }
  for (auto& text : split_top_level(trim(list), ',')) {
    if (text.empty()) return std::nullopt;
    parts.items.push_back(parse_item(text));
  }
  return parts;
}

namespace {

// a, t.a, "A", "t"."A b": a column reference and nothing else.
bool column_reference(const std::string& e) {
  if (e.empty() || std::isdigit(static_cast<unsigned char>(e[0]))) return false;
  bool quoted = false;
  for (char c : e) {
    if (c == '"') quoted = !quoted;
    else if (!quoted && !ident_char(c) && c != '.') return false;
  }
  return !quoted;
}

// PostgreSQL's name of a type as a cast names a column (its FigureColname takes the
// type's last name, and the grammar's names for SQL's types are the internal ones):
// int -> int4, double precision -> float8, timestamp with time zone -> timestamptz.
std::string type_column_name(std::string t) {
  t = trim(t);
  if (auto mod = t.find_first_of("(["); mod != std::string::npos) {  // numeric(10,2), int[]: the type's name
    std::string tail = t.substr(mod);
    t = trim(t.substr(0, mod));
    if (auto close = tail.find(')'); tail[0] == '(' && close != std::string::npos) t += tail.substr(close + 1);  // timestamp(3) with time zone
    t = trim(t);
    while (!t.empty() && (t.back() == ']' || t.back() == '[')) t.pop_back();
    t = trim(t);
  }
  static const std::pair<std::string_view, std::string_view> kNames[] = {
      {"int", "int4"}, {"integer", "int4"}, {"bigint", "int8"}, {"smallint", "int2"}, {"real", "float4"},
      {"float", "float8"}, {"double precision", "float8"}, {"boolean", "bool"}, {"decimal", "numeric"},
      {"dec", "numeric"}, {"character varying", "varchar"}, {"char varying", "varchar"}, {"character", "bpchar"},
      {"char", "bpchar"}, {"timestamp without time zone", "timestamp"}, {"timestamp with time zone", "timestamptz"},
      {"time without time zone", "time"}, {"time with time zone", "timetz"}};
  for (const auto& [written, name] : kNames)
    if (t == written) return std::string(name);
  auto dot = t.rfind('.');
  return unquote(dot == std::string::npos ? t : t.substr(dot + 1));
}

// The index of the ')' closing the '(' at `open` (outside quotes), npos when none.
std::size_t closing(const std::string& e, std::size_t open) {
  std::size_t found = std::string::npos;
  const std::string tail = e.substr(open);
  scan(tail, [&](std::size_t i, int depth) {
    if (depth == 0 && tail[i] == ')') {
      found = open + i;
      return false;
    }
    return true;
  });
  return found;
}

// Where the last "::" at the top of `e` is, npos when none.
std::size_t last_top_level_cast(const std::string& e) {
  std::size_t cast = std::string::npos;
  scan(e, [&](std::size_t i, int depth) {
    if (depth == 0 && e.compare(i, 2, "::") == 0) cast = i;
    return true;
  });
  return cast;
}

// A name as PostgreSQL's FigureColname gives one: `strength` 2 for a column, a function
// or a construct named as one (coalesce, exists), 1 for a type's name (a cast of a
// constant) or a construct's (case, array, row), 0 for none (?column?). `known` is false
// when the item is of a shape not read here: its column keeps the engine's name.
struct Figured {
  std::string name;
  int strength = 0;
  bool known = true;
};

std::string postgres_item_name(const std::string& expr, const std::string& alias, int nesting);

Figured figure(std::string e, int nesting) {
  e = trim(e);
  if (e.empty() || nesting > 32) return {"", 0, false};
  // (x) as x; a scalar subquery by its own column's name.
  if (e.front() == '(' && closing(e, 0) == e.size() - 1) {
    std::string inner = trim(e.substr(1, e.size() - 2));
    if (inner.rfind("select ", 0) == 0) {
      auto select = parse_select(inner);
      if (!select || select->items.empty() || select->items[0].star) return {"", 0, false};
      const SelectItem& first = select->items[0];
      std::string name = postgres_item_name(first.expr, first.alias.empty() ? "" : first.name, nesting + 1);
      return name.empty() ? Figured{"", 0, false} : Figured{name, 2};
    }
    if (inner.rfind("with ", 0) == 0 || inner.rfind("values ", 0) == 0) return {"", 0, false};
    if (split_top_level(inner, ',').size() > 1) return {"row", 1};  // (1, 2) is ROW(1, 2)
    return figure(inner, nesting + 1);
  }
  // One CASE expression (its END the item's last word): named after its ELSE (not one of a
  // CASE nested in it) when that has a strong name, else `case`.
  if (e.rfind("case ", 0) == 0 && e.ends_with(" end")) {
    std::size_t level = 0, default_at = std::string::npos, first_end = std::string::npos;
    scan(e, [&](std::size_t i, int depth) {
      if (depth != 0 || (i > 0 && ident_char(e[i - 1]))) return true;
      auto word = [&](std::string_view w) {
        return e.compare(i, w.size(), w) == 0 && (i + w.size() == e.size() || !ident_char(e[i + w.size()]));
      };
      if (word("case")) ++level;
      else if (word("end") && --level == 0 && first_end == std::string::npos) first_end = i;
      else if (word("else") && level == 1) default_at = i + 4;
      return true;
    });
    if (first_end == e.size() - 3) {
      if (default_at != std::string::npos) {
        Figured d = figure(e.substr(default_at, e.size() - 4 - default_at), nesting + 1);
        if (d.known && d.strength == 2) return d;
      }
      return {"case", 1};
    }
  }
  // An operator or a predicate at the top: ?column?, whatever it reads (a + 1, -x, a || b,
  // x is null, now() - interval '1 day', f(x) > 0); x AT TIME ZONE z is timezone(z, x).
  static constexpr std::string_view kOperators = "+-*/%<>=|!~^&#@";
  bool op = false;
  scan(e, [&](std::size_t i, int depth) {
    const bool exponent = (e[i] == '-' || e[i] == '+') && i >= 2 && e[i - 1] == 'e' &&
                          std::isdigit(static_cast<unsigned char>(e[i - 2]));  // 1.5e-5
    if (depth == 0 && kOperators.find(e[i]) != std::string_view::npos && !exponent) op = true;
    return !op;
  });
  if (op) return {};
  for (const char* word : {"is", "isnull", "notnull", "not", "and", "or", "between", "in", "like", "ilike", "similar",
                           "overlaps"})
    if (find_keyword(e, word) != std::string::npos) return {};
  if (auto at = find_keyword(e, "at"); at != std::string::npos && e.compare(at, 13, "at time zone ") == 0)
    return {"timezone", 2};
  if (auto collate = find_keyword(e, "collate"); collate != std::string::npos && collate > 0)
    return figure(e.substr(0, collate), nesting + 1);
  // x::type: x's name, or the type's for a constant or an operator expression.
  if (auto cast = last_top_level_cast(e); cast != std::string::npos) {
    Figured inner = figure(e.substr(0, cast), nesting + 1);
    if (!inner.known) return inner;
    return inner.strength == 2 ? inner : Figured{type_column_name(e.substr(cast + 2)), 1};
  }
  if (e == "null") return {};
  if (e.size() >= 2 && e.front() == '$' && e.back() == '$') return {};  // a dollar-quoted string
  if (e == "true" || e == "false") return {"bool", 1};  // PostgreSQL's grammar casts them to bool
  if (e.front() == '\'' || std::isdigit(static_cast<unsigned char>(e.front())) || e.front() == '.' ||
      e.rfind("e'", 0) == 0 || e.front() == '$')
    return literal(e) || e.back() == '\'' || e.find_first_not_of("0123456789.e+-") == std::string::npos
               ? Figured{}
               : Figured{"", 0, false};
  // A typed literal: date '2024-01-01', interval '1 day', timestamp with time zone '...'.
  if (e.back() == '\'') {
    auto quote = e.find('\'');
    std::string type = trim(e.substr(0, quote));
    bool words = !type.empty();
    for (char c : type) words = words && (std::islower(static_cast<unsigned char>(c)) || c == ' ' || c == '_');
    if (words && e.find('\'', quote + 1) != std::string::npos) return {type_column_name(type), 1};
    return {"", 0, false};
  }
  if (e.rfind("cast(", 0) == 0 || e.rfind("cast (", 0) == 0) {
    auto open = e.find('(');
    if (closing(e, open) != e.size() - 1) return {"", 0, false};
    std::string inside = e.substr(open + 1, e.size() - open - 2);
    std::size_t as = std::string::npos;
    for (auto pos = find_keyword(inside, "as"); pos != std::string::npos; pos = find_keyword(inside, "as", pos + 2)) as = pos;
    if (as == std::string::npos) return {"", 0, false};
    Figured inner = figure(inside.substr(0, as), nesting + 1);
    if (!inner.known) return inner;
    return inner.strength == 2 ? inner : Figured{type_column_name(inside.substr(as + 2)), 1};
  }
  if (e.rfind("array[", 0) == 0 || e.rfind("array [", 0) == 0) return {"array", 1};
  if (e.rfind("array(", 0) == 0 || e.rfind("array (", 0) == 0) return {"array", 2};
  if (e.rfind("exists(", 0) == 0 || e.rfind("exists (", 0) == 0) return {"exists", 2};
  if (e.rfind("row(", 0) == 0 || e.rfind("row (", 0) == 0) return {"row", 1};
  // x[1]: x's name.
  if (e.back() == ']') {
    std::size_t open = std::string::npos;
    scan(e, [&](std::size_t i, int depth) {
      if (depth == 1 && e[i] == '[') open = i;
      return true;
    });
    return open == std::string::npos || open == 0 ? Figured{"", 0, false} : figure(e.substr(0, open), nesting + 1);
  }
  // A function call, with FILTER, OVER or WITHIN GROUP after it: the function's last name.
  if (auto open = e.find('('); open != std::string::npos && open > 0) {
    std::string head = trim(e.substr(0, open));
    for (char c : head)
      if (!ident_char(c) && c != '.' && c != '"') return {"", 0, false};
    std::size_t close = closing(e, open);
    if (close == std::string::npos) return {"", 0, false};
    std::string tail = trim(e.substr(close + 1));
    const bool known_tail = tail.empty() || tail.rfind("filter", 0) == 0 || tail.rfind("over", 0) == 0 ||
                            tail.rfind("within group", 0) == 0;
    if (!known_tail) return {"", 0, false};
    auto dot = head.rfind('.');
    std::string name = unquote(dot == std::string::npos ? head : head.substr(dot + 1));
    if (name == "trim") {  // trim(leading ...) is PostgreSQL's ltrim, trim(trailing ...) rtrim, else btrim
      std::string args = trim(e.substr(open + 1));
      name = args.rfind("leading", 0) == 0 ? "ltrim" : args.rfind("trailing", 0) == 0 ? "rtrim" : "btrim";
    }
    return {name, 2};
  }
  if (column_reference(e)) {  // its last part, unquoted ("t"."A b" -> A b)
    std::size_t dot = std::string::npos;
    bool quoted = false;
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (e[i] == '"') quoted = !quoted;
      else if (e[i] == '.' && !quoted) dot = i;
    }
    return {unquote(dot == std::string::npos ? e : e.substr(dot + 1)), 2};
  }
  return {"", 0, false};
}

// The alias of an item written without AS (`count(*) n`, `x::int y`, `a "Top"`),
// folded as PostgreSQL folds it: the last word at the top level, after a space;
// "" when the item does not end so. Whether it is an alias, and not the end of
// the expression (`x::double precision`, `x is null`), only the engine's name of
// the column can tell (postgres_column_names).
std::string trailing_word(const std::string& expr) {
  std::size_t space = std::string::npos;
  scan(expr, [&](std::size_t i, int depth) {
    if (depth == 0 && expr[i] == ' ') space = i;
    return true;
  });
  if (space == std::string::npos) return "";
  const std::string word = expr.substr(space + 1);
  if (word.size() > 2 && word.front() == '"' && word.back() == '"') return unquote(word);
  if (word.empty() || std::isdigit(static_cast<unsigned char>(word.front())) != 0 || word.front() == '$') return "";
  for (char c : word)
    if (!ident_char(c)) return "";
  return ascii_lower(word);
}

// The name PostgreSQL gives an item (`alias` its alias as written, "" for none), or "" when
// it is not sure here.
std::string postgres_item_name(const std::string& expr, const std::string& alias, int nesting) {
  if (!alias.empty()) return alias;
  Figured f = figure(expr, nesting);
  if (!f.known) return "";
  return f.strength == 0 ? "?column?" : f.name;
}

}  // namespace

std::vector<std::string> postgres_column_names(const std::string& normalized, std::vector<std::string> engine) {
  // WITH ...: the main SELECT is the first at the top level (the CTEs' are in parentheses).
  std::size_t main = 0;
  if (normalized.rfind("with ", 0) == 0) {
    main = find_keyword(normalized, "select");
    if (main == std::string::npos) return engine;
  }
  auto select = parse_select(normalized.substr(main));
  if (!select || select->items.size() != engine.size()) return engine;
  for (const auto& item : select->items)
    if (item.star || item.expr.rfind("on ", 0) == 0) return engine;
  std::vector<std::string> names = engine;
  for (std::size_t i = 0; i < engine.size(); ++i) {
    const SelectItem& item = select->items[i];
    if (!item.alias.empty()) {
      if (ascii_lower(item.name) != ascii_lower(engine[i])) return engine;  // the items and columns do not line up
      names[i] = item.name;
      continue;
    }
    if (std::string word = trailing_word(item.expr); !word.empty() && ascii_lower(word) == ascii_lower(engine[i])) {
      names[i] = std::move(word);  // the engine read it as the alias too
      continue;
    }
    std::string name = postgres_item_name(item.expr, "", 0);
    if (!name.empty()) names[i] = std::move(name);
  }
  return names;
}

}  // namespace etl::pgwire
