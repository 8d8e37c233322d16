// What keeps a listener answering under slow clients and slow handlers:
// a thread per connection, up to a bound (so a probe never queues behind
// queries), and a deadline for a request's headers and body that closes
// connections which dribble bytes (slowloris). cpp-httplib 0.11 has neither
// a total read deadline nor an accept hook, so the watchdog finds the
// listener's connections by scanning this process's sockets. And a
// connection loop of our own (Listener): httplib's loses what it read ahead
// of a request (pipelined requests) and writes nothing to a half-closed peer.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "etl/metrics.h"

namespace etl::http {

// httplib's task queue: one task per accepted connection. Threads are reused
// and created on demand up to `max_threads`; at the bound, enqueue() (the
// accept loop) waits, and new connections wait in the kernel's backlog.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  ConnectionPool(std::size_t max_threads, const std::atomic<bool>& stopping, Gauge& busy);
  ~ConnectionPool() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void work();
  const std::size_t max_threads_;
  const std::atomic<bool>& stopping_;
  Gauge& busy_;
  std::mutex mutex_;
  std::condition_variable task_ready_, worker_free_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool shutdown_ = false;
};

// One connection's byte stream for httplib's request parser. What a read
// takes from the socket beyond the request stays here for the next one
// (httplib 0.11 makes a stream per request and drops it: pipelined requests
// were lost). A write does not first check that the peer still sends
// (httplib's is_socket_alive): a client that half-closed after its request
// (`nc -N`, shutdown(SHUT_WR)) still gets the answer.
//
// It also bounds a request's head (request line and header lines, through the
// blank line that ends them) to kMaxRequestHead bytes and kMaxHeaderFields
// lines: httplib 0.11 bounds each line only after reading all of it, and
// neither their number nor their sum, so one connection could make it store a
// gigabyte of header fields within the request deadline. A body is not
// counted; each pipelined request's head is counted on its own.
//
// And it reads each header field line as RFC 9112 section 5 has it, where
// httplib 0.11 keeps what it should refuse and drops what it should keep:
// `Content-Length : 5` under the name "Content-Length ", a field with an empty
// value not at all, a folded line, one without a colon or ending in a bare LF
// skipped. Each of these let a body be read as the next request, where a proxy
// in front read it otherwise (request smuggling). httplib also percent-decodes
// every value (`Content-Length: %31%38` is 18, a token with %41 in it never
// matches), so the fields as sent are kept here and replace httplib's
// (take_fields) before anything reads them.
//
// Past a bound or at a byte a field line must not have, reads end (0) before
// httplib sees that byte and head_error() says why; the request is refused
// (431, or 400 for a malformed line) and the connection closed
// (Server::Impl::refused_by_httplib).
class ConnectionStream final : public httplib::Stream {
 public:
  // 64 KiB: at the top of common defaults (nginx 4 x 8 KiB buffers, Node.js
  // 16 KiB, Apache 100 lines of 8 KiB), ample for any client of these APIs (a
  // browser with cookies sends a few KiB).
  static constexpr std::size_t kMaxRequestHead = 64 * 1024;
  // Apache's LimitRequestFields. Bytes alone do not bound memory: httplib
  // stores each field as a map node of about 120 bytes, so 64 KiB of `a:b`
  // lines cost 1.5 MB, and 500 such connections held 750 MB (measured); with
  // this bound a held connection costs at most about 80 KB, and the copy of
  // its fields kept here (take_fields) at most 64 KiB more.
  static constexpr std::size_t kMaxHeaderFields = 100;
  // A header field line, with its CRLF, and the request line: httplib's
  // CPPHTTPLIB_HEADER_MAX_LENGTH and CPPHTTPLIB_REQUEST_URI_MAX_LENGTH. Both
  // are compiled into Debian's libcpp-httplib.so (its httplib.h declares
  // read_headers, the .so defines it), so a #define cannot raise them. A
  // longer field line is refused here, as it arrives; a longer request line
  // by httplib, with 414.
  static constexpr std::size_t kMaxFieldLine = 8 * 1024;
  static constexpr std::size_t kMaxRequestLine = 8 * 1024;

