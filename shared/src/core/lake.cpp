#include "etl/lake.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <random>

#include "etl/dates.h"
#include "etl/object_store.h"

namespace etl {

std::string_view to_string(SourceType type) noexcept {
  switch (type) {
    case SourceType::playlist: return "playlist";
    case SourceType::album: return "album";
    case SourceType::artist_albums: return "artist-albums";
    case SourceType::search: return "search";
  }
  return "playlist";
}

std::optional<SourceType> parse_source_type(std::string_view text) noexcept {
  for (SourceType type : kSourceTypes)
    if (to_string(type) == text) return type;
  return std::nullopt;
}

std::string make_run_id(std::chrono::system_clock::time_point now) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t tt = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dt%H%M%S", &tm);
  static constexpr char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string suffix;
  for (int i = 0; i < 6; ++i) suffix += alphabet[rng() % 36];
  char ms_text[8];
  std::snprintf(ms_text, sizeof ms_text, "%03d", static_cast<int>(ms));
  return std::string("r") + stamp + ms_text + "-" + suffix;
}

bool is_run_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!(std::islower(c) || std::isdigit(c) || c == '-')) return false;
  return true;
}

Result<RawObjectKey> RawObjectKey::parse(std::string_view key) {
  if (Status s = validate_key(key); !s.ok()) return s.error();
  RawObjectKey out;
  if (key.starts_with(kPendingPrefix)) {
    out.pending = true;
    out.name = std::string(key.substr(kPendingPrefix.size()));
  } else if (key.starts_with(kProcessedPrefix)) {
    out.pending = false;
    out.name = std::string(key.substr(kProcessedPrefix.size()));
  } else {
    return make_error(Errc::invalid_argument,
                      "raw key '" + std::string(key) + "' is not under to_be_processed/ or processed/");
  }
  if (out.name.empty()) return make_error(Errc::invalid_argument, "raw key '" + std::string(key) + "' names a folder");
  return out;
}

std::string RawObjectKey::str() const { return std::string(pending ? kPendingPrefix : kProcessedPrefix) + name; }

std::string raw_object_file_name(std::int64_t extracted_at_micros, SourceType type, std::string_view source_key_id,
                                 std::string_view run_id) {
  std::string out = "spotify_raw_" + format_compact_timestamp(extracted_at_micros);
  out += '_';
  out += to_string(type);
  out += '_';
  out += source_key_id;
  out += '_';
  out += run_id;
  out += ".json";
  return out;
}

RawObjectName parse_raw_object_name(std::string_view key) {
  RawObjectName out;
  auto slash = key.rfind('/');
  std::string_view file = slash == std::string_view::npos ? key : key.substr(slash + 1);
  out.file_name = std::string(file);
  auto dot = file.rfind('.');
  std::string_view stem = dot == std::string_view::npos || dot == 0 ? file : file.substr(0, dot);
  out.stem = std::string(stem);

  constexpr std::string_view prefix = "spotify_raw_";
  if (!stem.starts_with(prefix)) return out;
  std::string_view rest = stem.substr(prefix.size());

  if (auto t = parse_compact_timestamp(rest.substr(0, 16))) {
    out.extracted_at = t;
    if (rest.size() > 17 && rest[16] == '_') {
      // <type>_<id>_<run-id>: types and ids never hold '_', a run id might.
      std::string_view parts = rest.substr(17);
      auto a = parts.find('_');
      if (a != std::string_view::npos) {
        auto b = parts.find('_', a + 1);
        out.source_type = std::string(parts.substr(0, a));
        out.source_id = std::string(parts.substr(a + 1, b == std::string_view::npos ? std::string_view::npos : b - a - 1));
        if (b != std::string_view::npos) out.run_id = std::string(parts.substr(b + 1));
      }
    }
    return out;
  }
  // The original Lambda named files after Python's str(datetime.now()) in UTC:
  // "2023-06-01 12:34:56.789012".
  out.extracted_at = parse_timestamp(rest);
  return out;
}

