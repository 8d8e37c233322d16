// Manifests and manifest lists already read, kept parsed: every commit, crawl
// view, compaction plan and time-travel query reads the current snapshot's
// manifests, and without this each of them fetched and decoded every manifest
// again (up to ETL_ICEBERG_MAX_MANIFESTS requests, one after another, per commit).
//
// Safe to reuse because Iceberg never changes a manifest or a manifest list once
// written: each has a name no other file ever gets (ours: `<uuid>-m<k>.avro`,
// `snap-<snapshot id>-<uuid>.avro`). A manifest is also keyed by the length its
// manifest list gives, so a file replaced under the same name by a foreign writer
// is read again rather than trusted.
//
// Bounded: at most `max_bytes` (an estimate of the parsed entries' memory), least
// recently used evicted first; 0 turns it off. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "manifest_files.h"

namespace etl::cataloger::iceberg {

class ManifestCache final {
 public:
  using Entries = std::shared_ptr<const std::vector<ManifestEntry>>;
  using List = std::shared_ptr<const std::vector<ManifestFile>>;

  explicit ManifestCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  ManifestCache(const ManifestCache&) = delete;
  ManifestCache& operator=(const ManifestCache&) = delete;

  // The entries of the manifest at `key` of `length` bytes; null when not kept.
  Entries manifest(const std::string& key, std::int64_t length);
  Entries remember(const std::string& key, std::int64_t length, std::vector<ManifestEntry> entries);
  // The manifest list at `key`; null when not kept.
  List list(const std::string& key);
  List remember(const std::string& key, std::vector<ManifestFile> manifests);

  std::size_t bytes() const;
  std::size_t size() const;

 private:
  struct Item {
    std::string key;
    std::int64_t length = -1;  // manifests: the length the list named; lists: -1
    std::variant<Entries, List> value;
    std::size_t cost = 0;
  };
  using Items = std::list<Item>;
  // The value kept under `key` (and `length`), moved to the front; null when none.
  const Item* find_locked(const std::string& key, std::int64_t length);
  void insert_locked(Item item);

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  Items lru_;  // most recently used first
  std::unordered_map<std::string, Items::iterator> index_;
  std::size_t bytes_ = 0;
};

// What keeping them costs, roughly: the structs and their strings.
std::size_t memory_of(const std::vector<ManifestEntry>& entries);
std::size_t memory_of(const std::vector<ManifestFile>& manifests);

}  // namespace etl::cataloger::iceberg
