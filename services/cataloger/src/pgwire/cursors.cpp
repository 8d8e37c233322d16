#include "pgwire/cursors.h"

#include <cctype>
#include <charconv>

#include "etl/ascii.h"
#include "pgwire/sql_text.h"

namespace etl::pgwire {
namespace {

// Reads the words of a statement's head from the client's own text: keywords
// case-insensitively, identifiers folded or quoted as PostgreSQL reads them.
class Words {
 public:
  explicit Words(const std::string& sql) : s_(sql) {}

  void skip_blanks() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  // The next word if it is `keyword` (consumed), else false.
  bool take(std::string_view keyword) {
    skip_blanks();
    std::size_t end = i_;
    while (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) ++end;
    if (end - i_ != keyword.size() || ascii_lower(std::string_view(s_).substr(i_, end - i_)) != keyword) return false;
    i_ = end;
    return true;
  }
  // An identifier: "quoted" (kept, "" for a quote) or plain (folded to lower case).
  std::optional<std::string> name() {
    skip_blanks();
    if (i_ < s_.size() && s_[i_] == '"') {
      std::string out;
      for (std::size_t j = i_ + 1; j < s_.size(); ++j) {
        if (s_[j] != '"') {
          out += s_[j];
          continue;
        }
        if (j + 1 < s_.size() && s_[j + 1] == '"') {
          out += '"';
          ++j;
          continue;
        }
        i_ = j + 1;
        if (out.empty()) return std::nullopt;
        return out;
      }
      return std::nullopt;
    }
    std::size_t end = i_;
    while (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_' || s_[end] == '$')) ++end;
    if (end == i_ || std::isdigit(static_cast<unsigned char>(s_[i_]))) return std::nullopt;
    std::string out = ascii_lower(std::string_view(s_).substr(i_, end - i_));
    i_ = end;
    return out;
  }
  // An integer (a leading '-' included).
  std::optional<long long> number() {
    skip_blanks();
    long long v = 0;
    auto r = std::from_chars(s_.data() + i_, s_.data() + s_.size(), v);
    if (r.ec != std::errc{}) return std::nullopt;
    i_ = static_cast<std::size_t>(r.ptr - s_.data());
    return v;
  }
  // Only blanks and ';' are left.
  bool at_end() {
    skip_blanks();
    while (i_ < s_.size() && (s_[i_] == ';' || std::isspace(static_cast<unsigned char>(s_[i_])))) ++i_;
    return i_ == s_.size();
  }
  std::string rest() const { return s_.substr(i_); }

 private:
  const std::string& s_;
  std::size_t i_ = 0;
};

using Parsed = std::variant<CursorStatement, SqlError>;

Parsed unsupported(const std::string& what) {
  return SqlError{"0A000", what + " is not supported by this endpoint: its cursors move forward only and return text or "
                                  "binary per the Bind that fetches"};
}
Parsed syntax(const std::string& statement) { return SqlError{"42601", "syntax error in " + statement}; }

std::optional<Parsed> declare(Words& w) {
  CursorStatement c;
  c.kind = CursorStatement::Kind::declare;
  auto name = w.name();
  if (!name) return syntax("DECLARE");
  c.name = *name;
  if (w.take("binary")) return unsupported("DECLARE ... BINARY");
  (void)(w.take("insensitive") || w.take("asensitive"));
  if (w.take("scroll")) return unsupported("DECLARE ... SCROLL");
  if (w.take("no") && !w.take("scroll")) return syntax("DECLARE");
  if (!w.take("cursor")) return syntax("DECLARE");
  if (w.take("with")) {
    if (!w.take("hold")) return syntax("DECLARE");
    c.hold = true;
  } else if (w.take("without")) {
    if (!w.take("hold")) return syntax("DECLARE");
  }
  if (!w.take("for")) return syntax("DECLARE");
  w.skip_blanks();
  c.query = w.rest();
  while (!c.query.empty() && (c.query.back() == ';' || std::isspace(static_cast<unsigned char>(c.query.back()))))
    c.query.pop_back();
  const std::string head = normalize(c.query);
  bool query = false;
  for (const char* p : {"select ", "with ", "values ", "table ", "("}) query = query || head.rfind(p, 0) == 0;
  if (!query) return SqlError{"42601", "DECLARE CURSOR takes a query (SELECT, WITH, VALUES, TABLE)"};
  return c;
}

// FETCH | MOVE [NEXT | FORWARD [n | ALL] | n | ALL] [FROM | IN] name
std::optional<Parsed> fetch(Words& w, CursorStatement::Kind kind) {
  const std::string statement = kind == CursorStatement::Kind::fetch ? "FETCH" : "MOVE";
  CursorStatement c;
  c.kind = kind;
  bool all = false;
  for (const char* backward : {"prior", "first", "last", "absolute", "relative", "backward"})
    if (w.take(backward)) return unsupported(statement + " " + ascii_upper(backward));
  if (w.take("next")) {
    c.count = 1;
  } else {
    (void)w.take("forward");
    if (w.take("all")) {
      c.count = -1;
      all = true;
    } else if (auto n = w.number()) {
      c.count = *n;
    }
  }
  if (c.count == 0) return unsupported(statement + " 0 (the current row again)");
  if (c.count < -1 || (c.count == -1 && !all)) return unsupported(statement + " with a negative count (backward)");
  (void)(w.take("from") || w.take("in"));
  auto name = w.name();
  if (!name || !w.at_end()) return syntax(statement);
  c.name = *name;
  return c;
}

}  // namespace

std::optional<std::variant<CursorStatement, SqlError>> parse_cursor_statement(const std::string& sql) {
  Words w(sql);
  if (w.take("declare")) return declare(w);
  if (w.take("fetch")) return fetch(w, CursorStatement::Kind::fetch);
  if (w.take("move")) return fetch(w, CursorStatement::Kind::move);
  if (w.take("close")) {
    CursorStatement c;
    if (w.take("all")) {
      c.kind = CursorStatement::Kind::close_all;
    } else {
      auto name = w.name();
      if (!name) return syntax("CLOSE");
      c.kind = CursorStatement::Kind::close;
      c.name = *name;
    }
    if (!w.at_end()) return syntax("CLOSE");
    return c;
  }
  return std::nullopt;
}

}  // namespace etl::pgwire
