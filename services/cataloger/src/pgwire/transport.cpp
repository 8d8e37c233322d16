#include "pgwire/transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "etl/peer.h"
#include "pgwire/scram.h"

namespace etl::pgwire {
namespace {

// A socket BIO that never blocks and never raises SIGPIPE (send with MSG_NOSIGNAL):
// OpenSSL's own socket BIO would use write(2). The fd is the BIO's data.
int fd_of(BIO* b) { return static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(b))); }

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int bio_read(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::recv(fd_of(b), out, static_cast<std::size_t>(len), MSG_DONTWAIT);
  if (n < 0 && would_block(errno)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}

int bio_write(BIO* b, const char* in, int len) {
  BIO_clear_retry_flags(b);
  ssize_t n = ::send(fd_of(b), in, static_cast<std::size_t>(len), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0 && would_block(errno)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}

long bio_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pgwire socket");
    if (m) {
      BIO_meth_set_read(m, &bio_read);
      BIO_meth_set_write(m, &bio_write);
      BIO_meth_set_ctrl(m, &bio_ctrl);
    }
    return m;
  }();
  return method;
}

std::string openssl_reason() {
  unsigned long code = ERR_peek_last_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  return reason ? reason : "connection closed";
}

}  // namespace

Transport::~Transport() {
  if (ssl_) SSL_free(ssl_);
}

Status Transport::wait(short events, Deadline deadline) const {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(Errc::timeout, "the client sent nothing in time");
    pollfd p{fd_, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return make_error(Errc::unavailable, "poll failed");
    if (r > 0) return {};  // ready, closed or failed: the next call says which
  }
}

Status Transport::read_exact(char* out, std::size_t n, Deadline deadline) {
  std::size_t got = 0;
  while (got < n) {
    if (ssl_) {
      auto k = tls_step(Op::read, out + got, n - got, deadline);
      if (!k) return std::move(k).error();
      got += static_cast<std::size_t>(*k);
      continue;
    }
    ETL_RETURN_IF_ERROR(wait(POLLIN, deadline));
    ssize_t k = ::recv(fd_, out + got, n - got, MSG_DONTWAIT);
    if (k < 0 && would_block(errno)) continue;
    if (k <= 0) return make_error(Errc::unavailable, "the client closed the connection");
    got += static_cast<std::size_t>(k);
  }
  return {};
}

Result<unsigned char> Transport::peek_byte(Deadline deadline) {
  if (ssl_) return make_error(Errc::invalid_argument, "peek_byte reads the plain socket only");
  while (true) {
    ETL_RETURN_IF_ERROR(wait(POLLIN, deadline));
    unsigned char byte = 0;
    ssize_t k = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (k < 0 && would_block(errno)) continue;
    if (k <= 0) return make_error(Errc::unavailable, "the client closed the connection");
    return byte;
  }
}

std::string Transport::alpn() const {
  if (!ssl_) return {};
  const unsigned char* name = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl_, &name, &length);
  return name ? std::string(reinterpret_cast<const char*>(name), length) : std::string();
}

std::string Transport::tls_server_end_point() const {
  return ssl_ ? tls_server_end_point_hash(SSL_get_certificate(ssl_)) : std::string();
}

Status Transport::write_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    if (ssl_) {
      // Bounded per step: a peer that reads nothing for write_timeout_ fails the write.
      auto k = tls_step(Op::write, const_cast<char*>(data.data()) + sent, data.size() - sent,
                        std::chrono::steady_clock::now() + write_timeout_);
      if (!k) return make_error(Errc::unavailable, "cannot write to the client: " + k.error().message);
      sent += static_cast<std::size_t>(*k);
      continue;
    }
    ssize_t k = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return make_error(Errc::unavailable, "cannot write to the client");
    sent += static_cast<std::size_t>(k);
  }
  return {};
}

Status Transport::start_tls(SSL_CTX* ctx, Deadline deadline) {
  if (ssl_) return make_error(Errc::invalid_argument, "TLS is already on");
  ERR_clear_error();
  BIO* bio = socket_method() ? BIO_new(socket_method()) : nullptr;
  SSL* ssl = bio ? SSL_new(ctx) : nullptr;
  if (!ssl) {
    if (bio) BIO_free(bio);
    return make_error(Errc::internal, "cannot set up TLS: " + openssl_reason());
  }
  BIO_set_data(bio, reinterpret_cast<void*>(static_cast<std::intptr_t>(fd_)));
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO now
  SSL_set_accept_state(ssl);
  ssl_ = ssl;
  auto done = tls_step(Op::handshake, nullptr, 0, deadline);
  if (!done) return make_error(done.error().code, "TLS handshake failed: " + done.error().message);
  return {};
}

// One SSL call, repeated while OpenSSL waits for the socket, until `deadline`.
Result<int> Transport::tls_step(Op op, char* data, std::size_t n, Deadline deadline) {
  const int len = static_cast<int>(std::min<std::size_t>(n, 1u << 30));
  while (true) {
    ERR_clear_error();
    int r = op == Op::read ? SSL_read(ssl_, data, len)
            : op == Op::write ? SSL_write(ssl_, data, len)
                              : SSL_do_handshake(ssl_);
    if (r > 0) return r;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      ETL_RETURN_IF_ERROR(wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline));
      continue;
    }
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_last_error() == 0))
      return make_error(Errc::unavailable, "the client closed the connection");
    return make_error(Errc::unavailable, openssl_reason());
  }
}

void Transport::close_tls() noexcept {
  if (!ssl_) return;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);  // close_notify if the socket takes it now; no waiting for the peer's
  ERR_clear_error();
}

bool Transport::peer_closed() const noexcept { return etl::peer_closed(fd_); }

}  // namespace etl::pgwire
