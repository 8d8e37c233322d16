// Release dates, timestamps and raw object names.
#include <gtest/gtest.h>

#include "etl/dates.h"
#include "etl/lake.h"

namespace etl {
namespace {

std::string date_text(std::string_view release) {
  auto d = normalize_release_date(release);
  return d ? format_date(*d) : "NULL";
}

TEST(ReleaseDate, YearOnlyBecomesJanuaryFirst) { EXPECT_EQ(date_text("1999"), "1999-01-01"); }

TEST(ReleaseDate, YearMonthBecomesFirstOfTheMonth) { EXPECT_EQ(date_text("1999-05"), "1999-05-01"); }

TEST(ReleaseDate, FullDateIsKept) {
  EXPECT_EQ(date_text("1999-05-17"), "1999-05-17");
  EXPECT_EQ(date_text("2024-02-29"), "2024-02-29");
  EXPECT_EQ(date_text("1969-12-31"), "1969-12-31") << "before the epoch";
}

TEST(ReleaseDate, YearZeroAndImpossibleDatesAreNull) {
  for (const char* bad : {"0000", "0000-00", "0000-00-00", "1999-00", "1999-13", "1999-02-29", "2023-04-31", "19",
                          "199x", "1999-5", "1999-05-1", "1999/05/17", "", "1999-05-17T00:00:00Z", "abcd"})
    EXPECT_EQ(date_text(bad), "NULL") << "'" << bad << "'";
}

TEST(Timestamp, Rfc3339UtcRoundTrips) {
  auto t = parse_timestamp("2026-11-21T06:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_timestamp(*t), "2026-11-21T06:00:00Z");
  EXPECT_EQ(format_date(date_of(*t)), "2026-11-21");
}

TEST(Timestamp, FractionsAndOffsetsAreNormalisedToUtcMicroseconds) {
  EXPECT_EQ(format_timestamp(*parse_timestamp("2026-11-21T06:00:00.5Z")), "2026-11-21T06:00:00.500000Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("2026-11-21T06:00:00.123456789Z")), "2026-11-21T06:00:00.123456Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("2026-11-21T06:00:00+02:00")), "2026-11-21T04:00:00Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("2026-11-21T23:00:00-0130")), "2026-11-22T00:30:00Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("1970-01-01 00:00:00")), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("1969-12-31T23:59:59.5Z")), "1969-12-31T23:59:59.500000Z");
  EXPECT_EQ(format_date(date_of(*parse_timestamp("1969-12-31T23:59:59.5Z"))), "1969-12-31");
}

// Only times of years 1-9999 in UTC: an offset must not carry one out of them.
TEST(Timestamp, AnOffsetCannotCarryATimeOutOfFourDigitYears) {
  EXPECT_FALSE(parse_timestamp("9999-12-31T23:30:00-05:00").has_value());
  EXPECT_FALSE(parse_timestamp("0001-01-01T00:30:00+05:00").has_value());
  EXPECT_EQ(format_timestamp(*parse_timestamp("9999-12-31T23:59:59.999999Z")), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_timestamp(*parse_timestamp("0001-01-01T05:00:00+05:00")), "0001-01-01T00:00:00Z");
}

TEST(Timestamp, MalformedTextIsRejected) {
  for (const char* bad : {"", "2026-11-21", "2026-11-21T06:00", "2026-13-21T06:00:00Z", "2026-11-21T25:00:00Z",
                          "2026-11-21T06:00:00Zjunk", "2026-11-21T06:00:00.Z", "2026-11-21T06:00:00+2", "now"})
    EXPECT_FALSE(parse_timestamp(bad)) << "'" << bad << "'";
}

TEST(RawObjectName, ExtractorNameGivesTimeSourceAndRun) {
  auto n = parse_raw_object_name("to_be_processed/spotify_raw_20261121T060000Z_artist-albums_4tZwfgrHOc3mvqYlEYSvVi_r_7.json");
  EXPECT_EQ(n.file_name, "spotify_raw_20261121T060000Z_artist-albums_4tZwfgrHOc3mvqYlEYSvVi_r_7.json");
  EXPECT_EQ(n.stem, "spotify_raw_20261121T060000Z_artist-albums_4tZwfgrHOc3mvqYlEYSvVi_r_7");
  ASSERT_TRUE(n.extracted_at);
  EXPECT_EQ(format_timestamp(*n.extracted_at), "2026-11-21T06:00:00Z");
  EXPECT_EQ(n.source_type, "artist-albums");
  EXPECT_EQ(n.source_id, "4tZwfgrHOc3mvqYlEYSvVi");
  EXPECT_EQ(n.run_id, "r_7") << "a run id may hold '_'";
}

TEST(RawObjectName, OriginalLambdaNameGivesItsTime) {
  auto n = parse_raw_object_name("processed/spotify_raw_2023-06-01 12:34:56.789012.json");
  EXPECT_EQ(n.stem, "spotify_raw_2023-06-01 12:34:56.789012");
  ASSERT_TRUE(n.extracted_at);
  EXPECT_EQ(format_timestamp(*n.extracted_at), "2023-06-01T12:34:56.789012Z");
  EXPECT_TRUE(n.source_id.empty());
}

TEST(RawObjectName, OtherNamesGiveOnlyTheStem) {
  auto n = parse_raw_object_name("processed/export.json");
  EXPECT_EQ(n.stem, "export");
  EXPECT_FALSE(n.extracted_at);
  EXPECT_EQ(parse_raw_object_name("noext").stem, "noext");
}

}  // namespace
}  // namespace etl
