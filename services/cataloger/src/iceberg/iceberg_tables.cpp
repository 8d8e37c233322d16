#include "iceberg_tables.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>

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

constexpr std::string_view kRetiredProperty = "spotify-etl.retired-files";

// The retired-files property: {"<key>": <retired at, ms>}.
std::map<std::string, std::int64_t> retired_files(const json& metadata) {
  std::map<std::string, std::int64_t> out;
  if (!metadata.contains("properties") || !metadata["properties"].is_object()) return out;
  auto it = metadata["properties"].find(std::string(kRetiredProperty));
  if (it == metadata["properties"].end() || !it->is_string()) return out;
  auto doc = json::parse(it->get<std::string>(), nullptr, false);
  if (!doc.is_object()) return out;
  for (const auto& [key, at] : doc.items())
    if (at.is_number_integer()) out[key] = at.get<std::int64_t>();
  return out;
}

PartitionFieldSummary summary_of(const std::vector<ManifestEntry>& entries) {
  PartitionFieldSummary s;
  for (const auto& e : entries) {
    if (!e.dt) {
      s.contains_null = true;
      continue;
    }
    if (!s.lower_bound || *e.dt < *s.lower_bound) s.lower_bound = *e.dt;
    if (!s.upper_bound || *e.dt > *s.upper_bound) s.upper_bound = *e.dt;
  }
  return s;
}

}  // namespace

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
  auto conn = (*db)->connect();
  if (!conn) return std::move(conn).error();
  std::unique_ptr<IcebergTables> tables(new IcebergTables(std::move(store), std::move(options), metrics, base));
  tables->db_ = std::move(db).value();
  tables->conn_ = std::move(conn).value();
  return tables;
}

IcebergTables::IcebergTables(std::shared_ptr<ObjectStore> store, IcebergTablesOptions options, MetricsRegistry& metrics,
                             std::string base_url)
    : store_(std::move(store)), options_(std::move(options)), metrics_(metrics), base_url_(std::move(base_url)) {}

std::optional<std::string> IcebergTables::key_of(std::string_view url) const {
  if (!url.starts_with(base_url_)) return std::nullopt;
  return std::string(url.substr(base_url_.size()));
}

Status IcebergTables::step(std::string_view name) {
  if (options_.after_step) return options_.after_step(name);
  return {};
}

