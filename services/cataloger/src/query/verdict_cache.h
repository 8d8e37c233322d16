// The SQL gate's verdicts, remembered: a cached query (max_age_s) is answered in
// well under a millisecond, and parsing it again with DuckDB (json_serialize_sql,
// the syntax-tree walk) cost more than the rest of the request (bench/README.md,
// query_benchmark).
//
// A verdict is keyed by the exact SQL text and stamped with the generation of the
// table set it was reached under: a lookup under any other generation is a miss,
// so a table dropped (or added) since is never decided from an old verdict. Only
// verdicts that depend on nothing else are remembered (accepted, or refused with
// invalid_argument); an internal failure is asked again next time.
// Bounded: at most `max_entries` verdicts and `max_bytes` of SQL text, least
// recently used evicted first; a statement longer than `max_statement_bytes` is
// never remembered. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

#include "etl/result.h"

namespace etl::cataloger {

struct VerdictCacheLimits {
  std::size_t max_entries = 1024;            // verdicts kept
  std::size_t max_bytes = 4u << 20;          // SQL text kept, all verdicts together
  std::size_t max_statement_bytes = 64u << 10;  // longer statements are checked every time
};

class VerdictCache final {
 public:
  explicit VerdictCache(VerdictCacheLimits limits = {}) : limits_(limits) {}
  VerdictCache(const VerdictCache&) = delete;
  VerdictCache& operator=(const VerdictCache&) = delete;

  // The verdict reached for exactly `sql` under `generation`; nullopt when there is
  // none. `reads` (optional) gets the tables remembered with it.
  std::optional<Status> find(const std::string& sql, std::uint64_t generation, std::set<std::string>* reads = nullptr);
  // Remembers `verdict` and the tables the statement reads when it may (see
  // above), replacing an older one for `sql`.
  void remember(const std::string& sql, std::uint64_t generation, const Status& verdict,
                const std::set<std::string>& reads = {});

  std::size_t size() const;
  std::size_t bytes() const;

 private:
  struct Entry {
    std::string sql;
    std::uint64_t generation = 0;
    Status verdict;
    std::set<std::string> reads;
  };
  using List = std::list<Entry>;
  void evict_locked();

  VerdictCacheLimits limits_;
  mutable std::mutex mutex_;
  List lru_;  // most recently used first
  std::unordered_map<std::string_view, List::iterator> index_;  // views into lru_'s sql
  std::size_t bytes_ = 0;
};

}  // namespace etl::cataloger
