// Whole query results kept in memory for paging and reuse: LRU, bounded in
// bytes (the result just kept is never evicted). An entry counts all it keeps
// (rows, key, location, columns and its bookkeeping), so the budget also bounds
// how many entries there are. Not thread-safe: the query
// manager calls it under its own mutex.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "etl/catalog.h"

namespace etl::cataloger {

struct StoredResult {
  std::vector<ColumnInfo> columns;
  // The rows' texts end to end and where each ends: a kept result is two blocks of
  // memory, not a heap string per row (whose chunks, once the result was dropped,
  // stayed in the allocator's arenas, and whose headers the budget did not count).
  std::string row_text;
  std::vector<std::size_t> row_ends;

  // Takes `rows` in, freeing each as it goes.
  void set_rows(std::vector<std::string>&& rows);
  std::size_t row_count() const noexcept { return row_ends.size(); }
  // What the rows hold: the two blocks' capacities.
  std::size_t row_bytes() const noexcept { return row_text.capacity() + row_ends.capacity() * sizeof(std::size_t); }
  std::string_view row(std::size_t i) const noexcept {
    const std::size_t begin = i == 0 ? 0 : row_ends[i - 1];
    return std::string_view(row_text).substr(begin, row_ends[i] - begin);
  }
  std::string location;
  std::string key;  // the cache key: a digest of the exact SQL, page size, table versions; "" never matches
  std::chrono::steady_clock::time_point created;
  double elapsed_ms = 0;
};

class ResultCache final {
 public:
  explicit ResultCache(std::size_t budget) : budget_(budget) {}
  std::shared_ptr<const StoredResult> keep(StoredResult result);
  // The result stored under `key` if it is still held; nullptr otherwise.
  std::shared_ptr<const StoredResult> find(const std::string& key) const;
  void touch(const StoredResult* result);
  // What the entries count against the budget (charge() of each).
  std::size_t bytes() const noexcept { return bytes_; }
  // What one entry counts: `bytes` plus everything else it keeps.
  static std::size_t charge(const StoredResult& result) noexcept;

 private:
  std::size_t budget_;
  std::size_t bytes_ = 0;
  std::list<std::shared_ptr<const StoredResult>> lru_;  // most recent first
  std::unordered_map<const StoredResult*, std::list<std::shared_ptr<const StoredResult>>::iterator> pos_;
  std::unordered_map<std::string, std::weak_ptr<const StoredResult>> by_key_;
};

}  // namespace etl::cataloger
