#include "etl/http_server.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "etl/ascii.h"
#include "etl/log.h"
#include "etl/peer.h"
#include "http_framing.h"
#include "http_impl.h"

namespace etl::http {

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

bool Request::client_gone() const { return connection >= 0 && peer_closed(connection); }

std::string Request::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return v;
  }
  return {};
}

double Request::quality(std::string_view media_type) const {
  const std::string accept = header("Accept");
  if (trim_blanks(accept).empty()) return 1.0;
  const std::string wanted = ascii_lower(media_type);
  const std::string any_subtype = wanted.substr(0, wanted.find('/')) + "/*";
  int best = -1;  // specificity of the best match: 0 */*, 1 type/*, 2 exact
  double q_best = 0.0;
  for (std::string_view element : framing::list_elements({accept})) {
    const std::string item = ascii_lower(element);
    std::string_view rest = item;
    const std::string_view range = trim_blanks(rest.substr(0, rest.find(';')));
    const int specificity = range == wanted ? 2 : range == any_subtype ? 1 : range == "*/*" ? 0 : -1;
    if (specificity <= best) continue;
    double q = 1.0;
    for (auto semi = rest.find(';'); semi != std::string_view::npos; semi = rest.find(';')) {
      rest.remove_prefix(semi + 1);
      const std::string_view param = trim_blanks(rest.substr(0, rest.find(';')));
      if (!param.starts_with("q=")) continue;
      const std::string value(param.substr(2));
      char* end = nullptr;
      q = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || !(q >= 0.0 && q <= 1.0)) q = 0.0;  // a malformed q counts as "not this"
    }
    best = specificity;
    q_best = q;
  }
  return q_best;
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

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

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
  // No body at all is an empty object; whitespace alone is not JSON (RFC 8259 needs a value).
  if (req.body.empty()) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return make_error(Errc::invalid_argument, "request body is not valid JSON");
  if (!parsed.is_object()) return make_error(Errc::invalid_argument, "request body must be a JSON object");
  return parsed;
}

bool is_loopback_host(std::string_view host) noexcept {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  std::string text(host);
  return inet_pton(AF_INET, text.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

void write_response(const Response& in, httplib::Response& out) {
  out.status = in.status;
  for (const auto& [k, v] : in.headers) out.set_header(k, v);
  out.set_content(in.body, in.content_type.c_str());
}

Server::Server(ServerOptions options, MetricsRegistry& metrics) : impl_(std::make_unique<Impl>(std::move(options), metrics)) {
  impl_->openapi = openapi_document(impl_->options.service, "");
  finish_openapi(impl_->openapi, !impl_->options.api_token.empty(), impl_->options.auth_prefixes);
  impl_->install();
}

Server::~Server() { stop(); }

void Server::get(const std::string& path, Handler handler) { impl_->add_route("GET", path, std::move(handler)); }
void Server::post(const std::string& path, Handler handler, Access access) {
  impl_->add_route("POST", path, std::move(handler), access);
}
void Server::del(const std::string& path, Handler handler, Access access) {
  impl_->add_route("DELETE", path, std::move(handler), access);
}
std::vector<std::string> Server::routes() const { return impl_->router.list(); }

void Server::add_readiness_check(std::string name, ReadinessCheck check) {
  std::lock_guard lock(impl_->checks_mutex);
  impl_->checks.emplace_back(std::move(name), std::move(check));
}

void Server::set_openapi(nlohmann::json document) {
  finish_openapi(document, !impl_->options.api_token.empty(), impl_->options.auth_prefixes);
  impl_->openapi = std::move(document);
}

nlohmann::json Server::openapi() const { return impl_->openapi; }

namespace {

// The same rule as load_config's, where the address is known: an open API on
// the network is a choice an operator makes explicitly.
Status check_open_listening(const ServerOptions& o) {
  if (!o.read_token.empty() && o.api_token.empty())
    return make_error(Errc::invalid_argument, "a read-only token (ETL_READ_TOKEN) needs ETL_API_TOKEN: without it every endpoint is open");
  if (!o.api_token.empty() || is_loopback_host(o.address.host) || o.http.allow_open) return {};
  return make_error(Errc::invalid_argument,
                    "refusing to listen on " + o.address.str() +
                        " without ETL_API_TOKEN: anyone who can reach it could run and query the pipeline; "
                        "set ETL_API_TOKEN, listen on 127.0.0.1, or set ETL_ALLOW_OPEN=true to run open on purpose");
}

}  // namespace

Status Server::start() {
  ETL_RETURN_IF_ERROR(check_open_listening(impl_->options));
  const auto& addr = impl_->options.address;
  int port = addr.port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(addr.host);
    if (port < 0) return make_error(Errc::unavailable, "cannot bind " + addr.host + ":0");
  } else if (!impl_->server.bind_to_port(addr.host, port)) {
    return make_error(Errc::unavailable, "cannot listen on " + addr.str() + " (address in use or not local)");
  }
  // httplib listens with a backlog of 5: a burst of connections (a refresh
  // storm, a probe among slow clients) would wait for SYN retries of 1 s and
  // more. listen() again on the bound socket only raises the backlog.
  if (int fd = impl_->listen_fd.load(); fd >= 0) ::listen(fd, 1024);
  impl_->bound_port = port;
  // Every route is registered by now: the document served lists the 403s once,
  // not on each request.
  if (!impl_->options.read_token.empty()) mark_read_only_refusals(impl_->openapi, impl_->router);
  impl_->watchdog->start(port);
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // httplib's stop() is a no-op until the listen loop runs: a stop() right after
  // start() would leave the thread in accept() and hang the join.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!impl_->server.is_running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  log::info("listening", {{"address", addr.host + ":" + std::to_string(port)},
                          {"auth", impl_->options.api_token.empty() ? "none" : "bearer"}});
  return {};
}

void Server::stop() {
  if (!impl_) return;
  impl_->stopping = true;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->watchdog->stop();
}

int Server::port() const noexcept { return impl_->bound_port; }

std::string Server::base_url() const {
  std::string host = impl_->options.address.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port());
}

}  // namespace etl::http
