#include "etl/http_server.h"

#include <httplib.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <thread>

#include "etl/log.h"

namespace etl::http {

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string Request::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return v;
  }
  return {};
}

bool Request::accepts(std::string_view media_type) const {
  return header("Accept").find(media_type) != std::string::npos;
}

int http_status(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return 400;
    case Errc::unauthorized: return 401;
    case Errc::forbidden: return 403;
    case Errc::not_found: return 404;
    case Errc::conflict: return 409;
    case Errc::too_large: return 413;
    case Errc::bad_data: return 422;
    case Errc::rate_limited:
    case Errc::quota_exceeded:
    case Errc::unavailable: return 503;
    case Errc::timeout: return 504;
    case Errc::cancelled: return 409;
    case Errc::internal: return 500;
  }
  return 500;
}

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

}  // namespace

Response json_response(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response problem_response(int status, std::string_view title, std::string_view detail) {
  nlohmann::json body = {{"type", "about:blank"},
                         {"title", title.empty() ? reason_phrase(status) : std::string(title)},
                         {"status", status},
                         {"detail", detail}};
  Response r = json_response(status, body);
  r.content_type = "application/problem+json";
  return r;
}

Response error_response(const Error& error) {
  int status = http_status(error.code);
  Response r = problem_response(status, reason_phrase(status), error.message);
  if (error.code == Errc::rate_limited || error.code == Errc::unavailable) r.headers.emplace_back("Retry-After", "5");
  return r;
}

Result<nlohmann::json> parse_json_object(const Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return make_error(Errc::invalid_argument, "request body is not valid JSON");
  if (!parsed.is_object()) return make_error(Errc::invalid_argument, "request body must be a JSON object");
  return parsed;
}

nlohmann::json openapi_document(std::string_view service, std::string_view description) {
  auto ok = [](const char* what) { return nlohmann::json{{"200", {{"description", what}}}}; };
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "spotify-etl " + std::string(service)}, {"version", ETL_VERSION}, {"description", description}}},
          {"components",
           {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
            {"schemas",
             {{"Problem",
               {{"type", "object"},
                {"properties",
                 {{"type", {{"type", "string"}}},
                  {"title", {{"type", "string"}}},
                  {"status", {{"type", "integer"}}},
                  {"detail", {{"type", "string"}}}}}}}}}}},
          {"paths",
           {{"/healthz", {{"get", {{"summary", "Liveness"}, {"responses", ok("alive")}}}}},
            {"/readyz", {{"get", {{"summary", "Readiness of the dependencies"}, {"responses", ok("ready")}}}}},
            {"/metrics", {{"get", {{"summary", "Prometheus metrics"}, {"responses", ok("metrics")}}}}},
            {"/openapi.json", {{"get", {{"summary", "This document"}, {"responses", ok("OpenAPI 3")}}}}}}}};
}

struct Server::Impl {
  ServerOptions options;
  MetricsRegistry& metrics;
  httplib::Server server;
  std::thread thread;
  std::atomic<int> bound_port{0};
  std::mutex checks_mutex;
  std::vector<std::pair<std::string, ReadinessCheck>> checks;
  nlohmann::json openapi;
  Histogram* latency = nullptr;

  Impl(ServerOptions o, MetricsRegistry& m) : options(std::move(o)), metrics(m) {}

  static thread_local std::chrono::steady_clock::time_point request_start;
  static thread_local const char* request_route;

  static void write(const Response& in, httplib::Response& out) {
    out.status = in.status;
    for (const auto& [k, v] : in.headers) out.set_header(k, v);
    out.set_content(in.body, in.content_type.c_str());
  }

  static Request convert(const httplib::Request& req) {
    Request r;
    r.method = req.method;
    r.path = req.path;
    for (size_t i = 1; i < req.matches.size(); ++i) r.params.push_back(req.matches[i].str());
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    for (const auto& [k, v] : req.headers) r.headers.emplace(k, v);
    r.body = req.body;
    r.remote_addr = req.remote_addr;
    return r;
  }

  httplib::Server::Handler wrap(const std::string& pattern, Handler handler) {
    auto route = std::make_shared<std::string>(pattern);
    return [this, route, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
      request_route = route->c_str();
      Response out;
      try {
        out = handler(convert(req));
      } catch (const std::exception& e) {
        log::error("handler threw", {{"route", *route}, {"error", e.what()}});
        out = problem_response(500, "Internal Server Error", "unexpected error; see the service log");
      }
      write(out, res);
    };
  }

  bool authorized(const httplib::Request& req) const {
    if (options.api_token.empty() || req.path.rfind("/v1/", 0) != 0) return true;
    const std::string expected = "Bearer " + options.api_token;
    const std::string& got = req.get_header_value("Authorization");
    return got.size() == expected.size() && CRYPTO_memcmp(got.data(), expected.data(), got.size()) == 0;
  }

