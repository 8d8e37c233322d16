// The request path: every request is routed, checked and answered in
// httplib's pre-routing hook (one with Expect: 100-continue is checked before
// the 100 and answered after it), before httplib reads any body; only a POST that
// passed every check has its body read, up to the limit (httplib's content
// reader, or framing::read_chunked for a chunked one). A request whose length
// is unclear (http_framing.h) is refused first. Answers that leave a body
// unread close the connection.
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "etl/ascii.h"
#include "etl/log.h"
#include "http_framing.h"
#include "http_impl.h"
#include "http_policy.h"

namespace etl::http {
namespace {

struct RequestState {
  std::chrono::steady_clock::time_point start;
  const std::string* route = nullptr;  // the template, for metrics
  RouteMatch match;
  std::string peer;
  bool close_after = false;  // a body was left unread
  const httplib::Request* request = nullptr;
  std::string accept_encoding;  // the client's, hidden from httplib until the body is known
  bool let_through = false;     // pre_routing checked it already, before its 100 (Continue)
};
thread_local RequestState current;

const std::string kUnmatched = "unmatched";

// A method as the requests counter's label: one this server knows
// (policy::is_known_method), else "other". Every distinct label value is a
// time series kept for the process's life, and a method is any token a client
// invents (up to httplib's 8 KiB line).
std::string method_label(const std::string& method) { return policy::is_known_method(method) ? method : "other"; }

Request convert(const httplib::Request& req, std::vector<std::string> params, std::string body) {
  Request r;
  r.method = req.method;
  r.path = req.path;
  r.params = std::move(params);
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) r.headers.emplace(k, v);
  r.body = std::move(body);
  r.remote_addr = req.remote_addr;
  r.connection = Listener::connection();
  return r;
}

std::vector<std::string_view> values_of(const httplib::Request& req, const char* name) {
  std::vector<std::string_view> out;
  for (auto [it, end] = req.headers.equal_range(name); it != end; ++it) out.emplace_back(it->second);
  return out;
}

bool has_body(const httplib::Request& req) {
  if (req.has_header("Transfer-Encoding")) return true;
  const std::string& length = req.get_header_value("Content-Length");
  return !length.empty() && length.find_first_not_of('0') != std::string::npos;
}

// httplib compresses a response by the request's Accept-Encoding when it writes
// it (brotli first, at its slowest quality): it sees gzip, or nothing, as
// policy::response_encoding decides for this body.
void choose_encoding(const Response& r) {
  if (!current.request) return;
  std::string encoding = policy::response_encoding(current.accept_encoding, r.body.size());
  if (!encoding.empty()) const_cast<httplib::Request*>(current.request)->set_header("Accept-Encoding", encoding);
}

httplib::Server::HandlerResponse answer(httplib::Response& res, Response r) {
  if (current.close_after) r.headers.emplace_back("Connection", "close");
  choose_encoding(r);
  write_response(r, res);
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

void Server::Impl::add_route(const std::string& method, const std::string& path, Handler handler, Access access) {
  if (Status s = router.add(method, path, std::move(handler), access); !s.ok()) throw std::invalid_argument(s.error().message);
}

Response Server::Impl::run(const Route& route, Request request) {
  if (watchdog) watchdog->handler_started(current.peer);
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    log::error("handler threw", {{"route", route.path_template}, {"error", e.what()}});
    return problem_response(500, "Internal Server Error", "unexpected error; see the service log");
  }
}

httplib::Server::HandlerResponse Server::Impl::pre_routing(const httplib::Request& req, httplib::Response& res,
                                                           bool before_continue) {
  if (current.let_through && current.request == &req) {  // checked before its 100 (Continue)
    current.let_through = false;
    const RouteMatch& m = current.match;
    if (m.route->method != "POST") return answer(res, run(*m.route, convert(req, m.params, {})));
    return httplib::Server::HandlerResponse::Unhandled;  // its body comes next
  }
  current = RequestState{std::chrono::steady_clock::now(), &kUnmatched, {}, req.remote_addr + ":" + std::to_string(req.remote_port),
                         false, &req, req.get_header_value("Accept-Encoding")};
  const bool body = has_body(req);
  current.close_after = body;  // until a content reader consumes it
  // Before anything else: where this request ends, and so where the next begins.
  if (auto refusal = framing::check(values_of(req, "Content-Length"), values_of(req, "Transfer-Encoding"))) {
    current.close_after = true;
    return answer(res, problem_response(refusal->status, "", refusal->detail));
  }
  // A request with neither Content-Length nor Transfer-Encoding has no body
  // (RFC 9112 6.3); httplib would wait for the connection to close instead.
  if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
    const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
  // Put back by answer() when the response is worth compressing (choose_encoding).
  const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");

  // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before.
  if (const auto hosts = req.get_header_value_count("Host"); hosts > 1 || (hosts == 0 && req.version == "HTTP/1.1"))
    return answer(res, problem_response(400, "", hosts > 1 ? "the request has more than one Host header"
                                                           : "an HTTP/1.1 request must have a Host header"));
  if (!policy::is_known_method(req.method))
    return answer(res, problem_response(501, "", "method " + req.method + " is not implemented by this server"));
  const auto& o = options;
  if (is_loopback_host(o.address.host) && !policy::host_allowed(req.get_header_value("Host"), o.address.host, o.http.allowed_hosts))
    return answer(res, problem_response(403, "", "Host '" + policy::host_name(req.get_header_value("Host")) +
                                                     "' is not a name of this service (add it to ETL_HTTP_ALLOWED_HOSTS)"));
  // Before routing: without the token, a guarded path tells nothing, not even
  // which endpoints or methods exist there.
  const bool guarded = std::any_of(o.auth_prefixes.begin(), o.auth_prefixes.end(),
                                   [&req](const std::string& p) { return req.path.rfind(p, 0) == 0; });
  bool read_only = false;  // the caller holds ETL_READ_TOKEN, not ETL_API_TOKEN
  if (!o.api_token.empty() && guarded) {
    const std::string& authorization = req.get_header_value("Authorization");
    if (!policy::bearer_matches(authorization, o.api_token)) {
      read_only = !o.read_token.empty() && policy::bearer_matches(authorization, o.read_token);
      if (!read_only) {
        Response r = problem_response(401, "", "missing or wrong bearer token");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return answer(res, std::move(r));
      }
    }
  }
  current.match = router.match(req.method, req.path);
  const RouteMatch& m = current.match;
  if (m.path_template) current.route = m.path_template;
  if (m.allow.empty()) return answer(res, problem_response(404, "", "no such endpoint: " + req.method + " " + req.path));
  if (!m.route) {
    Response r = req.method == "OPTIONS" ? Response{204, "text/plain", "", {}}
                                         : problem_response(405, "", req.method + " is not allowed on " + req.path + " (allowed: " + m.allow + ")");
    r.headers.emplace_back("Allow", m.allow);
    return answer(res, std::move(r));
  }
  if (read_only && m.route->access == Access::write) {
    return answer(res, problem_response(403, "", "the read-only token (ETL_READ_TOKEN) may not call " + req.method + " " +
                                                     m.route->path_template + "; it needs ETL_API_TOKEN"));
  }
  if (m.route->method != "POST") {
    // Before a 100 (Continue), httplib writes what the check answers without
    // its Content-Length (only refusals get one): a handler runs after the 100,
    // on the routing path every other answer takes.
    if (before_continue) return httplib::Server::HandlerResponse::Unhandled;
    return answer(res, run(*m.route, convert(req, m.params, {})));
  }

  const std::string& encoding = req.get_header_value("Content-Encoding");
  if (body && !encoding.empty() && encoding != "identity")
    return answer(res, problem_response(415, "", "Content-Encoding " + encoding + " is not accepted: send the body uncompressed"));
  if (!policy::json_body_acceptable(req.get_header_value("Content-Type"), body, req.has_header("Origin")))
    return answer(res, problem_response(415, "", "the body must be JSON, sent with Content-Type: application/json"));
  if (req.get_header_value_count("Content-Length") > 0 &&
      req.get_header_value<std::uint64_t>("Content-Length") > o.max_body_bytes)
    return answer(res, problem_response(413, "", "request body exceeds the limit of " + std::to_string(o.max_body_bytes) +
                                                     " bytes (ETL_MAX_REQUEST_BODY_BYTES)"));
  return httplib::Server::HandlerResponse::Unhandled;  // read_body comes next
}

void Server::Impl::read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
  const RouteMatch& m = current.match;
  if (!m.route) return write_response(problem_response(404, "", "no such endpoint"), res);
  std::string body;
  bool over = false, complete = false;
  if (req.has_header("Transfer-Encoding")) {  // chunked, as pre_routing checked
    const auto read = framing::read_chunked(Listener::stream(), options.max_body_bytes, body);
    over = read == framing::ChunkedBody::too_large;
    complete = read == framing::ChunkedBody::complete;
  } else {
    complete = reader([&](const char* data, size_t n) {
      over = body.size() + n > options.max_body_bytes;
      if (!over) body.append(data, n);
      return !over;
    });
  }
  if (over || !complete) {
    Response r = over ? problem_response(413, "", "request body exceeds the limit of " + std::to_string(options.max_body_bytes) +
                                                      " bytes (ETL_MAX_REQUEST_BODY_BYTES)")
                      : problem_response(400, "", "the request body could not be read (malformed chunked encoding?)");
    answer(res, std::move(r));
    return;
  }
  current.close_after = false;
  (void)answer(res, run(*m.route, convert(req, m.params, std::move(body))));
}

