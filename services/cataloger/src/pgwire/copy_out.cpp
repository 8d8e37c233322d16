#include "pgwire/copy_out.h"

#include <cstddef>

#include "etl/ascii.h"
#include "query/sql_guard.h"

namespace etl::pgwire {
namespace {

using cataloger::SqlToken;
using cataloger::TokenKind;
using cataloger::tokenize_sql;
using Tokens = std::vector<SqlToken>;

SqlError syntax(const std::string& what) { return {"42601", "syntax error in COPY: " + what}; }
SqlError unsupported(const std::string& what) { return {"0A000", what}; }
SqlError bad_value(const std::string& what) { return {"22023", what}; }

bool word(const Tokens& t, std::size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == TokenKind::word && t[i].text == w;
}
bool symbol(const Tokens& t, std::size_t i, std::string_view s) {
  return i < t.size() && t[i].kind == TokenKind::symbol && t[i].text == s;
}
bool name(const Tokens& t, std::size_t i) {
  return i < t.size() && (t[i].kind == TokenKind::word || t[i].kind == TokenKind::quoted_identifier);
}

// The text of `sql` from the start of token `from` to the end of token `to` (inclusive).
std::string source_between(std::string_view sql, const Tokens& t, std::size_t from, std::size_t to) {
  const auto begin = static_cast<std::size_t>(t[from].source.data() - sql.data());
  const auto end = static_cast<std::size_t>(t[to].source.data() + t[to].source.size() - sql.data());
  return std::string(sql.substr(begin, end - begin));
}

// A string option's value: '...' as written; E'...' with its backslash escapes
// (E'\t' is a tab), which the tokenizer keeps only as the escaped character.
std::optional<std::string> string_value(const SqlToken& token) {
  if (token.kind != TokenKind::string) return std::nullopt;
  if (token.source.empty() || (token.source[0] != 'e' && token.source[0] != 'E')) return token.text;
  std::string out;
  const std::string_view body = token.source.substr(2, token.source.size() - 3);
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\'' && i + 1 < body.size() && body[i + 1] == '\'') {
      out += '\'';
      ++i;
    } else if (body[i] == '\\' && i + 1 < body.size()) {
      const char c = body[++i];
      out += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c;
    } else {
      out += body[i];
    }
  }
  return out;
}

std::optional<bool> boolean(const SqlToken& token) {
  const std::string v = token.kind == TokenKind::string ? ascii_lower(token.text) : token.text;
  if (v == "true" || v == "on" || v == "1") return true;
  if (v == "false" || v == "off" || v == "0") return false;
  return std::nullopt;
}

struct Options {
  std::optional<std::string> format, delimiter, null_string, quote, escape, encoding;
  bool header = false, force_quote_all = false;
};

// One option of the parenthesized list: `name [value]`; returns the index after it.
std::optional<SqlError> list_option(const Tokens& t, std::size_t& i, Options& o) {
  if (!name(t, i)) return syntax("an option name was expected");
  const std::string option = t[i].text;
  ++i;
  const bool has_value = i < t.size() && !symbol(t, i, ",") && !symbol(t, i, ")");
  auto text = [&]() -> std::optional<std::string> {
    if (!has_value) return std::nullopt;
    if (auto s = string_value(t[i])) return s;
    if (t[i].kind == TokenKind::word || t[i].kind == TokenKind::number) return t[i].text;
    return std::nullopt;
  };
  if (option == "header") {
    if (has_value) {
      if (word(t, i, "match")) return unsupported("COPY HEADER MATCH is only for COPY FROM");
      auto b = boolean(t[i]);
      if (!b) return bad_value("header requires a Boolean value or \"match\"");
      o.header = *b;
      ++i;
    } else {
      o.header = true;
    }
    return std::nullopt;
  }
  if (option == "force_quote") {
    if (symbol(t, i, "*")) {
      o.force_quote_all = true;
      ++i;
      return std::nullopt;
    }
    return unsupported("COPY FORCE_QUOTE takes * here (every column), not a column list");
  }
  std::optional<std::string>* slot = option == "format"      ? &o.format
                                     : option == "delimiter" ? &o.delimiter
                                     : option == "null"      ? &o.null_string
                                     : option == "quote"     ? &o.quote
                                     : option == "escape"    ? &o.escape
                                     : option == "encoding"  ? &o.encoding
                                                             : nullptr;
  if (!slot) return unsupported("COPY option \"" + option + "\" is not supported here");
  auto value = text();
  if (!value) return syntax("option " + option + " needs a value");
  *slot = std::move(value);
  ++i;
  return std::nullopt;
}

