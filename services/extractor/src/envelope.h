// The raw object the extractor lands (docs/contract.md §4.1, §4.3): its key and its
// envelope, which carries Spotify's responses byte for byte.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "etl/config.h"
#include "etl/lake.h"

namespace etl::extractor {


// A search query as it appears in keys and records: lower-case [a-z0-9-], runs of
// anything else folded to one '-', trimmed of '-', at most 40 characters; "query"
// when nothing is left ("Daft Punk!" -> "daft-punk").
std::string search_slug(std::string_view query);
// The source's id in keys and records: the Spotify id, or the slug for search.
std::string source_key_id(const SourceSpec& source);
// "to_be_processed/spotify_raw_20261121T060000Z_playlist_<id>_<run-id>.json"
std::string raw_object_key(std::chrono::system_clock::time_point extracted_at, const SourceSpec& source,
                           std::string_view run_id);

struct EnvelopeInput {
  std::string run_id;
  SourceSpec source;
  std::chrono::system_clock::time_point extracted_at;
  std::string api_base_url;
  std::string endpoint;
  const std::vector<std::string>* pages = nullptr;  // each a complete JSON document
};

// The envelope as one JSON document. Built by concatenation so every page stays
// exactly the bytes Spotify sent (never parsed and re-serialised).
std::string build_envelope(const EnvelopeInput& input);

}  // namespace etl::extractor
