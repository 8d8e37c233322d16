#include "pgwire/to_char.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "pgwire/sql_text.h"
#include "query/sql_guard.h"

namespace etl::pgwire {
namespace {

// Each computed part repeats the value's text once; a pattern of Q Q Q ... is bounded here.
constexpr std::size_t kMaxComputedParts = 16;
// How much longer the rewritten statement may be than the one sent: a value is repeated
// once per computed part, and the rewrites after this one tokenize what it writes.
constexpr std::size_t kMaxGrowth = 1 << 20;

Error unsupported(std::string_view what) {
  return make_error(Errc::invalid_argument,
                    "unsupported: to_char pattern " + std::string(what) +
                        " is not read by this endpoint (it reads YYYY YY IYYY MM DD DDD D ID Q IW HH24 HH12 HH MI SS MS "
                        "US AM PM, Month Mon Day Dy in any of PostgreSQL's three cases, the FM prefix, and text in "
                        "double quotes)");
}

// The parts of the expression, joined with ||: strftime runs over its pending format.
class Parts {
 public:
  explicit Parts(std::string_view value) : value_("(" + std::string(value) + ")") {}

  void literal(char c) { format_ += c == '%' ? "%%" : std::string(1, c); }
  void code(std::string_view c) { format_ += c; }
  // A computed part over the value: "CAST(quarter(%v) AS VARCHAR)" with %v the value.
  bool computed(std::string_view shape) {
    if (++computed_ > kMaxComputedParts) return false;
    flush();
    std::string e;
    for (std::size_t i = 0; i < shape.size(); ++i) {
      if (shape.compare(i, 2, "%v") == 0) {
        e += value_;
        ++i;
      } else {
        e += shape[i];
      }
    }
    parts_.push_back(std::move(e));
    return true;
  }
  // strftime over one code alone, as a computed part's %s (a padded or re-cased name).
  bool computed_code(std::string_view shape, std::string_view one_code) {
    std::string s(shape);
    const auto at = s.find("%s");
    s.replace(at, 2, "strftime(%v, '" + std::string(one_code) + "')");
    return computed(s);
  }

  std::string expression() {
    flush();
    if (parts_.empty()) return "CAST(NULL AS VARCHAR)";  // PostgreSQL: an empty pattern is NULL
    if (parts_.size() == 1) return parts_[0];
    std::string out = "(";
    for (std::size_t i = 0; i < parts_.size(); ++i) out += (i ? " || " : "") + parts_[i];
    return out + ")";
  }

 private:
  void flush() {
    if (format_.empty()) return;
    parts_.push_back("strftime(" + value_ + ", " + quote_literal(format_) + ")");
    format_.clear();
  }

