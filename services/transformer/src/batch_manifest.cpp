#include "batch_manifest.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "etl/lake.h"

namespace etl::transformer {
namespace {

// FNV-1a, 64 bits: stable across builds and platforms (std::hash is not).
struct Fnv {
  std::uint64_t h = 1469598103934665603ull;
  void add(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator: ("ab","c") != ("a","bc")
  }
};

}  // namespace

std::string manifest_key(std::string_view folder, std::string_view topic, std::int32_t partition, std::int64_t first) {
  char offset[32];
  std::snprintf(offset, sizeof offset, "%020lld", static_cast<long long>(first));
  return std::string(folder) + std::string(topic) + "/" + std::to_string(partition) + "/" + offset + ".json";
}

std::string batch_file_stem(const BatchManifest& m) {
  Fnv f;
  f.add(m.topic);
  f.add(std::to_string(m.partition));
  f.add(std::to_string(m.first));
  for (const auto& member : m.members) f.add(member.rest);
  char hash[20];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(f.h));
  // A topic may start with '.' or '_' (Kafka allows it), which the cataloger takes for a hidden file.
  return visible_stem(m.topic + "-" + std::to_string(m.partition) + "-" + std::to_string(m.first) + "-" + hash);
}

std::string done_manifest_key(const BatchManifest& m) {
  std::string key = manifest_key(kDoneManifests, m.topic, m.partition, m.first);
  const std::string stem = batch_file_stem(m);
  return key.substr(0, key.size() - 5) + stem.substr(stem.rfind('-')) + ".json";
}

std::string encode_manifest(const BatchManifest& m) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& member : m.members) members.push_back({{"offset", member.offset}, {"raw", member.rest}});
  nlohmann::json j = {{"format", "spotify-etl.batch.v1"}, {"topic", m.topic},     {"partition", m.partition},
                      {"first", m.first},                  {"last", m.last},       {"members", members},
                      {"files", m.files}};
  return j.dump();
}

Result<BatchManifest> decode_manifest(std::string_view text) {
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object() || j.value("format", "") != "spotify-etl.batch.v1")
      return make_error(Errc::bad_data, "not a batch manifest (format spotify-etl.batch.v1)");
    BatchManifest m;
    m.topic = j.at("topic").get<std::string>();
    m.partition = j.at("partition").get<std::int32_t>();
    m.first = j.at("first").get<std::int64_t>();
    m.last = j.at("last").get<std::int64_t>();
    for (const auto& member : j.at("members"))
      m.members.push_back({member.at("offset").get<std::int64_t>(), member.at("raw").get<std::string>()});
    m.files = j.at("files").get<std::vector<std::string>>();
    if (m.last < m.first) return make_error(Errc::bad_data, "batch manifest: last offset before the first");
    return m;
  } catch (const std::exception& e) {
    return make_error(Errc::bad_data, std::string("batch manifest: ") + e.what());
  }
}

}  // namespace etl::transformer
