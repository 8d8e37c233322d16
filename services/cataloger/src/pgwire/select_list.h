// Just enough parsing of a normalized SELECT (see normalize() in sql_text.h) for the
// endpoint to answer introspection itself: the select-list items with their output
// names and the name each is looked up by, and the text after the top-level FROM.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pgwire/local_result.h"

namespace etl::pgwire {

struct SelectItem {
  std::string expr;             // as written (normalized)
  std::string name;             // output column name: the alias, else the column or function name
  std::string key;              // the column or function it reads ("relname", "format_type", "version"); "" for others
  std::string alias;            // "" when none
  std::optional<Cell> literal;  // set for a constant ('x', 1, true, null)
  bool star = false;            // `*` or `t.*`
};

struct SelectParts {
  std::vector<SelectItem> items;
  std::string rest;  // everything after the top-level FROM ("" when there is none)
  bool has_from = false;
  bool distinct = false;  // SELECT DISTINCT (DISTINCT ON stays in the first item's text)
};

// nullopt when the statement is not a plain SELECT we can read.
std::optional<SelectParts> parse_select(const std::string& normalized);

// The names PostgreSQL gives the columns of the query `normalized`, in place of the
// engine's (`engine` has one per column): an unaliased function call is named after
// the function (count(*) -> count, not DuckDB's count_star()), a CASE `case`, a
// constant or an operator expression `?column?`, `x::type` after x, an unquoted alias
// or column lower-cased. A column whose name is not sure here (a subquery, CAST(),
// a typed literal) keeps the engine's; so do all of them when the select list cannot
// be read item by item (a star, DISTINCT ON, a count that differs, an alias the
// engine did not use).
std::vector<std::string> postgres_column_names(const std::string& normalized, std::vector<std::string> engine);

// `s` without the spaces around it (normalized SQL has no other whitespace).
std::string trim(std::string s);

// The position of the keyword `word` outside quotes and parentheses in `s` (from `from`), or npos.
std::size_t find_keyword(const std::string& s, const std::string& word, std::size_t from = 0);

// Top-level pieces of `text` separated by `sep` (parentheses and quotes respected).
std::vector<std::string> split_top_level(const std::string& text, char sep);

}  // namespace etl::pgwire
