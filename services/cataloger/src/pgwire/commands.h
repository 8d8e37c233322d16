// Statements the endpoint answers without the query engine: transaction control
// (accepted, nothing to commit: every statement is read-only), SET (harmless
// settings are recorded, never run; role and authorization changes are refused),
// SHOW, RESET, DISCARD, DEALLOCATE, and SELECTs of session functions only
// (version(), current_schema(), current_database(), current_setting(...) ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "etl/result.h"

#include "pgwire/local_result.h"
#include "pgwire/select_list.h"

namespace etl::pgwire {

// The settings a new session starts with (and reports in ParameterStatus).
void default_settings(SessionInfo& session);
// The server_version reported to clients (a PostgreSQL 15 that clients accept).
inline constexpr const char* kServerVersion = "15.0";
std::string version_string();

// The start-up packet's `options` (libpq's PGOPTIONS): `-c name=value` and
// `--name=value`, split as PostgreSQL splits them (whitespace; a backslash keeps
// the next character), each applied as SET applies it. The first that SET would
// refuse, or anything else, is the error (the session ends with it, FATAL).
std::optional<SqlError> apply_startup_options(const std::string& options, SessionInfo& session);

// nullopt: not one of these statements (send it on).
std::optional<LocalOutcome> session_command(const std::string& normalized, SessionInfo& session);

// A SELECT without FROM whose every item is a constant or a session function; nullopt otherwise.
std::optional<LocalOutcome> session_select(const SelectParts& select, const SessionInfo& session);

// The value of a session function or setting-like name ("version", "current_schema" ...); nullopt if unknown.
std::optional<Cell> session_value(const SelectItem& item, const SessionInfo& session);

// `sql` with each session function and value the engine does not have, or has as its own
// (version(), current_database(), current_schema, current_user, user, current_setting('x'),
// pg_backend_pid() ...), written as the literal of this session's value, so an expression
// over one (`current_setting('server_version_num')::int / 100`, `version() LIKE 'P%'`,
// `owner = current_user`) is evaluated as PostgreSQL would. invalid_argument for
// current_setting() of a setting the session does not have (without missing_ok), as
// PostgreSQL says; too_large when the values would make the statement more than 1 MiB
// longer (a long setting named many times).
Result<std::string> session_values_inlined(std::string_view sql, const SessionInfo& session);

// statement_timeout in ms from a setting value ("5000", "5s", "1min"); nullopt if it is not one.
std::optional<long long> parse_duration_ms(const std::string& value);
// Milliseconds as PostgreSQL shows a time setting: the largest unit that divides it ("30s", "1500ms", "2min", "0").
std::string format_duration_ms(long long ms);

}  // namespace etl::pgwire
