#include "iceberg_tables.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <map>
#include <set>

#include "at_once.h"
#include "compaction.h"
#include "crawler.h"
#include "etl/log.h"
#include "ids.h"
#include "table_metadata.h"
#include "table_report.h"

namespace etl::cataloger::iceberg {
namespace {

using nlohmann::json;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A positive snapshot id (Iceberg ids are signed longs).
std::int64_t new_snapshot_id() {
  const auto v = static_cast<std::int64_t>(random_u64() & 0x7fffffffffffffffULL);
  return v == 0 ? 1 : v;
}

std::string metadata_prefix(const std::string& table) { return table + "/metadata/"; }
std::string metadata_key(const std::string& table, int version) {
  return metadata_prefix(table) + "v" + std::to_string(version) + ".metadata.json";
}

// "v12.metadata.json" -> 12; 0 for other names.
int version_of(std::string_view name) {
  if (!name.starts_with("v") || !name.ends_with(".metadata.json")) return 0;
  auto digits = name.substr(1, name.size() - 1 - std::strlen(".metadata.json"));
  if (digits.empty() || digits.size() > 9) return 0;
  int v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}


int next_schema_id(const json& metadata) {
  int next = 0;
  for (const auto& s : metadata["schemas"]) next = std::max(next, s.value("schema-id", 0) + 1);
  return next;
}

void add_schema(json& metadata, const json& schema, int last_column_id) {
  metadata["schemas"].push_back(schema);
  metadata["current-schema-id"] = schema["schema-id"];
  metadata["last-column-id"] = last_column_id;
  metadata["properties"]["schema.name-mapping.default"] = name_mapping(schema);
}

// Makes `snapshot` the table's current one.
void append_snapshot(json& metadata, json snapshot, std::int64_t now) {
  const std::int64_t id = snapshot.value("snapshot-id", std::int64_t{0});
  metadata["last-sequence-number"] = snapshot.value("sequence-number", std::int64_t{0});
  metadata["snapshots"].push_back(std::move(snapshot));
  metadata["current-snapshot-id"] = id;
  metadata["last-updated-ms"] = now;
  metadata["refs"]["main"] = {{"snapshot-id", id}, {"type", "branch"}};
  metadata["snapshot-log"].push_back({{"timestamp-ms", now}, {"snapshot-id", id}});
}

// Records the metadata file being replaced in the metadata log; returns the files
// that fall out of the log (deleted after the swap).
std::vector<std::string> log_previous(json& metadata, const std::string& previous_url, std::int64_t previous_ms,
                                      int max_entries) {
  std::vector<std::string> dropped;
  auto& log = metadata["metadata-log"];
  log.push_back({{"timestamp-ms", previous_ms}, {"metadata-file", previous_url}});
  while (static_cast<int>(log.size()) > max_entries) {
    dropped.push_back(log.begin()->value("metadata-file", ""));
    log.erase(log.begin());
  }
  return dropped;
}

}  // namespace

std::map<std::string, std::int64_t> retired_files(const json& metadata) {
  std::map<std::string, std::int64_t> out;
  if (!metadata.contains("properties") || !metadata["properties"].is_object()) return out;
  auto it = metadata["properties"].find(std::string(kRetiredFilesProperty));
  if (it == metadata["properties"].end() || !it->is_string()) return out;
  auto doc = json::parse(it->get<std::string>(), nullptr, false);
  if (!doc.is_object()) return out;
  for (const auto& [key, at] : doc.items())
    if (at.is_number_integer()) out[key] = at.get<std::int64_t>();
  return out;
}

Result<std::unique_ptr<IcebergTables>> IcebergTables::open(std::shared_ptr<ObjectStore> store,
                                                           IcebergTablesOptions options, MetricsRegistry& metrics) {
  std::string base;
  if (auto local = store->local_path("x")) {
    base = "file://" + std::filesystem::absolute(*local).parent_path().lexically_normal().string();
  } else {
    base = store->url();
    if (!base.starts_with("s3://"))
      return make_error(Errc::invalid_argument, "Iceberg tables need a file:// or s3:// store, not " + base);
  }
  while (base.ends_with('/')) base.pop_back();
  base += '/';
  auto db = duck::Database::open(":memory:", {{"threads", "1"}});
  if (!db) return std::move(db).error();
  std::unique_ptr<IcebergTables> tables(new IcebergTables(std::move(store), std::move(options), metrics, base));
  tables->db_ = std::move(db).value();
  for (std::size_t i = 0; i < kFooterReadsAtOnce; ++i) {  // commits of several tables, several files each
    auto conn = tables->db_->connect();
    if (!conn) return std::move(conn).error();
    ETL_RETURN_IF_ERROR(tables->options_.files.prepare(**conn));
    tables->conns_.add(std::move(conn).value());
  }
  return tables;
}

IcebergTables::IcebergTables(std::shared_ptr<ObjectStore> store, IcebergTablesOptions options, MetricsRegistry& metrics,
                             std::string base_url)
    : store_(std::move(store)),
      options_(std::move(options)),
      metrics_(metrics),
      base_url_(std::move(base_url)),
      manifest_cache_(options_.manifest_cache_bytes) {}

std::optional<std::string> IcebergTables::key_of(std::string_view url) const {
  if (!url.starts_with(base_url_)) return std::nullopt;
  return std::string(url.substr(base_url_.size()));
}

Status IcebergTables::step(std::string_view name) {
  if (options_.after_step) return options_.after_step(name);
  return {};
}

// The version the hint names (it is written after the swap and may lag), else the
// newest metadata file listed; 0 when there is none.
Result<int> IcebergTables::hinted_version(const std::string& table) {
  int version = 0;
  auto hint = store_->get(metadata_prefix(table) + "version-hint.text", 64);
  if (hint) {
    try {
      version = std::stoi(*hint);
    } catch (...) {
      version = 0;
    }
  } else if (hint.error().code != Errc::not_found) {
    return std::move(hint).error();
  }
  if (version <= 0) {
    auto listed = store_->list(metadata_prefix(table) + "v");
    if (!listed) return std::move(listed).error();
    for (const auto& o : *listed) version = std::max(version, version_of(o.key.substr(metadata_prefix(table).size())));
  }
  return std::max(version, 0);
}

Result<bool> IcebergTables::committed(const std::string& table) {
  auto version = hinted_version(table);
  if (!version) return std::move(version).error();
  return *version > 0;
}

std::optional<CurrentTable> IcebergTables::still_current(const std::string& table) {
  Swapped kept;
  {
    std::lock_guard lock(swapped_mutex_);
    auto it = swapped_.find(table);
    if (it == swapped_.end()) return std::nullopt;
    kept = it->second;
  }
  auto next = std::async(std::launch::async, [&] { return store_->head(metadata_key(table, kept.table.version + 1)); });
  auto self = store_->head(kept.table.metadata_key);
  auto after = next.get();
  if (!self || self->etag != kept.etag || after.ok() || after.error().code != Errc::not_found) {
    std::lock_guard lock(swapped_mutex_);
    swapped_.erase(table);  // another writer moved it (or the store did not answer): read it again
    return std::nullopt;
  }
  metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_saved_total",
                   "Iceberg metadata this process had committed itself, found still current and not fetched again",
                   {{"table", table}})
      .inc();
  return std::move(kept.table);
}

