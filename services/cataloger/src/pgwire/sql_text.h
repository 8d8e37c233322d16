// Pure SQL text handling for the PostgreSQL endpoint: splitting a simple-query
// string into statements, the leading keywords of a statement, and binding
// extended-protocol parameters as quoted SQL literals *before* the statement goes
// through the read-only gate (QueryEngine::start), so the gate sees exactly the
// SQL that runs. A lexer skips quoted strings, quoted identifiers, dollar quotes
// and comments, so a `;` or `$1` inside them is left alone.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"
#include "query/sql_guard.h"

namespace etl::pgwire {

// Statements of a Query message, trimmed, without the separating `;` (empty ones dropped).
// invalid_argument for an unterminated string, identifier, dollar quote or comment.
Result<std::vector<std::string>> split_statements(std::string_view sql);

// The statement without comments, whitespace collapsed to one space, lower-cased
// outside string literals and quoted identifiers: what the shape matchers look at.
std::string normalize(std::string_view sql);

// The highest $n the statement uses (0: none).
int parameter_count(std::string_view sql);

// If a quoted string, quoted identifier, dollar quote or comment starts at `i`, the
// index just past its end (npos when unterminated); `i` itself when none does.
std::size_t skip_special(std::string_view sql, std::size_t i);

// A parameter as the client sent it: text, or binary (text_of_binary says which types).
struct Param {
  std::optional<std::string> value;  // nullopt = NULL
  std::int32_t type_oid = 0;         // declared in Parse, or inferred there (0: unspecified, bound as text)
  bool binary = false;
};

// Whether param_literal binds values of the type (unspecified 0 included, as text).
bool bindable_type(std::int32_t type_oid);

// The SQL literal for one parameter: NULL, a checked number, TRUE/FALSE, a quoted
// string (with a CAST for dates and timestamps), or a list for a one-dimensional
// array (CAST([1, 2] AS INTEGER[])). invalid_argument for a value that
// is not of its declared type, with PostgreSQL's message: a number outside its
// type's range (int2, int4, int8, oid, float4, float8; "1e999", "1e-999") says
// `... is out of range for type ...`; types or binary forms we do not bind say
// "unsupported..." (bind_error_state tells them apart).
Result<std::string> param_literal(const Param& param);

// The SQLSTATE of a Bind that bind_parameters refused with `error`: 54000 too
// long, 0A000 unsupported, 22003 out of range, 22007 a bad date or timestamp, 22P03 a
// binary value of the wrong length or shape, else 22P02.
std::string bind_error_state(const Error& error);

// `sql` with every $n replaced by the literal of params[n-1]. invalid_argument when
// a $n has no parameter; too_large when the result would be longer than `max_bytes`
// (a parameter referenced many times is copied each time).
Result<std::string> bind_parameters(std::string_view sql, const std::vector<Param>& params,
                                    std::size_t max_bytes = std::numeric_limits<std::size_t>::max());

// `sql` for the engine with PostgreSQL's array literals in ANY, SOME and ALL, which
// PostgreSQL users and pgx's simple protocol write: with no type, `x = ANY ('{1,2}')` as
// `x IN ('1', '2')` and `x <> ALL ('{1,2}')` as `x NOT IN ('1', '2')`, whose items the
// engine reads as x's type, as PostgreSQL types the array; otherwise as the engine's
// list (`ANY ('{1,2}'::int[])` as CAST([1, 2] AS INTEGER[]); an untyped one is
// VARCHAR[]). Elsewhere, a literal cast to an array type (`'{1,2}'::int[]`, CAST('{a}'
// AS text[])) and an operand of `@>`, `<@` or `&&` (VARCHAR[] when untyped, as the lake's
// lists are) become the engine's lists too. Anything else, and a literal that is not a
// one-dimensional array, is left as it is.
std::string any_array_literals_as_lists(std::string_view sql);

// `sql` for the engine with PostgreSQL's numeric without a precision (`x::numeric`,
// `CAST(x AS decimal)`, `numeric[]`) as a type that keeps the value: the engine's
// own NUMERIC is DECIMAL(18,3) and would round `round(x::numeric, 4)` to 3 digits.
// A literal operand keeps its digits exactly (`'12.340'::numeric` -> DECIMAL(5,3),
// as PostgreSQL keeps them); anything else (a column, an expression, an array, a
// literal of more than 38 digits or with an exponent) becomes DOUBLE, which is
// what `round(avg(x)::numeric, 2)` (with round_arguments_as_numeric) and `count(*)::numeric / n`
// need. A numeric with
// a precision (`numeric(10,2)`), and the word elsewhere (`AS numeric` naming a
// column), are left as they are. PostgreSQL's `float` without a precision is
// double precision, and the engine's FLOAT is single: `x::float` and
// `CAST(x AS float)` become DOUBLE (`float(p)` means the same in both, and stays).
// PostgreSQL's jsonb in a cast is the engine's JSON (which has no jsonb).
std::string unconstrained_numerics_as_engine_types(std::string_view sql);

// `sql` for the engine with round(<value>, n), n an integer literal (or one cast to int),
// as PostgreSQL computes it: its two-argument round() is numeric's only, so the value is
// cast to DECIMAL(38,s), s = n within [10, 15], first and its decimal value rounded, half
// away from zero. The engine rounded a DOUBLE's binary value: avg() of integers is numeric in
// PostgreSQL and a DOUBLE here, and round(avg(x), 2) of 0.285 (0.28499...) gave 0.28
// where PostgreSQL's is 0.29. The result is numeric, as there (with at most 15 decimals).
// A value of 10^28 or more (10^(38-s) for s above 10) is an error (PostgreSQL's numeric has no such bound); other
// forms (one argument, n not an integer literal) are left as they are. Every integer n
// takes this path, so a Describe's sample 0 and an Execute's value agree on the type.
std::string round_arguments_as_numeric(std::string_view sql);

// `sql` for the engine with PostgreSQL's functions that the engine has under another name
// or form, or reads otherwise:
// - date_trunc(...) as `(date_trunc(...) + INTERVAL 0 DAY)`: PostgreSQL's of a timestamp is a
//   timestamp (of a date, a timestamptz), the engine's a DATE for a day or longer
//   (`date_trunc('week', ts)`: 2026-03-09, not 2026-03-09 00:00:00), which pandas reads as
//   dates; adding no time keeps a timestamp, timestamptz or interval and makes a DATE a timestamp;
// - every() as bool_and(), regexp_like() as regexp_matches(), btrim() as trim(),
//   json[b]_build_object() as json_object(), json[b]_build_array() as json_array(),
//   json[b]_object_agg() as json_group_object(), to_jsonb(x)/array_to_json(x) as to_json(x),
//   clock_timestamp()/statement_timestamp()/transaction_timestamp() as now();
// - date_bin(stride, source, origin) as time_bucket() (a quoted stride an interval, a quoted
//   origin a timestamp); json_agg(x ...)/jsonb_agg() as to_json(list(x ...)) with its FILTER
//   and OVER; regexp_count(s, p), jsonb_array_length() and cardinality(a) as integer lengths;
//   div(a, b) as trunc((a) / (b)); lpad/rpad(s, n) padded with spaces;
//   json[b]_extract_path[_text](j, 'k1', 'k2') as ((j) -> ('k1') ->> ('k2')) when every key is
//   a quoted non-number (else jsonb_ as json_); array_remove(a, x) as list_filter() of the
//   items distinct from x; string_to_table(s, d) as unnest(string_split(s, d)); initcap(s) by
//   runs of letters and digits; width_bucket(x, low, high, count) by PostgreSQL's rules over
//   its values as doubles; to_hex() in lower case; array_upper(a, 1)/array_lower(a, 1) of a
//   list (NULL when empty); json[b]_typeof() in PostgreSQL's words; num_nulls()/num_nonnulls()
//   as sums; to_date/to_timestamp(s, '<pattern>') as strptime() with to_char's codes when they
//   are one strftime;
// - substr/substring(s, start[, n]) with a start before the first character counted from it
//   (the engine counts a negative start from the end): greatest(start, 1) without n; with n, a
//   literal start as 1 and n shortened (a computed start is left).
// Another schema's function and other argument counts are left as they are; each call grows
// by a constant.
std::string postgres_functions_as_duckdb(std::string_view sql);

// 'it''s' — the standard-conforming quoted literal (backslashes are not escapes).
std::string quote_literal(std::string_view text);

// Whether `sql` holds `lower` (written in lower case) in any case: the one scan a
// rewrite makes before it tokenizes a statement that may concern it.
bool mentions(std::string_view sql, std::string_view lower);

// `s` without the white space around it.
std::string_view trim_space(std::string_view s);

// The end of the operator whose first symbol token is t[i] (t from cataloger::tokenize_sql,
// which gives each symbol alone): the symbols among `chars` written together after it
// (`!~*` is three tokens, one operator). i + 1 when t[i + 1] is apart or not among them.
std::size_t operator_end(const std::vector<cataloger::SqlToken>& t, std::size_t i, std::string_view chars);

// A statement's tokens (cataloger::tokenize_sql: words lower-cased, each symbol alone,
// no comments) and what the rewrites ask of the k-th. An index past the end is no
// token, so a rewrite may look ahead without checking the size first.
class Tokens {
 public:
  // nullopt for a statement that does not tokenize (an unterminated quote): a rewrite
  // leaves it as it is, and the engine says what is wrong.
  static std::optional<Tokens> of(std::string_view sql);

