// AWS Signature Version 4 (header-based), for S3 / MinIO, Glue and Athena
// requests sent with libcurl. Pure functions over strings; OpenSSL does the
// SHA-256 and HMAC.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace etl {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

struct SigningRequest {
  std::string method;  // "GET", "PUT", "POST", ...
  std::string host;    // host[:port] exactly as sent in the Host header
  // The path as sent on the wire, already URI-encoded ("/bucket/a%20b.json").
  // Empty means "/".
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;  // raw (unencoded) name/value pairs
  // Extra headers to sign (content-type, x-amz-target, range, ...); names in any
  // case, repeated names allowed (joined with ',' in order). Any host,
  // x-amz-date, x-amz-security-token or authorization given here is ignored
  // (x-amz-content-sha256 too when the signer adds it): those come from
  // `host`, the clock, the credentials and `payload_sha256`.
  HeaderList headers;
  std::string payload_sha256;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// Every intermediate of one signature, so tests can hold each step against
// AWS's published vectors. `signing_key_hex` is secret material: never log it.
struct Sigv4Steps {
  std::string amz_date;           // "20150830T123600Z"
  std::string credential_scope;   // "20150830/us-east-1/service/aws4_request"
  std::string canonical_request;
  std::string signed_headers;     // "host;x-amz-date"
  std::string string_to_sign;
  std::string signing_key_hex;
  std::string signature;
  HeaderList headers_to_add;      // what sigv4_sign returns
};

// Computes the signature. The host header is always signed, as are
// x-amz-date, x-amz-security-token (when a session token is set) and
// x-amz-content-sha256 (when `s3_content_sha_header`).
// Throws std::runtime_error only if OpenSSL itself fails (a broken install).
//
// Canonical URI. For service "s3" the wire path is used as is: the caller has
// already encoded the key once, and S3 neither normalises nor re-encodes (keys
// may legitimately hold "//" or "/./"). For every other service the path is
// normalised (empty and "." segments dropped, ".." resolved, a trailing slash
// kept) and then URI-encoded once more, '/' kept, as AWS's SigV4 test suite
// and SDKs do; "/example%20space" becomes "/example%2520space". Glue and
// Athena post to "/", where the two rules agree.
Sigv4Steps sigv4_steps(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                       std::string_view service, std::chrono::system_clock::time_point now,
                       bool s3_content_sha_header);

// The headers to add to the request: Authorization, X-Amz-Date,
// X-Amz-Content-Sha256 (only when `s3_content_sha_header`) and
// X-Amz-Security-Token (only with a session token). The caller sends the
// request's own headers (those in `request.headers`) and a Host header equal
// to `request.host`.
HeaderList sigv4_sign(const SigningRequest& request, const AwsCredentials& credentials, std::string_view region,
                      std::string_view service, std::chrono::system_clock::time_point now,
                      bool s3_content_sha_header);

// Building blocks, exposed for the S3 and Glue/Athena adapters and for tests.

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Lower-case hex MD5 of `data` (what S3 puts in a single-part ETag; not for security).
std::string md5_hex(std::string_view data);
// Base64 of the binary MD5 of `data`: a Content-MD5 header's value.
std::string md5_base64(std::string_view data);
// Raw 32-byte HMAC-SHA256.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hex_encode(std::string_view bytes);
// RFC 3986: A-Z a-z 0-9 - . _ ~ kept, '/' kept unless `encode_slash`, every
// other byte (UTF-8 included) as %XX with upper-case hex. Spaces become %20.
std::string uri_encode(std::string_view s, bool encode_slash);
// kSigning = HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request"; raw bytes.
std::string sigv4_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                              std::string_view service);
// "/a/./b/../c//" -> "/a/c/". Used for non-S3 services only.
std::string normalize_uri_path(std::string_view path);
// name=value pairs encoded with uri_encode(.., true), sorted by encoded name then value, joined by '&'.
std::string canonical_query_string(const std::vector<std::pair<std::string, std::string>>& query);
// "20150830T123600Z" (UTC, whole seconds).
std::string amz_date(std::chrono::system_clock::time_point now);

}  // namespace etl
