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

}  // namespace

std::string set_returning_items_as_rows(std::string_view sql) {
  const std::string_view name = "generate_series";
  if (!mentions(sql, name)) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const Tokens& t = *tokens;
  constexpr std::size_t npos = std::string::npos;
  const std::vector<Parenthesis> parens = parentheses(t);
  std::vector<bool> in_select_list = {false};  // per open parenthesis, innermost last
  std::vector<std::pair<std::size_t, std::size_t>> wrap;  // [call, its ')'] to wrap in unnest()
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t.symbol(k, '(')) {
      in_select_list.push_back(false);
      continue;
    }
    if (t.symbol(k, ')')) {
      if (in_select_list.size() > 1) in_select_list.pop_back();
      continue;
    }
    const std::string_view w = t.word_at(k);
    // `a IS DISTINCT FROM b` names no clause.
    if (!w.empty() && clause_word(w) && !(w == "from" && k > 0 && t.word(k - 1, "distinct"))) {
      in_select_list.back() = w == "select";
      continue;
    }
    // A call at the select list's own depth (an item, or an operand of one: `generate_series(1, 3) * 2`,
    // `generate_series(...)::date`); one in a function's arguments is deeper, and left.
    if (w == name && in_select_list.back() && t.symbol(k + 1, '(') && parens[k + 1].close != npos)
      wrap.emplace_back(k, parens[k + 1].close);
  }
  // Each call gets "unnest(" before it and ")" after it: insertions, so a call inside
  // another's arguments (in a subquery there) is wrapped too.
  std::vector<std::pair<std::size_t, std::string_view>> inserts;  // where, what
  for (const auto& [call, close_paren] : wrap) {
    inserts.emplace_back(t.at(call), "unnest(");
    inserts.emplace_back(t.end(close_paren), ")");
  }
  std::sort(inserts.begin(), inserts.end());  // at one place, a ")" before an "unnest("
  Splice out(sql);
  for (const auto& [where, what] : inserts) out.replace(where, where, what);
  return std::move(out).text();
}

}  // namespace etl::pgwire
