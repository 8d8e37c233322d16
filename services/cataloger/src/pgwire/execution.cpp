#include "pgwire/execution.h"

#include <charconv>

#include "pgwire/binary_values.h"
#include "pgwire/catalog_query.h"
#include "pgwire/commands.h"
#include "pgwire/driver_queries.h"
#include "pgwire/format.h"
#include "pgwire/pattern_ops.h"
#include "pgwire/pg_catalog.h"
#include "pgwire/select_list.h"
#include "pgwire/set_returning.h"
#include "pgwire/sql_text.h"
#include "pgwire/to_char.h"

namespace etl::pgwire {
namespace {

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

void write_description(Writer& w, const std::vector<std::string>& names, const std::vector<std::int32_t>& oids,
                       const std::vector<std::int16_t>& sizes, const std::vector<std::int16_t>& formats) {
  w.begin('T');
  w.i16(static_cast<std::int16_t>(names.size()));
  for (std::size_t i = 0; i < names.size(); ++i) {
    w.cstring(names[i]);
    w.i32(0);  // table oid
    w.i16(0);  // column number
    w.i32(oids[i]);
    w.i16(sizes[i]);
    w.i32(-1);  // type modifier
    w.i16(formats.empty() ? 0 : formats[i]);
  }
  w.end();
}

std::chrono::milliseconds statement_timeout(const ExecContext& ctx) {
  auto it = ctx.session.settings.find("statement_timeout");
  if (it == ctx.session.settings.end()) return ctx.max_timeout;
  auto ms = parse_duration_ms(it->second);
  if (!ms || *ms <= 0 || *ms > ctx.max_timeout.count()) return ctx.max_timeout;
  return std::chrono::milliseconds(*ms);
}

}  // namespace

std::string sqlstate_for(const Error& e) {
  const std::string& m = e.message;
  switch (e.code) {
    case Errc::invalid_argument:
      if (m.rfind("unsupported: ", 0) == 0) return "0A000";  // feature_not_supported (a to_char pattern)
      if (contains(m, "format() type specifier") || contains(m, "arguments for format()") ||
          contains(m, "format specifies argument"))
        return "22023";  // invalid_parameter_value, as PostgreSQL's format() says
      if (contains(m, "Parser Error") || contains(m, "syntax error") || contains(m, "unterminated")) return "42601";
      if (contains(m, "unknown table")) return "42P01";  // the gate names the tables there are
      // undefined_function: off the gate's allow list, or unknown to DuckDB.
      if (contains(m, "does not exist or is not available") || contains(m, "Function with name")) return "42883";
      if (m.rfind("refused", 0) == 0 || contains(m, "read-only") || contains(m, "not allowed")) return "42501";
      if (contains(m, "Catalog Error: Type with name") || contains(m, "unrecognized configuration parameter"))
        return "42704";  // undefined_object: `::jsonb`, current_setting('no_such')
      if (contains(m, "Catalog Error")) return "42P01";
      // PostgreSQL's "function f(bytea, unknown) does not exist" and "operator does not exist".
      if (contains(m, "No function matches") || contains(m, "Cannot compare values")) return "42883";
      if (contains(m, "Ambiguous reference")) return "42702";                    // ambiguous_column
      if (contains(m, "must appear in the GROUP BY clause")) return "42803";     // grouping_error
      if (contains(m, "Binder Error")) return "42703";
      // numeric_value_out_of_range: `2147483647 + 1`, `'99999999999'::int` ("integer out of range").
      if (contains(m, "Out of Range Error") || (contains(m, "Conversion Error") && contains(m, "out of range")))
        return "22003";
      if (contains(m, "Conversion Error") || contains(m, "Invalid Input")) return "22P02";
      if (contains(m, "Not implemented Error")) return "0A000";  // `BETWEEN SYMMETRIC`
      return "42000";
    case Errc::unauthorized: return "28000";
    case Errc::forbidden: return "42501";
    case Errc::not_found: return "42P01";
    case Errc::timeout:
    case Errc::cancelled: return "57014";
    case Errc::too_large: return "54000";
    case Errc::rate_limited:
    case Errc::quota_exceeded: return "53400";
    case Errc::unavailable: return contains(m, "shutting down") ? "57P01" : "53400";
    case Errc::conflict: return "55000";
    case Errc::bad_data: return "22000";
    case Errc::internal: return "XX000";
  }
  return "XX000";
}

// PostgreSQL's forms DuckDB reads otherwise, or not at all, as DuckDB's: to_char(ts, 'YYYY-MM')
// as strftime, `x ~ 'p'` found anywhere (DuckDB's ~ matches whole), LIKE's backslash escapes,
// SIMILAR TO, substring(x FROM 'p'), format('%s', x) (DuckDB's takes {}), functions DuckDB has
// under other names or forms (date_bin, json_agg, date_trunc of a date as a timestamp ...),
// generate_series() items as rows (DuckDB's is a list), '{1,2}' arrays, unconstrained numerics,
// round(x, n) of the decimal value. Only for DuckDB: another engine (Athena) gets a statement as
// written, in its own SQL, which these would turn into DuckDB's.
namespace {
Result<std::string> as_duckdb_sql(const std::string& sql) {
  auto with_strftime = to_char_as_strftime(sql);
  if (!with_strftime) return std::move(with_strftime).error();
  auto with_patterns = postgres_pattern_operators(*with_strftime);
  if (!with_patterns) return std::move(with_patterns).error();
  auto with_format = postgres_format_calls(*with_patterns);
  if (!with_format) return std::move(with_format).error();
  std::string sql_out = postgres_functions_as_duckdb(*with_format);
  sql_out = any_array_literals_as_lists(set_returning_items_as_rows(sql_out));
  return round_arguments_as_numeric(unconstrained_numerics_as_engine_types(sql_out));
}
}  // namespace

// The longest statement answered here rather than by the engine (see run()).
constexpr std::size_t kMaxLocalStatementBytes = 8 * 1024;

Execution Execution::run(ExecContext& ctx, const std::string& sql) {
  Execution e;
  std::string n = normalize(sql);
  auto local = [&](LocalOutcome o) {
    e.error_ = o.error;
    e.local_ = std::move(o);
    return e;
  };
  if (ctx.cursor_statement)
    if (auto o = ctx.cursor_statement(sql)) return local(std::move(*o));
  // What is answered here (SET/SHOW, session functions, the catalog emulation)
  // is read by code that rescans a statement's text, quadratic in the worst
  // case. Clients' own statements of these kinds are a few KB at most (psql's
  // longest \d is 3 KB); a longer one goes to the engine, whose gate refuses
  // what is not a query over the tables (SET, system catalogs).
  const bool short_enough = n.size() <= kMaxLocalStatementBytes;
  if (auto o = short_enough ? session_command(n, ctx.session) : std::nullopt) return local(std::move(*o));
  if (auto o = short_enough ? driver_type_query(n) : std::nullopt) return local(std::move(*o));
  if (auto select = short_enough ? parse_select(n) : std::nullopt)
    if (auto o = session_select(*select, ctx.session)) return local(std::move(*o));
  if (const std::string c = short_enough ? catalog_text(n) : std::string(); reads_catalog(c)) {
    if (auto select = parse_select(c)) {
      if (auto o = grafana_metadata_query(c, ctx.catalog, ctx.session)) return local(std::move(*o));
      if (auto refused = unsupported_relation(c)) return local(local_error(refused->sqlstate, refused->message));
      auto tables = ctx.catalog.list_tables();
      if (!tables) return local(local_error(sqlstate_for(tables.error()), tables.error().message));
      LocalOutcome outcome = catalog_select(*select, *tables, ctx.session);
      // A condition over the session's values (DBeaver's `rolname = current_user`, `datname =
      // current_database()`) is read once more with them written in as literals; a statement
      // the emulation reads as it is keeps its own forms (and its columns' names).
      if (outcome.error && outcome.error->sqlstate == "0A000")
        if (auto inlined = session_values_inlined(c, ctx.session); inlined && *inlined != c)
          if (auto again = parse_select(normalize(*inlined)))
            if (LocalOutcome second = catalog_select(*again, *tables, ctx.session); !second.error)
              return local(std::move(second));
      return local(std::move(outcome));
    }
  }

  e.is_local_ = false;
  auto fail = [&](const Error& err) {
    e.error_ = SqlError{sqlstate_for(err), err.message};
    return e;
  };
  // The session's values in place of the functions that read them (the engine's version()
  // and current_database() are its own), then PostgreSQL's forms in DuckDB's for DuckDB.
  auto inlined = session_values_inlined(sql, ctx.session);
  if (!inlined) return fail(inlined.error());
  auto engine_sql = ctx.engine.name() == "duckdb" ? as_duckdb_sql(*inlined) : std::move(inlined);
  if (!engine_sql) return fail(engine_sql.error());
  QueryRequest request;
  request.sql = std::move(engine_sql).value();
  request.max_rows = kMaxPageRows;
  request.client = ctx.client;
  request.dialect = Dialect::postgres;  // 7 / 2 is 3, as in PostgreSQL
  request.timeout = statement_timeout(ctx);
  // Like POST /v1/query's max_age_s: reuse a cached result up to this old (never older than the data).
  if (auto age = ctx.session.settings.find("etl.max_age_s"); age != ctx.session.settings.end()) {
    long long seconds = 0;
    const std::string& v = age->second;
    auto r = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (r.ec == std::errc{} && r.ptr == v.data() + v.size() && seconds > 0) request.max_age = std::chrono::seconds(seconds);
  }
  auto status = ctx.engine.start(request);
  if (!status) return fail(status.error());
  e.query_id_ = status->query_id;
  ctx.running(e.query_id_);
  // The engine ends the query at its timeout; the extra margin only guards against an engine that does not.
  auto deadline = std::chrono::steady_clock::now() + request.timeout + std::chrono::seconds(10);
  while (!is_terminal(status->state)) {
    if (std::chrono::steady_clock::now() > deadline) {
      (void)ctx.engine.cancel(e.query_id_);
      ctx.running("");
      return fail(make_error(Errc::timeout, "the query did not finish in time"));
    }
    status = ctx.engine.wait(e.query_id_, std::chrono::milliseconds(250));
    if (!status) {
      ctx.running("");
      return fail(status.error());
    }
    if (!is_terminal(status->state) && ctx.client_gone && ctx.client_gone()) {
      (void)ctx.engine.cancel(e.query_id_);
      ctx.running("");
      return fail(make_error(Errc::cancelled, "the client closed the connection"));
    }
  }
  ctx.running("");
  if (status->state != QueryState::succeeded) {
    Error err = status->error.value_or(make_error(Errc::internal, "the query failed"));
    if (status->state == QueryState::cancelled && err.code != Errc::unavailable) err.code = Errc::cancelled;
    if (err.code == Errc::cancelled) err.message = "canceling statement due to user request (" + err.message + ")";
    return fail(err);
  }
  auto page = ctx.engine.page(e.query_id_, "");
  if (!page) return fail(page.error());
  for (const auto& c : page->columns) {
    e.names_.push_back(c.name);
    e.types_.push_back(pg_type(c.type));
  }
  // PostgreSQL's names (count, not count_star()); read like the local answers, so not for a longer statement.
  if (n.size() <= kMaxLocalStatementBytes) e.names_ = postgres_column_names(n, std::move(e.names_));
  e.page_ = std::move(page->rows);
  e.next_token_ = page->next_token;
  return e;
}

std::optional<Execution> Execution::described(ExecContext& ctx, const std::string& sql) {
  if (ctx.engine.name() != "duckdb") return std::nullopt;
  const std::string n = normalize(sql);
  if (!n.starts_with("select ") && !n.starts_with("with ")) return std::nullopt;
  if (n.size() <= kMaxLocalStatementBytes) {  // what run() answers here
    if (auto select = parse_select(n); select && session_select(*select, ctx.session)) return std::nullopt;
    if (driver_type_query(n)) return std::nullopt;
    if (const std::string c = catalog_text(n); reads_catalog(c) && parse_select(c)) return std::nullopt;
  }
  Execution d = run(ctx, "DESCRIBE " + sql);
  if (d.error()) return std::nullopt;
  auto rows = d.take_rows(ctx, -1);  // one row per column
  if (!rows || rows->columns.size() < 2 || rows->columns[0].name != "column_name" || rows->columns[1].name != "column_type")
    return std::nullopt;
  Execution e;  // as an engine execution with no rows: its columns' types and sizes as a run's would be
  e.is_local_ = false;
  for (const auto& row : rows->rows) {
    if (row.size() < 2 || !row[0] || !row[1]) return std::nullopt;
    e.names_.push_back(*row[0]);
    e.types_.push_back(pg_type(*row[1]));
  }
  if (n.size() <= kMaxLocalStatementBytes) e.names_ = postgres_column_names(n, std::move(e.names_));
  return e;
}

void Execution::describe(Writer& w) const {
  if (!returns_rows()) {
    write_empty_message(w, 'n');
    return;
  }
  std::vector<std::string> names;
  std::vector<std::int32_t> oids;
  std::vector<std::int16_t> sizes;
  if (is_local_) {
    for (const auto& c : local_.result.columns) {
      names.push_back(c.name);
      oids.push_back(c.type_oid);
      sizes.push_back(-1);
    }
  } else {
    names = names_;
    for (const auto& t : types_) {
      oids.push_back(t.oid);
      sizes.push_back(t.size);
    }
  }
  write_description(w, names, oids, sizes, formats_);
}

std::optional<SqlError> Execution::set_formats(const std::vector<std::int16_t>& requested) {
  if (!returns_rows()) return std::nullopt;
  auto formats = column_formats(requested, column_count());
  if (!formats) return SqlError{"08P01", formats.error().message};
  for (std::size_t i = 0; i < formats->size(); ++i)
    if ((*formats)[i] == 1 && !has_binary_form(column_oid(i)))
      return SqlError{"0A000", "binary results of type oid " + std::to_string(column_oid(i)) + " (column " +
                                   std::to_string(i + 1) + ") are not supported: request text results"};
  formats_ = std::move(formats).value();
  return std::nullopt;
}

Status Execution::write_row(Writer& w, std::vector<std::optional<std::string>> values) const {
  for (std::size_t i = 0; i < values.size() && i < formats_.size(); ++i) {
    if (!values[i] || formats_[i] != 1) continue;
    auto bin = binary_value(column_oid(i), *values[i]);
    if (!bin) return std::move(bin).error();
    values[i] = std::move(bin).value();
  }
  w.begin('D');
  w.i16(static_cast<std::int16_t>(values.size()));
  for (const auto& v : values) {
    if (!v) {
      w.i32(-1);
      continue;
    }
    w.i32(static_cast<std::int32_t>(v->size()));
    w.raw(*v);
  }
  w.end();
  return {};
}

Result<bool> Execution::next_page(ExecContext& ctx) {
  if (!next_token_) return false;
  auto page = ctx.engine.page(query_id_, *next_token_);
  if (!page) return std::move(page).error();
  page_ = std::move(page->rows);
  page_pos_ = 0;
  next_token_ = page->next_token;
  return true;
}

Result<std::optional<std::vector<std::optional<std::string>>>> Execution::next_engine_row(ExecContext& ctx) {
  while (page_pos_ == page_.size()) {
    auto more = next_page(ctx);
    if (!more) return std::move(more).error();
    if (!*more) return std::optional<std::vector<std::optional<std::string>>>();
  }
  auto values = row_values(page_[page_pos_++], types_);
  if (!values) return std::move(values).error();
  return std::optional(std::move(values).value());
}

Result<bool> Execution::write_rows(ExecContext& ctx, Writer& w, std::int32_t max_rows, const std::function<Status()>& flush) {
  std::int64_t budget = max_rows > 0 ? max_rows : -1;
  if (is_local_) {
    const auto& rows = local_.result.rows;
    while (local_pos_ < rows.size() && budget != 0) {
      ETL_RETURN_IF_ERROR(write_row(w, rows[local_pos_++]));
      --budget;
    }
    if (local_pos_ < rows.size()) return false;
    write_command_complete(w, local_.result.tag);
    return true;
  }
  while (budget != 0) {
    auto row = next_engine_row(ctx);
    if (!row) return std::move(row).error();
    if (!*row) break;
    ETL_RETURN_IF_ERROR(write_row(w, std::move(**row)));
    ++sent_;
    --budget;
    if (w.buffer().size() >= (256u << 10)) ETL_RETURN_IF_ERROR(flush());
  }
  if (page_pos_ < page_.size() || next_token_) {
    if (budget == 0) return false;
  }
  write_command_complete(w, "SELECT " + std::to_string(sent_));
  return true;
}

Result<LocalResult> Execution::take_rows(ExecContext& ctx, long long count) {
  LocalResult out;
  out.returns_rows = true;
  for (std::size_t i = 0; i < column_count(); ++i)
    out.columns.push_back(LocalColumn{is_local_ ? local_.result.columns[i].name : names_[i], column_oid(i)});
  while (count < 0 || static_cast<long long>(out.rows.size()) < count) {
    if (is_local_) {
      if (local_pos_ == local_.result.rows.size()) break;
      out.rows.push_back(local_.result.rows[local_pos_++]);
      continue;
    }
    auto row = next_engine_row(ctx);
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.rows.push_back(std::move(**row));
  }
  out.tag = "FETCH " + std::to_string(out.rows.size());
  return out;
}

std::size_t Execution::held_bytes() const noexcept {
  std::size_t n = 0;
  for (const auto& row : page_) n += row.size();
  for (const auto& row : local_.result.rows)
    for (const auto& v : row) n += v ? v->size() : 0;
  return n;
}

}  // namespace etl::pgwire
