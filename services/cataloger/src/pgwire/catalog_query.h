// The shape of a catalog SELECT (pg_catalog.h): what it reads, its WHERE conditions,
// ORDER BY and LIMIT, each taken apart so the emulation can apply it, or name what it
// cannot. The emulation answers a query only when it applies every part of it: a
// part it does not understand is refused (0A000), never skipped, since a skipped
// filter or clause answers with wrong rows. The forms understood are those BI tools
// send (psql's \d family, SQLAlchemy's inspector, psycopg's type lookups, Grafana's
// and Metabase's schema browsers): column-to-constant comparisons (=, <>, <, ~, !~,
// LIKE, IN, = ANY (ARRAY[...]), IS NULL, IS DISTINCT FROM, = true), boolean columns, pg_table_is_visible(),
// join conditions (column = column), and ANDs, ORs and NOTs of those. A part of an AND
// or OR in another form is refused only when a row needs it: `typrelid = 0 OR (SELECT
// ...)` is true without reading the subquery (pgjdbc's type list), and `NOT EXISTS (...)
// AND nspname <> 'pg_catalog'` false without it for pg_catalog's types (psql's \dT), as
// the parts of an AND are read in an order of the emulation's choosing, as PostgreSQL's are.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etl/result.h"
#include "pgwire/local_result.h"
#include "pgwire/patterns.h"

namespace etl::pgwire {

// A relation a catalog query may read: pg_catalog's and information_schema's ("pg_class",
// "information_schema.tables"); the names of the catalogs the emulation keeps rows in
// or knows to be empty here.
bool is_row_catalog(const std::string& relation);    // pg_class, pg_attribute, pg_namespace ...
bool is_empty_catalog(const std::string& relation);  // pg_index, pg_constraint, pg_description ...

// `normalized` as the emulation reads it: quoted identifiers that need no quotes without
// them ("pg_catalog"."pg_class" AS "c": Metabase's sync), and a WITH of non-recursive
// queries inlined as subqueries in FROM. The statement as it is when it has neither.
std::string catalog_text(const std::string& normalized);

// The 0A000 error for the first relation (at any depth: FROM and JOIN lists, subqueries)
// the emulation cannot answer over: a table of ours (songs_data), a table function
// (read_text(...)), a catalog it does not emulate (pg_proc). nullopt when there is none.
std::optional<SqlError> unsupported_relation(const std::string& normalized);

// Aliases (and bare names) of a FROM clause's relations -> the relation, with whether it
// is joined with LEFT JOIN (its columns are NULL when it has no row).
struct FromRelation {
  std::string alias;     // the alias, or the relation's own name without pg_catalog.
  std::string relation;  // "pg_class", "information_schema.columns"; "" for a subquery
  std::string subquery;  // "SELECT ..." of (SELECT ...) AS alias
  std::string function;  // "generate_series" of generate_series(1, 32) AS pos(n)
  bool left = false;     // LEFT [OUTER] JOIN
  std::string on;        // the join condition ("" for none)
};
// In FROM order; invalid_argument for a join form other than [INNER | LEFT [OUTER] | CROSS] JOIN ... [ON ...] and commas.
Result<std::vector<FromRelation>> from_relations(const std::string& from);

// The clauses after FROM, at the top level.
struct Clauses {
  std::string from, where, order_by;
  std::optional<long long> limit, offset;
  std::string unsupported;  // the first clause the emulation does not apply (GROUP BY, UNION ...); "" when none
};
Clauses split_clauses(const std::string& rest);

// A column reference ("c.relname", "pg_catalog.pg_class.oid", "relkind").
struct ColumnRef {
  std::string qualifier;  // "" when none
  std::string column;
};
std::optional<ColumnRef> column_ref(const std::string& text);

// A constant: 'text' (casts such as ::varchar dropped), a number, NULL (nullopt inside),
// replace() of constants.
std::optional<std::optional<std::string>> constant(const std::string& text);

// The value of a column in the row being tested; nullopt: a column the emulation does not know.
using ColumnLookup = std::function<std::optional<Cell>(const ColumnRef&)>;

// A condition of a WHERE clause or a join (or a boolean select-list item).
class Condition {
 public:
  // invalid_argument naming the part when it has another form, or nested deeper than
  // kMaxDepth ORs, ANDs and NOTs.
  static Result<Condition> parse(const std::string& text, int depth = 0);
  static constexpr int kMaxDepth = 64;
  // true / false for the row (NULL is not true), or invalid_argument for a column the
  // emulation does not know, or a part of an OR it could not read that the row needs.
  Result<bool> holds(const ColumnLookup& lookup) const;
  // true / false / NULL (nullopt), as SQL's three-valued logic has it.
  Result<std::optional<bool>> value(const ColumnLookup& lookup) const;
  // A part of an AND or OR in a form not read here, kept to be refused if a row needs it.
  bool unread() const { return kind_ == Kind::unread; }

 private:
  enum class Kind { constant, visible, boolean, compare, in_list, join, distinct, any_of, all_of, unread };
  Kind kind_ = Kind::constant;
  bool negate_ = false;
  bool value_ = true;  // Kind::constant
  ColumnRef left_, right_;
  std::string op_;
  std::vector<std::optional<std::string>> values_;
  std::optional<ValuePattern> pattern_;  // ~, LIKE and their kin: compiled once for every row
  std::vector<Condition> parts_;         // any_of (OR), all_of (AND): those read here first
  static Condition unread_part(std::string why);
  friend Result<std::vector<Condition>> conditions(const std::string& where);
  std::string unread_;                   // Kind::unread: why the part was not read
};
// `(pg_catalog.current_schemas(true))[1]` (pgjdbc's schema list) as the constant it is
// here: 'pg_catalog' (PostgreSQL puts the implicit schemas first), `schema` without them.
std::string fold_session_constants(std::string text, const std::string& schema);

// The ANDed parts of a WHERE clause ("" for none); those not read here (unread()) last.
Result<std::vector<Condition>> conditions(const std::string& where);

}  // namespace etl::pgwire
