// PostgreSQL's generate_series() as a select-list item: a set of rows there, a list in
// the engine (`SELECT generate_series(1, 3)` is one row `[1, 2, 3]`); and a set-returning
// function's alias in FROM as its column's name.
#pragma once

#include <string>
#include <string_view>

namespace etl::pgwire {

// `sql` for the engine with each generate_series(...) in a select list (`SELECT
// generate_series(a, b[, step]) [AS name]`, `generate_series(...)::date`, in any SELECT of
// the statement, CTEs and subqueries included) as unnest(generate_series(...)): a row per
// value, as PostgreSQL gives, several in lockstep with NULLs past the shorter one, as both
// do. One in FROM (the engine's table function: rows already) is left as it is, but for its
// alias: `FROM generate_series(...) d` (and unnest(list) d) names the function's column `d`
// in PostgreSQL, so `d::date` is its value, and the engine, where `d` is the row, gets
// `generate_series(...) d(d)`. One inside a function's arguments
// (`coalesce(generate_series(1, 3), 0)`) is left as it is.
std::string set_returning_items_as_rows(std::string_view sql);

}  // namespace etl::pgwire
