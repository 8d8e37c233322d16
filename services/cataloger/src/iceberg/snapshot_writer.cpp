#include "snapshot_writer.h"

#include <algorithm>

#include "at_once.h"
#include "table_report.h"

namespace etl::cataloger::iceberg {
namespace {

using nlohmann::json;

PartitionFieldSummary summary_of(const std::vector<ManifestEntry>& entries) {
  PartitionFieldSummary s;
  for (const auto& e : entries) {
    if (e.status == EntryStatus::deleted) continue;
    if (!e.dt) {
      s.contains_null = true;
      continue;
    }
    if (!s.lower_bound || *e.dt < *s.lower_bound) s.lower_bound = *e.dt;
    if (!s.upper_bound || *e.dt > *s.upper_bound) s.upper_bound = *e.dt;
  }
  return s;
}

// A carried manifest's entries rewritten for the new snapshot: earlier deletes
// dropped, `deleted` files marked deleted by this snapshot, the rest existing.
struct Rewritten {
  std::vector<ManifestEntry> entries;
  int existing = 0, deleted = 0;
};

Rewritten rewrite(const ReadManifest& m, const std::set<std::string>& deleted, std::int64_t snapshot_id,
                  SnapshotTotals& totals) {
  Rewritten out;
  for (auto e : m.entries) {
    if (e.status == EntryStatus::deleted) continue;  // deletes of earlier snapshots are not carried
    if (deleted.count(e.file_path)) {
      e.status = EntryStatus::deleted;
      e.snapshot_id = snapshot_id;
      totals.deleted_records += e.record_count;
      totals.removed_bytes += e.file_size_in_bytes;
      ++out.deleted;
    } else {
      e.status = EntryStatus::existing;
      totals.total_records += e.record_count;
      ++totals.total_files;
      ++out.existing;
    }
    out.entries.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::vector<ManifestEntry> live_entries(const std::vector<ReadManifest>& manifests) {
  std::vector<ManifestEntry> out;
  for (const auto& m : manifests)
    for (const auto& e : m.entries)
      if (e.status != EntryStatus::deleted) out.push_back(e);
  return out;
}

Status SnapshotWriter::carry(const std::vector<ReadManifest>& parent, const std::set<std::string>& deleted,
                             bool merge) {
  Rewritten merged;
  for (const auto& m : parent) {
    const bool touched = merge || std::any_of(m.entries.begin(), m.entries.end(), [&](const ManifestEntry& e) {
                           return e.status != EntryStatus::deleted && deleted.count(e.file_path);
                         });
    if (!touched) {
      manifests_.push_back(m.file);
      totals_.total_records += m.file.added_rows_count + m.file.existing_rows_count;
      totals_.total_files += m.file.added_files_count + m.file.existing_files_count;
      continue;
    }
    Rewritten r = rewrite(m, deleted, plan_.snapshot_id, totals_);
    totals_.deleted_files += r.deleted;
    if (merge) {
      merged.entries.insert(merged.entries.end(), r.entries.begin(), r.entries.end());
      merged.existing += r.existing;
      merged.deleted += r.deleted;
    } else if (!r.entries.empty()) {
      ETL_RETURN_IF_ERROR(write_manifest_of(std::move(r.entries), 0, r.existing, r.deleted));
    }
  }
  if (!merged.entries.empty())
    ETL_RETURN_IF_ERROR(write_manifest_of(std::move(merged.entries), 0, merged.existing, merged.deleted));
  return {};
}

Status SnapshotWriter::add(const std::vector<ManifestEntry>& added) {
  if (added.empty()) return {};
  for (const auto& e : added) {
    totals_.added_records += e.record_count;
    totals_.added_bytes += e.file_size_in_bytes;
  }
  totals_.added_files = static_cast<std::int64_t>(added.size());
  totals_.total_records += totals_.added_records;
  totals_.total_files += totals_.added_files;
  return write_manifest_of(added, static_cast<int>(added.size()), 0, 0);
}

Status SnapshotWriter::write_manifest_of(std::vector<ManifestEntry> entries, int added, int existing, int deleted) {
  ManifestFile m;
  m.sequence_number = plan_.sequence;
  m.min_sequence_number = plan_.sequence;
  m.added_snapshot_id = plan_.snapshot_id;
  m.added_files_count = added;
  m.existing_files_count = existing;
  m.deleted_files_count = deleted;
  for (const auto& e : entries) {
    if (e.status == EntryStatus::added) m.added_rows_count += e.record_count;
    if (e.status == EntryStatus::existing) m.existing_rows_count += e.record_count;
    if (e.status == EntryStatus::deleted) m.deleted_rows_count += e.record_count;
    if (e.status != EntryStatus::added && e.sequence_number)
      m.min_sequence_number = std::min(m.min_sequence_number, *e.sequence_number);
  }
  m.partitions = {summary_of(entries)};
  auto bytes = write_manifest(plan_.header, entries);
  if (!bytes) return std::move(bytes).error();
  const std::string key =
      plan_.table + "/metadata/" + plan_.commit_uuid + "-m" + std::to_string(manifest_no_++) + ".avro";
  m.manifest_path = plan_.base_url + key;
  m.manifest_length = static_cast<std::int64_t>(bytes->size());
  manifests_.push_back(std::move(m));
  written_.push_back({key, std::move(bytes).value(), false});
  return {};
}

Result<std::string> SnapshotWriter::write_list() {
  auto bytes = write_manifest_list({plan_.snapshot_id, plan_.parent_id, plan_.sequence}, manifests_);
  if (!bytes) return std::move(bytes).error();
  const std::string key = plan_.table + "/metadata/snap-" + std::to_string(plan_.snapshot_id) + "-1-" +
                          plan_.commit_uuid + ".avro";
  written_.push_back({key, std::move(bytes).value(), true});
  // The manifests and their list side by side: only the metadata, written after
  // them, makes any of them reachable.
  std::vector<Status> puts(written_.size());
  for_each_at_once(written_.size(), kPutsAtOnce, [&](std::size_t i) {
    auto put = store_.put(written_[i].key, written_[i].bytes);
    if (!put) puts[i] = std::move(put).error();
  });
  for (auto& put : puts)
    if (!put.ok()) return std::move(put).error();
  return plan_.base_url + key;
}

json snapshot_object(const SnapshotPlan& plan, const SnapshotTotals& totals, const std::string& operation,
                     const std::string& manifest_list_url, std::int64_t timestamp_ms, int schema_id,
                     std::uint64_t data_version, const json* parent) {
  json summary = {{"operation", operation},
                  {"added-data-files", std::to_string(totals.added_files)},
                  {"deleted-data-files", std::to_string(totals.deleted_files)},
                  {"added-records", std::to_string(totals.added_records)},
                  {"deleted-records", std::to_string(totals.deleted_records)},
                  {"total-data-files", std::to_string(totals.total_files)},
                  {"total-records", std::to_string(totals.total_records)},
                  {"total-delete-files", "0"},
                  {"total-position-deletes", "0"},
                  {"total-equality-deletes", "0"},
                  {"added-files-size", std::to_string(totals.added_bytes)},
                  {"removed-files-size", std::to_string(totals.removed_bytes)},
                  {"spotify-etl.catalog-data-version", std::to_string(data_version)}};
  // The running byte total, as Iceberg writers keep it: the parent's plus this
  // snapshot's change (unknown when the parent did not record one).
  if (auto parent_bytes = parent ? summary_count(*parent, "total-files-size") : std::optional<std::int64_t>(0))
    summary["total-files-size"] = std::to_string(*parent_bytes + totals.added_bytes - totals.removed_bytes);
  json snapshot = {{"snapshot-id", plan.snapshot_id},
                   {"sequence-number", plan.sequence},
                   {"timestamp-ms", timestamp_ms},
                   {"manifest-list", manifest_list_url},
                   {"summary", summary},
                   {"schema-id", schema_id}};
  if (plan.parent_id) snapshot["parent-snapshot-id"] = *plan.parent_id;
  return snapshot;
}

}  // namespace etl::cataloger::iceberg
