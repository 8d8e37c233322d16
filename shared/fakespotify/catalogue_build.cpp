// Generates the ordinary part of the catalogue: 36 fictional artists with their
// releases, a producer with 64 releases, a 56-track deluxe album, and the demo,
// large and empty playlists. Names are fictional; any likeness is chance.
#include <algorithm>
#include <cstdio>
#include <set>

#include "catalogue_builder.h"

#include "etl/dates.h"

namespace etl::fakespotify {
namespace detail {

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
int Rng::between(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
bool Rng::chance(int percent) { return between(1, 100) <= percent; }

// The calendar is etl/dates.h's; these keep the catalogue's code short.
std::int64_t days_from_civil(int y, int m, int d) { return etl::days_from_civil(y, m, d).value_or(0); }

std::string rfc3339(std::int64_t t) { return etl::format_timestamp(t * 1'000'000); }

std::string day_date(int y, int m, int d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

std::string Builder::artist(std::string name, std::vector<std::string> genres, int popularity, std::string id) {
  if (id.empty()) id = make_id("artist:" + name);
  const int followers = popularity * popularity * (40 + static_cast<int>(fnv1a(id) % 60));
  artist_ix_.emplace(id, c_.artists.size());
  c_.artists.push_back({id, std::move(name), std::move(genres), popularity, followers});
  return id;
}

std::string Builder::album(std::vector<std::string> artist_ids, std::string name, std::string type, std::string date,
                           std::string precision, std::string label, std::string id) {
  if (id.empty()) id = make_id("album:" + artist_ids.front() + ":" + name + ":" + date);
  std::string upc = std::to_string(190000000000ull + fnv1a(id) % 9999999999ull);
  int popularity = 0;
  for (const auto& a : artist_ids) popularity = std::max(popularity, artist_ref(a).popularity - 8);
  album_ix_.emplace(id, c_.albums.size());
  c_.albums.push_back({id, std::move(name), std::move(type), std::move(date), std::move(precision),
                       std::move(artist_ids), {}, std::move(label), std::move(upc), popularity});
  return id;
}

std::string Builder::track(const std::string& album_id, std::string name, std::vector<std::string> artist_ids,
                           int duration_ms, std::optional<int> popularity, bool explicit_content, int disc) {
  Album& a = album_ref(album_id);
  int number = 1;
  for (const auto& tid : a.track_ids)
    if (c_.tracks[track_ix_.at(tid)].disc_number == disc) ++number;
  std::string id = make_id("track:" + album_id + ":" + std::to_string(a.track_ids.size()));
  char isrc[16];
  std::snprintf(isrc, sizeof isrc, "QZ%03X%s%05d", static_cast<unsigned>(fnv1a(artist_ids.front()) % 4096),
                a.release_date.substr(2, 2).c_str(), isrc_serial_++ % 100000);
  a.track_ids.push_back(id);
  track_ix_.emplace(id, c_.tracks.size());
  c_.tracks.push_back({id, std::move(name), album_id, std::move(artist_ids), duration_ms, explicit_content,
                       popularity, isrc, disc, number});
  return id;
}

std::string Builder::playlist(std::string id, std::string name, std::string description, int followers) {
  std::string snapshot = "AAAA" + make_id("snapshot:" + id) + make_id("snapshot2:" + id).substr(0, 6);
  playlist_ix_.emplace(id, c_.playlists.size());
  c_.playlists.push_back({id, std::move(name), std::move(description), kCuratorUserId, "spotify-etl demo curator",
                          std::move(snapshot), followers, {}});
  return id;
}

void Builder::add_item(const std::string& playlist_id, PlaylistItem item) {
  c_.playlists[playlist_ix_.at(playlist_id)].items.push_back(std::move(item));
}

Album& Builder::album_ref(const std::string& id) { return c_.albums[album_ix_.at(id)]; }
const Artist& Builder::artist_ref(const std::string& id) { return c_.artists[artist_ix_.at(id)]; }

}  // namespace detail

namespace {

using detail::Builder;
using detail::Rng;

struct ArtistSeed {
  const char* name;
  std::vector<std::string> genres;
};

const std::vector<ArtistSeed> kArtists = {
    {"Juniper Vale", {"indie folk", "chamber pop"}}, {"Marlowe & The Tides", {"indie rock", "britpop"}},
    {"Luna Okafor", {"afrobeats", "r&b"}},           {"Kito Mensah", {"afropop", "highlife"}},
    {"Sable Avenue", {"synthpop", "new wave"}},      {"Nora Lindqvist", {"nordic pop", "electropop"}},
    {"The Quiet Hours", {"dream pop"}},              {"Dario Velasco", {"latin pop", "reggaeton"}},
    {"Echo Basin", {"ambient", "downtempo"}},        {"Ivy Calloway", {"pop", "dance pop"}},
    {"Northbound Static", {"alternative rock"}},     {"Tessa Rayne", {"country pop"}},
    {"Golden Ratio", {"hip hop", "jazz rap"}},       {"Aurora Kade", {"electropop"}},
    {"Felix Brandt", {"deep house"}},                {"Cinder & Smoke", {"blues rock"}},
    {"Paper Satellites", {"indie pop"}},             {"Ravi Anand", {"lo-fi", "chillhop"}},
    {"Mira Solène", {"french pop", "chanson"}},      {"Harbor Lights Collective", {"neo soul"}},
    {"Jonah Reyes", {"singer-songwriter"}},          {"Velvet Kinetic", {"funk", "disco"}},
    {"Saoirse Quinn", {"celtic folk"}},              {"Blue Meridian", {"jazz", "nu jazz"}},
    {"Yasmin Adeyemi", {"r&b", "soul"}},             {"Static Bloom", {"shoegaze"}},
    {"Cole Harrington", {"americana"}},              {"Neon Orchard", {"synthwave"}},
    {"Lina Marques", {"bossa nova", "mpb"}},         {"Midnight Ferris", {"electropop", "indietronica"}},
    {"Oskar Heldt", {"techno"}},                     {"The Lanterns of May", {"indie folk"}},
    {"Priya Sethi", {"indian indie", "pop"}},        {"Atlas Rowe", {"hip hop", "trap"}},
    {"Wren & Willow", {"acoustic", "folk pop"}},     {"Koa Makani", {"reggae", "island pop"}},
};

const std::vector<std::string> kAdjectives = {
    "Midnight", "Golden",  "Paper",   "Silver", "Electric", "Quiet",  "Broken", "Endless", "Velvet", "Neon",
    "Wild",     "Hollow",  "Crimson", "Gentle", "Restless", "Northern", "Summer", "Winter", "Faded", "Burning",
    "Blue",     "Little",  "Lonely",  "Secret", "Sweet",    "Distant", "Falling", "Lucky", "Slow",   "Bright",
    "Heavy",    "Tender",  "Open",    "Hidden", "Last",     "Sunday", "Shallow", "Stolen", "Careless", "Cosmic"};
const std::vector<std::string> kNouns = {
    "Hearts", "Drive",   "Rain",    "Lights",  "Garden",  "Waves",    "Skies",      "Letters",  "Fire",   "Roads",
    "Dreams", "Echoes",  "River",   "Summer",  "Houses",  "Ghosts",   "Horses",     "Tides",    "Mirrors", "Signals",
    "Bloom",  "Season",  "Harbor",  "Static",  "Days",    "Love",     "Motion",     "Shadows",  "Radio",  "Avenue",
    "Window", "Tears",   "Embers",  "Coast",   "Thunder", "Weather",  "Promises",   "Satellites", "Lanterns", "Parade"};
const std::vector<std::string> kPhrases = {
    "Stay With Me Tonight",  "All I Ever Wanted",     "Love in Slow Motion",   "Call Me When You Land",
    "Dancing On My Own Again", "Don't Let Go",        "If We Were Younger",    "Where the Light Gets In",
    "Take the Long Way Home", "Nothing Feels the Same", "Lovesick Lullaby",    "Before You Go",
    "Somebody New",          "Sleepless in Lisbon",   "Only Love Remains",     "Tell Me Something True",
    "Back to the Start",     "Ordinary Magic",        "Coming Home",           "Crazy Little Love",
    "Lover's Bay",           "Ten Thousand Miles",    "Hold On, Hold Tight",   "Say It Like You Mean It",
    "The Way You Move",      "Run Away With Me",      "Under the Same Sky",    "Honey, I'm Home",
    "Everything Is Fine",    "Last Train to Nowhere", "Meet Me at the Pier",   "When the Morning Comes",
    "Why Do We Fall",        "Carry the Weight",      "Fool for Your Love",    "Better Days Ahead"};
const std::vector<std::string> kAlbumWords = {
    "Saltwater", "Afterglow", "Monochrome", "Heliotrope", "Wildflower Season", "Kintsugi", "Nightswimming",
    "Paper Moons", "Glasshouse", "Northern Soul", "Slow Bloom", "Tidal", "Lowlands", "Satellite Hearts",
    "Half Light", "Open Water", "Sundown", "Polaroids", "The Long Summer", "Quiet Storms"};
const std::vector<std::string> kLabels = {"Harbor Records", "Northlight Music", "Blue Fern Recordings",
                                          "Parlour Tapes", "Sundial Sound", "Copperline", "Fieldnote Records"};

std::string title(Rng& rng) {
  if (rng.chance(40)) return rng.pick(kPhrases);
  return rng.pick(kAdjectives) + " " + rng.pick(kNouns);
}

std::string album_title(Rng& rng) {
  return rng.chance(50) ? rng.pick(kAlbumWords) : rng.pick(kAdjectives) + " " + rng.pick(kNouns);
}

// Titles distinct within one release.
std::vector<std::string> titles(Rng& rng, int n) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  while (static_cast<int>(out.size()) < n) {
    std::string t = title(rng);
    if (seen.insert(t).second || seen.size() > 150) out.push_back(t);
  }
  return out;
}

int track_popularity(Rng& rng, int artist_popularity) {
  return std::clamp(artist_popularity + rng.between(-22, 10), 0, 100);
}

// One release of `artist`: `n` tracks, about one in twelve featuring another artist.
std::string release(Builder& b, Rng& rng, const std::string& artist_id, const std::vector<std::string>& others,
                    const std::string& type, int n, const std::string& id = {}) {
  const int y = rng.between(2011, 2025), m = rng.between(1, 12), d = rng.between(1, 28);
  const auto names = titles(rng, n);
  const std::string name = type == "single" ? names.front() : album_title(rng);
  const std::string album_id =
      b.album({artist_id}, name, type, detail::day_date(y, m, d), "day", rng.pick(kLabels), id);
  const int pop = b.artist_ref(artist_id).popularity;
  for (const auto& track_name : names) {
    std::vector<std::string> artists{artist_id};
    std::string full_name = track_name;
    if (rng.chance(8)) {
      const std::string& feat = rng.pick(others);
      if (feat != artist_id) {
        artists.push_back(feat);
        full_name += " (feat. " + b.artist_ref(feat).name + ")";
      }
    }
    b.track(album_id, full_name, artists, rng.between(148, 291) * 1000 + rng.between(0, 999),
            track_popularity(rng, pop), rng.chance(12));
  }
  return album_id;
}

void add_big_album(Builder& b, Rng& rng, const std::string& artist_id) {
  const std::string album_id = b.album({artist_id}, "Saltwater Hymns (Deluxe Anniversary Edition)", "album",
                                       "2024-09-20", "day", "Northlight Music", kBigAlbumId);
  const auto names = titles(rng, 14);
  const std::vector<std::string> suffixes = {"", " - Demo", " - Live at Harbour Hall", " - Instrumental"};
  const int pop = b.artist_ref(artist_id).popularity;
  for (int disc = 1; disc <= 4; ++disc)
    for (const auto& n : names)
      b.track(album_id, n + suffixes[disc - 1], {artist_id}, rng.between(170, 330) * 1000,
              track_popularity(rng, pop - 10 * (disc - 1)), false, disc);
}

// DJ Kestrel: 8 albums, 40 singles, 8 compilations, 8 appears_on = 64 releases.
void add_prolific_artist(Builder& b, Rng& rng, const std::vector<std::string>& others) {
  const std::string dj = b.artist("DJ Kestrel", {"house", "edm", "melodic techno"}, 71, kProlificArtistId);
  for (int i = 0; i < 8; ++i) release(b, rng, dj, others, "album", 8);
  for (int i = 0; i < 40; ++i) {
    const std::string name = title(rng);
    const std::string album_id = b.album({dj}, name, "single", detail::day_date(2012 + i / 3, 1 + i % 12, 1 + i % 28),
                                         "day", "Sundial Sound");
    const std::vector<std::string> mixes = {"", " - Extended Mix", " - Radio Edit"};
    const int n = rng.between(1, 3);
    for (int k = 0; k < n; ++k)
      b.track(album_id, name + mixes[k], {dj}, rng.between(150, 420) * 1000, track_popularity(rng, 71), false);
  }
  for (int i = 1; i <= 8; ++i) {
    const std::string album_id = b.album({dj}, "Kestrel Sessions, Vol. " + std::to_string(i), "compilation",
                                         detail::day_date(2014 + i, 6, 14), "day", "Sundial Sound");
    for (const auto& n : titles(rng, 6))
      b.track(album_id, n + " - Mixed", {dj}, rng.between(180, 400) * 1000, track_popularity(rng, 60), false);
  }
  for (int i = 0; i < 8; ++i) {
    const std::string album_id = b.album({kVariousArtistsId}, "Deep House Essentials " + std::to_string(2017 + i),
                                         "compilation", detail::day_date(2017 + i, 11, 3), "day", "Copperline");
    const auto names = titles(rng, 5);
    for (int k = 0; k < 5; ++k)
      b.track(album_id, names[k], {k == 2 ? dj : rng.pick(others)}, rng.between(180, 400) * 1000,
              track_popularity(rng, 50), false);
  }
}

void add_playlists(Builder& b, Rng& rng, const std::vector<std::string>& artist_ids) {
  Catalogue& c = b.catalogue();
  b.playlist(kDemoPlaylistId, "Sunday Evening Mix",
             "Warm indie, soul and electronic picks for a slow Sunday. Offline sample for spotify-etl.", 18342);
  // Skewed so "top artists" has a clear order: 10, 9, 8, ... tracks for the first artists.
  const std::vector<int> counts = {10, 9, 8, 7, 6, 6, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1};
  std::vector<std::string> demo;
  for (std::size_t a = 0; a < counts.size(); ++a) {
    std::vector<std::string> own;
    for (const auto& album : c.albums)
      if (album.artist_ids.front() == artist_ids[a])
        for (const auto& t : album.track_ids) own.push_back(t);
    rng.shuffle(own);
    for (int k = 0; k < counts[a]; ++k) demo.push_back(own[k]);
  }
  rng.shuffle(demo);
  std::int64_t t = detail::days_from_civil(2025, 1, 5) * 86400 + 19 * 3600 + 12 * 60;
  for (const auto& id : demo) {
    b.add_item(kDemoPlaylistId, {ItemKind::track, id, std::nullopt, detail::rfc3339(t), kCuratorUserId});
    t += rng.between(8, 80) * 3600 + rng.between(0, 3599);
  }

  b.playlist(kLargePlaylistId, "Late Night Drive",
             "250 songs for the long road home. Big enough to need several pages.", 5120);
  std::vector<std::string> pool = c.search_pool;
  rng.shuffle(pool);
  t = detail::days_from_civil(2023, 3, 1) * 86400 + 22 * 3600;
  for (int i = 0; i < 250; ++i) {
    b.add_item(kLargePlaylistId, {ItemKind::track, pool[i], std::nullopt, detail::rfc3339(t), kCuratorUserId});
    t += rng.between(1, 72) * 3600 + rng.between(0, 3599);
  }

  b.playlist(kEmptyPlaylistId, "Fresh Start", "Nothing here yet.", 3);
}

}  // namespace

Catalogue build_catalogue() {
  Catalogue c;
  Builder b(c);
  Rng rng("spotify-etl fake catalogue v1");
  std::vector<std::string> artist_ids;
  for (std::size_t i = 0; i < kArtists.size(); ++i)
    artist_ids.push_back(b.artist(kArtists[i].name, kArtists[i].genres, std::max(30, 88 - static_cast<int>(i) * 2 -
                                                                                     rng.between(0, 6))));
  b.artist("Various Artists", {}, 0, kVariousArtistsId);
  for (std::size_t i = 0; i < artist_ids.size(); ++i) {
    // The first release is a full album; the demo album is Juniper Vale's 12-track debut.
    release(b, rng, artist_ids[i], artist_ids, "album", i == 0 ? 12 : rng.between(10, 14),
            i == 0 ? kDemoAlbumId : "");
    for (int k = rng.between(1, 3); k > 0; --k) {
      const bool single = rng.chance(45);
      release(b, rng, artist_ids[i], artist_ids, single ? "single" : "album",
              single ? rng.between(1, 4) : rng.between(8, 12));
    }
    if (i == 1) add_big_album(b, rng, artist_ids[i]);
  }
  add_prolific_artist(b, rng, artist_ids);
  for (const auto& t : c.tracks) c.search_pool.push_back(t.id);
  add_playlists(b, rng, artist_ids);
  detail::add_edge_cases(b);
  c.build_index();
  return c;
}

}  // namespace etl::fakespotify
