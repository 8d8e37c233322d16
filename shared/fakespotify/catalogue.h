// The fake Spotify's data: a deterministic, fictional catalogue generated in code
// (same ids and names on every machine and every run), rich enough for a demo
// report and holding every shape the pipeline must survive. Tests compute their
// expected rows from it instead of hard-coding them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etl::fakespotify {

// Fixed ids (22-char base62, as Spotify's); everything else derives from seeds.
inline constexpr char kDemoPlaylistId[] = "7kwYwFTY6UeVCDzqOAzRKN";      // 100 ordinary tracks
inline constexpr char kLargePlaylistId[] = "4vMNBsf0D57iQ6s0QVHvHk";     // 250 tracks: 3 classic / 5 dev pages
inline constexpr char kEdgeCasePlaylistId[] = "3pgmXmPoLwE4Kl5zyiit9U";  // nulls, local files, episodes, odd names
inline constexpr char kEmptyPlaylistId[] = "5kY9pF34Qy6nB3Wwd25rq4";     // no items at all
inline constexpr char kDemoAlbumId[] = "1JJAj1SJnntr5pVBzvT7rw";         // a 12-track studio album
inline constexpr char kBigAlbumId[] = "6MTCUvpWxgSqAXuwxP1AeN";          // 56 tracks: album track paging
inline constexpr char kProlificArtistId[] = "0Q3ZJxUG6JDru9uUeSU7EI";    // 64 releases: artist album paging
inline constexpr char kVariousArtistsId[] = "0LyfQWJT6nXafLPZqxe9Of";    // Spotify's own "Various Artists"
// Spotify's editorial "Top 50 - Global": answers 404 to apps created since Nov 2024.
inline constexpr char kTop50GlobalPlaylistId[] = "37i9dQZEVXbMDoHDwVN2tF";
inline constexpr char kCuratorUserId[] = "31l7c2x5qzvpy3mkb4rdn2yfhxea";
// A search with a few hundred results (the extractor's default cap of 200 bites).
inline constexpr char kDemoSearchQuery[] = "love";
// A search none of whose words occurs in the catalogue: zero results.
inline constexpr char kNoResultsSearchQuery[] = "qwxzj vrrkpt";

struct Artist {
  std::string id;
  std::string name;
  std::vector<std::string> genres;
  int popularity = 0;
  int followers = 0;
};

struct Album {
  std::string id;
  std::string name;
  std::string album_type;              // "album", "single" or "compilation"
  std::string release_date;            // "2019-04-12", "1999-05", "1999" or "0000"
  std::string release_date_precision;  // "day", "month" or "year"
  std::vector<std::string> artist_ids;
  std::vector<std::string> track_ids;  // in disc/track order
  std::string label;
  std::string upc;
  int popularity = 0;
};

struct Track {
  std::string id;
  std::string name;
  std::string album_id;
  std::vector<std::string> artist_ids;
  int duration_ms = 0;
  bool explicit_content = false;
  std::optional<int> popularity;  // nullopt: the API omits it even when popularity is on
  std::string isrc;
  int disc_number = 1;
  int track_number = 1;
};

struct Show {
  std::string id;
  std::string name;
  std::string publisher;
  std::string description;
  int total_episodes = 0;
};

struct Episode {
  std::string id;
  std::string name;
  std::string description;
  std::string show_id;
  std::string release_date;  // day precision
  int duration_ms = 0;
  bool explicit_content = false;
};

// A file from the user's disk added to a playlist: no Spotify ids at all.
struct LocalFile {
  std::string name;
  std::string artist;
  std::string album;
  int duration_ms = 0;
};

enum class ItemKind { track, removed, local, episode };

struct PlaylistItem {
  ItemKind kind = ItemKind::track;
  std::string id;                  // track or episode id; empty for removed and local items
  std::optional<LocalFile> local;  // set for ItemKind::local
  std::string added_at;            // RFC 3339 UTC
  std::string added_by;            // user id
};

struct Playlist {
  std::string id;
  std::string name;
  std::string description;
  std::string owner_id;
  std::string owner_name;
  std::string snapshot_id;
  int followers = 0;
  std::vector<PlaylistItem> items;
};

// How an album relates to an artist in GET /artists/{id}/albums.
struct ArtistAlbum {
  const Album* album = nullptr;
  std::string album_group;  // "album", "single", "compilation" or "appears_on"
};

struct Catalogue {
  std::vector<Artist> artists;
  std::vector<Album> albums;
  std::vector<Track> tracks;
  std::vector<Show> shows;
  std::vector<Episode> episodes;
  std::vector<Playlist> playlists;
  std::vector<std::string> search_pool;  // track ids search draws from (edge-case tracks excluded)

  // Lookups: nullptr when unknown (valid once build_index() ran; copies keep working).
  const Artist* find_artist(std::string_view id) const;
  const Album* find_album(std::string_view id) const;
  const Track* find_track(std::string_view id) const;
  const Show* find_show(std::string_view id) const;
  const Episode* find_episode(std::string_view id) const;
  const Playlist* find_playlist(std::string_view id) const;
  // Throwing forms (std::out_of_range) for tests that know the id exists.
  const Album& album(std::string_view id) const;
  const Track& track(std::string_view id) const;
  const Playlist& playlist(std::string_view id) const;

  // The artist's releases as Spotify lists them: grouped album, single, compilation,
  // appears_on, newest first within a group; only the groups asked for (empty = all).
  std::vector<ArtistAlbum> artist_albums(std::string_view artist_id,
                                         const std::vector<std::string>& groups = {}) const;

  // Track ids answering a search, in result order; deterministic from the query.
  // Tracks whose name, artist, album or genre contains a word of the query come
  // first (most words matched, then most popular), then a query-seeded fuzzy tail
  // up to 250-400 results in all. No word found anywhere: no results.
  std::vector<std::string> search_tracks(std::string_view query) const;

  void build_index();

 private:
  std::map<std::string, std::size_t, std::less<>> artist_ix_, album_ix_, track_ix_, show_ix_, episode_ix_,
      playlist_ix_;
};

// The one shared, immutable catalogue (built on first use; thread-safe).
const Catalogue& default_catalogue();
Catalogue build_catalogue();

// Deterministic Spotify-looking ids: 22 base62 characters, the first in [0-7]
// as for Spotify's 128-bit ids.
std::string make_id(std::string_view seed);
bool is_base62_id(std::string_view id);
std::uint64_t fnv1a(std::string_view s);

// Spotify's market list (ISO 3166-1 alpha-2), ~185 codes.
const std::vector<std::string>& all_markets();

}  // namespace etl::fakespotify
