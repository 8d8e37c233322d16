// Between the JSON reader and the tables: views of one page's items (string
// views into the parsed document, valid while it lives), and the RowBuilder
// that applies docs/contract.md §5's rules to them (distinct albums and artists, skip
// reasons, positions) and appends the rows.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "transform.h"

namespace etl::transformer {

using Str = std::optional<std::string_view>;  // nullopt: JSON null or absent

struct Range {
  std::uint32_t begin = 0, end = 0;
};

struct ArtistRef {
  Str id, name, url, uri;
};

struct AlbumRef {
  bool present = false;
  Str id, name, album_type, release_date, precision, url, type;
  std::optional<std::int64_t> total_tracks;
  Range artists;
};

enum class ItemKind : std::uint8_t { row, null_item, local, episode, malformed };

// One item of a page: a track (playlist item, search hit, album track) or an
// album (artist-albums), with the verdict of the reader in `kind`.
struct ItemRef {
  ItemKind kind = ItemKind::malformed;
  Str id, name, type, isrc, url, added_at;
  std::optional<std::int64_t> duration_ms, popularity, disc_number, track_number;
  std::optional<bool> explicit_, is_local;
  AlbumRef album;  // the track's album, or the album itself for artist-albums
  Range artists;
};

// What the reader fills for one page before the rows are built.
struct PageRefs {
  std::vector<ArtistRef> artists;  // pool the Ranges point into
  std::vector<ItemRef> items;
  AlbumRef album;       // a full album object (album source, first page)
  Str playlist_id;      // a full playlist object's id (pre-envelope files)
  bool saw_items = false;
  void clear() {
    artists.clear();
    items.clear();
    album = AlbumRef{};
    playlist_id.reset();
    saw_items = false;
  }
};

// Spotify ids are 22 random base62 characters: two 8-byte words, mixed, hash
// them well and several times faster than std::hash over all the bytes.
struct IdHash {
  std::size_t operator()(std::string_view s) const noexcept {
    if (s.size() < 16) return std::hash<std::string_view>{}(s);
    std::uint64_t a, b;
    std::memcpy(&a, s.data(), 8);
    std::memcpy(&b, s.data() + s.size() - 8, 8);
    std::uint64_t h = (a ^ (s.size() * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
    h ^= (b + (h >> 31)) * 0x94D049BB133111EBull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

class RowBuilder {
 public:
  // `out` carries the source fields and extracted_at already.
  explicit RowBuilder(TransformOutput& out);

  // Rows of one page of tracks. `source_album` is the extracted album for album
  // sources (their tracks carry none); songs then get no popularity.
  void add_track_page(const PageRefs& page, const AlbumRef* source_album, bool playlist);
  // Rows of one page of albums (artist-albums).
  void add_album_page(const PageRefs& page);
  // The album row (and its artists' rows) unless the album was seen.
  void add_album(const AlbumRef& album, std::span<const ArtistRef> pool);

 private:
  void count_skip(ItemKind kind);
  void add_artist(const ArtistRef& artist);
  void add_song(const ItemRef& item, const AlbumRef* source_album, bool playlist, std::span<const ArtistRef> pool);

  TransformOutput& out_;
  std::int64_t position_ = 0;
  // Views into the parsed document, which outlives the builder.
  std::unordered_set<std::string_view, IdHash> albums_seen_;
  std::unordered_set<std::string_view, IdHash> artists_seen_;
};

}  // namespace etl::transformer
