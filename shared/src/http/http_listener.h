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
class ConnectionStream final : public httplib::Stream {
 public:
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

 private:
  bool wait(short events, std::chrono::microseconds timeout) const;
  const int fd_;
  const std::chrono::microseconds read_timeout_, write_timeout_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // the unread bytes in buffer_
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
