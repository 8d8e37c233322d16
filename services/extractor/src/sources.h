// How each kind of source is read from the Web API: which endpoint, which
// paging. Pages are kept verbatim; only `next` and the item count are read.
#pragma once

#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "etl/config.h"
#include "etl/result.h"
#include "etl/spotify.h"

namespace etl::extractor {

struct FetchOptions {
  std::string market;            // market= on the first request; empty: none
  int search_max_results = 200;  // a search stops following `next` once it has this many
  int max_pages = 5000;          // a runaway `next` chain is cut (bad_data), never followed forever
};

struct FetchedSource {
  std::vector<std::string> pages;  // response bodies, verbatim, in order
  int items = 0;                   // items across the pages (tracks, playlist items, albums)
  std::string endpoint;            // the first endpoint, with {id}: "/playlists/{id}/items"
};

// The paging facts of one page.
struct PageInfo {
  int items = 0;
  std::string next;  // empty at the end
};
// Reads `items` and `next` at the top level (`field` empty) or under `field`
// ("tracks" for an album object or a search answer). bad_data when the body is
// not JSON or the paging object is missing.
Result<PageInfo> read_page(std::string_view body, std::string_view field = {});

// Fetches every page of one source:
//   playlist:      /playlists/{id}/items?limit=50, or /playlists/{id}/tracks?limit=100
//                  when /items answers 404/403 (an API without the 2026 endpoint)
//   album:         /albums/{id}, then its `tracks.next` pages
//   artist-albums: /artists/{id}/albums?limit=50
//   search:        /search?q=..&type=track&limit=10, `tracks.next` up to the cap
// Errors are the SpotifyApi's (the first failing call); a failure anywhere fails the
// whole source, so no partial source is ever landed.
Result<FetchedSource> fetch_source(SpotifyApi& api, const SourceSpec& source, const FetchOptions& options,
                                   std::stop_token stop = {});

}  // namespace etl::extractor
