#include "rows.h"

#include "etl/dates.h"

namespace etl::transformer {
namespace {

std::span<const ArtistRef> slice(std::span<const ArtistRef> pool, Range r) { return pool.subspan(r.begin, r.end - r.begin); }

}  // namespace

SkipCounts& SkipCounts::operator+=(const SkipCounts& o) noexcept {
  null_item += o.null_item;
  local += o.local;
  episode += o.episode;
  malformed += o.malformed;
  return *this;
}

RowBuilder::RowBuilder(TransformOutput& out) : out_(out) {}

void RowBuilder::count_skip(ItemKind kind) {
  switch (kind) {
    case ItemKind::row: break;
    case ItemKind::null_item: ++out_.skipped.null_item; break;
    case ItemKind::local: ++out_.skipped.local; break;
    case ItemKind::episode: ++out_.skipped.episode; break;
    case ItemKind::malformed: ++out_.skipped.malformed; break;
  }
}

void RowBuilder::add_artist(const ArtistRef& a) {
  if (!a.id || !artists_seen_.insert(*a.id).second) return;
  Table& t = out_.artists;
  t.column(ar_artist_id).push_string(*a.id);
  t.column(ar_artist_name).push_string(a.name);
  t.column(ar_artist_url).push_string(a.url);
  t.column(ar_artist_uri).push_string(a.uri);
  t.column(ar_extracted_at).push_int(out_.extracted_at);
  t.end_row();
}

void RowBuilder::add_album(const AlbumRef& a, std::span<const ArtistRef> pool) {
  if (!a.present || !a.id || !albums_seen_.insert(*a.id).second) return;
  auto artists = slice(pool, a.artists);
  Table& t = out_.albums;
  t.column(al_album_id).push_string(*a.id);
  t.column(al_album_name).push_string(a.name);
  t.column(al_album_type).push_string(a.album_type);
  std::optional<std::int64_t> release;
  if (a.release_date)
    if (auto days = normalize_release_date(*a.release_date)) release = *days;
  t.column(al_release_date).push_int(release);
  t.column(al_release_date_precision).push_string(a.precision);
  t.column(al_total_tracks).push_int(a.total_tracks);
  t.column(al_album_url).push_string(a.url);
  t.column(al_artist_id).push_string(artists.empty() ? Str{} : artists.front().id);
  t.column(al_extracted_at).push_int(out_.extracted_at);
  t.end_row();
  for (const auto& artist : artists) add_artist(artist);
}

void RowBuilder::add_song(const ItemRef& it, const AlbumRef* source_album, bool playlist,
                          std::span<const ArtistRef> pool) {
  auto artists = slice(pool, it.artists);
  const AlbumRef& album = source_album ? *source_album : it.album;
  Table& t = out_.songs;
  t.column(so_song_id).push_string(*it.id);
  t.column(so_song_name).push_string(it.name);
  t.column(so_duration_ms).push_int(it.duration_ms);
  t.column(so_explicit).push_int(it.explicit_ ? std::optional<std::int64_t>(*it.explicit_ ? 1 : 0) : std::nullopt);
  t.column(so_popularity).push_int(source_album ? std::nullopt : it.popularity);
  t.column(so_isrc).push_string(it.isrc);
  t.column(so_disc_number).push_int(it.disc_number);
  t.column(so_track_number).push_int(it.track_number);
  t.column(so_song_url).push_string(it.url);
  t.column(so_album_id).push_string(album.present ? album.id : Str{});
  t.column(so_artist_id).push_string(artists.empty() ? Str{} : artists.front().id);
  Column& ids = t.column(so_artist_ids);
  for (const auto& a : artists)
    if (a.id) ids.push_list_item(*a.id);
  ids.end_list();
  std::optional<std::int64_t> added;
  if (playlist && it.added_at) added = parse_timestamp(*it.added_at);
  t.column(so_added_at).push_int(added);
  t.column(so_source_type).push_string(std::string_view(out_.source_type));
  t.column(so_source_id).push_string(std::string_view(out_.source_id));
  t.column(so_position).push_int(position_);
  t.column(so_run_id).push_string(std::string_view(out_.run_id));
  t.column(so_extracted_at).push_int(out_.extracted_at);
  t.end_row();

  for (const auto& a : artists) add_artist(a);
  if (!source_album) add_album(it.album, pool);
}

void RowBuilder::add_track_page(const PageRefs& page, const AlbumRef* source_album, bool playlist) {
  for (const auto& item : page.items) {
    if (item.kind == ItemKind::row) add_song(item, source_album, playlist, page.artists);
    else count_skip(item.kind);
    ++position_;  // skipped items hold their place too
    ++out_.items;
  }
}

void RowBuilder::add_album_page(const PageRefs& page) {
  for (const auto& item : page.items) {
    if (item.kind == ItemKind::row) add_album(item.album, page.artists);
    else count_skip(item.kind);
    ++position_;
    ++out_.items;
  }
}

}  // namespace etl::transformer
