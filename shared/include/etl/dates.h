// Calendar arithmetic, once for every service: Spotify's release dates, RFC 3339
// timestamps, the compact times in raw object names, partition dates, and the
// text forms the writers and the query results print. Dates are days since
// 1970-01-01; timestamps are microseconds since the epoch, UTC.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace etl {

// Days since 1970-01-01 of a proleptic Gregorian date; nullopt unless it is a
// real date (month 1-12, day within the month, year 1-9999).
std::optional<std::int32_t> days_from_civil(int year, int month, int day) noexcept;
// The proleptic Gregorian date of a day count (any, including years outside 1-9999).
void civil_from_days(std::int64_t days, int& year, int& month, int& day) noexcept;

// `1999` -> 1999-01-01, `1999-05` -> 1999-05-01, `1999-05-17` as is. The shape
// of the text decides, not `release_date_precision`. `0000`, `0000-00-00` and
// anything that is not a date -> nullopt.
std::optional<std::int32_t> normalize_release_date(std::string_view text) noexcept;

// `2026-11-21T06:00:00Z`, with optional fraction (up to microseconds kept) and
// `Z` or a `+HH:MM` / `-HH:MM` offset (converted to UTC); a space may stand for `T`.
std::optional<std::int64_t> parse_timestamp(std::string_view text) noexcept;

// The compact UTC form in raw object names: `20261121T060000Z`.
std::optional<std::int64_t> parse_compact_timestamp(std::string_view text) noexcept;

// "YYYY-MM-DD"
void append_date(std::string& out, std::int32_t days);
std::string format_date(std::int32_t days);
// "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" only when the microseconds are not zero.
void append_timestamp(std::string& out, std::int64_t micros);
std::string format_timestamp(std::int64_t micros);
// "YYYY-MM-DD HH:MM:SS.ffffff", UTC without a zone, the fraction always there:
// what DuckDB, Hive and Athena read back as TIMESTAMP from CSV and JSON (a
// trailing `Z`, or values with and without a fraction in one column, make
// DuckDB guess TIMESTAMP WITH TIME ZONE or plain text).
void append_sql_timestamp(std::string& out, std::int64_t micros);
// The UTC date (days since the epoch) of a timestamp.
std::int32_t date_of(std::int64_t micros) noexcept;
// "20261121T060000Z", the form of raw object names (seconds; the fraction is dropped).
std::string format_compact_timestamp(std::int64_t micros);
// Microseconds since the epoch of a system clock time.
std::int64_t to_micros(std::chrono::system_clock::time_point t) noexcept;
// "YYYY-MM-DD" -> days since the epoch; nullopt unless it is exactly a real date.
std::optional<std::int32_t> parse_date(std::string_view text) noexcept;

}  // namespace etl
