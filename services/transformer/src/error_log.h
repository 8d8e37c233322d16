// The last failures, for `GET /v1/status`: what an operator looks at first
// when a metric says something goes to the dead-letter topic.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "etl/result.h"
#include "etl/s3_event.h"

namespace etl::transformer {

struct ErrorRecord {
  std::string at;      // RFC 3339, the latest occurrence
  std::string source;  // event | http | job
  std::string key;
  Errc code = Errc::internal;
  std::string message;
  std::uint64_t count = 1;  // the same failure repeated (retries) is one record
};

class ErrorLog final {
 public:
  static constexpr std::size_t kKeep = 20;

  void add(const std::string& source, const std::string& key, const Error& error) {
    std::lock_guard lock(mutex_);
    ++total_;
    const std::string at = rfc3339(std::chrono::system_clock::now());
    // Retries of objects fetched side by side interleave: the same failure anywhere
    // in the list is merged into its record, which moves to the end (the latest).
    for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
      if (it->key == key && it->code == error.code && it->message == error.message && it->source == source) {
        ErrorRecord merged = std::move(*it);
        records_.erase(std::next(it).base());
        ++merged.count;
        merged.at = at;
        records_.push_back(std::move(merged));
        return;
      }
    }
    records_.push_back(ErrorRecord{at, source, key, error.code, error.message, 1});
    if (records_.size() > kKeep) records_.pop_front();
  }

  // Oldest first.
  std::vector<ErrorRecord> last() const {
    std::lock_guard lock(mutex_);
    return {records_.begin(), records_.end()};
  }

  std::uint64_t total() const {
    std::lock_guard lock(mutex_);
    return total_;
  }

 private:
  mutable std::mutex mutex_;
  std::deque<ErrorRecord> records_;
  std::uint64_t total_ = 0;
};

}  // namespace etl::transformer
