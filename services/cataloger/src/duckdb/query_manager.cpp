#include "query_manager.h"

#include "query_record.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <random>

#include <openssl/evp.h>

#include "etl/ascii.h"
#include "etl/log.h"
#include "ids.h"
#include "sql_guard.h"

namespace etl::cataloger {

QueryManager::QueryManager(std::shared_ptr<Catalog> catalog, std::unique_ptr<SqlEngine> engine,
                           std::shared_ptr<ObjectStore> results_store, std::string results_root_url,
                           QueryManagerOptions options, MetricsRegistry& metrics)
    : catalog_(std::move(catalog)),
      engine_(std::move(engine)),
      store_(std::move(results_store)),
      root_url_(std::move(results_root_url)),
      options_(std::move(options)),
      metrics_(metrics),
      token_salt_(random_u64()),
      files_(store_, options_.results),
      queue_(options_.max_queued),
      cache_(options_.cache_bytes) {
  while (!root_url_.empty() && root_url_.back() == '/') root_url_.pop_back();
}

QueryManager::~QueryManager() { stop(); }

void QueryManager::start() {
  std::lock_guard lock(mutex_);
  if (!workers_.empty()) return;
  files_.load();
  stopping_ = false;
  watchdog_stopping_ = false;
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
    for (const auto& id : queue_.drain()) {
      auto it = records_.find(id);
      if (it != records_.end() && it->second->state == QueryState::queued)
        finish(*it->second, QueryState::cancelled, make_error(Errc::unavailable, "the cataloger is shutting down"));
    }
  }
  queue_cv_.notify_all();
  watch_cv_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  {
    std::lock_guard lock(mutex_);
    watchdog_stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
  std::lock_guard lock(mutex_);
  workers_.clear();
}

std::string QueryManager::cache_key(const QueryRequest& request, const std::set<std::string>& reads,
                                    const std::vector<PinnedTable>& pins) {
  std::lock_guard lock(versions_mutex_);
  std::uint64_t generation = catalog_->generation();
  if (generation != versions_generation_) {
    if (auto tables = catalog_->list_tables()) {
      versions_.clear();
      for (const auto& t : *tables) {
        std::string name = t.name;
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        versions_[name] = t.data_version;
      }
      versions_generation_ = generation;
    }
  }
  return cache_key(request, versions_, reads, pins);
}

// The exact text the engine runs (not a normalised form: what a tokenizer drops
// could be what the engine executes), and the version of each table DuckDB's
// parser found in it (views read files only, never another table), so a commit
// to one table keeps the results of queries over the others. The key is the
// SHA-256 of that material (the SQL length-prefixed, so no two requests share a
// material), not the material itself: the SQL may be up to a MiB, and a cached
// result or a record must not keep a copy of it. "" (OpenSSL failed): not reusable.
std::string QueryManager::cache_key(const QueryRequest& request, const std::map<std::string, std::int64_t>& versions,
                                    const std::set<std::string>& reads, const std::vector<PinnedTable>& pins) {
  std::string tail = '\x1f' + std::to_string(request.max_rows) + (request.dialect == Dialect::postgres ? "p" : "d") + '\x1f';
  const bool everything = reads.count(kReadsEverything) > 0;
  for (const auto& [name, version] : versions)
    if (everything || reads.count(name)) tail += name + '@' + std::to_string(version) + ';';
  tail += '\x1f';
  for (const auto& pin : pins) tail += pin.table + '#' + std::to_string(pin.snapshot_id) + ';';
  const std::string head = std::to_string(request.sql.size()) + ':';
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), head.data(), head.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), request.sql.data(), request.sql.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), tail.data(), tail.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1)
    return "";
  return std::string(reinterpret_cast<const char*>(digest), length);
}

