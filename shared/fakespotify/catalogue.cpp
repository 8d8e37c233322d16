// Lookups, ids, markets and search over the generated catalogue (the generation
// itself is in catalogue_build.cpp).
#include "catalogue.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace etl::fakespotify {
namespace {

constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <class T>
const T* find_in(const std::vector<T>& v, const std::map<std::string, std::size_t, std::less<>>& ix,
                 std::string_view id) {
  auto it = ix.find(id);
  return it == ix.end() ? nullptr : &v[it->second];
}

template <class T>
void index_into(const std::vector<T>& v, std::map<std::string, std::size_t, std::less<>>& ix) {
  ix.clear();
  for (std::size_t i = 0; i < v.size(); ++i) ix.emplace(v[i].id, i);
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The words of a search query: lower-cased, quotes dropped, Spotify field filters
// ("artist:", "track:", "album:", "genre:", "year:") reduced to their value.
std::vector<std::string> query_words(std::string_view query) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (auto colon = word.find(':'); colon != std::string::npos) word.erase(0, colon + 1);
    if (word.size() >= 2) words.push_back(word);
    word.clear();
  };
  for (char c : lower_ascii(query)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '+') {
      flush();
    } else if (c != '"') {
      word += c;
    }
  }
  flush();
  return words;
}

int group_rank(const std::string& group) {
  if (group == "album") return 0;
  if (group == "single") return 1;
  if (group == "compilation") return 2;
  return 3;
}

}  // namespace

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string make_id(std::string_view seed) {
  std::uint64_t state = fnv1a(seed);
  std::string id;
  id += kBase62[splitmix64(state) % 8];
  while (id.size() < 22) id += kBase62[splitmix64(state) % 62];
  return id;
}

bool is_base62_id(std::string_view id) {
  return id.size() == 22 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
         });
}

const std::vector<std::string>& all_markets() {
  static const std::vector<std::string> markets = [] {
    constexpr std::string_view codes =
        "AD AE AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD CG CH CI CL "
        "CM CO CR CV CW CY CZ DE DJ DK DM DO DZ EC EE EG ES ET FI FJ FM FR GA GB GD GE GH GM GN GQ GR GT GW "
        "GY HK HN HR HT HU ID IE IL IN IQ IS IT JM JO JP KE KG KH KI KM KN KR KW KZ LA LB LC LI LK LR LS LT "
        "LU LV LY MA MC MD ME MG MH MK ML MN MO MR MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NR NZ OM PA PE "
        "PG PH PK PL PR PS PT PW PY QA RO RS RW SA SB SC SE SG SI SK SL SM SN SR ST SV SZ TD TG TH TJ TL TN "
        "TO TR TT TV TZ UA UG US UY UZ VC VE VN VU WS XK ZA ZM ZW";
    std::vector<std::string> out;
    for (std::size_t i = 0; i + 2 <= codes.size(); i += 3) out.emplace_back(codes.substr(i, 2));
    return out;
  }();
  return markets;
}

void Catalogue::build_index() {
  index_into(artists, artist_ix_);
  index_into(albums, album_ix_);
  index_into(tracks, track_ix_);
  index_into(shows, show_ix_);
  index_into(episodes, episode_ix_);
  index_into(playlists, playlist_ix_);
}

const Artist* Catalogue::find_artist(std::string_view id) const { return find_in(artists, artist_ix_, id); }
const Album* Catalogue::find_album(std::string_view id) const { return find_in(albums, album_ix_, id); }
const Track* Catalogue::find_track(std::string_view id) const { return find_in(tracks, track_ix_, id); }
const Show* Catalogue::find_show(std::string_view id) const { return find_in(shows, show_ix_, id); }
const Episode* Catalogue::find_episode(std::string_view id) const { return find_in(episodes, episode_ix_, id); }
const Playlist* Catalogue::find_playlist(std::string_view id) const { return find_in(playlists, playlist_ix_, id); }

