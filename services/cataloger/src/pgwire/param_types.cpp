#include "pgwire/param_types.h"

#include <cctype>

#include "pgwire/sql_text.h"
#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

struct Token {
  enum Kind { word, param, op, open, close, comma, lbracket, rbracket, other } kind = other;
  std::string text;  // a word: its last part ("songs_data.popularity" -> "popularity"), unquoted; an op: itself
  int number = 0;    // a param: its n
};

bool word_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$'; }

// The tokens of normalized SQL; a qualified name (a.b, "A".b) is one word token.
// Stops at an unterminated quote (the statement fails later, in the engine).
std::vector<Token> tokenize(std::string_view n) {
  std::vector<Token> out;
  bool after_dot = false;  // the next word continues a qualified name
  auto add_word = [&](std::string text) {
    if (after_dot && !out.empty() && out.back().kind == Token::word) out.back().text = std::move(text);
    else out.push_back({Token::word, std::move(text), 0});
    after_dot = false;
  };
  for (std::size_t i = 0; i < n.size();) {
    const char c = n[i];
    if (c == ' ') {
      ++i;
      continue;
    }
    if (const std::size_t end = skip_special(n, i); end != i) {
      if (end == std::string_view::npos) break;
      if (c == '"') {
        std::string name;
        for (std::size_t j = i + 1; j + 1 < end; ++j) {
          name += n[j];
          if (n[j] == '"') ++j;  // "" inside a quoted name is one quote
        }
        add_word(std::move(name));
      } else {
        out.push_back({Token::other, "literal", 0});
        after_dot = false;
      }
      i = end;
      continue;
    }
    if (c == '$' && i + 1 < n.size() && std::isdigit(static_cast<unsigned char>(n[i + 1]))) {
      std::size_t j = i + 1;
      int number = 0;
      while (j < n.size() && std::isdigit(static_cast<unsigned char>(n[j])) && number < 100000) number = number * 10 + (n[j++] - '0');
      out.push_back({Token::param, "", number});
      after_dot = false;
      i = j;
      continue;
    }
    if (word_start(c)) {
      std::size_t j = i;
      while (j < n.size() && word_char(n[j])) ++j;
      add_word(std::string(n.substr(i, j - i)));
      i = j;
      continue;
    }
    if (c == '.' && !out.empty() && out.back().kind == Token::word && i + 1 < n.size() && (word_start(n[i + 1]) || n[i + 1] == '"')) {
      after_dot = true;
      ++i;
      continue;
    }
    after_dot = false;
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      std::size_t j = i;
      while (j < n.size() && (std::isalnum(static_cast<unsigned char>(n[j])) || n[j] == '.')) ++j;
      out.push_back({Token::other, "number", 0});
      i = j;
      continue;
    }
    if (c == ':' && i + 1 < n.size() && n[i + 1] == ':') {
      out.push_back({Token::op, "::", 0});
      i += 2;
      continue;
    }
    static constexpr std::string_view kOpChars = "+-*/<>=~!@#%^&|";
    if (kOpChars.find(c) != std::string_view::npos) {
      std::size_t j = i;
      while (j < n.size() && kOpChars.find(n[j]) != std::string_view::npos) ++j;
      out.push_back({Token::op, std::string(n.substr(i, j - i)), 0});
      i = j;
      continue;
    }
    const Token::Kind kind = c == '(' ? Token::open : c == ')' ? Token::close : c == ',' ? Token::comma
                           : c == '[' ? Token::lbracket : c == ']' ? Token::rbracket : Token::other;
    out.push_back({kind, std::string(1, c), 0});
    ++i;
  }
  return out;
}

std::int32_t array_of(std::int32_t element) {
  for (std::int32_t a : {oid::bool_array, oid::int2_array, oid::int4_array, oid::int8_array, oid::float4_array,
                         oid::float8_array, oid::numeric_array, oid::text_array, oid::varchar_array, oid::date_array,
                         oid::timestamp_array, oid::timestamptz_array, oid::oid_array})
    if (array_element_oid(a) == element) return a;
  return 0;
}

