#include "pgwire/binary_values.h"

#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

// 2000-01-01, PostgreSQL's epoch, in days and microseconds since 1970-01-01.
constexpr std::int32_t kPgEpochDays = 10957;
constexpr std::int64_t kPgEpochMicros = std::int64_t{kPgEpochDays} * 86'400'000'000;

Error bad(std::int32_t type_oid, std::string_view text) {
  return make_error(Errc::bad_data, "cannot send \"" + std::string(text.substr(0, 64)) +
                                                "\" as a binary value of type oid " + std::to_string(type_oid));
}

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// `v` as `bytes` big-endian bytes.
std::string be(std::uint64_t v, int bytes) {
  std::string out;
  put_be(out, v, bytes);
  return out;
}

template <typename T>
std::optional<T> parse_int(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_double(std::string_view s) {
  if (s == "Infinity" || s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity" || s == "-inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN" || s == "nan") return std::numeric_limits<double>::quiet_NaN();
  double v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "HH:MM:SS[.f...]" -> microseconds (the fraction cut to microseconds). A time of
// day has two hour digits up to 24; an interval's hours may have more.
std::optional<std::int64_t> parse_time(std::string_view s, bool interval = false) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || (!interval && colon != 2) || colon > 12) return std::nullopt;
  std::string_view hms = s.substr(colon + 1);
  if (hms.size() < 5 || hms[2] != ':') return std::nullopt;
  auto h = parse_int<std::int64_t>(s.substr(0, colon));
  auto m = parse_int<int>(hms.substr(0, 2)), sec = parse_int<int>(hms.substr(3, 2));
  if (!h || !m || !sec || *h < 0 || (!interval && *h > 24) || *m < 0 || *m > 59 || *sec < 0 || *sec > 60)
    return std::nullopt;
  std::int64_t micros = ((*h * 60 + *m) * 60 + *sec) * 1'000'000;
  std::string_view rest = hms.substr(5);
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() == 1) return std::nullopt;
    std::int64_t frac = 0;
    int digits = 0;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
      if (digits++ < 6) frac = frac * 10 + (c - '0');
    }
    for (; digits < 6; ++digits) frac *= 10;
    micros += frac;
  }
  return micros;
}

