// PostgreSQL's pattern matching where the engine parses the same text and means
// something else: its `~` matches a whole string (regexp_full_match), PostgreSQL's
// finds the pattern anywhere; its LIKE has no escape character, PostgreSQL's is `\`;
// its SIMILAR TO reads a regular expression, PostgreSQL's SQL's own patterns (`%`, `_`).
#pragma once

#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl::pgwire {

// `sql` for the engine with PostgreSQL's meaning of:
// - `x ~ 'p'`, `x !~ 'p'`: the literal pattern becomes '(?s).*(?:p).*' (found anywhere,
//   `.` matching a newline as in PostgreSQL); `~*` and `!~*` (case-insensitive, which
//   the engine lacks) become `~` and `!~` with '(?is)...'. A pattern that is not a
//   string literal (a column, an expression) is invalid_argument starting
//   "unsupported: " (regexp_matches(x, p) is the engine's form), never a full match.
// - `x LIKE 'a\_b'` (ILIKE, NOT LIKE ...) with a backslash in the literal and no ESCAPE:
//   ` ESCAPE '\'` is added, so `\_` and `\%` match themselves as in PostgreSQL.
// - `x SIMILAR TO 'p'` (NOT SIMILAR TO): the literal is read as PostgreSQL reads it
//   (similar_to_as_regex). A pattern that is not a literal, or an ESCAPE clause, is
//   invalid_argument starting "unsupported: " (regexp_full_match(x, p) is the engine's form).
// - `substring(x FROM 'p')` and `substring(x, 'p')` with a literal pattern (a regular
//   expression in PostgreSQL; the engine reads the literal as a position and fails):
//   `regexp_extract_all(x, '(?s)p', g)[1]`, the first match, or its first capturing group
//   when the pattern has one (g = 1), NULL when nothing matches. The SQL-regex form
//   `FROM 'p' FOR 'escape'` is invalid_argument starting "unsupported: ".
// Text in strings, quoted names and comments is left; so is anything the tokenizer
// cannot read (the engine says what is wrong).
Result<std::string> postgres_pattern_operators(std::string_view sql);

// The engine's regular expression (RE2, matched against the whole text as its SIMILAR TO
// does) for PostgreSQL's SIMILAR TO pattern with its default escape `\`: `%` is `.*`,
// `_` is `.` (matching a newline too), `(` groups without capturing, `.` `^` `$` stand
// for themselves, `\c` is c itself, `[...]` is the regular expression's character class
// and `| * + ? {m,n}` are the regular expression's; an escape at the end is dropped, as
// PostgreSQL drops it. invalid_argument "unsupported: ..." for `\"` (SUBSTRING's separator).
Result<std::string> similar_to_as_regex(std::string_view pattern);

}  // namespace etl::pgwire