QueryManager::Record& QueryManager::add_record_locked(const QueryRequest& request, std::vector<PinnedTable> pins) {
  auto record = std::make_unique<Record>();
  record->id = new_id();
  record->request = request;
  for (const auto& pin : pins) record->stats.snapshots[pin.table] = pin.snapshot_id;
  record->pins = std::move(pins);
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

Status QueryManager::validate(const QueryRequest& request) const {
  if (request.sql.find_first_not_of(" \t\r\n") == std::string::npos)
    return make_error(Errc::invalid_argument, "sql is required");
  // The gate reads the whole text but DuckDB stops at a NUL: what runs would not be what was checked.
  if (request.sql.find('\0') != std::string::npos)
    return make_error(Errc::invalid_argument, "refused: sql contains a NUL character (U+0000)");
  if (request.max_rows < 1 || request.max_rows > kMaxPageRows)
    return make_error(Errc::invalid_argument, "max_rows must be between 1 and 1000");
  if (request.timeout.count() <= 0) return make_error(Errc::invalid_argument, "timeout_ms must be positive");
  if (request.timeout > options_.max_timeout)
    return make_error(Errc::invalid_argument, "timeout_ms must be at most " + std::to_string(options_.max_timeout.count()) +
                                                  " (ETL_QUERY_MAX_TIMEOUT_MS)");
  if (request.dialect == Dialect::postgres && !request.as_of.empty())  // a pinned session's views are DuckDB's only
    return make_error(Errc::invalid_argument, "as_of is not read under PostgreSQL's rules");
  return {};
}

Result<std::vector<PinnedTable>> QueryManager::resolve_pins(const QueryRequest& request) {
  std::vector<PinnedTable> pins;
  if (request.as_of.empty()) return pins;
  if (!options_.pins)
    return make_error(Errc::invalid_argument, "as_of needs Iceberg tables (ETL_TABLE_FORMAT=iceberg): these have no snapshots");
  auto tokens = tokenize_sql(request.sql);
  if (!tokens) return std::move(tokens).error();
  for (const auto& [table, as_of] : request.as_of) {
    if (!catalog_->get_table(table))
      return make_error(Errc::invalid_argument, "as_of names " + table + ", which is not a table of the catalog");
    // The pin shadows the unqualified name only: `<schema>.<table>` would read today's rows.
    // DuckDB matches names without regard to case, quoted ones too: `spotify."SONGS_DATA"`.
    for (std::size_t i = 2; i < tokens->size(); ++i) {
      const auto& t = (*tokens)[i];
      if ((t.kind == TokenKind::word || t.kind == TokenKind::quoted_identifier) && ascii_lower(t.text) == ascii_lower(table) &&
          (*tokens)[i - 1].kind == TokenKind::symbol && (*tokens)[i - 1].text == ".")
        return make_error(Errc::invalid_argument, "with as_of, name " + table + " unqualified (not " +
                                                      std::string((*tokens)[i - 2].source) + "." + table + ")");
    }
    auto pin = options_.pins(table, as_of);
    if (!pin) {
      Errc code = pin.error().code;
      if (code == Errc::not_found) code = Errc::invalid_argument;  // no such snapshot: the request's fault
      // Metadata that cannot be read or parsed is the store's state, as GET /v1/tables/{name} answers it: 503.
      if (code == Errc::internal || code == Errc::bad_data) code = Errc::unavailable;
      return make_error(code, "as_of: " + pin.error().message);
    }
    pins.push_back(std::move(pin).value());
  }
  return pins;
}

Result<QueryStatus> QueryManager::cached_locked(const QueryRequest& request, const std::string& key,
                                                const std::vector<PinnedTable>& pins) {
  auto hit = key.empty() ? nullptr : cache_.find(key);
  if (!hit || Clock::now() - hit->created > *request.max_age) {
    metrics_.counter("spotify_etl_cataloger_query_cache_total", "Result reuse lookups", {{"result", "miss"}}).inc();
    return make_error(Errc::not_found, "no reusable result");
  }
  metrics_.counter("spotify_etl_cataloger_query_cache_total", "Result reuse lookups", {{"result", "hit"}}).inc();
  cache_.touch(hit.get());
  Record& r = add_record_locked(request, pins);
  forget_sql(r);
  r.state = QueryState::succeeded;
  r.stats.elapsed_ms = hit->elapsed_ms;
  r.stats.rows = hit->row_count();
  r.stats.cached = true;
  r.completed_at = r.submitted_at;
  r.result_location = hit->location;
  r.result = hit;
  metrics_.counter("spotify_etl_cataloger_queries_total", "Queries by final state", {{"state", "SUCCEEDED"}}).inc();
  return status_locked(r);
}

Result<QueryStatus> QueryManager::start(const QueryRequest& request) {
  ETL_RETURN_IF_ERROR(validate(request));
  // Its timeout runs from its record on: a stuck engine holds it here no longer
  // than the watchdog would let it hold a running query.
  if (Status s = engine_->sync_views_within(*catalog_, request.timeout + options_.kill_grace); !s.ok())
    log::warn("views not synced", {{"error", s.error().message}});
  std::set<std::string> reads;
  if (Status s = engine_->check(request.sql, &reads); !s.ok())
    return make_error(s.error().code, engine_->scrub(s.error().message));
  auto pins = resolve_pins(request);
  if (!pins) return std::move(pins).error();

  std::string key = cache_key(request, reads, *pins);
  std::lock_guard lock(mutex_);
  if (stopping_) return make_error(Errc::unavailable, "the cataloger is shutting down");
  if (request.max_age)
    if (auto hit = cached_locked(request, key, *pins)) return hit;
  auto pushed = queue_.admits(request.client);
  if (pushed != FairQueue::Push::queued) {
    metrics_.counter("spotify_etl_cataloger_query_rejected_total", "Queries refused because the run queue was full").inc();
    return make_error(Errc::rate_limited,
                      pushed == FairQueue::Push::full
                          ? "the query queue is full (" + std::to_string(queue_.capacity()) +
                                " waiting, ETL_QUERY_MAX_QUEUED); retry later"
                          : "this client already has " + std::to_string(queue_.per_client()) +
                                " queries waiting (half of ETL_QUERY_MAX_QUEUED); retry later");
  }
  Record& r = add_record_locked(request, std::move(pins).value());
  r.reads = std::move(reads);
  (void)queue_.push(request.client, r.id);
  active_.insert(r.id);
  queue_cv_.notify_one();
  watch_cv_.notify_all();
  return status_locked(r);
}

void QueryManager::worker_loop(Worker& worker) {
  for (;;) {
    std::string id, client;
    {
      std::unique_lock lock(mutex_);
      std::optional<std::string> next;
      auto may_run = [&](const std::string& c) {
        auto it = running_by_client_.find(c);
        return it == running_by_client_.end() || it->second < per_client_running();
      };
      queue_cv_.wait(lock, [&] { return stopping_ || (next = queue_.pop(may_run)).has_value(); });
      if (stopping_) return;
      id = std::move(*next);
      auto it = records_.find(id);
      if (it == records_.end() || it->second->state != QueryState::queued) continue;
      it->second->state = QueryState::running;
      it->second->worker = worker.index;
      client = it->second->request.client;
      ++running_by_client_[client];
      std::lock_guard wl(worker.mutex);
      worker.current = id;
    }
    run(worker, id);
    {
      std::lock_guard lock(mutex_);
      if (auto it = running_by_client_.find(client); it != running_by_client_.end() && --it->second == 0)
        running_by_client_.erase(it);
    }
    queue_cv_.notify_all();  // that client's next query may run now
    std::lock_guard wl(worker.mutex);
    worker.current.clear();
  }
}

void QueryManager::fail_run(const std::string& id, Error e, double elapsed_ms) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return;
  Record& r = *it->second;
  r.stats.elapsed_ms = elapsed_ms;
  if (r.cancel_requested && stopping_)
    finish(r, QueryState::cancelled, make_error(Errc::unavailable, "the cataloger is shutting down"));
  else if (r.cancel_requested) finish(r, QueryState::cancelled, make_error(Errc::cancelled, "cancelled on request"));
  else if (r.timed_out)
    finish(r, QueryState::failed,
           make_error(Errc::timeout, "the query ran longer than timeout_ms=" + std::to_string(r.request.timeout.count()) +
                                         " and was interrupted"));
  else finish(r, QueryState::failed, make_error(e.code, engine_->scrub(std::move(e.message))));
}

