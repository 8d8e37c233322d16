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

// Whether a string literal at t[k - 1] is all its clause reads: nothing after it that
// would make the pattern longer ('x' || y, 'x'::text) or add to the clause (ESCAPE).
bool literal_ends_clause(const Tokens& t, std::size_t k) {
  const std::string_view word = t.word_at(k);
  return k >= t.size() || t.symbol(k, ')') || t.symbol(k, ',') || t.symbol(k, ';') ||
         (!word.empty() && word != "escape" && word != "collate" && word != "is" && word != "isnull" &&
          word != "notnull");
}

// Whether a regular expression has a capturing group: a '(' that is not escaped, not in a
// bracket expression, and not `(?` (except RE2's named `(?P<`).
bool has_capturing_group(std::string_view re) {
  bool in_class = false;
  for (std::size_t i = 0; i < re.size(); ++i) {
    if (re[i] == '\\') {
      ++i;
    } else if (in_class) {
      if (re[i] == ']') in_class = false;
    } else if (re[i] == '[') {
      in_class = true;
      if (i + 1 < re.size() && re[i + 1] == '^') ++i;
      if (i + 1 < re.size() && re[i + 1] == ']') ++i;  // a leading ']' is a member
    } else if (re[i] == '(' && (i + 1 >= re.size() || re[i + 1] != '?' || re.substr(i + 1, 3) == "?P<")) {
      return true;
    }
  }
  return false;
}

// PostgreSQL's substring(<text> FROM '<pattern>') and substring(<text>, '<pattern>'): a
// regular expression, where the engine's substring reads the literal as a position.
struct RegexSubstring {
  std::size_t name = 0;     // the word substring (or pg_catalog before it)
  std::size_t from = 0;     // its FROM or comma
  std::size_t close = 0;    // its ')'
};

// The calls of `t` with a literal pattern, in order; an error for the SQL-regex form
// (FROM '<pattern>' FOR '<escape>'), which the engine cannot read.
Result<std::vector<RegexSubstring>> regex_substrings(const Tokens& t) {
  constexpr std::size_t npos = std::string::npos;
  const std::vector<Parenthesis> parens = parentheses(t);
  std::vector<RegexSubstring> calls;
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    if (!t.word(k, "substring") || !t.symbol(k + 1, '(') || parens[k + 1].close == npos) continue;
    const std::size_t paren = k + 1, close = parens[paren].close;
    // Its own separators (FROM, FOR or a comma; not those of a parenthesis inside it).
    std::size_t separator = npos, separators = 0;
    for (std::size_t j = paren + 1; j < close; ++j) {
      if (t.symbol(j, '(') && parens[j].close != npos) j = parens[j].close;
      else if ((t.word(j, "from") || t.word(j, "for") || t.symbol(j, ',')) && separators++ == 0) separator = j;
    }
    // One separator after a value, then one string literal, then ')'.
    if (separators == 1 && separator + 2 == close && t.is(close - 1, TokenKind::string) && separator > paren + 1) {
      const std::size_t name = k >= 2 && t.symbol(k - 1, '.') && t.word(k - 2, "pg_catalog") ? k - 2 : k;
      calls.push_back({name, separator, close});
    } else if (separators == 2 && t.word(separator, "from") && t.is(separator + 1, TokenKind::string) &&
               t.word(separator + 2, "for") && t.is(separator + 3, TokenKind::string)) {
      return make_error(Errc::invalid_argument,
                        "unsupported: substring(text FROM pattern FOR escape), SQL's regular expressions; write "
                        "regexp_extract(text, pattern)");
    }
  }
  return calls;
}

}  // namespace

Result<std::string> similar_to_as_regex(std::string_view pattern) {
  std::string out = "(?s)(?:";  // PostgreSQL's `.` (from `_`) matches a newline too
  int bracket_depth = 0;          // inside a character class: its text is the regular expression's
  int class_position = 0;         // 1 right after '[', 2 after '[^': a ']' there is a member
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {  // the escape character: the next one stands for itself
      if (++i == pattern.size()) break;  // an escape at the end escapes nothing, as in PostgreSQL
      if (pattern[i] == '"')
        return make_error(Errc::invalid_argument, "unsupported: \\\" in a SIMILAR TO pattern (it is SUBSTRING's)");
      out += '\\';
      out += pattern[i];
      class_position = 3;
      continue;
    }
    if (bracket_depth > 0) {
      out += c;
      if (c == ']' && class_position > 2) {
        --bracket_depth;
      } else if (c == '[') {
        ++bracket_depth;  // a collating element or class name, [:alpha:]
        class_position = 3;
      } else if (c == '^') {
        ++class_position;
      } else {
        class_position = 3;
      }
      continue;
    }
    switch (c) {
      case '[': out += c; bracket_depth = 1; class_position = 1; break;
      case '%': out += ".*"; break;
      case '_': out += '.'; break;
      case '(': out += "(?:"; break;
      case '.': case '^': case '$': out += '\\'; out += c; break;
      default: out += c;
    }
  }
  out += ')';
  return out;
}