// Days since 1970-01-01 of a proleptic Gregorian date of any year (astronomical:
// 0 = 1 BC), Howard Hinnant's days_from_civil; etl::days_from_civil keeps to 1-9999.
std::int64_t days_from_any_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<std::int64_t>(y - era * 400);
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// PostgreSQL's date text as types.h writes it ("2026-11-01", "12345-01-01",
// "0044-03-15 BC") -> days since 1970-01-01.
std::optional<std::int64_t> parse_any_date(std::string_view s) {
  bool bc = false;
  if (s.ends_with(" BC")) {
    bc = true;
    s.remove_suffix(3);
  }
  const auto dash = s.find('-');
  if (dash == std::string_view::npos || dash < 4 || s.size() != dash + 6 || s[dash + 3] != '-') return std::nullopt;
  auto y = parse_int<std::int64_t>(s.substr(0, dash));
  auto m = parse_int<int>(s.substr(dash + 1, 2)), d = parse_int<int>(s.substr(dash + 4, 2));
  if (!y || !m || !d || *y < 1 || *y > 10'000'000 || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
  const std::int64_t year = bc ? 1 - *y : *y;
  // Day 31 of a 30-day month and the like: reject what does not come back the same.
  const std::int64_t days = days_from_any_civil(year, *m, *d);
  if (days_from_any_civil(year, *m, 1) + *d - 1 != days || (*m < 12 && days >= days_from_any_civil(year, *m + 1, 1)))
    return std::nullopt;
  return days;
}

std::optional<std::int32_t> parse_pg_date(std::string_view s) {
  if (s == "infinity") return std::numeric_limits<std::int32_t>::max();
  if (s == "-infinity") return std::numeric_limits<std::int32_t>::min();
  auto days = parse_any_date(s);
  if (!days) return std::nullopt;
  const std::int64_t pg = *days - kPgEpochDays;
  if (pg <= std::numeric_limits<std::int32_t>::min() || pg >= std::numeric_limits<std::int32_t>::max()) return std::nullopt;
  return static_cast<std::int32_t>(pg);
}

// "YYYY-MM-DD HH:MM:SS[.f][+HH[:MM]]" -> microseconds since 2000-01-01, UTC.
std::optional<std::int64_t> parse_pg_timestamp(std::string_view s) {
  if (s == "infinity") return std::numeric_limits<std::int64_t>::max();
  if (s == "-infinity") return std::numeric_limits<std::int64_t>::min();
  bool bc = false;
  if (s.ends_with(" BC")) {
    bc = true;
    s.remove_suffix(3);
  }
  const auto split = s.find_first_of(" T", 1);
  if (split == std::string_view::npos) return std::nullopt;
  auto days = parse_any_date(std::string(s.substr(0, split)) + (bc ? " BC" : ""));
  if (!days) return std::nullopt;
  std::string_view rest = s.substr(split + 1);
  std::int64_t offset = 0;
  if (auto z = rest.find_first_of("+-Z"); z != std::string_view::npos) {
    std::string_view zone = rest.substr(z);
    rest = rest.substr(0, z);
    if (zone != "Z") {
      const int sign = zone[0] == '-' ? -1 : 1;
      zone.remove_prefix(1);
      auto hh = parse_int<int>(zone.substr(0, 2));
      std::optional<int> mm = 0;
      if (zone.size() == 5 && zone[2] == ':') mm = parse_int<int>(zone.substr(3, 2));
      else if (zone.size() != 2) return std::nullopt;
      if (!hh || !mm) return std::nullopt;
      offset = sign * (std::int64_t{*hh} * 60 + *mm) * 60'000'000;
    }
  }
  auto time = parse_time(rest);
  if (!time) return std::nullopt;
  const __int128 micros = static_cast<__int128>(*days) * 86'400'000'000 + *time - offset - kPgEpochMicros;
  // The extremes stand for the infinities: a finite value may not reach them.
  if (micros >= std::numeric_limits<std::int64_t>::max() || micros <= std::numeric_limits<std::int64_t>::min())
    return std::nullopt;
  return static_cast<std::int64_t>(micros);
}

// PostgreSQL's interval text (types.h pg_interval_text): "[N year[s]] [N mon[s]] [N day[s]] [[+-]HH:MM:SS[.f]]".
std::optional<std::string> interval_binary(std::string_view s) {
  std::int64_t micros = 0;
  std::int64_t days = 0, months = 0;
  while (!s.empty()) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    if (s.empty()) break;
    auto space = s.find(' ');
    std::string_view word = s.substr(0, space);
    if (word.find(':') != std::string_view::npos) {
      const bool negative = word.front() == '-';
      if (negative || word.front() == '+') word.remove_prefix(1);
      auto t = parse_time(word, true);
      if (!t) return std::nullopt;
      micros += negative ? -*t : *t;
      s = space == std::string_view::npos ? std::string_view{} : s.substr(space);
      continue;
    }
    auto n = parse_int<std::int64_t>(word);
    if (!n || space == std::string_view::npos) return std::nullopt;
    s.remove_prefix(space + 1);
    auto end = s.find(' ');
    std::string_view unit = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
    if (unit == "year" || unit == "years") months += *n * 12;
    else if (unit == "month" || unit == "months" || unit == "mon" || unit == "mons") months += *n;
    else if (unit == "day" || unit == "days") days += *n;
    else return std::nullopt;
  }
  constexpr std::int64_t kMaxInt32 = std::numeric_limits<std::int32_t>::max();
  if (days > kMaxInt32 || days < -kMaxInt32 || months > kMaxInt32 || months < -kMaxInt32) return std::nullopt;
  std::string out;
  put_be(out, static_cast<std::uint64_t>(micros), 8);
  put_be(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(days)), 4);
  put_be(out, static_cast<std::uint32_t>(static_cast<std::int32_t>(months)), 4);
  return out;
}

std::optional<std::string> uuid_binary(std::string_view s) {
  std::string out;
  int nibble = -1;
  for (char c : s) {
    if (c == '-') continue;
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0) return std::nullopt;
    if (nibble < 0) {
      nibble = v;
    } else {
      out += static_cast<char>(nibble * 16 + v);
      nibble = -1;
    }
  }
  if (out.size() != 16 || nibble >= 0) return std::nullopt;
  return out;
}

