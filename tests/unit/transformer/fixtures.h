// Small, realistic Spotify Web API objects for the transformer tests, built
// with nlohmann (which orders keys alphabetically, as Spotify does).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace etl::transformer::fixtures {

using nlohmann::json;

inline json markets() { return json::array({"AD", "AE", "AR", "AT", "AU", "BE", "BR", "CA", "DE", "US"}); }

inline json artist(const std::string& id, const std::string& name) {
  return {{"external_urls", {{"spotify", "https://open.spotify.com/artist/" + id}}},
          {"href", "https://api.spotify.com/v1/artists/" + id},
          {"id", id},
          {"name", name},
          {"type", "artist"},
          {"uri", "spotify:artist:" + id}};
}

struct AlbumSpec {
  std::string id = "2noRn2Aes5aoNVsU6iWThc";
  std::string name = "Discovery";
  std::string album_type = "album";
  std::string release_date = "2001-03-12";
  std::string precision = "day";
  int total_tracks = 14;
  std::vector<json> artists = {artist("4tZwfgrHOc3mvqYlEYSvVi", "Daft Punk")};
  bool markets = true;
};

inline json album(const AlbumSpec& a = {}) {
  json j = {{"album_type", a.album_type},
            {"artists", a.artists},
            {"external_urls", {{"spotify", "https://open.spotify.com/album/" + a.id}}},
            {"href", "https://api.spotify.com/v1/albums/" + a.id},
            {"id", a.id},
            {"images", json::array({{{"height", 640}, {"url", "https://i.scdn.co/image/ab67616d0000b273"}, {"width", 640}}})},
            {"name", a.name},
            {"release_date", a.release_date},
            {"release_date_precision", a.precision},
            {"total_tracks", a.total_tracks},
            {"type", "album"},
            {"uri", "spotify:album:" + a.id}};
  if (a.markets) j["available_markets"] = markets();
  return j;
}

struct TrackSpec {
  std::string id = "0DiWol3AO6WpXZgp0goxAV";
  std::string name = "One More Time";
  json album = fixtures::album();
  std::vector<json> artists = {artist("4tZwfgrHOc3mvqYlEYSvVi", "Daft Punk")};
  std::optional<int> popularity = 77;
  bool markets = true;
  std::int64_t duration_ms = 320357;
  bool explicit_ = false;
  std::string isrc = "GBDUW0000053";
  int disc_number = 1;
  int track_number = 1;
};

// A full track object (playlist items, search results).
inline json track(const TrackSpec& t = {}) {
  json j = {{"album", t.album},
            {"artists", t.artists},
            {"disc_number", t.disc_number},
            {"duration_ms", t.duration_ms},
            {"explicit", t.explicit_},
            {"external_ids", {{"isrc", t.isrc}}},
            {"external_urls", {{"spotify", "https://open.spotify.com/track/" + t.id}}},
            {"href", "https://api.spotify.com/v1/tracks/" + t.id},
            {"id", t.id},
            {"is_local", false},
            {"name", t.name},
            {"preview_url", nullptr},
            {"track_number", t.track_number},
            {"type", "track"},
            {"uri", "spotify:track:" + t.id}};
  if (t.popularity) j["popularity"] = *t.popularity;
  if (t.markets) j["available_markets"] = markets();
  return j;
}

// A simplified track, as inside an album object (no album, popularity, external_ids).
inline json simple_track(const std::string& id, const std::string& name, int track_number,
                         std::vector<json> artists = {artist("4tZwfgrHOc3mvqYlEYSvVi", "Daft Punk")}) {
  return {{"artists", artists},
          {"available_markets", markets()},
          {"disc_number", 1},
          {"duration_ms", 200000 + track_number},
          {"explicit", false},
          {"external_urls", {{"spotify", "https://open.spotify.com/track/" + id}}},
          {"href", "https://api.spotify.com/v1/tracks/" + id},
          {"id", id},
          {"is_local", false},
          {"name", name},
          {"preview_url", nullptr},
          {"track_number", track_number},
          {"type", "track"},
          {"uri", "spotify:track:" + id}};
}

inline json local_track(const std::string& name = "my demo.mp3") {
  return {{"album", {{"album_type", nullptr}, {"artists", json::array()}, {"id", nullptr}, {"name", ""}, {"type", "album"}}},
          {"artists", json::array({{{"id", nullptr}, {"name", "Me"}, {"type", "artist"}, {"uri", "spotify:artist:"}}})},
          {"available_markets", json::array()},
          {"disc_number", 0},
          {"duration_ms", 61000},
          {"explicit", false},
          {"external_ids", json::object()},
          {"external_urls", json::object()},
          {"id", nullptr},
          {"is_local", true},
          {"name", name},
          {"popularity", 0},
          {"track_number", 0},
          {"type", "track"},
          {"uri", "spotify:local:Me::" + name + ":61"}};
}

inline json episode(const std::string& id = "512ojhOuo1ktJprKbVcKyQ") {
  return {{"album", {{"id", "5Ks0fE0ts9vXUybJuJgqvH"}, {"name", "A Podcast"}, {"type", "show"}}},
          {"artists", json::array({{{"id", "5Ks0fE0ts9vXUybJuJgqvH"}, {"name", "A Podcast"}, {"type", "show"}}})},
          {"duration_ms", 1500000},
          {"episode", true},
          {"explicit", false},
          {"id", id},
          {"is_local", false},
          {"name", "Episode 1"},
          {"track", false},
          {"type", "episode"},
          {"uri", "spotify:episode:" + id}};
}

// A playlist item wrapper; `key` is "track" (classic) or "item" (2026 dev mode).
inline json playlist_item(json inner, const std::string& added_at = "2024-01-05T12:34:56Z",
                          const std::string& key = "track") {
  return {{"added_at", added_at},
          {"added_by", {{"id", "someone"}, {"type", "user"}}},
          {"is_local", inner.is_object() && inner.value("is_local", false)},
          {"primary_color", nullptr},
          {key, inner},
          {"video_thumbnail", {{"url", nullptr}}}};
}

inline json paging(json items, std::optional<std::string> next = std::nullopt, int offset = 0) {
  return {{"href", "https://api.spotify.com/v1/playlists/x/tracks?offset=" + std::to_string(offset)},
          {"items", items},
          {"limit", 100},
          {"next", next ? json(*next) : json(nullptr)},
          {"offset", offset},
          {"previous", nullptr},
          {"total", items.size()}};
}

inline std::string envelope(const std::string& type, const std::string& id, const std::vector<json>& pages,
                            const std::string& run_id = "r-20261121-0600",
                            const std::string& extracted_at = "2026-11-21T06:00:00Z") {
  // Written by hand in the extractor's order (format first), pages verbatim.
  std::string out = R"({"format":"spotify-etl.raw.v1","run_id":)" + json(run_id).dump() +
                    R"(,"source":{"type":)" + json(type).dump() + R"(,"id":)" + json(id).dump() +
                    R"(},"extracted_at":)" + json(extracted_at).dump() +
                    R"(,"api":{"base_url":"https://api.spotify.com/v1","endpoint":"/x"},"pages":[)";
  for (std::size_t i = 0; i < pages.size(); ++i) {
    if (i) out += ',';
    out += pages[i].dump(2);
  }
  return out + "]}";
}

inline const char* kRawName = "to_be_processed/spotify_raw_20261121T060000Z_playlist_37i9dQZF1DXcBWIGoYBM5M_r-1.json";

}  // namespace etl::transformer::fixtures
