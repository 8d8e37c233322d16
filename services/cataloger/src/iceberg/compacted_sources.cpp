#include "compacted_sources.h"

#include <nlohmann/json.hpp>

namespace etl::cataloger::iceberg {

using nlohmann::json;

std::string encode_sources(const std::vector<CompactedSource>& sources) {
  json out = json::array();
  for (const auto& s : sources) out.push_back({{"key", s.key}, {"etag", s.etag}, {"records", s.records}});
  return out.dump();
}

Result<std::vector<CompactedSource>> decode_sources(std::string_view text) {
  const json doc = json::parse(text, nullptr, false);
  if (!doc.is_array()) return make_error(Errc::bad_data, std::string(kSourcesKey) + " is not a JSON array");
  std::vector<CompactedSource> out;
  for (const auto& e : doc) {
    const bool ok = e.is_object() && e.contains("key") && e["key"].is_string() && e.contains("etag") &&
                    e["etag"].is_string() && e.contains("records") && e["records"].is_number_integer() &&
                    e["records"].get<std::int64_t>() >= 0;
    if (!ok) return make_error(Errc::bad_data, std::string(kSourcesKey) + ": an entry is not {key, etag, records}");
    out.push_back({e["key"].get<std::string>(), e["etag"].get<std::string>(), e["records"].get<std::int64_t>()});
  }
  return out;
}

}  // namespace etl::cataloger::iceberg
