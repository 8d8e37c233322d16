#include "http_listener.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "etl/ascii.h"
#include "etl/log.h"
#include "http_framing.h"

namespace etl::http {

ConnectionPool::ConnectionPool(std::size_t max_threads, const std::atomic<bool>& stopping, Gauge& busy)
    : max_threads_(max_threads), stopping_(stopping), busy_(busy) {}

ConnectionPool::~ConnectionPool() { shutdown(); }

void ConnectionPool::enqueue(std::function<void()> fn) {
  std::unique_lock lock(mutex_);
  // At the bound the accept loop waits for a free thread; while stopping it
  // does not (each connection then answers at once and closes).
  while (idle_ <= tasks_.size() && threads_.size() >= max_threads_ && !stopping_ && !shutdown_)
    worker_free_.wait_for(lock, std::chrono::milliseconds(100));
  tasks_.push_back(std::move(fn));
  if (idle_ < tasks_.size() && threads_.size() < max_threads_) {
    try {
      threads_.emplace_back([this] { work(); });
      return;
    } catch (const std::system_error& e) {
      // No thread to be had (the host's task limit): a thread of the pool takes the
      // connection when it is free; with none yet, the accept loop serves it itself.
      log::warn("cannot start a connection thread", {{"error", e.what()}, {"threads", threads_.size()}});
      if (threads_.empty()) {
        auto task = std::move(tasks_.back());
        tasks_.pop_back();
        lock.unlock();
        task();
        return;
      }
    }
  }
  task_ready_.notify_one();
}

void ConnectionPool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    ++idle_;
    task_ready_.wait(lock, [this] { return shutdown_ || !tasks_.empty(); });
    --idle_;
    if (tasks_.empty()) return;  // shut down with nothing left to serve
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    busy_.inc();
    task();
    busy_.dec();
    lock.lock();
    worker_free_.notify_one();
  }
}

void ConnectionPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  task_ready_.notify_all();
  worker_free_.notify_all();
  for (auto& t : threads) t.join();
}

namespace {

std::string address_text(const sockaddr_storage& addr, socklen_t len) {
  char host[NI_MAXHOST] = {}, port[NI_MAXSERV] = {};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, port, sizeof port,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return {};
  return std::string(host) + ":" + port;
}

int local_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return -1;
}

// The numeric host and the port of `addr`.
void split_address(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST] = {}, service[NI_MAXSERV] = {};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, service, sizeof service,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return;
  ip = host;
  port = std::atoi(service);
}

std::string peer_of(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  return address_text(addr, len);
}

// Calls `fn(fd, peer)` for every connected socket of this process on local `port`.
template <class Fn>
void for_each_connection(int port, Fn fn) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    if (local_port(static_cast<int>(fd)) != port) continue;
    std::string peer = peer_of(static_cast<int>(fd));  // the listening socket has none
    if (!peer.empty() && !fn(static_cast<int>(fd), peer)) break;
  }
  closedir(dir);
}

thread_local bool close_requested = false;
thread_local ConnectionStream* current_stream = nullptr;

}  // namespace

ConnectionStream::ConnectionStream(int fd, std::chrono::microseconds read_timeout, std::chrono::microseconds write_timeout)
    : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout), buffer_(16 * 1024) {}

bool ConnectionStream::wait(short events, std::chrono::microseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0)));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

bool ConnectionStream::is_readable() const { return begin_ < end_ || wait(POLLIN, read_timeout_); }

bool ConnectionStream::is_writable() const { return wait(POLLOUT, write_timeout_); }

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (head_error_ == HeadError::none && in_head_ && head_bytes_ == kMaxRequestHead)  // no wait for bytes that would be refused
    head_error_ = HeadError::too_large;
  if (head_error_ != HeadError::none) return 0;
  if (begin_ == end_) {
    if (!wait(POLLIN, read_timeout_)) return -1;
    ssize_t n;
    do n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return n;
    begin_ = 0;
    end_ = static_cast<std::size_t>(n);
  }
  size = count_head(buffer_.data() + begin_, std::min(size, end_ - begin_));
  std::memcpy(ptr, buffer_.data() + begin_, size);
  begin_ += size;
  return static_cast<ssize_t>(size);  // 0 past the head's bound: httplib's parser stops there
}

void ConnectionStream::begin_request() {
  in_head_ = request_line_ = in_name_ = true;
  after_cr_ = false;
  head_error_ = HeadError::none;
  head_problem_ = nullptr;
  head_bytes_ = line_bytes_ = line_start_ = name_size_ = 0;
  drop_fields();
}

void ConnectionStream::drop_fields() {
  fields_.clear();
  // A large head's copy is not kept while the connection waits for its next request.
  if (field_bytes_.capacity() > 8 * 1024) std::string().swap(field_bytes_);
  field_bytes_.clear();
}

void ConnectionStream::refuse(HeadError error, const char* problem) {
  head_error_ = error;
  head_problem_ = problem;
}

