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
  auto tokens = cataloger::tokenize_sql(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const std::vector<SqlToken>& t = *tokens;
  auto symbol = [&](std::size_t k, char c) { return k < t.size() && t[k].kind == TokenKind::symbol && t[k].text[0] == c; };
  auto word = [&](std::size_t k) -> std::string_view {
    return k < t.size() && t[k].kind == TokenKind::word ? std::string_view(t[k].text) : std::string_view();
  };
  auto at = [&](std::size_t k) { return static_cast<std::size_t>(t[k].source.data() - sql.data()); };
  // One pass: each '(' gets its ')', and each depth the clause it is in.
  constexpr std::size_t npos = std::string::npos;
  std::vector<std::size_t> close(t.size(), npos), open;
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (symbol(k, '(')) open.push_back(k);
    else if (symbol(k, ')') && !open.empty()) {
      close[open.back()] = k;
      open.pop_back();
    }
  }
  std::vector<bool> in_select_list = {false};  // per open parenthesis, innermost last
  std::vector<std::pair<std::size_t, std::size_t>> wrap;  // [call, its ')'] to wrap in unnest()
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (symbol(k, '(')) {
      in_select_list.push_back(false);
      continue;
    }
    if (symbol(k, ')')) {
      if (in_select_list.size() > 1) in_select_list.pop_back();
      continue;
    }
    const std::string_view w = word(k);
    // `a IS DISTINCT FROM b` names no clause.
    if (!w.empty() && clause_word(w) && !(w == "from" && k > 0 && word(k - 1) == "distinct")) {
      in_select_list.back() = w == "select";
      continue;
    }
    // A call at the select list's own depth (an item, or an operand of one: `generate_series(1, 3) * 2`,
    // `generate_series(...)::date`); one in a function's arguments is deeper, and left.
    if (w == name && in_select_list.back() && symbol(k + 1, '(') && close[k + 1] != npos) wrap.emplace_back(k, close[k + 1]);
  }
  if (wrap.empty()) return std::string(sql);
  std::string out;
  std::size_t copied = 0;
  for (const auto& [call, end] : wrap) {
    out.append(sql.substr(copied, at(call) - copied));
    out += "unnest(";
    out.append(sql.substr(at(call), at(end) + 1 - at(call)));
    out += ')';
    copied = at(end) + 1;
  }
  out.append(sql.substr(copied));
  return out;
}

}  // namespace etl::pgwire