Result<std::optional<CurrentTable>> IcebergTables::current(const std::string& table) {
  // The hint, then probe forward: the hint is written after the swap and may lag.
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

Result<std::set<std::string>> IcebergTables::retired(const std::string& table) {
  auto current = this->current(table);
  if (!current) return std::move(current).error();
  std::set<std::string> out;
  if (*current)
    for (const auto& [key, at] : retired_files((*current)->metadata)) out.insert(key);
  return out;
}

Result<std::vector<ManifestEntry>> IcebergTables::live_files(const json& metadata) {
  std::vector<ManifestEntry> out;
  const json* snapshot = current_snapshot(metadata);
  if (!snapshot) return out;
  auto list_key = key_of(snapshot->value("manifest-list", ""));
  if (!list_key) return make_error(Errc::internal, "the manifest list is outside the store: " + snapshot->value("manifest-list", ""));
  auto list_bytes = store_->get(*list_key);
  if (!list_bytes) return std::move(list_bytes).error();
  auto manifests = read_manifest_list(*list_bytes);
  if (!manifests) return std::move(manifests).error();
  for (const auto& m : *manifests) {
    auto mkey = key_of(m.manifest_path);
    if (!mkey) return make_error(Errc::internal, "a manifest is outside the store: " + m.manifest_path);
    auto bytes = store_->get(*mkey);
    if (!bytes) return std::move(bytes).error();
    auto entries = read_manifest(*bytes);
    if (!entries) return std::move(entries).error();
    for (auto& e : *entries) {
      if (e.status == EntryStatus::deleted) continue;
      if (!e.sequence_number) e.sequence_number = m.sequence_number;
      if (!e.file_sequence_number) e.file_sequence_number = m.sequence_number;
      if (!e.snapshot_id) e.snapshot_id = m.added_snapshot_id;
      out.push_back(std::move(e));
    }
  }
  return out;
}

Result<IcebergTables::FileFacts> IcebergTables::read_facts(const std::string& key) {
  const std::string path = duck::quote_literal((options_.local_root / key).string());
  FileFacts facts;
  auto rows = conn_->query("SELECT num_rows FROM parquet_file_metadata(" + path + ")");
  if (!rows) return std::move(rows).error();
  if (rows->row_count() < 1) return make_error(Errc::internal, "no Parquet metadata in " + key);
  facts.records = std::stoll(rows->text(0, 0).value_or("0"));
  // The schema tree in pre-order: a top-level column, and for a list its element.
  auto schema = conn_->query("SELECT name, num_children, field_id FROM parquet_schema(" + path + ")");
  if (!schema) return std::move(schema).error();
  struct Node {
    std::string name;
    int children = 0;
    int id = 0;
  };
  std::vector<Node> nodes;
  for (idx_t r = 0; r < schema->row_count(); ++r)
    nodes.push_back({schema->text(0, r).value_or(""), std::stoi(schema->text(1, r).value_or("0")),
                     std::stoi(schema->text(2, r).value_or("0"))});
  std::size_t i = 1;  // nodes[0] is the root
  std::function<void(const std::string&, int)> walk = [&](const std::string& top, int depth) {
    const Node n = nodes[i++];
    if (depth == 0 && n.id > 0) facts.field_ids[n.name] = n.id;
    if (depth > 0 && n.name == "element" && n.id > 0) facts.field_ids[top + ".element"] = n.id;
    for (int c = 0; c < n.children && i < nodes.size(); ++c) walk(depth == 0 ? n.name : top, depth + 1);
  };
  while (i < nodes.size()) walk("", 0);
  return facts;
}

Result<CommitResult> IcebergTables::commit(const TableState& state, const Replace* replace) {
  std::lock_guard lock(mutex_);
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    auto current = this->current(state.name);
    if (!current) return std::move(current).error();
    auto result = try_commit(state, *current, replace);
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
                                               const Replace* replace) {
  CommitResult out;
  std::map<std::string, std::int64_t> retired_at;  // key -> when a replace retired it (ms)
  if (current) retired_at = retired_files(current->metadata);
  // What the catalog names: the table's Parquet files by URL.
  struct Wanted {
    std::string key, dt;
    std::uint64_t size;
  };
  std::map<std::string, Wanted> wanted;
  for (const auto& [dt, partition] : state.partitions)
    for (const auto& [key, file] : partition.files)
      if (file.format == "parquet" && !retired_at.count(key)) wanted[url_of(key)] = {key, dt, file.size};

  json metadata;
  std::vector<ManifestEntry> live;
  const json* schema = nullptr;
  if (current) {
    metadata = current->metadata;
    auto files = live_files(metadata);
    if (!files) return std::move(files).error();
    live = std::move(files).value();
    schema = current_schema(metadata);
  }
  std::map<std::string, const ManifestEntry*> live_by_path;
  for (const auto& e : live) live_by_path[e.file_path] = &e;

  std::set<std::string> replaced;  // paths a replace retires
  if (replace) {
    for (const auto& key : replace->retired) {
      const std::string url = url_of(key);
      if (!live_by_path.count(url) || wanted.count(url)) {
        out.abandoned = key + " is no longer a live file of " + state.name;
        return out;
      }
      replaced.insert(url);
    }
  }

  // Added: named by the catalog, not (or in another version) in the snapshot, and
  // the store holds exactly the version the catalog saw.
  std::vector<ManifestEntry> added;
  std::set<std::string> deleted;  // paths
  std::map<std::string, int> file_ids;
  for (const auto& [url, w] : wanted) {
    auto it = live_by_path.find(url);
    if (it != live_by_path.end() && static_cast<std::uint64_t>(it->second->file_size_in_bytes) == w.size) continue;
    auto head = store_->head(w.key);
    if (!head) {
      if (head.error().code == Errc::not_found) continue;
      return std::move(head).error();
    }
    if (head->size != w.size) continue;  // the catalog's view is stale: the next crawl brings it
    Result<FileFacts> facts = FileFacts{};
    if (auto known = replace ? replace->records.find(w.key) : decltype(replace->records.end()){};
        replace && known != replace->records.end())
      facts->records = known->second;
    else
      facts = read_facts(w.key);
    if (!facts) {
      log::warn("cannot read a Parquet file's row count; left out of the Iceberg snapshot until it can be read",
                {{"key", w.key}, {"error", facts.error().message}});
      continue;
    }
    for (const auto& [name, id] : facts->field_ids) file_ids.emplace(name, id);
    ManifestEntry e;
    e.status = EntryStatus::added;
    e.file_path = url;
    e.dt = w.dt;
    e.record_count = facts->records;
    e.file_size_in_bytes = static_cast<std::int64_t>(w.size);
    added.push_back(std::move(e));
    if (it != live_by_path.end()) deleted.insert(url);  // replaced in place: the old version goes
  }
  if (replace) {
    std::set<std::string> added_keys;
    for (const auto& e : added) added_keys.insert(*key_of(e.file_path));
    for (const auto& [key, n] : replace->records)
      if (!added_keys.count(key)) {
        out.abandoned = "the compacted file " + key + " could not be added";
        return out;
      }
    deleted.insert(replaced.begin(), replaced.end());
  }
  // Deleted: in the snapshot, not named by the catalog, and gone from the store.
  for (const auto& e : live) {
    if (wanted.count(e.file_path) || deleted.count(e.file_path)) continue;
    auto key = key_of(e.file_path);
    if (!key) continue;
    auto head = store_->head(*key);
    if (head) continue;
    if (head.error().code != Errc::not_found) return std::move(head).error();
    deleted.insert(e.file_path);
  }

  // The schema: evolved from the current one with the catalog's columns.
  int last_column_id = current ? metadata.value("last-column-id", 0) : 0;
  int next_schema_id = 0;
  if (current)
    for (const auto& s : metadata["schemas"]) next_schema_id = std::max(next_schema_id, s.value("schema-id", 0) + 1);
  json evolved = evolve_schema(schema, state.columns, file_ids, next_schema_id, last_column_id, out.refused);
  const bool schema_changed = !schema || !same_fields(*schema, evolved);

  if (added.empty() && deleted.empty() && !schema_changed) return out;  // nothing to commit (sweeps wait for one)
  if (added.empty() && deleted.empty() && !current) return out;         // no table before it has data

  const std::int64_t ts = now_ms();
  if (!current) {
    metadata = new_table_metadata(new_id(), url_of(state.name), evolved, last_column_id, ts);
  } else if (schema_changed) {
    metadata["schemas"].push_back(evolved);
    metadata["current-schema-id"] = evolved["schema-id"];
    metadata["last-column-id"] = last_column_id;
    metadata["properties"]["schema.name-mapping.default"] = name_mapping(evolved);
  }
  const int schema_id = metadata.value("current-schema-id", 0);
  const std::string schema_json = (current_schema(metadata) ? *current_schema(metadata) : evolved).dump();
  const std::string spec_json = metadata["partition-specs"][0]["fields"].dump();

  const std::int64_t snapshot_id = new_snapshot_id();
  const std::int64_t sequence = metadata.value("last-sequence-number", std::int64_t{0}) + 1;
  const json* parent = current_snapshot(metadata);
  const std::optional<std::int64_t> parent_id =
      parent ? std::optional<std::int64_t>(parent->value("snapshot-id", std::int64_t{0})) : std::nullopt;
  const std::string commit_uuid = new_id();
  int manifest_no = 0;
  std::vector<ManifestFile> manifests;
  std::int64_t added_records = 0, deleted_records = 0, total_records = 0, total_files = 0;
  std::int64_t added_bytes = 0, removed_bytes = 0;

  auto write_one = [&](std::vector<ManifestEntry> entries, int added_n, int existing_n, int deleted_n) -> Status {
    std::int64_t added_rows = 0, existing_rows = 0, deleted_rows = 0, min_seq = sequence;
    for (const auto& e : entries) {
      if (e.status == EntryStatus::added) added_rows += e.record_count;
      if (e.status == EntryStatus::existing) existing_rows += e.record_count;
      if (e.status == EntryStatus::deleted) deleted_rows += e.record_count;
      if (e.status != EntryStatus::added && e.sequence_number) min_seq = std::min(min_seq, *e.sequence_number);
    }
    auto bytes = write_manifest({schema_json, schema_id, spec_json, 0}, entries);
    if (!bytes) return std::move(bytes).error();
    const std::string key = metadata_prefix(state.name) + commit_uuid + "-m" + std::to_string(manifest_no++) + ".avro";
    auto put = store_->put(key, *bytes);
    if (!put) return std::move(put).error();
    ManifestFile m;
    m.manifest_path = url_of(key);
    m.manifest_length = static_cast<std::int64_t>(bytes->size());
    m.sequence_number = sequence;
    m.min_sequence_number = min_seq;
    m.added_snapshot_id = snapshot_id;
    m.added_files_count = added_n;
    m.existing_files_count = existing_n;
    m.deleted_files_count = deleted_n;
    m.added_rows_count = added_rows;
    m.existing_rows_count = existing_rows;
    m.deleted_rows_count = deleted_rows;
    std::vector<ManifestEntry> live_entries;
    for (const auto& e : entries)
      if (e.status != EntryStatus::deleted) live_entries.push_back(e);
    m.partitions = {summary_of(live_entries)};
    manifests.push_back(std::move(m));
    return {};
  };

  // The current manifests: kept as they are, unless they hold a deleted file or
  // there are too many (then rewritten: live entries as existing, deleted ones marked).
  std::vector<ManifestFile> previous;
  if (parent) {
    auto list_key = key_of(parent->value("manifest-list", ""));
    if (!list_key) return make_error(Errc::internal, "the manifest list is outside the store");
    auto bytes = store_->get(*list_key);
    if (!bytes) return std::move(bytes).error();
    auto list = read_manifest_list(*bytes);
    if (!list) return std::move(list).error();
    previous = std::move(list).value();
  }
  const bool merge = static_cast<int>(previous.size()) + 1 > options_.max_manifests;
  std::vector<ManifestEntry> merged;
  int merged_existing = 0, merged_deleted = 0;
  for (const auto& m : previous) {
    bool touched = merge;
    std::vector<ManifestEntry> entries;
    if (!deleted.empty() || merge) {
      auto mkey = key_of(m.manifest_path);
      if (!mkey) return make_error(Errc::internal, "a manifest is outside the store: " + m.manifest_path);
      auto bytes = store_->get(*mkey);
      if (!bytes) return std::move(bytes).error();
      auto read = read_manifest(*bytes);
      if (!read) return std::move(read).error();
      entries = std::move(read).value();
      for (const auto& e : entries)
        if (e.status != EntryStatus::deleted && deleted.count(e.file_path)) touched = true;
    }
    if (!touched) {
      manifests.push_back(m);
      total_records += m.added_rows_count + m.existing_rows_count;
      total_files += m.added_files_count + m.existing_files_count;
      continue;
    }
    std::vector<ManifestEntry> rewritten;
    int existing_n = 0, deleted_n = 0;
    for (auto e : entries) {
      if (e.status == EntryStatus::deleted) continue;  // deletes of earlier snapshots are not carried
      if (!e.sequence_number) e.sequence_number = m.sequence_number;
      if (!e.file_sequence_number) e.file_sequence_number = m.sequence_number;
      if (!e.snapshot_id) e.snapshot_id = m.added_snapshot_id;
      if (deleted.count(e.file_path)) {
        e.status = EntryStatus::deleted;
        e.snapshot_id = snapshot_id;
        deleted_records += e.record_count;
        removed_bytes += e.file_size_in_bytes;
        ++deleted_n;
      } else {
        e.status = EntryStatus::existing;
        total_records += e.record_count;
        ++total_files;
        ++existing_n;
      }
      rewritten.push_back(std::move(e));
    }
    if (merge) {
      merged.insert(merged.end(), rewritten.begin(), rewritten.end());
      merged_existing += existing_n;
      merged_deleted += deleted_n;
    } else if (!rewritten.empty()) {
      ETL_RETURN_IF_ERROR(write_one(std::move(rewritten), 0, existing_n, deleted_n));
    }
  }
  if (merge && !merged.empty()) ETL_RETURN_IF_ERROR(write_one(std::move(merged), 0, merged_existing, merged_deleted));
  if (!added.empty()) {
    for (const auto& e : added) {
      added_records += e.record_count;
      added_bytes += e.file_size_in_bytes;
    }
    total_records += added_records;
    total_files += static_cast<std::int64_t>(added.size());
    const int n = static_cast<int>(added.size());
    ETL_RETURN_IF_ERROR(write_one(added, n, 0, 0));
  }
  ETL_RETURN_IF_ERROR(step("manifest"));

  auto list_bytes = write_manifest_list({snapshot_id, parent_id, sequence}, manifests);
  if (!list_bytes) return std::move(list_bytes).error();
  const std::string list_key =
      metadata_prefix(state.name) + "snap-" + std::to_string(snapshot_id) + "-1-" + commit_uuid + ".avro";
  if (auto put = store_->put(list_key, *list_bytes); !put) return std::move(put).error();
  ETL_RETURN_IF_ERROR(step("manifest-list"));

  std::string operation = replace ? "replace" : deleted.empty() ? "append" : added.empty() ? "delete" : "overwrite";
  json summary = {{"operation", operation},
                  {"added-data-files", std::to_string(added.size())},
                  {"deleted-data-files", std::to_string(deleted.size())},
                  {"added-records", std::to_string(added_records)},
                  {"deleted-records", std::to_string(deleted_records)},
                  {"total-data-files", std::to_string(total_files)},
                  {"total-records", std::to_string(total_records)},
                  {"total-delete-files", "0"},
                  {"total-position-deletes", "0"},
                  {"total-equality-deletes", "0"},
                  {"added-files-size", std::to_string(added_bytes)},
                  {"removed-files-size", std::to_string(removed_bytes)},
                  {"spotify-etl.catalog-data-version", std::to_string(state.data_version)}};
  // The running byte total, as Iceberg writers keep it: the parent's plus this
  // snapshot's change (unknown when the parent did not record one).
  if (auto parent_bytes = parent ? summary_count(*parent, "total-files-size") : std::optional<std::int64_t>(0))
    summary["total-files-size"] = std::to_string(*parent_bytes + added_bytes - removed_bytes);
  json snapshot = {{"snapshot-id", snapshot_id},
                   {"sequence-number", sequence},
                   {"timestamp-ms", ts},
                   {"manifest-list", url_of(list_key)},
                   {"summary", summary},
                   {"schema-id", schema_id}};
  if (parent_id) snapshot["parent-snapshot-id"] = *parent_id;
  metadata["snapshots"].push_back(snapshot);
  metadata["current-snapshot-id"] = snapshot_id;
  metadata["last-sequence-number"] = sequence;
  metadata["last-updated-ms"] = ts;
  metadata["refs"]["main"] = {{"snapshot-id", snapshot_id}, {"type", "branch"}};
  metadata["snapshot-log"].push_back({{"timestamp-ms", ts}, {"snapshot-id", snapshot_id}});
  std::vector<std::string> dropped_metadata;  // previous metadata files out of the log: deleted after the swap
  if (current) {
    metadata["metadata-log"].push_back(
        {{"timestamp-ms", current->metadata.value("last-updated-ms", ts)}, {"metadata-file", url_of(current->metadata_key)}});
    auto& log = metadata["metadata-log"];
    while (static_cast<int>(log.size()) > options_.metadata_log_max) {
      dropped_metadata.push_back(log.begin()->value("metadata-file", ""));
      log.erase(log.begin());
    }
  }

  const std::vector<std::string> expired = expire(metadata, ts);
  // Retired files: recorded by a replace; deleted from the store (before the swap,
  // so a crash never leaves one stored but no longer retired, which a crawl would
  // add back) once every kept snapshot is younger than their retirement.
  if (replace) {
    for (const auto& key : replace->retired) retired_at[key] = ts;
    metadata["properties"][std::string(kLastCompactionProperty)] = std::to_string(ts);
  }
  std::int64_t oldest_kept = ts;
  for (const auto& snap : metadata["snapshots"]) oldest_kept = std::min(oldest_kept, snap.value("timestamp-ms", ts));
  for (auto it = retired_at.begin(); it != retired_at.end();) {
    if (it->second < oldest_kept && (!replace || std::find(replace->retired.begin(), replace->retired.end(), it->first) ==
                                                     replace->retired.end())) {
      if (Status removed = store_->remove(it->first); !removed.ok()) return std::move(removed).error();
      ++out.removed_retired_files;
      it = retired_at.erase(it);
    } else {
      ++it;
    }
  }
  json retired_doc = json::object();
  for (const auto& [key, at] : retired_at) retired_doc[key] = at;
  if (retired_doc.empty()) metadata["properties"].erase(std::string(kRetiredProperty));
  else metadata["properties"][std::string(kRetiredProperty)] = retired_doc.dump();

  const int version = current ? current->version + 1 : 1;
  const std::string key = metadata_key(state.name, version);
  const std::string doc = metadata.dump(2);
  auto swapped = store_->put_if_absent(key, doc);
  if (!swapped) {
    if (swapped.error().code != Errc::conflict) return std::move(swapped).error();
    auto there = store_->get(key, 64ull << 20);  // a retried request of ours that went through?
    if (!there || *there != doc) return make_error(Errc::conflict, "another writer committed " + key);
  }
  ETL_RETURN_IF_ERROR(step("metadata"));
  (void)store_->put(metadata_prefix(state.name) + "version-hint.text", std::to_string(version));
  ETL_RETURN_IF_ERROR(step("version-hint"));
  if (!expired.empty()) remove_expired(metadata, expired);
  for (const auto& url : dropped_metadata)
    if (auto old_key = key_of(url)) (void)store_->remove(*old_key);

  out.committed = true;
  out.snapshot_id = snapshot_id;
  out.version = version;
  out.added_files = static_cast<int>(added.size());
  out.deleted_files = static_cast<int>(deleted.size());
  out.expired_snapshots = static_cast<int>(expired.size());
  out.metadata_location = url_of(key);
  return out;
}

std::vector<std::string> IcebergTables::expire(json& metadata, std::int64_t now) const {
  auto& snapshots = metadata["snapshots"];
  const std::int64_t current_id = metadata.value("current-snapshot-id", std::int64_t{-1});
  // Newest first.
  std::vector<std::pair<std::int64_t, std::int64_t>> by_age;  // (timestamp, id)
  for (const auto& s : snapshots) by_age.emplace_back(s.value("timestamp-ms", std::int64_t{0}), s.value("snapshot-id", std::int64_t{0}));
  std::sort(by_age.rbegin(), by_age.rend());
  const std::int64_t cutoff = now - options_.snapshot_retention.count();
  std::set<std::int64_t> gone;
  for (std::size_t i = 0; i < by_age.size(); ++i) {
    const auto [ts, id] = by_age[i];
    if (id == current_id || static_cast<int>(i) < options_.min_snapshots) continue;
    if (ts < cutoff || static_cast<int>(i) >= options_.max_snapshots) gone.insert(id);
  }
  if (gone.empty() || static_cast<int>(gone.size()) < options_.expire_batch) return {};
  std::vector<std::string> lists;
  json kept = json::array();
  for (auto& s : snapshots) {
    if (gone.count(s.value("snapshot-id", std::int64_t{0}))) lists.push_back(s.value("manifest-list", ""));
    else kept.push_back(std::move(s));
  }
  snapshots = std::move(kept);
  json log = json::array();
  for (auto& entry : metadata["snapshot-log"])
    if (!gone.count(entry.value("snapshot-id", std::int64_t{0}))) log.push_back(std::move(entry));
  metadata["snapshot-log"] = std::move(log);
  return lists;
}

void IcebergTables::remove_expired(const json& metadata, const std::vector<std::string>& lists) {
  auto manifests_of = [&](const std::string& list_url) -> std::optional<std::vector<std::string>> {
    auto key = key_of(list_url);
    if (!key) return std::nullopt;
    auto bytes = store_->get(*key);
    if (!bytes) return std::nullopt;
    auto list = read_manifest_list(*bytes);
    if (!list) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& m : *list) out.push_back(m.manifest_path);
    return out;
  };
  std::set<std::string> kept;
  for (const auto& s : metadata["snapshots"]) {
    auto named = manifests_of(s.value("manifest-list", ""));
    if (!named) {
      log::warn("cannot read a kept snapshot's manifest list; expired files stay for orphan removal",
                {{"manifest_list", s.value("manifest-list", "")}});
      return;  // deleting without knowing what is kept could break a kept snapshot
    }
    kept.insert(named->begin(), named->end());
  }
  std::size_t removed = 0;
  for (const auto& list : lists) {
    if (auto named = manifests_of(list))
      for (const auto& m : *named)
        if (!kept.count(m))
          if (auto key = key_of(m); key && store_->remove(*key).ok()) ++removed;
    if (auto key = key_of(list); key && store_->remove(*key).ok()) ++removed;
  }
  metrics_.counter("spotify_etl_cataloger_iceberg_expired_snapshots_total", "Iceberg snapshots expired")
      .inc(static_cast<double>(lists.size()));
  log::info("iceberg snapshots expired", {{"snapshots", lists.size()}, {"files_removed", removed}});
}

}  // namespace etl::cataloger::iceberg
