// Deterministic classic-shape raw objects for the transform benchmark: an
// extractor envelope of playlist-items pages (`{"track": {...}}` items), every
// track and album with Spotify's full list of markets, pretty-printed the way
// the Web API sends it (Jackson: `"key" : value`, scalar arrays inline).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace etl::bench {

using ojson = nlohmann::ordered_json;

// The markets a widely available track lists (ISO 3166-1 alpha-2, as GET /markets returns them).
inline const char* const kMarkets[] = {
    "AD", "AE", "AG", "AL", "AM", "AO", "AR", "AT", "AU", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ",
    "BN", "BO", "BR", "BS", "BT", "BW", "BY", "BZ", "CA", "CD", "CG", "CH", "CI", "CL", "CM", "CO", "CR", "CV", "CW",
    "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "ES", "ET", "FI", "FJ", "FM", "FR", "GA", "GB",
    "GD", "GE", "GH", "GM", "GN", "GQ", "GR", "GT", "GW", "GY", "HK", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IN",
    "IQ", "IS", "IT", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KR", "KW", "KZ", "LA", "LB", "LC", "LI",
    "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MG", "MH", "MK", "ML", "MN", "MO", "MR", "MT",
    "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NE", "NG", "NI", "NL", "NO", "NP", "NR", "NZ", "OM", "PA", "PE", "PG",
    "PH", "PK", "PL", "PR", "PS", "PT", "PW", "PY", "QA", "RO", "RS", "RW", "SA", "SB", "SC", "SE", "SG", "SI", "SK",
    "SL", "SN", "SR", "ST", "SV", "SZ", "TD", "TG", "TH", "TJ", "TL", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA",
    "UG", "US", "UY", "UZ", "VC", "VE", "VN", "VU", "WS", "XK", "ZA", "ZM", "ZW"};

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    s_ = s_ * 6364136223846793005ull + 1442695040888963407ull;
    return s_ >> 17;
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  std::string id() {  // 22 base62 characters
    static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string out(22, '0');
    for (auto& c : out) c = alphabet[below(62)];
    return out;
  }

 private:
  std::uint64_t s_;
};

// Jackson's default pretty printer, which the Web API's responses follow.
inline void jackson(const ojson& j, std::string& out, int indent) {
  if (j.is_object()) {
    if (j.empty()) {
      out += "{ }";
      return;
    }
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out += first ? "\n" : ",\n";
      first = false;
      out.append(static_cast<std::size_t>(indent + 2), ' ');
      out += ojson(it.key()).dump();
      out += " : ";
      jackson(it.value(), out, indent + 2);
    }
    out += '\n';
    out.append(static_cast<std::size_t>(indent), ' ');
    out += '}';
  } else if (j.is_array()) {
    if (j.empty()) {
      out += "[ ]";
      return;
    }
    out += "[ ";
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      jackson(j[i], out, indent);
    }
    out += " ]";
  } else {
    out += j.dump();
  }
}

struct Catalogue {
  std::vector<ojson> artists;
  std::vector<ojson> albums;
};

inline ojson artist_object(Rng& rng, int n) {
  std::string id = rng.id();
  return {{"external_urls", {{"spotify", "https://open.spotify.com/artist/" + id}}},
          {"href", "https://api.spotify.com/v1/artists/" + id},
          {"id", id},
          {"name", "Artist " + std::to_string(n)},
          {"type", "artist"},
          {"uri", "spotify:artist:" + id}};
}

inline ojson markets() {
  ojson m = ojson::array();
  for (const char* c : kMarkets) m.push_back(c);
  return m;
}

inline ojson album_object(Rng& rng, int n, const Catalogue& cat) {
  std::string id = rng.id();
  const int year = 1960 + rng.below(66);
  const int kind = rng.below(20);
  std::string date = std::to_string(year), precision = "year";
  if (kind > 1) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, 1 + rng.below(12), 1 + rng.below(28));
    date = buf;
    precision = "day";
  }
  ojson images = ojson::array();
  for (int size : {640, 300, 64})
    images.push_back({{"height", size}, {"url", "https://i.scdn.co/image/ab67616d0000b273" + rng.id()}, {"width", size}});
  return {{"album_type", kind % 5 == 0 ? "single" : "album"},
          {"artists", ojson::array({cat.artists[static_cast<std::size_t>(rng.below(static_cast<int>(cat.artists.size())))]})},
          {"available_markets", markets()},
          {"external_urls", {{"spotify", "https://open.spotify.com/album/" + id}}},
          {"href", "https://api.spotify.com/v1/albums/" + id},
          {"id", id},
          {"images", images},
          {"name", "Album \"" + std::to_string(n) + "\", remastered"},
          {"release_date", date},
          {"release_date_precision", precision},
          {"total_tracks", 1 + rng.below(20)},
          {"type", "album"},
          {"uri", "spotify:album:" + id}};
}

