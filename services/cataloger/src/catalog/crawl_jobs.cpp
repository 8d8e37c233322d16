#include "crawl_jobs.h"

#include <algorithm>

#include "etl/lake.h"
#include "etl/log.h"
#include "ids.h"

namespace etl::cataloger {

CrawlJobs::CrawlJobs(Runner runner, std::size_t history) : runner_(std::move(runner)), history_(history) {}

CrawlJobs::~CrawlJobs() { stop(); }

void CrawlJobs::start() {
  std::lock_guard lock(mutex_);
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { worker(); });
}

void CrawlJobs::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (const auto& [id, request] : queue_) {
      auto it = crawls_.find(id);
      if (it == crawls_.end() || it->second.state != CrawlState::running) continue;
      it->second.state = CrawlState::failed;
      it->second.error = "abandoned: the cataloger stopped before the crawl started";
      it->second.finished_at = now_rfc3339();
    }
    queue_.clear();
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

CrawlInfo CrawlJobs::accept(const CrawlRequest& request, std::vector<std::string> tables) {
  CrawlInfo info;
  info.crawl_id = new_id();
  info.trigger = request.trigger;
  info.tables = std::move(tables);
  info.started_at = now_rfc3339();
  remember(info);
  return info;
}

namespace {

// `into` grows to cover `more` too: every table of either (none = all), their
// changed keys (none = whole listings; too many: whole listings as well).
void merge_request(CrawlRequest& into, const CrawlRequest& more) {
  if (into.tables.empty() || more.tables.empty()) into.tables.clear();
  else
    for (const auto& t : more.tables)
      if (std::find(into.tables.begin(), into.tables.end(), t) == into.tables.end()) into.tables.push_back(t);
  if (into.changed_keys.empty() || more.changed_keys.empty() ||
      into.changed_keys.size() + more.changed_keys.size() > kMaxMergedKeys)
    into.changed_keys.clear();
  else into.changed_keys.insert(into.changed_keys.end(), more.changed_keys.begin(), more.changed_keys.end());
  into.full = into.full || more.full;
}

}  // namespace

bool crawl_covers(const CrawlRequest& request, const std::string& key) {
  auto data = DataKey::parse(key);
  if (!data) return false;
  if (!request.tables.empty())
    return std::find(request.tables.begin(), request.tables.end(), data->table) != request.tables.end();
  if (request.changed_keys.empty()) return true;
  return std::any_of(request.changed_keys.begin(), request.changed_keys.end(), [&](const std::string& k) {
    auto other = DataKey::parse(k);
    return other && other->table == data->table && other->dt == data->dt;
  });
}

// Past kMaxQueuedCrawls, a new crawl joins the last queued one (which then covers
// both) instead of growing the queue: bounded, and no event is dropped.
CrawlInfo CrawlJobs::submit(const CrawlRequest& request, std::vector<std::string> tables) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueuedCrawls) {
      auto& [id, queued] = queue_.back();
      merge_request(queued, request);
      auto it = crawls_.find(id);
      if (it != crawls_.end()) return it->second;
    }
  }
  CrawlInfo info = accept(request, std::move(tables));
  {
    std::lock_guard lock(mutex_);
    queue_.emplace_back(info.crawl_id, request);
  }
  cv_.notify_all();
  return info;
}

CrawlInfo CrawlJobs::run_now(const CrawlRequest& request, std::vector<std::string> tables) {
  CrawlInfo info = accept(request, std::move(tables));
  run(info, request);
  return info;
}

void CrawlJobs::run(CrawlInfo& info, const CrawlRequest& request) {
  {
    std::lock_guard lock(run_mutex_);
    try {
      runner_(info, request);
    } catch (const std::exception& e) {
      // A reader meeting something no test foresaw (a Glue answer of another
      // shape, ...): this crawl fails with the reason; the worker and the
      // catalog go on, and the next crawl of those tables tries again.
      log::error("crawl threw", {{"crawl_id", info.crawl_id}, {"error", e.what()}});
      info.state = CrawlState::failed;
      info.error = std::string("internal error: ") + e.what();
      info.finished_at = now_rfc3339();
    }
  }
  remember(info);
}

void CrawlJobs::remember(const CrawlInfo& info) {
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = crawls_.insert_or_assign(info.crawl_id, info);
    if (inserted) order_.push_back(info.crawl_id);
    while (order_.size() > history_) {
      crawls_.erase(order_.front());
      order_.pop_front();
    }
  }
  cv_.notify_all();
}

void CrawlJobs::worker() {
  for (;;) {
    std::pair<std::string, CrawlRequest> job;
    CrawlInfo info;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      auto it = crawls_.find(job.first);
      if (it == crawls_.end()) continue;  // forgotten before it ran (history overflow)
      info = it->second;
    }
    run(info, job.second);
  }
}

bool CrawlJobs::stopping_within(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, delay, [&] { return stopping_; });
}

Result<CrawlInfo> CrawlJobs::get(const std::string& crawl_id) {
  std::lock_guard lock(mutex_);
  auto it = crawls_.find(crawl_id);
  if (it == crawls_.end()) return make_error(Errc::not_found, "unknown crawl '" + crawl_id + "' (only recent crawls are kept)");
  return it->second;
}

Result<CrawlInfo> CrawlJobs::wait(const std::string& crawl_id, std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mutex_);
  if (!crawls_.contains(crawl_id)) return make_error(Errc::not_found, "unknown crawl '" + crawl_id + "'");
  cv_.wait_for(lock, max_wait, [&] {
    auto it = crawls_.find(crawl_id);
    return it == crawls_.end() || it->second.state != CrawlState::running;
  });
  auto it = crawls_.find(crawl_id);
  if (it == crawls_.end()) return make_error(Errc::not_found, "unknown crawl '" + crawl_id + "' (forgotten)");
  return it->second;
}

}  // namespace etl::cataloger
