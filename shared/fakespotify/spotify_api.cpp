#include "spotify_api.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <set>

namespace etl::fakespotify::detail {
namespace {

using json = nlohmann::json;

constexpr int kClassicMaxLimit = 100, kDevMaxLimit = 50, kAlbumMaxLimit = 50, kSearchMaxLimit = 10;
constexpr int kSearchDefaultLimit = 5, kSearchMaxOffset = 1000;

// Percent-encoding for a query value (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string param(const Params& q, const char* name) {
  auto it = q.find(name);
  return it == q.end() ? std::string() : it->second;
}

std::optional<int> parse_count(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoi(s);
}

struct Page {
  int offset = 0;
  int limit = 0;
};

// Spotify's paging parameters: limit 1..max (absent: the endpoint's default), offset >= 0.
std::optional<Reply> parse_page(const Params& q, int default_limit, int max_limit, Page& page,
                                int max_offset = INT_MAX) {
  page = {0, default_limit};
  if (q.count("limit")) {
    auto limit = parse_count(param(q, "limit"));
    if (!limit || *limit < 1 || *limit > max_limit) return error_reply(400, "Invalid limit");
    page.limit = *limit;
  }
  if (q.count("offset")) {
    auto offset = parse_count(param(q, "offset"));
    if (!offset || *offset > max_offset) return error_reply(400, "Invalid offset");
    page.offset = *offset;
  }
  return std::nullopt;
}

// "&name=value" for the parameters a `next` URL must keep.
std::string kept_params(const Params& q, std::initializer_list<const char*> names) {
  std::string out;
  for (const char* name : names)
    if (q.count(name)) out += std::string("&") + name + "=" + url_encode(param(q, name));
  return out;
}

std::string page_url(const std::string& base, int offset, int limit, const std::string& extra) {
  return base + "?offset=" + std::to_string(offset) + "&limit=" + std::to_string(limit) + extra;
}

// A paging object around already serialised items.
std::string paging(const std::string& base, const std::string& extra, Page p, int total,
                   const std::vector<std::string>& items) {
  std::string out = "{\"href\":" + json(page_url(base, p.offset, p.limit, extra)).dump() + ",\"items\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  const bool has_next = p.offset + p.limit < total;
  const bool has_previous = p.offset > 0;
  out += "],\"limit\":" + std::to_string(p.limit) + ",\"next\":" +
         (has_next ? json(page_url(base, p.offset + p.limit, p.limit, extra)).dump() : "null") +
         ",\"offset\":" + std::to_string(p.offset) + ",\"previous\":" +
         (has_previous ? json(page_url(base, std::max(0, p.offset - p.limit), p.limit, extra)).dump() : "null") +
         ",\"total\":" + std::to_string(total) + "}";
  return out;
}

Reply ok(std::string body) { return Reply{200, std::move(body), {}}; }

// Bad ids are 400, unknown ones (the editorial Top 50 included) 404, as Spotify answers.
template <class T>
std::optional<Reply> check_id(std::string_view id, const T* found) {
  if (!is_base62_id(id)) return error_reply(400, "Invalid base62 id");
  if (!found) return error_reply(404, "Resource not found");
  return std::nullopt;
}

int count_of(std::size_t n) { return static_cast<int>(n); }

}  // namespace

Reply error_reply(int status, std::string_view message) { return Reply{status, error_body(status, message), {}}; }

SpotifyApi::SpotifyApi(const Catalogue& catalogue, ApiOptions options) : catalogue_(catalogue), options_(options) {}

void SpotifyApi::set_api_url(std::string api_url) {
  std::lock_guard lock(mu_);
  api_url_ = std::move(api_url);
  cache_.clear();
}

