// Run records in memory and as `runs/<run_id>.json` in the raw store, so they
// survive a restart. Every change is written (atomic put), in order: through,
// or for the steps a crash may lose, by a writer thread right after (`note`).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etl/object_store.h"
#include "run_record.h"

namespace etl::extractor {

inline constexpr char kRunsPrefix[] = "runs/";

class RunStore final {
 public:
  // Keeps up to `keep_in_memory` records in memory; older ones are read from the store on demand.
  explicit RunStore(std::shared_ptr<ObjectStore> store, std::size_t keep_in_memory = 1000);
  // Stops the writer after one last attempt at what is not written yet.
  ~RunStore();
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
  // Applies `change` and returns without waiting for the store: the writer thread
  // writes the record's latest state next (changes made meanwhile go in the same
  // write). For steps a crash may lose (a run or a source started), so that the
  // work they announce does not wait a store round trip. Writes stay in order: a
  // later update's write never goes under a note's.
  Result<RunRecord> note(const std::string& run_id, const std::function<void(RunRecord&)>& change);

  // Writes the records whose latest state is not in the store (noted, or whose
  // last write failed while the store was down); the first error when some still
  // fail. Also done after every successful write, and by the writer thread every
  // few seconds while some are left.
  Status flush();

  // not_found when unknown (also looks in the store for records no longer in memory).
  Result<RunRecord> get(const std::string& run_id) const;
  // Newest first.
  std::vector<RunRecord> recent(std::size_t limit) const;

 private:
  static std::string key_of(const std::string& run_id) { return kRunsPrefix + run_id + ".json"; }
  Status write(const RunRecord& run);
  // Applies `change` to the record under mutex_; the record after it. `noted`: the
  // writer thread writes it (note), else the caller does (update), and that write
  // takes the record's earlier notes too.
  Result<RunRecord> apply(const std::string& run_id, const std::function<void(RunRecord&)>& change, bool noted);
  Status flush_locked();  // under write_mutex_
  void trim_locked();
  void write_behind(std::stop_token stop);

  std::shared_ptr<ObjectStore> store_;
  std::size_t keep_;
  std::mutex write_mutex_;    // orders writes: the last write of a record is its latest state
  mutable std::mutex mutex_;  // guards runs_
  std::map<std::string, RunRecord> runs_;  // run ids sort by creation time
  std::set<std::string> unsaved_;          // under write_mutex_: runs whose latest state is not in the store
  std::set<std::string> noted_;            // under mutex_: changed by note, for the writer
  bool refused_ = false;                   // under mutex_: update's write failed (the writer retries)
  std::condition_variable_any wake_;       // with mutex_: noted_ has runs
  std::jthread writer_;                    // last: it runs on the members above
};

}  // namespace etl::extractor
