#include "jobs.h"

#include <random>

#include "etl/log.h"
#include "etl/s3_event.h"

namespace etl::transformer {
namespace {

constexpr std::size_t kKeepJobs = 100;

std::string now_text() { return rfc3339(std::chrono::system_clock::now()); }

std::string new_job_id() {
  static constexpr char hex[] = "0123456789abcdef";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t v = rng();
  std::string id = "job-";
  for (int i = 0; i < 16; ++i) id += hex[(v >> (i * 4)) & 15];
  return id;
}

}  // namespace

const char* to_string(JobState state) noexcept {
  switch (state) {
    case JobState::queued: return "queued";
    case JobState::running: return "running";
    case JobState::succeeded: return "succeeded";
    case JobState::partial: return "partial";
    case JobState::failed: return "failed";
    case JobState::cancelled: return "cancelled";
  }
  return "failed";
}

JobRunner::JobRunner(Lister list, ObjectRun run) : list_(std::move(list)), run_(std::move(run)) {}

JobRunner::~JobRunner() { stop(); }

void JobRunner::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { work(); });
}

Result<std::string> JobRunner::submit(const std::string& prefix) {
  std::lock_guard lock(mutex_);
  if (queue_.size() >= kMaxQueuedJobs)
    return make_error(Errc::rate_limited, std::to_string(kMaxQueuedJobs) + " reprocess jobs are waiting already; retry later");
  JobSnapshot job;
  job.id = new_job_id();
  job.prefix = prefix;
  job.created_at = now_text();
  if (stopping_) {
    job.state = JobState::cancelled;
    job.finished_at = job.created_at;
  } else {
    queue_.push_back(job.id);
  }
  jobs_[job.id] = job;
  history_.push_back(job.id);
  // Forget the oldest finished jobs beyond kKeepJobs.
  for (auto it = history_.begin(); history_.size() > kKeepJobs && it != history_.end();) {
    auto state = jobs_[*it].state;
    if (state == JobState::queued || state == JobState::running) {
      ++it;
      continue;
    }
    jobs_.erase(*it);
    it = history_.erase(it);
  }
  wake_.notify_all();
  return job.id;
}

std::optional<JobSnapshot> JobRunner::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    for (const auto& id : queue_) {
      jobs_[id].state = JobState::cancelled;
      jobs_[id].finished_at = now_text();
    }
    queue_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void JobRunner::work() {
  while (true) {
    std::string id;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.front();
      queue_.pop_front();
      jobs_[id].state = JobState::running;
      jobs_[id].started_at = now_text();
    }
    run_job(id);
  }
}

Result<TransformResult> JobRunner::run_object(const std::string& id, const std::string& key) {
  try {
    return run_(id, key);
  } catch (const std::exception& e) {
    // Something no test foresaw fails this object, not the job or the process.
    log::error("reprocess object threw", {{"job_id", id}, {"key", key}, {"error", e.what()}});
    return make_error(Errc::internal, std::string("internal error: ") + e.what());
  }
}

void JobRunner::run_job(const std::string& id) {
  std::string prefix;
  {
    std::lock_guard lock(mutex_);
    prefix = jobs_[id].prefix;
  }
  auto listed = list_(prefix);
  if (!listed) {
    std::lock_guard lock(mutex_);
    auto& job = jobs_[id];
    job.state = JobState::failed;
    job.error = listed.error().message;
    job.finished_at = now_text();
    log::error("reprocess job failed", {{"job_id", id}, {"error", job.error}});
    return;
  }
  {
    std::lock_guard lock(mutex_);
    jobs_[id].total = listed->size();
  }
  bool cancelled = false;
  for (const auto& object : *listed) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        cancelled = true;
        break;
      }
    }
    auto result = run_object(id, object.key);
    std::lock_guard lock(mutex_);
    auto& job = jobs_[id];
    if (result) {
      ++job.done;
      job.albums_rows += result->albums_rows;
      job.artists_rows += result->artists_rows;
      job.songs_rows += result->songs_rows;
      job.skipped += result->skipped;
    } else {
      ++job.failed;
      if (job.errors.size() < kMaxJobErrors)
        job.errors.push_back(JobError{object.key, result.error().code, result.error().message});
    }
  }
  std::lock_guard lock(mutex_);
  auto& job = jobs_[id];
  if (cancelled) job.state = JobState::cancelled;
  else if (job.failed == 0) job.state = JobState::succeeded;
  else if (job.done > 0) job.state = JobState::partial;
  else job.state = JobState::failed;
  job.finished_at = now_text();
  log::info("reprocess job finished", {{"job_id", id}, {"prefix", job.prefix}, {"state", to_string(job.state)},
                                       {"objects", job.total}, {"failed", job.failed}});
}

}  // namespace etl::transformer