void IcebergTables::remember_commit(const std::string& table, CurrentTable current, const std::string& etag,
                                    const SnapshotWriter& writer) {
  // What a later read of these files would give: parsed from the very bytes stored.
  for (const auto& w : writer.written()) {
    if (w.list) {
      if (auto list = read_manifest_list(w.bytes)) manifest_cache_.remember(w.key, std::move(list).value());
    } else if (auto entries = read_manifest(w.bytes)) {
      manifest_cache_.remember(w.key, static_cast<std::int64_t>(w.bytes.size()), std::move(entries).value());
    }
  }
  std::lock_guard lock(swapped_mutex_);
  if (etag.empty()) swapped_.erase(table);
  else swapped_[table] = {std::move(current), etag};
}

Result<std::optional<CurrentTable>> IcebergTables::current(const std::string& table) {
  if (auto mine = still_current(table)) return std::optional<CurrentTable>(std::move(mine));
  // The hint, then probe forward: the hint may lag.
  auto hinted = hinted_version(table);
  if (!hinted) return std::move(hinted).error();
  int version = *hinted;
  if (version <= 0) return std::optional<CurrentTable>{};
  for (;;) {
    auto next = store_->head(metadata_key(table, version + 1));
    if (next) {
      ++version;
      continue;
    }
    if (next.error().code != Errc::not_found) return std::move(next).error();
    break;
  }
  auto bytes = store_->get(metadata_key(table, version), 64ull << 20);
  if (!bytes) return std::move(bytes).error();
  metrics_.counter("spotify_etl_cataloger_iceberg_metadata_reads_total", "Iceberg metadata files fetched and parsed",
                   {{"table", table}})
      .inc();
  CurrentTable out;
  out.version = version;
  out.metadata_key = metadata_key(table, version);
  try {
    out.metadata = json::parse(*bytes);
  } catch (const std::exception& e) {
    return make_error(Errc::internal, out.metadata_key + " is not JSON: " + e.what());
  }
  ETL_RETURN_IF_ERROR(validate_metadata(out.metadata));
  return std::optional<CurrentTable>(std::move(out));
}

