// Server::Impl, shared by the HTTP base's files: http_server.cpp (public
// API, start/stop), http_dispatch.cpp (the request path), http_openapi.cpp.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include "etl/http_server.h"
#include "http_listener.h"
#include "http_router.h"

namespace etl::http {

struct Server::Impl {
  ServerOptions options;
  MetricsRegistry& metrics;
  Listener server;
  Router router;
  std::thread thread;
  std::atomic<int> bound_port{0};
  std::atomic<int> listen_fd{-1};
  std::atomic<bool> stopping{false};
  std::mutex checks_mutex;
  std::vector<std::pair<std::string, ReadinessCheck>> checks;
  nlohmann::json openapi;  // as served: start() adds the read-only token's 403s
  Histogram* latency = nullptr;
  Gauge* connections = nullptr;
  Counter* timed_out = nullptr;
  std::unique_ptr<ConnectionWatchdog> watchdog;

  Impl(ServerOptions o, MetricsRegistry& m) : options(std::move(o)), metrics(m) {}

  void install();  // httplib hooks and the built-in routes
  void add_route(const std::string& method, const std::string& path, Handler handler, Access access = Access::read);

 private:
  // `before_continue`: asked by the Expect: 100-continue handler, before the
  // 100; a request that passes its checks is answered after it.
  httplib::Server::HandlerResponse pre_routing(const httplib::Request& req, httplib::Response& res,
                                               bool before_continue = false);
  void read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  Response run(const Route& route, Request request);
  void log_request(const httplib::Request& req, const httplib::Response& res);
  Response readiness();
  void refused_by_httplib(const httplib::Request& req, httplib::Response& res);
  void finish_headers(httplib::Response& res);
};

void write_response(const Response& in, httplib::Response& out);
// Lists 403 on the operations a read-only token may not call: the router's
// Access::write routes (http_openapi.cpp).
void mark_read_only_refusals(nlohmann::json& document, const Router& router);
const char* reason_phrase(int status);

}  // namespace etl::http
