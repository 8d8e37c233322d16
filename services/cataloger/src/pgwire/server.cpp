#include "pgwire/server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

#include "etl/http_server.h"
#include "etl/log.h"

namespace etl::pgwire {
namespace {

constexpr std::size_t kMaxLingering = 64;
constexpr std::chrono::seconds kRefusedLinger{1};

}  // namespace

std::optional<ServerOptions> server_options(const Config& config) {
  if (!config.pg_enabled) return std::nullopt;
  ServerOptions o;
  o.address = config.pg_addr;
  o.required = config.pg_addr_set;
  o.password = config.api_token;
  o.read_password = config.read_token;
  o.max_connections = config.pg_max_connections;
  o.limits.max_message_bytes = static_cast<std::size_t>(config.pg_max_message_bytes);
  o.limits.idle_timeout = std::chrono::seconds(config.pg_idle_timeout_s);
  o.limits.read_timeout = std::chrono::seconds(config.pg_read_timeout_s);
  o.limits.statement_timeout = std::chrono::milliseconds(config.pg_statement_timeout_ms);
  o.tls_cert = config.pg_tls_cert;
  o.tls_key = config.pg_tls_key;
  o.tls_required = config.pg_tls_required;
  o.allow_open = config.http.allow_open;
  return o;
}

Server::Server(ServerOptions options, QueryEngine& engine, Catalog& catalog, MetricsRegistry& metrics)
    : options_(std::move(options)),
      shared_{.engine = engine, .catalog = catalog, .limits = options_.limits},
      connections_(metrics.gauge("spotify_etl_cataloger_pg_connections", "Open PostgreSQL endpoint connections")),
      refused_(metrics.counter("spotify_etl_cataloger_pg_refused_connections_total",
                               "PostgreSQL connections refused over ETL_PG_MAX_CONNECTIONS")) {
  if (!options_.password.empty()) {
    shared_.secret = make_scram_secret(options_.password, random_bytes(16), options_.scram_iterations);
    if (!options_.read_password.empty())
      shared_.read_secret = make_scram_secret(options_.read_password, shared_.secret->salt, options_.scram_iterations);
  }
  shared_.cancel = [this](std::int32_t pid, std::int32_t key) { cancel(pid, key); };
  shared_.statements_ok = &metrics.counter("spotify_etl_cataloger_pg_statements_total",
                                           "Statements run through the PostgreSQL endpoint", {{"result", "ok"}});
  shared_.statements_failed = &metrics.counter("spotify_etl_cataloger_pg_statements_total",
                                               "Statements run through the PostgreSQL endpoint", {{"result", "error"}});
  shared_.tls_sessions = &metrics.counter("spotify_etl_cataloger_pg_tls_connections_total",
                                          "PostgreSQL connections that completed a TLS handshake");
}

Server::~Server() { stop(); }

Status Server::start() {
  if (listen_fd_ >= 0) return {};
  // The HTTP listeners' rule (an open endpoint on the network is a choice made explicitly):
  // without a token every client is trusted, and SQL is what they would send.
  if (options_.password.empty() && !http::is_loopback_host(options_.address.host) && !options_.allow_open)
    return make_error(Errc::invalid_argument,
                      "refusing to listen for PostgreSQL clients on " + options_.address.str() +
                          " without ETL_API_TOKEN (it is the password): anyone who can reach it could query the "
                          "tables; set ETL_API_TOKEN, listen on 127.0.0.1, or set ETL_ALLOW_OPEN=true to run open on purpose");
  if (options_.tls_required && options_.tls_cert.empty())
    return make_error(Errc::invalid_argument, "ETL_PG_TLS_REQUIRED: needs ETL_PG_TLS_CERT and ETL_PG_TLS_KEY");
  if (!options_.tls_cert.empty() && !tls_) {
    auto ctx = make_tls_context(options_.tls_cert, options_.tls_key);
    if (!ctx) return std::move(ctx).error();
    tls_ = std::move(*ctx);
    shared_.tls = tls_.get();
  }
  shared_.tls_required = options_.tls_required && tls_ != nullptr;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string port = std::to_string(options_.address.port);
  const char* host = options_.address.host.empty() ? nullptr : options_.address.host.c_str();
  std::string problem;
  if (int rc = ::getaddrinfo(host, port.c_str(), &hints, &found); rc != 0) problem = gai_strerror(rc);
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 128) == 0) {
      listen_fd_ = fd;
      break;
    }
    problem = std::strerror(errno);
    ::close(fd);
  }
  if (found) ::freeaddrinfo(found);
  if (listen_fd_ < 0) {
    std::string message = "cannot listen for PostgreSQL clients on " + options_.address.str() + ": " + problem +
                          " (set ETL_PG_ADDR to another host:port, or off)";
    if (options_.required) return make_error(Errc::unavailable, message);
    log::warn("PostgreSQL endpoint off: " + message);
    return {};
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  stopping_ = false;
  acceptor_ = std::thread([this] { accept_loop(); });
  log::info("PostgreSQL endpoint listening", {{"address", options_.address.host + ":" + std::to_string(port_)},
                                              {"auth", shared_.secret ? "scram-sha-256" : "trust"},
                                              {"tls", !tls_ ? "off" : shared_.tls_required ? "required" : "optional"}});
  return {};
}

