#include "pgwire/format.h"

#include <charconv>
#include <vector>

#include "pgwire/sql_text.h"
#include "query/sql_guard.h"

namespace etl::pgwire {
namespace {

using cataloger::TokenKind;

constexpr int kMaxDepth = 16;
constexpr std::string_view kName = "format";

// One part of the output: a literal text, or the argument at an index (0: the first after the pattern).
struct Piece {
  std::string text;
  std::size_t argument = 0;
  bool is_argument = false;
};

// PostgreSQL's reading of a format() pattern (varlena.c's text_format), for `arguments` arguments.
Result<std::vector<Piece>> read_pattern(std::string_view pattern, std::size_t arguments) {
  std::vector<Piece> pieces;
  std::vector<bool> used(arguments, false);
  std::size_t next = 0;  // the argument a %s without a position takes
  auto literal = [&](std::string_view s) {
    if (s.empty()) return;
    if (pieces.empty() || pieces.back().is_argument) pieces.push_back({});
    pieces.back().text += s;
  };
  for (std::size_t i = 0; i < pattern.size();) {
    const std::size_t percent = pattern.find('%', i);
    literal(pattern.substr(i, percent == std::string_view::npos ? std::string_view::npos : percent - i));
    if (percent == std::string_view::npos) break;
    std::size_t p = percent + 1;
    if (p >= pattern.size()) return make_error(Errc::invalid_argument, "unterminated format() type specifier");
    if (pattern[p] == '%') {
      literal("%");
      i = p + 1;
      continue;
    }
    std::size_t argument = next;
    std::size_t digits_end = p;
    while (digits_end < pattern.size() && pattern[digits_end] >= '0' && pattern[digits_end] <= '9') ++digits_end;
    if (digits_end > p && digits_end < pattern.size() && pattern[digits_end] == '$') {
      std::size_t position = 0;
      auto [end, ec] = std::from_chars(pattern.data() + p, pattern.data() + digits_end, position);
      if (ec != std::errc{} || end != pattern.data() + digits_end || position == 0)
        return make_error(Errc::invalid_argument, "format specifies argument 0, but arguments are numbered from 1");
      argument = position - 1;
      p = digits_end + 1;
    }
    if (p >= pattern.size()) return make_error(Errc::invalid_argument, "unterminated format() type specifier");
    const char type = pattern[p];
    if (type == '-' || type == '*' || (type >= '0' && type <= '9'))
      return make_error(Errc::invalid_argument, "unsupported: a width or flag in format()'s pattern; write lpad() or rpad()");
    if (type == 'I' || type == 'L')
      return make_error(Errc::invalid_argument, std::string("unsupported: format()'s %") + type +
                                                    "; write the quotes in the pattern ('%s' for a text)");
    if (type != 's')
      return make_error(Errc::invalid_argument, std::string("unrecognized format() type specifier \"") + type + "\"");
    if (argument >= arguments) return make_error(Errc::invalid_argument, "too few arguments for format()");
    if (used[argument])
      return make_error(Errc::invalid_argument, "unsupported: format() reading argument " + std::to_string(argument + 1) +
                                                    " twice; pass the expression again as another argument");
    used[argument] = true;
    pieces.push_back({"", argument, true});
    next = argument + 1;
    i = p + 1;
  }
  return pieces;
}

Result<std::string> rewrite(std::string_view sql, int depth) {
  if (!mentions(sql, kName)) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const Tokens& t = *tokens;
  // One pass: each '(' gets its ')'; one after the word format gets its top-level commas too.
  constexpr std::size_t npos = std::string::npos;
  std::vector<std::size_t> close(t.size(), npos), open;
  std::vector<std::vector<std::size_t>> commas(t.size());
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t.symbol(k, '(')) {
      open.push_back(k);
    } else if (t.symbol(k, ')') && !open.empty()) {
      close[open.back()] = k;
      open.pop_back();
    } else if (t.symbol(k, ',') && !open.empty() && open.back() > 0 && t.word(open.back() - 1, kName)) {
      commas[open.back()].push_back(k);
    }
  }
  Splice out(sql);
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    if (!t.word(k, kName) || !t.symbol(k + 1, '(') || close[k + 1] == npos || t.at(k) < out.copied()) continue;
    const std::size_t paren = k + 1, end = close[paren];
    const std::vector<std::size_t>& separators = commas[paren];
    // The pattern: one string literal with a %, the first argument.
    const std::size_t pattern_end = separators.empty() ? end : separators.front();
    if (pattern_end != paren + 2 || !t.is(paren + 1, TokenKind::string) ||
        t[paren + 1].text.find('%') == std::string::npos)
      continue;
    if (depth >= kMaxDepth)
      return make_error(Errc::invalid_argument,
                        "unsupported: format() calls nested more than " + std::to_string(kMaxDepth) + " deep");
    // Each argument from its first token to the end of its last: a comment after it (`-- x`
    // before the comma) would otherwise swallow what follows it in the rewritten call.
    std::vector<std::string_view> arguments;
    for (std::size_t i = 0; i < separators.size(); ++i) {
      const std::size_t first = separators[i] + 1, after = i + 1 < separators.size() ? separators[i + 1] : end;
      arguments.push_back(first == after ? std::string_view() : sql.substr(t.at(first), t.end(after - 1) - t.at(first)));
    }
    auto pieces = read_pattern(t[paren + 1].text, arguments.size());
    if (!pieces) return std::move(pieces).error();
    std::string expression;
    for (const Piece& piece : *pieces) {
      if (!expression.empty()) expression += ", ";
      if (!piece.is_argument) {
        expression += quote_literal(piece.text);
        continue;
      }
      auto argument = rewrite(arguments[piece.argument], depth + 1);  // format() calls inside it
      if (!argument) return std::move(argument).error();
      expression += "CAST((" + *argument + ") AS VARCHAR)";
    }
    const std::size_t from = k >= 2 && t.symbol(k - 1, '.') && t.word(k - 2, "pg_catalog") ? k - 2 : k;
    out.replace(t.at(from), t.end(end), expression.empty() ? "''" : "concat(" + expression + ")");
  }
  return std::move(out).text();
}

}  // namespace

Result<std::string> postgres_format_calls(std::string_view sql) { return rewrite(sql, 0); }

}  // namespace etl::pgwire
