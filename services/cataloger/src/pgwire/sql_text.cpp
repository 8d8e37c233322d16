#include "pgwire/sql_text.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>

#include "etl/ascii.h"
#include "pgwire/binary_values.h"
#include "pgwire/param_types.h"
#include "pgwire/patterns.h"
#include "pgwire/to_char.h"
#include "pgwire/types.h"
#include "query/sql_guard.h"

namespace etl::pgwire {
namespace {

constexpr std::size_t npos = std::string_view::npos;

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; }

}  // namespace

std::size_t skip_special(std::string_view s, std::size_t i) {
  char c = s[i];
  if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
    auto nl = s.find('\n', i);
    return nl == npos ? s.size() : nl + 1;
  }
  if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
    int depth = 0;
    for (std::size_t j = i; j + 1 < s.size(); ++j) {
      if (s[j] == '/' && s[j + 1] == '*') ++depth, ++j;
      else if (s[j] == '*' && s[j + 1] == '/') {
        ++j;
        if (--depth == 0) return j + 1;
      }
    }
    return npos;
  }
  if (c == '\'' || c == '"') {
    bool escapes = c == '\'' && i > 0 && (s[i - 1] == 'e' || s[i - 1] == 'E') && (i < 2 || !ident_char(s[i - 2]));
    for (std::size_t j = i + 1; j < s.size(); ++j) {
      if (escapes && s[j] == '\\') {
        ++j;
        continue;
      }
      if (s[j] == c) {
        if (j + 1 < s.size() && s[j + 1] == c) {
          ++j;
          continue;
        }
        return j + 1;
      }
    }
    return npos;
  }
  if (c == '$' && (i == 0 || !ident_char(s[i - 1]))) {
    std::size_t j = i + 1;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
    if (j >= s.size() || s[j] != '$' || (j > i + 1 && std::isdigit(static_cast<unsigned char>(s[i + 1])))) return i;
    auto tag = s.substr(i, j - i + 1);
    auto close = s.find(tag, j + 1);
    return close == npos ? npos : close + tag.size();
  }
  return i;
}

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::size_t operator_end(const std::vector<cataloger::SqlToken>& t, std::size_t i, std::string_view chars) {
  std::size_t j = i + 1;
  while (j < t.size() && t[j].kind == cataloger::TokenKind::symbol && chars.find(t[j].text) != std::string_view::npos &&
         t[j].source.data() == t[j - 1].source.data() + t[j - 1].source.size())
    ++j;
  return j;
}

std::optional<Tokens> Tokens::of(std::string_view sql) {
  auto tokens = cataloger::tokenize_sql(sql);
  if (!tokens) return std::nullopt;
  return Tokens(sql, std::move(tokens).value());
}

std::vector<Parenthesis> parentheses(const Tokens& t) {
  std::vector<Parenthesis> parens(t.size());
  std::vector<std::size_t> open;  // '(' and '[' not closed yet, innermost last
  std::size_t open_brackets = 0;
  auto close = [&](char opening, std::size_t k) {
    // A bracket left open inside a parenthesis ends with it (and the other way round). Each
    // opening is passed over once at most: linear.
    const std::size_t of_kind = opening == '[' ? open_brackets : open.size() - open_brackets;
    if (of_kind == 0) return;
    while (!t.symbol(open.back(), opening)) {
      if (t.symbol(open.back(), '[')) --open_brackets;
      open.pop_back();
    }
    parens[open.back()].close = k;
    if (opening == '[') --open_brackets;
    open.pop_back();
  };
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t.symbol(k, '(') || t.symbol(k, '[')) {
      if (t.symbol(k, '[')) ++open_brackets;
      open.push_back(k);
    } else if (t.symbol(k, ')')) {
      close('(', k);
    } else if (t.symbol(k, ']')) {
      close('[', k);
    } else if (t.symbol(k, ',') && !open.empty()) {
      Parenthesis& p = parens[open.back()];
      if (p.commas++ == 0) p.comma = k;
    }
  }
  return parens;
}

std::vector<std::size_t> own_commas(const Tokens& t, const std::vector<Parenthesis>& parens, std::size_t open) {
  std::vector<std::size_t> commas;
  if (parens[open].commas == 0) return commas;
  commas.reserve(parens[open].commas);
  for (std::size_t k = parens[open].comma; k < parens[open].close; ++k) {
    if ((t.symbol(k, '(') || t.symbol(k, '[')) && parens[k].close != npos) k = parens[k].close;  // one inside it
    else if (t.symbol(k, ',')) commas.push_back(k);
  }
  return commas;
}

bool mentions(std::string_view sql, std::string_view lower) {
  // ASCII case folding by hand: std::tolower's locale lookup per byte made each scan ~3 ms per MiB.
  auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (lower.empty()) return true;
  if (sql.size() < lower.size()) return false;
  for (std::size_t i = 0, last = sql.size() - lower.size(); i <= last; ++i) {
    if (fold(sql[i]) != lower[0]) continue;
    std::size_t j = 1;
    while (j < lower.size() && fold(sql[i + j]) == lower[j]) ++j;
    if (j == lower.size()) return true;
  }
  return false;
}