  std::size_t size() const { return tokens_.size(); }
  const cataloger::SqlToken& operator[](std::size_t k) const { return tokens_[k]; }
  const std::vector<cataloger::SqlToken>& all() const { return tokens_; }

  bool is(std::size_t k, cataloger::TokenKind kind) const { return k < tokens_.size() && tokens_[k].kind == kind; }
  bool symbol(std::size_t k, char c) const { return is(k, cataloger::TokenKind::symbol) && tokens_[k].text[0] == c; }
  bool word(std::size_t k, std::string_view w) const { return is(k, cataloger::TokenKind::word) && tokens_[k].text == w; }
  // The k-th token's word, "" when it is not a word.
  std::string_view word_at(std::size_t k) const {
    return is(k, cataloger::TokenKind::word) ? std::string_view(tokens_[k].text) : std::string_view();
  }
  // Where the k-th token starts in the statement, and just past its end.
  std::size_t at(std::size_t k) const { return static_cast<std::size_t>(tokens_[k].source.data() - sql_.data()); }
  std::size_t end(std::size_t k) const { return at(k) + tokens_[k].source.size(); }

 private:
  Tokens(std::string_view sql, std::vector<cataloger::SqlToken> tokens) : sql_(sql), tokens_(std::move(tokens)) {}
  std::string_view sql_;
  std::vector<cataloger::SqlToken> tokens_;
};

// Each '(' and '[' of a statement's tokens, at its index (other indexes hold an empty entry):
// its ')' or ']' (npos when it is not closed), its first comma of its own (not in a
// parenthesis or bracket inside it, as in `f(ARRAY[1, 2], x)`; npos for none) and how many it
// has. One pass, for the rewrites that read a call's arguments.
struct Parenthesis {
  std::size_t close = std::string::npos, comma = std::string::npos, commas = 0;
};
std::vector<Parenthesis> parentheses(const Tokens& t);

// The commas of its own of the parenthesis at `open`, in order: its arguments' separators.
// Walks its tokens, jumping over the parentheses and brackets inside it.
std::vector<std::size_t> own_commas(const Tokens& t, const std::vector<Parenthesis>& parens, std::size_t open);

// A statement rewritten by spans, each later than the one before: text() is the
// statement with every replace() made, and the statement itself when none was.
class Splice {
 public:
  explicit Splice(std::string_view sql) : sql_(sql) {}
  // The statement's [from, to) (to >= from >= copied()) becomes `with`; from == to inserts.
  void replace(std::size_t from, std::size_t to, std::string_view with) {
    out_.append(sql_.substr(copied_, from - copied_));
    out_ += with;
    copied_ = to;
    changed_ = true;
  }
  // How much of the statement has been taken: a span before it can no longer change.
  std::size_t copied() const { return copied_; }
  // How long the text is so far (the statement up to copied(), as rewritten).
  std::size_t written() const { return out_.size(); }
  std::string text() && {
    if (!changed_) return std::string(sql_);
    out_.append(sql_.substr(copied_));
    return std::move(out_);
  }

 private:
  std::string_view sql_;
  std::string out_;
  std::size_t copied_ = 0;
  bool changed_ = false;
};

}  // namespace etl::pgwire