// The location clients see: the key in the store for a local folder (never a
// host path), the object's URL otherwise.
std::string QueryManager::store_csv(const std::string& id, const std::string& csv) {
  auto key = files_.put(id, csv);
  if (!key) {
    log::warn("cannot store a query result as CSV", {{"query_id", id}, {"error", key.error().message}});
    return "";
  }
  return store_->local_path(*key) ? *key : root_url_ + "/" + *key;
}

QueryManager::Attempt QueryManager::attempt(Worker& worker, const std::string& id, const QueryRequest& request,
                                            const std::vector<PinnedTable>& pins, const std::set<std::string>& reads) {
  Attempt a;
  // Its time: from leaving the queue (state running) until its statement ended,
  // setting up included, so a query stopped before its statement ran took some.
  const auto began = Clock::now();
  // Until the statement runs, a stuck engine is stopped by the watchdog through
  // the engine, not the session (kill_locked).
  struct SettingUp {
    Worker& worker;
    explicit SettingUp(Worker& w) : worker(w) { set(true); }
    ~SettingUp() { set(false); }
    void set(bool on) {
      std::lock_guard wl(worker.mutex);
      worker.setting_up = on;
    }
  } setting_up(worker);
  if (Status s = engine_->sync_views(*catalog_); !s.ok()) log::warn("views not synced", {{"error", s.error().message}});
  if (!worker.session || worker.session->epoch() != engine_->epoch()) {  // none yet, or of a renewed database
    auto session = engine_->session();
    if (!session) {
      a.result = std::move(session).error();
      return a;
    }
    std::lock_guard wl(worker.mutex);
    worker.session = std::move(session).value();
  }
  if (Status s = engine_->refresh_credentials(); !s.ok())  // the old secret may still hold: the query says if not
    log::warn("cannot refresh DuckDB's S3 credentials", {{"error", s.error().message}});
  // Keyed by what the views read, so a view that lags the catalog (it could not
  // be rebuilt) never stores its result under the newer data version.
  a.key = cache_key(request, engine_->view_versions(), reads, pins);

  // A pinned query runs on a session of its own, whose views shadow the pinned
  // tables; it stands in for the worker's session (so cancel reaches it) and is
  // dropped afterwards with its views.
  std::unique_ptr<SqlSession> usual;
  if (!pins.empty()) {
    auto pinned = engine_->session();
    if (!pinned) {
      a.result = std::move(pinned).error();
      return a;
    }
    for (const auto& pin : pins) {
      auto current = catalog_->get_table(pin.table);
      if (Status s = engine_->pin(**pinned, pin, current ? &*current : nullptr); !s.ok()) {
        a.result = std::move(s).error();
        a.lost = (*pinned)->lost();
        return a;
      }
    }
    std::lock_guard wl(worker.mutex);
    usual = std::exchange(worker.session, std::move(pinned).value());
  }
  setting_up.set(false);
  if (stopped(id)) {  // cancelled, or past its timeout, while it waited for the engine: it does not run
    a.result = make_error(Errc::cancelled, "stopped before it ran");
  } else {
    a.result = worker.session->execute(request.sql, options_.max_result_bytes, true, request.dialect);
    a.lost = !a.result && worker.session->lost();
  }
  a.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - began).count();
  if (usual) {
    std::lock_guard wl(worker.mutex);
    worker.session = std::move(usual);
  }
  return a;
}

