#include "query_manager.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

#include "etl/log.h"
#include "ids.h"
#include "sql_guard.h"

namespace etl::cataloger {

using Clock = std::chrono::steady_clock;

struct QueryManager::StoredResult {
  std::vector<ColumnInfo> columns;
  std::vector<std::string> rows;
  std::size_t bytes = 0;
  std::string location;
  std::string key;
  Clock::time_point created;
  double elapsed_ms = 0;
};

struct QueryManager::Record {
  std::string id;
  QueryRequest request;
  QueryState state = QueryState::queued;
  std::optional<Error> error;
  QueryStats stats;
  std::string submitted_at;
  std::string completed_at;
  std::string result_location;
  std::weak_ptr<const StoredResult> result;
  Clock::time_point submitted;
  Clock::time_point deadline;
  bool cancel_requested = false;
  bool timed_out = false;
  int worker = -1;
};

struct QueryManager::Worker {
  int index = 0;
  std::thread thread;
  std::mutex mutex;  // guards `current` against interrupting the wrong query
  std::string current;
  std::unique_ptr<DuckDbEngine::Session> session;
};

QueryManager::QueryManager(std::shared_ptr<Catalog> catalog, std::unique_ptr<DuckDbEngine> engine,
                           std::shared_ptr<ObjectStore> results_store, std::string results_root_url,
                           QueryManagerOptions options, MetricsRegistry& metrics)
    : catalog_(std::move(catalog)),
      engine_(std::move(engine)),
      store_(std::move(results_store)),
      root_url_(std::move(results_root_url)),
      options_(std::move(options)),
      metrics_(metrics),
      token_salt_(std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}()) {
  while (!root_url_.empty() && root_url_.back() == '/') root_url_.pop_back();
}

QueryManager::~QueryManager() { stop(); }

void QueryManager::start() {
  std::lock_guard lock(mutex_);
  if (!workers_.empty()) return;
  stopping_ = false;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.workers); ++i) {
    auto w = std::make_unique<Worker>();
    w->index = static_cast<int>(i);
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { worker_loop(*raw); });
    workers_.push_back(std::move(w));
  }
  watchdog_ = std::thread([this] { watchdog_loop(); });
}

void QueryManager::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    for (const auto& id : active_) {
      auto& r = *records_.at(id);
      r.cancel_requested = true;
      if (r.state == QueryState::running) interrupt_locked(r);
    }
    for (const auto& id : queue_) {
      auto it = records_.find(id);
      if (it != records_.end() && it->second->state == QueryState::queued)
        finish(*it->second, QueryState::cancelled, make_error(Errc::unavailable, "the cataloger is shutting down"));
    }
    queue_.clear();
  }
  queue_cv_.notify_all();
  watch_cv_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  if (watchdog_.joinable()) watchdog_.join();
  std::lock_guard lock(mutex_);
  workers_.clear();
}

std::string QueryManager::cache_key(const QueryRequest& request) {
  {
    std::lock_guard lock(versions_mutex_);
    std::uint64_t generation = catalog_->generation();
    if (generation != versions_generation_) {
      auto tables = catalog_->list_tables();
      if (tables) {
        versions_.clear();
        for (const auto& t : *tables) {
          std::string name = t.name;
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          versions_[name] = t.data_version;
        }
        versions_generation_ = generation;
      }
    }
  }
  std::lock_guard lock(versions_mutex_);
  return cache_key(request, versions_);
}

std::string QueryManager::cache_key(const QueryRequest& request, const std::map<std::string, std::int64_t>& versions) {
  std::string key = normalize_sql(request.sql) + '\x1f' + std::to_string(request.max_rows) + '\x1f';
  for (const auto& name : referenced_names(request.sql)) {
    auto it = versions.find(name);
    if (it != versions.end()) key += name + '@' + std::to_string(it->second) + ';';
  }
  return key;
}

QueryManager::Record& QueryManager::add_record_locked(const QueryRequest& request) {
  auto record = std::make_unique<Record>();
  record->id = new_id();
  record->request = request;
  record->submitted = Clock::now();
  record->submitted_at = now_rfc3339();
  record->deadline = record->submitted + request.timeout;
  Record& ref = *record;
  record_order_.push_back(ref.id);
  records_.emplace(ref.id, std::move(record));
  // Forget the oldest finished queries past the bound (running ones stay).
  while (records_.size() > options_.max_queries && !record_order_.empty()) {
    const std::string& oldest = record_order_.front();
    auto it = records_.find(oldest);
    if (it != records_.end() && !is_terminal(it->second->state)) break;
    if (it != records_.end()) records_.erase(it);
    record_order_.pop_front();
  }
  return ref;
}

