// The read-only SQL guard in front of the query engine: one statement, of a
// read-only kind (SELECT / WITH / SHOW / DESCRIBE / EXPLAIN of a query), with no
// write or session keywords, no table function or scalar that reads files, URLs,
// settings or the environment, no string distance a timeout cannot stop, and no
// string literal or path used as a table (after FROM, JOIN, PIVOT, UNPIVOT, ...).
// Pure and lexical (comments, string literals, quoted identifiers and dollar
// quoting are understood), so it is unit-tested on a golden file; the engine
// adds its own checks (statement count and type from DuckDB, and a locked-down
// configuration), so a gap here is not a hole.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::cataloger {

enum class TokenKind { word, quoted_identifier, string, number, symbol };

struct SqlToken {
  TokenKind kind;
  std::string text;       // word: lower-cased; quoted identifier / string: the content; else as written
  std::string_view source;  // the token as written (a view into the input)
};

// Splits SQL into tokens, dropping comments. invalid_argument for an unterminated
// string, quoted identifier or comment.
Result<std::vector<SqlToken>> tokenize_sql(std::string_view sql);

// OK for one read-only statement; invalid_argument with the reason otherwise.
Status check_read_only_sql(std::string_view sql);
// The same on the statement's tokens (tokenize_sql), for callers that need them too.
Status check_read_only_tokens(const std::vector<SqlToken>& tokens);

// Functions that read files, URLs, settings or the environment (by name, lower-case).
bool forbidden_function(std::string_view name);
// String distances whose one call takes time growing with the product of its
// arguments' lengths (levenshtein, damerau_levenshtein, jaro_similarity, ... by every
// DuckDB 1.4.4 name). DuckDB checks for an interrupt only between chunks, so neither
// a timeout nor a cancel stops a running call (two 60,000-character strings: 26 s).
bool quadratic_function(std::string_view name);
// The reason a call of `name` (lower-case) is refused, or "" when nothing here
// refuses it: forbidden_function, quadratic_function, or one that changes the
// session (setseed). Shared by the guard and the gate (which also refuses any
// function off its allow list, allowed_functions.h).
std::string refused_function(std::string_view name);

// Whether `word` is one of `list` (keyword and function-name lists of the guard and the gate).
template <std::size_t N>
bool contains(const std::array<const char*, N>& list, std::string_view word) {
  return std::any_of(list.begin(), list.end(), [&](const char* w) { return word == w; });
}

// A name that reads as a file path or URL (`/`, `\`, `:`, `.` or `~` in it): never a
// table or CTE name here, since DuckDB reads an unknown such table name as a file.
bool looks_like_path(std::string_view name);

// The statement with comments removed and whitespace collapsed (string literals
// kept as written): equal for queries that differ only in layout. Cache keys.
std::string normalize_sql(std::string_view sql);

// Every word and quoted identifier of the statement, lower-cased: a superset of
// the tables it names (used to pick the table versions a cached result depends on).
std::set<std::string> referenced_names(std::string_view sql);

}  // namespace etl::cataloger
