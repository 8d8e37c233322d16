// PostgreSQL's generate_series() as a select-list item: a set of rows there, a list in
// the engine (`SELECT generate_series(1, 3)` is one row `[1, 2, 3]`).
#pragma once

#include <string>
#include <string_view>

namespace etl::pgwire {

// `sql` for the engine with each generate_series(...) that is a whole select-list item
// (`SELECT generate_series(a, b[, step]) [AS name], ...`, in any SELECT of the statement,
// CTEs and subqueries included) as unnest(generate_series(...)): a row per value, as
// PostgreSQL gives, several such items in lockstep with NULLs past the shorter one, as
// both do. One in FROM (the engine's table function: rows already) and one inside a
// larger expression (`generate_series(1, 3) * 2`, `::date`) are left as they are.
std::string set_returning_items_as_rows(std::string_view sql);

}  // namespace etl::pgwire
