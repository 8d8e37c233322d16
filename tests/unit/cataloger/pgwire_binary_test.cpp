// Binary result values (pgwire/binary_values.h) against PostgreSQL's *_send forms,
// written out byte by byte here; the real decoders (pgx, psycopg binary cursors)
// check them again in tests/pgwire.
#include <gtest/gtest.h>

#include <string>

#include "pgwire/binary_values.h"
#include "pgwire/types.h"

namespace etl::pgwire {
namespace {

std::string hex(const Result<std::string>& r) {
  if (!r) return "error: " + r.error().message;
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : *r) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(PgBinary, IntegersAndBooleansAreBigEndian) {
  EXPECT_EQ(hex(binary_value(oid::int8, "-2")), "fffffffffffffffe");
  EXPECT_EQ(hex(binary_value(oid::int4, "258")), "00000102");
  EXPECT_EQ(hex(binary_value(oid::int2, "-1")), "ffff");
  EXPECT_EQ(hex(binary_value(oid::oid, "4294967295")), "ffffffff");
  EXPECT_EQ(hex(binary_value(oid::boolean, "t")), "01");
  EXPECT_EQ(hex(binary_value(oid::boolean, "f")), "00");
  EXPECT_FALSE(binary_value(oid::int2, "40000").ok());  // out of range
  EXPECT_FALSE(binary_value(oid::int8, "1.5").ok());
  EXPECT_FALSE(binary_value(oid::boolean, "yes").ok());
}

TEST(PgBinary, FloatsAreIeeeBigEndianWithTheSpecialValues) {
  EXPECT_EQ(hex(binary_value(oid::float8, "1.5")), "3ff8000000000000");
  EXPECT_EQ(hex(binary_value(oid::float8, "-2e3")), "c09f400000000000");
  EXPECT_EQ(hex(binary_value(oid::float8, "Infinity")), "7ff0000000000000");
  EXPECT_EQ(hex(binary_value(oid::float8, "-Infinity")), "fff0000000000000");
  EXPECT_EQ(hex(binary_value(oid::float4, "1.5")), "3fc00000");
  EXPECT_EQ(hex(binary_value(oid::float8, "NaN")).substr(0, 3), "7ff");
  EXPECT_FALSE(binary_value(oid::float8, "1.5x").ok());
}

TEST(PgBinary, DatesAndTimestampsCountFromTheYear2000) {
  EXPECT_EQ(hex(binary_value(oid::date, "2000-01-01")), "00000000");
  EXPECT_EQ(hex(binary_value(oid::date, "1999-12-31")), "ffffffff");
  EXPECT_EQ(hex(binary_value(oid::date, "infinity")), "7fffffff");
  EXPECT_EQ(hex(binary_value(oid::timestamp, "2000-01-02 00:00:00")), "000000141dd76000");  // 86400 s
  EXPECT_EQ(hex(binary_value(oid::timestamp, "2000-01-01 00:00:00.000001")), "0000000000000001");
  EXPECT_EQ(hex(binary_value(oid::timestamp, "2000-01-01 00:00:00.1234569")), "000000000001e240");  // cut to micros
  // The zone is applied: one hour east of UTC is one hour earlier.
  EXPECT_EQ(hex(binary_value(oid::timestamptz, "2000-01-01 01:00:00+01")), "0000000000000000");
  EXPECT_EQ(hex(binary_value(oid::timestamptz, "2000-01-01 00:00:00+00")), "0000000000000000");
  EXPECT_EQ(hex(binary_value(oid::timestamptz, "1999-12-31 23:30:00-00:30")), "0000000000000000");
  EXPECT_EQ(hex(binary_value(oid::timestamp, "-infinity")), "8000000000000000");
  EXPECT_EQ(hex(binary_value(oid::time, "00:00:01.5")), "000000000016e360");
  EXPECT_FALSE(binary_value(oid::date, "2000-02-30").ok());
  EXPECT_FALSE(binary_value(oid::timestamp, "2000-01-01").ok());
  EXPECT_FALSE(binary_value(oid::timestamp, "2000-01-01 25:00:00").ok());
}

TEST(PgBinary, BcDatesAndYearsPast9999CountFromTheYear2000Too) {
  // 0001-12-31 BC is the day before 0001-01-01: 730120 days before 2000-01-01 (checked against
  // Python's proleptic Gregorian calendar; the years out of its range with the same formula).
  EXPECT_EQ(hex(binary_value(oid::date, "0001-01-01")), "fff4dbf9");  // -730119
  EXPECT_EQ(hex(binary_value(oid::date, "0001-12-31 BC")), "fff4dbf8");
  EXPECT_EQ(hex(binary_value(oid::date, "0044-03-15 BC")), "fff49d7b");  // -746117
  EXPECT_EQ(hex(binary_value(oid::date, "12345-01-01")), "0039a782");    // 3778434
  EXPECT_EQ(hex(binary_value(oid::timestamp, "0001-12-31 23:59:59.999999 BC")), "ff1fe2ffc59c5fff");
  EXPECT_EQ(hex(binary_value(oid::timestamp, "290000-01-10 04:00:54.775807")), "7e207e58d682bfff");
  EXPECT_EQ(hex(binary_value(oid::timestamptz, "0044-03-15 10:00:00+00 BC")),
            hex(binary_value(oid::timestamp, "0044-03-15 10:00:00 BC")));
  EXPECT_FALSE(binary_value(oid::date, "0000-01-01").ok()) << "PostgreSQL has no year 0";
  EXPECT_FALSE(binary_value(oid::date, "0044-02-30 BC").ok());
  EXPECT_FALSE(binary_value(oid::timestamp, "300000-01-01 00:00:00").ok()) << "past int64 microseconds";
}

TEST(PgBinary, IntervalsAreMicrosDaysMonths) {
  EXPECT_EQ(hex(binary_value(oid::interval, "1 year 2 months 3 days 00:00:01")),
            "00000000000f4240" "00000003" "0000000e");
  EXPECT_EQ(hex(binary_value(oid::interval, "-1 day -00:00:01")), "fffffffffff0bdc0" "ffffffff" "00000000");
  EXPECT_EQ(hex(binary_value(oid::interval, "00:00:00")), "0000000000000000" "00000000" "00000000");
  EXPECT_FALSE(binary_value(oid::interval, "3 fortnights").ok());
}

TEST(PgBinary, IntervalsPrintAsPostgresDoesAndTheirBinaryMatches) {
  auto text = [](std::string_view iso) {
    auto parts = parse_iso_interval(iso);
    return parts ? pg_interval_text(*parts) : "not an interval: " + std::string(iso);
  };
  EXPECT_EQ(text("P1Y2M3DT4H5M6.5S"), "1 year 2 mons 3 days 04:05:06.5");
  EXPECT_EQ(text("P1DT2H"), "1 day 02:00:00");
  EXPECT_EQ(text("PT0S"), "00:00:00");
  EXPECT_EQ(text("P-1DT1S"), "-1 days +00:00:01");
  EXPECT_EQ(text("PT-0.000001S"), "-00:00:00.000001");
  EXPECT_EQ(text("PT100H"), "100:00:00");
  EXPECT_EQ(text("P2Y"), "2 years");
  EXPECT_FALSE(parse_iso_interval("1 day").has_value());
  EXPECT_FALSE(parse_iso_interval("P").has_value());
  EXPECT_FALSE(parse_iso_interval("P1.5D").has_value());
  // The binary form of each text form: micros, days, months.
  EXPECT_EQ(hex(binary_value(oid::interval, text("P1DT2H"))), "00000001ad274800" "00000001" "00000000");
  EXPECT_EQ(hex(binary_value(oid::interval, text("P-1DT1S"))), "00000000000f4240" "ffffffff" "00000000");
  EXPECT_EQ(hex(binary_value(oid::interval, text("PT100H"))), "00000053d1ac1000" "00000000" "00000000");
}

TEST(PgBinary, NumericIsBase10000DigitsWithWeightSignAndScale) {
  // 123.45: digits [123, 4500], weight 0, positive, dscale 2.
  EXPECT_EQ(hex(binary_value(oid::numeric, "123.45")), "0002" "0000" "0000" "0002" "007b" "1194");
  // -12345678: digits [1234, 5678], weight 1, negative, dscale 0.
  EXPECT_EQ(hex(binary_value(oid::numeric, "-12345678")), "0002" "0001" "4000" "0000" "04d2" "162e");
  // 0.0001: digit [1], weight -1, dscale 4.
  EXPECT_EQ(hex(binary_value(oid::numeric, "0.0001")), "0001" "ffff" "0000" "0004" "0001");
  // 10000: digit [1], weight 1 (the trailing zero group left out).
  EXPECT_EQ(hex(binary_value(oid::numeric, "10000")), "0001" "0001" "0000" "0000" "0001");
  EXPECT_EQ(hex(binary_value(oid::numeric, "0.00")), "0000" "0000" "0000" "0002");
  EXPECT_EQ(hex(binary_value(oid::numeric, "NaN")), "0000" "0000" "c000" "0000");
  EXPECT_FALSE(binary_value(oid::numeric, "1e5").ok());
  EXPECT_FALSE(binary_value(oid::numeric, "-").ok());
}

TEST(PgBinary, ArraysCarryTheirElementTypeAndNulls) {
  // ndim 1, has null 1, element int8, 2 elements from 1; then 7, NULL.
  EXPECT_EQ(hex(binary_value(oid::int8_array, "{\"7\",NULL}")),
            "00000001" "00000001" "00000014" "00000002" "00000001" "00000008" "0000000000000007" "ffffffff");
  EXPECT_EQ(hex(binary_value(oid::text_array, array_literal({std::string("a\"b"), std::string("NULL")}))),
            "00000001" "00000000" "00000019" "00000002" "00000001" "00000003" "612262" "00000004" "4e554c4c");
  EXPECT_EQ(hex(binary_value(oid::text_array, "{}")), "00000000" "00000000" "00000019");
  EXPECT_FALSE(binary_value(oid::int8_array, "{\"x\"}").ok());
  EXPECT_FALSE(binary_value(oid::text_array, "{{\"a\"}}").ok());
  EXPECT_FALSE(binary_value(oid::text_array, "{\"a\"").ok());
}

TEST(PgBinary, TextTypesAreTheirBytesAndOtherTypesAreRefused) {
  EXPECT_EQ(*binary_value(oid::text, "héllo"), "héllo");
  EXPECT_EQ(*binary_value(oid::json, "{\"a\":1}"), "{\"a\":1}");
  EXPECT_EQ(hex(binary_value(oid::uuid, "00112233-4455-6677-8899-aabbccddeeff")), "00112233445566778899aabbccddeeff");
  EXPECT_FALSE(binary_value(oid::uuid, "0011").ok());
  EXPECT_FALSE(has_binary_form(oid::bytea));
  auto refused = binary_value(oid::bytea, "\\x00");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  EXPECT_EQ(binary_value(oid::int8, "x").error().code, Errc::bad_data);
}

// --- binary parameters: the *_recv side ---

std::string bytes(std::initializer_list<int> v) {
  std::string out;
  for (int b : v) out += static_cast<char>(b);
  return out;
}

std::string recv(std::int32_t type, const std::string& b) {
  auto r = text_of_binary(type, b);
  return r ? *r : "error: " + r.error().message;
}

TEST(PgBinaryParams, EachTypeReadsBackToTheTextItWasSentFrom) {
  // The send forms above are checked byte by byte against PostgreSQL's; reading them
  // back must give the same value.
  const std::pair<std::int32_t, const char*> values[] = {
      {oid::boolean, "true"}, {oid::boolean, "false"}, {oid::int2, "-32768"}, {oid::int4, "2147483647"},
      {oid::int8, "-9223372036854775808"}, {oid::oid, "4294967295"}, {oid::float8, "0.1"}, {oid::float8, "-1e+300"},
      {oid::float4, "1.5"}, {oid::numeric, "123.45"}, {oid::numeric, "-12345678"}, {oid::numeric, "0.0001"},
      {oid::numeric, "10000"}, {oid::numeric, "0.00"}, {oid::numeric, "NaN"}, {oid::numeric, "-12.3450"},
      {oid::date, "2024-02-29"}, {oid::date, "0044-03-15 BC"}, {oid::date, "infinity"}, {oid::date, "-infinity"},
      {oid::timestamp, "2025-01-02 03:04:05.123456"}, {oid::timestamp, "1999-12-31 23:59:59"},
      {oid::timestamp, "0001-01-01 00:00:00 BC"}, {oid::timestamptz, "2025-01-02 03:04:05.5+00"},
      {oid::timestamptz, "infinity"}, {oid::text, "héllo"}, {oid::json, "{\"a\":1}"}};
  for (const auto& [type, text] : values) {
    auto sent = binary_value(type, text);
    ASSERT_TRUE(sent.ok()) << type << " " << text;
    EXPECT_EQ(recv(type, *sent), text) << "type oid " << type;
  }
  EXPECT_EQ(recv(oid::int8_array, *binary_value(oid::int8_array, "{\"7\",NULL}")), "{7,NULL}");
  EXPECT_EQ(recv(oid::numeric_array, *binary_value(oid::numeric_array, "{12.50,-0.001}")), "{12.50,-0.001}");
  EXPECT_EQ(recv(oid::date_array, *binary_value(oid::date_array, "{2024-02-29,infinity}")), "{2024-02-29,infinity}");
  EXPECT_EQ(recv(oid::timestamptz_array, *binary_value(oid::timestamptz_array, "{\"2025-01-02 03:04:05.5+00\"}")),
            "{\"2025-01-02 03:04:05.5+00\"}");
  EXPECT_EQ(recv(oid::float4_array, *binary_value(oid::float4_array, "{1.5,NaN,-Infinity}")), "{1.5,NaN,-Infinity}");
  EXPECT_EQ(recv(oid::text_array, *binary_value(oid::text_array, "{}")), "{}");
}

TEST(PgBinaryParams, OtherSendersFormsAreReadToo) {
  // numeric 1.5 sent with a trailing zero group and a scale of 3 (allowed): "1.500".
  EXPECT_EQ(recv(oid::numeric, bytes({0, 2, 0, 0, 0, 0, 0, 3, 0, 1, 0x13, 0x88})), "1.500");
  EXPECT_EQ(recv(oid::numeric, bytes({0, 0, 0, 0, 0xd0, 0, 0, 0})), "Infinity");
  EXPECT_EQ(recv(oid::numeric, bytes({0, 0, 0, 0, 0xf0, 0, 0, 0})), "-Infinity");
  EXPECT_EQ(recv(oid::numeric, bytes({0, 0, 0, 0, 0x40, 0, 0, 1})), "0.0") << "no negative zero";
  // jsonb: a version byte, then the text.
  EXPECT_EQ(recv(oid::jsonb, bytes({1, '[', ']'})), "[]");
  // Unspecified (0): text, as it was described.
  EXPECT_EQ(recv(0, "a\nb"), "a\nb");
  // The lower bound of an array is the client's business; elements are read in order.
  EXPECT_EQ(recv(oid::bool_array, bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0, 1, 1})), "{true}");
}