const Album& Catalogue::album(std::string_view id) const {
  if (const Album* a = find_album(id)) return *a;
  throw std::out_of_range("fake catalogue: no album " + std::string(id));
}
const Track& Catalogue::track(std::string_view id) const {
  if (const Track* t = find_track(id)) return *t;
  throw std::out_of_range("fake catalogue: no track " + std::string(id));
}
const Playlist& Catalogue::playlist(std::string_view id) const {
  if (const Playlist* p = find_playlist(id)) return *p;
  throw std::out_of_range("fake catalogue: no playlist " + std::string(id));
}

std::vector<ArtistAlbum> Catalogue::artist_albums(std::string_view artist_id,
                                                  const std::vector<std::string>& groups) const {
  std::vector<ArtistAlbum> out;
  for (const Album& album : albums) {
    std::string group;
    if (std::find(album.artist_ids.begin(), album.artist_ids.end(), artist_id) != album.artist_ids.end()) {
      group = album.album_type;
    } else {
      for (const auto& tid : album.track_ids) {
        const Track& t = track(tid);
        if (std::find(t.artist_ids.begin(), t.artist_ids.end(), artist_id) != t.artist_ids.end()) {
          group = "appears_on";
          break;
        }
      }
    }
    if (group.empty()) continue;
    if (!groups.empty() && std::find(groups.begin(), groups.end(), group) == groups.end()) continue;
    out.push_back({&album, std::move(group)});
  }
  std::stable_sort(out.begin(), out.end(), [](const ArtistAlbum& a, const ArtistAlbum& b) {
    return std::tuple(group_rank(a.album_group), b.album->release_date, a.album->id) <
           std::tuple(group_rank(b.album_group), a.album->release_date, b.album->id);
  });
  return out;
}

std::vector<std::string> Catalogue::search_tracks(std::string_view query) const {
  const std::vector<std::string> words = query_words(query);
  std::string normalised;
  for (const auto& w : words) normalised += w + ' ';

  struct Scored {
    int words;
    int popularity;
    const std::string* id;
  };
  std::vector<Scored> matched;
  std::vector<const std::string*> rest;
  for (const std::string& id : search_pool) {
    const Track& t = track(id);
    const Album& a = album(t.album_id);
    std::string hay = t.name + ' ' + a.name + ' ' + a.release_date.substr(0, 4);
    for (const auto& aid : t.artist_ids) {
      const Artist* artist = find_artist(aid);
      if (!artist) continue;
      hay += ' ' + artist->name;
      for (const auto& g : artist->genres) hay += ' ' + g;
    }
    hay = lower_ascii(hay);
    int hits = 0;
    for (const auto& w : words) hits += hay.find(w) != std::string::npos ? 1 : 0;
    if (hits > 0) {
      matched.push_back({hits, t.popularity.value_or(0), &id});
    } else {
      rest.push_back(&id);
    }
  }
  if (matched.empty()) return {};

  std::sort(matched.begin(), matched.end(), [](const Scored& a, const Scored& b) {
    return std::tuple(-a.words, -a.popularity, *a.id) < std::tuple(-b.words, -b.popularity, *b.id);
  });
  std::sort(rest.begin(), rest.end(), [&](const std::string* a, const std::string* b) {
    return std::pair(fnv1a(normalised + *a), *a) < std::pair(fnv1a(normalised + *b), *b);
  });
  const std::size_t wanted = std::min<std::size_t>(
      1000, std::max<std::size_t>(matched.size(), 250 + fnv1a(normalised) % 151));
  std::vector<std::string> out;
  for (const auto& m : matched)
    if (out.size() < wanted) out.push_back(*m.id);
  for (const auto* id : rest)
    if (out.size() < wanted) out.push_back(*id);
  return out;
}

const Catalogue& default_catalogue() {
  static const Catalogue catalogue = build_catalogue();
  return catalogue;
}

}  // namespace etl::fakespotify
