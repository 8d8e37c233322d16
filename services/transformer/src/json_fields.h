// Reading the fields of Spotify objects with simdjson On-Demand: the keys we
// look for, told apart with one switch, and typed reads where JSON null is
// fine and any other wrong type marks the item malformed (`bad`) instead of
// failing the document. Header-only: these run for every key of every object.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "rows.h"

namespace etl::transformer::json {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;
using JT = od::json_type;

#define ETL_SJ_TRY(expr)                                  \
  do {                                                    \
    if (error_code etl_e_ = (expr); etl_e_ != SUCCESS) return etl_e_; \
  } while (0)

// A key as the bytes between its quotes. Stage 1 guarantees the closing quote;
// a key with escapes stops early and simply matches none of ours.
inline std::string_view key_of(od::raw_json_string key) noexcept {
  const char* begin = key.raw();
  const char* end = begin;
  while (*end != '"') ++end;
  return {begin, static_cast<std::size_t>(end - begin)};
}

// The keys we read, told apart with a switch on length and a fixed-size
// compare (this runs for every key of every object in the document).
enum class Key : std::uint8_t {
  other, added_at, album, album_type, artists, disc_number, duration_ms, explicit_, external_ids, external_urls, id,
  is_local, isrc, item, items, name, popularity, release_date, release_date_precision, spotify, total_tracks, track,
  track_number, tracks, type, uri,
};

inline Key key_id(od::raw_json_string raw) noexcept {
  const std::string_view k = key_of(raw);
  const char* p = k.data();
  auto is = [p](const auto& word) { return std::memcmp(p, word, sizeof(word) - 1) == 0; };
  switch (k.size()) {
    case 2: return is("id") ? Key::id : Key::other;
    case 3: return is("uri") ? Key::uri : Key::other;
    case 4:
      if (is("name")) return Key::name;
      if (is("type")) return Key::type;
      if (is("isrc")) return Key::isrc;
      if (is("item")) return Key::item;
      return Key::other;
    case 5:
      if (is("album")) return Key::album;
      if (is("track")) return Key::track;
      if (is("items")) return Key::items;
      return Key::other;
    case 6: return is("tracks") ? Key::tracks : Key::other;
    case 7:
      if (is("artists")) return Key::artists;
      if (is("spotify")) return Key::spotify;
      return Key::other;
    case 8:
      if (is("explicit")) return Key::explicit_;
      if (is("is_local")) return Key::is_local;
      if (is("added_at")) return Key::added_at;
      return Key::other;
    case 10:
      if (is("popularity")) return Key::popularity;
      if (is("album_type")) return Key::album_type;
      return Key::other;
    case 11:
      if (is("duration_ms")) return Key::duration_ms;
      if (is("disc_number")) return Key::disc_number;
      return Key::other;
    case 12:
      if (is("external_ids")) return Key::external_ids;
      if (is("track_number")) return Key::track_number;
      if (is("release_date")) return Key::release_date;
      if (is("total_tracks")) return Key::total_tracks;
      return Key::other;
    case 13: return is("external_urls") ? Key::external_urls : Key::other;
    case 22: return is("release_date_precision") ? Key::release_date_precision : Key::other;
    default: return Key::other;
  }
}

// Errors that only say "this value is not of that type": the item is
// malformed, the document is still fine.
inline bool value_type_error(error_code e) noexcept {
  return e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_ERROR || e == simdjson::NUMBER_OUT_OF_RANGE;
}

inline error_code type_of(od::value& v, JT& t) noexcept { return v.type().get(t); }

// After a typed read failed with a type error: null is fine (nullopt), anything else sets `bad`.
inline error_code null_or_bad(od::value& v, bool& bad) noexcept {
  bool null = false;
  ETL_SJ_TRY(v.is_null().get(null));
  if (!null) bad = true;
  return SUCCESS;
}

// String or null; any other type sets `bad`. The common case costs one call.
inline error_code read_string(od::value& v, Str& out, bool& bad) noexcept {
  std::string_view s;
  error_code e = v.get_string().get(s);
  if (e == SUCCESS) {
    out = s;
    return SUCCESS;
  }
  if (e != simdjson::INCORRECT_TYPE) return e;
  out.reset();
  return null_or_bad(v, bad);
}

// Integer or null; floats, other types and values outside INTEGER (when
// `int32`) set `bad`.
inline error_code read_int(od::value& v, std::optional<std::int64_t>& out, bool& bad, bool int32) noexcept {
  std::int64_t n = 0;
  if (error_code e = v.get_int64().get(n); e != SUCCESS) {
    if (!value_type_error(e)) return e;
    return null_or_bad(v, bad);
  }
  if (int32 && (n < std::numeric_limits<std::int32_t>::min() || n > std::numeric_limits<std::int32_t>::max())) {
    bad = true;
    return SUCCESS;
  }
  out = n;
  return SUCCESS;
}

inline error_code read_bool(od::value& v, std::optional<bool>& out, bool& bad) noexcept {
  bool b = false;
  if (error_code e = v.get_bool().get(b); e != SUCCESS) {
    if (e != simdjson::INCORRECT_TYPE) return e;
    return null_or_bad(v, bad);
  }
  out = b;
  return SUCCESS;
}

// {"spotify": "..."} (external_urls) or {"isrc": "..."} (external_ids), or null.
inline error_code read_member(od::value& v, Key member, Str& out, bool& bad) noexcept {
  od::object o;
  if (error_code e = v.get_object().get(o); e != SUCCESS) {
    if (e != simdjson::INCORRECT_TYPE) return e;
    return null_or_bad(v, bad);
  }
  for (auto fr : o) {
    od::field f;
    ETL_SJ_TRY(std::move(fr).get(f));
    if (key_id(f.key()) == member) ETL_SJ_TRY(read_string(f.value(), out, bad));
  }
  return SUCCESS;
}

inline bool is(const Str& s, std::string_view v) noexcept { return s && *s == v; }

}  // namespace etl::transformer::json
