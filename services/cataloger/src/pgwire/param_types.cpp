#include "pgwire/param_types.h"

#include <charconv>

#include "pgwire/sql_text.h"
#include "pgwire/types.h"
#include "query/sql_guard.h"

namespace etl::pgwire {
namespace {

struct Token {
  enum Kind { word, param, op, open, close, comma, lbracket, rbracket, other } kind = other;
  std::string text;  // a word: its last part ("songs_data.popularity" -> "popularity"), unquoted; an op: itself
  int number = 0;    // a param: its n
};

// The statement's tokens from the engine gate's tokenizer (sql_guard.h), with what this
// reading needs joined: `$n` as one parameter, an operator's characters as one operator
// (`<=`, `::`), a qualified name as one word (its last part). None for a statement that
// does not tokenize (an unterminated quote): it fails in the engine anyway.
std::vector<Token> tokenize(std::string_view sql) {
  using cataloger::TokenKind;
  std::vector<Token> out;
  auto raw = cataloger::tokenize_sql(sql);
  if (!raw) return out;
  const auto& t = *raw;
  auto symbol = [&](std::size_t i, std::string_view s) { return i < t.size() && t[i].kind == TokenKind::symbol && t[i].text == s; };
  auto name = [&](std::size_t i) {
    return i < t.size() && (t[i].kind == TokenKind::word || t[i].kind == TokenKind::quoted_identifier);
  };
  auto touching = [&](std::size_t i) {  // token i ends where token i + 1 starts
    return i + 1 < t.size() && t[i].source.data() + t[i].source.size() == t[i + 1].source.data();
  };
  static constexpr std::string_view kOpChars = "+-*/<>=~!@#%^&|:";
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (name(i)) {
      out.push_back({Token::word, t[i].text, 0});
      while (symbol(i + 1, ".") && name(i + 2)) out.back().text = t[i += 2].text;
      continue;
    }
    if (symbol(i, "$") && touching(i) && t[i + 1].kind == TokenKind::number) {
      int number = 0;
      const std::string& digits = t[++i].text;
      if (std::from_chars(digits.data(), digits.data() + digits.size(), number).ptr != digits.data() + digits.size()) number = 0;
      out.push_back({Token::param, "", number});
      continue;
    }
    if (t[i].kind == TokenKind::symbol && kOpChars.find(t[i].text) != std::string_view::npos) {
      std::string op;
      for (const std::size_t end = operator_end(t, i, kOpChars); i < end; ++i) op += t[i].text;
      --i;
      out.push_back({Token::op, std::move(op), 0});
      continue;
    }
    const Token::Kind kind = symbol(i, "(") ? Token::open : symbol(i, ")") ? Token::close : symbol(i, ",") ? Token::comma
                           : symbol(i, "[") ? Token::lbracket : symbol(i, "]") ? Token::rbracket : Token::other;
    out.push_back({kind, "", 0});
  }
  return out;
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
      if (const std::int32_t t = operand_after(p + 2)) return t;
    }
    // col <op> any($n)
    if (kind(p - 1, Token::open) && kind(p + 1, Token::close) && (word(p - 2, "any") || word(p - 2, "some") || word(p - 2, "all")) &&
        comparison(p - 3))
      return array_oid_of(operand_before(p - 4));
    // col <+ - * / %> $n, $n <+ - * / %> col: PostgreSQL reads the unknown side as the other's
    // type. Numbers only: with a date or timestamp the other side may be an interval or a number.
    if (arithmetic(p - 1))
      if (const std::int32_t t = operand_before(p - 2); is_number(t)) return t;
    if (arithmetic(p + 1))
      if (const std::int32_t t = operand_after(p + 2); is_number(t)) return t;
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
  bool arithmetic(std::size_t i) const {
    if (!kind(i, Token::op)) return false;
    const std::string& o = t_[i].text;
    return o == "+" || o == "-" || o == "*" || o == "/" || o == "%";
  }
  static bool is_number(std::int32_t type) {
    return type == oid::int2 || type == oid::int4 || type == oid::int8 || type == oid::float4 || type == oid::float8 ||
           type == oid::numeric;
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
      {"jsonb", oid::jsonb}, {"interval", oid::interval}, {"uuid", oid::uuid}};
  for (const auto& n : kNames)
    if (n.name == name) return array ? array_oid_of(n.type) : n.type;
  return 0;
}

std::vector<std::int32_t> infer_param_types(std::string_view sql, std::vector<std::int32_t> types,
                                            const ColumnTypeLookup& column_type) {
  bool any_unspecified = false;
  for (auto t : types) any_unspecified = any_unspecified || t == 0;
  if (!any_unspecified) return types;
  const std::vector<Token> tokens = tokenize(sql);
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
