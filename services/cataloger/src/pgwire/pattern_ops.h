// PostgreSQL's pattern matching where the engine parses the same text and means
// something else: its `~` matches a whole string (regexp_full_match), PostgreSQL's
// finds the pattern anywhere; its LIKE has no escape character, PostgreSQL's is `\`.
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
// Text in strings, quoted names and comments is left; so is anything the tokenizer
// cannot read (the engine says what is wrong).
Result<std::string> postgres_pattern_operators(std::string_view sql);

}  // namespace etl::pgwire