bool is_table_name(std::string_view name) noexcept {
  if (name.empty() || name.front() == '_') return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::optional<DataKey> DataKey::parse(std::string_view key) {
  // DuckDB expands glob characters in the paths a view reads (read_parquet of a
  // list globs each entry): such a key would read other files. Never a data file.
  if (key.find_first_of("*?[]{}\\") != std::string_view::npos) return std::nullopt;
  auto s1 = key.find('/');
  if (s1 == std::string_view::npos) return std::nullopt;
  auto s2 = key.find('/', s1 + 1);
  if (s2 == std::string_view::npos || key.find('/', s2 + 1) != std::string_view::npos) return std::nullopt;
  std::string_view table = key.substr(0, s1), part = key.substr(s1 + 1, s2 - s1 - 1), file = key.substr(s2 + 1);
  if (!is_table_name(table) || !part.starts_with("dt=") || part.size() == 3) return std::nullopt;
  if (file.empty() || file.front() == '.' || file.front() == '_') return std::nullopt;
  auto dot = file.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view ext = file.substr(dot + 1);
  std::string format;
  if (ext == "parquet") format = "parquet";
  else if (ext == "csv") format = "csv";
  else if (ext == "jsonl" || ext == "ndjson" || ext == "json") format = "jsonl";
  else return std::nullopt;
  return DataKey{std::string(table), std::string(part.substr(3)), std::string(file), format};
}

std::string DataKey::partition_prefix(std::string_view table, std::string_view dt) {
  std::string out(table);
  out += "/dt=";
  out += dt;
  out += '/';
  return out;
}

std::string DataKey::make(std::string_view table, std::string_view dt, std::string_view stem, std::string_view ext) {
  std::string out = partition_prefix(table, dt);
  out += stem;
  out += '.';
  out += ext;
  return out;
}

std::string DataKey::str() const { return partition_prefix(table, dt) + file; }

namespace {
constexpr std::size_t kGenerationDigits = 13;

// The position of ".r<13 digits>" right before `key`'s extension, if it has one.
std::optional<std::size_t> generation_at(std::string_view key) {
  const auto dot = key.rfind('.');
  const std::size_t marker = kGenerationDigits + 2;  // ".r" and the digits
  if (dot == std::string_view::npos || dot < marker) return std::nullopt;
  const std::string_view g = key.substr(dot - marker, marker);
  if (g[0] != '.' || g[1] != 'r') return std::nullopt;
  for (char c : g.substr(2))
    if (c < '0' || c > '9') return std::nullopt;
  if (key.find('/', dot - marker) != std::string_view::npos) return std::nullopt;
  return dot - marker;
}
}  // namespace

FileGeneration file_generation(std::string_view key) {
  auto at = generation_at(key);
  if (!at) return {std::string(key), 0};
  std::int64_t g = 0;
  for (char c : key.substr(*at + 2, kGenerationDigits)) g = g * 10 + (c - '0');
  std::string logical(key.substr(0, *at));
  logical += key.substr(*at + 2 + kGenerationDigits);
  return {std::move(logical), g};
}

std::string generation_stem(std::string_view stem, std::int64_t generation) {
  generation = std::clamp<std::int64_t>(generation, 1'000'000'000'000, 9'999'999'999'999);
  return std::string(stem) + ".r" + std::to_string(generation);
}

std::string plain_stem(std::string_view stem) {
  std::string out(stem);
  if (generation_at(out + ".x")) out += '_';
  return out;
}

namespace {
// 8 hex digits of FNV-1a: names, not security.
std::string name_hash(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  char out[9];
  std::snprintf(out, sizeof out, "%08x", h);
  return out;
}
}  // namespace

std::string visible_stem(std::string_view stem) {
  constexpr std::string_view kRefused = "*?[]{}\\/";
  const bool hidden = stem.empty() || stem.front() == '.' || stem.front() == '_';
  if (!hidden && stem.find_first_of(kRefused) == std::string_view::npos) return std::string(stem);
  std::string out = "x";
  for (char c : stem) out += kRefused.find(c) == std::string_view::npos ? c : '-';
  return out + "-" + name_hash(stem);
}

std::string raw_data_stem(std::string_view raw_name) {
  std::string stem = visible_stem(parse_raw_object_name(raw_name).stem);
  if (raw_name.find('/') != std::string_view::npos) stem += "-" + name_hash(raw_name);
  return plain_stem(stem);
}

std::map<std::string, std::int64_t> newest_generations(const std::vector<std::string>& keys) {
  std::map<std::string, std::int64_t> out;
  for (const auto& key : keys) {
    auto g = file_generation(key);
    auto [it, fresh] = out.emplace(g.logical, g.generation);
    if (!fresh) it->second = std::max(it->second, g.generation);
  }
  return out;
}

std::set<std::string> superseded_keys(const std::vector<std::string>& keys) {
  auto newest = newest_generations(keys);
  std::set<std::string> out;
  for (const auto& key : keys) {
    auto g = file_generation(key);
    if (newest[g.logical] > g.generation) out.insert(key);
  }
  return out;
}

}  // namespace etl