namespace {

Error unterminated() {
  return make_error(Errc::invalid_argument, "unterminated quoted string, identifier, dollar quote or comment");
}

bool is_integer(std::string_view v) {
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) v.remove_prefix(1);
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool is_decimal(std::string_view v) {
  // [+-]digits[.digits][e[+-]digits] with at least one digit before the exponent
  std::size_t i = 0, digits = 0;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  if (i < v.size() && v[i] == '.') {
    ++i;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    std::size_t exp = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i, ++exp;
    if (exp == 0) return false;
  }
  return i == v.size();
}

Error bad_value(std::string_view type, std::string_view value) {
  std::string shown(value.substr(0, 64));
  return make_error(Errc::invalid_argument, "invalid input syntax for type " + std::string(type) + ": \"" + shown + "\"");
}

// PostgreSQL's words for a number its type cannot hold (22003): `value "x" is
// out of range for type integer` for integers, `"x" is out of range for type real` for floats.
constexpr std::string_view kOutOfRange = " is out of range for type ";
constexpr std::string_view kNumberTypes[] = {"smallint", "integer", "bigint", "oid", "real", "double precision"};

Error out_of_range(std::string_view type, std::string_view value, bool integer) {
  std::string shown(value.substr(0, 64));
  return make_error(Errc::invalid_argument,
                    (integer ? "value \"" : "\"") + shown + "\"" + std::string(kOutOfRange) + std::string(type));
}

// An integer type and the values PostgreSQL reads into it (an oid also takes
// an unsigned 32-bit value).
struct IntegerType {
  const char* name;
  std::int64_t min, max;
};

IntegerType integer_type(std::int32_t type_oid) {
  switch (type_oid) {
    case 21: return {"smallint", std::numeric_limits<std::int16_t>::min(), std::numeric_limits<std::int16_t>::max()};
    case 23: return {"integer", std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
    case 26: return {"oid", std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::uint32_t>::max()};
    default: return {"bigint", std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
  }
}

// An integer parameter (int2, int4, int8, oid): a sign and digits, within its
// type's range; bound as the number it is ("+007" is 7).
Result<std::string> integer_literal(std::int32_t type_oid, std::string_view v, std::string_view text) {
  const IntegerType type = integer_type(type_oid);
  if (!is_integer(v)) return bad_value(type.name, text);
  if (v.front() == '+') v.remove_prefix(1);
  std::int64_t n = 0;
  const auto read = std::from_chars(v.data(), v.data() + v.size(), n);
  if (read.ec != std::errc{} || n < type.min || n > type.max) return out_of_range(type.name, text, true);
  return std::to_string(n);
}

// Whether a decimal float4 / float8 parameter is in its type's range, as PostgreSQL
// reads it: past the largest value ("1e999") or rounding to 0 from non-zero
// digits ("1e-999") it is not; a subnormal is.
bool float_in_range(std::int32_t type_oid, std::string_view v) {
  if (v.front() == '+') v.remove_prefix(1);
  if (type_oid == 700) {
    float f = 0;
    return std::from_chars(v.data(), v.data() + v.size(), f).ec == std::errc{};
  }
  double d = 0;
  return std::from_chars(v.data(), v.data() + v.size(), d).ec == std::errc{};
}

// A date or timestamp parameter as PostgreSQL reads it in ISO form: "2024-01-31",
// "2024-01-31 10:00[:00[.5]]" with "T" or a space, a zone ("Z", "+01", "-05:30", "UTC")
// for timestamptz (ignored for timestamp), " BC" at the end; or infinity, -infinity, epoch. The text for DuckDB's
// CAST ("(BC)" is how it spells the era), or nullopt for anything else (trailing junk
// included: DuckDB would cut "2024-01-31junk" to the date).
std::optional<std::string> datetime_text(std::string_view v, bool time_allowed, bool zone_allowed) {
  if (v.size() > 64) return std::nullopt;  // no ISO form is longer; keeps the regex's work bounded
  std::string l = ascii_lower(trim_space(v));
  if (l == "infinity" || l == "-infinity" || l == "+infinity") return l == "+infinity" ? "infinity" : l;
  if (l == "epoch") return std::string(time_allowed ? "1970-01-01 00:00:00" : "1970-01-01");
  static const RE2 form(
      R"((\d{4,7}-\d{1,2}-\d{1,2})(?:[ t](\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)( ?(?:z|utc|gmt|[+-]\d{1,2}(?::?\d{2})?))?)?( bc| ad)?)");
  auto m = full_match(l, form);
  if (!m) return std::nullopt;
  // PostgreSQL's date drops a time part, and timestamp (without time zone) a zone.
  std::string out = m->str(1);
  if (m->matched(2) && time_allowed) out += " " + m->str(2) + (zone_allowed && m->matched(3) ? m->str(3) : "");
  if (m->matched(4) && m->str(4) == " bc") out += " (BC)";
  return out;
}


// The engine's name for the element type of an array parameter ("" for numeric: the
// list literal keeps each element's own precision).
const char* engine_element_type(std::int32_t element_oid) {
  switch (element_oid) {
    case 16: return "BOOLEAN";
    case 21: return "SMALLINT";
    case 23: return "INTEGER";
    case 20: case 26: return "BIGINT";  // int8, oid
    case 700: return "REAL";
    case 701: return "DOUBLE";
    case 1082: return "DATE";
    case 1114: return "TIMESTAMP";
    case 1184: return "TIMESTAMPTZ";
    case 1700: return "";
    default: return "VARCHAR";
  }
}

Result<std::string> array_param_literal(std::int32_t type_oid, std::string_view v, std::string_view text);

}  // namespace

std::string quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

Result<std::vector<std::string>> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < sql.size();) {
    auto end = skip_special(sql, i);
    if (end == npos) return unterminated();
    if (end != i) {
      i = end;
      continue;
    }
    if (sql[i] == ';') {
      auto stmt = trim_space(sql.substr(start, i - start));
      if (!stmt.empty()) out.emplace_back(stmt);
      start = i + 1;
    }
    ++i;
  }
  auto stmt = trim_space(sql.substr(start));
  if (!stmt.empty()) out.emplace_back(stmt);
  return out;
}

