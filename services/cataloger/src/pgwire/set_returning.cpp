#include "pgwire/set_returning.h"

#include <algorithm>
#include <array>
#include <vector>

#include "pgwire/sql_text.h"
#include "query/sql_guard.h"

namespace etl::pgwire {
namespace {

using cataloger::SqlToken;
using cataloger::TokenKind;

// Words that start a clause of a SELECT at their own depth: the select list ends at them.
bool clause_word(std::string_view w) {
  static constexpr std::array<std::string_view, 18> kClauses = {
      "select", "from",   "where",  "group", "having", "order", "limit", "offset",    "window",
      "qualify", "union", "except", "intersect", "join", "on",   "using", "values", "returning"};
  return std::find(kClauses.begin(), kClauses.end(), w) != kClauses.end();
}

// Words that end a FROM item: what follows a call there and is not its alias.
bool after_from_item(std::string_view w) {
  static constexpr std::array<std::string_view, 34> kWords = {
      "where",  "group",   "having", "order",   "limit",  "offset", "window",      "qualify", "union",
      "except", "intersect", "join", "left",    "right",  "full",   "inner",       "cross",   "natural",
      "on",     "using",   "with",   "lateral", "pivot",  "unpivot", "tablesample", "positional", "asof",
      "anti",   "semi",    "fetch",  "for",     "returning", "select", "from"};
  return std::find(kWords.begin(), kWords.end(), w) != kWords.end();
}

}  // namespace

std::string set_returning_items_as_rows(std::string_view sql) {
  if (!mentions(sql, "generate_series") && !mentions(sql, "unnest")) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const Tokens& t = *tokens;
  constexpr std::size_t npos = std::string::npos;
  const std::vector<Parenthesis> parens = parentheses(t);
  enum class Clause { other, select_list, from };
  std::vector<Clause> clause = {Clause::other};  // per open parenthesis, innermost last
  std::vector<std::pair<std::size_t, std::size_t>> wrap;  // [call, its ')'] to wrap in unnest()
  std::vector<std::size_t> named;  // aliases of calls in FROM to repeat as their column's name
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t.symbol(k, '(')) {
      clause.push_back(Clause::other);
      continue;
    }
    if (t.symbol(k, ')')) {
      if (clause.size() > 1) clause.pop_back();
      continue;
    }
    const std::string_view w = t.word_at(k);
    // `a IS DISTINCT FROM b` names no clause.
    if (!w.empty() && clause_word(w) && !(w == "from" && k > 0 && t.word(k - 1, "distinct"))) {
      clause.back() = w == "select" ? Clause::select_list : w == "from" || w == "join" ? Clause::from : Clause::other;
      continue;
    }
    if ((w != "generate_series" && w != "unnest") || !t.symbol(k + 1, '(') || parens[k + 1].close == npos) continue;
    const std::size_t close = parens[k + 1].close;
    // A call at the select list's own depth (an item, or an operand of one: `generate_series(1, 3) * 2`,
    // `generate_series(...)::date`); one in a function's arguments is deeper, and left.
    if (w == "generate_series" && clause.back() == Clause::select_list) wrap.emplace_back(k, close);
    // `FROM generate_series(...) d`: PostgreSQL names the one column of a function in FROM by
    // its alias, so `d` is the value; in the engine `d` is the row (a struct) and the column
    // is `generate_series`. `d` gets itself as its column's name: `generate_series(...) d(d)`.
    // (A column list already written and WITH ORDINALITY are left.)
    const bool item_start = k > 0 && (t.word(k - 1, "from") || t.word(k - 1, "join") || t.word(k - 1, "lateral") ||
                                      t.symbol(k - 1, ','));
    if (clause.back() == Clause::from && item_start) {
      std::size_t alias = close + 1 + (t.word(close + 1, "as") ? 1 : 0);
      const bool is_alias = (t.is(alias, TokenKind::word) && !after_from_item(t.word_at(alias))) ||
                            t.is(alias, TokenKind::quoted_identifier);
      if (is_alias && !t.symbol(alias + 1, '(')) named.push_back(alias);
    }
  }
  // Each call gets "unnest(" before it and ")" after it: insertions, so a call inside
  // another's arguments (in a subquery there) is wrapped too.
  std::vector<std::pair<std::size_t, std::string>> inserts;  // where, what
  for (const auto& [call, close_paren] : wrap) {
    inserts.emplace_back(t.at(call), "unnest(");
    inserts.emplace_back(t.end(close_paren), ")");
  }
  for (std::size_t alias : named) inserts.emplace_back(t.end(alias), "(" + std::string(t[alias].source) + ")");
  std::sort(inserts.begin(), inserts.end());  // at one place, a ")" before an "unnest("
  Splice out(sql);
  for (const auto& [where, what] : inserts) out.replace(where, where, what);
  return std::move(out).text();
}

}  // namespace etl::pgwire