class Inference {
 public:
  // One pass over the tokens: for each token, the parenthesis it is in; for each
  // parenthesis, whether it holds only a list of values (parameters, literals, commas).
  // So reading every parameter of a statement is linear, however many there are.
  Inference(const std::vector<Token>& tokens, const ColumnTypeLookup& lookup)
      : t_(tokens), lookup_(lookup), enclosing_(tokens.size(), npos), value_list_(tokens.size(), false) {
    std::vector<std::size_t> open;
    for (std::size_t i = 0; i < t_.size(); ++i) {
      if (!open.empty()) enclosing_[i] = open.back();
      const Token::Kind k = t_[i].kind;
      if (!open.empty() && k != Token::comma && k != Token::param && k != Token::other && k != Token::close)
        value_list_[open.back()] = false;
      if (k == Token::open) {
        open.push_back(i);
        value_list_[i] = true;
      } else if (k == Token::close && !open.empty()) {
        open.pop_back();
      }
    }
  }

  // The type a parameter at token `p` is read as; 0 when not sure.
  std::int32_t at(std::size_t p) const {
    if (auto cast = cast_type(p)) return *cast;
    if (word(p - 1, "limit") || word(p - 1, "offset") || (word(p - 2, "fetch") && (word(p - 1, "first") || word(p - 1, "next"))))
      return oid::int8;
    // col <op> $n, col [not] like $n
    if (std::size_t k = comparison_before(p); k != npos) return operand_before(k);
    // $n <op> col, $n <op> any(col)
    if (comparison(p + 1)) {
      if ((word(p + 2, "any") || word(p + 2, "some") || word(p + 2, "all")) && kind(p + 3, Token::open) && kind(p + 5, Token::close))
        return array_element_oid(operand_after(p + 4));
      return operand_after(p + 2);
    }
    // col <op> any($n)
    if (kind(p - 1, Token::open) && kind(p + 1, Token::close) && (word(p - 2, "any") || word(p - 2, "some") || word(p - 2, "all")) &&
        comparison(p - 3))
      return array_of(operand_before(p - 4));
    // col [not] between $a and $b
    if (word(p - 1, "between")) return operand_before(not_before(p - 2));
    if (word(p - 1, "and") && word(p - 3, "between")) return operand_before(not_before(p - 4));
    // col [not] in ($a, 'x', $b)
    if (const std::size_t k = enclosing_[p]; k != npos && value_list_[k] && word(k - 1, "in"))
      return operand_before(not_before(k - 2));
    return 0;
  }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  bool kind(std::size_t i, Token::Kind k) const { return i < t_.size() && t_[i].kind == k; }
  bool word(std::size_t i, std::string_view w) const { return kind(i, Token::word) && t_[i].text == w; }
  bool op(std::size_t i, std::string_view o) const { return kind(i, Token::op) && t_[i].text == o; }
  bool comparison(std::size_t i) const {
    if (!kind(i, Token::op)) return false;
    const std::string& o = t_[i].text;
    return o == "=" || o == "<>" || o == "!=" || o == "<" || o == "<=" || o == ">" || o == ">=";
  }
  // The index of the token before an optional NOT at `i`.
  std::size_t not_before(std::size_t i) const { return word(i, "not") ? i - 1 : i; }

  // The comparison right before a parameter at `p`: the index of the token that ends its left operand.
  std::size_t comparison_before(std::size_t p) const {
    if (comparison(p - 1)) return p - 2;
    if (word(p - 1, "like") || word(p - 1, "ilike")) return not_before(p - 2);
    return npos;
  }

  // The type named at `i` ("double precision", "timestamp with time zone", "numeric(10,2)", "text[]").
  std::int32_t type_name_at(std::size_t i) const {
    if (!kind(i, Token::word)) return 0;
    std::string name = t_[i].text;
    std::size_t next = i + 1;
    if (name == "double" && word(next, "precision")) name += " precision", ++next;
    else if (name == "character" && word(next, "varying")) name += " varying", ++next;
    else if ((name == "timestamp" || name == "time") && (word(next, "with") || word(next, "without")) && word(next + 1, "time") &&
             word(next + 2, "zone"))
      name += " " + t_[next].text + " time zone", next += 3;
    if (kind(next, Token::open)) {  // a type modifier: (10,2), a few tokens at most
      const std::size_t end = next + 6;
      while (next < end && next < t_.size() && !kind(next, Token::close)) ++next;
      if (!kind(next, Token::close)) return 0;
      ++next;
    }
    if (kind(next, Token::lbracket) && kind(next + 1, Token::rbracket)) name += "[]";
    return type_oid_of_name(name);
  }

