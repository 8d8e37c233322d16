#include "envelope.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <ctime>

#include "etl/dates.h"
#include "etl/s3_event.h"

namespace etl::extractor {

std::string search_slug(std::string_view query) {
  std::string slug;
  bool dash = false;
  for (unsigned char c : query) {
    if (std::isalnum(c) && c < 0x80) {
      if (dash && !slug.empty()) slug += '-';
      dash = false;
      slug += static_cast<char>(std::tolower(c));
    } else {
      dash = true;
    }
    if (slug.size() > 40) break;
  }
  if (slug.size() > 40) slug.resize(40);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "query" : slug;
}

std::string source_key_id(const SourceSpec& source) {
  return source.type == SourceType::search ? search_slug(source.id) : source.id;
}

std::string raw_object_key(std::chrono::system_clock::time_point extracted_at, const SourceSpec& source,
                           std::string_view run_id) {
  return RawObjectKey{true, raw_object_file_name(to_micros(extracted_at), source.type, source_key_id(source), run_id)}.str();
}

std::string build_envelope(const EnvelopeInput& in) {
  auto str = [](std::string_view s) {
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::string out;
  std::size_t size = 512;
  if (in.pages != nullptr)
    for (const auto& p : *in.pages) size += p.size() + 1;
  out.reserve(size);
  out += "{\"format\":" + str(kEnvelopeFormat);
  out += ",\"run_id\":" + str(in.run_id);
  out += ",\"source\":{\"type\":" + str(to_string(in.source.type)) + ",\"id\":" + str(source_key_id(in.source));
  if (in.source.type == SourceType::search) out += ",\"query\":" + str(in.source.id);
  out += "},\"extracted_at\":" + str(rfc3339(in.extracted_at));
  out += ",\"api\":{\"base_url\":" + str(in.api_base_url) + ",\"endpoint\":" + str(in.endpoint) + "}";
  out += ",\"pages\":[";
  if (in.pages != nullptr) {
    for (std::size_t i = 0; i < in.pages->size(); ++i) {
      if (i > 0) out += ',';
      out += (*in.pages)[i];
    }
  }
  out += "]}";
  return out;
}

}  // namespace etl::extractor
