#include "pgwire/commands.h"

#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

#include "etl/ascii.h"
#include "pgwire/patterns.h"
#include "pgwire/sql_text.h"

namespace etl::pgwire {
namespace {

bool starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string unquote(std::string v) {
  while (!v.empty() && v.back() == ' ') v.pop_back();
  if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
  return v;
}

// SHOW names that differ from the setting's key.
std::string setting_key(std::string name) {
  name = ascii_lower(unquote(name));
  if (name == "transaction isolation level") return "transaction_isolation";
  if (name == "time zone") return "timezone";
  return name;
}

// A setting's name as PostgreSQL writes it in SHOW's column and SHOW ALL's rows: its
// own case for the few that have one (the keys here are lower case).
std::string canonical_name(const std::string& key) {
  if (key == "timezone") return "TimeZone";
  if (key == "datestyle") return "DateStyle";
  if (key == "intervalstyle") return "IntervalStyle";
  return key;
}

LocalOutcome show(const std::string& name_text, const SessionInfo& s) {
  LocalOutcome o;
  o.result.returns_rows = true;
  if (name_text == "all") {
    o.result.columns = {{"name"}, {"setting"}, {"description"}};
    for (const auto& [k, v] : s.settings) o.result.rows.push_back({canonical_name(k), v, std::string()});
    o.result.tag = "SHOW";
    return o;
  }
  std::string key = setting_key(name_text);
  auto it = s.settings.find(key);
  if (it == s.settings.end()) return local_error("42704", "unrecognized configuration parameter \"" + key + "\"");
  o.result.columns = {{canonical_name(key)}};
  o.result.rows.push_back({it->second});
  o.result.tag = "SHOW";
  return o;
}

bool utc_zone(std::string v) {
  v = ascii_lower(v);
  return v == "utc" || v == "etc/utc" || v == "gmt" || v == "z" || v == "zulu" || v == "+00" || v == "0" ||
         v == "+00:00" || v == "universal";
}

// Like POST /v1/query's max_age_s: up to 7 days.
constexpr long long kMaxAgeSeconds = 7LL * 86400;

// A setting back to its start-up value (gone when it has none).
void reset(const std::string& name, SessionInfo& s) {
  if (auto it = s.defaults.find(name); it != s.defaults.end()) s.settings[name] = it->second;
  else s.settings.erase(name);
}

// DEALLOCATE [PREPARE] { name | ALL }
LocalOutcome deallocate(std::string rest) {
  if (starts(rest, "prepare ")) rest = rest.substr(8);
  LocalOutcome o{command("DEALLOCATE" + std::string(rest == "all" ? " ALL" : "")), std::nullopt, TxEffect::none, {}};
  if (rest == "all") {
    o.release.kind = Release::Kind::all_statements;
    return o;
  }
  const bool quoted = rest.size() >= 2 && rest.front() == '"' && rest.back() == '"';
  std::string name = quoted ? rest.substr(1, rest.size() - 2) : rest;
  if (name.empty() || (!quoted && name.find_first_of(" ;\"") != std::string::npos))
    return local_error("42601", "syntax error in DEALLOCATE");
  o.release = Release{Release::Kind::statement, name};
  return o;
}

LocalOutcome set(const std::string& stmt, SessionInfo& s) {
  // SET [SESSION | LOCAL] name { TO | = } value | SET TIME ZONE value | SET NAMES value
  std::string rest = stmt.substr(4);
  for (const char* scope : {"session ", "local "})
    if (starts(rest, scope) && !starts(rest, "session characteristics") && !starts(rest, "session authorization"))
      rest = rest.substr(std::string(scope).size());
  if (starts(rest, "role") || starts(rest, "session authorization"))
    return local_error("42501", "permission denied: the endpoint does not change roles");
  if (starts(rest, "transaction") || starts(rest, "session characteristics")) {
    if (rest.find("read write") != std::string::npos)
      return local_error("25006", "cannot set a read-write transaction: the endpoint is read-only");
    return LocalOutcome{command("SET"), std::nullopt, TxEffect::none, {}};
  }
  std::string name, value;
  if (starts(rest, "time zone ")) name = "timezone", value = rest.substr(10);
  else if (starts(rest, "names ")) name = "client_encoding", value = rest.substr(6);
  else {
    static const RE2 assign(R"(("[^"]+"|[a-z_][a-z0-9_.]*)\s*(=|to\s)\s*(.*))");
    auto m = full_match(rest, assign);
    if (!m) return local_error("42601", "syntax error in SET");
    name = ascii_lower(unquote(m->str(1)));
    value = m->str(3);
  }
  value = unquote(value);
  if (name == "client_encoding" && ascii_lower(value) != "utf8" && ascii_lower(value) != "unicode" && ascii_lower(value) != "utf-8")
    return local_error("22023", "client_encoding " + value + " is not supported: the endpoint speaks UTF8 only");
  if (name == "timezone" && !utc_zone(value) && ascii_lower(value) != "default" && ascii_lower(value) != "local")
    return local_error("22023", "time zone " + value + " is not supported: timestamps are in UTC (SET TimeZone = 'UTC')");
  if (name == "statement_timeout" && ascii_lower(value) != "default") {
    auto ms = parse_duration_ms(value);
    if (!ms) return local_error("22023", "invalid value for statement_timeout: " + value);
    // 0 (no limit in PostgreSQL) and values over the ceiling run with the ceiling: SHOW says so.
    value = format_duration_ms(*ms <= 0 || *ms > s.max_statement_timeout_ms ? s.max_statement_timeout_ms : *ms);
  }
  if (name == "etl.max_age_s" && ascii_lower(value) != "default") {
    long long seconds = -1;
    auto r = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || seconds < 0 || seconds > kMaxAgeSeconds)
      return local_error("22023", "invalid value for parameter \"etl.max_age_s\": \"" + value +
                                      "\" (whole seconds from 0 to " + std::to_string(kMaxAgeSeconds) + ")");
  }
  if (name == "default_transaction_read_only" || name == "transaction_read_only") {
    if (ascii_lower(value) == "off" || ascii_lower(value) == "false" || value == "0")
      return local_error("25006", "the endpoint is read-only");
  }
  if (name == "session_replication_role" || name == "role" || name == "session_authorization")
    return local_error("42501", "permission denied to set parameter \"" + name + "\"");
  if (name == "timezone" || name == "client_encoding") value = name == "timezone" ? "UTC" : "UTF8";
  if (ascii_lower(value) == "default") reset(name, s);
  else s.settings[name] = value;
  if (s.settings.size() > 256) s.settings.erase(name);  // bounded per connection
  return LocalOutcome{command("SET"), std::nullopt, TxEffect::none, {}};
}

std::optional<LocalOutcome> tx_command(const std::string& n) {
  auto tx = [](const char* tag, TxEffect effect) { return LocalOutcome{command(tag), std::nullopt, effect, {}}; };
  if (n == "begin" || starts(n, "begin ") || starts(n, "start transaction")) {
    if (n.find("read write") != std::string::npos) return local_error("25006", "the endpoint is read-only");
    return tx("BEGIN", TxEffect::begin);
  }
  if (n == "commit" || n == "end" || starts(n, "commit ") || starts(n, "end ")) return tx("COMMIT", TxEffect::commit);
  if (starts(n, "rollback to ")) return tx("ROLLBACK", TxEffect::none);
  if (n == "rollback" || n == "abort" || starts(n, "rollback ") || starts(n, "abort ")) return tx("ROLLBACK", TxEffect::rollback);
  if (starts(n, "savepoint ")) return tx("SAVEPOINT", TxEffect::none);
  if (starts(n, "release ")) return tx("RELEASE", TxEffect::none);
  return std::nullopt;
}

}  // namespace

