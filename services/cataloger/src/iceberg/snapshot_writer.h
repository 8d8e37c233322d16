// The files of one new Iceberg snapshot (iceberg_tables.h commits them): its
// manifests, its manifest list, and the snapshot object for the metadata.
//
// The parent's manifests are carried over as they are, unless one holds a file
// the snapshot deletes, or there are too many of them (then they are rewritten
// into one): a rewritten manifest keeps live entries as `existing` and marks
// the deleted ones. The files a snapshot adds get one manifest of their own.
// Every name is fresh (the commit's uuid), so a crash before the metadata swap
// leaves only unreferenced files.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "etl/object_store.h"
#include "manifest_files.h"

namespace etl::cataloger::iceberg {

// A manifest of a snapshot as read: its manifest-list entry and its entries,
// with the values an entry inherits from its manifest filled in.
struct ReadManifest {
  ManifestFile file;
  std::vector<ManifestEntry> entries;
};

// The live (added or existing) data files of `manifests`.
std::vector<ManifestEntry> live_entries(const std::vector<ReadManifest>& manifests);

// Where the new snapshot's files go and what they are written with.
struct SnapshotPlan {
  std::string table;        // its metadata folder is `<table>/metadata/`
  std::string base_url;     // the store's URL prefix (ends with '/'): key -> URL
  std::string commit_uuid;  // names this commit's files
  std::int64_t snapshot_id = 0;
  std::optional<std::int64_t> parent_id;
  std::int64_t sequence = 0;
  ManifestHeader header;    // the schema and partition spec manifests carry
};

// What the snapshot holds and changed, for its summary.
struct SnapshotTotals {
  std::int64_t added_files = 0, deleted_files = 0;
  std::int64_t added_records = 0, deleted_records = 0;
  std::int64_t total_files = 0, total_records = 0;
  std::int64_t added_bytes = 0, removed_bytes = 0;
};

class SnapshotWriter {
 public:
  SnapshotWriter(ObjectStore& store, SnapshotPlan plan) : store_(store), plan_(std::move(plan)) {}

  // The parent's manifests, less `deleted` (file URLs); `merge` rewrites them all into one.
  Status carry(const std::vector<ReadManifest>& parent, const std::set<std::string>& deleted, bool merge);
  // The files the snapshot adds, as one manifest (none when `added` is empty).
  Status add(const std::vector<ManifestEntry>& added);
  // Writes the manifests carry and add made, and their manifest list, a few at
  // once; returns the list's URL. Call after carry and add.
  Result<std::string> write_list();

  const SnapshotTotals& totals() const { return totals_; }

  // The manifests and the manifest list, as stored by write_list (for the
  // manifest cache once the commit lands: the next commit reads them back).
  struct Written {
    std::string key;
    std::string bytes;
    bool list = false;
  };
  const std::vector<Written>& written() const { return written_; }

 private:
  Status write_manifest_of(std::vector<ManifestEntry> entries, int added, int existing, int deleted);

  static constexpr std::size_t kPutsAtOnce = 4;

  ObjectStore& store_;
  SnapshotPlan plan_;
  std::vector<ManifestFile> manifests_;
  std::vector<Written> written_;
  SnapshotTotals totals_;
  int manifest_no_ = 0;
};

// The snapshot object for the metadata's `snapshots`: its summary holds the
// operation, the totals (Iceberg's names), the running byte total when the
// parent kept one, and `spotify-etl.catalog-data-version`.
nlohmann::json snapshot_object(const SnapshotPlan& plan, const SnapshotTotals& totals, const std::string& operation,
                               const std::string& manifest_list_url, std::int64_t timestamp_ms, int schema_id,
                               std::uint64_t data_version, const nlohmann::json* parent);

}  // namespace etl::cataloger::iceberg