bool QueryManager::stopped(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  return it != records_.end() && (it->second->cancel_requested || it->second->timed_out);
}

void QueryManager::run(Worker& worker, const std::string& id) {
  QueryRequest request;
  std::vector<PinnedTable> pins;
  std::set<std::string> reads;
  {
    std::lock_guard lock(mutex_);
    request = records_.at(id)->request;
    pins = records_.at(id)->pins;
    reads = records_.at(id)->reads;
  }
  Attempt a = attempt(worker, id, request, pins, reads);
  // The engine process stopped under it: out of memory or killed, for this query
  // or another one running there. It runs once more on the restarted engine, so a
  // query that shared the process with a runaway one is not failed for it; a
  // query that takes the engine down twice fails.
  if (a.lost && !stopped(id)) {
    log::warn("the query engine process stopped under a query; it runs once more",
              {{"query_id", id}, {"error", a.result.error().message}});
    metrics_.counter("spotify_etl_cataloger_query_retries_total", "Queries run again after their engine process stopped")
        .inc();
    a = attempt(worker, id, request, pins, reads);
  }
  const double elapsed_ms = a.elapsed_ms;
  metrics_.histogram("spotify_etl_cataloger_query_duration_seconds", "Query engine time").observe(elapsed_ms / 1000.0);
  // A call DuckDB cannot interrupt (one long scalar function) may end after a
  // cancel or past the timeout: the query stays cancelled or timed out, as the
  // client was told (fail_run says which), and its rows are dropped.
  const bool was_stopped = a.result && stopped(id);
  if (!a.result || was_stopped)
    return fail_run(id, was_stopped ? make_error(Errc::cancelled, "stopped before it finished") : std::move(a.result).error(),
                    elapsed_ms);
  auto& result = a.result;
  const std::string& key = a.key;

  StoredResult stored;
  stored.location = store_csv(id, result->csv);
  stored.columns = std::move(result->columns);
  stored.set_rows(std::move(result->rows));
  stored.key = key;
  stored.created = Clock::now();
  stored.elapsed_ms = elapsed_ms;

  std::lock_guard lock(mutex_);
  auto it = records_.find(id);
  if (it == records_.end()) return;
  Record& r = *it->second;
  auto kept = cache_.keep(std::move(stored));
  metrics_.gauge("spotify_etl_cataloger_query_results_bytes", "Bytes of query results kept in memory")
      .set(static_cast<double>(cache_.bytes()));
  metrics_.gauge("spotify_etl_cataloger_resident_bytes", "Bytes of the tables' in-memory copies (ETL_QUERY_RESIDENT_BYTES)")
      .set(static_cast<double>(engine_->resident_bytes()));
  r.result = kept;
  r.result_location = kept->location;
  r.stats.elapsed_ms = elapsed_ms;
  r.stats.rows = kept->row_count();
  r.stats.cached = false;
  finish(r, QueryState::succeeded, std::nullopt);
}