namespace {

// RFC 9110 5.6.2: a field name is a token.
bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::size_t ConnectionStream::count_head(const char* p, std::size_t n) {
  if (!in_head_) return n;
  std::size_t i = 0;
  for (; i < n; ++i) {
    const char c = p[i];
    if (head_bytes_ == kMaxRequestHead) {
      refuse(HeadError::too_large);
      break;
    }
    if (c == '\n') {
      // httplib skips a line that ends in a bare LF; what reads the request in
      // front of this server may take it for a field, or for the end of the head.
      if (!after_cr_) {
        refuse(HeadError::malformed, "a line of the request head ends in LF without CR (RFC 9112 2.2)");
        break;
      }
      const bool blank = !request_line_ && line_bytes_ == 1;
      if (!request_line_ && !blank) {
        if (in_name_) {
          refuse(HeadError::malformed, "a header field line has no colon (RFC 9112 5)");
          break;
        }
        // Without its LF a line is not stored: the 101st field never reaches httplib.
        if (fields_.size() == kMaxHeaderFields) {
          refuse(HeadError::too_large);
          break;
        }
        // The value without the whitespace around it (RFC 9112 5.1); the CR was not kept.
        std::size_t value = line_start_ + name_size_, value_end = field_bytes_.size();
        while (value < value_end && is_blank(field_bytes_[value])) ++value;
        while (value_end > value && is_blank(field_bytes_[value_end - 1])) --value_end;
        field_bytes_.resize(value_end);
        fields_.push_back({line_start_, name_size_, value, value_end - value});
      }
      ++head_bytes_;
      request_line_ = after_cr_ = false;
      in_name_ = true;
      line_bytes_ = 0;
      line_start_ = field_bytes_.size();
      if (blank) {
        in_head_ = false;
        return n;  // what follows is the body (or the next request, counted on its own)
      }
      continue;
    }
    if (after_cr_) {  // RFC 9112 2.2: a bare CR is invalid
      refuse(HeadError::malformed, "a CR in the request head is not followed by LF (RFC 9112 2.2)");
      break;
    }
    if (c == '\r') {
      after_cr_ = true;
    } else if (!request_line_) {
      // The field line with its CRLF would pass httplib's bound (it then
      // refused the request with a bare 400, after reading the whole line).
      if (line_bytes_ + 1 + 2 > kMaxFieldLine) {
        refuse(HeadError::field_too_long);
        break;
      }
      if (in_name_) {
        const char* problem = nullptr;
        if (c == ':' && line_bytes_ == 0) problem = "a header field line has no name (RFC 9112 5)";
        else if (is_blank(c) && line_bytes_ == 0)
          problem = "a header field line starts with whitespace (obsolete line folding, RFC 9112 5.2)";
        else if (is_blank(c)) problem = "whitespace between a header field's name and its colon (RFC 9112 5.1)";
        else if (c != ':' && !is_tchar(c)) problem = "a header field name is not a token (RFC 9110 5.1)";
        if (problem) {
          refuse(HeadError::malformed, problem);
          break;
        }
        if (c == ':') {
          in_name_ = false;
          name_size_ = line_bytes_;
        } else {
          field_bytes_.push_back(c);
        }
      } else {
        if (c == '\0') {  // RFC 9110 5.5: refused or replaced (a bare CR or LF is refused above)
          refuse(HeadError::malformed, "a header field value has a NUL (RFC 9110 5.5)");
          break;
        }
        field_bytes_.push_back(c);
      }
    }
    ++head_bytes_;
    ++line_bytes_;
  }
  return i;  // stopped at byte i (head_error_ says why), or took all
}

httplib::Headers ConnectionStream::take_fields() {
  httplib::Headers out;
  for (const Field& f : fields_) out.emplace(field_bytes_.substr(f.name, f.name_size), field_bytes_.substr(f.value, f.value_size));
  drop_fields();
  return out;
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (!is_writable()) return -1;
  ssize_t n;
  do n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) split_address(addr, len, ip, port);
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0) split_address(addr, len, ip, port);
}

bool ConnectionStream::wait_request(std::chrono::milliseconds timeout, const std::function<bool()>& stop) const {
  if (begin_ < end_) return true;
  // In slices, so that stop() does not wait out an idle keep-alive connection.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto now = std::chrono::steady_clock::now(); now < deadline && !stop(); now = std::chrono::steady_clock::now()) {
    if (wait(POLLIN, std::min<std::chrono::microseconds>(std::chrono::duration_cast<std::chrono::microseconds>(deadline - now), std::chrono::milliseconds(50)))) {
      // Readable: a request, or the peer's end of stream (nothing more to answer).
      char byte;
      return ::recv(fd_, &byte, 1, MSG_PEEK) > 0;
    }
  }
  return false;
}

void Listener::close_after_response() { close_requested = true; }

httplib::Stream& Listener::stream() { return *current_stream; }

ConnectionStream::HeadError Listener::head_error() {
  return current_stream ? current_stream->head_error() : ConnectionStream::HeadError::none;
}

const char* Listener::head_problem() { return current_stream ? current_stream->head_problem() : nullptr; }

bool Listener::closes_after_response() { return close_requested; }

