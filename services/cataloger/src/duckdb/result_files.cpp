#include "result_files.h"

#include <algorithm>

#include "etl/log.h"

namespace etl::cataloger {

std::uint64_t ResultFiles::charge(std::uint64_t size) noexcept {
  return std::max<std::uint64_t>(1, (size + kAllocationUnit - 1) / kAllocationUnit) * kAllocationUnit;
}

void ResultFiles::load() {
  auto listed = store_->list(options_.prefix);
  if (!listed) {
    log::warn("cannot list stored query results", {{"error", listed.error().message}});
    return;
  }
  std::sort(listed->begin(), listed->end(), [](const ObjectInfo& a, const ObjectInfo& b) {
    return a.last_modified < b.last_modified;
  });
  std::deque<Entry> victims;
  {
    std::lock_guard lock(mutex_);
    entries_.clear();
    bytes_ = 0;
    for (const auto& obj : *listed) {
      entries_.push_back({obj.key, charge(obj.size), obj.last_modified});
      bytes_ += entries_.back().size;
    }
    evict_locked(victims);
  }
  remove(victims);
}

Result<std::string> ResultFiles::put(const std::string& id, const std::string& csv) {
  if (charge(csv.size()) > options_.max_bytes)
    return make_error(Errc::too_large, "the result CSV (" + std::to_string(csv.size()) +
                                           " bytes, counted in 4 KiB blocks) is larger than ETL_QUERY_RESULTS_MAX_BYTES; "
                                           "not stored");
  std::string key = options_.prefix + id + ".csv";
  auto put = store_->put(key, csv);
  if (!put) return std::move(put).error();
  std::deque<Entry> victims;
  {
    std::lock_guard lock(mutex_);
    entries_.push_back({key, charge(csv.size()), std::chrono::system_clock::now()});
    bytes_ += entries_.back().size;
    evict_locked(victims);
  }
  remove(victims);
  return key;
}

void ResultFiles::sweep() {
  std::deque<Entry> victims;
  {
    std::lock_guard lock(mutex_);
    evict_locked(victims);
  }
  remove(victims);
}

void ResultFiles::evict_locked(std::deque<Entry>& victims) {
  auto cutoff = std::chrono::system_clock::now() - options_.ttl;
  while (!entries_.empty() && (bytes_ > options_.max_bytes || entries_.front().written < cutoff)) {
    bytes_ -= entries_.front().size;
    victims.push_back(std::move(entries_.front()));
    entries_.pop_front();
  }
}

void ResultFiles::remove(const std::deque<Entry>& victims) {
  for (const auto& v : victims)
    if (Status s = store_->remove(v.key); !s.ok())
      log::warn("cannot delete an old query result", {{"key", v.key}, {"error", s.error().message}});
}

std::uint64_t ResultFiles::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t ResultFiles::count() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace etl::cataloger
