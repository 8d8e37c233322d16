#include "local_catalog.h"

#include <algorithm>
#include <optional>
#include <set>

#include "at_once.h"
#include "etl/log.h"
#include "ids.h"

namespace etl::cataloger {

LocalCatalog::LocalCatalog(std::shared_ptr<ObjectStore> store, std::unique_ptr<SchemaReader> reader,
                           LocalCatalogOptions options, MetricsRegistry& metrics)
    : store_(std::move(store)),
      reader_(std::move(reader)),
      options_(std::move(options)),
      metrics_(metrics),
      jobs_([this](CrawlInfo& info, const CrawlRequest& request) { run(info, request); }, options_.crawl_history) {
  if (options_.root_url.empty()) options_.root_url = store_->url();
  while (!options_.root_url.empty() && options_.root_url.back() == '/') options_.root_url.pop_back();
}

LocalCatalog::~LocalCatalog() { stop(); }

std::string LocalCatalog::catalog_key(const std::string& table) const {
  return "_catalog/" + options_.database + "/" + table + ".json";
}

Result<std::unique_ptr<LocalCatalog>> LocalCatalog::open(std::shared_ptr<ObjectStore> store,
                                                         std::unique_ptr<SchemaReader> reader,
                                                         LocalCatalogOptions options, MetricsRegistry& metrics) {
  std::unique_ptr<LocalCatalog> catalog(
      new LocalCatalog(std::move(store), std::move(reader), std::move(options), metrics));
  auto docs = catalog->store_->list("_catalog/" + catalog->options_.database + "/");
  if (!docs) return std::move(docs).error();
  for (const auto& obj : *docs) {
    auto text = catalog->store_->get(obj.key);
    if (!text) return std::move(text).error();
    auto parsed = nlohmann::json::parse(*text, nullptr, false);
    auto state = parsed.is_discarded() ? Result<TableState>(make_error(Errc::bad_data, "not JSON"))
                                       : table_state_from_json(parsed);
    if (!state) {
      log::warn("skipping a malformed catalog document; the next crawl rebuilds it",
                {{"key", obj.key}, {"error", state.error().message}});
      continue;
    }
    catalog->tables_[state->name] = std::move(state).value();
  }
  catalog->metrics_.gauge("spotify_etl_cataloger_tables", "Tables in the catalog")
      .set(static_cast<double>(catalog->tables_.size()));
  for (const auto& [name, t] : catalog->tables_)
    catalog->metrics_.gauge("spotify_etl_cataloger_partitions", "Partitions per table", {{"table", name}})
        .set(static_cast<double>(t.partitions.size()));
  return catalog;
}

void LocalCatalog::start() {
  {
    // The service's start-up crawl is about to fill the copy: ping() retries only after that.
    std::lock_guard lock(mirror_crawl_mutex_);
    last_mirror_crawl_ = std::chrono::steady_clock::now();
  }
  jobs_.start();
  if (options_.iceberg && !timer_.joinable()) {
    {
      std::lock_guard lock(timer_mutex_);
      timer_stop_ = false;
      held_gauge();  // at 0 from the start
    }
    timer_ = std::thread([this] { run_timer(); });
  }
}

void LocalCatalog::run_timer() {
  using Clock = std::chrono::steady_clock;
  const bool maintain = options_.compactor && options_.maintenance_interval.count() > 0;
  auto next_maintenance = Clock::now() + options_.maintenance_interval;
  std::unique_lock lock(timer_mutex_);
  while (!timer_stop_) {
    const auto now = Clock::now();
    if (maintain && now >= next_maintenance) {
      next_maintenance = now + options_.maintenance_interval;
      lock.unlock();
      CrawlRequest request;
      request.trigger = "maintenance";
      (void)jobs_.submit(request, {});
      lock.lock();
      continue;
    }
    if (!held_.empty() && now >= held_due_) {
      CrawlRequest request;
      request.trigger = "refold";
      request.changed_keys.assign(held_.begin(), held_.end());
      queued_held_.insert(held_.begin(), held_.end());
      held_.clear();
      lock.unlock();
      (void)jobs_.submit(request, {});  // a full queue merges it into the last queued crawl
      lock.lock();
      continue;
    }
    std::optional<Clock::time_point> due;
    if (maintain) due = next_maintenance;
    if (!held_.empty()) due = due ? std::min(*due, held_due_) : held_due_;
    if (due) timer_cv_.wait_until(lock, *due);
    else timer_cv_.wait(lock);
  }
}

void LocalCatalog::hold_for_refold(const CrawlRequest& request, bool failed) {
  std::set<std::string> keys = std::move(crawl_held_);
  crawl_held_.clear();
  constexpr std::chrono::milliseconds kFirst{1000}, kMax{60000};
  std::lock_guard lock(timer_mutex_);
  if (keys.empty() && queued_held_.empty()) return;  // nothing held, before or now
  // Keys queued for a crawl of their own are taken by whichever crawl covers them
  // (a full queue merges that crawl into another): held again when it failed, and
  // the wait doubles when they come back.
  bool again = false;
  for (auto it = queued_held_.begin(); it != queued_held_.end();) {
    if (!crawl_covers(request, *it)) {
      ++it;
      continue;
    }
    if (failed) keys.insert(*it);
    again = again || keys.count(*it) > 0;
    it = queued_held_.erase(it);
  }
  if (keys.empty()) return held_gauge();
  held_delay_ = again ? std::clamp(held_delay_ * 2, kFirst, kMax) : kFirst;
  held_due_ = std::chrono::steady_clock::now() + held_delay_;
  held_.insert(keys.begin(), keys.end());
  log::info("held-back files get a crawl of their own", {{"files", keys.size()}, {"in_ms", held_delay_.count()}});
  held_gauge();
  timer_cv_.notify_all();
}

void LocalCatalog::held_gauge() {
  std::size_t files = held_.size();  // a key can be in both: held again while a crawl of it is queued
  for (const auto& key : queued_held_) files += held_.count(key) ? 0 : 1;
  metrics_.gauge("spotify_etl_cataloger_iceberg_held_files",
                 "Rewritten data files held back from commits until a refold takes them (a crawl of their own is due)")
      .set(static_cast<double>(files));
}

void LocalCatalog::stop() {
  {
    std::lock_guard lock(timer_mutex_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  jobs_.stop();
}

Status LocalCatalog::validate(const CrawlRequest& request) {
  for (const auto& table : request.tables) {
    if (!is_table_name(table))
      return make_error(Errc::invalid_argument, "'" + table + "' is not a table name ([A-Za-z0-9_], not starting with '_')");
    {
      std::lock_guard lock(state_mutex_);
      if (tables_.count(table)) continue;
    }
    auto listed = store_->list(table + "/");
    if (!listed) return std::move(listed).error();
    if (listed->empty()) return make_error(Errc::invalid_argument, "unknown table '" + table + "': no such table folder");
  }
  return {};
}

Result<CrawlInfo> LocalCatalog::start_crawl(const CrawlRequest& request) {
  ETL_RETURN_IF_ERROR(validate(request));
  return jobs_.submit(request, request.tables);
}

Result<CrawlInfo> LocalCatalog::crawl(const CrawlRequest& request) {
  ETL_RETURN_IF_ERROR(validate(request));
  return jobs_.run_now(request, request.tables);
}

Result<CrawlInfo> LocalCatalog::get_crawl(const std::string& crawl_id) { return jobs_.get(crawl_id); }

Result<CrawlInfo> LocalCatalog::wait_crawl(const std::string& crawl_id, std::chrono::milliseconds max_wait) {
  return jobs_.wait(crawl_id, max_wait);
}

std::string LocalCatalog::publish() {
  if (!options_.publish || !options_.iceberg) return "";
  // The tables side by side: against Glue each is a GetTable and an UpdateTable.
  const std::vector<std::string> tables(unpublished_.begin(), unpublished_.end());
  std::vector<std::optional<Status>> results(tables.size());  // none: no Iceberg metadata yet
  for_each_at_once(tables.size(), kCrawlTablesAtOnce, [&](std::size_t i) {
    auto current = options_.iceberg->current(tables[i]);
    if (!current) results[i] = Status(std::move(current).error());
    else if (*current)
      results[i] = options_.publish(
          {tables[i], options_.iceberg->url_of((*current)->metadata_key), std::move((*current)->metadata)});
  });
  std::string errors;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    if (!results[i] || results[i]->ok()) {  // published, or nothing to publish
      unpublished_.erase(tables[i]);
      continue;
    }
    log::error("cannot publish a table's Iceberg metadata; the next crawl tries again",
               {{"table", tables[i]}, {"error", results[i]->error().message}});
    errors += (errors.empty() ? "" : "; ") + tables[i] + ": " + results[i]->error().message;
  }
  metrics_.gauge("spotify_etl_cataloger_tables_unpublished",
                 "Tables whose current Iceberg metadata the external catalog (Glue) does not know yet")
      .set(static_cast<double>(unpublished_.size()));
  return errors;
}

void LocalCatalog::apply_compaction(TableState& state, const iceberg::CompactionResult& done) {
  for (const auto& key : done.retired)
    for (auto& [dt, partition] : state.partitions) partition.files.erase(key);
  for (const auto& [dt, object] : done.written) {
    if (options_.mirror)
      if (Status s = options_.mirror->mirror({object}); !s.ok()) {
        log::error("cannot copy a compacted file; the next crawl brings it", {{"key", object.key}, {"error", s.error().message}});
        continue;
      }
    auto read = reader_->read_schema(object.key, "parquet");
    if (!read) {
      log::error("cannot read a compacted file's schema; the next crawl brings it",
                 {{"key", object.key}, {"error", read.error().message}});
      continue;
    }
    const std::string id = schema_id(read->columns);
    state.schemas.emplace(id, read->columns);
    state.partitions[dt].files[object.key] = FileState{object.key, object.size, object.etag, "parquet", id};
  }
  state.data_version += 1;
  state.updated_at = now_rfc3339();
}

Result<std::vector<TableInfo>> LocalCatalog::list_tables() {
  std::lock_guard lock(state_mutex_);
  std::vector<TableInfo> out;
  for (const auto& [name, t] : tables_) out.push_back(table_info(t, options_.database, options_.root_url));
  return out;
}

Result<TableInfo> LocalCatalog::get_table(const std::string& name) {
  std::lock_guard lock(state_mutex_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return make_error(Errc::not_found, "unknown table '" + name + "'");
  return table_info(it->second, options_.database, options_.root_url);
}

Result<std::vector<PartitionInfo>> LocalCatalog::get_partitions(const std::string& table) {
  std::lock_guard lock(state_mutex_);
  auto it = tables_.find(table);
  if (it == tables_.end()) return make_error(Errc::not_found, "unknown table '" + table + "'");
  return partition_infos(it->second, options_.root_url);
}

Status LocalCatalog::ping() {
  ETL_RETURN_IF_ERROR(store_->ping());
  if (!options_.mirror || options_.mirror->complete()) return {};
  {
    std::lock_guard lock(mirror_crawl_mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_mirror_crawl_ >= std::chrono::seconds(15)) {
      last_mirror_crawl_ = now;
      CrawlRequest request;
      request.trigger = "cache";
      (void)start_crawl(request);
    }
  }
  return make_error(Errc::unavailable, "copying the tables of " + store_->url() + " into the local cache at " +
                                           options_.mirror->root().string() + " (" +
                                           std::to_string(options_.mirror->files()) +
                                           " files so far; crawl errors are logged)");
}

}  // namespace etl::cataloger
