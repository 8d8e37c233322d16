// LocalCatalog's crawl (local_catalog.h): which tables and partitions a crawl
// visits, and for each table the listing, the schema read of new files, the
// Iceberg commit (and compaction on a maintenance crawl), and its catalog document.
#include <algorithm>
#include <set>

#include "at_once.h"
#include "compaction.h"
#include "etl/log.h"
#include "ids.h"
#include "local_catalog.h"

namespace etl::cataloger {

namespace {
// The files `view`'s metadata retired (a compaction or a refold), out of `state`.
void drop_retired(TableState& state, const iceberg::IcebergTables::CrawlView& view) {
  for (auto& [dt, partition] : state.partitions)
    std::erase_if(partition.files, [&](const auto& f) { return view.retired.count(f.first) > 0; });
}

// Older generations of a file whose newer one is listed (etl/lake.h "Generations"):
// the catalog names the newest only. With Iceberg tables the commit that adds it
// deletes and retires the older ones (IcebergTables::commit). Returns them.
std::set<std::string> drop_superseded(std::vector<ObjectInfo>& listing) {
  std::vector<std::string> keys;
  for (const auto& o : listing) keys.push_back(o.key);
  std::set<std::string> superseded = superseded_keys(keys);
  if (!superseded.empty())
    std::erase_if(listing, [&](const ObjectInfo& o) { return superseded.count(o.key) > 0; });
  return superseded;
}
}  // namespace

void LocalCatalog::run(CrawlInfo& info, const CrawlRequest& request) {
  info.tables.clear();
  const auto started = std::chrono::steady_clock::now();
  auto scope = scope_of(request);
  if (!scope) return finish_crawl(info, request, &scope.error(), started);
  if (Status s = crawl_tables(*scope, request, info); !s.ok()) return finish_crawl(info, request, &s.error(), started);
  if (options_.mirror && scope->listed_all) options_.mirror->mark_complete();
  finish_crawl(info, request, nullptr, started);
}

Status LocalCatalog::crawl_tables(CrawlScope& scope, const CrawlRequest& request, CrawlInfo& info) {
  std::vector<std::string> tables;
  for (const auto& [table, partitions] : scope.partitions) {
    tables.push_back(table);
    if (scope.listed_all) scope.listings[table];  // made now: the tables' threads only look entries up
  }
  if (tables.size() < 2 || request.trigger == "maintenance" || options_.mirror) {
    for (const auto& table : tables) {
      info.tables.push_back(table);
      ETL_RETURN_IF_ERROR(crawl_one(table, scope.partitions.at(table), scope, request, info));
    }
    return {};
  }
  info.tables = tables;
  std::vector<CrawlInfo> parts(tables.size());
  std::vector<Status> results(tables.size());
  for_each_at_once(tables.size(), kCrawlTablesAtOnce, [&](std::size_t i) {
    results[i] = crawl_one(tables[i], scope.partitions.at(tables[i]), scope, request, parts[i]);
  });
  for (auto& part : parts) {
    info.partitions_added += part.partitions_added;
    info.partitions_removed += part.partitions_removed;
    info.files_inspected += part.files_inspected;
    for (auto& c : part.schema_changes) info.schema_changes.push_back(std::move(c));
  }
  for (auto& result : results)
    if (!result.ok()) return result;
  return {};
}

void LocalCatalog::finish_crawl(CrawlInfo& info, const CrawlRequest& request, const Error* error,
                                std::chrono::steady_clock::time_point started) {
  // Also when the crawl failed: what it committed before failing is published.
  const std::string unpublished = publish();
  hold_for_refold(request, error != nullptr);
  info.finished_at = now_rfc3339();
  if (error || !unpublished.empty()) {
    info.state = CrawlState::failed;
    if (error) info.error = error->message + (unpublished.empty() ? "" : "; and publishing failed: " + unpublished);
    else
      info.error = "the catalog moved and the Iceberg commits landed, but publishing their metadata failed (the next "
                   "crawl tries again): " + unpublished;
    metrics_.counter("spotify_etl_cataloger_crawls_total", "Crawls by trigger and outcome",
                     {{"trigger", request.trigger}, {"state", "FAILED"}}).inc();
    log::error("crawl failed", {{"crawl_id", info.crawl_id}, {"error", info.error}});
    return;
  }
  info.state = CrawlState::succeeded;
  metrics_.counter("spotify_etl_cataloger_crawls_total", "Crawls by trigger and outcome",
                   {{"trigger", request.trigger}, {"state", "SUCCEEDED"}}).inc();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  log::info("crawl finished", {{"crawl_id", info.crawl_id}, {"trigger", request.trigger}, {"tables", info.tables},
                               {"partitions_added", info.partitions_added}, {"files_inspected", info.files_inspected},
                               {"schema_changes", info.schema_changes.size()}, {"ms", ms}});
}

Result<LocalCatalog::CrawlScope> LocalCatalog::scope_of(const CrawlRequest& request) {
  CrawlScope scope;
  if (!request.tables.empty()) {
    for (const auto& t : request.tables) scope.partitions[t];
  } else if (!request.changed_keys.empty()) {
    for (const auto& key : request.changed_keys)
      if (auto dk = DataKey::parse(key)) scope.partitions[dk->table].insert(dk->dt);
  } else {
    auto all = store_->list("");
    if (!all) return std::move(all).error();
    for (auto& obj : *all) {
      auto slash = obj.key.find('/');
      if (slash == std::string::npos || !is_table_name(obj.key.substr(0, slash))) continue;
      std::string table = obj.key.substr(0, slash);
      scope.partitions[table];
      scope.listings[table].push_back(std::move(obj));
    }
    std::lock_guard lock(state_mutex_);
    for (const auto& [name, t] : tables_) scope.partitions[name];
    scope.listed_all = true;
  }
  return scope;
}

Status LocalCatalog::crawl_one(const std::string& table, std::set<std::string> partitions, CrawlScope& scope,
                               const CrawlRequest& request, CrawlInfo& info) {
  TableState current;
  {
    std::lock_guard lock(state_mutex_);
    auto it = tables_.find(table);
    if (it != tables_.end()) current = it->second;
    else current.name = table;
  }
  // Files a compaction replaced stay in the store until no kept snapshot names
  // them, and its output is stored before its replace commit lands (or is lost):
  // a listing alone could show both, or an output no snapshot holds. So after
  // listing, the crawl loads the table's Iceberg metadata once and takes, of what
  // a compaction touched, exactly what that version says: the output if it holds
  // it (fetched when it landed after the listing), else the inputs. When the
  // catalog still names a retired file (another cataloger compacted), the whole
  // table is listed again so the output comes in with the same crawl that drops
  // the inputs.
  std::vector<ObjectInfo> listing;
  std::set<std::string> older_generations;
  iceberg::IcebergTables::CrawlView view;
  bool stale = false;
  for (int pass = 0; pass < 2; ++pass) {
    auto listed = list_table(table, partitions, scope);
    if (!listed) return std::move(listed).error();
    listing = std::move(listed).value();
    older_generations = drop_superseded(listing);
    if (!options_.iceberg) break;
    auto loaded = options_.iceberg->crawl_view(table);
    if (!loaded) return Error{loaded.error().code, "Iceberg metadata of " + table + ": " + loaded.error().message};
    view = std::move(loaded).value();
    stale = false;
    for (const auto& [dt, partition] : current.partitions)
      for (const auto& [key, file] : partition.files) stale = stale || view.retired.count(key) > 0;
    if (!stale || partitions.empty()) break;
    partitions.clear();
  }
  if (stale) drop_retired(current, view);
  if (options_.iceberg && options_.compactor && view.current && !view.compacted_live.empty()) {
    std::lock_guard refolding(refold_mutex_);
    ETL_RETURN_IF_ERROR(refold_rewritten(table, current, view, listing));
  }
  if (options_.iceberg) ETL_RETURN_IF_ERROR(take_compaction_as_committed(table, partitions, view, listing));
  // The schema reader and the views read the local copy: it must hold the listed
  // versions before the catalog names them.
  if (options_.mirror) ETL_RETURN_IF_ERROR(options_.mirror->mirror(listing));
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
  if (!has_data) return {};  // nothing readable yet
  if (options_.iceberg) {
    ETL_RETURN_IF_ERROR(commit_iceberg(table, result, scope.listed_all, view.current, older_generations));
    if (options_.compactor && request.trigger == "maintenance") {
      compact(table, result);
      remove_orphans(table);
    }
  }
  if (!result.changed) return {};
  return save_table(table, result, info);
}

// A compacted file's inputs written again (POST /v1/reprocess writes a newer
// generation of a batch's files, or, from a transformer that redoes in place,
// the same names): before anything else commits them, their new rows take the
// place of their old ones inside the compacted file. Committed
// as files of their own they would hold their rows twice, and left out (retired)
// they would never be seen, so until a refold lands they are held back.
Status LocalCatalog::refold_rewritten(const std::string& table, TableState& current,
                                      iceberg::IcebergTables::CrawlView& view, std::vector<ObjectInfo>& listing) {
  auto found = options_.compactor->find_rewritten(view, listing);
  if (!found) return Error{found.error().code, "compacted files of " + table + ": " + found.error().message};
  if (found->empty()) return {};
  std::vector<ObjectInfo> rewritten;
  for (const auto& r : *found)
    for (const auto& [key, object] : r.rewritten) rewritten.push_back(object);
  Status mirrored = options_.mirror ? options_.mirror->mirror(rewritten) : Status{};
  auto done = mirrored.ok() ? options_.compactor->refold(*options_.iceberg, current, *found)
                            : Result<iceberg::CompactionResult>(std::move(mirrored).error());
  if (!done || done->written.empty()) {
    log::error("rewritten inputs of a compacted file could not be folded into it; held back for a crawl of their own",
               {{"table", table}, {"files", rewritten.size()},
                {"error", done ? done->abandoned : done.error().message}});
    std::set<std::string> held;
    for (const auto& o : rewritten) held.insert(o.key);
    {
      std::lock_guard lock(crawl_sets_mutex_);
      crawl_held_.insert(held.begin(), held.end());
    }
    std::erase_if(listing, [&](const ObjectInfo& o) { return held.count(o.key) > 0; });
    return {};
  }
  if (options_.publish) {
    std::lock_guard lock(crawl_sets_mutex_);
    unpublished_.insert(table);  // the replace is a commit Glue must hear of
  }
  metrics_.counter("spotify_etl_cataloger_iceberg_refolded_files_total",
                   "Rewritten inputs of compacted files whose rows replaced their old ones there", {{"table", table}})
      .inc(static_cast<double>(rewritten.size()));
  auto loaded = options_.iceberg->crawl_view(table);
  if (!loaded) return Error{loaded.error().code, "Iceberg metadata of " + table + ": " + loaded.error().message};
  view = std::move(loaded).value();
  drop_retired(current, view);
  return {};
}

Status LocalCatalog::take_compaction_as_committed(const std::string& table, const std::set<std::string>& partitions,
                                                  const iceberg::IcebergTables::CrawlView& view,
                                                  std::vector<ObjectInfo>& listing) {
  std::erase_if(listing, [&](const ObjectInfo& o) {
    return view.retired.count(o.key) > 0 || (iceberg::is_compacted_key(o.key) && !view.compacted_live.count(o.key));
  });
  std::set<std::string> listed;
  for (const auto& o : listing) listed.insert(o.key);
  for (const auto& key : view.compacted_live) {
    auto data = DataKey::parse(key);
    if (listed.count(key) || !data || data->table != table || (!partitions.empty() && !partitions.count(data->dt)))
      continue;
    auto head = store_->head(key);  // committed after the listing
    if (!head) {
      if (head.error().code == Errc::not_found) continue;
      return std::move(head).error();
    }
    head->key = key;
    listing.push_back(std::move(head).value());
  }
  return {};
}

Result<std::vector<ObjectInfo>> LocalCatalog::list_table(const std::string& table,
                                                         const std::set<std::string>& partitions, CrawlScope& scope) {
  if (scope.listed_all) return std::move(scope.listings[table]);
  if (partitions.empty()) return store_->list(table + "/");
  std::vector<ObjectInfo> listing;
  for (const auto& dt : partitions) {
    auto l = store_->list(DataKey::partition_prefix(table, dt));
    if (!l) return std::move(l).error();
    listing.insert(listing.end(), l->begin(), l->end());
  }
  return listing;
}

Status LocalCatalog::commit_iceberg(const std::string& table, const TableCrawl& result, bool listed_all,
                                    const std::optional<iceberg::CurrentTable>& known,
                                    const std::set<std::string>& older_generations) {
  bool behind = false;
  {
    std::lock_guard lock(crawl_sets_mutex_);
    behind = iceberg_behind_.count(table) > 0;
  }
  if (!result.changed && !listed_all && !behind) return {};
  auto committed = options_.iceberg->commit(result.state, nullptr, &known, older_generations, result.facts);
  std::lock_guard lock(crawl_sets_mutex_);
  if (!committed) {
    iceberg_behind_.insert(table);
    return Error{committed.error().code, "Iceberg commit of " + table + ": " + committed.error().message};
  }
  iceberg_behind_.erase(table);
  crawl_held_.insert(committed->held.begin(), committed->held.end());
  // Pending from here: a crawl that fails further on leaves it for the next one.
  if (options_.publish && (committed->committed || listed_all)) unpublished_.insert(table);
  for (const auto& r : committed->refused)
    log::warn("a schema change Iceberg does not allow was left out", {{"table", table}, {"change", r}});
  return {};
}

void LocalCatalog::compact(const std::string& table, TableCrawl& result) {
  auto compacted = options_.compactor->compact(*options_.iceberg, result.state);
  if (!compacted) {
    log::error("compaction failed; the table stays as it was", {{"table", table}, {"error", compacted.error().message}});
  } else if (!compacted->written.empty()) {
    apply_compaction(result.state, *compacted);
    result.changed = true;
    std::lock_guard lock(crawl_sets_mutex_);
    if (options_.publish) unpublished_.insert(table);
  } else if (!compacted->abandoned.empty()) {
    log::info("compaction abandoned", {{"table", table}, {"reason", compacted->abandoned}});
  }
}

// After the compaction, so its retired files are named in the metadata read here.
// A failure is logged and left for the next maintenance crawl.
void LocalCatalog::remove_orphans(const std::string& table) {
  if (options_.orphan_age.count() <= 0) return;
  auto removed = options_.iceberg->remove_orphans(table, std::chrono::system_clock::now() - options_.orphan_age);
  if (!removed) log::warn("orphan removal failed; tried again at the next maintenance", {{"table", table}, {"error", removed.error().message}});
}

Status LocalCatalog::save_table(const std::string& table, TableCrawl& result, CrawlInfo& info) {
  auto put = store_->put(catalog_key(table), to_json(result.state).dump());
  if (!put) return std::move(put).error();
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
  return {};
}

}  // namespace etl::cataloger
