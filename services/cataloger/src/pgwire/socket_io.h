// Blocking socket reads and writes with deadlines, for one connection's thread.
#pragma once

#include <chrono>
#include <string>

#include "etl/result.h"

namespace etl::pgwire {

class SocketIo final {
 public:
  explicit SocketIo(int fd) : fd_(fd) {}
  // Reads exactly n bytes, waiting at most until `deadline`. timeout when it passes,
  // unavailable when the peer closed or the socket failed.
  Status read_exact(char* out, std::size_t n, std::chrono::steady_clock::time_point deadline);
  // Writes everything (the socket's SO_SNDTIMEO bounds a peer that stops reading).
  Status write_all(const std::string& data);
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace etl::pgwire
