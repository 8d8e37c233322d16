#include "result_cache.h"

namespace etl::cataloger {
namespace {

// The list, position and key nodes and the shared_ptr's control block of an entry.
constexpr std::size_t kEntryOverhead = 256;

}  // namespace

void StoredResult::set_rows(std::vector<std::string>&& rows) {
  std::size_t total = 0;
  for (const auto& r : rows) total += r.size();
  row_text.clear();
  row_text.reserve(total);
  row_ends.clear();
  row_ends.reserve(rows.size());
  for (auto& r : rows) {
    row_text += r;
    row_ends.push_back(row_text.size());
    std::string().swap(r);
  }
  rows = {};
}

std::size_t ResultCache::charge(const StoredResult& result) noexcept {
  std::size_t n = sizeof(StoredResult) + kEntryOverhead + result.row_bytes() + result.key.size() + result.location.size();
  for (const auto& c : result.columns) n += sizeof(ColumnInfo) + c.name.size() + c.type.size();
  return n;
}

std::shared_ptr<const StoredResult> ResultCache::keep(StoredResult result) {
  auto kept = std::make_shared<const StoredResult>(std::move(result));
  lru_.push_front(kept);
  pos_[kept.get()] = lru_.begin();
  bytes_ += charge(*kept);
  if (!kept->key.empty()) by_key_[kept->key] = kept;
  while (bytes_ > budget_ && lru_.size() > 1) {
    auto victim = lru_.back();
    lru_.pop_back();
    pos_.erase(victim.get());
    bytes_ -= charge(*victim);
    auto c = by_key_.find(victim->key);
    if (c != by_key_.end() && c->second.lock() == victim) by_key_.erase(c);
  }
  for (auto it = by_key_.begin(); it != by_key_.end();) it = it->second.expired() ? by_key_.erase(it) : std::next(it);
  return kept;
}

std::shared_ptr<const StoredResult> ResultCache::find(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second.lock();
}

void ResultCache::touch(const StoredResult* result) {
  auto it = pos_.find(result);
  if (it != pos_.end()) lru_.splice(lru_.begin(), lru_, it->second);
}

}  // namespace etl::cataloger
