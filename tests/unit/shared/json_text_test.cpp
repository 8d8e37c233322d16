// JSON string escaping shared by the transformer's writers and the cataloger's
// result rows: what must be escaped is, the rest (UTF-8 included) is copied.
#include "etl/json_text.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace etl {
namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonText, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_quoted("plain"), "\"plain\"");
  EXPECT_EQ(json_quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quoted("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(json_quoted(std::string("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
  EXPECT_EQ(json_quoted("Beyoncé — 東京"), "\"Beyoncé — 東京\"");
  EXPECT_EQ(json_quoted(""), "\"\"");
}

TEST(JsonText, EveryByteStringRoundTripsThroughAJsonParser) {
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  all += "ä€😀";
  auto parsed = nlohmann::json::parse(json_quoted(all));
  EXPECT_EQ(parsed.get<std::string>(), all);
}

}  // namespace
}  // namespace etl