LocalResult command(std::string tag) {
  LocalResult r;
  r.tag = std::move(tag);
  return r;
}

std::string version_string() {
  return std::string("PostgreSQL ") + kServerVersion + " (spotify-etl cataloger; read-only SQL over the catalog's tables)";
}

void default_settings(SessionInfo& s) {
  s.settings = {{"server_version", kServerVersion},
                {"server_version_num", "150000"},
                {"server_encoding", "UTF8"},
                {"client_encoding", "UTF8"},
                {"datestyle", "ISO, MDY"},
                {"intervalstyle", "postgres"},
                {"integer_datetimes", "on"},
                {"standard_conforming_strings", "on"},
                {"timezone", "UTC"},
                {"is_superuser", "off"},
                {"session_authorization", s.user},
                {"application_name", ""},
                {"transaction_isolation", "read committed"},
                {"default_transaction_isolation", "read committed"},
                {"transaction_read_only", "on"},
                {"default_transaction_read_only", "on"},
                {"search_path", s.schema},
                {"max_identifier_length", "63"},
                {"statement_timeout", format_duration_ms(s.max_statement_timeout_ms)},
                {"lc_messages", "C"},
                {"lc_collate", "C"},
                {"lc_ctype", "C"},
                {"extra_float_digits", "1"}};
  s.defaults = s.settings;
}

