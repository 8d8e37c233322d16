// SQL-level cursors: DECLARE, FETCH, MOVE and CLOSE, as psycopg's server-side cursors
// (`conn.cursor(name=...)`) and SQLAlchemy's `stream_results` over psycopg send them.
// A cursor here is a portal of the session (psycopg describes it as one); its query
// runs at DECLARE and FETCH hands out its rows forward only.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "pgwire/local_result.h"

namespace etl::pgwire {

struct CursorStatement {
  enum class Kind { declare, fetch, move, close, close_all };
  Kind kind = Kind::fetch;
  std::string name;      // as the portal is named: folded to lower case unless quoted
  long long count = 1;   // FETCH / MOVE: rows, -1 for ALL
  bool hold = false;     // DECLARE ... WITH HOLD: outlives its transaction
  std::string query;     // DECLARE: the query after FOR, as the client wrote it
};

// The cursor statement `sql` is (nullopt: it is none of these), or the error for a form
// this endpoint does not take: SCROLL and BINARY cursors, and every direction but
// forward (NEXT, FORWARD [n | ALL], n, ALL) are 0A000; a DECLARE of something other
// than a query is 42601.
std::optional<std::variant<CursorStatement, SqlError>> parse_cursor_statement(const std::string& sql);

}  // namespace etl::pgwire
