// Internal: the Web API endpoints as functions from (path id, query) to a reply,
// knowing nothing of sockets: validation, paging with absolute `next` URLs, and a
// cache of serialised tracks and albums so a 100-track page with ~185 markets per
// track and album is a string concatenation. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalogue.h"
#include "json_shapes.h"

namespace etl::fakespotify::detail {

using Params = std::multimap<std::string, std::string>;  // decoded query parameters

struct Reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Reply error_reply(int status, std::string_view message);

// classic: GET /playlists/{id}/tracks, item under "track", limit up to 100;
// dev: GET /playlists/{id}/items (development mode, Feb 2026), under "item", up to 50.
enum class ItemShape { classic, dev };

struct ApiOptions {
  bool popularity = true;
  bool markets = true;
  bool dev_mode_playlist_object = false;  // GET /playlists/{id} carries its first page under "items"
};

class SpotifyApi final {
 public:
  SpotifyApi(const Catalogue& catalogue, ApiOptions options);
  SpotifyApi(const SpotifyApi&) = delete;
  SpotifyApi& operator=(const SpotifyApi&) = delete;

  // Where hrefs and `next` URLs point; call before serving (clears the caches).
  void set_api_url(std::string api_url);

  Reply playlist(std::string_view id, const Params& q) const;
  Reply playlist_items(std::string_view id, const Params& q, ItemShape shape) const;
  Reply album(std::string_view id, const Params& q) const;
  Reply album_tracks(std::string_view id, const Params& q) const;
  Reply artist(std::string_view id, const Params& q) const;
  Reply artist_albums(std::string_view id, const Params& q) const;
  Reply track(std::string_view id, const Params& q) const;
  Reply search(const Params& q) const;

 private:
  using Cached = std::shared_ptr<const std::string>;
  template <class Build>
  Cached cached(std::string key, Build&& build) const;

  ShapeOptions shape(const Params& q) const;
  std::string track_json(const Track& t, const ShapeOptions& o) const;
  std::string item_json(const PlaylistItem& item, const ShapeOptions& o, ItemShape shape) const;
  std::string items_page(const Playlist& p, const Params& q, int offset, int limit, ItemShape shape) const;
  std::string album_tracks_page(const Album& a, const Params& q, int offset, int limit) const;

  const Catalogue& catalogue_;
  ApiOptions options_;
  std::string api_url_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Cached> cache_;
  mutable std::unordered_map<std::string, std::shared_ptr<const std::vector<std::string>>> searches_;
};

}  // namespace etl::fakespotify::detail