std::string normalize(std::string_view sql) {
  std::string out;
  auto space = [&] {
    if (!out.empty() && out.back() != ' ') out += ' ';
  };
  for (std::size_t i = 0; i < sql.size();) {
    auto end = skip_special(sql, i);
    if (end == npos) end = sql.size();
    if (end != i) {
      char c = sql[i];
      if (c == '-' || c == '/') space();
      else out.append(sql.substr(i, end - i));  // literals and quoted identifiers keep their case
      i = end;
      continue;
    }
    char c = sql[i++];
    if (std::isspace(static_cast<unsigned char>(c))) space();
    else out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

int parameter_count(std::string_view sql) {
  int highest = 0;
  for (std::size_t i = 0; i < sql.size();) {
    auto end = skip_special(sql, i);
    if (end == npos) return highest;
    if (end != i) {
      i = end;
      continue;
    }
    if (sql[i] == '$' && (i == 0 || !ident_char(sql[i - 1]))) {
      int n = 0;
      auto r = std::from_chars(sql.data() + i + 1, sql.data() + sql.size(), n);
      if (r.ec == std::errc{} && r.ptr != sql.data() + i + 1) {
        highest = std::max(highest, n);
        i = static_cast<std::size_t>(r.ptr - sql.data());
        continue;
      }
    }
    ++i;
  }
  return highest;
}

Result<std::string> param_literal(const Param& p) {
  if (!p.value) return std::string("NULL");
  std::string text;
  if (p.binary) {
    auto t = text_of_binary(p.type_oid, *p.value);
    if (!t) return std::move(t).error();
    text = std::move(*t);
  } else {
    text = *p.value;
  }
  if (text.find('\0') != std::string::npos) return bad_value("text", "<contains a NUL byte>");
  std::string_view v = trim_space(text);
  switch (p.type_oid) {
    case 20: case 21: case 23: case 26:  // int8 int2 int4 oid
      return integer_literal(p.type_oid, v, text);
    case 700: case 701: case 1700: {  // float4 float8 numeric
      const char* type = p.type_oid == 700 ? "real" : p.type_oid == 701 ? "double precision" : "numeric";
      if (is_decimal(v)) {
        if (p.type_oid != 1700 && !float_in_range(p.type_oid, v)) return out_of_range(type, text, false);
        return std::string(v);
      }
      std::string l = ascii_lower(v);
      if (l == "nan" || l == "infinity" || l == "-infinity" || l == "inf" || l == "-inf")
        return "CAST(" + quote_literal(l) + " AS DOUBLE)";
      return bad_value(type, text);
    }
    case 16: {  // bool
      std::string l = ascii_lower(v);
      if (l == "t" || l == "true" || l == "y" || l == "yes" || l == "on" || l == "1") return std::string("TRUE");
      if (l == "f" || l == "false" || l == "n" || l == "no" || l == "off" || l == "0") return std::string("FALSE");
      return bad_value("boolean", text);
    }
    case 1082:
    case 1114:
    case 1184: {
      const char* type = p.type_oid == 1082 ? "date" : p.type_oid == 1114 ? "timestamp" : "timestamp with time zone";
      auto checked = datetime_text(text, p.type_oid != 1082, p.type_oid == 1184);
      if (!checked) return bad_value(type, text);
      return "CAST(" + quote_literal(*checked) + (p.type_oid == 1082 ? " AS DATE)" : p.type_oid == 1114 ? " AS TIMESTAMP)" : " AS TIMESTAMPTZ)");
    }
    case 0: case 25: case 1043: case 1042: case 18: case 19: case 705: case 114: case 3802:
      return quote_literal(text);  // unknown, text, varchar, bpchar, char, name, unknown, json, jsonb
    case 1186: {  // interval: words, numbers and signs only; the engine reads PostgreSQL's forms ("1 day 02:00:00")
      static const RE2 interval(R"([0-9A-Za-z .:+-]{1,128})");
      if (!full_match(v, interval)) return bad_value("interval", text);
      if (v.front() == 'P' || v.front() == 'p') {  // ISO 8601 (P1DT2H), which PostgreSQL takes and the engine not
        auto parts = parse_iso_interval(v);
        if (!parts) return bad_value("interval", text);
        return "CAST('" + std::to_string(parts->months) + " months " + std::to_string(parts->days) + " days " +
               std::to_string(parts->micros) + " microseconds' AS INTERVAL)";
      }
      return "CAST(" + quote_literal(v) + " AS INTERVAL)";
    }
    case 2950: {  // uuid, as PostgreSQL takes it: 32 hex digits, hyphens between groups, in braces or not
      static const RE2 uuid(R"(\{?[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7}\}?)");
      if (!full_match(v, uuid) || (v.front() == '{') != (v.back() == '}')) return bad_value("uuid", text);
      return "CAST(" + quote_literal(v) + " AS UUID)";
    }
    default:
      if (array_element_oid(p.type_oid) != 0) return array_param_literal(p.type_oid, v, text);
      return make_error(Errc::invalid_argument,
                        "unsupported: parameters of type oid " + std::to_string(p.type_oid) +
                            " (declare them as text, numbers, booleans, dates, timestamps, intervals or uuids)");
  }
}

namespace {

// A one-dimensional array parameter ({1,2,NULL}, as text or made from its binary form)
// -> the engine's list literal, each element checked as a parameter of its type:
// CAST([1, 2, NULL] AS INTEGER[]).
Result<std::string> array_param_literal(std::int32_t type_oid, std::string_view v, std::string_view text) {
  const std::int32_t element = array_element_oid(type_oid);
  auto items = array_items(v);
  if (!items)  // PostgreSQL's words (22P02); nested arrays are refused alike
    return make_error(Errc::invalid_argument, "malformed array literal: \"" + std::string(text.substr(0, 64)) + "\"");
  std::string list = "[";
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto literal = param_literal(Param{(*items)[i], element, false});
    if (!literal) return std::move(literal).error();
    list += (i ? ", " : "") + *literal;
  }
  list += "]";
  const std::string type = engine_element_type(element);
  return type.empty() ? list : "CAST(" + list + " AS " + type + "[])";
}

}  // namespace

namespace {

// ANY, SOME and ALL over an array literal (any_array_literals_as_lists, sql_text.h).
std::string any_all_array_literals(std::string_view sql) {
  std::string out;
  std::size_t copied = 0;
  auto skip_spaces = [&](std::size_t i) {
    while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
    return i;
  };
  for (std::size_t i = 0; i < sql.size();) {
    auto end = skip_special(sql, i);
    if (end == npos) return std::string(sql);
    if (end != i) {
      i = end;
      continue;
    }
    std::string_view found;  // ANY, SOME or ALL ( '{...}' [::type[]] )
    if (i == 0 || !ident_char(sql[i - 1]))
      for (std::string_view w : {"any", "some", "all"})
        if (i + w.size() <= sql.size() && ascii_lower(sql.substr(i, w.size())) == w &&
            (i + w.size() == sql.size() || !ident_char(sql[i + w.size()])))
          found = w;
    if (found.empty()) {
      ++i;
      continue;
    }
    const std::size_t word = found.size();
    const bool all = found == "all";
    std::size_t at = skip_spaces(i + word);
    if (at >= sql.size() || sql[at] != '(') {
      i += word;
      continue;
    }
    const std::size_t literal = skip_spaces(at + 1);
    const std::size_t literal_end = literal < sql.size() && sql[literal] == '\'' ? skip_special(sql, literal) : literal;
    if (literal_end == literal || literal_end == npos || sql.substr(literal, 2) != "'{") {
      i += word;
      continue;
    }
    std::string value;  // the literal's text, '' undoubled
    for (std::size_t k = literal + 1; k + 1 < literal_end; ++k) {
      value += sql[k];
      if (sql[k] == '\'') ++k;
    }
    std::size_t close = skip_spaces(literal_end);
    std::int32_t type = oid::text_array;
    const bool typed = sql.substr(close, 2) == "::";
    if (typed) {
      std::size_t name_end = close + 2;  // a type's name: 64 characters at most, so every ANY is read once
      while (name_end < sql.size() && name_end < close + 66 && sql[name_end] != ')') ++name_end;
      std::string name = ascii_lower(trim_space(sql.substr(close + 2, name_end - close - 2)));
      if (auto bracket = name.find('['); bracket != std::string::npos)  // text [] -> text[]
        name = std::string(trim_space(name.substr(0, bracket))) + name.substr(bracket);
      type = type_oid_of_name(name);
      close = name_end;
      while (close > literal_end && std::isspace(static_cast<unsigned char>(sql[close - 1]))) --close;  // keep the spaces
    }
    if (skip_spaces(close) >= sql.size() || sql[skip_spaces(close)] != ')' || array_element_oid(type) == 0) {
      i += word;
      continue;
    }
    // `x = ANY('{1,2}')` with no type: PostgreSQL gives the array x's type. The engine types a
    // list at once (['1', '2'] is VARCHAR[], which an integer x cannot be compared with), but
    // reads the items of `x IN ('1', '2')` as x's type, so that is the form it gets, and
    // `x <> ALL('{1,2}')` is `x NOT IN ('1', '2')` ('{}' is [], of no type).
    std::size_t op_end = i;
    while (op_end > copied && std::isspace(static_cast<unsigned char>(sql[op_end - 1]))) --op_end;
    std::size_t op = op_end;
    while (op > copied && std::string_view("<>=!").find(sql[op - 1]) != npos) --op;
    const std::string_view op_text = sql.substr(op, op_end - op);
    const bool in = !typed && ((!all && op_text == "=") || (all && (op_text == "<>" || op_text == "!=")));
    if (auto items = in ? array_items(value) : std::nullopt; items && items->empty()) {
      out.append(sql.substr(copied, literal - copied));
      out += "[]";
      copied = close;
      i = close;
      continue;
    } else if (items) {
      const bool spaced = op > copied && std::isspace(static_cast<unsigned char>(sql[op - 1]));
      std::string list = std::string(spaced ? "" : " ") + (all ? "NOT IN (" : "IN (");
      for (std::size_t k = 0; k < items->size(); ++k)
        list += (k ? ", " : "") + ((*items)[k] ? quote_literal(*(*items)[k]) : std::string("NULL"));
      out.append(sql.substr(copied, op - copied));
      out += list + ")";
      copied = skip_spaces(close) + 1;
      i = copied;
      continue;
    }
    auto list = array_param_literal(type, value, value);
    if (!list) {  // not an array the engine's list can hold: the engine says what is wrong
      i += word;
      continue;
    }
    out.append(sql.substr(copied, literal - copied));
    out += *list;
    copied = close;
    i = close;
  }
  if (copied == 0) return std::string(sql);
  out.append(sql.substr(copied));
  return out;
}

// The other places of PostgreSQL's array literal, once ANY's and ALL's are read: a literal
// cast to an array type (`'{1,2}'::int[]`, `CAST('{a}' AS text[])`) and an operand of the
// array operators `@>` `<@` `&&` (`artist_ids @> '{x}'`, whose type PostgreSQL takes from
// the other side: the lake's lists are VARCHAR[]) become the engine's list, which reads
// only its own text ('[1, 2]') as a list.
std::string cast_array_literals(std::string_view sql) {
  if (sql.find("'{") == std::string_view::npos) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);
  const Tokens& t = *tokens;
  auto array_operator = [&](std::size_t k) {  // the symbols of @> <@ && starting at k
    if (k + 1 >= t.size() || !t.is(k, cataloger::TokenKind::symbol) || operator_end(t.all(), k, "@<>&") != k + 2)
      return false;
    const std::string op = t[k].text + t[k + 1].text;
    return op == "@>" || op == "<@" || op == "&&";
  };
  Splice out(sql);
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (!t.is(k, cataloger::TokenKind::string) || t[k].source.empty() || t[k].source.front() != '\'' ||
        !t[k].text.starts_with("{"))
      continue;
    std::int32_t type = 0;
    std::size_t name = k + 1;  // `'{...}'::type[]`, or CAST('{...}' AS type[])
    if (t.symbol(k + 1, ':') && t.symbol(k + 2, ':')) name = k + 3;
    else if (t.word(k + 1, "as") && k >= 2 && t.symbol(k - 1, '(') && t.word(k - 2, "cast")) name = k + 2;
    if (name != k + 1) {
      std::string written;
      std::size_t j = name;
      for (; t.is(j, cataloger::TokenKind::word) && j < name + 4; ++j) written += (written.empty() ? "" : " ") + t[j].text;
      if (t.symbol(j, '[') && t.symbol(j + 1, ']')) type = type_oid_of_name(written + "[]");
    } else if ((k >= 2 && array_operator(k - 2)) || array_operator(k + 1)) {
      type = oid::text_array;
    }
    if (type == 0 || array_element_oid(type) == 0) continue;
    auto list = array_param_literal(type, t[k].text, t[k].text);
    if (!list) continue;  // not an array the engine's list can hold: the engine says what is wrong
    out.replace(t.at(k), t.end(k), *list);
  }
  return std::move(out).text();
}

}  // namespace