// The options before PostgreSQL 9.0's list (psql's \copy passes them through):
// [BINARY] [DELIMITER [AS] 'c'] [NULL [AS] 's'] [CSV [HEADER] [QUOTE [AS] 'q'] [ESCAPE [AS] 'e'] [FORCE QUOTE *]] [ENCODING 'e'].
std::optional<SqlError> legacy_options(const Tokens& t, std::size_t& i, Options& o) {
  auto string_after = [&](std::optional<std::string>& slot, const char* what) -> std::optional<SqlError> {
    ++i;
    if (word(t, i, "as")) ++i;
    auto s = i < t.size() ? string_value(t[i]) : std::nullopt;
    if (!s) return syntax(std::string(what) + " needs a quoted value");
    slot = std::move(s);
    ++i;
    return std::nullopt;
  };
  while (i < t.size()) {
    std::optional<SqlError> err;
    if (word(t, i, "binary")) {
      o.format = "binary";
      ++i;
    } else if (word(t, i, "csv")) {
      o.format = "csv";
      ++i;
    } else if (word(t, i, "header")) {
      o.header = true;
      ++i;
    } else if (word(t, i, "delimiter")) {
      err = string_after(o.delimiter, "DELIMITER");
    } else if (word(t, i, "null")) {
      err = string_after(o.null_string, "NULL");
    } else if (word(t, i, "quote")) {
      err = string_after(o.quote, "QUOTE");
    } else if (word(t, i, "escape")) {
      err = string_after(o.escape, "ESCAPE");
    } else if (word(t, i, "encoding")) {
      err = string_after(o.encoding, "ENCODING");
    } else if (word(t, i, "force") && word(t, i + 1, "quote")) {
      if (!symbol(t, i + 2, "*")) return unsupported("COPY FORCE QUOTE takes * here (every column), not a column list");
      o.force_quote_all = true;
      i += 3;
    } else {
      return syntax("unexpected \"" + std::string(t[i].source) + "\"");
    }
    if (err) return err;
  }
  return std::nullopt;
}

std::optional<SqlError> single_byte(const std::optional<std::string>& value, const char* what, char& out) {
  if (!value) return std::nullopt;
  if (value->size() != 1) return bad_value(std::string("COPY ") + what + " must be a single one-byte character");
  out = (*value)[0];
  return std::nullopt;
}

// Options checked as PostgreSQL checks them, into the format.
std::optional<SqlError> apply(const Options& o, CopyFormat& f) {
  const std::string format = o.format ? ascii_lower(*o.format) : "text";
  if (format == "binary") return unsupported("COPY BINARY is not supported here: use FORMAT text or csv");
  if (format != "text" && format != "csv") return bad_value("COPY format \"" + format + "\" not recognized");
  f.csv = format == "csv";
  f.delimiter = f.csv ? ',' : '\t';
  f.null_string = f.csv ? "" : "\\N";
  f.header = o.header;
  if (auto err = single_byte(o.delimiter, "delimiter", f.delimiter)) return err;
  if (f.delimiter == '\n' || f.delimiter == '\r') return bad_value("COPY delimiter cannot be newline or carriage return");
  if (!f.csv && f.delimiter == '\\') return bad_value("COPY delimiter cannot be \"\\\"");
  if (o.null_string) f.null_string = *o.null_string;
  if (f.null_string.find_first_of("\r\n") != std::string::npos)
    return bad_value("COPY null representation cannot use newline or carriage return");
  if (!f.csv && (o.quote || o.escape || o.force_quote_all))
    return unsupported("COPY QUOTE, ESCAPE and FORCE_QUOTE are available only in CSV mode");
  if (auto err = single_byte(o.quote, "quote", f.quote)) return err;
  f.escape = f.quote;
  if (auto err = single_byte(o.escape, "escape", f.escape)) return err;
  if (f.csv && f.delimiter == f.quote) return bad_value("COPY delimiter and quote must be different");
  f.force_quote_all = o.force_quote_all;
  if (o.encoding) {
    const std::string e = ascii_lower(*o.encoding);
    if (e != "utf8" && e != "utf-8" && e != "unicode") return unsupported("COPY writes UTF8 only, not " + *o.encoding);
  }
  return std::nullopt;
}

void text_value(std::string& out, std::string_view v, char delimiter) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c == delimiter) out += '\\';
        out += c;
    }
  }
}

