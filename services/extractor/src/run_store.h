// Run records in memory and as `runs/<run_id>.json` in the raw store, so they
// survive a restart. Every change is written through (atomic put), in order.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etl/object_store.h"
#include "run_record.h"

namespace etl::extractor {

inline constexpr char kRunsPrefix[] = "runs/";

class RunStore final {
 public:
  // Keeps up to `keep_in_memory` records in memory; older ones are read from the store on demand.
  explicit RunStore(std::shared_ptr<ObjectStore> store, std::size_t keep_in_memory = 1000);
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  // Loads the persisted records. A run left queued or running by a process that
  // died is marked failed ("interrupted by restart") and written back. Returns
  // how many were loaded; unreadable records are logged and skipped.
  Result<int> load(const std::string& now_rfc3339);

  // Writes a new record, then keeps it; the store's error when the write fails.
  Status add(const RunRecord& run);
  // Applies `change` to the record and writes the result. not_found when unknown.
  Result<RunRecord> update(const std::string& run_id, const std::function<void(RunRecord&)>& change);

  // Writes again the records whose last write failed (the store was down); the
  // first error when some still fail. Also done after every successful write.
  Status flush();

  // not_found when unknown (also looks in the store for records no longer in memory).
  Result<RunRecord> get(const std::string& run_id) const;
  // Newest first.
  std::vector<RunRecord> recent(std::size_t limit) const;

 private:
  static std::string key_of(const std::string& run_id) { return kRunsPrefix + run_id + ".json"; }
  Status write(const RunRecord& run);
  Status flush_locked();  // under write_mutex_
  void trim_locked();

  std::shared_ptr<ObjectStore> store_;
  std::size_t keep_;
  std::mutex write_mutex_;    // orders writes: the last write of a record is its latest state
  mutable std::mutex mutex_;  // guards runs_
  std::map<std::string, RunRecord> runs_;  // run ids sort by creation time
  std::set<std::string> unsaved_;          // under write_mutex_: runs whose latest state is not in the store
};

}  // namespace etl::extractor
