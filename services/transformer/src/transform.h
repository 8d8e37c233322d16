// The pure transform: one raw object's bytes -> the rows of albums_data,
// artists_data and songs_data (docs/contract.md §4 and §5). No I/O.
//
// Accepted inputs: the extractor's envelope (`"format":"spotify-etl.raw.v1"`)
// for every source type, and the original Lambda pipelines' raw files (a bare
// playlist-items paging object, or a full playlist object with its page under
// `tracks` or, since 2026, under `items`).
//
// Errors: bad_data for anything that is not a raw object we understand (not
// JSON, truncated, invalid UTF-8, wrong shape, unknown source type or format).
// A bad *item* is not an error: it is counted in `skipped` (never a crash).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "etl/result.h"
#include "table.h"

namespace etl::transformer {

struct RawObjectMeta {
  // The raw object's key ("to_be_processed/spotify_raw_...json") or file name:
  // names the outputs, and for pre-envelope files gives the source id and time.
  std::string key;
  // Used as extracted_at for a pre-envelope file whose name carries no time.
  std::optional<std::chrono::system_clock::time_point> last_modified;
};

// Items that produced no row, by reason. All four are always reported.
struct SkipCounts {
  std::uint64_t null_item = 0;  // `track`/`item` null or missing (removed tracks)
  std::uint64_t local = 0;      // is_local: true (local files)
  std::uint64_t episode = 0;    // podcast episodes
  std::uint64_t malformed = 0;  // anything else unusable (wrong types, no id, not a track)
  std::uint64_t total() const noexcept { return null_item + local + episode + malformed; }
  SkipCounts& operator+=(const SkipCounts& o) noexcept;
  bool operator==(const SkipCounts&) const = default;
};

struct TransformOutput {
  std::string source_type;  // playlist | album | artist-albums | search
  std::string source_id;
  std::string run_id;               // "" for pre-envelope files without one in their name
  std::int64_t extracted_at = 0;    // microseconds since the epoch, UTC
  std::string dt;                   // the partition: UTC date of extracted_at, YYYY-MM-DD
  std::uint64_t items = 0;          // items seen (rows + skipped)
  SkipCounts skipped;
  Table albums{albums_schema()};
  Table artists{artists_schema()};
  Table songs{songs_schema()};

  // The three tables, in table_schemas() order.
  std::array<const Table*, 3> tables() const noexcept { return {&albums, &artists, &songs}; }
};

// Parses a copy of `raw_bytes` (simdjson needs padding after the input).
Result<TransformOutput> transform_raw(std::string_view raw_bytes, const RawObjectMeta& meta);

// The same without the copy: pads `raw` in place (it may reallocate once).
// For the service, where the raw object is already in a string it owns.
Result<TransformOutput> transform_raw_in_place(std::string& raw, const RawObjectMeta& meta);

}  // namespace etl::transformer