std::string any_array_literals_as_lists(std::string_view sql) { return cast_array_literals(any_all_array_literals(sql)); }

namespace {

// The engine's type for PostgreSQL's numeric of a literal's text: DECIMAL(w,s) of
// its digits ("-012.340" -> DECIMAL(5,3)), or DOUBLE when it is not a plain decimal
// or has more digits than the engine's 38.
std::string numeric_type_of_literal(std::string_view v) {
  v = trim_space(v);
  if (!v.empty() && (v[0] == '+' || v[0] == '-')) v.remove_prefix(1);
  const std::size_t dot = v.find('.');
  std::string_view whole = v.substr(0, dot), fraction = dot == npos ? std::string_view() : v.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
  };
  if ((whole.empty() && fraction.empty()) || !digits(whole) || !digits(fraction)) return "DOUBLE";
  while (whole.size() > 1 && whole.front() == '0') whole.remove_prefix(1);
  const std::size_t width = std::max<std::size_t>(whole.size(), 1) + fraction.size();
  if (width > 38) return "DOUBLE";
  return "DECIMAL(" + std::to_string(width) + "," + std::to_string(fraction.size()) + ")";
}

}  // namespace

std::string unconstrained_numerics_as_engine_types(std::string_view sql) {
  // Most statements name none of these types: a scan each, and no tokens.
  if (!mentions(sql, "numeric") && !mentions(sql, "decimal") && !mentions(sql, "float") && !mentions(sql, "jsonb"))
    return std::string(sql);
  // The engine gate's tokens: strings (their content), numbers, words (lower-cased), symbols; no comments.
  using cataloger::TokenKind;
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const Tokens& t = *tokens;
  // A literal's text when tokens [from, to) are one number or string, or a sign and a number; "" otherwise.
  auto literal = [&](std::size_t from, std::size_t to) -> std::string {
    if (to == from + 1 && (t.is(from, TokenKind::number) || t.is(from, TokenKind::string))) return t[from].text;
    if (to == from + 2 && (t.symbol(from, '-') || t.symbol(from, '+')) && t.is(from + 1, TokenKind::number))
      return t[from].text + t[from + 1].text;
    return "";
  };
  // Open CAST( parentheses, innermost last: their depth and their operand's first token.
  // Bounded: past 64 open casts the deeper ones are not read (their numerics stay).
  struct OpenCast {
    int depth;
    std::size_t operand;
  };
  std::vector<OpenCast> casts;
  int depth = 0;
  Splice out(sql);
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (t.symbol(k, '(')) {
      ++depth;
      if (k > 0 && (t.word(k - 1, "cast") || t.word(k - 1, "try_cast")) && casts.size() < 64) casts.push_back({depth, k + 1});
      continue;
    }
    if (t.symbol(k, ')')) {
      if (!casts.empty() && casts.back().depth == depth) casts.pop_back();
      --depth;
      continue;
    }
    const bool is_float = t.word(k, "float"), is_jsonb = t.word(k, "jsonb");
    if (!(t.word(k, "numeric") || t.word(k, "decimal") || is_float || is_jsonb) || t.symbol(k + 1, '('))
      continue;  // no type, or a precision
    const std::size_t name = k >= 2 && t.symbol(k - 1, '.') && t.word(k - 2, "pg_catalog") ? k - 2 : k;
    std::optional<std::string> value;  // the operand's literal text ("" for none): the word is a cast's type
    if (name >= 2 && t.symbol(name - 1, ':') && t.symbol(name - 2, ':') && t.at(name - 1) == t.at(name - 2) + 1)
      value = name >= 3 ? literal(name - 3, name - 2) : "";
    else if (name >= 1 && t.word(name - 1, "as") && !casts.empty() && casts.back().depth == depth)
      value = literal(casts.back().operand, name - 1);
    if (!value) continue;
    // PostgreSQL's float is float8; the engine's FLOAT is float4. Its jsonb is the engine's JSON.
    out.replace(t.at(name), t.end(k), is_float ? "DOUBLE" : is_jsonb ? "JSON" : numeric_type_of_literal(*value));
  }
  return std::move(out).text();
}

