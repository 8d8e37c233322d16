// Background backfills (`POST /v1/reprocess`) and the start-up scan of
// to_be_processed/: list a prefix, run every object through the pipeline, one
// job at a time on one worker thread, keeping counts and the first errors.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "etl/object_store.h"
#include "pipeline.h"

namespace etl::transformer {

enum class JobState { queued, running, succeeded, partial, failed, cancelled };
const char* to_string(JobState state) noexcept;

struct JobError {
  std::string key;
  Errc code = Errc::internal;
  std::string message;
};

struct JobSnapshot {
  std::string id;
  std::string prefix;
  JobState state = JobState::queued;
  std::string created_at, started_at, finished_at;  // RFC 3339, "" until then
  std::uint64_t total = 0, done = 0, failed = 0;    // objects
  std::uint64_t albums_rows = 0, artists_rows = 0, songs_rows = 0;
  SkipCounts skipped;
  std::vector<JobError> errors;  // the first kMaxJobErrors
  std::string error;             // why the whole job failed (listing), if it did
};

inline constexpr std::size_t kMaxJobErrors = 20;
// Reprocess jobs waiting at once; more are refused (rate_limited: HTTP 429).
inline constexpr std::size_t kMaxQueuedJobs = 16;

class JobRunner final {
 public:
  using Lister = std::function<Result<std::vector<ObjectInfo>>(const std::string& prefix)>;
  // Runs one object of job `job_id` (jobs run one at a time, their objects in order).
  using ObjectRun = std::function<Result<TransformResult>(const std::string& job_id, const std::string& key)>;

  JobRunner(Lister list, ObjectRun run);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  void start();
  // Queues a job over every object under `prefix` (already validated); returns its
  // id, or rate_limited when kMaxQueuedJobs are waiting already.
  Result<std::string> submit(const std::string& prefix);
  std::optional<JobSnapshot> get(const std::string& id) const;
  // Cancels queued jobs, lets the object in hand finish, joins.
  void stop();

 private:
  void work();
  void run_job(const std::string& id);
  // run_, with whatever it throws as that object's error.
  Result<TransformResult> run_object(const std::string& id, const std::string& key);

  Lister list_;
  ObjectRun run_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::map<std::string, JobSnapshot> jobs_;
  std::deque<std::string> history_;  // ids, oldest first; the oldest finished ones are forgotten
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace etl::transformer
