#include "etl/s3_event.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace etl {
namespace {

TEST(S3Event, RoundTripKeepsEveryField) {
  ObjectCreated e;
  e.bucket = "raw";
  e.key = "to_be_processed/spotify raw+ä.json";
  e.size = 1234;
  e.etag = "abc123";
  e.sequencer = "0055AED6DCD90281E5";
  e.event_time = "2026-11-21T06:00:00.000Z";
  auto doc = build_s3_event(e);
  auto parsed = parse_s3_events(doc);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  const auto& back = parsed->front();
  EXPECT_EQ(back.bucket, "raw");
  EXPECT_EQ(back.key, e.key);
  EXPECT_EQ(back.size, 1234u);
  EXPECT_EQ(back.etag, "abc123");
  EXPECT_EQ(back.sequencer, e.sequencer);
  EXPECT_EQ(back.event_time, e.event_time);
}

TEST(S3Event, BuildsAwsShapeWithEncodedKey) {
  ObjectCreated e;
  e.bucket = "raw";
  e.key = "to_be_processed/a b.json";
  auto doc = nlohmann::json::parse(build_s3_event(e));
  const auto& r = doc["Records"][0];
  EXPECT_EQ(r["eventVersion"], "2.1");
  EXPECT_EQ(r["eventSource"], "aws:s3");
  EXPECT_EQ(r["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(r["s3"]["s3SchemaVersion"], "1.0");
  EXPECT_EQ(r["s3"]["bucket"]["arn"], "arn:aws:s3:::raw");
  EXPECT_EQ(r["s3"]["object"]["key"], "to_be_processed/a+b.json");
}

TEST(S3Event, AcceptsMinioEventNamesAndPercentEncodedKeys) {
  const char* minio = R"({"EventName":"s3:ObjectCreated:Put","Key":"raw/to_be_processed/x.json","Records":[
    {"eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"","eventTime":"2026-11-21T06:00:00.000Z",
     "eventName":"s3:ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"Config",
     "bucket":{"name":"raw","arn":"arn:aws:s3:::raw"},
     "object":{"key":"to_be_processed%2Fspotify_raw_%C3%A9.json","size":42,"eTag":"e","sequencer":"1"}}}]})";
  auto parsed = parse_s3_events(minio);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].key, "to_be_processed/spotify_raw_\xC3\xA9.json");
  EXPECT_EQ((*parsed)[0].size, 42u);
}

TEST(S3Event, SkipsRemovalsAndTestEvents) {
  auto removal = parse_s3_events(R"({"Records":[{"eventName":"ObjectRemoved:Delete","s3":{}}]})");
  ASSERT_TRUE(removal.ok());
  EXPECT_TRUE(removal->empty());
  auto test_event = parse_s3_events(R"({"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"raw"})");
  ASSERT_TRUE(test_event.ok());
  EXPECT_TRUE(test_event->empty());
}

// The cataloger asks for removals too (a removed data file changes its partition),
// in AWS's shape and MinIO's; a removal built here names no size or eTag.
TEST(S3Event, RemovalsAreReadWhenAskedForAndBuiltWithoutSizeOrETag) {
  ObjectCreated removed;
  removed.bucket = "transformed";
  removed.key = "songs_data/dt=2026-11-21/a b.csv";
  removed.event_name = "ObjectRemoved:Delete";
  const nlohmann::json built = nlohmann::json::parse(build_s3_event(removed));
  EXPECT_FALSE(built["Records"][0]["s3"]["object"].contains("size")) << built;
  EXPECT_FALSE(built["Records"][0]["s3"]["object"].contains("eTag")) << built;
  EXPECT_TRUE(parse_s3_events(built.dump()).value().empty()) << "not asked for: skipped";

  const std::string minio =
      R"({"Records":[{"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"transformed"},"object":{"key":"x%2Fy.csv"}}},)"
      R"({"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"transformed"},"object":{"key":"z.csv","size":3}}}]})";
  for (const auto& [doc, key] : {std::pair{built.dump(), std::string("songs_data/dt=2026-11-21/a b.csv")},
                                 std::pair{minio, std::string("x/y.csv")}}) {
    auto parsed = parse_s3_events(doc, S3EventKinds::created_and_removed);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_FALSE(parsed->empty());
    EXPECT_EQ((*parsed)[0].key, key);
    EXPECT_TRUE((*parsed)[0].event_name.ends_with("ObjectRemoved:Delete")) << (*parsed)[0].event_name;
  }
  EXPECT_EQ(parse_s3_events(minio, S3EventKinds::created_and_removed).value().size(), 2u);
  EXPECT_EQ(parse_s3_events(minio).value().size(), 1u);
}

