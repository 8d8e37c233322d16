#include "verdict_cache.h"

namespace etl::cataloger {

std::optional<Status> VerdictCache::find(const std::string& sql, std::uint64_t generation,
                                         std::set<std::string>* reads) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(sql);
  if (it == index_.end()) return std::nullopt;
  if (it->second->generation != generation) {
    // Reached under another table set: never reused, and dropped now.
    bytes_ -= it->second->sql.size();
    List::iterator entry = it->second;
    index_.erase(it);
    lru_.erase(entry);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  if (reads) *reads = it->second->reads;
  return it->second->verdict;
}

void VerdictCache::remember(const std::string& sql, std::uint64_t generation, const Status& verdict,
                            const std::set<std::string>& reads) {
  if (!verdict.ok() && verdict.error().code != Errc::invalid_argument) return;
  if (sql.size() > limits_.max_statement_bytes || sql.size() > limits_.max_bytes || limits_.max_entries == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(sql); it != index_.end()) {
    bytes_ -= it->second->sql.size();
    List::iterator entry = it->second;
    index_.erase(it);
    lru_.erase(entry);
  }
  lru_.push_front(Entry{sql, generation, verdict, reads});
  index_.emplace(lru_.front().sql, lru_.begin());
  bytes_ += sql.size();
  evict_locked();
}

void VerdictCache::evict_locked() {
  while (!lru_.empty() && (lru_.size() > limits_.max_entries || bytes_ > limits_.max_bytes)) {
    bytes_ -= lru_.back().sql.size();
    index_.erase(lru_.back().sql);
    lru_.pop_back();
  }
}

std::size_t VerdictCache::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

std::size_t VerdictCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace etl::cataloger
