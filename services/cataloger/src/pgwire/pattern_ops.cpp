#include "pgwire/pattern_ops.h"

#include <algorithm>
#include <array>

#include "pgwire/sql_text.h"
#include "query/sql_guard.h"

namespace etl::pgwire {
namespace {

using cataloger::SqlToken;
using cataloger::TokenKind;

// The characters PostgreSQL's lexer joins into one operator.
constexpr std::string_view kOperatorChars = "+-*/<>=~!@#%^&|`?";

// Whether `t` can end the left operand of a binary operator (so a `~` after it is not
// the prefix bitwise NOT): a name, a literal, a closing bracket, a word that is no keyword.
bool ends_operand(const SqlToken& t) {
  static constexpr std::array<std::string_view, 24> kKeywords = {
      "select", "where", "and",  "or",   "not",    "when",  "then",  "else",    "on",      "having", "by",   "in",
      "is",     "as",    "case", "from", "return", "limit", "offset", "between", "distinct", "all",   "with", "values"};
  switch (t.kind) {
    case TokenKind::quoted_identifier:
    case TokenKind::string:
    case TokenKind::number: return true;
    case TokenKind::symbol: return t.text == ")" || t.text == "]";
    case TokenKind::word: return std::find(kKeywords.begin(), kKeywords.end(), t.text) == kKeywords.end();
  }
  return false;
}

}  // namespace

Result<std::string> postgres_pattern_operators(std::string_view sql) {
  // Most statements have neither: one scan each, and no tokens.
  const bool tilde = sql.find('~') != std::string_view::npos;
  const bool like_escape = sql.find('\\') != std::string_view::npos && mentions(sql, "like");
  if (!tilde && !like_escape) return std::string(sql);
  auto tokens = cataloger::tokenize_sql(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const std::vector<SqlToken>& t = *tokens;
  auto at = [&](std::size_t k) { return static_cast<std::size_t>(t[k].source.data() - sql.data()); };
  auto end_of = [&](std::size_t k) { return at(k) + t[k].source.size(); };
  auto is = [&](std::size_t k, TokenKind kind) { return k < t.size() && t[k].kind == kind; };
  std::string out;
  std::size_t copied = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (is(k, TokenKind::word) && (t[k].text == "like" || t[k].text == "ilike")) {
      // LIKE '<literal with a backslash>' and nothing that would make the ESCAPE clause
      // read more than it ('x' || y, 'x'::text, 'x' ESCAPE ..., 'x' IS TRUE).
      if (!is(k + 1, TokenKind::string) || t[k + 1].text.find('\\') == std::string::npos) continue;
      const std::size_t next = k + 2;
      const bool ends = next >= t.size() ||
                        (is(next, TokenKind::symbol) && (t[next].text == ")" || t[next].text == "," || t[next].text == ";")) ||
                        (is(next, TokenKind::word) && t[next].text != "escape" && t[next].text != "collate" &&
                         t[next].text != "is" && t[next].text != "isnull" && t[next].text != "notnull");
      if (!ends) continue;
      out.append(sql.substr(copied, end_of(k + 1) - copied));
      out += " ESCAPE '\\'";
      copied = end_of(k + 1);
      ++k;
      continue;
    }
    if (!is(k, TokenKind::symbol) || kOperatorChars.find(t[k].text) == std::string_view::npos) continue;
    // One operator: the symbols written together (`!~*` is three tokens here).
    const std::size_t first = k, j = operator_end(t, k, kOperatorChars);
    std::string op;
    for (std::size_t i = first; i < j; ++i) op += t[i].text;
    k = j - 1;
    if (op != "~" && op != "~*" && op != "!~" && op != "!~*") continue;
    const bool insensitive = op.back() == '*';
    if (is(j, TokenKind::string)) {
      const std::string pattern = std::string(insensitive ? "(?is)" : "(?s)") + ".*(?:" + t[j].text + ").*";
      out.append(sql.substr(copied, at(first) - copied));
      out += op[0] == '!' ? "!~ " : "~ ";
      out += quote_literal(pattern);
      copied = end_of(j);
      k = j;
      continue;
    }
    if (op == "~" && (first == 0 || !ends_operand(t[first - 1]))) continue;  // the prefix bitwise NOT
    if (is(j, TokenKind::word) && t[j].text == "null") continue;                // NULL either way
    return make_error(Errc::invalid_argument,
                      "unsupported: " + op + " with a pattern that is not a string literal (PostgreSQL's " + op +
                          " finds the pattern anywhere in the text, the engine's would match the whole text): write " +
                          (op[0] == '!' ? "NOT " : "") + "regexp_matches(text, pattern" + (insensitive ? ", 'i'" : "") +
                          ")");
  }
  if (copied == 0) return std::string(sql);
  out.append(sql.substr(copied));
  return out;
}

}  // namespace etl::pgwire
