#include "raw_name.h"

#include "dates.h"

namespace etl::transformer {

RawObjectName parse_raw_object_name(std::string_view key) {
  RawObjectName out;
  auto slash = key.rfind('/');
  std::string_view file = slash == std::string_view::npos ? key : key.substr(slash + 1);
  out.file_name = std::string(file);
  auto dot = file.rfind('.');
  std::string_view stem = dot == std::string_view::npos || dot == 0 ? file : file.substr(0, dot);
  out.stem = std::string(stem);

  constexpr std::string_view prefix = "spotify_raw_";
  if (stem.substr(0, prefix.size()) != prefix) return out;
  std::string_view rest = stem.substr(prefix.size());

  if (auto t = parse_compact_timestamp(rest.substr(0, 16))) {
    out.extracted_at = t;
    if (rest.size() > 17 && rest[16] == '_') {
      // <type>_<id>_<run-id>: types and ids never hold '_', a run id might.
      std::string_view parts = rest.substr(17);
      auto a = parts.find('_');
      if (a != std::string_view::npos) {
        auto b = parts.find('_', a + 1);
        out.source_type = std::string(parts.substr(0, a));
        out.source_id = std::string(parts.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1));
        if (b != std::string_view::npos) out.run_id = std::string(parts.substr(b + 1));
      }
    }
    return out;
  }
  // The original Lambda named files after Python's str(datetime.now()) in UTC:
  // "2023-06-01 12:34:56.789012".
  out.extracted_at = parse_timestamp(rest);
  return out;
}

}  // namespace etl::transformer