std::string round_arguments_as_numeric(std::string_view sql) {
  if (!mentions(sql, "round")) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);  // unterminated: the engine says what is wrong
  const Tokens& t = *tokens;
  const std::vector<Parenthesis> parens = parentheses(t);
  // "CAST((" before each first argument and ") AS DECIMAL(38,s))" after it: insertions, in order.
  std::vector<std::pair<std::size_t, std::string>> inserts;
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    if (!t.word(k, "round") || !t.symbol(k + 1, '(')) continue;
    const Parenthesis& call = parens[k + 1];
    // round(<value>, <n>): n an integer literal (a sign and a number: two tokens), or one cast to
    // an integer type (`$1::int` bound), nothing after it.
    if (call.close == npos || call.comma == npos || call.comma == k + 2) continue;
    const bool sign = t.symbol(call.comma + 1, '-') || t.symbol(call.comma + 1, '+');
    const std::size_t digits_at = call.comma + 1 + (sign ? 1 : 0);
    // Not int8 or bigint: the engine's round() of a DECIMAL takes an INTEGER precision only.
    static constexpr std::array<std::string_view, 5> kIntegerTypes = {"int", "integer", "int2", "int4", "smallint"};
    const bool cast = t.symbol(digits_at + 1, ':') && t.symbol(digits_at + 2, ':') &&
                      std::find(kIntegerTypes.begin(), kIntegerTypes.end(), t.word_at(digits_at + 3)) != kIntegerTypes.end();
    if (call.close != digits_at + (cast ? 4 : 1) || !t.is(digits_at, cataloger::TokenKind::number)) continue;
    const std::string& digits = t[digits_at].text;
    if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const int n = t.symbol(call.comma + 1, '-') ? -std::stoi(digits) : std::stoi(digits);
    // Ten decimals take a DOUBLE's binary noise away; more when more are asked for, up to 15
    // (the engine's cast of a DOUBLE to more decimals makes up the digits past its 17th). The
    // sample parameters a Describe binds (0) and the values an Execute binds take the
    // same path, so the two agree on the column's type.
    inserts.emplace_back(t.at(k + 2), "CAST((");
    inserts.emplace_back(t.end(call.comma - 1), ") AS DECIMAL(38," + std::to_string(std::clamp(n, 10, 15)) + "))");
  }
  std::sort(inserts.begin(), inserts.end());  // nested calls: in the order of the text
  Splice out(sql);
  for (const auto& [where, what] : inserts) out.replace(where, where, what);
  return std::move(out).text();
}

