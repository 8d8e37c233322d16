// The transform of a raw page (an envelope or a pre-envelope Spotify response) on
// arbitrary bytes: rows or an error, never a crash; rows stay consistent.
#include <cstdlib>

#include "transform.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  etl::transformer::RawObjectMeta meta;
  meta.key = "to_be_processed/spotify_raw_20261121T060000Z_playlist_37i9dQZF1DXcBWIGoYBM5M_r1.json";
  auto out = etl::transformer::transform_raw(raw, meta);
  if (out && out->skipped.null_item > out->items) std::abort();
  meta.key = "spotify_raw_fuzz.json";  // the pre-envelope naming
  (void)etl::transformer::transform_raw(raw, meta);
  return 0;
}