  std::string value_;
  std::string format_;
  std::vector<std::string> parts_;
  std::size_t computed_ = 0;
};

bool upper_or_lower(std::string_view s, std::size_t i, std::string_view upper) {
  if (s.size() - i < upper.size()) return false;
  std::string lower(upper);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s.compare(i, upper.size(), upper) == 0 || s.compare(i, lower.size(), lower) == 0;
}

}  // namespace

Result<std::string> to_char_expression(std::string_view value, std::string_view pattern) {
  Parts parts(value);
  bool too_many = false;
  auto computed = [&](std::string_view shape) { too_many = too_many || !parts.computed(shape); };
  auto computed_code = [&](std::string_view shape, std::string_view code) {
    too_many = too_many || !parts.computed_code(shape, code);
  };
  for (std::size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '"') {  // quoted text, \" inside it a quote
      std::size_t j = i + 1;
      for (; j < pattern.size() && pattern[j] != '"'; ++j) {
        if (pattern[j] == '\\' && j + 1 < pattern.size() && pattern[j + 1] == '"') ++j;
        parts.literal(pattern[j]);
      }
      i = j + 1;
      continue;
    }
    if (c == '\\' && i + 1 < pattern.size() && pattern[i + 1] == '"') {
      parts.literal('"');
      i += 2;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c))) {
      parts.literal(c);
      ++i;
      continue;
    }
    const bool fm = upper_or_lower(pattern, i, "FM");
    const std::size_t p = fm ? i + 2 : i;
    auto is = [&](std::string_view upper) { return upper_or_lower(pattern, p, upper); };
    auto exactly = [&](std::string_view form) { return pattern.compare(p, form.size(), form) == 0; };
    // A number pattern: its strftime code, and the code without zero padding for FM ("" when FM is not read).
    auto number = [&](std::size_t length, std::string_view code, std::string_view unpadded) -> Status {
      if (fm && unpadded.empty()) return unsupported("FM" + std::string(pattern.substr(p, length)));
      parts.code(fm ? unpadded : code);
      i = p + length;
      return {};
    };
    // A name: its case from the pattern's (MONTH, Month, month), blank-padded to `width` unless FM.
    auto name = [&](std::size_t length, std::string_view code, int width) {
      const std::string_view form = pattern.substr(p, length);
      const bool upper = std::isupper(static_cast<unsigned char>(form[1])) != 0;
      const bool lower = std::islower(static_cast<unsigned char>(form[0])) != 0;
      std::string shape = fm || width == 0 ? "%s" : "rpad(%s, " + std::to_string(width) + ", ' ')";
      if (upper) shape = "upper(" + shape + ")";
      if (lower) shape = "lower(" + shape + ")";
      if (shape == "%s") parts.code(code);
      else computed_code(shape, code);
      i = p + length;
    };
    Status read;
    if (exactly("MONTH") || exactly("Month") || exactly("month")) name(5, "%B", 9);
    else if (exactly("MON") || exactly("Mon") || exactly("mon")) name(3, "%b", 0);
    else if (exactly("DAY") || exactly("Day") || exactly("day")) name(3, "%A", 9);
    else if (exactly("DY") || exactly("Dy") || exactly("dy")) name(2, "%a", 0);
    else if (is("SSSS") || is("Y,YYY")) return unsupported(std::string(pattern.substr(p, is("SSSS") ? 4 : 5)));
    else if (is("HH24")) read = number(4, "%H", "%-H");
    else if (is("HH12")) read = number(4, "%I", "%-I");
    else if (is("HH")) read = number(2, "%I", "%-I");
    else if (is("MI")) read = number(2, "%M", "%-M");
    else if (is("SS")) read = number(2, "%S", "%-S");
    else if (is("MS")) read = number(2, "%g", "");
    else if (is("US")) read = number(2, "%f", "");
    else if (is("MM")) read = number(2, "%m", "%-m");
    else if (is("IYYY")) read = number(4, "%G", "");
    else if (is("YYYY")) {
      if (fm) {
        computed("CAST(year(%v) AS VARCHAR)");
        i = p + 4;
      } else {
        read = number(4, "%Y", "");
      }
    } else if (is("YY")) read = number(2, "%y", "%-y");
    else if (is("DDD")) read = number(3, "%j", "%-j");
    else if (is("DD")) read = number(2, "%d", "%-d");
    else if (is("IW")) {
      if (fm) computed("CAST(week(%v) AS VARCHAR)");
      else parts.code("%V");
      i = p + 2;
    } else if (is("ID")) {
      computed("CAST(isodow(%v) AS VARCHAR)");
      i = p + 2;
    } else if (is("AM") || is("PM")) {
      if (std::islower(static_cast<unsigned char>(pattern[p]))) computed_code("lower(%s)", "%p");
      else parts.code("%p");
      i = p + 2;
    } else if (is("D") && !is("DY")) {
      computed("CAST(dayofweek(%v) + 1 AS VARCHAR)");  // PostgreSQL's D: Sunday is 1
      i = p + 1;
    } else if (is("Q")) {
      computed("CAST(quarter(%v) AS VARCHAR)");
      i = p + 1;
    } else {
      // A letter that is none of these: a pattern of PostgreSQL's not read here (TH, J, W, WW, CC,
      // RM, TZ, BC ...) or text it wants in quotes. Named with the letters that follow.
      std::size_t end = p;
      while (end < pattern.size() && end < p + 4 && std::isalpha(static_cast<unsigned char>(pattern[end]))) ++end;
      return unsupported("\"" + std::string(pattern.substr(i, std::max(end, p + 1) - i)) + "\"");
    }
    if (!read.ok()) return std::move(read).error();
    if (too_many)
      return make_error(Errc::invalid_argument, "unsupported: a to_char pattern with more than " +
                                                    std::to_string(kMaxComputedParts) +
                                                    " of Q, D, ID, FMIW, FMYYYY, padded or re-cased names and am/pm");
  }
  return parts.expression();
}

Result<std::string> to_char_as_strftime(std::string_view sql) {
  const std::string_view word = "to_char";
  if (!mentions(sql, word)) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const Tokens& t = *tokens;
  constexpr std::size_t npos = std::string::npos;
  const std::vector<Parenthesis> parens = parentheses(t);
  // A running count of to_char words, so a call's value is checked for another in O(1).
  std::vector<std::size_t> calls_before(t.size() + 1, 0);
  for (std::size_t k = 0; k < t.size(); ++k) calls_before[k + 1] = calls_before[k] + (t.word(k, word) ? 1 : 0);
  Splice out(sql);
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    if (!t.word(k, word) || !t.symbol(k + 1, '(') || t.at(k) < out.copied()) continue;
    const Parenthesis& call = parens[k + 1];
    // to_char(<value>, '<pattern>'): two arguments, the second one string literal.
    if (call.close == npos || call.commas != 1 || call.comma == k + 2 || call.close != call.comma + 2 ||
        !t.is(call.comma + 1, cataloger::TokenKind::string))
      continue;
    if (calls_before[call.comma] - calls_before[k + 1] > 0) continue;  // its value holds another to_char
    const std::size_t from = k >= 2 && t.symbol(k - 1, '.') && t.word(k - 2, "pg_catalog") ? k - 2 : k;
    // From the value's first token to the end of its last (not to the comma: a `-- x` there would swallow the rest).
    const std::string_view value = sql.substr(t.at(k + 2), t.end(call.comma - 1) - t.at(k + 2));
    auto expression = to_char_expression(value, t[call.comma + 1].text);
    if (!expression) return std::move(expression).error();
    if (out.written() + (t.at(from) - out.copied()) + expression->size() > sql.size() + kMaxGrowth)
      return make_error(Errc::too_large, "the statement with its to_char() calls read is more than " +
                                             std::to_string(kMaxGrowth >> 20) +
                                             " MiB longer than the one sent: repeat a shorter value");
    out.replace(t.at(from), t.end(call.close), *expression);
  }
  return std::move(out).text();
}

}  // namespace etl::pgwire