void csv_value(std::string& out, std::string_view v, const CopyFormat& f) {
  const bool quote = f.force_quote_all || v == f.null_string || v == "\\." ||
                     v.find_first_of(std::string{f.delimiter, f.quote, '\n', '\r'}) != std::string_view::npos;
  if (!quote) {
    out += v;
    return;
  }
  out += f.quote;
  for (char c : v) {
    if (c == f.quote || c == f.escape) out += f.escape;
    out += c;
  }
  out += f.quote;
}

}  // namespace

std::optional<CopyStatement> parse_copy(std::string_view sql) {
  auto tokens = tokenize_sql(sql);
  if (!tokens || !word(*tokens, 0, "copy")) return std::nullopt;
  const Tokens& t = *tokens;
  CopyStatement out;
  auto fail = [&](SqlError e) {
    out.error = std::move(e);
    return out;
  };
  std::size_t i = 1;
  std::string query;
  if (symbol(t, i, "(")) {  // COPY ( query ) TO ...
    int depth = 0;
    std::size_t close = i;
    for (; close < t.size(); ++close) {
      if (symbol(t, close, "(")) ++depth;
      if (symbol(t, close, ")") && --depth == 0) break;
    }
    if (close >= t.size() || close == i + 1) return fail(syntax("COPY ( query ) needs a query in its parentheses"));
    // A query, as PostgreSQL's grammar has it there: never a command such as SET,
    // which the session would carry out before finding it returns no rows.
    if (!word(t, i + 1, "select") && !word(t, i + 1, "with") && !word(t, i + 1, "values") && !word(t, i + 1, "table") &&
        !symbol(t, i + 1, "("))
      return fail(syntax("COPY ( query ) takes a SELECT, WITH, VALUES or TABLE query, not " +
                         std::string(t[i + 1].source)));
    query = source_between(sql, t, i + 1, close - 1);
    i = close + 1;
  } else if (name(t, i)) {  // COPY [schema.]table [( columns )] TO ...
    std::size_t last = i;
    if (symbol(t, i + 1, ".") && name(t, i + 2)) last = i + 2;
    const std::string table = source_between(sql, t, i, last);
    i = last + 1;
    std::string columns = "*";
    if (symbol(t, i, "(")) {
      std::size_t close = i + 1;
      while (close < t.size() && !symbol(t, close, ")")) ++close;
      if (close >= t.size() || (close - i - 1) % 2 == 0) return fail(syntax("an empty, unclosed or unfinished column list"));
      for (std::size_t k = i + 1; k < close; ++k)
        if (!(k % 2 == (i + 1) % 2 ? name(t, k) : symbol(t, k, ",")))
          return fail(syntax("a column list is names separated by commas"));
      columns = source_between(sql, t, i + 1, close - 1);
      i = close + 1;
    }
    query = "SELECT " + columns + " FROM " + table;
  } else {
    return fail(syntax("COPY needs a table name or a ( query )"));
  }
  if (word(t, i, "from"))
    return fail({"42501", "COPY FROM writes to a table, and this endpoint is read-only"});
  if (!word(t, i, "to")) return fail(syntax("TO STDOUT was expected"));
  ++i;
  if (!word(t, i, "stdout"))
    return fail({"42501", "COPY TO a file or a program would run on the server; use COPY ... TO STDOUT (psql's \\copy "
                          "writes the file on your side)"});
  ++i;
  Options options;
  if (word(t, i, "with")) ++i;
  if (symbol(t, i, "(")) {
    ++i;
    while (true) {
      if (auto err = list_option(t, i, options)) return fail(*err);
      if (symbol(t, i, ",")) {
        ++i;
        continue;
      }
      if (symbol(t, i, ")")) {
        ++i;
        break;
      }
      return fail(syntax("\",\" or \")\" was expected in the option list"));
    }
    if (i < t.size()) return fail(syntax("unexpected \"" + std::string(t[i].source) + "\" after the options"));
  } else if (auto err = legacy_options(t, i, options)) {
    return fail(*err);
  }
  CopyFormat format;
  if (auto err = apply(options, format)) return fail(*err);
  out.copy = CopyOut{std::move(query), std::move(format)};
  return out;
}

std::string copy_row(const std::vector<std::optional<std::string>>& values, const CopyFormat& format) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += format.delimiter;
    if (!values[i]) out += format.null_string;
    else if (format.csv) csv_value(out, *values[i], format);
    else text_value(out, *values[i], format.delimiter);
  }
  out += '\n';
  return out;
}

std::string copy_header(const std::vector<std::string>& names, const CopyFormat& format) {
  std::vector<std::optional<std::string>> values(names.begin(), names.end());
  CopyFormat header = format;
  header.force_quote_all = false;  // PostgreSQL quotes a header name only where it must
  return copy_row(values, header);
}

}  // namespace etl::pgwire
