// Where a compacted file's rows came from, in row order: kept in the file's own
// Parquet footer (key-value metadata `spotify-etl.sources`, a JSON array of
// {"key","etag","records"}). An input that was itself compacted contributes its
// own sources, so the list always names transformer files. A file compacted
// before this list existed reads as one opaque source: itself. Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl::cataloger::iceberg {

struct CompactedSource {
  std::string key;
  std::string etag;  // as the store listed it when its rows were read
  std::int64_t records = 0;
  bool operator==(const CompactedSource&) const = default;
};
inline constexpr std::string_view kSourcesKey = "spotify-etl.sources";
std::string encode_sources(const std::vector<CompactedSource>& sources);
// bad_data for anything but such an array.
Result<std::vector<CompactedSource>> decode_sources(std::string_view text);

}  // namespace etl::cataloger::iceberg
