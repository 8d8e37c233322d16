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

TEST(JsonText, Utf8IsCheckedByRfc3629) {
  EXPECT_TRUE(is_utf8("Beyoncé — 東京 😀"));
  EXPECT_TRUE(is_utf8(""));
  EXPECT_FALSE(is_utf8("caf\xe9"));                  // Latin-1
  EXPECT_FALSE(is_utf8("\xc0\xaf"));                 // overlong '/'
  EXPECT_FALSE(is_utf8("\xe0\x80\xaf"));             // overlong, three bytes
  EXPECT_FALSE(is_utf8("\xed\xa0\x80"));             // a surrogate
  EXPECT_FALSE(is_utf8("\xf4\x90\x80\x80"));         // past U+10FFFF
  EXPECT_FALSE(is_utf8("\xe6\x9d"));                 // cut short
  EXPECT_FALSE(is_utf8("\x80"));                     // a lone continuation byte
  EXPECT_TRUE(is_utf8("\xf4\x8f\xbf\xbf"));          // U+10FFFF itself
}

TEST(JsonText, AnExcerptKeepsWholeCharactersAndReplacesForeignBytes) {
  EXPECT_EQ(utf8_excerpt("ab東京", 4), "ab") << "東 is three bytes: cut before it, not inside";
  EXPECT_EQ(utf8_excerpt("ab東京", 5), "ab東");
  EXPECT_EQ(utf8_excerpt("ab東京", 100), "ab東京");
  EXPECT_EQ(utf8_excerpt("caf\xe9!", 100), "caf\xef\xbf\xbd!");
  const std::string page = "<p>" + std::string(196, 'x') + "\xc3\xbc</p>";  // ü across byte 200
  const std::string cut = utf8_excerpt(page, 200);
  EXPECT_EQ(cut.size(), 199u);
  EXPECT_TRUE(is_utf8(cut));
  EXPECT_NO_THROW((void)nlohmann::json(utf8_excerpt("\xff\xfe latin-1 \xe9", 50)).dump());
}

}  // namespace
}  // namespace etl
