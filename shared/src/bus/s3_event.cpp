#include "etl/s3_event.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include <nlohmann/json.hpp>

#include <cctype>
#include <ctime>

#include "etl/http_client.h"

namespace etl {

std::string rfc3339_millis(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string s3_event_encode_key(std::string_view key) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == '*') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string build_s3_event(const ObjectCreated& e) {
  nlohmann::json record = {
      {"eventVersion", "2.1"},
      {"eventSource", "aws:s3"},
      {"awsRegion", e.region},
      {"eventTime", e.event_time.empty() ? rfc3339_millis(std::chrono::system_clock::now()) : e.event_time},
      {"eventName", e.event_name},
      {"userIdentity", {{"principalId", "spotify-etl"}}},
      {"requestParameters", {{"sourceIPAddress", "127.0.0.1"}}},
      {"responseElements", nlohmann::json::object()},
      {"s3",
       {{"s3SchemaVersion", "1.0"},
        {"configurationId", "spotify-etl"},
        {"bucket", {{"name", e.bucket}, {"ownerIdentity", {{"principalId", "spotify-etl"}}}, {"arn", "arn:aws:s3:::" + e.bucket}}},
        {"object", {{"key", s3_event_encode_key(e.key)}, {"size", e.size}, {"eTag", e.etag}, {"sequencer", e.sequencer}}}}}};
  // A removal names no size or eTag (AWS's records of deletions have neither).
  if (e.event_name.starts_with("ObjectRemoved:")) {
    record["s3"]["object"].erase("size");
    record["s3"]["object"].erase("eTag");
  }
  return nlohmann::json{{"Records", nlohmann::json::array({record})}}.dump();
}

namespace {

// A string field, or "" when it is absent or not a string. (nlohmann's value()
// throws on a field of another type: a crafted event must not end the process.)
std::string text_field(const nlohmann::json& object, const char* name, const char* fallback_name = nullptr) {
  auto it = object.find(name);
  if (it != object.end() && it->is_string()) return it->get<std::string>();
  return fallback_name ? text_field(object, fallback_name) : std::string();
}

}  // namespace

Result<std::vector<ObjectCreated>> parse_s3_events(std::string_view document, S3EventKinds kinds) {
  if (document.size() > kMaxS3EventBytes)
    return make_error(Errc::bad_data, "event document is larger than " + std::to_string(kMaxS3EventBytes) + " bytes");
  auto doc = nlohmann::json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(Errc::bad_data, "event is not valid JSON");
  if (!doc.is_object()) return make_error(Errc::bad_data, "event is not a JSON object");
  std::vector<ObjectCreated> out;
  auto records = doc.find("Records");
  if (records == doc.end()) {
    // MinIO and S3 send test events without Records (e.g. {"Event":"s3:TestEvent"}): nothing to do.
    if (doc.contains("Event") || doc.contains("EventName")) return out;
    return make_error(Errc::bad_data, "event has no Records array");
  }
  if (!records->is_array()) return make_error(Errc::bad_data, "event Records is not an array");
  if (records->size() > kMaxS3EventRecords)
    return make_error(Errc::bad_data, "event has " + std::to_string(records->size()) + " Records; at most " +
                                          std::to_string(kMaxS3EventRecords) + " are accepted in one document");
  for (const auto& r : *records) {
    if (!r.is_object()) return make_error(Errc::bad_data, "event record is not an object");
    std::string name = text_field(r, "eventName");
    if (name.rfind("s3:", 0) == 0) name = name.substr(3);
    const bool wanted = name.starts_with("ObjectCreated:") ||
                        (kinds == S3EventKinds::created_and_removed && name.starts_with("ObjectRemoved:"));
    if (!wanted) continue;
    const auto s3 = r.find("s3");
    if (s3 == r.end() || !s3->is_object()) return make_error(Errc::bad_data, "event record has no s3 object");
    const auto bucket = s3->find("bucket");
    const auto object = s3->find("object");
    if (bucket == s3->end() || object == s3->end() || !bucket->is_object() || !object->is_object() ||
        !bucket->contains("name") || !(*bucket)["name"].is_string() || !object->contains("key") ||
        !(*object)["key"].is_string())
      return make_error(Errc::bad_data, "event record lacks s3.bucket.name or s3.object.key");
    ObjectCreated e;
    e.event_name = text_field(r, "eventName");
    e.event_time = text_field(r, "eventTime");
    e.region = text_field(r, "awsRegion");
    e.bucket = (*bucket)["name"].get<std::string>();
    e.key = http::url_decode((*object)["key"].get<std::string>(), /*plus_is_space=*/true);
    if (auto size = object->find("size"); size != object->end() && size->is_number_unsigned()) e.size = size->get<std::uint64_t>();
    e.etag = text_field(*object, "eTag", "etag");
    e.sequencer = text_field(*object, "sequencer");
    out.push_back(std::move(e));
  }
  return out;
}

std::string next_sequencer() {
  static std::atomic<std::uint64_t> last{0};
  auto now = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::uint64_t prev = last.load();
  std::uint64_t next;
  do {
    next = std::max(prev + 1, now);
  } while (!last.compare_exchange_weak(prev, next));
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(next));
  return buf;
}

}  // namespace etl
