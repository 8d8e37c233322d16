// The stored CSV copies of query results (`_query_results/<id>.csv` in the
// transformed store), bounded by total bytes and by age: every new result evicts
// the oldest ones past either bound, and the index is rebuilt from a listing at
// start-up, so a restart does not forget what is on disk. Each file counts its
// size rounded up to the allocation unit (at least one unit: a 4-byte result
// still takes a block and an inode), so the bound also bounds the file count.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "etl/object_store.h"

namespace etl::cataloger {

struct ResultFilesOptions {
  std::string prefix = "_query_results/";
  std::uint64_t max_bytes = 1ull << 30;   // ETL_QUERY_RESULTS_MAX_BYTES (files counted in 4 KiB units)
  std::chrono::seconds ttl{24 * 3600};    // ETL_QUERY_RESULTS_TTL_S
};

class ResultFiles final {
 public:
  ResultFiles(std::shared_ptr<ObjectStore> store, ResultFilesOptions options)
      : store_(std::move(store)), options_(std::move(options)) {}

  // Lists what is stored already (oldest first) and applies the bounds.
  void load();
  // Stores `csv` as the result of `id` and evicts the oldest past the bounds.
  // Returns the key; too_large when one result alone (as charged) passes max_bytes.
  Result<std::string> put(const std::string& id, const std::string& csv);
  // Deletes results past the age bound (also done at each put).
  void sweep();
  // What the stored files count against max_bytes (charge() of each).
  std::uint64_t bytes() const;
  std::size_t count() const;

  static constexpr std::uint64_t kAllocationUnit = 4096;
  // What a file of `size` bytes counts: `size` rounded up to kAllocationUnit, at least one unit.
  static std::uint64_t charge(std::uint64_t size) noexcept;

 private:
  struct Entry {
    std::string key;
    std::uint64_t size = 0;  // as charged
    std::chrono::system_clock::time_point written;
  };
  void evict_locked(std::deque<Entry>& victims);
  void remove(const std::deque<Entry>& victims);

  std::shared_ptr<ObjectStore> store_;
  ResultFilesOptions options_;
  mutable std::mutex mutex_;
  std::deque<Entry> entries_;  // oldest first
  std::uint64_t bytes_ = 0;
};

}  // namespace etl::cataloger
