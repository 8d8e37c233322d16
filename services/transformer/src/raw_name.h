// What a raw object's name says:
// `spotify_raw_<YYYYMMDDTHHMMSSZ>_<source-type>_<source-id>_<run-id>.json`
// (the extractor's), or the original Lambda's `spotify_raw_<python datetime>.json`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace etl::transformer {

struct RawObjectName {
  std::string file_name;                   // "spotify_raw_...json"
  std::string stem;                        // the file name without its last extension
  std::optional<std::int64_t> extracted_at;  // microseconds, UTC, when the name carries a time
  std::string source_type, source_id, run_id;  // empty unless the name is the extractor's
};

RawObjectName parse_raw_object_name(std::string_view key);

}  // namespace etl::transformer
