#include "run_store.h"

#include <algorithm>
#include <chrono>

#include "etl/log.h"

namespace etl::extractor {

RunStore::RunStore(std::shared_ptr<ObjectStore> store, std::size_t keep_in_memory)
    : store_(std::move(store)),
      keep_(std::max<std::size_t>(keep_in_memory, 1)),
      writer_([this](std::stop_token stop) { write_behind(stop); }) {}

RunStore::~RunStore() {
  writer_.request_stop();
  writer_.join();
  (void)flush();
}

void RunStore::write_behind(std::stop_token stop) {
  using namespace std::chrono_literals;
  while (!stop.stop_requested()) {
    bool failed_before = false;
    {
      std::lock_guard write_lock(write_mutex_);
      failed_before = !unsaved_.empty();
    }
    {
      std::unique_lock lock(mutex_);
      // Woken by a note or a refused write; while a write has failed, every few seconds anyway.
      if (failed_before) wake_.wait_for(lock, stop, 3s, [&] { return !noted_.empty() || refused_; });
      else wake_.wait(lock, stop, [&] { return !noted_.empty() || refused_; });
      if (stop.stop_requested()) return;
      refused_ = false;
    }
    (void)flush();
  }
}

Status RunStore::write(const RunRecord& run) {
  auto put = store_->put(key_of(run.run_id), to_json(run).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!put) {
    log::error("cannot persist run record", {{"run_id", run.run_id}, {"error", put.error().message}});
    return std::move(put).error();
  }
  return {};
}

void RunStore::trim_locked() {
  while (runs_.size() > keep_) {
    // Never drop a run still in progress (it is updated in place) or one whose
    // latest state is not written yet (flush writes it from here).
    auto it = std::find_if(runs_.begin(), runs_.end(),
                           [&](const auto& kv) {
                             return is_final(kv.second.status) && !unsaved_.count(kv.first) && !noted_.count(kv.first);
                           });
    if (it == runs_.end()) break;
    runs_.erase(it);
  }
}

Result<int> RunStore::load(const std::string& now_rfc3339) {
  auto listed = store_->list(kRunsPrefix);
  if (!listed) return std::move(listed).error();
  int loaded = 0;
  for (const auto& info : *listed) {
    if (info.key.size() < 6 || info.key.compare(info.key.size() - 5, 5, ".json") != 0) continue;
    auto body = store_->get(info.key, 16ull << 20);
    if (!body) {
      log::warn("cannot read run record", {{"key", info.key}, {"error", body.error().message}});
      continue;
    }
    auto json = nlohmann::json::parse(*body, nullptr, false);
    auto run = run_record_from_json(json);
    if (!run) {
      log::warn("skipping unreadable run record", {{"key", info.key}, {"error", run.error().message}});
      continue;
    }
    if (!is_final(run->status)) {
      run->status = RunStatus::failed;
      run->error = "interrupted by restart";
      if (run->finished_at.empty()) run->finished_at = now_rfc3339;
      for (auto& s : run->sources) {
        if (s.status == SourceStatus::queued || s.status == SourceStatus::running) {
          s.status = SourceStatus::failed;
          s.error = "interrupted by restart";
        }
      }
      log::warn("run interrupted by restart marked failed", {{"run_id", run->run_id}});
      (void)write(*run);
    }
    std::lock_guard lock(mutex_);
    runs_[run->run_id] = std::move(run).value();
    ++loaded;
  }
  std::lock_guard write_lock(write_mutex_);
  std::lock_guard lock(mutex_);
  trim_locked();
  return loaded;
}

Status RunStore::add(const RunRecord& run) {
  std::lock_guard write_lock(write_mutex_);
  // Durable first: a run the API accepted must be there after a crash.
  ETL_RETURN_IF_ERROR(write(run));
  {
    std::lock_guard lock(mutex_);
    runs_[run.run_id] = run;
    trim_locked();
  }
  (void)flush_locked();
  return {};
}

Status RunStore::flush() {
  std::lock_guard write_lock(write_mutex_);
  {
    std::lock_guard lock(mutex_);
    unsaved_.insert(noted_.begin(), noted_.end());
    noted_.clear();
  }
  return flush_locked();
}

Status RunStore::flush_locked() {
  Status first;
  for (auto it = unsaved_.begin(); it != unsaved_.end();) {
    std::optional<RunRecord> snapshot;
    {
      std::lock_guard lock(mutex_);
      if (auto r = runs_.find(*it); r != runs_.end()) snapshot = r->second;
    }
    if (!snapshot) {  // not in memory (never trimmed while unsaved): nothing to write
      it = unsaved_.erase(it);
      continue;
    }
    if (Status s = write(*snapshot); !s.ok()) {
      if (first.ok()) first = s;
      ++it;
      continue;
    }
    it = unsaved_.erase(it);
  }
  return first;
}

Result<RunRecord> RunStore::apply(const std::string& run_id, const std::function<void(RunRecord&)>& change,
                                  bool noted) {
  std::lock_guard lock(mutex_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return make_error(Errc::not_found, "no run " + run_id);
  change(it->second);
  if (noted) noted_.insert(run_id);
  else noted_.erase(run_id);  // the caller's write takes the noted changes too
  return it->second;
}

Result<RunRecord> RunStore::update(const std::string& run_id, const std::function<void(RunRecord&)>& change) {
  std::lock_guard write_lock(write_mutex_);
  auto changed = apply(run_id, change, false);
  if (!changed) return changed;
  // A failed write is logged and retried later (flush); the run goes on and
  // memory stays the truth for the API.
  if (write(*changed).ok()) {
    unsaved_.erase(run_id);
    (void)flush_locked();
  } else {
    unsaved_.insert(run_id);
    {
      std::lock_guard lock(mutex_);
      refused_ = true;  // the writer tries again every few seconds from now on
    }
    wake_.notify_one();
  }
  return changed;
}

Result<RunRecord> RunStore::note(const std::string& run_id, const std::function<void(RunRecord&)>& change) {
  auto changed = apply(run_id, change, true);
  if (changed) wake_.notify_one();
  return changed;
}

Result<RunRecord> RunStore::get(const std::string& run_id) const {
  {
    std::lock_guard lock(mutex_);
    if (auto it = runs_.find(run_id); it != runs_.end()) return it->second;
  }
  if (!is_run_id(run_id)) return make_error(Errc::not_found, "no run " + run_id);
  auto body = store_->get(key_of(run_id), 16ull << 20);
  if (!body) return make_error(Errc::not_found, "no run " + run_id);
  auto run = run_record_from_json(nlohmann::json::parse(*body, nullptr, false));
  if (!run) return make_error(Errc::not_found, "no run " + run_id);
  return run;
}

std::vector<RunRecord> RunStore::recent(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<RunRecord> out;
  for (auto it = runs_.rbegin(); it != runs_.rend() && out.size() < limit; ++it) out.push_back(it->second);
  return out;
}

}  // namespace etl::extractor
