#include "etl/schedule.h"

#include <array>
#include <charconv>
#include <vector>

#include "etl/ascii.h"

namespace etl {
namespace {

using namespace std::chrono;

constexpr std::string_view kAccepted =
    " (accepted: 5-field cron in UTC 'minute hour day-of-month month day-of-week' using * , - / "
    "and JAN-DEC / SUN-SAT; @yearly, @monthly, @weekly, @daily, @hourly; @every <n>s|m|h)";

// Longest day each month can have; February counts its leap day so that
// "0 0 29 2 *" is accepted (and waits for the next leap year).
constexpr std::array<unsigned, 13> kMaxDaysInMonth = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// Keeps the echoed spec on one line and short, whatever the environment held.
std::string printable(std::string_view spec) {
  std::string out;
  for (char c : spec.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (spec.size() > 80) out += "...";
  return out;
}

Error invalid(std::string_view spec, const std::string& what) {
  return make_error(Errc::invalid_argument, "'" + printable(spec) + "': " + what + std::string(kAccepted));
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

// A decimal number of at most 9 digits (so it always fits an int).
std::optional<int> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

struct Field {
  const char* name;
  int min;
  int max;  // day-of-week accepts 7 (Sunday); `*` there still means 0-6
  const std::string_view* names = nullptr;
  int names_base = 0;
  std::size_t name_count = 0;
};

constexpr Field kMinute{"minute", 0, 59};
constexpr Field kHour{"hour", 0, 23};
constexpr Field kDayOfMonth{"day-of-month", 1, 31};
constexpr Field kMonth{"month", 1, 12, kMonthNames.data(), 1, kMonthNames.size()};
constexpr Field kDayOfWeek{"day-of-week", 0, 7, kDayNames.data(), 0, kDayNames.size()};

std::string range_text(const Field& f) {
  std::string text = std::to_string(f.min) + "-" + std::to_string(f.max);
  if (f.names) text += " or " + std::string(f.names[0]) + "-" + std::string(f.names[f.name_count - 1]);
  return text;
}

Result<int> parse_value(std::string_view spec, const Field& f, std::string_view token) {
  if (auto n = parse_number(token)) {
    if (*n < f.min || *n > f.max)
      return invalid(spec, std::string(f.name) + " value " + std::string(token) + " is out of range " + range_text(f));
    return *n;
  }
  for (std::size_t i = 0; i < f.name_count; ++i)
    if (ascii_upper(token) == f.names[i]) return f.names_base + static_cast<int>(i);
  return invalid(spec, std::string(f.name) + " value '" + std::string(token) + "' is not " + range_text(f));
}

// One comma-separated item: `*`, `n`, `a-b`, `*/n` or `a-b/n`.
template <std::size_t N>
Status parse_item(std::string_view spec, const Field& f, std::string_view item, std::bitset<N>& bits) {
  std::string_view base = item;
  int step = 1;
  if (auto slash = item.find('/'); slash != std::string_view::npos) {
    base = item.substr(0, slash);
    auto step_text = item.substr(slash + 1);
    auto n = parse_number(step_text);
    if (!n || *n < 1)
      return invalid(spec, std::string(f.name) + " step '" + std::string(step_text) + "' must be a number >= 1");
    step = *n;
  }
  int lo = 0;
  int hi = 0;
  if (base == "*") {
    lo = f.min;
    hi = f.max == 7 ? 6 : f.max;
  } else if (auto dash = base.find('-'); dash != std::string_view::npos) {
    auto a = parse_value(spec, f, base.substr(0, dash));
    if (!a) return std::move(a).error();
    auto b = parse_value(spec, f, base.substr(dash + 1));
    if (!b) return std::move(b).error();
    if (*a > *b)
      return invalid(spec, std::string(f.name) + " range " + std::string(base) +
                               " runs backwards (write it as two ranges)");
    lo = *a;
    hi = *b;
  } else {
    if (step != 1 || base.size() != item.size())
      return invalid(spec, std::string(f.name) + " step in '" + std::string(item) +
                               "' needs * or a range before the /");
    auto v = parse_value(spec, f, base);
    if (!v) return std::move(v).error();
    lo = hi = *v;
  }
  for (int v = lo; v <= hi; v += step) bits.set(static_cast<std::size_t>(v == 7 && f.max == 7 ? 0 : v));
  return {};
}

template <std::size_t N>
Status parse_field(std::string_view spec, const Field& f, std::string_view text, std::bitset<N>& bits) {
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return invalid(spec, std::string("empty list item in the ") + f.name + " field");
    ETL_RETURN_IF_ERROR(parse_item(spec, f, item, bits));
    if (comma == std::string_view::npos) return {};
    start = comma + 1;
  }
}

struct Macro {
  std::string_view name;
  std::string_view canonical;
  std::string_view cron;
};

constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "@yearly", "0 0 1 1 *"},
    {"@annually", "@yearly", "0 0 1 1 *"},
    {"@monthly", "@monthly", "0 0 1 * *"},
    {"@weekly", "@weekly", "0 0 * * 0"},
    {"@daily", "@daily", "0 0 * * *"},
    {"@midnight", "@daily", "0 0 * * *"},
    {"@hourly", "@hourly", "0 * * * *"},
}};