bool bindable_type(std::int32_t type_oid) {
  switch (type_oid) {
    case 0: case 16: case 18: case 19: case 20: case 21: case 23: case 25: case 26: case 114: case 700: case 701:
    case 705: case 1042: case 1043: case 1082: case 1114: case 1184: case 1186: case 1700: case 2950: case 3802:
      return true;
    default:
      return array_element_oid(type_oid) != 0;
  }
}

std::string bind_error_state(const Error& error) {
  const std::string& m = error.message;
  if (error.code == Errc::too_large) return "54000";
  if (m.rfind("unsupported", 0) == 0) return "0A000";
  // The value shown comes before kOutOfRange, so only the end tells.
  for (std::string_view type : kNumberTypes)
    if (m.ends_with(std::string(kOutOfRange) + std::string(type))) return "22003";
  if (m.rfind("invalid input syntax for type date", 0) == 0 || m.rfind("invalid input syntax for type timestamp", 0) == 0)
    return "22007";
  if (m.rfind(kMalformedBinary, 0) == 0) return "22P03";  // invalid_binary_representation, as PostgreSQL
  return "22P02";
}

Result<std::string> bind_parameters(std::string_view sql, const std::vector<Param>& params, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(max_bytes, sql.size() + 16 * params.size()));
  std::vector<std::optional<std::string>> literals(params.size());  // each made once, however often it is referenced
  auto too_long = [max_bytes] {
    return make_error(Errc::too_large, "the statement with its parameters bound is longer than " + std::to_string(max_bytes) + " bytes");
  };
  for (std::size_t i = 0; i < sql.size();) {
    auto end = skip_special(sql, i);
    if (end == npos) return unterminated();
    if (end != i) {
      out.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (sql[i] == '$' && (i == 0 || !ident_char(sql[i - 1]))) {
      int n = 0;
      auto r = std::from_chars(sql.data() + i + 1, sql.data() + sql.size(), n);
      if (r.ec == std::errc{} && r.ptr != sql.data() + i + 1) {
        if (n < 1 || static_cast<std::size_t>(n) > params.size())
          return make_error(Errc::invalid_argument, "there is no parameter $" + std::to_string(n));
        auto& literal = literals[static_cast<std::size_t>(n - 1)];
        if (!literal) {
          auto made = param_literal(params[static_cast<std::size_t>(n - 1)]);
          if (!made) return std::move(made).error();
          literal = std::move(made).value();
        }
        // A parameter referenced many times is copied as many times: bounded, so a
        // small Bind cannot build a statement of gigabytes.
        if (out.size() + literal->size() + 2 > max_bytes) return too_long();
        // Spaces keep a literal from gluing onto a neighbouring token ("-$1" with -5 -> "- -5").
        out += ' ';
        out += *literal;
        out += ' ';
        i = static_cast<std::size_t>(r.ptr - sql.data());
        continue;
      }
    }
    out += sql[i++];
  }
  if (out.size() > max_bytes) return too_long();
  return out;
}

namespace {

// The strftime format (quoted) to_char writes a pattern with, when it is one strftime call;
// nullopt when to_char would join other parts to it or refuses the pattern.
std::optional<std::string> strftime_format(std::string_view pattern) {
  constexpr std::string_view kValue = "\x01";
  auto expression = to_char_expression(kValue, pattern);
  if (!expression) return std::nullopt;
  const std::string prefix = "strftime((" + std::string(kValue) + "), ";
  const std::string& e = *expression;
  if (!e.starts_with(prefix) || !e.ends_with("')") || e.find("strftime(", 1) != std::string::npos) return std::nullopt;
  return e.substr(prefix.size(), e.size() - prefix.size() - 1);
}

// PostgreSQL's width_bucket() over __pg_v = [x, low, high, count] (DOUBLEs): NULL when one is
// NULL, its two errors, 0 below the range, count + 1 above it, else the bucket (the last when
// the quotient rounds to count), for a rising or a falling range.
constexpr const char* kWidthBucket =
    "CASE WHEN __pg_v[1] IS NULL OR __pg_v[2] IS NULL OR __pg_v[3] IS NULL OR __pg_v[4] IS NULL THEN NULL "
    "WHEN __pg_v[4] <= 0 THEN error('count must be greater than zero') "
    "WHEN __pg_v[2] = __pg_v[3] THEN error('lower bound cannot equal upper bound') "
    "WHEN __pg_v[2] < __pg_v[3] THEN CASE WHEN __pg_v[1] < __pg_v[2] THEN 0 WHEN __pg_v[1] >= __pg_v[3] "
    "THEN __pg_v[4] + 1 ELSE least(floor(__pg_v[4] * (__pg_v[1] - __pg_v[2]) / (__pg_v[3] - __pg_v[2])), "
    "__pg_v[4] - 1) + 1 END "
    "ELSE CASE WHEN __pg_v[1] > __pg_v[2] THEN 0 WHEN __pg_v[1] <= __pg_v[3] THEN __pg_v[4] + 1 "
    "ELSE least(floor(__pg_v[4] * (__pg_v[2] - __pg_v[1]) / (__pg_v[2] - __pg_v[3])), __pg_v[4] - 1) + 1 END END";

}  // namespace

