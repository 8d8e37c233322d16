// Raw HTTP/1.1 over a loopback socket, for what a well-behaved client library
// would never send: unknown methods, chunked bodies, wrong Host headers, and
// requests that stop half-way (slowloris).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace etl::testing {

class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  bool send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until the peer closes, `timeout` passes, or a whole response (headers
  // and Content-Length body) has arrived.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!complete(out)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_by_peer_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // True once the server closed (recv returned 0 or an error) within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_by_peer_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[4096];
      if (::recv(fd_, buf, sizeof buf, 0) <= 0) closed_by_peer_ = true;
    }
    return closed_by_peer_;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  static int status_of(const std::string& response) {
    if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
    return std::stoi(response.substr(9, 3));
  }
  static std::string header_of(const std::string& response, const std::string& name) {
    auto head = response.substr(0, response.find("\r\n\r\n"));
    std::string lower_head = head, lower_name = name + ":";
    for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = lower_head.find("\r\n" + lower_name);
    if (at == std::string::npos) return {};
    auto start = at + 2 + lower_name.size();
    auto end = head.find("\r\n", start);
    std::string value = head.substr(start, end - start);
    value.erase(0, value.find_first_not_of(' '));
    return value;
  }

 private:
  static bool complete(const std::string& out) {
    auto end = out.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    auto length = header_of(out, "Content-Length");
    return out.size() >= end + 4 + (length.empty() ? 0 : std::stoul(length));
  }
  int fd_ = -1;
  bool connected_ = false;
  bool closed_by_peer_ = false;
};

// One request on a fresh connection; returns the raw response.
inline std::string raw_request(int port, const std::string& request,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  RawConnection c(port);
  if (!c.connected() || !c.send(request)) return {};
  return c.read_response(timeout);
}

}  // namespace etl::testing
