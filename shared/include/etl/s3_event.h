// S3 event notification documents: what S3 and MinIO put on the wire when an
// object is created, and what our services publish after each write.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl {

struct ObjectCreated {
  std::string bucket;
  std::string key;  // decoded ("a b.json", not "a+b.json")
  std::uint64_t size = 0;
  std::string etag;
  std::string sequencer;
  std::string event_name = "ObjectCreated:Put";
  std::string event_time;  // RFC 3339 UTC with milliseconds
  std::string region = "us-east-1";
};

// One record in AWS's shape; the key URL-encoded as S3 does (spaces as '+').
std::string build_s3_event(const ObjectCreated& event);

// S3 and MinIO send one record per event; a document past either bound is bad_data
// (it goes to the DLQ) instead of a burst of work.
inline constexpr std::size_t kMaxS3EventRecords = 100;
inline constexpr std::size_t kMaxS3EventBytes = 1u << 20;

// Which records parse_s3_events returns.
enum class S3EventKinds { created, created_and_removed };

// Every ObjectCreated record of a document (and ObjectRemoved record with
// `created_and_removed`: its event_name tells them apart, its size and eTag are
// empty). Accepts `ObjectCreated:*` (AWS) and `s3:ObjectCreated:*` (MinIO), and
// the same of `ObjectRemoved:`, and decodes keys. Other records (test events such
// as s3:TestEvent) are skipped; malformed JSON is bad_data.
Result<std::vector<ObjectCreated>> parse_s3_events(std::string_view document,
                                                   S3EventKinds kinds = S3EventKinds::created);

// The `sequencer` of the events this process publishes: S3-style fixed-width
// upper-case hex (nanoseconds since the epoch), strictly increasing in the
// process, so the events of one key order as S3's do.
std::string next_sequencer();

// S3's own key encoding in events: like form encoding, '/' kept.
std::string s3_event_encode_key(std::string_view key);

// "2026-11-21T06:00:00.123Z"
std::string rfc3339_millis(std::chrono::system_clock::time_point t);
// "2026-11-21T06:00:00Z"
std::string rfc3339(std::chrono::system_clock::time_point t);

}  // namespace etl
