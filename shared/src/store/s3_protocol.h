// The pure parts of talking to S3 over its REST API, kept apart from the store so
// they can be tested without a server: s3:// URLs, endpoints and addressing style,
// key encoding, which failures are worth a retry and what they mean to callers,
// and the date formats S3 answers with.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etl/config.h"
#include "etl/result.h"
#include "etl/s3_url.h"

namespace etl::s3 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // raw (unencoded)

// Where requests go. A custom endpoint (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL:
// MinIO, moto, ...) is addressed path-style: http://host:port/bucket/key. AWS itself
// is addressed virtual-hosted style, https://bucket.s3.<region>.amazonaws.com/key,
// except for bucket names that cannot be a TLS host label (dots, upper case, '_'),
// which go path-style to https://s3.<region>.amazonaws.com/bucket/key.
struct Endpoint {
  std::string scheme;     // "http" or "https"
  std::string host;       // host[:port] as sent in the Host header (default ports dropped)
  std::string base_path;  // a custom endpoint's own path ("" or "/base", no trailing '/')
  bool path_style = true;
  bool custom = false;  // from AWS_ENDPOINT_URL(_S3)
  std::string bucket;

  // The URI-encoded path of a key in the bucket ("" = the bucket itself).
  std::string path(std::string_view full_key) const;
  // scheme://host + path + ?query (encoded exactly as SigV4 canonicalises it).
  std::string url(std::string_view wire_path, const QueryParams& query) const;
  // scheme://host[/base], for messages (never holds credentials).
  std::string display() const;
};
Result<Endpoint> make_endpoint(const AwsConfig& aws, const std::string& bucket);

// A key as it goes into the request path: each segment URI-encoded, '/' kept.
std::string encode_key(std::string_view key);
// name=value&... with both sides URI-encoded ('/' too), as SigV4's canonical query.
std::string encode_query(const QueryParams& query);

// Whether a failed request is worth another attempt: 5xx, 429, and the codes S3
// uses for throttling and transient trouble (SlowDown, RequestTimeout, InternalError, ...).
bool is_retryable(int status, std::string_view code);
// What a final failure means to the caller: NoSuchKey / 404 -> not_found, credential
// trouble / 401 / 403 -> unauthorized, NoSuchBucket and 5xx -> unavailable, ...
Errc errc_for(int status, std::string_view code);
// Exponential backoff with jitter before attempt `attempt` + 1 (attempt >= 1):
// half of min(cap, base * 2^(attempt-1)) plus a random share (`unit` in [0,1)) of the other half.
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                                        double unit);

// RFC 1123 ("Sun, 06 Nov 1994 08:49:37 GMT"), as in Last-Modified and Date.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);
// ISO 8601 UTC ("2009-10-12T17:50:30.000Z"), as in listings.
std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text);
// "\"abc\"" -> "abc" (S3 quotes ETags; some servers use W/ weak tags).
std::string strip_etag_quotes(std::string_view etag);
// The part size for a multipart upload of `total` bytes: `wanted`, grown so that
// at most 10,000 parts are needed (S3's limit).
std::uint64_t part_size_for(std::uint64_t total, std::uint64_t wanted);
// Content-Type for a key's extension (.json, .jsonl, .csv, .parquet; else octet-stream).
std::string content_type_for(std::string_view key);

}  // namespace etl::s3
