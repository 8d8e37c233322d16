#include "etl/schedule.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace etl {
namespace {

using namespace std::chrono;

// "2026-03-01T12:34:56Z" (whole seconds; the fraction is added separately).
system_clock::time_point at(const char* iso) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (std::sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) != 6) ADD_FAILURE() << "bad test time " << iso;
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s};
}

std::string iso(system_clock::time_point t) {
  if (t == system_clock::time_point::max()) return "never";
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

Schedule parsed(std::string_view spec) {
  auto s = Schedule::parse(spec);
  if (!s) {
    ADD_FAILURE() << "'" << spec << "' should parse but was refused: " << s.error().message;
    return *Schedule::parse("* * * * *");
  }
  return *s;
}

// The next fire of `spec` after `after`, as text, so a failure shows both times.
std::string next(std::string_view spec, const char* after) { return iso(parsed(spec).next_after(at(after))); }

TEST(Cron, EveryMinuteFiresOnTheNextWholeMinute) {
  EXPECT_EQ(next("* * * * *", "2026-03-01T12:34:56Z"), "2026-03-01T12:35:00Z");
}

TEST(Cron, FireTimeIsStrictlyAfterTheGivenInstant) {
  EXPECT_EQ(next("* * * * *", "2026-03-01T12:35:00Z"), "2026-03-01T12:36:00Z");
  EXPECT_EQ(next("30 9 * * *", "2026-03-01T09:30:00Z"), "2026-03-02T09:30:00Z");
  const auto almost = at("2026-03-01T12:34:59Z") + milliseconds{999};
  EXPECT_EQ(iso(parsed("* * * * *").next_after(almost)), "2026-03-01T12:35:00Z")
      << "a sub-second instant before a whole minute fires on that minute";
}

TEST(Cron, FixedMinuteAndHourFireLaterTheSameDay) {
  EXPECT_EQ(next("30 9 * * *", "2026-03-01T08:00:00Z"), "2026-03-01T09:30:00Z");
  EXPECT_EQ(next("30 9 * * *", "2026-03-01T09:29:59Z"), "2026-03-01T09:30:00Z");
}

TEST(Cron, StepsInMinuteField) {
  EXPECT_EQ(next("*/15 * * * *", "2026-03-01T10:07:00Z"), "2026-03-01T10:15:00Z");
  EXPECT_EQ(next("*/15 * * * *", "2026-03-01T10:45:00Z"), "2026-03-01T11:00:00Z");
  EXPECT_EQ(next("10-50/20 * * * *", "2026-03-01T10:31:00Z"), "2026-03-01T10:50:00Z");
  EXPECT_EQ(next("10-50/20 * * * *", "2026-03-01T10:50:00Z"), "2026-03-01T11:10:00Z")
      << "10-50/20 is 10,30,50: after :50 comes :10 of the next hour";
}

TEST(Cron, ListsAndRangesInHourField) {
  EXPECT_EQ(next("0 8-10,14 * * *", "2026-03-01T09:00:00Z"), "2026-03-01T10:00:00Z");
  EXPECT_EQ(next("0 8-10,14 * * *", "2026-03-01T10:00:00Z"), "2026-03-01T14:00:00Z");
  EXPECT_EQ(next("0 8-10,14 * * *", "2026-03-01T14:00:00Z"), "2026-03-02T08:00:00Z");
}

TEST(Cron, ChainedFiresCrossHourAndDayBoundaries) {
  const auto s = parsed("*/20 23,0 * * *");
  auto t = at("2026-12-31T22:50:00Z");
  std::vector<std::string> fires;
  for (int i = 0; i < 7; ++i) fires.push_back(iso(t = s.next_after(t)));
  EXPECT_EQ(fires, (std::vector<std::string>{"2026-12-31T23:00:00Z", "2026-12-31T23:20:00Z", "2026-12-31T23:40:00Z",
                                             "2027-01-01T00:00:00Z", "2027-01-01T00:20:00Z", "2027-01-01T00:40:00Z",
                                             "2027-01-01T23:00:00Z"}));
}

TEST(Cron, MonthNamesAreCaseInsensitive) {
  EXPECT_EQ(next("0 0 1 jan,Jul *", "2026-02-10T00:00:00Z"), "2026-07-01T00:00:00Z");
  EXPECT_EQ(next("0 0 1 jan,Jul *", "2026-07-01T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next("0 0 1 MAR-may *", "2026-04-15T00:00:00Z"), "2026-05-01T00:00:00Z");
}

TEST(Cron, SundayIsZeroSevenOrSun) {
  // 2026-03-02 is a Monday; the next Sunday is 2026-03-08.
  for (const char* spec : {"0 12 * * 0", "0 12 * * 7", "0 12 * * SUN", "0 12 * * sun"})
    EXPECT_EQ(next(spec, "2026-03-02T00:00:00Z"), "2026-03-08T12:00:00Z") << spec;
  EXPECT_EQ(next("0 12 * * 7", "2026-03-01T11:00:00Z"), "2026-03-01T12:00:00Z") << "2026-03-01 is a Sunday";
}

TEST(Cron, DayOfWeekRangeEndingAtSevenIncludesSunday) {
  const auto s = parsed("0 0 * * 5-7");
  auto t = at("2026-03-02T00:00:00Z");
  std::vector<std::string> fires;
  for (int i = 0; i < 4; ++i) fires.push_back(iso(t = s.next_after(t)));
  EXPECT_EQ(fires, (std::vector<std::string>{"2026-03-06T00:00:00Z", "2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z",
                                             "2026-03-13T00:00:00Z"}));
}

TEST(Cron, WeekdaysSkipTheWeekend) {
  EXPECT_EQ(next("0 9 * * mon-fri", "2026-03-06T09:00:00Z"), "2026-03-09T09:00:00Z")
      << "Friday 09:00 -> Monday 09:00";
}

TEST(Cron, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // Vixie: "the 1st, and every Monday". 2026-03-30 is a Monday, 2026-04-01 a Wednesday.
  EXPECT_EQ(next("0 0 1 * MON", "2026-03-24T00:00:00Z"), "2026-03-30T00:00:00Z");
  EXPECT_EQ(next("0 0 1 * MON", "2026-03-30T00:00:00Z"), "2026-04-01T00:00:00Z");
  EXPECT_EQ(next("0 0 1 * MON", "2026-04-01T00:00:00Z"), "2026-04-06T00:00:00Z");
}

TEST(Cron, DayFieldStartingWithStarCombinesWithAnd) {
  // As in Vixie cron, `*/2` does not count as restricting the day of month, so
  // only odd days that are Mondays match: 2026-03-09 and 2026-03-23.
  EXPECT_EQ(next("0 0 */2 * MON", "2026-03-01T00:00:00Z"), "2026-03-09T00:00:00Z");
  EXPECT_EQ(next("0 0 */2 * MON", "2026-03-09T00:00:00Z"), "2026-03-23T00:00:00Z");
}

TEST(Cron, LeapDayWaitsForTheNextLeapYear) {
  EXPECT_EQ(next("0 0 29 2 *", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(next("0 0 29 2 *", "2028-02-29T00:00:00Z"), "2032-02-29T00:00:00Z");
  EXPECT_EQ(next("0 0 29 2 *", "2096-03-01T00:00:00Z"), "2104-02-29T00:00:00Z") << "2100 is not a leap year";
}

TEST(Cron, Day31SkipsShorterMonths) {
  EXPECT_EQ(next("0 0 31 * *", "2026-04-01T00:00:00Z"), "2026-05-31T00:00:00Z");
  EXPECT_EQ(next("0 0 31 * *", "2026-05-31T00:00:00Z"), "2026-07-31T00:00:00Z");
  EXPECT_EQ(next("0 0 30 * *", "2026-01-30T00:00:00Z"), "2026-03-30T00:00:00Z") << "February has no 30th";
}

TEST(Cron, YearWraps) {
  EXPECT_EQ(next("59 23 31 12 *", "2026-12-31T23:59:00Z"), "2027-12-31T23:59:00Z");
  EXPECT_EQ(next("0 0 1 1 *", "2026-12-31T23:59:30Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next("0 0 * 1 *", "2026-02-01T00:00:00Z"), "2027-01-01T00:00:00Z");
}

TEST(Cron, ImpossibleDayIsAcceptedWhenDayOfWeekWidensIt) {
  // "31 Feb or any Monday in February": only the Mondays can fire. 2026-02-02 is a Monday.
  EXPECT_EQ(next("0 0 31 2 MON", "2026-01-01T00:00:00Z"), "2026-02-02T00:00:00Z");
  EXPECT_EQ(next("0 0 31 2 MON", "2026-02-23T00:00:00Z"), "2027-02-01T00:00:00Z");
}

TEST(Macro, FireTimes) {
  EXPECT_EQ(next("@hourly", "2026-03-01T10:00:00Z"), "2026-03-01T11:00:00Z");
  EXPECT_EQ(next("@daily", "2026-03-01T00:00:00Z"), "2026-03-02T00:00:00Z");
  EXPECT_EQ(next("@midnight", "2026-03-01T13:00:00Z"), "2026-03-02T00:00:00Z");
  EXPECT_EQ(next("@weekly", "2026-03-01T00:00:00Z"), "2026-03-08T00:00:00Z") << "weekly is Sunday midnight";
  EXPECT_EQ(next("@monthly", "2026-01-31T12:00:00Z"), "2026-02-01T00:00:00Z");
  EXPECT_EQ(next("@yearly", "2026-06-01T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next("@annually", "2026-06-01T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next("@DAILY", "2026-03-01T00:00:00Z"), "2026-03-02T00:00:00Z") << "macros are case-insensitive";
}

TEST(Every, FiresOneIntervalAfterThePreviousFire) {
  const auto start = at("2026-03-01T12:34:56Z") + milliseconds{250};
  EXPECT_EQ(parsed("@every 30s").next_after(start), start + seconds{30});
  EXPECT_EQ(parsed("@every 15m").next_after(start), start + minutes{15});
  EXPECT_EQ(parsed("@every 2h").next_after(start), start + hours{2});
}

TEST(Every, ExposesItsIntervalAndCronDoesNot) {
  EXPECT_EQ(parsed("@every 90s").interval(), seconds{90});
  EXPECT_EQ(parsed("@every 2h").interval(), seconds{7200});
  EXPECT_EQ(parsed("*/5 * * * *").interval(), std::nullopt);
  EXPECT_EQ(parsed("@hourly").interval(), std::nullopt);
}

TEST(Schedule, DescribeNormalisesTheSpec) {
  EXPECT_EQ(parsed("  0   9\t* *  mon-fri ").describe(), "0 9 * * MON-FRI");
  EXPECT_EQ(parsed("*/15 * * jan,jul *").describe(), "*/15 * * JAN,JUL *");
  EXPECT_EQ(parsed("@ANNUALLY").describe(), "@yearly");
  EXPECT_EQ(parsed("@midnight").describe(), "@daily");
  EXPECT_EQ(parsed(" @hourly ").describe(), "@hourly");
  EXPECT_EQ(parsed("@EVERY  015M").describe(), "@every 15m");
}

TEST(Schedule, EqualSpecsGiveEqualSchedules) {
  EXPECT_EQ(parsed("@daily"), parsed("@midnight"));
  EXPECT_FALSE(parsed("@daily") == parsed("@hourly"));
}

struct BadSpec {
  const char* spec;
  const char* says;  // a fragment the error message must contain
};

void PrintTo(const BadSpec& b, std::ostream* os) { *os << "'" << b.spec << "'"; }

class ScheduleRejects : public ::testing::TestWithParam<BadSpec> {};

TEST_P(ScheduleRejects, WithOneLineNamingTheProblemAndTheAcceptedForms) {
  const auto& bad = GetParam();
  auto s = Schedule::parse(bad.spec);
  ASSERT_FALSE(s.ok()) << "'" << bad.spec << "' was accepted as '" << s->describe() << "'";
  EXPECT_EQ(s.error().code, Errc::invalid_argument);
  const auto& message = s.error().message;
  EXPECT_NE(message.find(bad.says), std::string::npos) << "message does not say '" << bad.says << "': " << message;
  EXPECT_NE(message.find("@every <n>s|m|h"), std::string::npos)
      << "message does not list the accepted forms: " << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "message is not one line: " << message;
}

INSTANTIATE_TEST_SUITE_P(
    Invalid, ScheduleRejects,
    ::testing::Values(BadSpec{"61 * * * *", "minute value 61 is out of range 0-59"},
                      BadSpec{"* 24 * * *", "hour value 24"}, BadSpec{"* * 0 * *", "day-of-month value 0"},
                      BadSpec{"* * 32 * *", "day-of-month value 32"}, BadSpec{"* * * 13 *", "month value 13"},
                      BadSpec{"* * * * 8", "day-of-week value 8 is out of range 0-7"},
                      BadSpec{"* * *", "expected 5 cron fields, got 3"},
                      BadSpec{"* * * * * *", "expected 5 cron fields, got 6"},
                      BadSpec{"*/0 * * * *", "minute step '0' must be a number >= 1"},
                      BadSpec{"*/x * * * *", "minute step 'x'"}, BadSpec{"5/10 * * * *", "needs * or a range"},
                      BadSpec{"1,,2 * * * *", "empty list item in the minute field"},
                      BadSpec{"1, * * * *", "empty list item"}, BadSpec{"5-1 * * * *", "runs backwards"},
                      BadSpec{"-5 * * * *", "minute value ''"}, BadSpec{"1-2-3 * * * *", "minute value '2-3'"},
                      BadSpec{"* * * FOO *", "month value 'FOO' is not 1-12 or JAN-DEC"},
                      BadSpec{"* * * * FUNDAY", "day-of-week value 'FUNDAY' is not 0-7 or SUN-SAT"},
                      BadSpec{"* MON * * *", "hour value 'MON' is not 0-23"},
                      BadSpec{"0 0 31 2 *", "never occurs"}, BadSpec{"0 0 30 2 *", "never occurs"},
                      BadSpec{"0 0 31 4,6,9,11 *", "never occurs"}, BadSpec{"@every 0s", "at least 1"},
                      BadSpec{"@every 5x", "'5x' is not <n>s, <n>m or <n>h"}, BadSpec{"@every", "@every takes one"},
                      BadSpec{"@every 5", "'5' is not"}, BadSpec{"@every s", "'s' is not"},
                      BadSpec{"@every -5m", "'-5m' is not"}, BadSpec{"@every 1h30m", "'1h30m' is not"},
                      BadSpec{"@every 10 m", "@every takes one"}, BadSpec{"@every 9000h", "longer than 366 days"},
                      BadSpec{"", "empty"}, BadSpec{"   ", "empty"},
                      BadSpec{"garbage", "expected 5 cron fields, got 1"},
                      BadSpec{"@reboot", "unknown macro '@reboot'"}, BadSpec{"@daily now", "takes no arguments"},
                      BadSpec{"a b c d e", "minute value 'a'"}));

TEST(Schedule, ErrorEchoesControlCharactersHarmlessly) {
  auto s = Schedule::parse("61 * * * *\n");
  ASSERT_FALSE(s.ok());
  auto t = Schedule::parse("6\n1 * * * *");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message.find('\n'), std::string::npos) << t.error().message;
}

}  // namespace
}  // namespace etl
