// Fields of an AWS JSON answer (Glue, Athena), read so that an answer of another
// shape than AWS's (a proxy, an emulator's version, a field of another type)
// reads as empty instead of throwing nlohmann's type_error out of a crawl or a
// handler. What is missing or of another type is the caller's "not there".
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace etl::cataloger::aws_fields {

// doc[key], or null when doc is not an object or has no such key.
inline const nlohmann::json& field(const nlohmann::json& doc, std::string_view key) {
  static const nlohmann::json kNull;
  if (!doc.is_object()) return kNull;
  auto it = doc.find(key);
  return it == doc.end() ? kNull : *it;
}

// doc[key] when it is a string, else `fallback`.
inline std::string text(const nlohmann::json& doc, std::string_view key, std::string fallback = {}) {
  const auto& value = field(doc, key);
  return value.is_string() ? value.get<std::string>() : fallback;
}

}  // namespace etl::cataloger::aws_fields