int Listener::connection() { return current_stream ? current_stream->socket() : -1; }

bool Listener::process_and_close_socket(socket_t sock) {
  using std::chrono::seconds, std::chrono::microseconds;
  ConnectionStream stream(sock, seconds(read_timeout_sec_) + microseconds(read_timeout_usec_),
                          seconds(write_timeout_sec_) + microseconds(write_timeout_usec_));
  const auto stopping = [this] { return svr_sock_ == INVALID_SOCKET; };
  current_stream = &stream;
  bool ok = false, closed = false;
  // Called by httplib once a request's head is read, before anything reads its fields.
  const auto setup = [&stream, &closed](httplib::Request& req) {
    req.headers = stream.take_fields();
    // As httplib's process_request sets them.
    req.set_header("REMOTE_ADDR", req.remote_addr);
    req.set_header("REMOTE_PORT", std::to_string(req.remote_port));
    req.set_header("LOCAL_ADDR", req.local_addr);
    req.set_header("LOCAL_PORT", std::to_string(req.local_port));
    // "A server that receives a 100-continue expectation in an HTTP/1.0 request
    // MUST ignore that expectation" (RFC 9110 10.1.1): no 100 (a status HTTP/1.0 lacks);
    // the body follows the head unasked.
    if (req.version == "HTTP/1.0") req.headers.erase("Expect");
    // No range requests: a server may ignore Range (RFC 9110 14.2), and httplib's
    // would answer one with a multipart of every range asked for, overlapping or
    // not (a 600-byte Range made an 8 MB answer of a 39 KB document), and cut a
    // POST's JSON answer (ranges are not defined for POST).
    req.headers.erase("Range");
    req.headers.erase("If-Range");
    req.ranges.clear();
    // httplib ends the connection after an HTTP/1.0 request and after
    // `Connection: close` as written; connection options are case-insensitive
    // and a list (RFC 9110 7.6.1). The response says so (close_requested).
    std::vector<std::string_view> connection;
    for (auto [it, end] = req.headers.equal_range("Connection"); it != end; ++it) connection.emplace_back(it->second);
    for (std::string_view option : framing::list_elements(connection)) closed = closed || ascii_lower(option) == "close";
    if (closed) close_requested = true;
  };
  // As httplib's own loop: at most keep_alive_max_count_ requests, the last
  // answered with Connection: close.
  for (std::size_t left = keep_alive_max_count_; left > 0 && !stopping(); --left) {
    if (!stream.wait_request(seconds(keep_alive_timeout_sec_), stopping)) break;
    close_requested = closed = false;
    stream.begin_request();
    ok = process_request(stream, left == 1, closed, setup);
    if (!ok || closed || close_requested) break;
  }
  close_requested = false;
  current_stream = nullptr;
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

ConnectionWatchdog::ConnectionWatchdog(std::chrono::milliseconds deadline, Counter& closed)
    : deadline_(deadline), closed_(closed) {}

ConnectionWatchdog::~ConnectionWatchdog() { stop(); }

void ConnectionWatchdog::start(int port) {
  port_ = port;
  thread_ = std::thread([this] {
    const auto period = std::clamp(deadline_ / 10, std::chrono::milliseconds(50), std::chrono::milliseconds(500));
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
      lock.unlock();
      scan();
      lock.lock();
    }
  });
}

void ConnectionWatchdog::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ConnectionWatchdog::handler_started(const std::string& peer) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[peer];
  e.in_handler = true;
  e.touched = std::chrono::steady_clock::now();
}

void ConnectionWatchdog::response_written(const std::string& peer) {
  std::lock_guard lock(mutex_);
  auto& e = entries_[peer];
  e.in_handler = false;
  e.waiting_since = e.touched = std::chrono::steady_clock::now();
}

void ConnectionWatchdog::scan() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<int, std::string>> expired;
  std::map<std::string, int> alive;
  for_each_connection(port_, [&](int fd, const std::string& peer) {
    alive.emplace(peer, fd);
    return true;
  });
  {
    std::lock_guard lock(mutex_);
    // Gone from the listing a while: closed (a note can come before the
    // connection's first listing, so fresh entries stay).
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (alive.count(it->first) == 0 && now - it->second.touched > std::chrono::seconds(2)) it = entries_.erase(it);
      else ++it;
    }
    for (const auto& [peer, fd] : alive) {
      Entry& e = entries_[peer];
      e.touched = now;
      if (e.waiting_since == std::chrono::steady_clock::time_point{}) e.waiting_since = now;
      if (e.in_handler || now - e.waiting_since <= deadline_) continue;
      expired.emplace_back(fd, peer);
      e.waiting_since = now;  // once per deadline, until the worker closes it
    }
  }
  for (const auto& [fd, peer] : expired) {
    if (peer_of(fd) != peer) continue;  // closed and reused meanwhile
    closed_.inc();  // before the client can see the close: a scrape right after it counts it
    ::shutdown(fd, SHUT_RDWR);
    log::debug("closed a connection that did not send its request in time", {{"remote", peer}});
  }
}

}  // namespace etl::http