Result<IcebergTables::CrawlView> IcebergTables::crawl_view(const std::string& table) {
  auto current = this->current(table);
  if (!current) return std::move(current).error();
  CrawlView view;
  if (!*current) return view;
  view.current = std::move(*current);
  const json& metadata = view.current->metadata;
  for (const auto& [key, at] : retired_files(metadata)) view.retired.insert(key);
  const json properties = metadata.value("properties", json::object());
  if (!properties.is_object() || !properties.contains(std::string(kLastCompactionProperty))) return view;  // never compacted
  auto live = live_files(metadata);
  if (!live) return std::move(live).error();
  for (const auto& e : *live)
    if (auto key = key_of(e.file_path)) {
      view.live_records[*key] = e.record_count;
      if (is_compacted_key(*key)) view.compacted_live.insert(*key);
    }
  return view;
}

Result<std::vector<ReadManifest>> IcebergTables::read_snapshot(const json& metadata) {
  std::vector<ReadManifest> out;
  const json* snapshot = current_snapshot(metadata);
  if (!snapshot) return out;
  auto manifests = read_list(snapshot->value("manifest-list", ""));
  if (!manifests) return std::move(manifests).error();
  for (const auto& m : **manifests) {
    auto entries = read_entries(m);
    if (!entries) return std::move(entries).error();
    ReadManifest read{m, **entries};
    for (auto& e : read.entries) {
      if (!e.sequence_number) e.sequence_number = m.sequence_number;
      if (!e.file_sequence_number) e.file_sequence_number = m.sequence_number;
      if (!e.snapshot_id) e.snapshot_id = m.added_snapshot_id;
    }
    out.push_back(std::move(read));
  }
  return out;
}

void IcebergTables::count_cache(bool hit) {
  metrics_
      .counter(hit ? "spotify_etl_cataloger_iceberg_manifest_cache_hits_total"
                   : "spotify_etl_cataloger_iceberg_manifest_cache_misses_total",
               hit ? "Manifests and manifest lists found parsed in the manifest cache"
                   : "Manifests and manifest lists fetched from the store and parsed")
      .inc();
}

Result<ManifestCache::List> IcebergTables::read_list(const std::string& list_url) {
  auto key = key_of(list_url);
  if (!key) return make_error(Errc::internal, "a manifest list is outside the store: " + list_url);
  if (auto kept = manifest_cache_.list(*key)) {
    count_cache(true);
    return kept;
  }
  count_cache(false);
  auto bytes = store_->get(*key);
  if (!bytes) return std::move(bytes).error();
  auto manifests = read_manifest_list(*bytes);
  if (!manifests) return std::move(manifests).error();
  return manifest_cache_.remember(*key, std::move(manifests).value());
}

Result<ManifestCache::Entries> IcebergTables::read_entries(const ManifestFile& manifest) {
  auto key = key_of(manifest.manifest_path);
  if (!key) return make_error(Errc::internal, "a manifest is outside the store: " + manifest.manifest_path);
  if (auto kept = manifest_cache_.manifest(*key, manifest.manifest_length)) {
    count_cache(true);
    return kept;
  }
  count_cache(false);
  auto bytes = store_->get(*key);
  if (!bytes) return std::move(bytes).error();
  auto entries = read_manifest(*bytes);
  if (!entries) return std::move(entries).error();
  return manifest_cache_.remember(*key, manifest.manifest_length, std::move(entries).value());
}

