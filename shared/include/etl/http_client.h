// An HTTP client on libcurl for the outbound calls (Spotify, S3, Glue, Athena,
// the CLI). Thread-safe; easy handles are pooled so connections (and TLS
// sessions) are reused across calls. Transport failures are values:
// unavailable (refused, reset, DNS) or timeout. HTTP error statuses are not
// errors here: the caller reads `status`.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "etl/result.h"

namespace etl::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};       // whole request
  // And this much more per KiB of the body the response declares (Content-Length),
  // up to what `max_response_bytes` would take when it declares none. 0: none.
  std::chrono::milliseconds timeout_per_kib{0};
  // Larger bodies -> too_large: refused at the headers when the response declares
  // its length (nothing of the body read), else once the bytes pass it.
  std::uint64_t max_response_bytes = 1ull << 30;
  std::stop_token stop = {};  // a stop request ends the call within about a second (cancelled)
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent; name case-insensitive
};

class Client final {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<ClientResponse> send(const ClientRequest& request);

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

// Percent-encodes for a query component (RFC 3986 unreserved kept).
std::string url_encode(std::string_view s);
// Decodes %XX, and '+' as a space when `plus_is_space` (form and S3-event encoding).
std::string url_decode(std::string_view s, bool plus_is_space);
// "a=1&b=x%20y" from pairs.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace etl::http