template <class Build>
SpotifyApi::Cached SpotifyApi::cached(std::string key, Build&& build) const {
  {
    std::lock_guard lock(mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  }
  auto value = std::make_shared<const std::string>(build());
  std::lock_guard lock(mu_);
  return cache_.emplace(std::move(key), std::move(value)).first->second;
}

ShapeOptions SpotifyApi::shape(const Params& q) const {
  std::lock_guard lock(mu_);
  return ShapeOptions{api_url_, options_.popularity, options_.markets, q.count("market") > 0};
}

std::string SpotifyApi::track_json(const Track& t, const ShapeOptions& o) const {
  return *cached(std::string(o.is_playable ? "Tm" : "T-") + t.id,
                 [&] { return full_track(catalogue_, t, o).dump(); });
}

std::string SpotifyApi::item_json(const PlaylistItem& item, const ShapeOptions& o, ItemShape shape) const {
  std::string payload = "null";
  if (item.kind == ItemKind::track) {
    if (const Track* t = catalogue_.find_track(item.id)) payload = track_json(*t, o);
  } else if (item.kind == ItemKind::episode) {
    if (const Episode* e = catalogue_.find_episode(item.id)) payload = episode(catalogue_, *e, o).dump();
  } else if (item.kind == ItemKind::local && item.local) {
    payload = local_track(*item.local).dump();
  }
  return with_member(item_envelope(item, o).dump(), shape == ItemShape::classic ? "track" : "item", payload);
}

std::string SpotifyApi::items_page(const Playlist& p, const Params& q, int offset, int limit, ItemShape shape) const {
  const ShapeOptions o = this->shape(q);
  std::vector<std::string> items;
  for (int i = offset; i < std::min<int>(offset + limit, count_of(p.items.size())); ++i)
    items.push_back(item_json(p.items[i], o, shape));
  const std::string base = o.api_url + "/playlists/" + p.id + (shape == ItemShape::classic ? "/tracks" : "/items");
  return paging(base, kept_params(q, {"market", "additional_types"}), {offset, limit}, count_of(p.items.size()),
                items);
}

std::string SpotifyApi::album_tracks_page(const Album& a, const Params& q, int offset, int limit) const {
  const ShapeOptions o = shape(q);
  std::vector<std::string> items;
  for (int i = offset; i < std::min<int>(offset + limit, count_of(a.track_ids.size())); ++i) {
    const Track& t = catalogue_.track(a.track_ids[i]);
    items.push_back(*cached(std::string(o.is_playable ? "Sm" : "S-") + t.id,
                            [&] { return simplified_track(catalogue_, t, o).dump(); }));
  }
  return paging(o.api_url + "/albums/" + a.id + "/tracks", kept_params(q, {"market"}), {offset, limit},
                count_of(a.track_ids.size()), items);
}

Reply SpotifyApi::playlist(std::string_view id, const Params& q) const {
  const Playlist* p = catalogue_.find_playlist(id);
  if (auto bad = check_id(id, p)) return *bad;
  const bool dev = options_.dev_mode_playlist_object;
  const std::string page = dev ? items_page(*p, q, 0, kDevMaxLimit, ItemShape::dev)
                               : items_page(*p, q, 0, kClassicMaxLimit, ItemShape::classic);
  return ok(with_member(playlist_without_items(*p, shape(q)).dump(), dev ? "items" : "tracks", page));
}

Reply SpotifyApi::playlist_items(std::string_view id, const Params& q, ItemShape shape) const {
  const Playlist* p = catalogue_.find_playlist(id);
  if (auto bad = check_id(id, p)) return *bad;
  const int max = shape == ItemShape::classic ? kClassicMaxLimit : kDevMaxLimit;
  Page page;
  if (auto bad = parse_page(q, max, max, page)) return *bad;
  return ok(items_page(*p, q, page.offset, page.limit, shape));
}

Reply SpotifyApi::album(std::string_view id, const Params& q) const {
  const Album* a = catalogue_.find_album(id);
  if (auto bad = check_id(id, a)) return *bad;
  const ShapeOptions o = shape(q);
  const std::string head = *cached(std::string(o.is_playable ? "Fm" : "F-") + a->id,
                                   [&] { return full_album_without_tracks(catalogue_, *a, o).dump(); });
  return ok(with_member(head, "tracks", album_tracks_page(*a, q, 0, kAlbumMaxLimit)));
}

Reply SpotifyApi::album_tracks(std::string_view id, const Params& q) const {
  const Album* a = catalogue_.find_album(id);
  if (auto bad = check_id(id, a)) return *bad;
  Page page;
  if (auto bad = parse_page(q, 20, kAlbumMaxLimit, page)) return *bad;
  return ok(album_tracks_page(*a, q, page.offset, page.limit));
}

Reply SpotifyApi::artist(std::string_view id, const Params& q) const {
  const Artist* a = catalogue_.find_artist(id);
  if (auto bad = check_id(id, a)) return *bad;
  return ok(full_artist(*a, shape(q)).dump());
}

Reply SpotifyApi::artist_albums(std::string_view id, const Params& q) const {
  const Artist* artist = catalogue_.find_artist(id);
  if (auto bad = check_id(id, artist)) return *bad;
  Page page;
  if (auto bad = parse_page(q, 20, kAlbumMaxLimit, page)) return *bad;
  std::vector<std::string> groups;
  const std::string wanted = param(q, "include_groups");
  for (std::size_t start = 0; start < wanted.size();) {
    std::size_t comma = std::min(wanted.find(',', start), wanted.size());
    if (comma > start) groups.push_back(wanted.substr(start, comma - start));
    start = comma + 1;
  }
  const auto albums = catalogue_.artist_albums(id, groups);
  const ShapeOptions o = shape(q);
  std::vector<std::string> items;
  for (int i = page.offset; i < std::min<int>(page.offset + page.limit, count_of(albums.size())); ++i) {
    const Album& a = *albums[i].album;
    const auto simple = cached(std::string(o.is_playable ? "Am" : "A-") + a.id,
                               [&] { return simplified_album(catalogue_, a, o).dump(); });
    items.push_back(with_member(*simple, "album_group", json(albums[i].album_group).dump()));
  }
  return ok(paging(o.api_url + "/artists/" + artist->id + "/albums", kept_params(q, {"include_groups", "market"}),
                   page, count_of(albums.size()), items));
}

Reply SpotifyApi::track(std::string_view id, const Params& q) const {
  const Track* t = catalogue_.find_track(id);
  if (auto bad = check_id(id, t)) return *bad;
  return ok(track_json(*t, shape(q)));
}

Reply SpotifyApi::search(const Params& q) const {
  const std::string query = q.count("q") ? param(q, "q") : param(q, "query");
  if (query.empty()) return error_reply(400, "No search query");
  const std::string types = param(q, "type");
  if (types.empty()) return error_reply(400, "Missing parameter type");
  static const std::set<std::string> kTypes = {"album", "artist", "playlist", "track", "show", "episode", "audiobook"};
  std::vector<std::string> asked;
  for (std::size_t start = 0; start <= types.size();) {
    std::size_t comma = std::min(types.find(',', start), types.size());
    std::string t = types.substr(start, comma - start);
    if (!kTypes.count(t)) return error_reply(400, "Bad search type field " + t);
    asked.push_back(t);
    start = comma + 1;
  }
  Page page;
  if (auto bad = parse_page(q, kSearchDefaultLimit, kSearchMaxLimit, page, kSearchMaxOffset)) return *bad;

  std::shared_ptr<const std::vector<std::string>> results;
  {
    std::lock_guard lock(mu_);
    if (auto it = searches_.find(query); it != searches_.end()) results = it->second;
  }
  if (!results) {
    results = std::make_shared<const std::vector<std::string>>(catalogue_.search_tracks(query));
    std::lock_guard lock(mu_);
    searches_.emplace(query, results);
  }

  const ShapeOptions o = shape(q);
  const std::string extra = "&query=" + url_encode(query) + "&type=" + url_encode(types) +
                            kept_params(q, {"market"});
  std::string body = "{";
  for (const auto& type : asked) {
    std::vector<std::string> items;
    int total = 0;
    if (type == "track") {
      total = count_of(results->size());
      for (int i = page.offset; i < std::min(page.offset + page.limit, total); ++i)
        items.push_back(track_json(catalogue_.track((*results)[i]), o));
    }
    if (body.size() > 1) body += ',';
    body += json(type + "s").dump() + ":" + paging(o.api_url + "/search", extra, page, total, items);
  }
  return ok(body + "}");
}

}  // namespace etl::fakespotify::detail