constexpr seconds kMaxInterval = days{366};

}  // namespace

Result<Schedule> Schedule::parse(std::string_view spec) {
  const auto words = split_words(spec);
  if (words.empty()) return invalid(spec, "the schedule is empty");

  if (words[0].front() == '@') {
    const std::string name = ascii_lower(words[0]);
    if (name == "@every") {
      if (words.size() != 2) return invalid(spec, "@every takes one interval such as 30s, 15m or 2h");
      const std::string_view arg = words[1];
      const char unit = to_lower(arg.back());
      const auto n = parse_number(arg.substr(0, arg.size() - 1));
      if (arg.size() < 2 || !n || (unit != 's' && unit != 'm' && unit != 'h'))
        return invalid(spec, "@every interval '" + std::string(arg) + "' is not <n>s, <n>m or <n>h");
      if (*n < 1) return invalid(spec, "@every interval must be at least 1" + std::string(1, unit));
      const seconds every = unit == 's' ? seconds{*n} : unit == 'm' ? seconds{minutes{*n}} : seconds{hours{*n}};
      if (every > kMaxInterval) return invalid(spec, "@every interval is longer than 366 days");
      Schedule s;
      s.every_ = every;
      s.text_ = "@every " + std::to_string(*n) + unit;
      return s;
    }
    for (const auto& m : kMacros) {
      if (name != m.name) continue;
      if (words.size() != 1) return invalid(spec, std::string(m.name) + " takes no arguments");
      auto s = parse(m.cron);
      if (s) s->text_ = std::string(m.canonical);
      return s;
    }
    return invalid(spec, "unknown macro '" + std::string(words[0]) + "'");
  }

  if (words.size() != 5)
    return invalid(spec, "expected 5 cron fields, got " + std::to_string(words.size()));
  Schedule s;
  ETL_RETURN_IF_ERROR(parse_field(spec, kMinute, words[0], s.minutes_));
  ETL_RETURN_IF_ERROR(parse_field(spec, kHour, words[1], s.hours_));
  ETL_RETURN_IF_ERROR(parse_field(spec, kDayOfMonth, words[2], s.days_of_month_));
  ETL_RETURN_IF_ERROR(parse_field(spec, kMonth, words[3], s.months_));
  ETL_RETURN_IF_ERROR(parse_field(spec, kDayOfWeek, words[4], s.days_of_week_));
  s.dom_star_ = words[2].front() == '*';
  s.dow_star_ = words[4].front() == '*';

  // When the day-of-week does not widen the match (Vixie's AND case), the
  // day-of-month alone must exist in some selected month, or it never fires.
  if (!s.dom_star_ && s.dow_star_) {
    bool possible = false;
    for (unsigned m = 1; m <= 12 && !possible; ++m)
      for (unsigned d = 1; d <= kMaxDaysInMonth[m] && !possible; ++d)
        possible = s.months_[m] && s.days_of_month_[d];
    if (!possible)
      return invalid(spec, "day-of-month '" + std::string(words[2]) + "' never occurs in month '" +
                               std::string(words[3]) + "', so it would never fire");
  }

  for (std::size_t i = 0; i < words.size(); ++i) s.text_ += (i ? " " : "") + ascii_upper(words[i]);
  return s;
}

std::optional<seconds> Schedule::interval() const {
  if (every_ > seconds::zero()) return every_;
  return std::nullopt;
}

bool Schedule::day_matches(year_month_day ymd, weekday wd) const {
  const bool dom = days_of_month_[static_cast<unsigned>(ymd.day())];
  const bool dow = days_of_week_[wd.c_encoding()];
  // Vixie cron: a field starting with '*' does not restrict; when both are
  // restricted either one is enough.
  if (dom_star_ || dow_star_) return dom && dow;
  return dom || dow;
}

system_clock::time_point Schedule::next_after(system_clock::time_point after) const {
  constexpr auto kNever = system_clock::time_point::max();
  if (every_ > seconds::zero()) {
    if (after > kNever - every_) return kNever;
    return after + every_;
  }

  sys_time<minutes> t = floor<minutes>(after) + minutes{1};
  const year limit = year_month_day{floor<days>(t)}.year() + years{400};
  for (;;) {
    const sys_days day = floor<days>(t);
    const year_month_day ymd{day};
    if (ymd.year() > limit) return kNever;
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      t = sys_days{(ymd.year() / ymd.month() + months{1}) / 1};
      continue;
    }
    if (!day_matches(ymd, weekday{day})) {
      t = day + days{1};
      continue;
    }
    const auto hour = duration_cast<hours>(t - day).count();
    if (!hours_[static_cast<std::size_t>(hour)]) {
      t = day + hours{hour + 1};
      continue;
    }
    const auto minute = duration_cast<minutes>(t - day - hours{hour}).count();
    if (!minutes_[static_cast<std::size_t>(minute)]) {
      t += minutes{1};
      continue;
    }
    if (t > floor<minutes>(kNever)) return kNever;
    return t;
  }
}

}  // namespace etl
