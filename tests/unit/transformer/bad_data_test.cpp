// Poison raw objects are values (bad_data), never a crash: not JSON, truncated,
// wrong shape, unknown format. Run under ASan/UBSan too.
#include <gtest/gtest.h>

#include "fixtures.h"
#include "transform.h"

namespace etl::transformer {
namespace {

using namespace fixtures;

Errc code_of(std::string_view raw) {
  auto out = transform_raw(raw, RawObjectMeta{kRawName, std::nullopt});
  return out.ok() ? Errc::internal : out.error().code;
}

std::string message_of(std::string_view raw) {
  auto out = transform_raw(raw, RawObjectMeta{kRawName, std::nullopt});
  return out.ok() ? "(accepted)" : out.error().message;
}

std::string good_envelope() {
  return envelope("playlist", "37i9dQZF1DXcBWIGoYBM5M",
                  {paging(json::array({playlist_item(track()), playlist_item(nullptr), playlist_item(local_track())}))});
}

// Found by fuzz_envelope (tests/fuzz/corpus/envelope/source-not-closed.json): a
// malformed `source` object walked on demand without an error, and the next
// look-up reached undefined behaviour inside simdjson. Under UBSan this crashed.
TEST(BadData, AMalformedSourceObjectIsBadDataNeverUndefinedBehaviour) {
  const std::string raw = R"JSON({"format":"spotify-etl.raw.v1","run_id":"r","source":{"type":"album","id":"qN3uQ7FjRGTy","name":"A","release_date":"2020n_id":"r","source":{"type":"album","id":"qN3uQ7FjRGTy","name":"A","release_date":"2020","total_s":[{"id":"a"}]}],"next":null}}]})JSON";
  EXPECT_EQ(code_of(raw), Errc::bad_data) << message_of(raw);
  EXPECT_NE(message_of(raw).find("not valid JSON"), std::string::npos) << message_of(raw);
}

TEST(BadData, NotJsonIsBadData) {
  for (std::string_view raw : {"", " ", "not json", "{", "}", "{\"a\":}", "nul", "\x01\x02"})
    EXPECT_EQ(code_of(raw), Errc::bad_data) << "'" << raw << "'";
}

TEST(BadData, JsonThatIsNotAnObjectIsBadData) {
  for (std::string_view raw : {"[]", "\"text\"", "42", "null", "true"})
    EXPECT_EQ(code_of(raw), Errc::bad_data) << raw;
  EXPECT_NE(message_of("[]").find("not a JSON object"), std::string::npos) << message_of("[]");
}

TEST(BadData, EveryTruncationIsBadDataNeverACrash) {
  const std::string raw = good_envelope();
  ASSERT_TRUE(transform_raw(raw, RawObjectMeta{kRawName, std::nullopt}).ok());
  for (std::size_t n = 0; n < raw.size(); n += 7)
    EXPECT_EQ(code_of(std::string_view(raw).substr(0, n)), Errc::bad_data) << "truncated to " << n << " bytes";
}

TEST(BadData, EveryTruncationOfAPreEnvelopeFileIsBadData) {
  const std::string raw = paging(json::array({playlist_item(track()), playlist_item(track())})).dump();
  for (std::size_t n = 0; n < raw.size(); n += 5)
    EXPECT_EQ(code_of(std::string_view(raw).substr(0, n)), Errc::bad_data) << "truncated to " << n << " bytes";
}

TEST(BadData, InvalidUtf8IsBadData) {
  std::string raw = good_envelope();
  auto at = raw.find("One More Time");
  ASSERT_NE(at, std::string::npos);
  raw[at] = static_cast<char>(0xC3);  // a lead byte without its continuation
  raw[at + 1] = 'x';
  EXPECT_EQ(code_of(raw), Errc::bad_data);
}

TEST(BadData, TrailingGarbageIsBadData) { EXPECT_EQ(code_of(good_envelope() + " xyz"), Errc::bad_data); }

TEST(BadData, WrongShapesAreBadDataWithAReason) {
  const auto env = [](const std::string& pages) {
    return R"({"format":"spotify-etl.raw.v1","run_id":"r","source":{"type":"playlist","id":"p"},"extracted_at":"2026-11-21T06:00:00Z","pages":)" +
           pages + "}";
  };
  EXPECT_EQ(code_of(env("{}")), Errc::bad_data);
  EXPECT_EQ(code_of(env("[42]")), Errc::bad_data);
  EXPECT_EQ(code_of(env(R"([{"items":{"x":1}}])")), Errc::bad_data);
  EXPECT_EQ(code_of(env(R"([{"items":"x"}])")), Errc::bad_data);
  EXPECT_EQ(code_of(env(R"([{"next":null}])")), Errc::bad_data);
  EXPECT_NE(message_of(env(R"([{"next":null}])")).find("page 0 has no items"), std::string::npos);
  EXPECT_EQ(code_of(R"({"format":"spotify-etl.raw.v9","pages":[]})"), Errc::bad_data);
  EXPECT_EQ(code_of(R"({"format":"spotify-etl.raw.v1","source":{"type":"podcast","id":"x"},"extracted_at":"2026-11-21T06:00:00Z","pages":[]})"),
            Errc::bad_data);
  EXPECT_EQ(code_of(R"({"format":"spotify-etl.raw.v1","source":{"type":"playlist","id":"x"},"extracted_at":"yesterday","pages":[]})"),
            Errc::bad_data);
  EXPECT_EQ(code_of(R"({"format":"spotify-etl.raw.v1","extracted_at":"2026-11-21T06:00:00Z","pages":[]})"),
            Errc::bad_data)
      << "no source";
  EXPECT_EQ(code_of(R"({"hello":"world"})"), Errc::bad_data) << "neither an envelope nor a playlist";
}

TEST(BadData, DeepNestingNeverOverflowsTheStack) {
  // Skipped values are walked iteratively: a 100,000-deep item is just a malformed item.
  std::string raw = R"({"format":"spotify-etl.raw.v1","source":{"type":"playlist","id":"p"},"extracted_at":"2026-11-21T06:00:00Z","pages":[{"items":[)";
  raw += std::string(100000, '[') + std::string(100000, ']') + "]}]}";
  auto out = transform_raw(raw, RawObjectMeta{kRawName, std::nullopt});
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->skipped.malformed, 1u);
  std::string deep_track = R"({"format":"spotify-etl.raw.v1","source":{"type":"playlist","id":"p"},"extracted_at":"2026-11-21T06:00:00Z","pages":[{"items":[{"track":{"album":)";
  deep_track += std::string(100000, '[') + std::string(100000, ']') + "}}]}]}";
  auto deep = transform_raw(deep_track, RawObjectMeta{kRawName, std::nullopt});
  ASSERT_TRUE(deep.ok()) << deep.error().message;
  EXPECT_EQ(deep->skipped.malformed, 1u);
}

TEST(BadData, RandomByteFlipsNeverCrash) {
  const std::string good = good_envelope();
  std::uint64_t state = 42;
  for (int i = 0; i < 2000; ++i) {
    std::string raw = good;
    for (int k = 0; k < 3; ++k) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      raw[(state >> 33) % raw.size()] = static_cast<char>(state >> 56);
    }
    auto out = transform_raw(raw, RawObjectMeta{kRawName, std::nullopt});
    if (!out.ok()) {
      EXPECT_EQ(out.error().code, Errc::bad_data) << out.error().message;
    }
  }
}

}  // namespace
}  // namespace etl::transformer