void Server::Impl::log_request(const httplib::Request& req, const httplib::Response& res) {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - current.start).count();
  if (current.start == std::chrono::steady_clock::time_point{}) seconds = 0;  // refused before routing
  latency->observe(seconds);
  metrics
      .counter("spotify_etl_http_requests_total", "HTTP requests by method, route template and status",
               {{"service", options.service}, {"method", method_label(req.method)}, {"route", *(current.route ? current.route : &kUnmatched)},
                {"status", std::to_string(res.status)}})
      .inc();
  if (watchdog && !current.peer.empty()) watchdog->response_written(current.peer);
  const bool probe = req.path == "/healthz" || req.path == "/readyz" || req.path == "/metrics";
  current = RequestState{};
  if (probe) return;
  log::info("http request", {{"method", req.method},
                             {"path", req.path},
                             {"status", res.status},
                             {"ms", std::round(seconds * 1e5) / 100},
                             {"remote", req.remote_addr}});
}

namespace {

// Writes `r` and ends the connection after it (finish_headers): what follows
// a request httplib could not parse (such as the body of a QUERY) must not be
// read as the next request.
void write_then_close(Response r, httplib::Response& out) {
  r.headers.emplace_back("Connection", "close");
  write_response(r, out);
}

}  // namespace

void Server::Impl::refused_by_httplib(const httplib::Request& req, httplib::Response& res) {
  // httplib saw the head end early (400) or its request line as too long (414):
  // it was cut at a bound or a malformed line (ConnectionStream), and what the
  // client still sends is no request.
  switch (Listener::head_error()) {
    case ConnectionStream::HeadError::none: break;
    case ConnectionStream::HeadError::too_large:
      return write_then_close(problem_response(431, "Request Header Fields Too Large",
                                               "a request's line and header fields may have at most " +
                                                   std::to_string(ConnectionStream::kMaxRequestHead) + " bytes and " +
                                                   std::to_string(ConnectionStream::kMaxHeaderFields) + " fields"),
                              res);
    case ConnectionStream::HeadError::field_too_long:
      return write_then_close(problem_response(431, "Request Header Fields Too Large",
                                               "a header field line may have at most " +
                                                   std::to_string(ConnectionStream::kMaxFieldLine) + " bytes with its CRLF"),
                              res);
    case ConnectionStream::HeadError::malformed:
      return write_then_close(problem_response(400, "", std::string("malformed request head: ") + Listener::head_problem()), res);
  }
  if (res.status == 414) {  // httplib's bound, compiled into its library (ConnectionStream::kMaxRequestLine)
    return write_then_close(problem_response(414, "", "the request line may have at most " +
                                                          std::to_string(ConnectionStream::kMaxRequestLine) + " bytes with its CRLF"),
                            res);
  }
  if (!res.body.empty()) return;  // a handler already wrote a problem
  if (current.start != std::chrono::steady_clock::time_point{}) {
    return write_response(problem_response(res.status, "", reason_phrase(res.status)), res);
  }
  // httplib refused the request line or headers before routing: methods outside
  // its own list (req.method and req.target are set by then) are 405/404 when
  // we know them, 501 when not.
  static const std::set<std::string> parsed = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI"};
  if (res.status == 400 && !req.method.empty() && parsed.count(req.method) == 0) {
    if (!policy::is_known_method(req.method))
      return write_then_close(problem_response(501, "", "method " + req.method + " is not implemented by this server"), res);
    auto m = router.match(req.method, req.target.substr(0, req.target.find('?')));
    if (m.allow.empty()) return write_then_close(problem_response(404, "", "no such endpoint: " + req.target), res);
    current.route = m.path_template;  // counted under the route its path matched (log_request)
    Response r = problem_response(405, "", req.method + " is not allowed here (allowed: " + m.allow + ")");
    r.headers.emplace_back("Allow", m.allow);
    return write_then_close(std::move(r), res);
  }
  write_then_close(problem_response(res.status, "", reason_phrase(res.status)), res);
}

