// The HTTP base every service stands on (cpp-httplib underneath): thin handlers
// get a parsed Request and return a Response; `error_response` is the one place an
// Errc becomes an HTTP status and a problem+json body. Built in: /healthz,
// /readyz (named dependency checks), /metrics, /openapi.json, bearer-token
// auth on /v1/*, a request body limit (413), and a JSON access log line per request.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/config.h"
#include "etl/metrics.h"
#include "etl/result.h"

namespace etl::http {

struct Request {
  std::string method;
  std::string path;
  std::vector<std::string> params;                 // regex capture groups of the route, in order
  std::multimap<std::string, std::string> query;   // decoded query parameters
  std::multimap<std::string, std::string> headers; // as received (httplib compares names case-insensitively)
  std::string body;
  std::string remote_addr;                         // the peer's IP address (fair sharing between clients)

  std::optional<std::string> query_param(const std::string& name) const;
  std::string header(const std::string& name) const;  // "" when absent; case-insensitive
  bool accepts(std::string_view media_type) const;     // Accept header mentions it
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

int http_status(Errc code) noexcept;
Response json_response(int status, const nlohmann::json& body);
Response problem_response(int status, std::string_view title, std::string_view detail);
Response error_response(const Error& error);

// Parses the body as a JSON object; an empty body is an empty object. Malformed -> invalid_argument.
Result<nlohmann::json> parse_json_object(const Request& req);

using Handler = std::function<Response(const Request&)>;
using ReadinessCheck = std::function<Status()>;

struct ServerOptions {
  std::string service;                           // "extractor", written into logs and metrics
  HostPort address{"127.0.0.1", 0};              // port 0 picks a free one
  std::string api_token;                         // empty: no auth on /v1
  std::uint64_t max_body_bytes = 1u << 20;       // larger request bodies get 413
  std::chrono::seconds read_timeout{30};         // per-request socket read timeout
};

class Server final {
 public:
  Server(ServerOptions options, MetricsRegistry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `pattern` is an ECMAScript regex matched against the whole path, e.g. R"(/v1/runs/([^/]+))".
  void get(const std::string& pattern, Handler handler);
  void post(const std::string& pattern, Handler handler);
  void del(const std::string& pattern, Handler handler);

  void add_readiness_check(std::string name, ReadinessCheck check);
  void set_openapi(nlohmann::json document);

  // Binds and starts serving on a background thread. Fails when the address is taken.
  Status start();
  // Stops accepting, lets in-flight requests finish, joins. Idempotent.
  void stop();
  int port() const noexcept;
  std::string base_url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Starts an OpenAPI 3 document for a service; callers add their paths.
nlohmann::json openapi_document(std::string_view service, std::string_view description);

}  // namespace etl::http
