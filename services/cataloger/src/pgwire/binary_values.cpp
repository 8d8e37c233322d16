#include "pgwire/binary_values.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "etl/dates.h"
#include "etl/sigv4.h"  // hex_encode
#include "pgwire/types.h"
#include "value_json.h"  // non_finite_word

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

Result<std::string> array_binary(std::int32_t array_oid, std::string_view text) {
  const std::int32_t elem = array_element_oid(array_oid);
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


// --- the receive side: binary parameters -> text ---

std::uint64_t read_be(std::string_view v) {
  std::uint64_t out = 0;
  for (unsigned char c : v) out = (out << 8) | c;
  return out;
}

Error malformed(std::int32_t type_oid, const std::string& why) {
  return make_error(Errc::invalid_argument, std::string(kMalformedBinary) + ": " + why + " for type oid " + std::to_string(type_oid));
}

Error wrong_length(std::int32_t type_oid) { return malformed(type_oid, "a binary parameter of the wrong length"); }

std::string two(int v) { return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10); }

// Days since 1970-01-01 -> "YYYY-MM-DD", with " BC" for years before 1 (as PostgreSQL prints them).
std::string date_text(std::int64_t days) {
  int y = 0, m = 0, d = 0;
  civil_from_days(days, y, m, d);
  const bool bc = y <= 0;
  std::string year = std::to_string(bc ? 1 - static_cast<std::int64_t>(y) : y);
  if (year.size() < 4) year.insert(0, 4 - year.size(), '0');
  return year + "-" + two(m) + "-" + two(d) + (bc ? " BC" : "");
}

std::string pg_date_text(std::int32_t pg_days) {
  if (pg_days == std::numeric_limits<std::int32_t>::max()) return "infinity";
  if (pg_days == std::numeric_limits<std::int32_t>::min()) return "-infinity";
  return date_text(std::int64_t{pg_days} + kPgEpochDays);
}

