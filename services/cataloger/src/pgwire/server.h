// The cataloger's PostgreSQL wire-protocol endpoint: its own listener and accept
// thread, one thread per connection, at most `max_connections` of them (more get
// 53300 and are closed), CancelRequests routed to the session they name. Stock BI
// tools (psql, Grafana, Metabase, Superset, DBeaver) connect with no plugin.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "etl/catalog.h"
#include "etl/config.h"
#include "etl/metrics.h"
#include "etl/query_engine.h"
#include "pgwire/session.h"
#include "pgwire/tls_context.h"

namespace etl::pgwire {

struct ServerOptions {
  HostPort address{"127.0.0.1", 5432};  // port 0 picks a free one
  bool required = true;                 // false: failing to listen is a warning, not a start-up error
  std::string password;                 // the API token; empty: trust authentication
  std::string read_password;            // ETL_READ_TOKEN, accepted too (the endpoint only reads); needs password
  int max_connections = 64;             // ETL_PG_MAX_CONNECTIONS
  SessionLimits limits;                 // ETL_PG_MAX_MESSAGE_BYTES, ETL_PG_READ_TIMEOUT_S, ETL_PG_IDLE_TIMEOUT_S, ETL_PG_STATEMENT_TIMEOUT_MS
  int scram_iterations = 4096;
  std::string tls_cert, tls_key;        // ETL_PG_TLS_CERT / ETL_PG_TLS_KEY; empty: no TLS (SSLRequest gets 'N')
  bool tls_required = false;            // ETL_PG_TLS_REQUIRED: plaintext start-ups get FATAL 28000
  bool allow_open = false;              // ETL_ALLOW_OPEN: trust authentication on a non-loopback address
};

// The endpoint's options from the configuration (ETL_PG_ADDR, ETL_API_TOKEN and the
// ETL_PG_* tuning variables, validated by load_config); nullopt when ETL_PG_ADDR=off.
std::optional<ServerOptions> server_options(const Config& config);

class Server final {
 public:
  Server(ServerOptions options, QueryEngine& engine, Catalog& catalog, MetricsRegistry& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS certificate and key when configured (a bad pair fails), binds and
  // starts accepting. An address that is taken fails (or, when not `required`,
  // logs a warning and leaves the endpoint off).
  Status start();
  // Closes the listener and every connection (running queries are cancelled), joins the threads.
  void stop();
  int port() const noexcept { return port_; }   // 0 when not listening
  bool listening() const noexcept { return listen_fd_ >= 0; }

 private:
  struct Conn {
    int fd = -1;
    std::unique_ptr<Session> session;
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  void accept_loop();
  void serve(Conn* conn);
  void cancel(std::int32_t pid, std::int32_t key);
  void reap();
  // Sends the client a FATAL (53300, `why`; by default too many clients) and lets it go.
  void refuse(int fd, const std::string& why = "");
  void linger_refused(bool all);

  ServerOptions options_;
  TlsContext tls_;  // before shared_, which points at it
  SessionShared shared_;
  Gauge& connections_;
  Counter& refused_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::list<Conn> conns_;
  // Refused connections half-closed after their error, drained until the client
  // closes (or a second passes): closing with the client's startup packet unread
  // would reset the connection and lose the error. Accept thread only; bounded.
  struct Refused {
    int fd;
    std::chrono::steady_clock::time_point deadline;
  };
  std::deque<Refused> refused_fds_;
  std::int32_t next_pid_ = 1000;
};

}  // namespace etl::pgwire
