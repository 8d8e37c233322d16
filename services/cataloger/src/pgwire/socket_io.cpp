#include "pgwire/socket_io.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace etl::pgwire {

Status SocketIo::read_exact(char* out, std::size_t n, std::chrono::steady_clock::time_point deadline) {
  std::size_t got = 0;
  while (got < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(Errc::timeout, "the client sent nothing in time");
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return make_error(Errc::unavailable, "poll failed");
    if (r == 0) continue;
    ssize_t k = ::recv(fd_, out + got, n - got, 0);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) return make_error(Errc::unavailable, "the client closed the connection");
    got += static_cast<std::size_t>(k);
  }
  return {};
}

Status SocketIo::write_all(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t k = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return make_error(Errc::unavailable, "cannot write to the client");
    sent += static_cast<std::size_t>(k);
  }
  return {};
}

}  // namespace etl::pgwire
