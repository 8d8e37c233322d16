// Regular expressions in the PostgreSQL endpoint, over statement text and catalog values.
// They are RE2's: matching is linear in the text, never recurses per character and uses
// bounded memory. std::regex, used here before, is none of these: a client's
// `relname ~ '^((.*)*(.*)*...x)$'` ran for hours on a session thread, and its matcher
// overflowed the stack on a long statement.
#pragma once

#include <re2/re2.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::pgwire {

// The capture groups of a match. group(0) is the whole match; a group that took no part
// in it is nullopt (std::smatch's `matched == false`).
class Match {
 public:
  std::optional<std::string> group(std::size_t i) const { return i < groups_.size() ? groups_[i] : std::nullopt; }
  std::string str(std::size_t i = 0) const { return group(i).value_or(std::string()); }
  bool matched(std::size_t i) const { return group(i).has_value(); }
  std::size_t position() const { return position_; }  // of the whole match in the text
  std::size_t length() const { return groups_.empty() || !groups_[0] ? 0 : groups_[0]->size(); }

 private:
  friend std::optional<Match> match_at(std::string_view, const RE2&, std::size_t, RE2::Anchor);
  std::vector<std::optional<std::string>> groups_;
  std::size_t position_ = 0;
};

// The first match of `re` in `text` at or after `from` (RE2::UNANCHORED), or one that spans
// all of the text (RE2::ANCHOR_BOTH); nullopt when there is none.
std::optional<Match> match_at(std::string_view text, const RE2& re, std::size_t from, RE2::Anchor anchor);
inline std::optional<Match> search(std::string_view text, const RE2& re) {
  return match_at(text, re, 0, RE2::UNANCHORED);
}
inline std::optional<Match> full_match(std::string_view text, const RE2& re) {
  return match_at(text, re, 0, RE2::ANCHOR_BOTH);
}

// A client's pattern in a catalog condition, compiled once for all the rows it tests:
//  - `~` / `!~`: a regular expression found anywhere in the value (PostgreSQL's
//    operator; RE2's syntax, which covers what psql's \d patterns and BI tools send);
//  - LIKE / ILIKE (and NOT): the whole value, `%` any run of characters, `_` one,
//    a backslash makes the next character literal; ILIKE ignores case.
// The memory a pattern may compile to is bounded; invalid_argument for a pattern RE2
// does not accept (syntax, back-references, too large).
class ValuePattern {
 public:
  static Result<ValuePattern> compile(std::string_view op, std::string_view pattern);
  bool matches(std::string_view value) const;

 private:
  std::shared_ptr<const RE2> re_;  // shared: a Condition is copied with its pattern
  bool whole_ = false;             // LIKE: the whole value; ~: anywhere in it
};

// The RE2 pattern text of a LIKE pattern (exposed for tests).
std::string like_to_regex(std::string_view like);

}  // namespace etl::pgwire
