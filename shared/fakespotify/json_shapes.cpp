#include "json_shapes.h"

#include <cctype>
#include <cstdio>

namespace etl::fakespotify::detail {
namespace {

using json = nlohmann::json;

json external_urls(std::string_view kind, const std::string& id) {
  return {{"spotify", "https://open.spotify.com/" + std::string(kind) + "/" + id}};
}

std::string hex24(const std::string& seed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx%08llx", static_cast<unsigned long long>(fnv1a(seed)),
                static_cast<unsigned long long>(fnv1a(seed + "#") & 0xffffffffull));
  return buf;
}

// Spotify's cover sizes and the size markers its CDN uses in the file names.
json cover_images(const std::string& id) {
  const std::string h = hex24(id);
  return json::array({{{"height", 640}, {"url", "https://i.scdn.co/image/ab67616d0000b273" + h}, {"width", 640}},
                      {{"height", 300}, {"url", "https://i.scdn.co/image/ab67616d00001e02" + h}, {"width", 300}},
                      {{"height", 64}, {"url", "https://i.scdn.co/image/ab67616d00004851" + h}, {"width", 64}}});
}

const json& markets_json() {
  static const json markets = all_markets();
  return markets;
}

void add_markets(json& j, const ShapeOptions& o) {
  if (o.markets && !o.is_playable) j["available_markets"] = markets_json();
  if (o.is_playable) j["is_playable"] = true;
}

json artists_of(const Catalogue& c, const std::vector<std::string>& ids, const ShapeOptions& o) {
  json out = json::array();
  for (const auto& id : ids)
    if (const Artist* a = c.find_artist(id)) out.push_back(simplified_artist(*a, o));
  return out;
}

json user(const std::string& id, const ShapeOptions& o) {
  return {{"external_urls", external_urls("user", id)},
          {"href", o.api_url + "/users/" + id},
          {"id", id},
          {"type", "user"},
          {"uri", "spotify:user:" + id}};
}

std::string uri_part(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
      out += static_cast<char>(ch);
    } else if (ch == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

}  // namespace

json simplified_artist(const Artist& a, const ShapeOptions& o) {
  return {{"external_urls", external_urls("artist", a.id)},
          {"href", o.api_url + "/artists/" + a.id},
          {"id", a.id},
          {"name", a.name},
          {"type", "artist"},
          {"uri", "spotify:artist:" + a.id}};
}

json full_artist(const Artist& a, const ShapeOptions& o) {
  json j = simplified_artist(a, o);
  j["genres"] = a.genres;
  const std::string h = hex24(a.id);
  j["images"] = json::array({{{"height", 640}, {"url", "https://i.scdn.co/image/ab6761610000e5eb" + h}, {"width", 640}},
                             {{"height", 320}, {"url", "https://i.scdn.co/image/ab67616100005174" + h}, {"width", 320}},
                             {{"height", 160}, {"url", "https://i.scdn.co/image/ab6761610000f178" + h}, {"width", 160}}});
  if (o.popularity) {
    j["followers"] = {{"href", nullptr}, {"total", a.followers}};
    j["popularity"] = a.popularity;
  }
  return j;
}

json simplified_album(const Catalogue& c, const Album& a, const ShapeOptions& o) {
  json j = {{"album_type", a.album_type},
            {"artists", artists_of(c, a.artist_ids, o)},
            {"external_urls", external_urls("album", a.id)},
            {"href", o.api_url + "/albums/" + a.id},
            {"id", a.id},
            {"images", cover_images(a.id)},
            {"name", a.name},
            {"release_date", a.release_date},
            {"release_date_precision", a.release_date_precision},
            {"total_tracks", a.track_ids.size()},
            {"type", "album"},
            {"uri", "spotify:album:" + a.id}};
  add_markets(j, o);
  return j;
}

json full_album_without_tracks(const Catalogue& c, const Album& a, const ShapeOptions& o) {
  json j = simplified_album(c, a, o);
  const std::string year = a.release_date.substr(0, 4);
  j["copyrights"] = json::array({{{"text", "© " + year + " " + a.label}, {"type", "C"}},
                                 {{"text", "℗ " + year + " " + a.label}, {"type", "P"}}});
  j["external_ids"] = {{"upc", a.upc}};
  j["genres"] = json::array();
  j["label"] = a.label;
  if (o.popularity) j["popularity"] = a.popularity;
  return j;
}

json simplified_track(const Catalogue& c, const Track& t, const ShapeOptions& o) {
  json j = {{"artists", artists_of(c, t.artist_ids, o)},
            {"disc_number", t.disc_number},
            {"duration_ms", t.duration_ms},
            {"explicit", t.explicit_content},
            {"external_urls", external_urls("track", t.id)},
            {"href", o.api_url + "/tracks/" + t.id},
            {"id", t.id},
            {"is_local", false},
            {"name", t.name},
            {"preview_url", nullptr},
            {"track_number", t.track_number},
            {"type", "track"},
            {"uri", "spotify:track:" + t.id}};
  add_markets(j, o);
  return j;
}

json full_track(const Catalogue& c, const Track& t, const ShapeOptions& o) {
  json j = simplified_track(c, t, o);
  if (const Album* a = c.find_album(t.album_id)) j["album"] = simplified_album(c, *a, o);
  j["external_ids"] = {{"isrc", t.isrc}};
  if (o.popularity && t.popularity) j["popularity"] = *t.popularity;
  return j;
}

json episode(const Catalogue& c, const Episode& e, const ShapeOptions& o) {
  json show = nullptr;
  if (const Show* s = c.find_show(e.show_id)) {
    show = {{"copyrights", json::array()},
            {"description", s->description},
            {"explicit", false},
            {"external_urls", external_urls("show", s->id)},
            {"href", o.api_url + "/shows/" + s->id},
            {"html_description", "<p>" + s->description + "</p>"},
            {"id", s->id},
            {"images", cover_images(s->id)},
            {"is_externally_hosted", false},
            {"languages", {"en"}},
            {"media_type", "audio"},
            {"name", s->name},
            {"publisher", s->publisher},
            {"total_episodes", s->total_episodes},
            {"type", "show"},
            {"uri", "spotify:show:" + s->id}};
    add_markets(show, o);
  }
  return {{"audio_preview_url", "https://podz-content.spotifycdn.com/audio/clips/" + hex24(e.id) + "/clip.mp3"},
          {"description", e.description},
          {"duration_ms", e.duration_ms},
          {"episode", true},
          {"explicit", e.explicit_content},
          {"external_urls", external_urls("episode", e.id)},
          {"href", o.api_url + "/episodes/" + e.id},
          {"html_description", "<p>" + e.description + "</p>"},
          {"id", e.id},
          {"images", cover_images(e.id)},
          {"is_externally_hosted", false},
          {"is_playable", true},
          {"language", "en"},
          {"languages", {"en"}},
          {"name", e.name},
          {"release_date", e.release_date},
          {"release_date_precision", "day"},
          {"show", show},
          {"track", false},
          {"type", "episode"},
          {"uri", "spotify:episode:" + e.id}};
}

json local_track(const LocalFile& f) {
  const json empty = json::object();
  return {{"album",
           {{"album_type", nullptr},
            {"artists", json::array()},
            {"available_markets", json::array()},
            {"external_urls", empty},
            {"href", nullptr},
            {"id", nullptr},
            {"images", json::array()},
            {"name", f.album},
            {"release_date", nullptr},
            {"release_date_precision", nullptr},
            {"type", "album"},
            {"uri", nullptr}}},
          {"artists", json::array({{{"external_urls", empty},
                                    {"href", nullptr},
                                    {"id", nullptr},
                                    {"name", f.artist},
                                    {"type", "artist"},
                                    {"uri", nullptr}}})},
          {"available_markets", json::array()},
          {"disc_number", 0},
          {"duration_ms", f.duration_ms},
          {"explicit", false},
          {"external_ids", empty},
          {"external_urls", empty},
          {"href", nullptr},
          {"id", nullptr},
          {"is_local", true},
          {"name", f.name},
          {"popularity", 0},
          {"preview_url", nullptr},
          {"track_number", 0},
          {"type", "track"},
          {"uri", "spotify:local:" + uri_part(f.artist) + ":" + uri_part(f.album) + ":" + uri_part(f.name) + ":" +
                      std::to_string(f.duration_ms / 1000)}};
}

json item_envelope(const PlaylistItem& item, const ShapeOptions& o) {
  return {{"added_at", item.added_at},
          {"added_by", user(item.added_by, o)},
          {"is_local", item.kind == ItemKind::local},
          {"primary_color", nullptr},
          {"video_thumbnail", {{"url", nullptr}}}};
}

json playlist_without_items(const Playlist& p, const ShapeOptions& o) {
  json owner = user(p.owner_id, o);
  owner["display_name"] = p.owner_name;
  return {{"collaborative", false},
          {"description", p.description},
          {"external_urls", external_urls("playlist", p.id)},
          {"followers", {{"href", nullptr}, {"total", p.followers}}},
          {"href", o.api_url + "/playlists/" + p.id},
          {"id", p.id},
          {"images", json::array({{{"height", nullptr},
                                   {"url", "https://image-cdn-ak.spotifycdn.com/image/ab67706c0000da84" + hex24(p.id)},
                                   {"width", nullptr}}})},
          {"name", p.name},
          {"owner", owner},
          {"primary_color", nullptr},
          {"public", true},
          {"snapshot_id", p.snapshot_id},
          {"type", "playlist"},
          {"uri", "spotify:playlist:" + p.id}};
}

std::string error_body(int status, std::string_view message) {
  return json{{"error", {{"status", status}, {"message", message}}}}.dump();
}

std::string with_member(std::string object_json, std::string_view key, std::string_view raw_json) {
  object_json.pop_back();  // the closing brace
  if (object_json.size() > 1) object_json += ',';
  object_json += json(key).dump();
  object_json += ':';
  object_json += raw_json;
  object_json += '}';
  return object_json;
}

}  // namespace etl::fakespotify::detail