// Microseconds since 2000-01-01 -> "YYYY-MM-DD HH:MM:SS[.ffffff][+00][ BC]".
std::string pg_timestamp_text(std::int64_t micros, bool zone) {
  if (micros == std::numeric_limits<std::int64_t>::max()) return "infinity";
  if (micros == std::numeric_limits<std::int64_t>::min()) return "-infinity";
  constexpr std::int64_t kDay = 86'400'000'000;
  std::int64_t days = micros / kDay, rest = micros % kDay;
  if (rest < 0) rest += kDay, --days;
  std::string date = date_text(days + kPgEpochDays);
  std::string bc;
  if (date.ends_with(" BC")) bc = " BC", date.resize(date.size() - 3);
  const std::int64_t secs = rest / 1'000'000, frac = rest % 1'000'000;
  std::string out = date + " " + two(static_cast<int>(secs / 3600)) + ":" + two(static_cast<int>(secs / 60 % 60)) + ":" +
                    two(static_cast<int>(secs % 60));
  if (frac) {
    std::string f = std::to_string(frac);
    f.insert(0, 6 - f.size(), '0');
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  return out + (zone ? "+00" : "") + bc;
}

// numeric_recv: ndigits, weight, sign, dscale, then base-10000 digits -> "-123.4500", "NaN", "Infinity".
Result<std::string> numeric_text(std::string_view v) {
  constexpr std::int32_t type = oid::numeric;
  if (v.size() < 8) return wrong_length(type);
  const auto ndigits = static_cast<std::int16_t>(read_be(v.substr(0, 2)));
  const auto weight = static_cast<std::int16_t>(read_be(v.substr(2, 2)));
  const auto sign = static_cast<std::uint16_t>(read_be(v.substr(4, 2)));
  const auto dscale = static_cast<std::int16_t>(read_be(v.substr(6, 2)));
  if (ndigits < 0 || v.size() != 8 + 2 * static_cast<std::size_t>(ndigits)) return wrong_length(type);
  if (sign == 0xC000) return std::string("NaN");
  if (sign == 0xD000) return std::string("Infinity");
  if (sign == 0xF000) return std::string("-Infinity");
  if ((sign != 0 && sign != 0x4000) || dscale < 0 || dscale > 16383) return malformed(type, "invalid sign or scale in numeric value");
  std::vector<int> digits;
  for (int i = 0; i < ndigits; ++i) {
    const auto d = static_cast<int>(read_be(v.substr(8 + 2 * static_cast<std::size_t>(i), 2)));
    if (d > 9999) return malformed(type, "invalid digit in numeric value");
    digits.push_back(d);
  }
  auto group = [&](int w) { const int i = weight - w; return i >= 0 && i < ndigits ? digits[static_cast<std::size_t>(i)] : 0; };
  std::string out;
  if (weight < 0) out = "0";
  for (int w = weight; w >= 0; --w) {
    std::string g = std::to_string(group(w));
    if (!out.empty()) g.insert(0, 4 - g.size(), '0');
    out += g;
  }
  if (dscale > 0) {
    std::string frac;
    for (int w = -1; static_cast<int>(frac.size()) < dscale; --w) {
      std::string g = std::to_string(group(w));
      frac += std::string(4 - g.size(), '0') + g;
    }
    out += "." + frac.substr(0, static_cast<std::size_t>(dscale));
  }
  const bool zero = out.find_first_not_of("0.") == std::string::npos;
  return (sign == 0x4000 && !zero ? "-" : "") + out;
}

// array_recv of a one-dimensional array (or an empty one) -> its array literal.
Result<std::string> array_text(std::int32_t type_oid, std::string_view v) {
  const std::int32_t elem = array_element_oid(type_oid);
  if (v.size() < 12) return wrong_length(type_oid);
  const auto ndim = static_cast<std::int32_t>(read_be(v.substr(0, 4)));
  const auto flags = static_cast<std::int32_t>(read_be(v.substr(4, 4)));
  const auto elem_type = static_cast<std::int32_t>(read_be(v.substr(8, 4)));
  if (ndim > 1) return make_error(Errc::invalid_argument, "unsupported: multi-dimensional array parameters");
  if (ndim < 0 || (flags != 0 && flags != 1)) return malformed(type_oid, "invalid array header");
  if (elem_type != elem) return malformed(type_oid, "wrong element type " + std::to_string(elem_type));
  std::vector<std::optional<std::string>> items;
  std::size_t at = 12;
  if (ndim == 1) {
    if (v.size() < 20) return wrong_length(type_oid);
    const auto count = static_cast<std::int32_t>(read_be(v.substr(12, 4)));
    at = 20;  // the lower bound is the client's business: elements are read in order
    if (count < 0 || static_cast<std::size_t>(count) > (v.size() - at) / 4) return malformed(type_oid, "invalid array dimension");
    for (std::int32_t i = 0; i < count; ++i) {
      if (v.size() - at < 4) return wrong_length(type_oid);
      const auto len = static_cast<std::int32_t>(read_be(v.substr(at, 4)));
      at += 4;
      if (len == -1) {
        items.emplace_back(std::nullopt);
        continue;
      }
      if (len < 0 || static_cast<std::size_t>(len) > v.size() - at) return wrong_length(type_oid);
      auto item = text_of_binary(elem, v.substr(at, static_cast<std::size_t>(len)));
      if (!item) return std::move(item).error();
      items.emplace_back(std::move(*item));
      at += static_cast<std::size_t>(len);
    }
  }
  if (at != v.size()) return wrong_length(type_oid);
  return array_literal(items);
}

}  // namespace

Result<std::string> binary_value(std::int32_t type_oid, std::string_view text) {
  switch (type_oid) {
    case oid::text:
    case oid::varchar:
    case oid::name:
    case oid::json:
      return std::string(text);
    case oid::char_type:  // "char": its one byte
      if (text.size() == 1) return std::string(text);
      return bad(type_oid, text);
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
    case oid::float4_array:
    case oid::float8_array:
    case oid::numeric_array:
    case oid::text_array:
    case oid::date_array:
    case oid::timestamp_array:
    case oid::timestamptz_array:
    case oid::oid_array:
      return array_binary(type_oid, text);
    default:
      return make_error(Errc::invalid_argument,
                        "unsupported: binary results of type oid " + std::to_string(type_oid) + " (request text results)");
  }
}