inline ojson playlist_item(Rng& rng, int n, const Catalogue& cat) {
  std::string id = rng.id();
  ojson artists = ojson::array();
  for (int a = 0, count = 1 + rng.below(3); a < count; ++a)
    artists.push_back(cat.artists[static_cast<std::size_t>(rng.below(static_cast<int>(cat.artists.size())))]);
  ojson track = {{"album", cat.albums[static_cast<std::size_t>(rng.below(static_cast<int>(cat.albums.size())))]},
                 {"artists", artists},
                 {"available_markets", markets()},
                 {"disc_number", 1},
                 {"duration_ms", 120000 + rng.below(240000)},
                 {"episode", false},
                 {"explicit", rng.below(4) == 0},
                 {"external_ids", {{"isrc", "USRC1" + std::to_string(1000000 + n)}}},
                 {"external_urls", {{"spotify", "https://open.spotify.com/track/" + id}}},
                 {"href", "https://api.spotify.com/v1/tracks/" + id},
                 {"id", id},
                 {"is_local", false},
                 {"name", "Song " + std::to_string(n) + " (feat. Someone) \u2013 Radio Edit"},
                 {"popularity", rng.below(101)},
                 {"preview_url", "https://p.scdn.co/mp3-preview/" + rng.id()},
                 {"track", true},
                 {"track_number", 1 + rng.below(15)},
                 {"type", "track"},
                 {"uri", "spotify:track:" + id}};
  return {{"added_at", "2024-0" + std::to_string(1 + rng.below(9)) + "-1" + std::to_string(rng.below(10)) + "T12:34:56Z"},
          {"added_by",
           {{"external_urls", {{"spotify", "https://open.spotify.com/user/curator"}}},
            {"href", "https://api.spotify.com/v1/users/curator"},
            {"id", "curator"},
            {"type", "user"},
            {"uri", "spotify:user:curator"}}},
          {"is_local", false},
          {"primary_color", nullptr},
          {"track", track},
          {"video_thumbnail", {{"url", nullptr}}}};
}

// An extractor envelope of `pages` playlist-items pages of `per_page` items.
inline std::string playlist_envelope(int pages, int per_page, std::uint64_t seed = 2026) {
  Rng rng(seed);
  const int items = pages * per_page;
  Catalogue cat;
  for (int i = 0; i < std::max(1, items * 4 / 10); ++i) cat.artists.push_back(artist_object(rng, i));
  for (int i = 0; i < std::max(1, items * 6 / 10); ++i) cat.albums.push_back(album_object(rng, i, cat));
  const std::string playlist = "37i9dQZF1DXcBWIGoYBM5M";
  std::string out =
      "{\"format\":\"spotify-etl.raw.v1\",\"run_id\":\"bench-run\",\"source\":{\"type\":\"playlist\",\"id\":\"" + playlist +
      "\"},\"extracted_at\":\"2026-11-21T06:00:00Z\",\"api\":{\"base_url\":\"https://api.spotify.com/v1\","
      "\"endpoint\":\"/playlists/" + playlist + "/tracks\"},\"pages\":[";
  int n = 0;
  for (int p = 0; p < pages; ++p) {
    ojson list = ojson::array();
    for (int i = 0; i < per_page; ++i) list.push_back(playlist_item(rng, n++, cat));
    const std::string base = "https://api.spotify.com/v1/playlists/" + playlist + "/tracks?offset=";
    ojson page = {{"href", base + std::to_string(p * per_page) + "&limit=" + std::to_string(per_page)},
                  {"items", list},
                  {"limit", per_page},
                  {"next", p + 1 < pages ? ojson(base + std::to_string((p + 1) * per_page)) : ojson(nullptr)},
                  {"offset", p * per_page},
                  {"previous", p > 0 ? ojson(base + std::to_string((p - 1) * per_page)) : ojson(nullptr)},
                  {"total", items}};
    if (p) out += ',';
    jackson(page, out, 0);
  }
  return out + "]}";
}

}  // namespace etl::bench