Result<QueryStatus> QueryManager::start(const QueryRequest& request) {
  if (request.sql.find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(Errc::invalid_argument, "sql is required");
  if (request.max_rows < 1 || request.max_rows > kMaxPageRows)
    return make_error(Errc::invalid_argument, "max_rows must be between 1 and 1000");
  if (request.timeout.count() <= 0) return make_error(Errc::invalid_argument, "timeout_ms must be positive");
  ETL_RETURN_IF_ERROR(check_read_only_sql(request.sql));

  std::string key = cache_key(request);
  std::lock_guard lock(mutex_);
  if (stopping_) return make_error(Errc::unavailable, "the cataloger is shutting down");
  if (request.max_age) {
    auto it = cache_.find(key);
    std::shared_ptr<const StoredResult> hit = it == cache_.end() ? nullptr : it->second.lock();
    if (hit && Clock::now() - hit->created <= *request.max_age) {
      metrics_.counter("spotify_etl_cataloger_query_cache_total", "Result reuse lookups", {{"result", "hit"}}).inc();
      touch_locked(hit.get());
      Record& r = add_record_locked(request);
      r.state = QueryState::succeeded;
      r.stats = {hit->elapsed_ms, hit->rows.size(), true};
      r.completed_at = r.submitted_at;
      r.result_location = hit->location;
      r.result = hit;
      metrics_.counter("spotify_etl_cataloger_queries_total", "Queries by final state", {{"state", "SUCCEEDED"}}).inc();
      return status_locked(r);
    }
    metrics_.counter("spotify_etl_cataloger_query_cache_total", "Result reuse lookups", {{"result", "miss"}}).inc();
  }
  Record& r = add_record_locked(request);
  active_.insert(r.id);
  queue_.push_back(r.id);
  queue_cv_.notify_one();
  watch_cv_.notify_all();
  return status_locked(r);
}

void QueryManager::worker_loop(Worker& worker) {
  for (;;) {
    std::string id;
    {
      std::unique_lock lock(mutex_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = std::move(queue_.front());
      queue_.pop_front();
      auto it = records_.find(id);
      if (it == records_.end() || it->second->state != QueryState::queued) continue;
      it->second->state = QueryState::running;
      it->second->worker = worker.index;
      std::lock_guard wl(worker.mutex);
      worker.current = id;
    }
    run(worker, id);
    std::lock_guard wl(worker.mutex);
    worker.current.clear();
  }
}

void QueryManager::run(Worker& worker, const std::string& id) {
  QueryRequest request;
  {
    std::lock_guard lock(mutex_);
    request = records_.at(id)->request;
  }
  auto fail = [&](Error e) {
    std::lock_guard lock(mutex_);
    auto it = records_.find(id);
    if (it == records_.end()) return;
    Record& r = *it->second;
    if (r.cancel_requested && stopping_)
      finish(r, QueryState::cancelled, make_error(Errc::unavailable, "the cataloger is shutting down"));
    else if (r.cancel_requested) finish(r, QueryState::cancelled, make_error(Errc::cancelled, "cancelled on request"));
    else if (r.timed_out)
      finish(r, QueryState::failed,
             make_error(Errc::timeout, "the query ran longer than timeout_ms=" + std::to_string(r.request.timeout.count()) +
                                           " and was interrupted"));
    else finish(r, QueryState::failed, std::move(e));
  };

  if (!worker.session) {
    auto session = engine_->session();
    if (!session) return fail(std::move(session).error());
    std::lock_guard wl(worker.mutex);
    worker.session = std::move(session).value();
  }
  if (Status s = engine_->sync_views(*catalog_); !s.ok()) log::warn("views not synced", {{"error", s.error().message}});
  // Keyed by what the views read, so a view that lags the catalog (it could not
  // be rebuilt) never stores its result under the newer data version.
  std::string key = cache_key(request, engine_->view_versions());

  auto started = Clock::now();
  auto result = worker.session->execute(request.sql, options_.max_result_bytes, true);
  double elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  metrics_.histogram("spotify_etl_cataloger_query_duration_seconds", "Query engine time").observe(elapsed_ms / 1000.0);
  if (!result) return fail(std::move(result).error());

  std::string location;
  std::string object_key = options_.results_prefix + id + ".csv";
  if (auto put = store_->put(object_key, result->csv); put.ok()) {
    auto local = store_->local_path(object_key);
    location = local ? "file://" + local->lexically_normal().string() : root_url_ + "/" + object_key;
  } else {
    log::warn("cannot store a query result as CSV", {{"query_id", id}, {"error", put.error().message}});
  }
  if (results_written_.fetch_add(1) % 256 == 255) sweep_results();
  StoredResult stored;
  stored.columns = std::move(result->columns);
  stored.rows = std::move(result->rows);
  stored.bytes = result->bytes + stored.rows.size() * sizeof(std::string);
  stored.location = location;
  stored.key = key;
  stored.created = Clock::now();
  stored.elapsed_ms = elapsed_ms;

  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return;
  Record& r = *it->second;
  auto kept = keep(std::move(stored));
  r.result = kept;
  r.result_location = location;
  r.stats = {elapsed_ms, kept->rows.size(), false};
  finish(r, QueryState::succeeded, std::nullopt);
}

void QueryManager::finish(Record& r, QueryState state, std::optional<Error> error) {
  if (is_terminal(r.state)) return;
  r.state = state;
  r.error = std::move(error);
  r.completed_at = now_rfc3339();
  active_.erase(r.id);
  metrics_.counter("spotify_etl_cataloger_queries_total", "Queries by final state", {{"state", to_string(state)}}).inc();
  if (r.error && state == QueryState::failed && r.error->code != Errc::invalid_argument)
    log::warn("query failed", {{"query_id", r.id}, {"error", r.error->message}});
  done_cv_.notify_all();
}

void QueryManager::interrupt_locked(Record& r) {
  if (r.worker < 0 || r.worker >= static_cast<int>(workers_.size())) return;
  Worker& w = *workers_[static_cast<size_t>(r.worker)];
  std::lock_guard wl(w.mutex);
  if (w.current == r.id && w.session) w.session->interrupt();
}

void QueryManager::watchdog_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
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
        finish(*r, QueryState::failed,
               make_error(Errc::timeout, "the query waited longer than timeout_ms=" +
                                             std::to_string(r->request.timeout.count()) + " for a free engine connection"));
        continue;
      }
      if (r->state != QueryState::running) continue;
      if (!r->cancel_requested) r->timed_out = true;
      // Again every 100 ms until it stops: an interrupt that lands just before the
      // statement starts on the connection is not remembered by DuckDB.
      interrupt_locked(*r);
      next = std::min(next, now + std::chrono::milliseconds(100));
    }
    watch_cv_.wait_until(lock, next);
  }
}

