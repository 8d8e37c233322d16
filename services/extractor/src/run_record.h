// A run of the extractor and what it did per source: the record the API returns
// and the one persisted as `runs/<run_id>.json` in the raw store (same JSON).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/config.h"
#include "etl/result.h"

namespace etl::extractor {

enum class RunStatus { queued, running, succeeded, partial, failed };
enum class SourceStatus { queued, running, succeeded, failed };

const char* to_string(RunStatus s) noexcept;
const char* to_string(SourceStatus s) noexcept;
std::optional<RunStatus> parse_run_status(std::string_view s) noexcept;
std::optional<SourceStatus> parse_source_status(std::string_view s) noexcept;
// queued and running are in progress; the others are final.
bool is_final(RunStatus s) noexcept;

struct SourceRecord {
  std::string type;        // playlist | album | artist-albums | search
  std::string id;          // the Spotify id, or for search the slugged query (as in the object key)
  std::string query;       // search only: the query as given
  SourceStatus status = SourceStatus::queued;
  int pages = 0;
  int items = 0;
  std::string object_key;  // the landed raw object; empty until then
  std::string endpoint;    // the Web API endpoint used ("/playlists/{id}/items")
  std::string error;       // why it failed, or a warning (event not published); empty when none

  bool operator==(const SourceRecord&) const = default;
};

struct RunRecord {
  std::string run_id;
  RunStatus status = RunStatus::queued;
  std::string trigger = "api";  // api | schedule
  std::string market;           // the market= used; empty when none
  std::string created_at;       // RFC 3339 UTC
  std::string started_at;       // empty until it starts (null in JSON)
  std::string finished_at;      // empty until it ends (null in JSON)
  std::string error;            // run-level reason (interrupted, quota); empty when none
  std::vector<SourceRecord> sources;

  bool operator==(const RunRecord&) const = default;
};

nlohmann::json to_json(const RunRecord& run);
// bad_data when a field is missing or of the wrong type.
Result<RunRecord> run_record_from_json(const nlohmann::json& json);

// What POST /v1/runs (or the scheduler, or the CLI) asks for.
struct RunRequest {
  std::vector<SourceSpec> sources;  // empty: the configured ETL_SOURCES
  std::string market;               // empty: SPOTIFY_MARKET
  std::string trigger = "api";
};

inline constexpr std::size_t kMaxSourcesPerRun = 100;

// Parses a POST /v1/runs body (already a JSON object): `sources` is an array of
// {"type","id"} or {"type":"search","query"}; `market` a 2-letter code. Unknown
// fields are ignored. invalid_argument names the offending field.
Result<RunRequest> parse_run_request(const nlohmann::json& body);
// Every source valid (ids base62, queries non-empty), none twice (two sources
// landing under the same key), at most kMaxSourcesPerRun, market well formed.
Status validate_run_request(const RunRequest& request);


}  // namespace etl::extractor