TEST(S3Event, MalformedDocumentsAreBadDataNotCrashes) {
  for (S3EventKinds kinds : {S3EventKinds::created, S3EventKinds::created_and_removed}) {
    for (const char* doc : {"", "not json", "[]", R"({"Records":{}})", R"({"Records":[1]})",
                            R"({"Records":[{"eventName":"ObjectCreated:Put"}]})",
                            R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":1},"object":{"key":"k"}}}]})",
                            R"({"nothing":true})"}) {
      auto parsed = parse_s3_events(doc, kinds);
      ASSERT_FALSE(parsed.ok()) << "accepted: " << doc;
      EXPECT_EQ(parsed.error().code, Errc::bad_data) << doc;
    }
  }
  // A broken removal record is bad data where removals are read, and skipped
  // (as any other record) where they are not.
  for (const char* doc : {R"({"Records":[{"eventName":"ObjectRemoved:Delete"}]})",
                          R"({"Records":[{"eventName":"s3:ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":7}}}]})"}) {
    auto read = parse_s3_events(doc, S3EventKinds::created_and_removed);
    ASSERT_FALSE(read.ok()) << "accepted: " << doc;
    EXPECT_EQ(read.error().code, Errc::bad_data) << doc;
    auto skipped = parse_s3_events(doc, S3EventKinds::created);
    ASSERT_TRUE(skipped.ok()) << doc << ": " << skipped.error().message;
    EXPECT_TRUE(skipped->empty()) << doc;
  }
}

TEST(S3Event, Rfc3339FormatsUtc) {
  std::chrono::system_clock::time_point t{std::chrono::seconds(1795240800)};  // 2026-11-21T06:00:00Z
  EXPECT_EQ(rfc3339(t), "2026-11-21T06:00:00Z");
  EXPECT_EQ(rfc3339_millis(t + std::chrono::milliseconds(7)), "2026-11-21T06:00:00.007Z");
}

}  // namespace
}  // namespace etl

namespace etl {
namespace {

// Issue 13 item 8: thousands of Records in one document are refused, not processed.
TEST(S3EventBounds, ThousandsOfRecordsAreBadDataWithAClearReason) {
  ObjectCreated e;
  e.bucket = "b";
  e.key = "songs_data/dt=2026-11-21/x.parquet";
  auto one = nlohmann::json::parse(build_s3_event(e));
  nlohmann::json doc = {{"Records", nlohmann::json::array()}};
  for (std::size_t i = 0; i < kMaxS3EventRecords; ++i) doc["Records"].push_back(one["Records"][0]);
  EXPECT_EQ(parse_s3_events(doc.dump()).value().size(), kMaxS3EventRecords);
  for (int i = 0; i < 500; ++i) doc["Records"].push_back(one["Records"][0]);
  auto refused = parse_s3_events(doc.dump());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::bad_data);
  EXPECT_NE(refused.error().message.find("Records"), std::string::npos) << refused.error().message;
  for (int i = 0; i < 3000; ++i) doc["Records"].push_back(one["Records"][0]);
  EXPECT_EQ(parse_s3_events(doc.dump()).error().code, Errc::bad_data) << "thousands: over the byte bound as well";
  EXPECT_EQ(parse_s3_events(std::string(kMaxS3EventBytes + 1, ' ')).error().code, Errc::bad_data);
}

}  // namespace
}  // namespace etl

namespace etl {
namespace {

// Found by fuzz_s3_event (tests/fuzz/corpus/s3_event/crash-event-name-object.json):
// a field of the wrong type threw out of the parser and ended the process.
TEST(S3Event, FieldsOfTheWrongTypeAreIgnoredOrBadDataNeverAThrow) {
  const char* documents[] = {
      R"({"Records":[{"eventName":{"bucket":1},"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","eventTime":5,"awsRegion":[],"s3":{"bucket":{"name":"b"},"object":{"key":"k","eTag":{},"sequencer":1}}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k","etag":2}}}]})"};
  for (const char* document : documents) {
    Result<std::vector<ObjectCreated>> parsed = make_error(Errc::internal, "not parsed");
    EXPECT_NO_THROW(parsed = parse_s3_events(document)) << document;
    if (parsed.ok()) {
      for (const auto& e : *parsed) EXPECT_EQ(e.key, "k");
    } else {
      EXPECT_EQ(parsed.error().code, Errc::bad_data) << document;
    }
  }
  auto typed = parse_s3_events(documents[1]);
  ASSERT_TRUE(typed.ok());
  ASSERT_EQ(typed->size(), 1u);
  EXPECT_EQ((*typed)[0].etag, "") << "a non-string eTag is no ETag";
  EXPECT_EQ((*typed)[0].event_time, "");
}

}  // namespace
}  // namespace etl
