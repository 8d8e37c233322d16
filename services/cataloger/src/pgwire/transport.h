// One connection's bytes, for its own thread: the plain socket, or TLS over it once
// start_tls has done the handshake (the session does not know which). Reads wait at
// most until a deadline; a write that makes no progress for `write_timeout` fails,
// so a peer that stalls (mid-handshake too) never holds the thread.
#pragma once

#include <chrono>
#include <string>

#include "etl/result.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace etl::pgwire {

class Transport final {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  // `fd` stays owned by the caller; its SO_SNDTIMEO bounds plain writes.
  Transport(int fd, std::chrono::seconds write_timeout) : fd_(fd), write_timeout_(write_timeout) {}
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Reads exactly n bytes, waiting at most until `deadline`. timeout when it passes,
  // unavailable when the peer closed, the socket failed or TLS failed.
  Status read_exact(char* out, std::size_t n, Deadline deadline);
  // The next byte on the plain socket, left there to be read (MSG_PEEK), waiting at
  // most until `deadline`: what a connection starts with, before any TLS.
  Result<unsigned char> peek_byte(Deadline deadline);
  // Writes everything.
  Status write_all(const std::string& data);
  // The server side of a TLS handshake on the socket, done by `deadline` (timeout
  // otherwise); from then on every read and write is encrypted. Nothing may have
  // been read past the SSLRequest: the next byte on the socket is the ClientHello.
  Status start_tls(SSL_CTX* ctx, Deadline deadline);
  // Sends TLS close_notify, best effort, without waiting.
  void close_tls() noexcept;
  bool tls() const noexcept { return ssl_ != nullptr; }
  // The protocol ALPN agreed on in the handshake ("" without TLS or ALPN).
  std::string alpn() const;
  // SCRAM-SHA-256-PLUS's binding data: tls_server_end_point_hash of the certificate
  // this connection presented ("" without TLS, or for a certificate it cannot use).
  std::string tls_server_end_point() const;
  // Whether the peer has closed its side of the connection (its FIN arrived), looked
  // at without reading or waiting. PostgreSQL clients never half-close: one that did
  // has gone away (as PostgreSQL's client_connection_check_interval reads it).
  bool peer_closed() const noexcept;

 private:
  enum class Op { read, write, handshake };
  Result<int> tls_step(Op op, char* data, std::size_t n, Deadline deadline);
  Status wait(short events, Deadline deadline) const;

  int fd_;
  std::chrono::seconds write_timeout_;
  SSL* ssl_ = nullptr;
};

}  // namespace etl::pgwire