Result<std::vector<ManifestEntry>> IcebergTables::live_files(const json& metadata) {
  auto manifests = read_snapshot(metadata);
  if (!manifests) return std::move(manifests).error();
  return live_entries(*manifests);
}

std::mutex& IcebergTables::commit_mutex(const std::string& table) {
  std::lock_guard lock(commits_mutex_);
  auto& m = table_commits_[table];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Result<CommitResult> IcebergTables::commit(const TableState& state, const Replace* replace,
                                           const std::optional<CurrentTable>* known,
                                           const std::set<std::string>& older_generations, const FactsByKey& facts) {
  std::lock_guard lock(commit_mutex(state.name));
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    std::optional<CurrentTable> loaded;
    const std::optional<CurrentTable>* parent = attempt == 1 ? known : nullptr;
    if (!parent) {
      auto current = this->current(state.name);
      if (!current) return std::move(current).error();
      loaded = std::move(current).value();
      parent = &loaded;
    }
    auto result = try_commit(state, *parent, replace, older_generations, facts);
    if (result) {
      result->attempts = attempt;
      if (result->committed) {
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        metrics_.counter("spotify_etl_cataloger_iceberg_commits_total", "Iceberg snapshots committed", {{"table", state.name}})
            .inc();
        metrics_.histogram("spotify_etl_cataloger_iceberg_commit_seconds", "Iceberg commit latency").observe(ms / 1000.0);
        log::info("iceberg snapshot committed",
                  {{"table", state.name}, {"version", result->version}, {"snapshot_id", result->snapshot_id},
                   {"added_files", result->added_files}, {"deleted_files", result->deleted_files},
                   {"superseded_files", result->superseded_files},
                   {"attempts", attempt}, {"ms", ms}});
      }
      return result;
    }
    if (result.error().code != Errc::conflict) return std::move(result).error();
    metrics_.counter("spotify_etl_cataloger_iceberg_commit_conflicts_total",
                     "Iceberg commits that lost the compare-and-swap and were retried", {{"table", state.name}})
        .inc();
  }
  return make_error(Errc::unavailable, "Iceberg commit of " + state.name + " lost the compare-and-swap " +
                                           std::to_string(options_.max_attempts) + " times");
}