  void install_builtins() {
    latency = &metrics.histogram("spotify_etl_http_request_duration_seconds", "HTTP request latency",
                                 {{"service", options.service}});
    server.set_payload_max_length(options.max_body_bytes);
    // httplib's default adds SO_REUSEPORT, which lets a second instance share the
    // port silently; a taken port must be a start-up error instead.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.set_read_timeout(options.read_timeout);
    // stop() waits for idle keep-alive connections to time out: keep that short so
    // shutdown stays well inside its 10 s, and answer without Nagle's 40 ms stall.
    server.set_keep_alive_timeout(1);
    // Handlers may block (a query, a synchronous transform): keep enough workers
    // that health and readiness probes are still answered meanwhile.
    server.new_task_queue = [] { return new httplib::ThreadPool(32); };
    server.set_tcp_nodelay(true);
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      request_start = std::chrono::steady_clock::now();
      request_route = "unmatched";
      // A request with neither Content-Length nor Transfer-Encoding has no body
      // (RFC 9112 6.3); httplib would wait for the connection to close instead
      // (`curl -X POST` without data: a 30 s stall). The body is read after this hook.
      if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
        const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
      if (!authorized(req)) {
        auto r = problem_response(401, "Unauthorized", "missing or wrong bearer token");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        write(r, res);
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler already wrote a problem
      std::string detail = res.status == 413   ? "request body exceeds the configured limit"
                           : res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                                               : std::string(reason_phrase(res.status));
      write(problem_response(res.status, reason_phrase(res.status), detail), res);
    });
    server.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      write(problem_response(500, "Internal Server Error", "unexpected error; see the service log"), res);
    });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - request_start).count();
      latency->observe(seconds);
      metrics
          .counter("spotify_etl_http_requests_total", "HTTP requests by route and status",
                   {{"service", options.service}, {"method", req.method}, {"route", request_route},
                    {"status", std::to_string(res.status)}})
          .inc();
      if (req.path == "/healthz" || req.path == "/readyz" || req.path == "/metrics") return;
      log::info("http request", {{"method", req.method},
                                 {"path", req.path},
                                 {"status", res.status},
                                 {"ms", std::round(seconds * 1e5) / 100},
                                 {"remote", req.remote_addr}});
    });

    server.Get("/healthz", wrap("/healthz", [](const Request&) { return json_response(200, {{"status", "ok"}}); }));
    server.Get("/readyz", wrap("/readyz", [this](const Request&) {
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
    }));
    server.Get("/metrics", wrap("/metrics", [this](const Request&) {
      Response r;
      r.content_type = "text/plain; version=0.0.4";
      r.body = metrics.render();
      return r;
    }));
    server.Get("/openapi.json", wrap("/openapi.json", [this](const Request&) { return json_response(200, openapi); }));
  }
};

thread_local std::chrono::steady_clock::time_point Server::Impl::request_start{};
thread_local const char* Server::Impl::request_route = "unmatched";

Server::Server(ServerOptions options, MetricsRegistry& metrics) : impl_(std::make_unique<Impl>(std::move(options), metrics)) {
  impl_->openapi = openapi_document(impl_->options.service, "");
  impl_->install_builtins();
}

Server::~Server() { stop(); }

void Server::get(const std::string& pattern, Handler handler) { impl_->server.Get(pattern, impl_->wrap(pattern, std::move(handler))); }
void Server::post(const std::string& pattern, Handler handler) { impl_->server.Post(pattern, impl_->wrap(pattern, std::move(handler))); }
void Server::del(const std::string& pattern, Handler handler) { impl_->server.Delete(pattern, impl_->wrap(pattern, std::move(handler))); }

void Server::add_readiness_check(std::string name, ReadinessCheck check) {
  std::lock_guard lock(impl_->checks_mutex);
  impl_->checks.emplace_back(std::move(name), std::move(check));
}

void Server::set_openapi(nlohmann::json document) { impl_->openapi = std::move(document); }

Status Server::start() {
  const auto& addr = impl_->options.address;
  int port = addr.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(addr.host);
    if (port < 0) return make_error(Errc::unavailable, "cannot bind " + addr.host + ":0");
  } else if (!impl_->server.bind_to_port(addr.host, port)) {
    return make_error(Errc::unavailable, "cannot listen on " + addr.str() + " (address in use or not local)");
  }
  impl_->bound_port = port;
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs: a stop() right after
  // start() would leave the thread in accept() and hang the join.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!impl_->server.is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  log::info("listening", {{"address", addr.host + ":" + std::to_string(port)}});
  return {};
}

void Server::stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int Server::port() const noexcept { return impl_->bound_port; }

std::string Server::base_url() const {
  return "http://" + impl_->options.address.host + ":" + std::to_string(port());
}

}  // namespace etl::http
