// Reads one page of a raw object (a paging object, a full playlist, album or
// search response) into PageRefs: views of its items, in document order.
#pragma once

#include <string>

#include "json_fields.h"
#include "rows.h"

namespace etl::transformer::json {

enum class Shape { playlist_item, track, album };

// Reads one page into PageRefs. `shape_error` is set when the JSON is fine but
// the page is not what its source type says.
class Reader {
 public:
  explicit Reader(PageRefs& page) : page_(page) {}

  std::string shape_error;

  // A playlist-items paging object, or a full playlist object with its page
  // under `tracks` or `items`.
  error_code playlist_page(od::object o, bool top_level);

  // A full album object (first page of an album source) or a paging object of
  // its simplified tracks (later pages).
  error_code album_page(od::object o);

  // {"tracks": <paging of full tracks>} (a search response), or the paging itself.
  error_code search_page(od::object o);

  // {"items": [...], "next": ...}
  error_code paging(od::object o, Shape shape);

 private:
  error_code shape(std::string message);
  error_code items_field(od::value& v, Shape shape);
  error_code items(od::array a, Shape shape);
  static ItemKind classify_track(const ItemRef& it, bool bad, bool wrapper_local) noexcept;

  // The item's object: `found` only for an object; a null item is marked
  // null_item, any other value stays malformed.
  error_code item_object(od::value& v, ItemRef& item, od::object& o, bool& found);

  // {"added_at", "is_local", "track" | "item": {...}, ...}
  error_code playlist_item(od::value& v, ItemRef& item);

  // A track straight in the items array (search hits, album tracks).
  error_code direct_track(od::value& v, ItemRef& item);

  // A simplified album (artist-albums).
  error_code album_item(od::value& v, ItemRef& item);

  // A full or simplified track (no album in the simplified one).
  error_code track(od::object o, ItemRef& it, bool& bad);

  // A simplified or full album. On a page (album source) also its tracks.
  error_code album(od::object o, AlbumRef& al, bool& bad, bool page);

  // An array of simplified artists, appended to the page's pool.
  error_code artists(od::value& v, Range& range, bool& bad);

  PageRefs& page_;
};

}  // namespace etl::transformer::json