TEST(PgBinaryParams, MalformedBytesAre22P03NotACrashOrAnAllocation) {
  auto malformed = [](std::int32_t type, const std::string& b) {
    auto r = text_of_binary(type, b);
    return !r && r.error().message.rfind(std::string(kMalformedBinary), 0) == 0;
  };
  EXPECT_TRUE(malformed(oid::int4, bytes({0, 0, 1})));
  EXPECT_TRUE(malformed(oid::float4, bytes({0, 0, 0, 0, 0})));
  EXPECT_TRUE(malformed(oid::date, ""));
  EXPECT_TRUE(malformed(oid::timestamp, bytes({0, 0, 0, 0})));
  EXPECT_TRUE(malformed(oid::jsonb, bytes({2, '{', '}'})));
  EXPECT_TRUE(malformed(oid::numeric, bytes({0, 1, 0, 0, 0, 0, 0, 0})));              // one digit promised, none sent
  EXPECT_TRUE(malformed(oid::numeric, bytes({0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10})));  // a digit of 10000
  EXPECT_TRUE(malformed(oid::numeric, bytes({0, 0, 0, 0, 0x12, 0x34, 0, 0})));        // no such sign
  // An array that claims 2^31-1 elements in 20 bytes is refused before anything is reserved.
  EXPECT_TRUE(malformed(oid::int8_array, bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1})));
  // Element type other than the array's, element length past the end, bytes left over.
  EXPECT_TRUE(malformed(oid::int8_array, bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23})));
  EXPECT_TRUE(malformed(oid::int4_array, bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1})));
  EXPECT_TRUE(malformed(oid::int4_array, bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23, 7})));
  auto nested = text_of_binary(oid::int4_array, bytes({0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23}));
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().message.rfind("unsupported", 0), 0u) << nested.error().message;
  EXPECT_TRUE(malformed(oid::uuid, std::string(15, '\0')));
  EXPECT_TRUE(malformed(oid::interval, std::string(12, '\0')));
  auto point = text_of_binary(600, std::string(16, '\0'));  // a point: a type not bound here
  ASSERT_FALSE(point.ok());
  EXPECT_EQ(point.error().message.rfind("unsupported", 0), 0u);
}

TEST(PgBinary, ColumnFormatsFollowTheBindRules) {
  EXPECT_EQ(*column_formats({}, 3), (std::vector<std::int16_t>{0, 0, 0}));
  EXPECT_EQ(*column_formats({1}, 3), (std::vector<std::int16_t>{1, 1, 1}));
  EXPECT_EQ(*column_formats({0, 1}, 2), (std::vector<std::int16_t>{0, 1}));
  EXPECT_FALSE(column_formats({0, 1}, 3).ok());
  EXPECT_FALSE(column_formats({2}, 1).ok());
}

}  // namespace
}  // namespace etl::pgwire
