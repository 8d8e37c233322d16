#include "page_reader.h"

namespace etl::transformer::json {

error_code Reader::playlist_page(od::object o, bool top_level) {
  for (auto fr : o) {
    od::field f;
    ETL_SJ_TRY(std::move(fr).get(f));
    std::string_view k = key_of(f.key());
    if (k == "items" || k == "tracks") {
      JT t;
      ETL_SJ_TRY(type_of(f.value(), t));
      if (page_.saw_items || t == JT::null) continue;  // one page per object: a second copy is ignored
      if (t == JT::array && k == "items") {
        od::array a;
        ETL_SJ_TRY(f.value().get_array().get(a));
        ETL_SJ_TRY(items(a, Shape::playlist_item));
      } else if (t == JT::object && top_level) {
        od::object inner;
        ETL_SJ_TRY(f.value().get_object().get(inner));
        ETL_SJ_TRY(playlist_page(inner, false));
      } else {
        return shape("`" + std::string(k) + "` is neither an items array nor a paging object");
      }
    } else if (k == "id" && top_level) {
      bool bad = false;
      ETL_SJ_TRY(read_string(f.value(), page_.playlist_id, bad));
    }
  }
  return SUCCESS;
}

error_code Reader::album_page(od::object o) {
  bool bad = false;
  ETL_SJ_TRY(album(o, page_.album, bad, /*page=*/true));
  if (bad) return shape("the album object has fields of the wrong type");
  page_.album.present = page_.album.id.has_value();
  return SUCCESS;
}

error_code Reader::search_page(od::object o) {
  for (auto fr : o) {
    od::field f;
    ETL_SJ_TRY(std::move(fr).get(f));
    std::string_view k = key_of(f.key());
    if (k == "tracks") {
      od::object inner;
      if (f.value().get_object().get(inner) != SUCCESS) return shape("`tracks` is not a paging object");
      ETL_SJ_TRY(paging(inner, Shape::track));
    } else if (k == "items") {
      ETL_SJ_TRY(items_field(f.value(), Shape::track));
    }
  }
  return SUCCESS;
}

error_code Reader::paging(od::object o, Shape shape) {
  for (auto fr : o) {
    od::field f;
    ETL_SJ_TRY(std::move(fr).get(f));
    if (key_of(f.key()) == "items") ETL_SJ_TRY(items_field(f.value(), shape));
  }
  return SUCCESS;
}

error_code Reader::shape(std::string message) {
  shape_error = std::move(message);
  return simdjson::INCORRECT_TYPE;
}

error_code Reader::items_field(od::value& v, Shape shape) {
  JT t;
  ETL_SJ_TRY(type_of(v, t));
  if (t == JT::null || page_.saw_items) return SUCCESS;
  if (t != JT::array) return this->shape("`items` is not an array");
  od::array a;
  ETL_SJ_TRY(v.get_array().get(a));
  return items(a, shape);
}

error_code Reader::items(od::array a, Shape shape) {
  page_.saw_items = true;
  for (auto vr : a) {
    od::value v;
    ETL_SJ_TRY(std::move(vr).get(v));
    ItemRef& item = page_.items.emplace_back();
    switch (shape) {
      case Shape::playlist_item: ETL_SJ_TRY(playlist_item(v, item)); break;
      case Shape::track: ETL_SJ_TRY(direct_track(v, item)); break;
      case Shape::album: ETL_SJ_TRY(album_item(v, item)); break;
    }
  }
  return SUCCESS;
}

ItemKind Reader::classify_track(const ItemRef& it, bool bad, bool wrapper_local) noexcept {
  if (wrapper_local || it.is_local.value_or(false)) return ItemKind::local;
  if (is(it.type, "episode")) return ItemKind::episode;
  if (bad || !is(it.type, "track") || !it.id) return ItemKind::malformed;
  return ItemKind::row;
}

error_code Reader::item_object(od::value& v, ItemRef& item, od::object& o, bool& found) {
  found = false;
  JT t;
  ETL_SJ_TRY(type_of(v, t));
  if (t == JT::null) {
    item.kind = ItemKind::null_item;
    return SUCCESS;
  }
  if (t != JT::object) return SUCCESS;  // malformed
  ETL_SJ_TRY(v.get_object().get(o));
  found = true;
  return SUCCESS;
}

error_code Reader::playlist_item(od::value& v, ItemRef& item) {
  od::object o;
  bool found = false;
  ETL_SJ_TRY(item_object(v, item, o, found));
  if (!found) return SUCCESS;
  bool bad = false, have_track = false;
  std::optional<bool> wrapper_local;
  for (auto fr : o) {
    od::field f;
    ETL_SJ_TRY(std::move(fr).get(f));
    const Key k = key_id(f.key());
    if (k == Key::added_at) {
      ETL_SJ_TRY(read_string(f.value(), item.added_at, bad));
    } else if (k == Key::is_local) {
      ETL_SJ_TRY(read_bool(f.value(), wrapper_local, bad));
    } else if ((k == Key::track || k == Key::item) && !have_track) {
      JT tt;
      ETL_SJ_TRY(type_of(f.value(), tt));
      if (tt == JT::null) continue;
      if (tt != JT::object) {
        bad = true;
        continue;
      }
      have_track = true;
      od::object track_object;
      ETL_SJ_TRY(f.value().get_object().get(track_object));
      ETL_SJ_TRY(track(track_object, item, bad));
    }
  }
  if (!have_track) item.kind = bad ? ItemKind::malformed : ItemKind::null_item;
  else item.kind = classify_track(item, bad, wrapper_local.value_or(false));
  return SUCCESS;
}

error_code Reader::direct_track(od::value& v, ItemRef& item) {
  od::object o;
  bool found = false;
  ETL_SJ_TRY(item_object(v, item, o, found));
  if (!found) return SUCCESS;
  bool bad = false;
  ETL_SJ_TRY(track(o, item, bad));
  item.kind = classify_track(item, bad, false);
  return SUCCESS;
}

error_code Reader::album_item(od::value& v, ItemRef& item) {
  od::object o;
  bool found = false;
  ETL_SJ_TRY(item_object(v, item, o, found));
  if (!found) return SUCCESS;
  bool bad = false;
  ETL_SJ_TRY(album(o, item.album, bad, /*page=*/false));
  item.album.present = true;
  item.kind = !bad && is(item.album.type, "album") && item.album.id ? ItemKind::row : ItemKind::malformed;
  return SUCCESS;
}

error_code Reader::track(od::object o, ItemRef& it, bool& bad) {
  for (auto fr : o) {
    od::field f;
    ETL_SJ_TRY(std::move(fr).get(f));
    od::value& v = f.value();
    // Spotify sends keys in alphabetical order; any order works.
    switch (key_id(f.key())) {
      case Key::album: {
        od::object a;
        error_code e = v.get_object().get(a);
        if (e == SUCCESS) {
          ETL_SJ_TRY(album(a, it.album, bad, /*page=*/false));
          it.album.present = true;
        } else if (e == simdjson::INCORRECT_TYPE) {
          ETL_SJ_TRY(null_or_bad(v, bad));
        } else {
          return e;
        }
        break;
      }
      case Key::artists: ETL_SJ_TRY(artists(v, it.artists, bad)); break;
      case Key::disc_number: ETL_SJ_TRY(read_int(v, it.disc_number, bad, true)); break;
      case Key::duration_ms: ETL_SJ_TRY(read_int(v, it.duration_ms, bad, false)); break;
      case Key::explicit_: ETL_SJ_TRY(read_bool(v, it.explicit_, bad)); break;
      case Key::external_ids: ETL_SJ_TRY(read_member(v, Key::isrc, it.isrc, bad)); break;
      case Key::external_urls: ETL_SJ_TRY(read_member(v, Key::spotify, it.url, bad)); break;
      case Key::id: ETL_SJ_TRY(read_string(v, it.id, bad)); break;
      case Key::is_local: ETL_SJ_TRY(read_bool(v, it.is_local, bad)); break;
      case Key::name: ETL_SJ_TRY(read_string(v, it.name, bad)); break;
      case Key::popularity: ETL_SJ_TRY(read_int(v, it.popularity, bad, true)); break;
      case Key::track_number: ETL_SJ_TRY(read_int(v, it.track_number, bad, true)); break;
      case Key::type: ETL_SJ_TRY(read_string(v, it.type, bad)); break;
      default: break;  // skipped unread: available_markets, href, uri, ...
    }
  }
  return SUCCESS;
}

error_code Reader::album(od::object o, AlbumRef& al, bool& bad, bool page) {
  for (auto fr : o) {
    od::field f;
    ETL_SJ_TRY(std::move(fr).get(f));
    od::value& v = f.value();
    switch (key_id(f.key())) {
      case Key::album_type: ETL_SJ_TRY(read_string(v, al.album_type, bad)); break;
      case Key::artists: ETL_SJ_TRY(artists(v, al.artists, bad)); break;
      case Key::external_urls: ETL_SJ_TRY(read_member(v, Key::spotify, al.url, bad)); break;
      case Key::id: ETL_SJ_TRY(read_string(v, al.id, bad)); break;
      case Key::name: ETL_SJ_TRY(read_string(v, al.name, bad)); break;
      case Key::release_date: ETL_SJ_TRY(read_string(v, al.release_date, bad)); break;
      case Key::release_date_precision: ETL_SJ_TRY(read_string(v, al.precision, bad)); break;
      case Key::total_tracks: ETL_SJ_TRY(read_int(v, al.total_tracks, bad, true)); break;
      case Key::type: ETL_SJ_TRY(read_string(v, al.type, bad)); break;
      case Key::tracks:
        if (page) {
          od::object inner;
          if (v.get_object().get(inner) != SUCCESS) return shape("the album's `tracks` is not a paging object");
          ETL_SJ_TRY(paging(inner, Shape::track));
        }
        break;
      case Key::items:
        if (page) ETL_SJ_TRY(items_field(v, Shape::track));
        break;
      default: break;
    }
  }
  return SUCCESS;
}

error_code Reader::artists(od::value& v, Range& range, bool& bad) {
  JT t;
  ETL_SJ_TRY(type_of(v, t));
  if (t == JT::null) return SUCCESS;
  if (t != JT::array) {
    bad = true;
    return SUCCESS;
  }
  od::array a;
  ETL_SJ_TRY(v.get_array().get(a));
  range.begin = static_cast<std::uint32_t>(page_.artists.size());
  for (auto er : a) {
    od::value e;
    ETL_SJ_TRY(std::move(er).get(e));
    JT et;
    ETL_SJ_TRY(type_of(e, et));
    if (et == JT::null) continue;
    if (et != JT::object) {
      bad = true;
      continue;
    }
    od::object o;
    ETL_SJ_TRY(e.get_object().get(o));
    ArtistRef artist;
    for (auto fr : o) {
      od::field f;
      ETL_SJ_TRY(std::move(fr).get(f));
      switch (key_id(f.key())) {
        case Key::external_urls: ETL_SJ_TRY(read_member(f.value(), Key::spotify, artist.url, bad)); break;
        case Key::id: ETL_SJ_TRY(read_string(f.value(), artist.id, bad)); break;
        case Key::name: ETL_SJ_TRY(read_string(f.value(), artist.name, bad)); break;
        case Key::uri: ETL_SJ_TRY(read_string(f.value(), artist.uri, bad)); break;
        default: break;
      }
    }
    page_.artists.push_back(artist);
  }
  range.end = static_cast<std::uint32_t>(page_.artists.size());
  return SUCCESS;
}

}  // namespace etl::transformer::json