Result<std::string> postgres_pattern_operators(std::string_view sql) {
  // Most statements have neither: one scan each, and no tokens.
  const bool tilde = sql.find('~') != std::string_view::npos;
  const bool like_escape = sql.find('\\') != std::string_view::npos && mentions(sql, "like");
  const bool similar = mentions(sql, "similar");
  const bool substring = mentions(sql, "substring");
  if (!tilde && !like_escape && !similar && !substring) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const Tokens& t = *tokens;
  // substring(<text> FROM '<pattern>') reaches the engine as regexp_extract_all(<text>, '<pattern>', g)[1]:
  // the first match (of the first capturing group if there is one), NULL when none, as in PostgreSQL.
  // Its name and its tail are replaced; the text between stays where it is, read by this same loop.
  constexpr std::size_t npos = std::string::npos;
  std::vector<RegexSubstring> substrings;
  std::vector<std::size_t> call_named_at, call_from_at;  // by token: the call whose name or FROM it is
  if (substring) {
    auto found = regex_substrings(t);
    if (!found) return std::move(found).error();
    substrings = std::move(found).value();
    if (!substrings.empty()) {
      call_named_at.assign(t.size(), npos);
      call_from_at.assign(t.size(), npos);
      for (std::size_t i = 0; i < substrings.size(); ++i) {
        call_named_at[substrings[i].name] = i;
        call_from_at[substrings[i].from] = i;
      }
    }
  }
  Splice out(sql);
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (!substrings.empty() && call_named_at[k] != npos) {
      const std::size_t last = t.word(k, "pg_catalog") ? k + 2 : k;  // pg_catalog . substring
      out.replace(t.at(k), t.end(last), "regexp_extract_all");
      k = last;
      continue;
    }
    if (!substrings.empty() && call_from_at[k] != npos) {
      const RegexSubstring& call = substrings[call_from_at[k]];
      const std::string& pattern = t[k + 1].text;
      out.replace(t.end(k - 1), t.end(call.close),  // from the value's end: `x FROM 'p')` -> `x, 'p', 0)[1]`
                  ", " + quote_literal("(?s)" + pattern) + (has_capturing_group(pattern) ? ", 1)[1]" : ", 0)[1]"));
      k = call.close;
      continue;
    }
    if (t.word(k, "like") || t.word(k, "ilike")) {
      // LIKE '<literal with a backslash>' and nothing that would make the ESCAPE clause
      // read more than it ('x' || y, 'x'::text, 'x' ESCAPE ..., 'x' IS TRUE).
      if (!t.is(k + 1, TokenKind::string) || t[k + 1].text.find('\\') == std::string::npos) continue;
      if (!literal_ends_clause(t, k + 2)) continue;
      out.replace(t.end(k + 1), t.end(k + 1), " ESCAPE '\\'");
      ++k;
      continue;
    }
    if (t.word(k, "similar") && t.word(k + 1, "to")) {
      // The engine's SIMILAR TO takes a regular expression: '%' and '_' would be text there.
      const std::size_t literal = k + 2;
      if (t.word(literal, "null")) continue;  // NULL either way
      if (!t.is(literal, TokenKind::string) || !literal_ends_clause(t, literal + 1))
        return make_error(Errc::invalid_argument,
                          "unsupported: SIMILAR TO with a pattern that is not a string literal, or with ESCAPE "
                          "(the engine's SIMILAR TO reads a regular expression): write regexp_full_match(text, pattern)");
      auto regex = similar_to_as_regex(t[literal].text);
      if (!regex) return std::move(regex).error();
      out.replace(t.at(literal), t.end(literal), quote_literal(*regex));
      k = literal;
      continue;
    }
    if (!t.is(k, TokenKind::symbol) || kOperatorChars.find(t[k].text) == std::string_view::npos) continue;
    // One operator: the symbols written together (`!~*` is three tokens here).
    const std::size_t first = k, j = operator_end(t.all(), k, kOperatorChars);
    std::string op;
    for (std::size_t i = first; i < j; ++i) op += t[i].text;
    k = j - 1;
    if (op != "~" && op != "~*" && op != "!~" && op != "!~*") continue;
    const bool insensitive = op.back() == '*';
    if (t.is(j, TokenKind::string)) {
      const std::string pattern = std::string(insensitive ? "(?is)" : "(?s)") + ".*(?:" + t[j].text + ").*";
      out.replace(t.at(first), t.end(j), (op[0] == '!' ? "!~ " : "~ ") + quote_literal(pattern));
      k = j;
      continue;
    }
    if (op == "~" && (first == 0 || !ends_operand(t[first - 1]))) continue;  // the prefix bitwise NOT
    if (t.word(j, "null")) continue;                                          // NULL either way
    return make_error(Errc::invalid_argument,
                      "unsupported: " + op + " with a pattern that is not a string literal (PostgreSQL's " + op +
                          " finds the pattern anywhere in the text, the engine's would match the whole text): write " +
                          (op[0] == '!' ? "NOT " : "") + "regexp_matches(text, pattern" + (insensitive ? ", 'i'" : "") +
                          ")");
  }
  return std::move(out).text();
}

}  // namespace etl::pgwire
