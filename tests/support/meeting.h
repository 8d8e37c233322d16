// A meeting point for tests that show calls run side by side: each arrival is
// held (at most 5 s) until `count` are in flight at once. Calls made one after
// another never meet, and each waits the whole 5 s alone.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace etl::testing {

class Meeting {
 public:
  explicit Meeting(std::size_t count) : count_(count) {}
  void arrive() {
    std::unique_lock lock(mutex_);
    ++in_flight_;
    arrived_.notify_all();
    if (arrived_.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight_ >= count_ || met_; })) met_ = true;
    --in_flight_;
  }
  bool met() {
    std::lock_guard lock(mutex_);
    return met_;
  }

 private:
  const std::size_t count_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::size_t in_flight_ = 0;
  bool met_ = false;
};

}  // namespace etl::testing