  // Why the current request's head was cut short.
  enum class HeadError {
    none,
    too_large,       // past kMaxRequestHead or kMaxHeaderFields: 431
    field_too_long,  // a field line past kMaxFieldLine: 431
    malformed,       // a line RFC 9112 does not allow (head_problem() says which): 400
  };

  ConnectionStream(int fd, std::chrono::microseconds read_timeout, std::chrono::microseconds write_timeout);
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }
  // Whether the next request starts within `timeout` (bytes read ahead count;
  // the peer's end of stream does not). Gives up early once `stop` is set.
  bool wait_request(std::chrono::milliseconds timeout, const std::function<bool()>& stop) const;
  // The next byte read starts a request's head (its count starts again at 0).
  void begin_request();
  HeadError head_error() const { return head_error_; }
  // For HeadError::malformed: what was wrong, for the 400's detail.
  const char* head_problem() const { return head_problem_; }
  // The current head's header fields as sent, once it has ended: every field
  // line in order, empty values too, each value without the whitespace around
  // it and not decoded. Once: the copy is dropped.
  httplib::Headers take_fields();

 private:
  bool wait(short events, std::chrono::microseconds timeout) const;
  // How many of the `n` bytes at `p` may be handed to the parser: all of them
  // once the head has ended; within it, those before the first that would pass
  // a bound or make a line malformed.
  std::size_t count_head(const char* p, std::size_t n);
  // Ends the head at the byte being counted: reads return 0 from here on.
  void refuse(HeadError error, const char* problem = nullptr);
  void drop_fields();
  const int fd_;
  const std::chrono::microseconds read_timeout_, write_timeout_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // the unread bytes in buffer_
  // The current request's head, as httplib reads it: lines end at LF; the
  // first line that is exactly CRLF after the request line ends the head.
  bool in_head_ = true, request_line_ = true, after_cr_ = false, in_name_ = true;
  HeadError head_error_ = HeadError::none;
  const char* head_problem_ = nullptr;
  std::size_t head_bytes_ = 0, line_bytes_ = 0;
  // The field lines so far: each name and value, one after the other, in
  // field_bytes_ (the current line's from line_start_, its name name_size_
  // bytes long).
  struct Field {
    std::size_t name, name_size, value, value_size;  // offsets and sizes in field_bytes_
  };
  std::string field_bytes_;
  std::vector<Field> fields_;
  std::size_t line_start_ = 0, name_size_ = 0;
};

// httplib's server with the connection loop above: pipelined requests are
// answered in order, and a response that must end its connection (a body
// left unread, a message of unknown length) does so after it is written.
class Listener final : public httplib::Server {
 public:
  // The connection whose request this thread is answering closes after the response.
  static void close_after_response();
  // That connection's stream, for a body read past httplib (chunked, strictly).
  static httplib::Stream& stream();
  // Why this thread's request head was cut short (ConnectionStream), and for
  // a malformed one what was wrong; none outside a request.
  static ConnectionStream::HeadError head_error();
  static const char* head_problem();
  // Whether the connection this thread answers ends after the response.
  static bool closes_after_response();
  // The socket of the connection this thread answers; -1 outside one.
  static int connection();

 private:
  bool process_and_close_socket(socket_t sock) override;
};

class ConnectionWatchdog {
 public:
  ConnectionWatchdog(std::chrono::milliseconds deadline, Counter& closed);
  ~ConnectionWatchdog();
  void start(int port);
  void stop();
  // A handler runs for `peer` (its time is the handler's, not the client's).
  void handler_started(const std::string& peer);
  // The response is written: the client's clock starts again (keep-alive).
  void response_written(const std::string& peer);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point waiting_since;  // epoch: not known yet
    std::chrono::steady_clock::time_point touched;        // last note or scan that saw it
    bool in_handler = false;
  };
  void scan();
  const std::chrono::milliseconds deadline_;
  Counter& closed_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, Entry> entries_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace etl::http
