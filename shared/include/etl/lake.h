// The lake contract between the services, in one place (docs/contract.md §4-§5):
// how raw objects and table files are named, which folders they move through, and
// the small value types that must not be mixed up (source types, run ids). Parsed
// once at the edge; the services hold these types, not loose strings.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "etl/result.h"

namespace etl {

// ---- Sources --------------------------------------------------------------------------

enum class SourceType { playlist, album, artist_albums, search };
inline constexpr std::array<SourceType, 4> kSourceTypes{SourceType::playlist, SourceType::album,
                                                         SourceType::artist_albums, SourceType::search};
// "playlist" | "album" | "artist-albums" | "search": as keys, envelopes, rows and the API spell them.
std::string_view to_string(SourceType type) noexcept;
std::optional<SourceType> parse_source_type(std::string_view text) noexcept;

// ---- Runs -----------------------------------------------------------------------------

// "r20261121t060000123-k3x9qa": the creation time (UTC, milliseconds) and 6 random
// base-36 characters. Lower-case so it sorts and reads the same in keys and URLs.
std::string make_run_id(std::chrono::system_clock::time_point now);
// 1-64 characters of [a-z0-9-] (older and hand-made ids are accepted too).
bool is_run_id(std::string_view id) noexcept;

// ---- Raw objects ----------------------------------------------------------------------

// The `format` field of the extractor's envelope.
inline constexpr std::string_view kEnvelopeFormat = "spotify-etl.raw.v1";
// Raw objects land in to_be_processed/ and move to processed/ once transformed.
inline constexpr std::string_view kPendingPrefix = "to_be_processed/";
inline constexpr std::string_view kProcessedPrefix = "processed/";

struct RawObjectKey {
  bool pending = true;  // under to_be_processed/ (true) or processed/ (false)
  std::string name;     // the rest of the key: the file name (sub-folders kept)

  // invalid_argument for a key outside both folders, a folder itself, or a key
  // that is not a clean relative key (validate_key).
  static Result<RawObjectKey> parse(std::string_view key);
  std::string str() const;
  RawObjectKey processed() const { return {false, name}; }
  RawObjectKey to_be_processed() const { return {true, name}; }
  bool operator==(const RawObjectKey&) const = default;
};

// "spotify_raw_<YYYYMMDDTHHMMSSZ>_<type>_<source-key-id>_<run-id>.json": the
// name the extractor gives the objects it lands.
std::string raw_object_file_name(std::int64_t extracted_at_micros, SourceType type, std::string_view source_key_id,
                                 std::string_view run_id);

// What a raw object's name says: the extractor's name above, or the original
// Lambda's `spotify_raw_<python datetime>.json`; any other name gives its stem only.
struct RawObjectName {
  std::string file_name;                       // "spotify_raw_...json"
  std::string stem;                            // the file name without its last extension
  std::optional<std::int64_t> extracted_at;    // microseconds, UTC, when the name carries a time
  std::string source_type, source_id, run_id;  // empty unless the name is the extractor's
};
RawObjectName parse_raw_object_name(std::string_view key);

// ---- Tables ---------------------------------------------------------------------------

// A folder name that can be a table: [A-Za-z0-9_]+, not starting with '_'.
bool is_table_name(std::string_view name) noexcept;

// `<table>/dt=<YYYY-MM-DD>/<stem>.<parquet|csv|jsonl>`, as the transformer writes
// table files and the catalog reads them.
struct DataKey {
  std::string table;
  std::string dt;
  std::string file;    // "<stem>.<ext>"
  std::string format;  // parquet | csv | jsonl (.json and .ndjson read as jsonl)

  // nullopt for keys that are not data files of a table (our own `_...` folders,
  // temporary or hidden files, other layouts).
  static std::optional<DataKey> parse(std::string_view key);
  static std::string make(std::string_view table, std::string_view dt, std::string_view stem, std::string_view ext);
  // "<table>/dt=<dt>/"
  static std::string partition_prefix(std::string_view table, std::string_view dt);
  std::string str() const;
};

// ---- Generations ----------------------------------------------------------------------
//
// Iceberg readers take a committed data file to be immutable (its size and rows
// are in the manifests; older snapshots keep naming it). So with Iceberg tables a
// redo (POST /v1/reprocess, /v1/transform of a processed object) writes its files
// under new names, "<stem>.r<generation>.<ext>" (the generation: the redo's time,
// Unix ms, 13 digits), and the newest generation of a file stands in for the older
// ones: the catalog takes it and leaves them out.

// What a data key stands for: the key without its generation, and the generation (0: none).
struct FileGeneration {
  std::string logical;
  std::int64_t generation = 0;
};
FileGeneration file_generation(std::string_view key);
// "<stem>.r<generation, 13 digits>" (generations below 10^12 are raised to it).
std::string generation_stem(std::string_view stem, std::int64_t generation);
// A stem of the transformer's own (from a raw object's name) that would read as
// a generation gets "_" appended, so that no plain name is mistaken for one.
std::string plain_stem(std::string_view stem);
// A data file stem the cataloger takes (DataKey::parse): one starting with '.' or
// '_' (hidden, skipped), or holding a glob character `*?[]{}\`, or '/', gets those
// characters as '-', an 'x' before it, and "-<8 hex of the stem>" after, so two
// stems stay two names. Others are returned as they are.
std::string visible_stem(std::string_view stem);
// The stem of the data files of a raw object transformed alone, from its name below
// to_be_processed/ (or processed/): the file name without its last extension, made
// visible and plain; in a sub-folder, "-<8 hex of the whole name>" is added, since
// two folders may hold the same file name.
std::string raw_data_stem(std::string_view raw_name);
// Logical key -> the newest generation `keys` hold of it.
std::map<std::string, std::int64_t> newest_generations(const std::vector<std::string>& keys);
// Of `keys`, those another key of the list supersedes (same logical key, newer generation).
std::set<std::string> superseded_keys(const std::vector<std::string>& keys);

}  // namespace etl
