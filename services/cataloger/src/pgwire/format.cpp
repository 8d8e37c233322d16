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

// The statement's format() calls, read once: each '(' gets its ')' (parentheses()), and a
// call its arguments' commas. emit() then writes a span of the statement with the calls in
// it rewritten, each argument's span by emit() in turn: every token is read once at each
// level that holds it, and no text is tokenized twice.
class FormatCalls {
 public:
  FormatCalls(std::string_view sql, const Tokens& t) : sql_(sql), t_(t), parens_(parentheses(t)) {}

  // The statement's bytes [from, to), whose tokens are [first, after), with each call rewritten.
  Result<std::string> emit(std::size_t first, std::size_t after, std::size_t from, std::size_t to, int depth) const {
    std::string out;
    std::size_t copied = from;
    for (std::size_t k = first; k + 1 < after; ++k) {
      if (!t_.word(k, kName) || !t_.symbol(k + 1, '(') || parens_[k + 1].close == npos) continue;
      const std::size_t paren = k + 1, end = parens_[paren].close;
      // The pattern: one string literal with a %, the first argument.
      const std::size_t pattern_end = parens_[paren].commas == 0 ? end : parens_[paren].comma;
      if (pattern_end != paren + 2 || !t_.is(paren + 1, TokenKind::string) ||
          t_[paren + 1].text.find('%') == std::string::npos)
        continue;
      const std::vector<std::size_t> separators = own_commas(t_, parens_, paren);
      if (depth >= kMaxDepth)
        return make_error(Errc::invalid_argument,
                          "unsupported: format() calls nested more than " + std::to_string(kMaxDepth) + " deep");
      auto pieces = read_pattern(t_[paren + 1].text, separators.size());
      if (!pieces) return std::move(pieces).error();
      std::string expression;
      for (const Piece& piece : *pieces) {
        if (!expression.empty()) expression += ", ";
        if (!piece.is_argument) {
          expression += quote_literal(piece.text);
          continue;
        }
        // The argument from its first token to the end of its last: a comment after it
        // (`-- x` before the comma) would otherwise swallow what follows it.
        const std::size_t arg_first = separators[piece.argument] + 1;
        const std::size_t arg_after = piece.argument + 1 < separators.size() ? separators[piece.argument + 1] : end;
        std::string argument;
        if (arg_first < arg_after) {
          auto inner = emit(arg_first, arg_after, t_.at(arg_first), t_.end(arg_after - 1), depth + 1);
          if (!inner) return std::move(inner).error();
          argument = std::move(inner).value();
        }
        expression += "CAST((" + argument + ") AS VARCHAR)";
      }
      const std::size_t name = k >= first + 2 && t_.symbol(k - 1, '.') && t_.word(k - 2, "pg_catalog") ? k - 2 : k;
      out.append(sql_.substr(copied, t_.at(name) - copied));
      out += expression.empty() ? "''" : "concat(" + expression + ")";
      copied = t_.end(end);
      k = end;
    }
    out.append(sql_.substr(copied, to - copied));
    return out;
  }

 private:
  static constexpr std::size_t npos = std::string::npos;
  std::string_view sql_;
  const Tokens& t_;
  std::vector<Parenthesis> parens_;
};

}  // namespace

Result<std::string> postgres_format_calls(std::string_view sql) {
  if (!mentions(sql, kName)) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  return FormatCalls(sql, *tokens).emit(0, tokens->size(), 0, sql.size(), 0);
}

}  // namespace etl::pgwire
