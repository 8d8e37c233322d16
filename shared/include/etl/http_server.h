// The HTTP base every service stands on (cpp-httplib underneath): thin handlers
// get a parsed Request and return a Response; `error_response` is the one place an
// Errc becomes an HTTP status and a problem+json body. Built in: /healthz,
// /readyz (named dependency checks), /metrics, /openapi.json, bearer-token
// auth on /v1/* (and any further prefixes a service names), and a JSON access log line per request. Hostile clients:
// a body limit that holds for chunked and compressed bodies (413), a deadline
// for a request's headers and body, a thread per connection up to a bound (so
// probes never queue behind slow queries), 405 + Allow / 501 for methods, 415
// for non-JSON bodies, and a Host check on loopback listeners (DNS rebinding).
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
  std::string method;                              // as sent: a HEAD request runs its GET route with "HEAD" here
  std::string path;
  std::vector<std::string> params;                 // regex capture groups of the route, in order
  std::multimap<std::string, std::string> query;   // decoded query parameters
  std::multimap<std::string, std::string> headers; // as sent: values not decoded, without the whitespace around them
  std::string body;
  std::string remote_addr;                         // the peer's IP address (fair sharing between clients)
  int connection = -1;                             // the connection's socket while the request is answered; -1: none

  std::optional<std::string> query_param(const std::string& name) const;
  std::string header(const std::string& name) const;  // "" when absent; case-insensitive
  // How much the Accept header wants `media_type` (RFC 9110 12.5.1): the q of
  // its most specific matching range (type/subtype, type/*, */*), 1 when
  // there is no Accept header, 0 when nothing matches or q=0.
  double quality(std::string_view media_type) const;
  // Whether the client has closed its end of the connection (its FIN, or a
  // reset, has arrived), for a handler that waits: nobody will read the answer.
  // HTTP clients do not half-close in practice, so, as nginx (499) and Go's
  // net/http (the request's context) do, a FIN is taken as the client gone.
  // Does not read or wait. False for a Request not taken from a connection.
  bool client_gone() const;
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

// Parses the body as a JSON object; no body (zero bytes) is an empty object. Malformed,
// whitespace only, or not an object -> invalid_argument.
Result<nlohmann::json> parse_json_object(const Request& req);

using Handler = std::function<Response(const Request&)>;

// What a route does, for ETL_READ_TOKEN: a read-only token may call `read`
// routes (every GET, and the POST/DELETE routes registered as reads, such as
// running a query), never `write` ones (403).
enum class Access { read, write };
using ReadinessCheck = std::function<Status()>;

struct ServerOptions {
  std::string service;                           // "extractor", written into logs and metrics
  HostPort address{"127.0.0.1", 0};              // port 0 picks a free one
  std::string api_token;                         // empty: no auth on /v1
  std::string read_token;                        // a second token for Access::read routes only; needs api_token
  std::vector<std::string> auth_prefixes{"/v1/"}; // the paths the token guards (probes and /openapi.json stay open)
  std::uint64_t max_body_bytes = 1u << 20;       // larger request bodies get 413
  HttpSettings http;                             // open listening, connections, deadlines, Host names
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host) noexcept;

class Server final {
 public:
  Server(ServerOptions options, MetricsRegistry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `path` is an OpenAPI path template, e.g. "/v1/runs/{run_id}": each {name}
  // matches one non-empty path segment and lands in Request::params, in order.
  // The template is also the `route` label of the request metrics. POST routes
  // take JSON bodies (application/json, else 415).
  void get(const std::string& path, Handler handler);  // Access::read
  void post(const std::string& path, Handler handler, Access access = Access::write);
  void del(const std::string& path, Handler handler, Access access = Access::write);
  // The templates registered so far with their methods ("GET /v1/runs/{run_id}").
  std::vector<std::string> routes() const;

  void add_readiness_check(std::string name, ReadinessCheck check);
  // The service's document; the server adds the built-in paths and states the
  // security it really enforces (bearer only when a token is configured).
  void set_openapi(nlohmann::json document);
  nlohmann::json openapi() const;  // as served

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

// Starts an OpenAPI 3.1 document for a service; callers add their paths.
nlohmann::json openapi_document(std::string_view service, std::string_view description);
// Finishes a document for what the server enforces: with a token, every
// operation under `auth_prefixes` requires bearer auth and lists 401; without,
// no security at all. Every operation also lists 405/413/415 where they apply.
void finish_openapi(nlohmann::json& document, bool token_required,
                    const std::vector<std::string>& auth_prefixes = {"/v1/"});

}  // namespace etl::http
