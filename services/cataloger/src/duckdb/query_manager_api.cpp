// QueryManager: state, waiting, pages, cancel and the watchdog (query_manager.cpp
// has submission and the workers).
#include <algorithm>
#include <cctype>
#include <cstdio>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "query_manager.h"
#include "query_record.h"

namespace etl::cataloger {

namespace {
// Hands the heap's free pages back to the system. A burst of large results leaves
// glibc's arenas holding what they freed, in holes below their tops that only
// malloc_trim returns: idle after one, the cataloger stayed at about twice the
// result cache's bound (bench/README, "The cataloger's memory after large results").
void release_free_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}
}  // namespace

void QueryManager::watchdog_loop() {
  std::unique_lock lock(mutex_);
  auto next_sweep = Clock::now() + std::chrono::minutes(1);
  while (!watchdog_stopping_) {
    auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    std::vector<Record*> due;
    for (const auto& id : active_) {
      Record& r = *records_.at(id);
      if (r.deadline <= now || r.cancel_requested || r.timed_out) due.push_back(&r);
      else next = std::min(next, r.deadline);
    }
    for (Record* r : due) {
      if (r->state == QueryState::queued && !r->cancel_requested) {
        r->timed_out = true;
        queue_.remove(r->id);
        finish(*r, QueryState::failed,
               make_error(Errc::timeout, "the query waited longer than timeout_ms=" +
                                             std::to_string(r->request.timeout.count()) + " for a free engine connection"));
        continue;
      }
      if (r->state != QueryState::running) continue;
      if (!r->cancel_requested) r->timed_out = true;
      // Again every 20 ms until it stops: an interrupt that lands just before the
      // statement starts on the connection is not remembered by DuckDB.
      interrupt_locked(*r);
      next = std::min(next, now + std::chrono::milliseconds(20));
      // One call DuckDB cannot interrupt: past the grace, its engine process goes.
      if (r->interrupted == Clock::time_point{}) r->interrupted = now;
      else if (!r->killed && now - r->interrupted >= options_.kill_grace) kill_locked(*r);
    }
    if (trim_due_ && now >= *trim_due_) {
      trim_due_.reset();
      lock.unlock();
      release_free_heap();
      lock.lock();
      continue;
    }
    if (trim_due_) next = std::min(next, *trim_due_);
    if (now >= next_sweep) {  // stored results past their age, without waiting for a new one
      next_sweep = now + std::chrono::minutes(1);
      lock.unlock();
      files_.sweep();
      lock.lock();
      continue;
    }
    watch_cv_.wait_until(lock, next);
  }
}

QueryStatus QueryManager::status_locked(const Record& r) const {
  QueryStatus s;
  s.query_id = r.id;
  s.engine = "duckdb";
  s.state = r.state;
  s.error = r.error;
  s.stats = r.stats;
  s.result_location = r.result_location;
  s.submitted_at = r.submitted_at;
  s.completed_at = r.completed_at;
  return s;
}

Result<QueryStatus> QueryManager::status(const std::string& query_id) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(query_id);
  if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
  return status_locked(*it->second);
}

Result<QueryStatus> QueryManager::wait(const std::string& query_id, std::chrono::milliseconds max_wait) {
  std::unique_lock lock(mutex_);
  auto it = records_.find(query_id);
  if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
  done_cv_.wait_for(lock, max_wait, [&] {
    auto found = records_.find(query_id);
    return found == records_.end() || is_terminal(found->second->state);
  });
  it = records_.find(query_id);
  if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "' (forgotten)");
  return status_locked(*it->second);
}

std::string QueryManager::token(const std::string& id, std::size_t offset) const {
  std::uint64_t h = 1469598103934665603ull ^ token_salt_;
  for (unsigned char c : id + ":" + std::to_string(offset)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(h & 0xffffffffull));
  return std::to_string(offset) + "." + buf;
}

Result<QueryPage> QueryManager::page(const std::string& query_id, const std::string& next_token) {
  std::shared_ptr<const StoredResult> result;
  std::size_t page_rows = kMaxPageRows;
  QueryStats stats;
  std::string location;
  {
    std::lock_guard lock(mutex_);
    auto it = records_.find(query_id);
    if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
    const Record& r = *it->second;
    if (r.state != QueryState::succeeded)
      return make_error(Errc::conflict, "query " + query_id + " is " + to_string(r.state) + ", it has no result");
    result = r.result.lock();
    if (!result)
      return make_error(Errc::not_found, "the result of query " + query_id +
                                             " has expired from memory; run the query again" +
                                             (r.result_location.empty() ? "" : " or read " + r.result_location));
    cache_.touch(result.get());
    page_rows = r.request.max_rows;
    stats = r.stats;
    location = r.result_location;
  }
  std::size_t offset = 0;
  if (!next_token.empty()) {
    auto dot = next_token.find('.');
    std::size_t parsed = 0;
    bool ok = dot != std::string::npos && dot > 0 && dot < 20;
    for (size_t i = 0; ok && i < dot; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(next_token[i]))) ok = false;
      else parsed = parsed * 10 + static_cast<std::size_t>(next_token[i] - '0');
    }
    if (!ok || token(query_id, parsed) != next_token || parsed == 0 || parsed >= result->row_count())
      return make_error(Errc::invalid_argument, "next_token is not one this query handed out");
    offset = parsed;
  }
  QueryPage page;
  page.query_id = query_id;
  page.engine = "duckdb";
  page.columns = result->columns;
  std::size_t end = std::min(result->row_count(), offset + page_rows);
  page.rows.reserve(end - offset);
  for (std::size_t i = offset; i < end; ++i) page.rows.emplace_back(result->row(i));
  if (end < result->row_count()) page.next_token = token(query_id, end);
  page.stats = stats;
  page.result_location = location;
  return page;
}

// A queued query leaves the queue; a running one is interrupted now (and again by
// the watchdog until the engine stops).
Result<QueryStatus> QueryManager::cancel(const std::string& query_id) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(query_id);
  if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
  Record& r = *it->second;
  if (r.state == QueryState::queued) {
    r.cancel_requested = true;
    queue_.remove(r.id);
    finish(r, QueryState::cancelled, make_error(Errc::cancelled, "cancelled on request"));
  } else if (r.state == QueryState::running) {
    r.cancel_requested = true;
    interrupt_locked(r);
    watch_cv_.notify_all();
  }
  return status_locked(r);
}

Status QueryManager::ping() { return engine_->ping(); }

}  // namespace etl::cataloger