namespace {

// The longest error message a query record keeps: an engine error may quote the
// SQL (an identifier of a MiB), and up to max_queries records stay.
constexpr std::size_t kMaxErrorMessageBytes = 2048;

void bound_message(std::string& message) {
  if (message.size() <= kMaxErrorMessageBytes) return;
  std::size_t cut = kMaxErrorMessageBytes;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  message.resize(cut);
  message += " ... (truncated)";
  message.shrink_to_fit();
}

}  // namespace

// A finished query keeps no SQL (its status never shows it; the result cache is
// keyed by a digest), so the records remembered cost a bounded size each.
void QueryManager::forget_sql(Record& r) {
  std::string().swap(r.request.sql);
  std::set<std::string>().swap(r.reads);
}

void QueryManager::finish(Record& r, QueryState state, std::optional<Error> error) {
  if (is_terminal(r.state)) return;
  r.state = state;
  r.error = std::move(error);
  if (r.error) bound_message(r.error->message);
  forget_sql(r);
  r.completed_at = now_rfc3339();
  active_.erase(r.id);
  if (!trim_due_) trim_due_ = Clock::now() + std::chrono::seconds(1);
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

void QueryManager::kill_locked(Record& r) {
  r.killed = true;
  if (r.worker < 0 || r.worker >= static_cast<int>(workers_.size())) return;
  Worker& w = *workers_[static_cast<size_t>(r.worker)];
  std::lock_guard wl(w.mutex);
  if (w.current != r.id) return;
  if (w.setting_up) {
    if (!engine_->kill()) return;
    log::warn("a query waited on its engine process past its timeout; the process was taken for stuck and killed "
              "(queries running there run again)",
              {{"query_id", r.id}, {"grace_ms", options_.kill_grace.count()}});
  } else {
    if (!w.session || !w.session->kill()) return;
    log::warn("a query did not stop when interrupted; its engine process was killed (queries running there run again)",
              {{"query_id", r.id}, {"grace_ms", options_.kill_grace.count()}});
  }
  metrics_.counter("spotify_etl_cataloger_query_engine_kills_total",
                   "Engine processes killed because a query did not stop when interrupted")
      .inc();
}

}  // namespace etl::cataloger