Result<std::string> text_of_binary(std::int32_t type_oid, std::string_view v) {
  auto fixed = [&](std::size_t size) { return v.size() == size; };
  switch (type_oid) {
    case 0: case oid::text: case oid::varchar: case oid::name: case oid::json:
    case 18: case 705: case 1042:  // char, unknown, bpchar
      return std::string(v);
    case oid::jsonb:
      if (v.empty() || v[0] != 1) return malformed(type_oid, "unsupported jsonb version number");
      return std::string(v.substr(1));
    case oid::boolean:
      if (!fixed(1)) break;
      return std::string(v[0] ? "true" : "false");
    case oid::int2:
      if (!fixed(2)) break;
      return std::to_string(static_cast<std::int16_t>(read_be(v)));
    case oid::int4:
      if (!fixed(4)) break;
      return std::to_string(static_cast<std::int32_t>(read_be(v)));
    case oid::oid:
      if (!fixed(4)) break;
      return std::to_string(static_cast<std::uint32_t>(read_be(v)));
    case oid::int8:
      if (!fixed(8)) break;
      return std::to_string(static_cast<std::int64_t>(read_be(v)));
    case oid::float4: {
      if (!fixed(4)) break;
      const auto bits = static_cast<std::uint32_t>(read_be(v));
      float f;
      std::memcpy(&f, &bits, sizeof f);
      if (!std::isfinite(f)) return std::string(cataloger::non_finite_word(f));
      char buf[32];
      return std::string(buf, std::to_chars(buf, buf + sizeof buf, f).ptr);
    }
    case oid::float8: {
      if (!fixed(8)) break;
      const std::uint64_t bits = read_be(v);
      double d;
      std::memcpy(&d, &bits, sizeof d);
      if (!std::isfinite(d)) return std::string(cataloger::non_finite_word(d));
      char buf[32];
      return std::string(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
    }
    case oid::numeric:
      return numeric_text(v);
    case oid::date:
      if (!fixed(4)) break;
      return pg_date_text(static_cast<std::int32_t>(read_be(v)));
    case oid::timestamp:
    case oid::timestamptz:
      if (!fixed(8)) break;
      return pg_timestamp_text(static_cast<std::int64_t>(read_be(v)), type_oid == oid::timestamptz);
    case oid::interval: {  // microseconds (int8), days (int4), months (int4): each part as PostgreSQL keeps it
      if (!fixed(16)) break;
      const auto micros = static_cast<std::int64_t>(read_be(v.substr(0, 8)));
      const auto days = static_cast<std::int32_t>(read_be(v.substr(8, 4)));
      const auto months = static_cast<std::int32_t>(read_be(v.substr(12, 4)));
      return std::to_string(months) + " months " + std::to_string(days) + " days " + std::to_string(micros) + " microseconds";
    }
    case oid::uuid: {
      if (!fixed(16)) break;
      return hex_encode(v.substr(0, 4)) + '-' + hex_encode(v.substr(4, 2)) + '-' + hex_encode(v.substr(6, 2)) + '-' +
             hex_encode(v.substr(8, 2)) + '-' + hex_encode(v.substr(10, 6));
    }
    default:
      if (array_element_oid(type_oid) != 0) return array_text(type_oid, v);
      return make_error(Errc::invalid_argument, "unsupported: binary parameters of type oid " + std::to_string(type_oid) +
                                                    " (send parameters as text)");
  }
  return wrong_length(type_oid);
}

bool has_binary_form(std::int32_t type_oid) {
  switch (type_oid) {
    case oid::text: case oid::varchar: case oid::name: case oid::json: case oid::boolean: case oid::int2:
    case oid::int4: case oid::oid: case oid::int8: case oid::float4: case oid::float8: case oid::date:
    case oid::timestamp: case oid::timestamptz: case oid::time: case oid::interval: case oid::uuid:
    case oid::numeric: case oid::bool_array: case oid::int2_array: case oid::int4_array: case oid::int8_array:
    case oid::float4_array: case oid::float8_array: case oid::numeric_array: case oid::text_array:
    case oid::date_array: case oid::timestamp_array: case oid::timestamptz_array: case oid::char_type:
    case oid::oid_array:
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
