#include "raw_reader.h"

#include <algorithm>

#include "etl/dates.h"
#include "page_reader.h"
#include "etl/lake.h"
#include "rows.h"

namespace etl::transformer {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;
using json::key_of;
using json::Reader;
using json::Shape;

Error json_error(error_code e) {
  if (e == simdjson::MEMALLOC) return make_error(Errc::unavailable, "out of memory parsing the raw object");
  return make_error(Errc::bad_data, std::string("raw object is not valid JSON: ") + simdjson::error_message(e));
}

Error bad(std::string message) { return make_error(Errc::bad_data, std::move(message)); }

Error page_error(const Reader& reader, error_code e, std::size_t index) {
  if (!reader.shape_error.empty())
    return bad("page " + std::to_string(index) + " is not a page of its source: " + reader.shape_error);
  return json_error(e);
}

// An optional string member of the envelope: absent and null are both "".
Status envelope_string(od::object& root, std::string_view name, std::optional<std::string>& out) {
  od::value v;
  error_code e = root.find_field_unordered(name).get(v);
  if (e == simdjson::NO_SUCH_FIELD) return {};
  if (e != SUCCESS) return json_error(e);
  Str s;
  bool wrong = false;
  if (error_code re = json::read_string(v, s, wrong); re != SUCCESS) return json_error(re);
  if (wrong) return bad("envelope field `" + std::string(name) + "` is not a string");
  if (s) out = std::string(*s);
  return {};
}

Status set_time(TransformOutput& out, const std::optional<std::string>& text, const RawObjectName& name,
                const RawObjectMeta& meta) {
  std::optional<std::int64_t> t;
  if (text) {
    t = parse_timestamp(*text);
    if (!t) return bad("extracted_at '" + *text + "' is not an RFC 3339 time");
  } else if (name.extracted_at) {
    t = name.extracted_at;
  } else if (meta.last_modified) {
    t = std::chrono::duration_cast<std::chrono::microseconds>(meta.last_modified->time_since_epoch()).count();
  }
  if (!t) return bad("cannot tell when " + name.file_name + " was extracted: no extracted_at, no time in its name");
  out.extracted_at = *t;
  out.dt = format_date(date_of(*t));
  return {};
}

Status read_envelope(od::object& root, od::value& format, const RawObjectMeta& meta, TransformOutput& out) {
  std::string_view fmt;
  if (format.get_string().get(fmt) != SUCCESS || fmt != kEnvelopeFormat)
    return bad("unsupported raw object format (expected \"" + std::string(kEnvelopeFormat) + "\")");

  // Look-ups in the order the extractor writes the envelope (format, run_id,
  // source, extracted_at, api, pages) cost nothing; any other order works, at
  // the price of skipping over the pages once more.
  std::optional<std::string> run_id, extracted_at;
  ETL_RETURN_IF_ERROR(envelope_string(root, "run_id", run_id));
  od::object source;
  if (root.find_field_unordered("source").get_object().get(source) != SUCCESS)
    return bad("the envelope has no `source` object");
  for (auto fr : source) {
    od::field f;
    if (error_code e = std::move(fr).get(f); e != SUCCESS) return json_error(e);
    std::string_view k = key_of(f.key());
    std::string_view s;
    if ((k == "type" || k == "id") && f.value().get_string().get(s) != SUCCESS)
      return bad("envelope `source." + std::string(k) + "` is not a string");
    if (k == "type") out.source_type = std::string(s);
    else if (k == "id") out.source_id = std::string(s);
  }
  const auto type = parse_source_type(out.source_type);
  if (!type) return bad("unknown source type '" + out.source_type + "' (playlist, album, artist-albums or search)");
  const bool playlist = type == SourceType::playlist, album = type == SourceType::album;
  const bool artist_albums = type == SourceType::artist_albums, search = type == SourceType::search;

  ETL_RETURN_IF_ERROR(envelope_string(root, "extracted_at", extracted_at));
  out.run_id = run_id.value_or("");
  ETL_RETURN_IF_ERROR(set_time(out, extracted_at, parse_raw_object_name(meta.key), meta));

  od::array pages;
  if (root.find_field_unordered("pages").get_array().get(pages) != SUCCESS)
    return bad("the envelope has no `pages` array");

  RowBuilder rows(out);
  PageRefs page;
  AlbumRef source_album;  // its `artists` range is only valid on the first page
  std::size_t index = 0;
  for (auto pr : pages) {
    od::value pv;
    if (error_code e = std::move(pr).get(pv); e != SUCCESS) return json_error(e);
    od::object po;
    if (error_code e = pv.get_object().get(po); e != SUCCESS)
      return e == simdjson::INCORRECT_TYPE ? bad("page " + std::to_string(index) + " is not an object") : json_error(e);
    page.clear();
    Reader reader(page);
    error_code e = SUCCESS;
    if (playlist) e = reader.playlist_page(po, true);
    else if (album) e = reader.album_page(po);
    else if (artist_albums) e = reader.paging(po, Shape::album);
    else e = reader.search_page(po);
    if (e != SUCCESS) return page_error(reader, e, index);
    if (!page.saw_items) return bad("page " + std::to_string(index) + " has no items array");

    if (playlist || search) {
      rows.add_track_page(page, nullptr, playlist);
    } else if (artist_albums) {
      rows.add_album_page(page);
    } else {
      if (index == 0 && page.album.present) {
        source_album = page.album;
        rows.add_album(source_album, page.artists);
      }
      rows.add_track_page(page, &source_album, false);
    }
    ++index;
  }
  return {};
}

// The original Lambda pipelines' files: a playlist-items paging object or a full playlist object.
Status read_legacy(od::object& root, const RawObjectMeta& meta, TransformOutput& out) {
  if (error_code e = root.reset().error(); e != SUCCESS) return json_error(e);
  PageRefs page;
  Reader reader(page);
  if (error_code e = reader.playlist_page(root, true); e != SUCCESS) return page_error(reader, e, 0);
  if (!page.saw_items)
    return bad("not a raw object: no \"format\":\"" + std::string(kEnvelopeFormat) +
               "\" envelope and no playlist items (`items`, `tracks.items` or `items.items`)");
  RawObjectName name = parse_raw_object_name(meta.key);
  out.source_type = to_string(SourceType::playlist);
  if (page.playlist_id) out.source_id = std::string(*page.playlist_id);
  else out.source_id = name.source_id.empty() ? name.stem : name.source_id;
  out.run_id = name.run_id;
  ETL_RETURN_IF_ERROR(set_time(out, std::nullopt, name, meta));
  RowBuilder rows(out);
  rows.add_track_page(page, nullptr, true);
  return {};
}

// Well-formed JSON, at any depth (deep values are skipped iteratively by the walk:
// a 100,000-deep item is a malformed item, not a bad object). The parser's
// buffers grow with the largest object a thread has seen; objects over 8 MiB
// get a parser of their own, freed at once.
Status validate(simdjson::padded_string_view json) {
  constexpr std::size_t kKeptUpTo = 8u << 20;
  thread_local simdjson::dom::parser kept;
  simdjson::dom::parser own;
  simdjson::dom::parser& parser = json.length() > kKeptUpTo ? own : kept;
  const std::size_t depth = std::max(json.length() / 2 + 2, parser.max_depth());
  if (parser.capacity() < json.length() || parser.max_depth() < depth)
    if (error_code e = parser.allocate(std::max(json.length(), parser.capacity()), depth); e != SUCCESS)
      return json_error(e);
  simdjson::dom::element checked;
  if (error_code e = parser.parse(json.data(), json.length(), false).get(checked); e != SUCCESS) return json_error(e);
  return {};
}

}  // namespace

Status read_raw_object(od::parser& parser, simdjson::padded_string_view json, const RawObjectMeta& meta,
                       TransformOutput& out) {
  // On-demand parsing checks the document only where it walks, and simdjson 3.0.1
  // reaches undefined behaviour (an assumed-present value) on some malformed
  // objects once a walk has gone past the fault (tests/fuzz/corpus/envelope/
  // source-not-closed.json). So the whole document is validated first, by the
  // DOM parser: a few hundred MB/s more of work, against a crash on hostile input.
  ETL_RETURN_IF_ERROR(validate(json));
  od::document doc;
  if (error_code e = parser.iterate(json).get(doc); e != SUCCESS) return json_error(e);
  od::object root;
  if (error_code e = doc.get_object().get(root); e != SUCCESS)
    return e == simdjson::INCORRECT_TYPE ? bad("raw object is not a JSON object") : json_error(e);
  od::value format;
  error_code e = root.find_field_unordered("format").get(format);
  if (e == simdjson::NO_SUCH_FIELD) return read_legacy(root, meta, out);
  if (e != SUCCESS) return json_error(e);
  return read_envelope(root, format, meta, out);
}

}  // namespace etl::transformer