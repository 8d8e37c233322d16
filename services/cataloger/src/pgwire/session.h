// One client connection of the PostgreSQL endpoint, on its own thread: start-up
// (SSLRequest answered 'S' and TLS set up when the endpoint has a certificate, 'N'
// otherwise; GSSENCRequest 'N'), SCRAM-SHA-256 with the API token as
// the password (or trust when no token is configured), ParameterStatus and
// BackendKeyData, then the simple and extended query protocols until Terminate.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "etl/catalog.h"
#include "etl/metrics.h"
#include "etl/query_engine.h"
#include "pgwire/execution.h"
#include "pgwire/scram.h"
#include "pgwire/transport.h"
#include "pgwire/wire.h"

namespace etl::pgwire {

struct CopyStatement;  // copy_out.h

struct SessionLimits {
  std::size_t max_message_bytes = 1u << 20;        // a larger message ends the connection (54000)
  std::chrono::seconds read_timeout{30};           // start-up, authentication, and the rest of a started message
  std::chrono::seconds idle_timeout{600};          // between messages
  std::chrono::milliseconds statement_timeout{30000};
  std::size_t max_prepared = 256;                  // named statements and portals per connection
  // What a connection may hold at once: the text of its prepared statements, and the
  // result pages its open portals and cursors keep (each up to 1,000 rows). 53400 past it.
  std::size_t max_held_bytes = 64u << 20;
};

// What every session shares: set up once by the server.
struct SessionShared {
  QueryEngine& engine;
  Catalog& catalog;
  SessionLimits limits;
  std::optional<ScramSecret> secret{};  // nullopt: trust (no API token configured)
  std::optional<ScramSecret> read_secret{};  // the read-only token's, same salt: accepted too
  // A CancelRequest arrived on another connection: (pid, key) -> cancel that session's query.
  std::function<void(std::int32_t, std::int32_t)> cancel{};
  Counter* statements_ok = nullptr;
  Counter* statements_failed = nullptr;
  SSL_CTX* tls = nullptr;     // ETL_PG_TLS_CERT/KEY loaded: SSLRequest gets 'S' and a handshake
  bool tls_required = false;  // ETL_PG_TLS_REQUIRED: a plaintext start-up gets FATAL 28000
  Counter* tls_sessions = nullptr;
};

// The 53400 message when a connection would hold more than SessionLimits::max_held_bytes.
std::string held_too_much(std::size_t limit);

class Session final {
 public:
  Session(int fd, SessionShared& shared, std::int32_t pid, std::int32_t key);
  // Serves the connection until it ends; never throws.
  void run();
  // From another thread (a CancelRequest with this session's key): stops the running query.
  void cancel();
  std::int32_t pid() const noexcept { return pid_; }
  std::int32_t key() const noexcept { return key_; }

 private:
  struct Prepared {
    std::string sql;
    std::vector<std::int32_t> param_types;  // one per parameter (0: unspecified)
  };
  struct Portal {
    std::string sql;  // parameters bound
    std::vector<std::int16_t> result_formats;  // as Bind asked (binary_values.h column_formats)
    std::optional<Execution> execution;
    bool done = false;
    bool cursor = false;  // made by DECLARE (cursors.h): closed with its transaction unless `hold`
    bool hold = false;
  };

  Status startup();
  Status negotiate_encryption(bool ssl, std::chrono::steady_clock::time_point deadline);
  Status direct_tls(std::chrono::steady_clock::time_point deadline);
  Status authenticate(const std::string& user);
  Status serve();
  Result<std::pair<char, std::string>> read_message(std::chrono::seconds first_byte_timeout);
  Status flush();
  Status fatal(const std::string& sqlstate, const std::string& message);
  void error(const std::string& sqlstate, const std::string& message);

  Status simple_query(const std::string& body);
  bool run_statement(const std::string& sql, bool simple);  // false on error
  bool run_copy(const CopyStatement& statement);     // COPY ... TO STDOUT; false on error
  Status handle_extended(char type, const std::string& body);
  void parse(const std::string& body);
  void bind(const std::string& body);
  void describe(const std::string& body);
  void execute(const std::string& body);
  void close(const std::string& body);
  bool start_portal(Portal& portal);
  void apply_tx(TxEffect effect);
  // Applies what DEALLOCATE and DISCARD ALL release (the running portal is kept); the
  // error for a statement that does not exist, or for DISCARD ALL in a transaction block.
  std::optional<SqlError> release(const Release& r);
  // DECLARE, FETCH, MOVE, CLOSE (ExecContext::cursor_statement).
  std::optional<LocalOutcome> cursor_statement(const std::string& sql);
  // At the end of a transaction: its cursors (not WITH HOLD ones) are gone.
  void close_transaction_cursors();
  // The bytes of result pages the open portals and cursors hold.
  std::size_t held_by_portals() const;
  void count(bool ok);
  // A simple-query statement that failed: its ErrorResponse, counted; returns false.
  bool statement_failed(const std::string& sqlstate, const std::string& message);

  Transport io_;
  SessionShared& shared_;
  std::int32_t pid_, key_;
  Writer out_;
  SessionInfo info_;
  char tx_ = 'I';  // I idle, T in a transaction block, E failed transaction block
  bool skip_to_sync_ = false;
  std::map<std::string, Prepared> statements_;
  std::map<std::string, Portal> portals_;
  const Portal* running_portal_ = nullptr;  // the portal whose statement runs now (extended protocol; kept by CLOSE, DISCARD ALL)
  std::mutex running_mutex_;
  std::string running_;  // the engine query that runs now
  ExecContext ctx_;
};

}  // namespace etl::pgwire
