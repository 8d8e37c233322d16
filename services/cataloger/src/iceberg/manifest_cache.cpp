#include "manifest_cache.h"

namespace etl::cataloger::iceberg {

std::size_t memory_of(const std::vector<ManifestEntry>& entries) {
  std::size_t n = sizeof(entries);
  for (const auto& e : entries)
    n += sizeof(ManifestEntry) + e.file_path.capacity() + e.file_format.capacity() + (e.dt ? e.dt->capacity() : 0);
  return n;
}

std::size_t memory_of(const std::vector<ManifestFile>& manifests) {
  std::size_t n = sizeof(manifests);
  for (const auto& m : manifests) {
    n += sizeof(ManifestFile) + m.manifest_path.capacity();
    for (const auto& p : m.partitions)
      n += sizeof(p) + (p.lower_bound ? p.lower_bound->capacity() : 0) + (p.upper_bound ? p.upper_bound->capacity() : 0);
  }
  return n;
}

const ManifestCache::Item* ManifestCache::find_locked(const std::string& key, std::int64_t length) {
  auto it = index_.find(key);
  if (it == index_.end() || it->second->length != length) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &lru_.front();
}

void ManifestCache::insert_locked(Item item) {
  if (item.cost > max_bytes_) return;  // larger than the whole budget (and 0: off)
  if (auto it = index_.find(item.key); it != index_.end()) {
    bytes_ -= it->second->cost;
    lru_.erase(it->second);
    index_.erase(it);
  }
  bytes_ += item.cost;
  lru_.push_front(std::move(item));
  index_.emplace(lru_.front().key, lru_.begin());
  while (bytes_ > max_bytes_) {
    bytes_ -= lru_.back().cost;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

ManifestCache::Entries ManifestCache::manifest(const std::string& key, std::int64_t length) {
  std::lock_guard lock(mutex_);
  const Item* item = find_locked(key, length);
  if (!item) return nullptr;
  const Entries* entries = std::get_if<Entries>(&item->value);
  return entries ? *entries : nullptr;
}

ManifestCache::Entries ManifestCache::remember(const std::string& key, std::int64_t length,
                                               std::vector<ManifestEntry> entries) {
  const std::size_t cost = key.size() + memory_of(entries);
  auto kept = std::make_shared<const std::vector<ManifestEntry>>(std::move(entries));
  std::lock_guard lock(mutex_);
  insert_locked(Item{key, length, kept, cost});
  return kept;
}

ManifestCache::List ManifestCache::list(const std::string& key) {
  std::lock_guard lock(mutex_);
  const Item* item = find_locked(key, -1);
  if (!item) return nullptr;
  const List* manifests = std::get_if<List>(&item->value);
  return manifests ? *manifests : nullptr;
}

ManifestCache::List ManifestCache::remember(const std::string& key, std::vector<ManifestFile> manifests) {
  const std::size_t cost = key.size() + memory_of(manifests);
  auto kept = std::make_shared<const std::vector<ManifestFile>>(std::move(manifests));
  std::lock_guard lock(mutex_);
  insert_locked(Item{key, -1, kept, cost});
  return kept;
}

std::size_t ManifestCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t ManifestCache::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace etl::cataloger::iceberg
