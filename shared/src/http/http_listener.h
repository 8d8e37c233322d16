// What keeps a listener answering under slow clients and slow handlers:
// a thread per connection, up to a bound (so a probe never queues behind
// queries), and a deadline for a request's headers and body that closes
// connections which dribble bytes (slowloris). cpp-httplib 0.11 has neither
// a total read deadline nor an accept hook, so the watchdog finds the
// listener's connections by scanning this process's sockets.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
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

// The socket of this process connected from `peer` ("ip:port") to local
// `port`; -1 when there is none.
int find_connection(int port, const std::string& peer);

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