void Server::accept_loop() {
  while (!stopping_) {
    linger_refused(false);
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, refused_fds_.empty() ? 250 : 20) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval send_timeout{static_cast<time_t>(options_.limits.read_timeout.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
    std::lock_guard lock(mutex_);
    reap();
    if (static_cast<int>(conns_.size()) >= options_.max_connections) {
      refuse(fd);
      continue;
    }
    auto& conn = conns_.emplace_back();
    conn.fd = fd;
    std::int32_t pid = next_pid_++;
    std::int32_t key = 0;
    auto bytes = random_bytes(sizeof key);
    std::memcpy(&key, bytes.data(), sizeof key);
    conn.session = std::make_unique<Session>(fd, shared_, pid, key);
    connections_.inc();
    try {
      conn.thread = std::thread([this, c = &conn] { serve(c); });
    } catch (const std::system_error& e) {  // no thread to be had (the host's task limit): this client is refused
      log::warn("PostgreSQL connection refused: cannot start its thread", {{"error", e.what()}});
      connections_.dec();
      conns_.pop_back();
      refuse(fd, "the server cannot take another connection now (no thread to serve it); try again later");
    }
  }
}

void Server::serve(Conn* conn) {
  conn->session->run();
  ::shutdown(conn->fd, SHUT_RDWR);
  connections_.dec();
  std::unique_ptr<Session> ended;
  {
    std::lock_guard lock(mutex_);  // cancel() and stop() look at sessions under it
    ended = std::move(conn->session);
    conn->finished = true;
  }
  // Its statements, portals and result pages go now, not when the next connection
  // arrives and reap() joins this thread.
  ended.reset();
}

void Server::refuse(int fd, const std::string& why) {
  refused_.inc();
  Writer w;
  write_error(w, ErrorFields{"FATAL", "53300",
                             !why.empty() ? why
                                          : "sorry, too many clients already (ETL_PG_MAX_CONNECTIONS=" +
                                                std::to_string(options_.max_connections) + ")",
                             "", ""});
  (void)::send(fd, w.buffer().data(), w.buffer().size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);  // the error, then end of stream; the fd stays open until the client reads it
  if (refused_fds_.size() >= kMaxLingering) {
    ::close(refused_fds_.front().fd);
    refused_fds_.pop_front();
  }
  refused_fds_.push_back({fd, std::chrono::steady_clock::now() + kRefusedLinger});
}

// Reads and drops what refused clients sent; closes each once it closed its side or its time is up.
void Server::linger_refused(bool all) {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = refused_fds_.begin(); it != refused_fds_.end();) {
    char sink[512];
    ssize_t n;
    while ((n = ::recv(it->fd, sink, sizeof sink, MSG_DONTWAIT)) > 0) {
    }
    const bool closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    if (all || closed || now >= it->deadline) {
      ::close(it->fd);
      it = refused_fds_.erase(it);
    } else {
      ++it;
    }
  }
}

// Joins the threads of connections that ended (under mutex_).
void Server::reap() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (!it->finished) {
      ++it;
      continue;
    }
    it->thread.join();
    ::close(it->fd);
    it = conns_.erase(it);
  }
}

void Server::cancel(std::int32_t pid, std::int32_t key) {
  std::lock_guard lock(mutex_);
  for (auto& c : conns_)
    if (!c.finished && c.session->pid() == pid && c.session->key() == key) c.session->cancel();
}

void Server::stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  linger_refused(true);
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::list<Conn> conns;
  {
    std::lock_guard lock(mutex_);
    for (auto& c : conns_) {
      if (c.session) c.session->cancel();
      ::shutdown(c.fd, SHUT_RDWR);
    }
    conns.splice(conns.end(), conns_);
  }
  for (auto& c : conns) {
    if (c.thread.joinable()) c.thread.join();
    ::close(c.fd);
  }
  port_ = 0;
}

}  // namespace etl::pgwire
