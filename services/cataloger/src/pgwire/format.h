// PostgreSQL's format('%s: %s', a, b) for an engine whose format() takes `{}`
// (fmt's syntax): the same call there returns its pattern unchanged, a wrong answer
// with no error. Labels in dashboards ported from PostgreSQL are built with it.
#pragma once

#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl::pgwire {

// `sql` with each format('<string literal with a %>', args...) (also pg_catalog.format)
// as concat('<text>', CAST((arg) AS VARCHAR), ...): concat's NULL is '', as format's %s
// of NULL is. Read: %s, %n$s (an argument by position), %%; a %s without a position
// takes the argument after the one before it, as in PostgreSQL. Each value is in the
// engine's text, as `||` gives it (a boolean is true/false where PostgreSQL's is t/f).
// Calls inside arguments are read too, up to 16 deep.
// invalid_argument for what PostgreSQL refuses, in its words ("too few arguments for
// format()", "unrecognized format() type specifier"), and "unsupported: ..." for what
// it reads and this does not: %I, %L, a width or a flag, an argument used twice,
// deeper nesting. Left to the engine (whose format() is fmt's): a pattern that is not
// a literal, or a literal without a %.
Result<std::string> postgres_format_calls(std::string_view sql);

}  // namespace etl::pgwire
