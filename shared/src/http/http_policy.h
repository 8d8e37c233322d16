// The request rules of the HTTP base as pure functions (unit-tested on their
// own): bearer tokens, Host names against DNS rebinding, JSON bodies, methods.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace etl::http::policy {

// "Bearer <token>" with the scheme in any case (RFC 9110 11.1); the token is
// compared in constant time (digests of both, CRYPTO_memcmp).
bool bearer_matches(std::string_view authorization, std::string_view token);

// The Host header's name without the port, lower-cased ("[::1]:8083" -> "::1").
std::string host_name(std::string_view host_header);

// Whether a loopback-bound listener accepts this Host header: localhost,
// 127.0.0.1, ::1, the bound address and the configured extra names. A request
// without Host (HTTP/1.0 tools) is accepted: browsers always send it.
bool host_allowed(std::string_view host_header, std::string_view bound_host, const std::vector<std::string>& extra);

// application/json, with or without parameters, any case.
bool is_json_media_type(std::string_view content_type);

// A JSON endpoint's body check: a body (or a browser, which sends Origin)
// must be declared application/json. An empty request without Content-Type
// is accepted (`curl -X POST`), so is one with Content-Type application/json.
bool json_body_acceptable(std::string_view content_type, bool has_body, bool has_origin);

// Responses smaller than this go uncompressed: compressing them saves nothing
// worth the CPU.
inline constexpr std::size_t kCompressMinBytes = 1024;

// The Accept-Encoding to let httplib see for a response of `body_bytes`: "gzip"
// when the body is worth compressing and the client's header accepts gzip (by
// name or `*`, not with q=0), else "" (sent uncompressed). Never "br": httplib
// compresses brotli at quality 11, about 1 ms of CPU for a 1 KiB query status,
// more than the rest of a cached query (bench/README.md, query_benchmark).
std::string response_encoding(std::string_view accept_encoding, std::size_t body_bytes);

// Methods this server knows (RFC 9110 section 9, PATCH, QUERY); anything else is 501.
bool is_known_method(std::string_view method);

}  // namespace etl::http::policy
