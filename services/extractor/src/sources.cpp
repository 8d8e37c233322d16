#include "sources.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace etl::extractor {

Result<PageInfo> read_page(std::string_view body, std::string_view field) {
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return make_error(Errc::bad_data, "Spotify answered with a body that is not JSON");
  const nlohmann::json* paging = &json;
  if (!field.empty()) {
    auto it = json.find(std::string(field));
    if (it == json.end() || !it->is_object())
      return make_error(Errc::bad_data, "Spotify's answer has no '" + std::string(field) + "' paging object");
    paging = &*it;
  }
  if (!paging->is_object()) return make_error(Errc::bad_data, "Spotify's answer is not a JSON object");
  auto items = paging->find("items");
  if (items == paging->end() || !items->is_array())
    return make_error(Errc::bad_data, "Spotify's paging object has no items array");
  PageInfo info;
  info.items = static_cast<int>(items->size());
  if (auto next = paging->find("next"); next != paging->end() && next->is_string()) info.next = next->get<std::string>();
  return info;
}

namespace {

bool is_missing(const Error& e) { return e.code == Errc::not_found || e.code == Errc::forbidden; }

QueryParams with_market(QueryParams params, const FetchOptions& options) {
  if (!options.market.empty()) params.emplace_back("market", options.market);
  return params;
}

// Keeps the first page and follows `next` until it runs out (or `enough` items are in).
Status collect(SpotifyApi& api, FetchedSource& out, SpotifyResponse first, std::string_view field,
               std::string_view next_field, const FetchOptions& options, std::stop_token stop, int enough = 0) {
  auto info = read_page(first.body, field);
  if (!info) return std::move(info).error();
  out.pages.push_back(std::move(first.body));
  out.items += info->items;
  std::set<std::string> seen;
  std::string next = std::move(info->next);
  while (!next.empty() && (enough <= 0 || out.items < enough)) {
    if (!seen.insert(next).second)
      return make_error(Errc::bad_data, "Spotify's paging loops back to " + next);
    if (static_cast<int>(out.pages.size()) >= options.max_pages)
      return make_error(Errc::bad_data, "more than " + std::to_string(options.max_pages) + " pages; stopped following next");
    auto page = api.get(next, {}, stop);
    if (!page) return std::move(page).error();
    auto page_info = read_page(page->body, next_field);
    if (!page_info) return std::move(page_info).error();
    out.pages.push_back(std::move(page->body));
    out.items += page_info->items;
    next = std::move(page_info->next);
  }
  return {};
}

// Spotify's own editorial and algorithmic playlists (ids beginning 37i9dQZ: the
// Top 50 charts the original Lambda tutorials read, Today's Top Hits, Discover
// Weekly) answer 404 to apps created since 27 November 2024 without extended
// access. Spotify's message ("Resource not found") does not say so; this does.
Error explain_missing_playlist(Error e, const std::string& id) {
  if (id.starts_with("37i9dQZ"))
    e.message += " (a Spotify-owned editorial or algorithmic playlist: Spotify answers 404 for these to apps created "
                 "since 2024-11-27 without extended access; use a playlist a user made)";
  return e;
}

Result<FetchedSource> fetch_playlist(SpotifyApi& api, const std::string& id, const FetchOptions& options,
                                     std::stop_token stop) {
  FetchedSource out;
  out.endpoint = "/playlists/{id}/items";
  auto first = api.get("/playlists/" + id + "/items", with_market({{"limit", "50"}}, options), stop);
  if (!first && is_missing(first.error())) {
    // An API without the 2026 /items endpoint (or an app still on the classic one): try /tracks.
    auto classic = api.get("/playlists/" + id + "/tracks", with_market({{"limit", "100"}}, options), stop);
    if (!classic)
      return is_missing(classic.error()) ? explain_missing_playlist(std::move(first).error(), id) : std::move(classic).error();
    out.endpoint = "/playlists/{id}/tracks";
    first = std::move(classic);
  }
  if (!first) return std::move(first).error();
  ETL_RETURN_IF_ERROR(collect(api, out, std::move(first).value(), "", "", options, stop));
  return out;
}

Result<FetchedSource> fetch_album(SpotifyApi& api, const std::string& id, const FetchOptions& options,
                                  std::stop_token stop) {
  FetchedSource out;
  out.endpoint = "/albums/{id}";
  auto first = api.get("/albums/" + id, with_market({}, options), stop);
  if (!first) return std::move(first).error();
  // The album object carries its first track page under `tracks`; later pages are bare paging objects.
  ETL_RETURN_IF_ERROR(collect(api, out, std::move(first).value(), "tracks", "", options, stop));
  return out;
}

Result<FetchedSource> fetch_artist_albums(SpotifyApi& api, const std::string& id, const FetchOptions& options,
                                          std::stop_token stop) {
  FetchedSource out;
  out.endpoint = "/artists/{id}/albums";
  auto first = api.get("/artists/" + id + "/albums", with_market({{"limit", "50"}}, options), stop);
  if (!first) return std::move(first).error();
  ETL_RETURN_IF_ERROR(collect(api, out, std::move(first).value(), "", "", options, stop));
  return out;
}

Result<FetchedSource> fetch_search(SpotifyApi& api, const std::string& query, const FetchOptions& options,
                                   std::stop_token stop) {
  FetchedSource out;
  out.endpoint = "/search";
  const int cap = std::max(1, options.search_max_results);
  auto first = api.get("/search",
                       with_market({{"q", query}, {"type", "track"}, {"limit", std::to_string(std::min(10, cap))}}, options),
                       stop);
  if (!first) return std::move(first).error();
  ETL_RETURN_IF_ERROR(collect(api, out, std::move(first).value(), "tracks", "tracks", options, stop, cap));
  return out;
}

}  // namespace

Result<FetchedSource> fetch_source(SpotifyApi& api, const SourceSpec& source, const FetchOptions& options,
                                   std::stop_token stop) {
  ETL_RETURN_IF_ERROR(validate_source(source));
  switch (source.type) {
    case SourceType::playlist: return fetch_playlist(api, source.id, options, stop);
    case SourceType::album: return fetch_album(api, source.id, options, stop);
    case SourceType::artist_albums: return fetch_artist_albums(api, source.id, options, stop);
    case SourceType::search: break;
  }
  return fetch_search(api, source.id, options, stop);
}

}  // namespace etl::extractor