Result<CommitResult> IcebergTables::try_commit(const TableState& state, const std::optional<CurrentTable>& current,
                                               const Replace* replace, const std::set<std::string>& older_generations,
                                               const FactsByKey& facts) {
  CommitResult out;
  json metadata = current ? current->metadata : json();
  std::map<std::string, std::int64_t> retired_at;  // key -> when a replace retired it (ms)
  std::vector<ReadManifest> parent_manifests;
  if (current) {
    retired_at = retired_files(metadata);
    auto read = read_snapshot(metadata);
    if (!read) return std::move(read).error();
    parent_manifests = std::move(read).value();
  }
  auto changes = diff_files(state, live_entries(parent_manifests), retired_at, replace, older_generations, facts);
  if (!changes) return std::move(changes).error();
  out.held = changes->held;
  if (!changes->abandoned.empty()) {
    out.abandoned = std::move(changes->abandoned);
    return out;
  }

  // The schema: evolved from the current one with the catalog's columns.
  int last_column_id = current ? metadata.value("last-column-id", 0) : 0;
  const json* schema = current ? current_schema(metadata) : nullptr;
  const json evolved = evolve_schema(schema, state.columns, changes->file_ids, current ? next_schema_id(metadata) : 0,
                                     last_column_id, out.refused);
  const bool schema_changed = !schema || !same_fields(*schema, evolved);
  const bool files_changed = !changes->added.empty() || !changes->deleted.empty();
  // Nothing to commit (sweeps wait for one), and no table before it has data.
  if (!files_changed && (!schema_changed || !current)) return out;

  const std::int64_t ts = now_ms();
  if (!current) metadata = new_table_metadata(new_id(), url_of(state.name), evolved, last_column_id, ts);
  else if (schema_changed) add_schema(metadata, evolved, last_column_id);

  const json* parent = current_snapshot(metadata);
  SnapshotPlan plan;
  plan.table = state.name;
  plan.base_url = base_url_;
  plan.commit_uuid = new_id();
  plan.snapshot_id = new_snapshot_id();
  if (parent) plan.parent_id = parent->value("snapshot-id", std::int64_t{0});
  plan.sequence = metadata.value("last-sequence-number", std::int64_t{0}) + 1;
  const int schema_id = metadata.value("current-schema-id", 0);
  plan.header = {(current_schema(metadata) ? *current_schema(metadata) : evolved).dump(), schema_id,
                 metadata["partition-specs"][0]["fields"].dump(), 0};

  SnapshotWriter writer(*store_, plan);
  const bool merge = static_cast<int>(parent_manifests.size()) + 1 > options_.max_manifests;
  ETL_RETURN_IF_ERROR(writer.carry(parent_manifests, changes->deleted, merge));
  ETL_RETURN_IF_ERROR(writer.add(changes->added));
  auto list_url = writer.write_list();
  if (!list_url) return std::move(list_url).error();
  ETL_RETURN_IF_ERROR(step("manifests"));

  const std::string operation = replace                    ? "replace"
                                : changes->deleted.empty() ? "append"
                                : changes->added.empty()   ? "delete"
                                                           : "overwrite";
  json snapshot =
      snapshot_object(plan, writer.totals(), operation, *list_url, ts, schema_id, state.data_version, parent);
  append_snapshot(metadata, std::move(snapshot), ts);
  std::vector<std::string> dropped_metadata;  // previous metadata files out of the log: deleted after the swap
  if (current)
    dropped_metadata = log_previous(metadata, url_of(current->metadata_key),
                                    current->metadata.value("last-updated-ms", ts), options_.metadata_log_max);
  const std::vector<std::string> expired = expire(metadata, ts);
  auto removed = sweep_retired(metadata, std::move(retired_at), replace, changes->superseded, ts);
  if (!removed) return std::move(removed).error();

  const int version = current ? current->version + 1 : 1;
  std::string etag;
  ETL_RETURN_IF_ERROR(swap(state.name, version, metadata.dump(2), etag));
  remember_commit(state.name, {version, metadata_key(state.name, version), metadata}, etag, writer);
  // Landed. Then, side by side (none waits for another): the version hint, the
  // expired snapshots' files, and the metadata files past the log, which the new
  // metadata no longer names. Once a table's log is full, every commit drops one.
  std::vector<std::string> dropped_keys;
  for (const auto& url : dropped_metadata)
    if (auto old_key = key_of(url)) dropped_keys.push_back(*old_key);
  for_each_at_once(3, 3, [&](std::size_t i) {
    if (i == 0) (void)store_->put(metadata_prefix(state.name) + "version-hint.text", std::to_string(version));
    if (i == 1 && !expired.empty()) remove_expired(metadata, expired);
    if (i == 2 && !dropped_keys.empty()) (void)store_->remove_all(dropped_keys);
  });
  ETL_RETURN_IF_ERROR(step("version-hint"));

  out.committed = true;
  out.snapshot_id = plan.snapshot_id;
  out.version = version;
  out.added_files = static_cast<int>(changes->added.size());
  out.deleted_files = static_cast<int>(changes->deleted.size());
  out.expired_snapshots = static_cast<int>(expired.size());
  out.removed_retired_files = *removed;
  out.superseded_files = static_cast<int>(changes->superseded.size());
  out.metadata_location = url_of(metadata_key(state.name, version));
  return out;
}

Status IcebergTables::swap(const std::string& table, int version, const std::string& doc, std::string& etag) {
  const std::string key = metadata_key(table, version);
  auto swapped = store_->put_if_absent(key, doc);
  etag = swapped ? swapped->etag : "";
  if (!swapped) {
    if (swapped.error().code != Errc::conflict) return std::move(swapped).error();
    auto there = store_->get(key, 64ull << 20);  // a retried request of ours that went through?
    if (!there || *there != doc) return make_error(Errc::conflict, "another writer committed " + key);
  }
  return step("metadata");
}

}  // namespace etl::cataloger::iceberg
