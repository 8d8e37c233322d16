// PostgreSQL's generate_series() as a select-list item: a set of rows there, a list in
// the engine (`SELECT generate_series(1, 3)` is one row `[1, 2, 3]`).
#pragma once

#include <string>
#include <string_view>

namespace etl::pgwire {

// `sql` for the engine with each generate_series(...) in a select list (`SELECT
// generate_series(a, b[, step]) [AS name]`, `generate_series(...)::date`, in any SELECT of
// the statement, CTEs and subqueries included) as unnest(generate_series(...)): a row per
// value, as PostgreSQL gives, several in lockstep with NULLs past the shorter one, as both
// do. One in FROM (the engine's table function: rows already) and one inside a function's
// arguments (`coalesce(generate_series(1, 3), 0)`) are left as they are.
std::string set_returning_items_as_rows(std::string_view sql);

}  // namespace etl::pgwire
