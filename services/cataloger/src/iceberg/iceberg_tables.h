// The tables as Apache Iceberg v2 tables (ETL_TABLE_FORMAT=iceberg), written by
// the cataloger over the files the transformer lands.
//
// Layout, per table in the transformed store: the data files stay where the
// transformer writes them (`<table>/dt=<date>/<stem>.parquet`); the table's
// metadata lives in `<table>/metadata/`: `v<N>.metadata.json`, manifest lists
// `snap-<id>-<uuid>.avro`, manifests `<uuid>-m<k>.avro`, and `version-hint.text`
// (a hint only: readers probe past it).
//
// A commit reconciles the table's current snapshot with the catalog's view of
// the table's Parquet files: files it names that the snapshot lacks are added
// (after HEAD confirms the store holds that version), files the snapshot holds
// that are gone from the store are deleted. Because a commit adds only what the
// snapshot lacks, a redelivered event, a repeated crawl or a retry after a crash
// never adds a file twice: a data file is committed at most once.
//
// The compare-and-swap is the metadata file's name: `v<N+1>.metadata.json` is
// written with put_if_absent (S3 If-None-Match: *, an exclusive link on file://).
// The loser of a race reloads, recomputes its diff and tries again. Manifests and
// manifest lists are written first under fresh names, so a crash at any step
// leaves the table at its previous version, with at most unreferenced files.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/duck.h"
#include "etl/duck_s3.h"
#include "etl/metrics.h"
#include "etl/object_store.h"
#include "manifest_cache.h"
#include "manifest_files.h"
#include "parquet_footer.h"
#include "snapshot_writer.h"
#include "table_state.h"

namespace etl::cataloger::iceberg {

struct IcebergTablesOptions {
  duck::TableFiles files;            // where the data files are read: the store's folder, s3:// in place, or the mirror
  int max_attempts = 20;             // commit tries when other writers keep winning the compare-and-swap
  int max_manifests = 32;            // past this many manifests a commit merges them into one
  int metadata_log_max = 100;        // previous metadata files the metadata log remembers
  std::size_t manifest_cache_bytes = 64u << 20;  // manifests and lists kept parsed (manifest_cache.h); 0: none
  // Snapshot expiry, at each commit: snapshots older than `snapshot_retention` go,
  // and past `max_snapshots` the oldest go, but the newest `min_snapshots` always
  // stay. Expiry waits until `expire_batch` snapshots can go at once (their manifest
  // lists, and manifests no kept snapshot names, are deleted after the swap).
  std::chrono::milliseconds snapshot_retention = std::chrono::hours(24);
  int min_snapshots = 10;
  int max_snapshots = 200;
  int expire_batch = 20;
  // Test hook: called after each step of a commit ("manifests": the manifests and
  // their list, "metadata", "version-hint"); an error stops the commit there, as a
  // crash would.
  std::function<Status(std::string_view step)> after_step;
};

struct CommitResult {
  bool committed = false;  // false: the snapshot already matched
  std::int64_t snapshot_id = 0;
  int version = 0;  // the metadata version now current
  int added_files = 0;
  int deleted_files = 0;
  int expired_snapshots = 0;
  int removed_retired_files = 0;  // compacted-away files deleted from the store (no kept snapshot names them)
  int superseded_files = 0;       // deleted from the snapshot for their newer generation (retired)
  std::string abandoned;          // a replace whose inputs are no longer all live (another compaction won)
  int attempts = 0;
  std::string metadata_location;
  std::vector<std::string> refused;  // schema changes Iceberg does not allow (kept out)
  // Newer generations of compacted-away files the commit left out for a refold
  // (IcebergTables::supersede): a later crawl of these keys must take them.
  std::vector<std::string> held;
};

// The retired-files property of a table's metadata: {"<key>": <retired at, ms>}.
std::map<std::string, std::int64_t> retired_files(const nlohmann::json& metadata);

// What remove_orphans() found and deleted.
struct OrphanReport {
  int metadata_files = 0;  // manifests, manifest lists, metadata files no version names
  int data_files = 0;      // compaction outputs no kept snapshot names (their commit was lost)
  std::uint64_t bytes = 0;
};

// A table's current metadata.
struct CurrentTable {
  int version = 0;
  std::string metadata_key;  // relative to the store
  nlohmann::json metadata;
};

class IcebergTables final {
 public:
  static Result<std::unique_ptr<IcebergTables>> open(std::shared_ptr<ObjectStore> store, IcebergTablesOptions options,
                                                     MetricsRegistry& metrics);
  IcebergTables(const IcebergTables&) = delete;
  IcebergTables& operator=(const IcebergTables&) = delete;

