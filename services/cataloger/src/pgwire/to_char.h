// PostgreSQL's to_char(timestamp, 'YYYY-MM') for an engine that has strftime and
// no to_char: dashboards ported from PostgreSQL label their time buckets with it.
#pragma once

#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl::pgwire {

// The engine's expression for PostgreSQL's to_char(<value>, '<pattern>') of a date or
// timestamp: strftime(<value>, '%Y-%m') for 'YYYY-MM', with the parts strftime has no
// code for (Q, D, ID, FMIW, 'Month' padded to 9 as PostgreSQL pads it, lower-case
// 'month' and 'am') joined to it with ||, so a NULL value stays NULL.
// Read: YYYY YY IYYY MM DD DDD D ID Q IW HH24 HH12 HH MI SS MS US AM PM am pm,
// Month MONTH month Mon MON mon Day DAY day Dy DY dy, the FM prefix, text in "..."
// and anything that is not a letter. Any other letter is a pattern PostgreSQL reads
// and this does not (TH, J, WW, TZ ...), or text PostgreSQL wants quoted:
// invalid_argument starting "unsupported: to_char pattern", never output that
// differs from PostgreSQL's without an error.
Result<std::string> to_char_expression(std::string_view value, std::string_view pattern);

// `sql` with each to_char(<value>, '<string literal>') (also pg_catalog.to_char)
// rewritten by to_char_expression; calls whose pattern is not a literal, or whose
// value holds another to_char, are left as they are (the engine has no to_char:
// the gate refuses them by name). The error of the first pattern not read; too_large
// when the statement would grow by more than 1 MiB (a long value repeated per part).
Result<std::string> to_char_as_strftime(std::string_view sql);

}  // namespace etl::pgwire
