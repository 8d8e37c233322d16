#include "task_pool.h"

#include <algorithm>

namespace etl::transformer {

struct TaskPool::Group {
  const std::function<void(std::size_t)>* task;
  std::size_t left;
  std::condition_variable done;
};

TaskPool::TaskPool(int threads) {
  for (int i = 0; i < std::max(0, threads - 1); ++i) workers_.emplace_back([this] { work(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool TaskPool::run_one(std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) return false;
  auto [group, index] = queue_.front();
  queue_.pop_front();
  lock.unlock();
  (*group->task)(index);
  lock.lock();
  if (--group->left == 0) group->done.notify_all();
  return true;
}

void TaskPool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    run_one(lock);
  }
}

void TaskPool::run_all(std::size_t n, const std::function<void(std::size_t)>& task) {
  if (n == 0) return;
  Group group{&task, n, {}};
  std::unique_lock lock(mutex_);
  for (std::size_t i = 0; i < n; ++i) queue_.emplace_back(&group, i);
  wake_.notify_all();
  // The caller works too (on any group's task: the queue is first come, first served).
  while (group.left > 0) {
    if (!run_one(lock)) group.done.wait(lock, [&] { return group.left == 0 || !queue_.empty(); });
  }
}

}  // namespace etl::transformer
