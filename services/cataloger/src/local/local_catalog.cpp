#include "local_catalog.h"

#include <algorithm>
#include <set>

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
  if (options_.iceberg && options_.compactor && options_.maintenance_interval.count() > 0 && !maintenance_.joinable()) {
    maintenance_stop_ = false;
    maintenance_ = std::thread([this] {
      std::unique_lock lock(maintenance_mutex_);
      while (!maintenance_cv_.wait_for(lock, options_.maintenance_interval, [this] { return maintenance_stop_; })) {
        lock.unlock();
        CrawlRequest request;
        request.trigger = "maintenance";
        (void)jobs_.submit(request, {});
        lock.lock();
      }
    });
  }
}
void LocalCatalog::stop() {
  {
    std::lock_guard lock(maintenance_mutex_);
    maintenance_stop_ = true;
  }
  maintenance_cv_.notify_all();
  if (maintenance_.joinable()) maintenance_.join();
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

void LocalCatalog::run(CrawlInfo& info, const CrawlRequest& request) {
  info.tables.clear();
  auto started = std::chrono::steady_clock::now();
  // Once per crawl, also when it fails: what it committed before failing is published.
  bool published = false;
  auto publish_once = [&]() -> std::string {
    if (published) return "";
    published = true;
    return publish();
  };
  auto fail = [&](const Error& e) {
    const std::string unpublished = publish_once();
    info.state = CrawlState::failed;
    info.error = e.message + (unpublished.empty() ? "" : "; and publishing failed: " + unpublished);
    info.finished_at = now_rfc3339();
    metrics_.counter("spotify_etl_cataloger_crawls_total", "Crawls by trigger and outcome",
                     {{"trigger", request.trigger}, {"state", "FAILED"}}).inc();
    log::error("crawl failed", {{"crawl_id", info.crawl_id}, {"error", info.error}});
  };

  // Which tables, and which of their partitions to list.
  std::map<std::string, std::set<std::string>> scope;  // table -> partitions (empty: all)
  std::map<std::string, std::vector<ObjectInfo>> listings;
  bool listed_all = false;
  if (!request.tables.empty()) {
    for (const auto& t : request.tables) scope[t];
  } else if (!request.changed_keys.empty()) {
    for (const auto& key : request.changed_keys)
      if (auto dk = DataKey::parse(key)) scope[dk->table].insert(dk->dt);
  } else {
    auto all = store_->list("");
    if (!all) return fail(all.error());
    for (auto& obj : *all) {
      auto slash = obj.key.find('/');
      if (slash == std::string::npos || !is_table_name(obj.key.substr(0, slash))) continue;
      std::string table = obj.key.substr(0, slash);
      scope[table];
      listings[table].push_back(std::move(obj));
    }
    std::lock_guard lock(state_mutex_);
    for (const auto& [name, t] : tables_) scope[name];
    listed_all = true;
  }

  for (const auto& [table, requested] : scope) {
    info.tables.push_back(table);
    std::set<std::string> partitions = requested;  // the crawl's scope (empty: the whole table)
    TableState current;
    {
      std::lock_guard lock(state_mutex_);
      auto it = tables_.find(table);
      if (it != tables_.end()) current = it->second;
      else current.name = table;
    }
    // Files a compaction replaced stay in the store until no kept snapshot names
    // them; the catalog and the commits leave them out. When the catalog still
    // names one (another cataloger compacted), the whole table is listed again so
    // the new files come in with the same crawl that drops the old ones.
    std::set<std::string> retired;
    bool stale = false;
    if (options_.iceberg) {
      auto r = options_.iceberg->retired(table);
      if (!r) return fail(Error{r.error().code, "Iceberg metadata of " + table + ": " + r.error().message});
      retired = std::move(r).value();
      for (const auto& [dt, partition] : current.partitions)
        for (const auto& [key, file] : partition.files) stale = stale || retired.count(key) > 0;
      if (stale) {
        partitions.clear();
        for (auto& [dt, partition] : current.partitions) std::erase_if(partition.files, [&](const auto& f) { return retired.count(f.first) > 0; });
      }
    }
    std::vector<ObjectInfo> listing;
    if (listed_all) {
      listing = std::move(listings[table]);
    } else if (partitions.empty()) {
      auto l = store_->list(table + "/");
      if (!l) return fail(l.error());
      listing = std::move(l).value();
    } else {
      for (const auto& dt : partitions) {
        auto l = store_->list(DataKey::partition_prefix(table, dt));
        if (!l) return fail(l.error());
        listing.insert(listing.end(), l->begin(), l->end());
      }
    }
    if (!retired.empty()) std::erase_if(listing, [&](const ObjectInfo& o) { return retired.count(o.key) > 0; });
    // The schema reader and the views read the local copy: it must hold the listed
    // versions before the catalog names them.
    if (options_.mirror)
      if (Status s = options_.mirror->mirror(listing); !s.ok()) return fail(s.error());
    TableCrawl result = crawl_table(current, listing, partitions, *reader_, request.full, now_rfc3339());
    if (stale && !result.changed) {  // the retired files left the catalog: its views must change
      result.changed = true;
      result.state.data_version += 1;
      result.state.updated_at = now_rfc3339();
    }
    if (options_.mirror) {
      std::set<std::string> keep;
      for (const auto& obj : listing) keep.insert(obj.key);
      for (const auto& [dt, partition] : result.state.partitions)
        for (const auto& [key, file] : partition.files) keep.insert(key);
      options_.mirror->retain(table + "/", keep);
    }
    info.partitions_added += result.partitions_added;
    info.partitions_removed += result.partitions_removed;
    info.files_inspected += result.files_inspected;
    metrics_.counter("spotify_etl_cataloger_files_inspected_total", "Data files whose schema the crawler read")
        .inc(static_cast<double>(result.files_inspected));
    metrics_.counter("spotify_etl_cataloger_table_crawls_total", "Crawls per table", {{"table", table}}).inc();
    const bool has_data = !result.state.partitions.empty() || current.data_version != 0;
    if (options_.iceberg && has_data && (result.changed || listed_all || iceberg_behind_.count(table))) {
      auto committed = options_.iceberg->commit(result.state);
      if (!committed) {
        iceberg_behind_.insert(table);
        return fail(Error{committed.error().code, "Iceberg commit of " + table + ": " + committed.error().message});
      }
      iceberg_behind_.erase(table);
      // Pending from here: a crawl that fails further on leaves it for the next one.
      if (options_.publish && (committed->committed || listed_all)) unpublished_.insert(table);
      for (const auto& r : committed->refused)
        log::warn("a schema change Iceberg does not allow was left out", {{"table", table}, {"change", r}});
    }
    if (options_.iceberg && options_.compactor && has_data && request.trigger == "maintenance") {
      auto compacted = options_.compactor->compact(*options_.iceberg, result.state);
      if (!compacted) {
        log::error("compaction failed; the table stays as it was", {{"table", table}, {"error", compacted.error().message}});
      } else if (!compacted->written.empty()) {
        apply_compaction(result.state, *compacted);
        result.changed = true;
        if (options_.publish) unpublished_.insert(table);
      } else if (!compacted->abandoned.empty()) {
        log::info("compaction abandoned", {{"table", table}, {"reason", compacted->abandoned}});
      }
    }
    if (!result.changed) continue;
    if (!has_data) continue;  // nothing readable yet
    auto put = store_->put(catalog_key(table), to_json(result.state).dump());
    if (!put) return fail(put.error());
    for (const auto& c : result.changes) {
      log::info("schema change", {{"table", c.table}, {"column", c.column}, {"change", c.change},
                                  {"from", c.from}, {"to", c.to}, {"version", result.state.version}});
      metrics_.counter("spotify_etl_cataloger_schema_changes_total", "Schema changes (columns added or widened)",
                       {{"table", table}}).inc();
      info.schema_changes.push_back(c);
    }
    metrics_.gauge("spotify_etl_cataloger_partitions", "Partitions per table", {{"table", table}})
        .set(static_cast<double>(result.state.partitions.size()));
    {
      std::lock_guard lock(state_mutex_);
      tables_[table] = std::move(result.state);
      metrics_.gauge("spotify_etl_cataloger_tables", "Tables in the catalog").set(static_cast<double>(tables_.size()));
    }
    generation_.fetch_add(1);
  }
  if (options_.mirror && listed_all) options_.mirror->mark_complete();
  if (std::string unpublished = publish_once(); !unpublished.empty())
    return fail(Error{Errc::unavailable, "the catalog moved and the Iceberg commits landed, but publishing their "
                                         "metadata failed (the next crawl tries again): " + unpublished});
  info.state = CrawlState::succeeded;
  info.finished_at = now_rfc3339();
  metrics_.counter("spotify_etl_cataloger_crawls_total", "Crawls by trigger and outcome",
                   {{"trigger", request.trigger}, {"state", "SUCCEEDED"}}).inc();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  log::info("crawl finished", {{"crawl_id", info.crawl_id}, {"trigger", request.trigger}, {"tables", info.tables},
                               {"partitions_added", info.partitions_added}, {"files_inspected", info.files_inspected},
                               {"schema_changes", info.schema_changes.size()}, {"ms", ms}});
}

std::string LocalCatalog::publish() {
  if (!options_.publish || !options_.iceberg) return "";
  std::string errors;
  for (auto it = unpublished_.begin(); it != unpublished_.end();) {
    const std::string table = *it;
    auto current = options_.iceberg->current(table);
    Status published;
    if (!current) {
      published = std::move(current).error();
    } else if (!*current) {
      it = unpublished_.erase(it);  // no Iceberg metadata yet: nothing to publish
      continue;
    } else {
      iceberg::CurrentTable& now = **current;
      published = options_.publish({table, options_.iceberg->url_of(now.metadata_key), std::move(now.metadata)});
    }
    if (published.ok()) {
      it = unpublished_.erase(it);
      continue;
    }
    log::error("cannot publish a table's Iceberg metadata; the next crawl tries again",
               {{"table", table}, {"error", published.error().message}});
    errors += (errors.empty() ? "" : "; ") + table + ": " + published.error().message;
    ++it;
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
    auto columns = reader_->read_schema(object.key, "parquet");
    if (!columns) {
      log::error("cannot read a compacted file's schema; the next crawl brings it",
                 {{"key", object.key}, {"error", columns.error().message}});
      continue;
    }
    const std::string id = schema_id(*columns);
    state.schemas.emplace(id, *columns);
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