std::shared_ptr<const QueryManager::StoredResult> QueryManager::keep(StoredResult result) {
  auto kept = std::make_shared<const StoredResult>(std::move(result));
  lru_.push_front(kept);
  lru_pos_[kept.get()] = lru_.begin();
  cached_bytes_ += kept->bytes;
  cache_[kept->key] = kept;
  // Evict least recently used results past the budget (never the one just kept).
  while (cached_bytes_ > options_.cache_bytes && lru_.size() > 1) {
    auto victim = lru_.back();
    lru_.pop_back();
    lru_pos_.erase(victim.get());
    cached_bytes_ -= victim->bytes;
    auto c = cache_.find(victim->key);
    if (c != cache_.end() && c->second.lock() == victim) cache_.erase(c);
  }
  for (auto it = cache_.begin(); it != cache_.end();) it = it->second.expired() ? cache_.erase(it) : std::next(it);
  metrics_.gauge("spotify_etl_cataloger_query_results_bytes", "Bytes of query results kept in memory")
      .set(static_cast<double>(cached_bytes_));
  return kept;
}

void QueryManager::touch_locked(const StoredResult* result) {
  auto it = lru_pos_.find(result);
  if (it == lru_pos_.end()) return;
  lru_.splice(lru_.begin(), lru_, it->second);
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
    touch_locked(result.get());
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
    if (!ok || token(query_id, parsed) != next_token || parsed == 0 || parsed >= result->rows.size())
      return make_error(Errc::invalid_argument, "next_token is not one this query handed out");
    offset = parsed;
  }
  QueryPage page;
  page.query_id = query_id;
  page.engine = "duckdb";
  page.columns = result->columns;
  std::size_t end = std::min(result->rows.size(), offset + page_rows);
  page.rows.assign(result->rows.begin() + static_cast<std::ptrdiff_t>(offset),
                   result->rows.begin() + static_cast<std::ptrdiff_t>(end));
  if (end < result->rows.size()) page.next_token = token(query_id, end);
  page.stats = stats;
  page.result_location = location;
  return page;
}

Result<QueryStatus> QueryManager::cancel(const std::string& query_id) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(query_id);
  if (it == records_.end()) return make_error(Errc::not_found, "unknown query '" + query_id + "'");
  Record& r = *it->second;
  if (r.state == QueryState::queued) {
    r.cancel_requested = true;
    finish(r, QueryState::cancelled, make_error(Errc::cancelled, "cancelled on request"));
  } else if (r.state == QueryState::running) {
    r.cancel_requested = true;
    interrupt_locked(r);
    watch_cv_.notify_all();
  }
  return status_locked(r);
}

Status QueryManager::ping() { return engine_->ping(); }

void QueryManager::sweep_results() {
  auto listed = store_->list(options_.results_prefix);
  if (!listed) return;
  auto cutoff = std::chrono::system_clock::now() - options_.results_ttl;
  for (const auto& obj : *listed)
    if (obj.last_modified < cutoff) (void)store_->remove(obj.key);
}

}  // namespace etl::cataloger
