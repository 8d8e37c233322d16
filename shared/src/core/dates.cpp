#include "etl/dates.h"

#include <cstdio>

namespace etl {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

bool is_leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) noexcept {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly `n` digits at `pos`; -1 when they are not all digits.
int digits(std::string_view s, std::size_t pos, std::size_t n) noexcept {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

// Howard Hinnant's civil_from_days.
void civil_from_days(std::int64_t z, int& y, int& m, int& d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

std::optional<std::int32_t> days_from_civil(int y, int m, int d) noexcept {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return std::nullopt;
  y -= m <= 2;
  const int era = y / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const auto mu = static_cast<unsigned>(m);
  const unsigned doy = (153 * (mu > 2 ? mu - 3 : mu + 9) + 2) / 5 + static_cast<unsigned>(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int32_t>(era * 146097 + static_cast<int>(doe) - 719468);
}

std::optional<std::int32_t> normalize_release_date(std::string_view s) noexcept {
  const int year = digits(s, 0, 4);
  if (year < 0) return std::nullopt;
  if (s.size() == 4) return days_from_civil(year, 1, 1);
  if (s.size() < 7 || s[4] != '-') return std::nullopt;
  const int month = digits(s, 5, 2);
  if (month < 0) return std::nullopt;
  if (s.size() == 7) return days_from_civil(year, month, 1);
  if (s.size() != 10 || s[7] != '-') return std::nullopt;
  const int day = digits(s, 8, 2);
  if (day < 0) return std::nullopt;
  return days_from_civil(year, month, day);
}

std::optional<std::int64_t> parse_timestamp(std::string_view s) noexcept {
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  const int h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
  if (h < 0 || mi < 0 || se < 0 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  auto days = days_from_civil(y, mo, d);
  if (!days) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const bool colon = pos + 3 < s.size() && s[pos + 3] == ':';
    const int oh = digits(s, pos + 1, 2);
    const int om = digits(s, pos + (colon ? 4 : 3), 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += colon ? 6 : 5;
  }
  if (pos != s.size()) return std::nullopt;
  const std::int64_t seconds = static_cast<std::int64_t>(*days) * 86'400 + h * 3600 + mi * 60 + se - offset_s;
  // In UTC too a year of four digits (an offset can carry 9999-12-31T23:30-05:00 into year 10000,
  // whose dt= folder no reader would take for a date).
  constexpr std::int64_t kFirstDay = -719'162, kPastLastDay = 2'932'897;  // 0001-01-01, 10000-01-01
  if (seconds < kFirstDay * 86'400 || seconds >= kPastLastDay * 86'400) return std::nullopt;
  return seconds * kMicrosPerSecond + micros;
}

std::optional<std::int64_t> parse_compact_timestamp(std::string_view s) noexcept {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  const int y = digits(s, 0, 4), mo = digits(s, 4, 2), d = digits(s, 6, 2);
  const int h = digits(s, 9, 2), mi = digits(s, 11, 2), se = digits(s, 13, 2);
  if (h < 0 || mi < 0 || se < 0 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  auto days = days_from_civil(y, mo, d);
  if (!days) return std::nullopt;
  return (static_cast<std::int64_t>(*days) * 86'400 + h * 3600 + mi * 60 + se) * kMicrosPerSecond;
}

std::int32_t date_of(std::int64_t micros) noexcept { return static_cast<std::int32_t>(floor_div(micros, kMicrosPerDay)); }

void append_date(std::string& out, std::int32_t days) {
  int y, m, d;
  civil_from_days(days, y, m, d);
  char buf[16];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  out.append(buf, static_cast<std::size_t>(n));
}

std::string format_date(std::int32_t days) {
  std::string out;
  append_date(out, days);
  return out;
}

namespace {

void append_time(std::string& out, std::int64_t micros, char separator, const char* zone, bool always_fraction) {
  const std::int64_t day = floor_div(micros, kMicrosPerDay);
  std::int64_t rest = micros - day * kMicrosPerDay;
  int y, mo, d;
  civil_from_days(day, y, mo, d);
  const auto sec_of_day = static_cast<int>(rest / kMicrosPerSecond);
  const auto frac = static_cast<int>(rest % kMicrosPerSecond);
  char buf[48];
  int n = frac == 0 && !always_fraction ? std::snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d%s", y, mo, d, separator,
                                    sec_of_day / 3600, sec_of_day / 60 % 60, sec_of_day % 60, zone)
                    : std::snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d.%06d%s", y, mo, d, separator,
                                    sec_of_day / 3600, sec_of_day / 60 % 60, sec_of_day % 60, frac, zone);
  out.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

void append_timestamp(std::string& out, std::int64_t micros) { append_time(out, micros, 'T', "Z", false); }

void append_sql_timestamp(std::string& out, std::int64_t micros) { append_time(out, micros, ' ', "", true); }

std::string format_timestamp(std::int64_t micros) {
  std::string out;
  append_timestamp(out, micros);
  return out;
}

std::string format_compact_timestamp(std::int64_t micros) {
  const std::int64_t day = floor_div(micros, kMicrosPerDay);
  const auto sec_of_day = static_cast<int>((micros - day * kMicrosPerDay) / kMicrosPerSecond);
  int y, mo, d;
  civil_from_days(day, y, mo, d);
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02dZ", y, mo, d, sec_of_day / 3600, sec_of_day / 60 % 60,
                        sec_of_day % 60);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::int64_t to_micros(std::chrono::system_clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::optional<std::int32_t> parse_date(std::string_view s) noexcept {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  const int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (y < 0 || mo < 0 || d < 0) return std::nullopt;
  return days_from_civil(y, mo, d);
}

}  // namespace etl
