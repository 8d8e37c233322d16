// How every HTTP listener reads a request head (ConnectionStream in
// shared/src/http/http_listener.h): each byte a client sends before its body
// passes through it first, on every service's port. Bytes in over a socket,
// read in pieces of varying size as the parser would; out: the head cut at a
// bound or refused, or its fields as sent, within the bounds; never a crash.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>

#include "http_listener.h"

using etl::http::ConnectionStream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte chooses the piece size the reader asks for (httplib reads a head byte by byte).
  const std::size_t piece = 1 + data[0] % 64;
  ++data;
  --size;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  const int room = 1 << 20;
  ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
  for (std::size_t sent = 0; sent < size;) {
    const ssize_t n = ::send(fds[0], data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0) break;  // the rest would not fit: what was sent is the input
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fds[0], SHUT_WR);
  {
    ConnectionStream stream(fds[1], std::chrono::microseconds(0), std::chrono::microseconds(0));
    char buf[64];
    // Heads one after another, as pipelined requests: a head is over at its blank line,
    // which the reader sees as "\r\n\r\n" in what it has read (the stream counts on its own).
    for (int request = 0; request < 16; ++request) {
      stream.begin_request();
      std::size_t read = 0;
      char last[4] = {0, 0, 0, 0};
      bool ended = false, more = false;
      for (;;) {
        const ssize_t n = stream.read(buf, piece);
        if (n <= 0) break;
        read += static_cast<std::size_t>(n);
        if (read > ConnectionStream::kMaxRequestHead + 64 && stream.head_error() == ConnectionStream::HeadError::none &&
            !ended)
          std::abort();  // a head past its bound was let through
        for (ssize_t i = 0; i < n; ++i) {
          last[0] = last[1], last[1] = last[2], last[2] = last[3], last[3] = buf[i];
          if (last[0] == '\r' && last[1] == '\n' && last[2] == '\r' && last[3] == '\n') ended = true;
        }
        if (ended) {
          more = true;
          break;
        }
      }
      const auto fields = stream.take_fields();
      if (fields.size() > ConnectionStream::kMaxHeaderFields) std::abort();
      for (const auto& [name, value] : fields)
        if (name.size() + value.size() > ConnectionStream::kMaxFieldLine) std::abort();
      if (!more || stream.head_error() != ConnectionStream::HeadError::none) break;
    }
  }
  ::close(fds[0]);
  ::close(fds[1]);
  return 0;
}