// A plain decimal ("-123.4500", "NaN") -> numeric_send: ndigits, weight, sign,
// dscale, then base-10000 digits (leading and trailing zero groups left out).
std::optional<std::string> numeric_binary(std::string_view s) {
  std::string out;
  if (s == "NaN") {
    for (std::uint32_t v : {0u, 0u, 0xC000u, 0u}) put_be(out, v, 2);
    return out;
  }
  const bool negative = !s.empty() && s.front() == '-';
  if (negative || (!s.empty() && s.front() == '+')) s.remove_prefix(1);
  const auto dot = s.find('.');
  std::string_view int_part = s.substr(0, dot);
  std::string_view frac_part = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (int_part.empty() && frac_part.empty()) return std::nullopt;
  for (std::string_view part : {int_part, frac_part})
    for (char c : part)
      if (c < '0' || c > '9') return std::nullopt;
  if (frac_part.size() > 16383) return std::nullopt;
  const int dscale = static_cast<int>(frac_part.size());
  // Pad the integer part on the left and the fraction on the right to whole groups of 4.
  std::string digits(static_cast<std::size_t>((4 - int_part.size() % 4) % 4), '0');
  digits.append(int_part);
  const int int_groups = static_cast<int>(digits.size() / 4);
  digits.append(frac_part);
  digits.append(static_cast<std::size_t>((4 - frac_part.size() % 4) % 4), '0');
  std::vector<std::uint16_t> groups;
  for (std::size_t i = 0; i < digits.size(); i += 4) groups.push_back(static_cast<std::uint16_t>(std::stoi(digits.substr(i, 4))));
  int weight = int_groups - 1;
  std::size_t first = 0;
  while (first < groups.size() && groups[first] == 0) {
    ++first;
    --weight;
  }
  std::size_t last = groups.size();
  while (last > first && groups[last - 1] == 0) --last;
  if (first == last) weight = 0;  // zero
  if (last - first > 0x7fff || weight > 0x7fff || weight < -0x8000) return std::nullopt;
  put_be(out, last - first, 2);
  put_be(out, static_cast<std::uint16_t>(static_cast<std::int16_t>(weight)), 2);
  put_be(out, first == last || !negative ? 0u : 0x4000u, 2);
  put_be(out, static_cast<std::uint32_t>(dscale), 2);
  for (std::size_t i = first; i < last; ++i) put_be(out, groups[i], 2);
  return out;
}

// The elements of a one-dimensional array literal ({"a",NULL,b}); nullopt for
// anything else (nested arrays included).
std::optional<std::vector<std::optional<std::string>>> array_items(std::string_view s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  std::vector<std::optional<std::string>> items;
  if (s.empty()) return items;
  std::size_t i = 0;
  while (true) {
    std::string item;
    bool quoted = false;
    if (i < s.size() && s[i] == '"') {
      quoted = true;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        item += s[i];
      }
      if (i == s.size()) return std::nullopt;
      ++i;
    } else {
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '{' || s[i] == '}' || s[i] == '"') return std::nullopt;
        item += s[i++];
      }
    }
    if (!quoted && item == "NULL") items.emplace_back(std::nullopt);
    else items.emplace_back(std::move(item));
    if (i == s.size()) return items;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
}

std::int32_t element_oid(std::int32_t array_oid) {
  switch (array_oid) {
    case oid::bool_array: return oid::boolean;
    case oid::int2_array: return oid::int2;
    case oid::int4_array: return oid::int4;
    case oid::int8_array: return oid::int8;
    case oid::float8_array: return oid::float8;
    case oid::text_array: return oid::text;
    default: return 0;
  }
}

Result<std::string> array_binary(std::int32_t array_oid, std::string_view text) {
  const std::int32_t elem = element_oid(array_oid);
  auto items = array_items(text);
  if (!items) return bad(array_oid, text);
  std::string body;
  bool has_null = false;
  for (const auto& item : *items) {
    if (!item) {
      has_null = true;
      put_be(body, 0xffffffffu, 4);
      continue;
    }
    auto v = binary_value(elem, *item);
    if (!v) return std::move(v).error();
    put_be(body, static_cast<std::uint32_t>(v->size()), 4);
    body += *v;
  }
  std::string out;
  put_be(out, items->empty() ? 0 : 1, 4);  // dimensions
  put_be(out, has_null ? 1 : 0, 4);
  put_be(out, static_cast<std::uint32_t>(elem), 4);
  if (!items->empty()) {
    put_be(out, static_cast<std::uint32_t>(items->size()), 4);
    put_be(out, 1, 4);  // lower bound
  }
  return out + body;
}

}  // namespace

