// ASCII case folding, the same whatever the process locale: for protocol tokens,
// SQL keywords, header and setting names, type names (never for user text).
#pragma once

#include <string>
#include <string_view>

namespace etl {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

inline std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

}  // namespace etl
