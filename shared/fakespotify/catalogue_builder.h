// Internal: the helpers that generate the catalogue (catalogue_build.cpp for the
// ordinary music, catalogue_edge.cpp for the edge-case playlist).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalogue.h"

namespace etl::fakespotify::detail {

// A small deterministic generator: same seed, same sequence, on every platform.
class Rng {
 public:
  explicit Rng(std::string_view seed) : state_(fnv1a(seed)) {}
  std::uint64_t next();
  int between(int lo, int hi);  // inclusive
  bool chance(int percent);
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[next() % v.size()];
  }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[next() % i]);
  }

 private:
  std::uint64_t state_;
};

std::int64_t days_from_civil(int y, int m, int d);
std::string rfc3339(std::int64_t epoch_seconds);  // "2025-01-05T19:12:00Z"
std::string day_date(int y, int m, int d);       // "2025-01-05"

class Builder {
 public:
  explicit Builder(Catalogue& c) : c_(c) {}
  Catalogue& catalogue() { return c_; }

  // Each returns the new object's id; an empty `id` derives one from the name.
  std::string artist(std::string name, std::vector<std::string> genres, int popularity, std::string id = {});
  std::string album(std::vector<std::string> artist_ids, std::string name, std::string type, std::string date,
                    std::string precision, std::string label, std::string id = {});
  // Appends a track to the album, numbered after the tracks already on that disc.
  std::string track(const std::string& album_id, std::string name, std::vector<std::string> artist_ids,
                    int duration_ms, std::optional<int> popularity, bool explicit_content = false, int disc = 1);
  std::string playlist(std::string id, std::string name, std::string description, int followers);
  void add_item(const std::string& playlist_id, PlaylistItem item);

  Album& album_ref(const std::string& id);
  const Artist& artist_ref(const std::string& id);

 private:
  Catalogue& c_;
  std::map<std::string, std::size_t, std::less<>> artist_ix_, album_ix_, track_ix_, playlist_ix_;
  int isrc_serial_ = 10000;
};

void add_edge_cases(Builder& b);

}  // namespace etl::fakespotify::detail