std::string postgres_functions_as_duckdb(std::string_view sql) {
  static constexpr std::array<std::string_view, 43> kNames = {
      "every",     "date_bin",        "regexp_like",         "regexp_count",          "json_build_object",
      "jsonb_build_object", "json_agg", "jsonb_agg",         "div",                   "lpad",
      "rpad",      "clock_timestamp", "statement_timestamp", "transaction_timestamp", "btrim",
      "jsonb_array_length", "json_extract_path", "jsonb_extract_path", "json_extract_path_text",
      "jsonb_extract_path_text", "json_build_array", "jsonb_build_array", "json_object_agg", "jsonb_object_agg",
      "to_jsonb",  "array_to_json",   "cardinality",         "string_to_table",       "array_remove",
      "initcap",   "width_bucket",    "to_hex",              "array_upper",           "array_lower",
      "substr",    "substring",       "to_date",             "to_timestamp",
      "json_typeof", "jsonb_typeof",  "num_nulls",           "num_nonnulls",          "date_trunc"};
  // One pass over the statement's words (a scan per name was 0.1 s for 1 MiB).
  auto named = [&] {
    std::string word;
    for (std::size_t i = 0; i <= sql.size(); ++i) {
      if (i < sql.size() && ident_char(sql[i])) {
        if (word.size() < 32) word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i])));
        continue;
      }
      if (!word.empty() && std::find(kNames.begin(), kNames.end(), word) != kNames.end()) return true;
      word.clear();
    }
    return false;
  };
  if (!named()) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);
  const Tokens& t = *tokens;
  const std::vector<Parenthesis> parens = parentheses(t);
  // At one place, what follows a token's end goes before what precedes the next token
  // (`lpad(x, regexp_count(s, p))`: the inner call's `)`, then the outer one's `, ' '`).
  struct Edit {
    std::size_t from, to;
    int side;  // 0: after the token before, 1: before the token after (or a replacement)
    std::string with;
  };
  std::vector<Edit> edits;
  auto after = [&](std::size_t token, std::string what) {
    edits.push_back({t.end(token), t.end(token), 0, std::move(what)});
  };
  auto before = [&](std::size_t token, std::string what) {
    edits.push_back({t.at(token), t.at(token), 1, std::move(what)});
  };
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    const std::string_view name = t.word_at(k);
    if (name.empty() || !t.symbol(k + 1, '(')) continue;
    if (std::find(kNames.begin(), kNames.end(), name) == kNames.end()) continue;
    const Parenthesis& p = parens[k + 1];
    if (p.close == npos) continue;
    if (k >= 1 && t.symbol(k - 1, '.') && !(k >= 2 && t.word(k - 2, "pg_catalog"))) continue;  // another schema's
    const std::size_t from = k >= 2 && t.symbol(k - 1, '.') ? t.at(k - 2) : t.at(k);
    auto rename = [&](std::string with) { edits.push_back({from, t.end(k), 1, std::move(with)}); };
    if (name == "date_trunc") {
      // PostgreSQL's of a timestamp is a timestamp, the engine's a DATE for a day or longer:
      // adding no time makes a DATE a timestamp and leaves the other types as they are.
      edits.push_back({from, from, 1, "("});
      after(p.close, " + INTERVAL 0 DAY)");
    } else if (name == "every") {
      rename("bool_and");
    } else if (name == "btrim") {  // btrim(s[, characters])
      rename("trim");
    } else if (name == "jsonb_array_length") {  // jsonb is json here; an integer, as in PostgreSQL
      rename("CAST(json_array_length");
      after(p.close, " AS INTEGER)");
    } else if (name.ends_with("_extract_path") || name.ends_with("_extract_path_text")) {
      // json_extract_path(j, 'a', 'b') takes keys as arguments, the engine's a path: as
      // ((j) -> ('a') -> ('b')), the last ->> for _text. Only quoted keys that are no
      // number: PostgreSQL reads '1' as a position in an array, the engine's -> as a key.
      if (p.commas == 0) continue;
      const std::vector<std::size_t> commas = own_commas(t, parens, k + 1);
      bool keys = true;
      for (std::size_t i = 0; i < commas.size() && keys; ++i) {
        const std::size_t key = commas[i] + 1, next = i + 1 < commas.size() ? commas[i + 1] : p.close;
        keys = next == key + 1 && t.is(key, cataloger::TokenKind::string) &&
               !std::all_of(t[key].text.begin(), t[key].text.end(), [](char d) { return d >= '0' && d <= '9'; });
      }
      if (!keys) {
        if (name.starts_with("jsonb_")) rename("json" + std::string(name.substr(5)));
        continue;
      }
      edits.push_back({from, t.end(k + 1), 1, "(("});
      for (std::size_t c : commas)
        edits.push_back({t.at(c), t.end(c), 1, c == commas.back() && name.ends_with("_text") ? ") ->> (" : ") -> ("});
      before(p.close, ")");
    } else if (name == "regexp_like") {
      rename("regexp_matches");
    } else if (name == "json_build_object" || name == "jsonb_build_object") {
      rename("json_object");
    } else if (name == "json_build_array" || name == "jsonb_build_array") {
      rename("json_array");
    } else if (name == "json_object_agg" || name == "jsonb_object_agg") {
      rename("json_group_object");
    } else if (name == "to_jsonb" || name == "array_to_json") {
      if (p.commas == 0) rename("to_json");
    } else if (name == "clock_timestamp" || name == "statement_timestamp" || name == "transaction_timestamp") {
      // the statement's time, as now() is
      if (p.close == k + 2) rename("now");
    } else if (name == "json_agg" || name == "jsonb_agg") {
      // to_json(list(x ORDER BY y) FILTER (...) OVER (...)): the aggregate keeps its tail.
      std::size_t end = p.close;
      if (t.word(end + 1, "filter") && t.symbol(end + 2, '(')) end = parens[end + 2].close;
      if (end != npos && t.word(end + 1, "over")) {
        if (t.symbol(end + 2, '(')) end = parens[end + 2].close;
        else if (t.is(end + 2, cataloger::TokenKind::word)) end += 2;  // a named window
      }
      if (end == npos) continue;
      rename("to_json(list");
      after(end, ")");
    } else if (p.commas == 1 && name == "regexp_count") {  // regexp_count(s, p), an integer
      rename("CAST(len(regexp_extract_all");
      after(p.close, ") AS INTEGER)");
    } else if (p.commas == 0 && name == "cardinality") {  // of an array: its items, an integer
      rename("CAST(len");
      after(p.close, " AS INTEGER)");
    } else if (p.commas == 1 && name == "string_to_table") {  // a row per part
      rename("unnest(string_split");
      after(p.close, ")");
    } else if (p.commas == 1 && name == "array_remove") {  // the items other than x (NULL too)
      rename("list_filter");
      edits.push_back({t.at(p.comma), t.end(p.comma), 1, ", lambda __pg_item: __pg_item IS DISTINCT FROM ("});
      before(p.close, ")");
    } else if (p.commas == 0 && name == "initcap") {
      // Each run of letters and digits with its first upper-case and the rest lower-case;
      // `^$` keeps '' as '' (no runs would join to NULL).
      rename("array_to_string(list_transform(regexp_extract_all");
      before(p.close, R"(, '[\pL\pN]+|[^\pL\pN]+|^$')");
      after(p.close, ", lambda __pg_word: upper(__pg_word[1]) || lower(__pg_word[2:])), '')");
    } else if (p.commas == 3 && name == "width_bucket") {
      // width_bucket(x, low, high, count): its four values bound once, as a list a lambda
      // reads (each is read up to four times), and PostgreSQL's rules and errors.
      const std::vector<std::size_t> commas = own_commas(t, parens, k + 1);
      edits.push_back({from, t.end(k + 1), 1, "CAST(list_transform([[CAST(("});
      for (std::size_t c : commas) edits.push_back({t.at(c), t.end(c), 1, ") AS DOUBLE), CAST(("});
      edits.push_back({t.at(p.close), t.end(p.close), 1, std::string(") AS DOUBLE)]], lambda __pg_v: ") +
                       kWidthBucket + ")[1] AS INTEGER)"});
    } else if (p.commas == 0 && name == "to_hex") {  // in lower case, as PostgreSQL writes it
      rename("lower(to_hex");
      after(p.close, ")");
    } else if (p.commas == 1 && (name == "array_upper" || name == "array_lower") && p.comma + 2 == p.close &&
               t.is(p.comma + 1, cataloger::TokenKind::number) && t[p.comma + 1].text == "1") {
      // Of the first dimension: the last and first positions, NULL for an empty array.
      const bool upper = name == "array_upper";
      rename(upper ? "CAST(nullif(len" : "CAST(CASE WHEN len");
      edits.push_back({t.at(p.comma), t.end(p.close), 1, upper ? "), 0) AS INTEGER)" : ") > 0 THEN 1 END AS INTEGER)"});
    } else if ((p.commas == 1 || p.commas == 2) && (name == "substr" || name == "substring")) {
      // A start before the first character counts from it in PostgreSQL ('abc' from -1 for 3 is
      // 'a'), from the end in the engine ('c'): without a length, greatest(start, 1); with one,
      // a literal start s < 1 is 1 and the length shortened by 1 - s. Another start is left.
      const std::vector<std::size_t> commas = own_commas(t, parens, k + 1);
      const std::size_t start = commas[0] + 1, start_end = commas.size() == 2 ? commas[1] : p.close;
      if (start == start_end) continue;
      if (commas.size() == 1) {
        before(start, "greatest((");
        before(start_end, "), 1)");
        continue;
      }
      if (!(start_end == start + 2 && t.symbol(start, '-') && t.is(start + 1, cataloger::TokenKind::number)))
        continue;
      const std::string& digits = t[start + 1].text;
      if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char d) { return d >= '0' && d <= '9'; }))
        continue;
      edits.push_back({t.at(start), t.end(start + 1), 1, "1"});
      after(commas[1], " greatest((");
      before(p.close, ") - " + std::to_string(std::stoll(digits) + 1) + ", 0)");
    } else if (p.commas == 1 && (name == "to_date" || name == "to_timestamp") && p.comma + 2 == p.close &&
               t.is(p.comma + 1, cataloger::TokenKind::string)) {
      // to_date(text, 'YYYY-MM-DD') parses by the pattern to_char would write with: strptime
      // with the same codes, when to_char's is one strftime (not a padded name, Q, D ...).
      if (auto format = strftime_format(t[p.comma + 1].text)) {
        rename("CAST(strptime");
        edits.push_back({t.at(p.comma + 1), t.end(p.comma + 1), 1, *format});
        after(p.close, name == "to_date" ? " AS DATE)" : " AS TIMESTAMPTZ)");
      }
    } else if (p.commas == 0 && (name == "json_typeof" || name == "jsonb_typeof")) {
      // The engine's json_type() names its types (OBJECT, VARCHAR, UBIGINT ...): PostgreSQL's
      // six words for them, NULL for NULL.
      rename("CASE json_type");
      after(p.close, " WHEN 'OBJECT' THEN 'object' WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string' "
                     "WHEN 'BOOLEAN' THEN 'boolean' WHEN 'NULL' THEN 'null' WHEN 'BIGINT' THEN 'number' "
                     "WHEN 'UBIGINT' THEN 'number' WHEN 'DOUBLE' THEN 'number' WHEN 'HUGEINT' THEN 'number' END");
    } else if (p.close > k + 2 && (name == "num_nulls" || name == "num_nonnulls")) {
      // How many arguments are NULL (or not): a sum of CASEs, each argument read once.
      const std::string each = name == "num_nulls" ? ") IS NULL THEN 1 ELSE 0 END" : ") IS NULL THEN 0 ELSE 1 END";
      edits.push_back({from, t.end(k + 1), 1, "CAST((CASE WHEN ("});
      for (std::size_t c : own_commas(t, parens, k + 1))
        edits.push_back({t.at(c), t.end(c), 1, each + " + CASE WHEN ("});
      edits.push_back({t.at(p.close), t.end(p.close), 1, each + ") AS INTEGER)"});
    } else if (p.commas == 1 && name == "div") {  // div(a, b): a / b truncated
      edits.push_back({from, t.end(k + 1), 1, "trunc(("});
      edits.push_back({t.at(p.comma), t.end(p.comma), 1, ") / ("});
      before(p.close, ")");
    } else if (p.commas == 1 && (name == "lpad" || name == "rpad")) {  // padded with spaces
      before(p.close, ", ' '");
    } else if (p.commas == 2 && name == "date_bin") {
      // date_bin(stride, source, origin) is time_bucket's; a quoted stride or origin is
      // an interval and a timestamp, as PostgreSQL types them.
      rename("time_bucket");
      after(k + 1, "CAST((");
      before(p.comma, ") AS INTERVAL)");
      const std::vector<std::size_t> commas = own_commas(t, parens, k + 1);
      if (commas.size() == 2 && commas[1] + 2 == p.close && t.is(commas[1] + 1, cataloger::TokenKind::string)) {
        before(commas[1] + 1, "CAST(");
        after(commas[1] + 1, " AS TIMESTAMP)");
      }
    }
  }
  std::stable_sort(edits.begin(), edits.end(),
                   [](const Edit& a, const Edit& b) { return a.from != b.from ? a.from < b.from : a.side < b.side; });
  Splice out(sql);
  for (const Edit& e : edits)
    if (e.from >= out.copied()) out.replace(e.from, e.to, e.with);  // spans never overlap; never a step back
  return std::move(out).text();
}

}  // namespace etl::pgwire
