#include "pgwire/select_list.h"

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
  // a top-level clause that ends the select list when there is no FROM
  for (const char* kw : {"where", "order", "limit", "union", "group"}) {
    if (from != std::string::npos) break;
    if (auto pos = find_keyword(body, kw); pos != std::string::npos) {
      list = body.substr(0, pos);
      parts.rest = trim(body.substr(pos));
      break;
    }
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

// The name PostgreSQL gives an unaliased item, or "" when it is not sure here.
std::string postgres_name(const SelectItem& item) {
  const std::string& e = item.expr;
  if (item.literal) return e == "true" || e == "false" ? "bool" : "?column?";
  if (e.rfind("case ", 0) == 0) return "case";
  if (e.rfind("array[", 0) == 0 || e.rfind("array(", 0) == 0) return "array";
  if (e.rfind("(select ", 0) == 0 || e.rfind("(with ", 0) == 0 || e.rfind("cast(", 0) == 0 || e.rfind("cast (", 0) == 0)
    return "";
  if (column_reference(e)) {  // its last part, unquoted ("t"."A b" -> A b)
    std::size_t dot = std::string::npos;
    bool quoted = false;
    for (std::size_t i = 0; i < e.size(); ++i) {
      if (e[i] == '"') quoted = !quoted;
      else if (e[i] == '.' && !quoted) dot = i;
    }
    return unquote(dot == std::string::npos ? e : e.substr(dot + 1));
  }
  // An operator at the top (a + 1, -x, a || b, x is null, now() - interval '1 day',
  // f(x) > 0) makes the item an operator expression: ?column?, whatever it calls.
  static constexpr std::string_view kOperators = "+-*/%<>=|!~^&";
  bool op = false;
  scan(e, [&](std::size_t i, int depth) {
    if (depth == 0 && kOperators.find(e[i]) != std::string_view::npos) op = true;
    return true;
  });
  if (op || find_keyword(e, "is") != std::string::npos || find_keyword(e, "not") != std::string::npos ||
      find_keyword(e, "and") != std::string::npos || find_keyword(e, "or") != std::string::npos ||
      find_keyword(e, "between") != std::string::npos || find_keyword(e, "in") != std::string::npos ||
      find_keyword(e, "like") != std::string::npos || find_keyword(e, "ilike") != std::string::npos ||
      find_keyword(e, "similar") != std::string::npos)
    return "?column?";
  // x AT TIME ZONE z is PostgreSQL's timezone(z, x).
  if (auto at = find_keyword(e, "at"); at != std::string::npos && e.compare(at, 13, "at time zone ") == 0) return "timezone";
  if (!item.key.empty()) {  // a function call, or a column or call with a cast
    if (std::isdigit(static_cast<unsigned char>(item.key[0]))) return "";  // 1::int is named after the type
    if (e.find('(') == std::string::npos && e.find("::") != std::string::npos && !column_reference(e.substr(0, e.find("::"))))
      return "";
    return item.key;
  }
  // A typed literal (date '2024-01-01') or anything else unread keeps the engine's.
  return "";
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
    std::string name = postgres_name(item);
    if (!name.empty()) names[i] = std::move(name);
  }
  return names;
}

}  // namespace etl::pgwire
