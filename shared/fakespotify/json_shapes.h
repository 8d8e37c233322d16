// Internal: catalogue objects in Spotify Web API JSON shapes (field names, nesting
// and nulls as the real API sends them). Pure functions, no HTTP.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "catalogue.h"

namespace etl::fakespotify::detail {

struct ShapeOptions {
  std::string api_url;      // "http://127.0.0.1:1234/v1": object hrefs point back at the fake
  bool popularity = true;   // false: no popularity (tracks, albums, artists) nor artist followers
  bool markets = true;      // false: no available_markets
  bool is_playable = false; // a `market=` request: markets dropped, is_playable added
};

nlohmann::json simplified_artist(const Artist& artist, const ShapeOptions& o);
nlohmann::json full_artist(const Artist& artist, const ShapeOptions& o);
nlohmann::json simplified_album(const Catalogue& c, const Album& album, const ShapeOptions& o);
// The full album without its "tracks" page (the caller splices it in).
nlohmann::json full_album_without_tracks(const Catalogue& c, const Album& album, const ShapeOptions& o);
nlohmann::json full_track(const Catalogue& c, const Track& track, const ShapeOptions& o);
nlohmann::json simplified_track(const Catalogue& c, const Track& track, const ShapeOptions& o);
nlohmann::json episode(const Catalogue& c, const Episode& episode, const ShapeOptions& o);
// A local file as Spotify shows it: a track whose ids, hrefs and URLs are all null.
nlohmann::json local_track(const LocalFile& file);
// The item fields around the track (added_at, added_by, is_local, ...), without it.
nlohmann::json item_envelope(const PlaylistItem& item, const ShapeOptions& o);
// The full playlist without its first page of items.
nlohmann::json playlist_without_items(const Playlist& playlist, const ShapeOptions& o);

// {"error":{"status":..,"message":..}}: Spotify's Web API error body.
std::string error_body(int status, std::string_view message);

// Appends `"key":raw_json` to a serialised JSON object (used to splice cached parts).
std::string with_member(std::string object_json, std::string_view key, std::string_view raw_json);

}  // namespace etl::fakespotify::detail