  // A compaction's rewrite: `added` (in the state given to commit) replaces
  // `retired`, which stay in the store until no kept snapshot names them.
  // `consumed`: stored files no snapshot names whose rows the added files hold
  // (inputs of a compacted file written again under their names, compaction.h
  // "refold"); they are retired with the others, so no commit adds them.
  struct Replace {
    std::vector<std::string> retired;              // keys deleted from the snapshot though still stored
    std::map<std::string, std::int64_t> records;   // key -> record count of the files it adds
    std::vector<std::string> consumed;             // keys never live that the added files hold
  };

  // Brings the table's Iceberg snapshot to the Parquet files of `state` (see
  // above); with `replace`, a `replace` snapshot that swaps the retired files
  // for the new ones, or nothing (CommitResult::abandoned) when a retired file
  // is no longer live. Retired files never come back through a later commit.
  // `known`: the current metadata as the caller loaded it (a crawl's view), used
  // as the first attempt's parent instead of loading it again; if another commit
  // landed since, the compare-and-swap fails and the retry loads the new one.
  // `older_generations`: stored files the crawl left out for a newer generation
  // (etl/lake.h "Generations"); those no snapshot names are retired by a commit
  // that keeps their newer generation, so the sweep deletes them in time.
  // `facts`: what the crawl read of the files it inspected (TableCrawl::facts);
  // a file the store still holds in the version read is not opened again.
  Result<CommitResult> commit(const TableState& state, const Replace* replace = nullptr,
                              const std::optional<CurrentTable>* known = nullptr,
                              const std::set<std::string>& older_generations = {}, const FactsByKey& facts = {});

  // What a crawl takes from the table's current metadata (one load): the retired
  // files, and the compaction outputs the current snapshot holds (keys). A crawl
  // loads it after listing, and shows a compaction's inputs or its output, as that
  // metadata version says, never both and never neither.
  struct CrawlView {
    std::set<std::string> retired;
    std::set<std::string> compacted_live;
    // Every data file of the current snapshot (key -> record count); read with
    // compacted_live, so empty for a table never compacted.
    std::map<std::string, std::int64_t> live_records;
    std::optional<CurrentTable> current;  // the metadata it was read from (commit's `known`)
  };
  Result<CrawlView> crawl_view(const std::string& table);

  // Orphan removal: deletes the table's files that no part of its current metadata
  // names and that were last modified before `cutoff` (now minus a safety age far
  // longer than any commit, so a commit in flight elsewhere keeps its new files):
  // manifests and manifest lists of cut-short or lost commits, metadata files past
  // the log, and compaction outputs whose replace never landed. Transformer
  // outputs are never orphans: a crawl commits them. Nothing is deleted when a
  // kept snapshot's manifest list or manifest cannot be read.
  Result<OrphanReport> remove_orphans(const std::string& table, std::chrono::system_clock::time_point cutoff);

  // nullopt when the table has no Iceberg metadata yet.
  Result<std::optional<CurrentTable>> current(const std::string& table);
  // Whether the table has Iceberg metadata (its version hint, else a metadata file),
  // without fetching or parsing the metadata: what a listing of tables needs.
  Result<bool> committed(const std::string& table);
  // The live (added or existing) data files of the metadata's current snapshot.
  Result<std::vector<ManifestEntry>> live_files(const nlohmann::json& metadata);

  // The absolute URL Iceberg names an object by (file:///abs/key, s3://bucket/prefix/key).
  std::string url_of(const std::string& key) const { return base_url_ + key; }
  // The store key of such a URL; nullopt for a URL outside the store.
  std::optional<std::string> key_of(std::string_view url) const;

 private:
  IcebergTables(std::shared_ptr<ObjectStore> store, IcebergTablesOptions options, MetricsRegistry& metrics,
                std::string base_url);
  Result<ParquetFacts> read_facts(const std::string& key);
  Result<int> hinted_version(const std::string& table);
  // The current snapshot's manifests with their entries (none without a snapshot).
  Result<std::vector<ReadManifest>> read_snapshot(const nlohmann::json& metadata);

