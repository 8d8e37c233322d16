// A fixed set of threads for a batch's independent steps (S3 GETs + transforms,
// PUTs, moves): run_all() hands its tasks to the pool, works on them itself
// too, and returns when all are done. Several callers may share the pool; the
// thread count bounds how many requests a process has in flight at once.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace etl::transformer {

class TaskPool final {
 public:
  explicit TaskPool(int threads);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  // Runs task(0) .. task(n - 1), at most threads() + 1 at a time (the caller helps).
  void run_all(std::size_t n, const std::function<void(std::size_t)>& task);
  int threads() const noexcept { return static_cast<int>(workers_.size()); }

 private:
  struct Group;
  void work();
  bool run_one(std::unique_lock<std::mutex>& lock);

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<Group*, std::size_t>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace etl::transformer
