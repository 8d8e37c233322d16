#include "http_policy.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "etl/ascii.h"
#include "etl/config.h"
#include "etl/sigv4.h"

namespace etl::http::policy {

bool bearer_matches(std::string_view authorization, std::string_view token) {
  authorization = trim_blanks(authorization);
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() || ascii_lower(authorization.substr(0, scheme.size())) != scheme) return false;
  std::string_view rest = authorization.substr(scheme.size());
  if (rest.front() != ' ') return false;
  rest = trim_blanks(rest);
  if (rest.empty() || token.empty()) return false;
  // Digests have one length whatever the input: the comparison reveals neither
  // the token's bytes nor its length.
  const std::string got = sha256_hex(rest), expected = sha256_hex(token);
  return CRYPTO_memcmp(got.data(), expected.data(), got.size()) == 0;
}

std::string host_name(std::string_view host_header) {
  host_header = trim_blanks(host_header);
  if (!host_header.empty() && host_header.front() == '[') {
    auto close = host_header.find(']');
    return close == std::string_view::npos ? ascii_lower(host_header) : ascii_lower(host_header.substr(1, close - 1));
  }
  auto colon = host_header.find(':');
  if (colon != std::string_view::npos && host_header.find(':', colon + 1) == std::string_view::npos)
    host_header = host_header.substr(0, colon);
  return ascii_lower(host_header);
}

bool host_allowed(std::string_view host_header, std::string_view bound_host, const std::vector<std::string>& extra) {
  if (trim_blanks(host_header).empty()) return true;
  const std::string name = host_name(host_header);
  if (name == "localhost" || name == "127.0.0.1" || name == "::1" || name == ascii_lower(bound_host)) return true;
  return std::any_of(extra.begin(), extra.end(), [&](const std::string& e) { return host_name(e) == name; });
}

bool is_json_media_type(std::string_view content_type) {
  auto semicolon = content_type.find(';');
  return ascii_lower(trim_blanks(content_type.substr(0, semicolon))) == "application/json";
}

bool json_body_acceptable(std::string_view content_type, bool has_body, bool has_origin) {
  if (is_json_media_type(content_type)) return true;
  // No body: nothing to misread, whatever the client's library labels it (libcurl
  // says form-urlencoded for an empty POST), unless a browser sent it (Origin):
  // an empty cross-site form POST must not start a run.
  return !has_body && !has_origin;
}

bool is_known_method(std::string_view method) {
  // QUERY: the safe method with a body (IETF httpbis), which clients and
  // Schemathesis send; no resource here supports it (405).
  static constexpr std::array<std::string_view, 10> known = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                                             "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"};
  return std::find(known.begin(), known.end(), method) != known.end();
}

std::string response_encoding(std::string_view accept_encoding, std::size_t body_bytes) {
  if (body_bytes < kCompressMinBytes) return "";
  bool gzip = false, star = false, gzip_refused = false;
  while (!accept_encoding.empty()) {
    std::size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size() : comma + 1);
    std::size_t semicolon = item.find(';');
    std::string name = ascii_lower(trim_blanks(item.substr(0, semicolon)));
    bool refused = false;
    if (semicolon != std::string_view::npos) {
      std::string param = ascii_lower(trim_blanks(item.substr(semicolon + 1)));
      param.erase(std::remove(param.begin(), param.end(), ' '), param.end());
      // q=0, q=0.0, q=0.00, q=0.000 (RFC 9110 12.4.2): "not acceptable"
      refused = param.rfind("q=0", 0) == 0 && param.find_first_not_of("0.", 2) == std::string::npos;
    }
    if (name == "gzip" || name == "x-gzip") (refused ? gzip_refused : gzip) = true;
    if (name == "*" && !refused) star = true;
  }
  return (gzip || (star && !gzip_refused)) ? "gzip" : "";
}

}  // namespace etl::http::policy