Result<std::string> binary_value(std::int32_t type_oid, std::string_view text) {
  switch (type_oid) {
    case oid::text:
    case oid::varchar:
    case oid::name:
    case oid::json:
      return std::string(text);
    case oid::boolean:
      if (text == "t" || text == "true") return std::string(1, '\1');
      if (text == "f" || text == "false") return std::string(1, '\0');
      return bad(type_oid, text);
    case oid::int2:
      if (auto v = parse_int<std::int16_t>(text)) return be(static_cast<std::uint16_t>(*v), 2);
      return bad(type_oid, text);
    case oid::int4:
      if (auto v = parse_int<std::int32_t>(text)) return be(static_cast<std::uint32_t>(*v), 4);
      return bad(type_oid, text);
    case oid::oid:
      if (auto v = parse_int<std::uint32_t>(text)) return be(*v, 4);
      return bad(type_oid, text);
    case oid::int8:
      if (auto v = parse_int<std::int64_t>(text)) return be(static_cast<std::uint64_t>(*v), 8);
      return bad(type_oid, text);
    case oid::float4:
      if (auto v = parse_double(text)) {
        const float f = static_cast<float>(*v);
        std::uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        return be(bits, 4);
      }
      return bad(type_oid, text);
    case oid::float8:
      if (auto v = parse_double(text)) {
        std::uint64_t bits;
        std::memcpy(&bits, &*v, sizeof bits);
        return be(bits, 8);
      }
      return bad(type_oid, text);
    case oid::date:
      if (auto v = parse_pg_date(text)) return be(static_cast<std::uint32_t>(*v), 4);
      return bad(type_oid, text);
    case oid::timestamp:
    case oid::timestamptz:
      if (auto v = parse_pg_timestamp(text)) return be(static_cast<std::uint64_t>(*v), 8);
      return bad(type_oid, text);
    case oid::time:
      if (auto v = parse_time(text)) return be(static_cast<std::uint64_t>(*v), 8);
      return bad(type_oid, text);
    case oid::interval:
      if (auto v = interval_binary(text)) return std::move(*v);
      return bad(type_oid, text);
    case oid::uuid:
      if (auto v = uuid_binary(text)) return std::move(*v);
      return bad(type_oid, text);
    case oid::numeric:
      if (auto v = numeric_binary(text)) return std::move(*v);
      return bad(type_oid, text);
    case oid::bool_array:
    case oid::int2_array:
    case oid::int4_array:
    case oid::int8_array:
    case oid::float8_array:
    case oid::text_array:
      return array_binary(type_oid, text);
    default:
      return make_error(Errc::invalid_argument,
                        "unsupported: binary results of type oid " + std::to_string(type_oid) + " (request text results)");
  }
}

bool has_binary_form(std::int32_t type_oid) {
  switch (type_oid) {
    case oid::text: case oid::varchar: case oid::name: case oid::json: case oid::boolean: case oid::int2:
    case oid::int4: case oid::oid: case oid::int8: case oid::float4: case oid::float8: case oid::date:
    case oid::timestamp: case oid::timestamptz: case oid::time: case oid::interval: case oid::uuid:
    case oid::numeric: case oid::bool_array: case oid::int2_array: case oid::int4_array: case oid::int8_array:
    case oid::float8_array: case oid::text_array:
      return true;
    default:
      return false;
  }
}

Result<std::vector<std::int16_t>> column_formats(const std::vector<std::int16_t>& requested, std::size_t columns) {
  for (auto f : requested)
    if (f != 0 && f != 1) return make_error(Errc::invalid_argument, "unsupported format code: " + std::to_string(f));
  if (requested.empty()) return std::vector<std::int16_t>(columns, 0);
  if (requested.size() == 1) return std::vector<std::int16_t>(columns, requested[0]);
  if (requested.size() != columns)
    return make_error(Errc::invalid_argument, "bind message has " + std::to_string(requested.size()) +
                                                  " result formats but query has " + std::to_string(columns) + " columns");
  return requested;
}

}  // namespace etl::pgwire