// Called by httplib just before it writes a response's head, after it added
// its own Connection or Keep-Alive: a response that ends its connection says
// Connection: close once and nothing about keep-alive, and its connection ends.
// httplib says Keep-Alive also when it ends the connection after the request
// (HTTP/1.0): Listener knows.
void Server::Impl::finish_headers(httplib::Response& res) {
  bool close = current.close_after || Listener::closes_after_response();
  for (auto [it, end] = res.headers.equal_range("Connection"); it != end; ++it) close = close || ascii_lower(it->second) == "close";
  if (close) {
    res.headers.erase("Connection");
    res.headers.erase("Keep-Alive");
    res.set_header("Connection", "close");
    Listener::close_after_response();
  }
}

Response Server::Impl::readiness() {
  nlohmann::json details = nlohmann::json::object();
  bool ready = true;
  std::vector<std::pair<std::string, ReadinessCheck>> copy;
  {
    std::lock_guard lock(checks_mutex);
    copy = checks;
  }
  for (const auto& [name, check] : copy) {
    Status s = check();
    details[name] = s.ok() ? "ok" : s.error().message;
    ready = ready && s.ok();
  }
  return json_response(ready ? 200 : 503, {{"status", ready ? "ready" : "not ready"}, {"checks", details}});
}

void Server::Impl::install() {
  const Labels service{{"service", options.service}};
  latency = &metrics.histogram("spotify_etl_http_request_duration_seconds", "HTTP request latency", service);
  connections = &metrics.gauge("spotify_etl_http_connections", "Connections being served", service);
  timed_out = &metrics.counter("spotify_etl_http_request_timeouts_total",
                               "Connections closed because a request's headers and body did not arrive in time", service);
  watchdog = std::make_unique<ConnectionWatchdog>(options.http.request_timeout, *timed_out);
  server.set_payload_max_length(options.max_body_bytes);
  // httplib's default adds SO_REUSEPORT, which lets a second instance share the
  // port silently; a taken port must be a start-up error instead.
  server.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  // Per read; the watchdog bounds a whole request. Keep-alive idling is short so
  // stop() stays well inside its 10 s; no Nagle's 40 ms stall.
  server.set_read_timeout(std::min<std::chrono::seconds>(options.http.request_timeout, std::chrono::seconds(5)));
  server.set_keep_alive_timeout(1);
  // httplib's default of 5 requests a connection made a polling dashboard or a
  // scraper reconnect every fifth request. The idle timeout above, not this count,
  // is what bounds how long a keep-alive connection holds its thread.
  server.set_keep_alive_max_count(1000);
  server.set_tcp_nodelay(true);
  const auto max = static_cast<std::size_t>(options.http.max_connections);
  server.new_task_queue = [this, max] { return new ConnectionPool(max, stopping, *connections); };
  server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) { return pre_routing(req, res); });
  // Expect: 100-continue (curl sends it with bodies over 1 MiB): the client waits
  // to send its body until it hears 100. A request its head already refuses (too
  // large, no token, no such endpoint, not JSON) gets its answer instead, so the
  // body is never sent (RFC 9110 10.1.1); httplib asks this before pre-routing.
  server.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (pre_routing(req, res, /*before_continue=*/true) == httplib::Server::HandlerResponse::Handled) return res.status;
    current.let_through = true;
    return 100;
  });
  server.Post(".*", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    read_body(req, res, reader);
  });
  server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) { refused_by_httplib(req, res); });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    write_response(problem_response(500, "Internal Server Error", "unexpected error; see the service log"), res);
  });
  server.set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) { finish_headers(res); });
  server.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log_request(req, res); });

  add_route("GET", "/healthz", [](const Request&) { return json_response(200, {{"status", "ok"}}); });
  add_route("GET", "/readyz", [this](const Request&) { return readiness(); });
  add_route("GET", "/metrics", [this](const Request&) {
    return Response{200, "text/plain; version=0.0.4; charset=utf-8", metrics.render(), {}};
  });
  add_route("GET", "/openapi.json", [this](const Request&) { return json_response(200, openapi); });
}

}  // namespace etl::http
