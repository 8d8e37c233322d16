// The bytes other software reads, pinned: the raw envelope (the transformer and
// any reader of the raw bucket) and the S3 event (the transformer, and whatever
// else consumes the raw topic). tests/golden/ holds the expected bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "envelope.h"
#include "etl/s3_event.h"

namespace etl::extractor {
namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(ETL_SOURCE_DIR) + "/tests/golden/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "tests/golden/" << name << " is missing";
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(GoldenFormats, TheRawEnvelopeIsByteForByteTheSame) {
  const std::vector<std::string> pages = {R"({"tracks":{"items":[],"next":null}})", "{ \"x\" : 1.50 }"};
  EnvelopeInput in{"r20261121t060000000-abc123",
                   {SourceType::search, "Daft Punk"},
                   std::chrono::system_clock::time_point(std::chrono::seconds(1795240800)),
                   "https://api.spotify.com/v1",
                   "/search",
                   &pages};
  EXPECT_EQ(build_envelope(in), golden("raw_envelope.json"));
  EXPECT_EQ(raw_object_key(in.extracted_at, in.source, in.run_id),
            "to_be_processed/spotify_raw_20261121T060000Z_search_daft-punk_r20261121t060000000-abc123.json");
}

TEST(GoldenFormats, TheObjectCreatedEventIsByteForByteTheSameAndParsesBack) {
  ObjectCreated e;
  e.bucket = "spotify-etl-raw";
  e.key = "raw/to_be_processed/spotify_raw_20261121T060000Z_search_daft-punk_r20261121t060000000-abc123 (copy).json";
  e.size = 553112;
  e.etag = "0123456789abcdef0123456789abcdef";
  e.sequencer = "0055AED6DCD90281E5";
  e.event_time = "2026-11-21T06:00:00.123Z";
  const std::string document = build_s3_event(e);
  EXPECT_EQ(document, golden("s3_event.json"));
  auto back = parse_s3_events(document);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].key, e.key);
  EXPECT_EQ((*back)[0].etag, e.etag);
  EXPECT_EQ((*back)[0].size, e.size);
}

TEST(GoldenFormats, SequencersAreFixedWidthHexAndStrictlyIncreasing) {
  std::string previous = next_sequencer();
  for (int i = 0; i < 1000; ++i) {
    std::string next = next_sequencer();
    ASSERT_EQ(next.size(), 16u) << next;
    ASSERT_GT(next, previous) << "sequencers order as the events were made";
    previous = next;
  }
}

}  // namespace
}  // namespace etl::extractor