  std::optional<std::int32_t> cast_type(std::size_t p) const {
    if (op(p + 1, "::")) return type_name_at(p + 2);
    if (word(p - 2, "cast") && kind(p - 1, Token::open) && word(p + 1, "as")) return type_name_at(p + 2);
    return std::nullopt;
  }

  std::int32_t column(const std::string& name) const {
    auto engine = lookup_(name);
    if (!engine) return 0;
    const std::int32_t type = pg_type(*engine).oid;
    return bindable_type(type) ? type : 0;
  }

  // The type of the operand that ends at token `i`: a column, or a cast (col::int).
  std::int32_t operand_before(std::size_t i) const {
    if (kind(i, Token::rbracket) && kind(i - 1, Token::lbracket) && kind(i - 2, Token::word) && op(i - 3, "::"))
      return type_oid_of_name(t_[i - 2].text + "[]");
    if (!kind(i, Token::word)) return 0;
    if (op(i - 1, "::")) return type_oid_of_name(t_[i].text);
    return column(t_[i].text);
  }

  // The type of the operand that starts at token `i`: a column, possibly cast; not a function call.
  std::int32_t operand_after(std::size_t i) const {
    if (!kind(i, Token::word) || kind(i + 1, Token::open)) return 0;
    if (op(i + 1, "::")) return type_name_at(i + 2);
    return column(t_[i].text);
  }

  const std::vector<Token>& t_;
  const ColumnTypeLookup& lookup_;
  std::vector<std::size_t> enclosing_;  // per token: the index of the open parenthesis it is in (npos: none)
  std::vector<bool> value_list_;        // per open parenthesis: holds only values and commas
};

}  // namespace

std::int32_t type_oid_of_name(std::string_view name) {
  if (name.starts_with("pg_catalog.")) name.remove_prefix(11);
  const bool array = name.ends_with("[]");
  if (array) name.remove_suffix(2);
  struct Named {
    std::string_view name;
    std::int32_t type;
  };
  static constexpr Named kNames[] = {
      {"int", oid::int4}, {"integer", oid::int4}, {"int4", oid::int4}, {"bigint", oid::int8}, {"int8", oid::int8},
      {"smallint", oid::int2}, {"int2", oid::int2}, {"real", oid::float4}, {"float4", oid::float4},
      {"double precision", oid::float8}, {"double", oid::float8}, {"float8", oid::float8}, {"float", oid::float8},
      {"numeric", oid::numeric}, {"decimal", oid::numeric}, {"bool", oid::boolean}, {"boolean", oid::boolean},
      {"text", oid::text}, {"string", oid::text}, {"varchar", oid::varchar}, {"character varying", oid::varchar},
      {"name", oid::name}, {"oid", oid::oid}, {"date", oid::date}, {"timestamp", oid::timestamp}, {"timestamp without time zone", oid::timestamp},
      {"timestamptz", oid::timestamptz}, {"timestamp with time zone", oid::timestamptz}, {"json", oid::json},
      {"jsonb", oid::jsonb}};
  for (const auto& n : kNames)
    if (n.name == name) return array ? array_of(n.type) : n.type;
  return 0;
}

std::vector<std::int32_t> infer_param_types(std::string_view normalized, std::vector<std::int32_t> types,
                                            const ColumnTypeLookup& column_type) {
  bool any_unspecified = false;
  for (auto t : types) any_unspecified = any_unspecified || t == 0;
  if (!any_unspecified) return types;
  const std::vector<Token> tokens = tokenize(normalized);
  std::vector<std::size_t> params;
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i].kind == Token::param) params.push_back(i);
  Inference inference(tokens, column_type);
  std::vector<std::int32_t> inferred(types.size(), 0);
  for (std::size_t p : params) {
    const auto n = static_cast<std::size_t>(tokens[p].number);
    if (n < 1 || n > types.size() || types[n - 1] != 0) continue;
    const std::int32_t t = inference.at(p);
    if (t == 0 || !bindable_type(t)) continue;
    // One parameter read in two places as two types: not sure, so left unspecified.
    if (inferred[n - 1] != 0 && inferred[n - 1] != t) inferred[n - 1] = -1;
    else if (inferred[n - 1] == 0) inferred[n - 1] = t;
  }
  for (std::size_t i = 0; i < types.size(); ++i)
    if (types[i] == 0 && inferred[i] > 0) types[i] = inferred[i];
  return types;
}

}  // namespace etl::pgwire
