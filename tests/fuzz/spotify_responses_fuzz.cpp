// What the extractor reads from the Spotify Web API and its token endpoint, on
// arbitrary bytes: a page's paging fields, a token answer, a Retry-After header
// and an error body. Each is a value or a bad_data error, never a crash, an
// exception or an overflowing time point.
#include <cstdlib>

#include "http_spotify_api.h"
#include "sources.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono_literals;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (std::string_view field : {"", "tracks", "albums"}) {
    auto page = etl::extractor::read_page(body, field);
    if (page && page->items < 0) std::abort();
  }
  const auto issued = std::chrono::steady_clock::time_point{} + 1000h;
  if (auto token = etl::spotify::parse_token_response(body, issued, 60s)) {
    if (token->value.empty() || token->refresh_at < issued ||
        token->refresh_at > issued + etl::spotify::kMaxTokenLifetime)
      std::abort();
  }
  auto retry_after = etl::spotify::parse_retry_after(body);
  if (retry_after && *retry_after < 0s) std::abort();
  auto decision = etl::spotify::decide_on_429(retry_after, body, 60s, 1s);
  if (decision.action == etl::spotify::RateLimitDecision::Action::wait && (decision.wait < 0ms || decision.wait > 60s))
    std::abort();
  (void)etl::spotify::error_message(body);
  return 0;
}
