// COPY ... TO STDOUT for the PostgreSQL endpoint: how psql's \copy and psycopg's
// cursor.copy() export a result. The statement is parsed into the query it runs
// (a table's `SELECT <columns> FROM <table>`, or the query in parentheses, which
// then goes through the same read-only gate as any other) and the format of its
// rows, written as PostgreSQL writes them (text format's backslash escapes, CSV's
// quoting). Only TO STDOUT: COPY FROM writes, and COPY TO a file or a program
// would act on the server's machine. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgwire/local_result.h"

namespace etl::pgwire {

struct CopyFormat {
  bool csv = false;
  bool header = false;
  char delimiter = '\t';            // ',' in CSV
  std::string null_string = "\\N";  // "" in CSV
  char quote = '"';                 // CSV only
  char escape = '"';                // CSV only
  bool force_quote_all = false;     // CSV's FORCE_QUOTE *
};

struct CopyOut {
  std::string query;  // what runs: a SELECT (or any statement the gate lets through)
  CopyFormat format;
};

// What parse_copy made of a statement: the COPY to run, or why it is refused.
struct CopyStatement {
  std::optional<CopyOut> copy;
  std::optional<SqlError> error;  // 42501 FROM / a file / a program, 0A000 unsupported, 42601 syntax, 22023 a bad option value
};

// nullopt: `sql` is not a COPY statement.
std::optional<CopyStatement> parse_copy(std::string_view sql);

// One row, or the header line of `names`, in `format`, each ending with "\n".
std::string copy_row(const std::vector<std::optional<std::string>>& values, const CopyFormat& format);
std::string copy_header(const std::vector<std::string>& names, const CopyFormat& format);

}  // namespace etl::pgwire