  // What a commit changes in the table's files, decided before anything is written.
  struct WantedFile {  // a Parquet file the catalog names
    std::string key, dt, etag;
    std::uint64_t size = 0;
  };
  struct FileChanges {
    std::vector<ManifestEntry> added;
    std::set<std::string> deleted;        // file URLs
    std::map<std::string, int> file_ids;  // field ids the added files carry
    std::vector<std::string> superseded;  // keys retired because a newer generation is in (live ones: also deleted)
    std::string abandoned;                // set: a replace that can no longer be made
    std::vector<std::string> held;        // keys left out for a refold (supersede)
  };
  Result<FileChanges> diff_files(const TableState& state, const std::vector<ManifestEntry>& live,
                                 const std::map<std::string, std::int64_t>& retired_at, const Replace* replace,
                                 const std::set<std::string>& older_generations, const FactsByKey& facts);
  void supersede(const std::vector<ManifestEntry>& live, const std::map<std::string, std::int64_t>& retired_at,
                 const std::set<std::string>& older_generations, FileChanges& out) const;
  Status find_added(const std::map<std::string, WantedFile>& wanted,
                    const std::map<std::string, const ManifestEntry*>& live_by_path, const Replace* replace,
                    const FactsByKey& facts, FileChanges& out);

  Result<CommitResult> try_commit(const TableState& state, const std::optional<CurrentTable>& current,
                                  const Replace* replace, const std::set<std::string>& older_generations,
                                  const FactsByKey& facts);
  // Updates the retired-files property; deletes the retired files no kept snapshot
  // can name any more. Returns how many were deleted.
  // `superseded`: files this commit deletes for a newer generation, retired with a replace's.
  Result<int> sweep_retired(nlohmann::json& metadata, std::map<std::string, std::int64_t> retired_at,
                            const Replace* replace, const std::vector<std::string>& superseded, std::int64_t now_ms);
  // The compare-and-swap: writes metadata version `version` unless another writer
  // did. `etag`: the new file's ETag ("" when a retried request of ours had landed).
  Status swap(const std::string& table, int version, const std::string& doc, std::string& etag);
  // After this process's commit lands: its metadata (for still_current) and what
  // it wrote (for the manifest cache).
  void remember_commit(const std::string& table, CurrentTable current, const std::string& etag,
                       const SnapshotWriter& writer);
  // The metadata this process swapped in last, if it is still the table's current
  // one: its file unchanged (same ETag) and no next version. One round trip (two
  // HEADs at once) instead of three in a row (the hint, the probe, the fetch).
  std::optional<CurrentTable> still_current(const std::string& table);
  Status step(std::string_view name);
  // Drops expired snapshots from `metadata`; returns their manifest list URLs.
  std::vector<std::string> expire(nlohmann::json& metadata, std::int64_t now_ms) const;
  // The manifest paths a manifest list names.
  Result<std::vector<std::string>> manifests_of(const std::string& list_url);
  // A manifest list and a manifest's entries, through the manifest cache.
  Result<ManifestCache::List> read_list(const std::string& list_url);
  Result<ManifestCache::Entries> read_entries(const ManifestFile& manifest);
  void count_cache(bool hit);
  // After the swap: deletes expired manifest lists and the manifests only they named.
  void remove_expired(const nlohmann::json& metadata, const std::vector<std::string>& lists);

  std::shared_ptr<ObjectStore> store_;
  IcebergTablesOptions options_;
  MetricsRegistry& metrics_;
  std::string base_url_;  // ends with '/'
  // Commits of one table run one at a time (each would otherwise lose the
  // other's compare-and-swap); commits of different tables run side by side.
  std::mutex& commit_mutex(const std::string& table);
  std::mutex commits_mutex_;  // table_commits_
  std::map<std::string, std::unique_ptr<std::mutex>> table_commits_;
  struct Swapped {
    CurrentTable table;
    std::string etag;
  };
  std::mutex swapped_mutex_;
  std::map<std::string, Swapped> swapped_;  // by table: the last metadata this process swapped in
  ManifestCache manifest_cache_;
  std::unique_ptr<duck::Database> db_;
  duck::ConnectionPool conns_;  // read_facts: a connection each
};

}  // namespace etl::cataloger::iceberg
