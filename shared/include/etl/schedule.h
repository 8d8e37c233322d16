// When a scheduled extraction fires (ETL_SCHEDULE): a 5-field cron expression in
// UTC, a macro (@hourly, @daily, ...) or a fixed interval (@every 15m).
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "etl/result.h"

namespace etl {

// Accepted forms:
//   "m h dom mon dow"  classic Vixie cron, all in UTC. Each field takes `*`, `n`,
//                      `a-b`, `*/n`, `a-b/n` and comma lists of those; months
//                      JAN-DEC and days SUN-SAT by name (any case); day-of-week
//                      0-7 with both 0 and 7 meaning Sunday. When day-of-month
//                      and day-of-week are both restricted (neither starts with
//                      `*`), a day matches if EITHER matches (Vixie's rule).
//   @yearly @annually @monthly @weekly @daily @midnight @hourly
//   @every <n>s|m|h    n >= 1, at most one year in total.
class Schedule {
 public:
  // invalid_argument with one line naming what is wrong and the accepted forms.
  // A day-of-month that no selected month has ("0 0 31 2 *", "0 0 31 4 *") is
  // refused here, so next_after() always finds a time for a parsed schedule.
  static Result<Schedule> parse(std::string_view spec);

  // The first fire time strictly after `after`. Cron fires on whole minutes
  // (second 0); `after` may be any instant. @every fires at `after + interval`:
  // the interval runs from the previous fire (or the start), not from a grid.
  // Returns time_point::max() only if nothing fires within 400 years (the
  // Gregorian calendar's full cycle), which parse() rules out.
  std::chrono::system_clock::time_point next_after(std::chrono::system_clock::time_point after) const;

  // The spec, normalised: single spaces, names upper-case, macros lower-case
  // with aliases folded (@annually -> @yearly, @midnight -> @daily).
  std::string describe() const { return text_; }

  // The interval of an @every schedule; nullopt for cron and macros.
  std::optional<std::chrono::seconds> interval() const;

  friend bool operator==(const Schedule&, const Schedule&) = default;

 private:
  Schedule() = default;
  bool day_matches(std::chrono::year_month_day ymd, std::chrono::weekday wd) const;

  std::string text_;
  std::chrono::seconds every_{0};  // > 0 for @every; the fields below are unused then
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // bit 0 unused
  std::bitset<13> months_;         // bit 0 unused
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool dom_star_ = false;          // day-of-month field starts with '*'
  bool dow_star_ = false;          // day-of-week field starts with '*'
};

}  // namespace etl
