#include "debouncer.h"

#include <algorithm>

namespace etl::cataloger {

CrawlDebouncer::CrawlDebouncer(DebounceOptions options, Fire fire) : options_(options), fire_(std::move(fire)) {}

CrawlDebouncer::~CrawlDebouncer() { stop(); }

void CrawlDebouncer::add(const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (pending_.empty()) first_ = now;
    last_ = now;
    pending_.insert(keys.begin(), keys.end());
  }
  cv_.notify_all();
}

void CrawlDebouncer::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void CrawlDebouncer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CrawlDebouncer::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (pending_.empty()) {
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      continue;
    }
    auto due = std::min(last_ + options_.quiet, first_ + options_.max_delay);
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    std::vector<std::string> keys(pending_.begin(), pending_.end());
    pending_.clear();
    lock.unlock();
    fire_(std::move(keys));
    lock.lock();
  }
}

}  // namespace etl::cataloger