std::optional<long long> parse_duration_ms(const std::string& value) {
  std::string v = ascii_lower(unquote(value));
  long long n = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec != std::errc{} || n < 0) return std::nullopt;
  std::string unit(r.ptr, static_cast<std::size_t>(v.data() + v.size() - r.ptr));
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  if (unit.empty() || unit == "ms") return n;
  if (unit == "s") return n * 1000;
  if (unit == "min") return n * 60000;
  if (unit == "h") return n * 3600000;
  if (unit == "d") return n * 86400000;
  return std::nullopt;
}

std::string format_duration_ms(long long ms) {
  if (ms == 0) return "0";
  for (auto [unit, size] : {std::pair<const char*, long long>{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}})
    if (ms % size == 0) return std::to_string(ms / size) + unit;
  return std::to_string(ms) + "ms";
}

std::optional<SqlError> apply_startup_options(const std::string& options, SessionInfo& s) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < options.size(); ++i) {
    const char c = options[i];
    if (c == '\\' && i + 1 < options.size()) {
      word += options[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(std::exchange(word, std::string()));
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  constexpr std::size_t kMaxOptions = 64;
  if (words.size() > 2 * kMaxOptions) return SqlError{"08P01", "too many settings in the startup packet's options"};
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    std::string setting;
    if (w == "-c" && i + 1 < words.size()) {
      setting = words[++i];
    } else if (starts(w, "-c") && w.size() > 2) {
      setting = w.substr(2);
    } else if (starts(w, "--") && w.size() > 2) {
      setting = w.substr(2);  // --statement-timeout=5s: the name's dashes are underscores
      for (std::size_t k = 0; k < setting.size() && setting[k] != '='; ++k)
        if (setting[k] == '-') setting[k] = '_';
    } else {
      return SqlError{"08P01", "unsupported in the startup packet's options: \"" + w.substr(0, 64) +
                                   "\" (only -c name=value and --name=value settings)"};
    }
    const auto eq = setting.find('=');
    const std::string name = ascii_lower(setting.substr(0, eq));
    if (eq == std::string::npos || eq == 0)
      return SqlError{"42601", "-c " + setting.substr(0, 64) + " requires a value (-c name=value)"};
    const std::string value = setting.substr(eq + 1);
    static const RE2 plain_name(R"([a-z_][a-z0-9_.]*)");
    if (!full_match(name, plain_name) || value.find('\'') != std::string::npos)
      return SqlError{"22023", "invalid setting in the startup packet's options: " + setting.substr(0, 64)};
    if (auto o = set("set " + name + " = '" + value + "'", s); o.error) return o.error;
  }
  return std::nullopt;
}

std::optional<LocalOutcome> session_command(const std::string& n, SessionInfo& s) {
  if (auto tx = tx_command(n)) return tx;
  if (starts(n, "set ")) return set(n, s);
  if (starts(n, "show ")) return show(n.substr(5), s);
  if (n == "reset all") {
    s.settings = s.defaults;
    return LocalOutcome{command("RESET"), std::nullopt, TxEffect::none, {}};
  }
  if (starts(n, "reset ")) {
    reset(setting_key(n.substr(6)), s);
    return LocalOutcome{command("RESET"), std::nullopt, TxEffect::none, {}};
  }
  if (starts(n, "deallocate ")) return deallocate(n.substr(11));
  // The session checks the transaction state and resets the settings (Session::release).
  if (n == "discard all") return LocalOutcome{command("DISCARD ALL"), std::nullopt, TxEffect::none, {Release::Kind::everything, ""}};
  // Nothing of these exists here: no plans cached across statements, sequences or temporary tables.
  if (n == "discard plans" || n == "discard sequences" || n == "discard temp" || n == "discard temporary")
    return LocalOutcome{command("DISCARD " + ascii_upper(n.substr(8))), std::nullopt, TxEffect::none, {}};
  if (starts(n, "unlisten ")) return LocalOutcome{command("UNLISTEN"), std::nullopt, TxEffect::none, {}};
  if (starts(n, "listen ") || starts(n, "notify "))
    return local_error("0A000", "LISTEN/NOTIFY are not supported by this endpoint");
  return std::nullopt;
}

std::optional<Cell> session_value(const SelectItem& item, const SessionInfo& s) {
  const std::string& k = item.key;
  auto text = [](std::string v) { return Cell{std::move(v), oid::text}; };
  if (k == "version") return text(version_string());
  if (k == "current_schema") return text(s.schema);
  if (k == "current_database" || k == "current_catalog") return text(s.database);
  if (k == "current_user" || k == "session_user" || k == "user" || k == "current_role") return text(s.user);
  if (k == "pg_backend_pid") return Cell{std::to_string(s.pid), oid::int4};
  if (k == "current_schemas") {  // with the implicit schemas (true): pg_catalog first, as PostgreSQL has it
    static const RE2 implicit(R"(current_schemas\s*\(\s*true\s*\))");
    return Cell{search(item.expr, implicit) ? "{pg_catalog," + s.schema + "}" : "{" + s.schema + "}", oid::text_array};
  }
  if (k == "inet_server_addr" || k == "inet_client_addr") return Cell{std::nullopt, oid::text};
  if (k == "pg_is_in_recovery") return Cell{std::string("f"), oid::boolean};
  // asyncpg's pool runs it (with CLOSE ALL, UNLISTEN *, RESET ALL) on every connection it
  // takes back. No session holds advisory locks here, so there is nothing to release.
  if (k == "pg_advisory_unlock_all") return Cell{std::string(), oid::void_type};
  if (k == "current_setting") {
    static const RE2 arg(R"(current_setting\s*\(\s*'([^']*)')");
    auto m = search(item.expr, arg);
    if (!m) return std::nullopt;
    auto it = s.settings.find(ascii_lower(m->str(1)));
    if (it == s.settings.end()) return std::nullopt;
    return text(it->second);
  }
  return std::nullopt;
}

// Whether an item is a session function's call and nothing more (`current_setting('x')`,
// not `current_setting('x')::int / 100`, which the engine evaluates over the inlined value).
bool only_a_call(const std::string& expr) {
  static const RE2 word(R"((?:pg_catalog\.)?[a-z_]+)");
  if (full_match(expr, word)) return true;
  auto open = expr.find('(');
  if (open == std::string::npos || expr.back() != ')' || !full_match(trim(expr.substr(0, open)), word)) return false;
  int depth = 0;
  for (std::size_t i = open; i < expr.size(); ++i) {
    if (expr[i] == '\'') {
      i = expr.find('\'', i + 1);
      if (i == std::string::npos) return false;
      continue;
    }
    if (expr[i] == '(') ++depth;
    if (expr[i] == ')' && --depth == 0) return i == expr.size() - 1;
  }
  return false;
}

std::optional<LocalOutcome> session_select(const SelectParts& select, const SessionInfo& s) {
  if (select.has_from || select.items.empty()) return std::nullopt;
  for (const auto& item : select.items)
    if (!item.literal && !only_a_call(item.expr)) return std::nullopt;
  LocalOutcome o;
  o.result.returns_rows = true;
  std::vector<std::optional<std::string>> row;
  bool any_function = false;
  for (const auto& item : select.items) {
    std::optional<Cell> cell = item.literal;
    if (!cell && item.key == "current_setting") {  // a setting this endpoint does not have: as PostgreSQL says
      static const RE2 call(R"(^(?:pg_catalog\.)?current_setting\s*\(\s*'([^']*)'\s*(,\s*(true|false)\s*)?\)$)");
      if (auto m = full_match(item.expr, call); m && !s.settings.count(ascii_lower(m->str(1)))) {
        if (m->str(3) != "true") return local_error("42704", "unrecognized configuration parameter \"" + m->str(1) + "\"");
        cell = Cell{std::nullopt, oid::text};  // missing_ok: NULL
        any_function = true;
      }
    }
    if (!cell) {
      cell = session_value(item, s);
      if (!cell) return std::nullopt;  // something else: the engine answers
      any_function = true;
    }
    o.result.columns.push_back({item.name, cell->type_oid});
    row.push_back(cell->value);
  }
  if (!any_function) return std::nullopt;  // SELECT 1 goes through the engine like any query
  o.result.rows.push_back(std::move(row));
  o.result.tag = "SELECT 1";
  return o;
}

Result<std::string> session_values_inlined(std::string_view sql, const SessionInfo& s) {
  bool any = false;
  for (std::string_view name : {"version", "current_", "session_user", "user", "pg_backend_pid", "inet_server_addr",
                                "inet_client_addr", "pg_is_in_recovery"})
    any = any || mentions(sql, name);
  if (!any) return std::string(sql);
  const auto tokens = Tokens::of(sql);
  if (!tokens) return std::string(sql);
  const Tokens& t = *tokens;
  const std::vector<Parenthesis> parens = parentheses(t);
  Splice out(sql);
  for (std::size_t k = 0; k < t.size(); ++k) {
    const std::string_view w = t.word_at(k);
    if (w.empty() || t.symbol(k + 1, '.')) continue;
    // pg_catalog.version(): the qualifier goes with the call; another qualifier is a column's table.
    const bool qualified = k >= 2 && t.symbol(k - 1, '.');
    if (qualified && !t.word(k - 2, "pg_catalog")) continue;
    const std::size_t from = qualified ? k - 2 : k;
    const bool call = t.symbol(k + 1, '(') && parens[k + 1].close != std::string::npos;
    const bool no_arguments = call && parens[k + 1].close == k + 2;
    std::optional<std::string> literal;
    std::size_t to = k;  // the last token replaced
    if (!call && (w == "current_user" || w == "session_user" || w == "user" || w == "current_role")) {
      literal = quote_literal(s.user);
    } else if (!call && (w == "current_catalog")) {
      literal = quote_literal(s.database);
    } else if (!call && w == "current_schema") {
      literal = quote_literal(s.schema);
    } else if (no_arguments) {
      to = k + 2;
      if (w == "version") literal = quote_literal(version_string());
      else if (w == "current_database") literal = quote_literal(s.database);
      else if (w == "current_schema") literal = quote_literal(s.schema);
      else if (w == "pg_backend_pid") literal = std::to_string(s.pid);
      else if (w == "pg_is_in_recovery") literal = "false";
      else if (w == "inet_server_addr" || w == "inet_client_addr") literal = "NULL";
    } else if (call && w == "current_setting" && t.is(k + 2, cataloger::TokenKind::string)) {
      // current_setting('name') or current_setting('name', missing_ok)
      const std::size_t close = parens[k + 1].close;
      const bool one = close == k + 3;
      const bool two = close == k + 5 && t.symbol(k + 3, ',') && (t.word(k + 4, "true") || t.word(k + 4, "false"));
      if (!one && !two) continue;
      const std::string name = ascii_lower(t[k + 2].text);
      if (auto it = s.settings.find(name); it != s.settings.end()) literal = quote_literal(it->second);
      else if (two && t.word(k + 4, "true")) literal = "CAST(NULL AS VARCHAR)";
      else return make_error(Errc::invalid_argument, "unrecognized configuration parameter \"" + name + "\"");
      to = close;
    }
    if (!literal) continue;
    // A setting's value or the user's name may be long: a statement that names them many
    // times grows by at most 1 MiB, as to_char's rewrite does.
    if (out.written() + (t.at(from) - out.copied()) + literal->size() > sql.size() + (std::size_t{1} << 20))
      return make_error(Errc::too_large, "the statement with the session's values in place of its functions is more "
                                         "than 1 MiB longer than the one sent");
    out.replace(t.at(from), t.end(to), *literal);
    k = to;
  }
  return std::move(out).text();
}

}  // namespace etl::pgwire
