#include "table_report.h"

#include <algorithm>
#include <charconv>

#include "etl/dates.h"
#include "table_metadata.h"

namespace etl::cataloger::iceberg {
namespace {

using nlohmann::json;

std::optional<std::int64_t> whole(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

json or_null(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(nullptr); }
json time_or_null(const std::optional<std::int64_t>& ms) {
  return ms ? json(format_timestamp(*ms * 1000)) : json(nullptr);
}

}  // namespace

std::optional<std::int64_t> summary_count(const json& snapshot, std::string_view field) {
  if (!snapshot.is_object()) return std::nullopt;
  auto summary = snapshot.find("summary");
  if (summary == snapshot.end() || !summary->is_object()) return std::nullopt;
  auto it = summary->find(std::string(field));
  if (it == summary->end() || !it->is_string()) return std::nullopt;
  return whole(it->get_ref<const std::string&>());
}

TableReport report_of(const json& metadata, std::string metadata_location) {
  TableReport r;
  r.metadata_location = std::move(metadata_location);
  if (auto it = metadata.find("snapshots"); it != metadata.end() && it->is_array())
    r.snapshot_count = static_cast<int>(it->size());
  if (const json* snap = current_snapshot(metadata)) {
    r.current_snapshot_id = snap->value("snapshot-id", std::int64_t{0});
    r.files = summary_count(*snap, "total-data-files");
    r.records = summary_count(*snap, "total-records");
    r.bytes = summary_count(*snap, "total-files-size");
  }
  if (auto it = metadata.find("last-updated-ms"); it != metadata.end() && it->is_number_integer())
    r.last_updated_ms = it->get<std::int64_t>();
  if (auto props = metadata.find("properties"); props != metadata.end() && props->is_object())
    if (auto it = props->find(std::string(kLastCompactionProperty)); it != props->end() && it->is_string())
      r.last_compaction_ms = whole(it->get_ref<const std::string&>());
  return r;
}

std::vector<SnapshotInfo> snapshots_of(const json& metadata) {
  std::vector<SnapshotInfo> out;
  auto list = metadata.find("snapshots");
  if (list == metadata.end() || !list->is_array()) return out;
  const json* current = current_snapshot(metadata);
  const std::int64_t current_id = current ? current->value("snapshot-id", std::int64_t{0}) : -1;
  for (const auto& snap : *list) {
    if (!snap.is_object()) continue;
    SnapshotInfo s;
    s.snapshot_id = snap.value("snapshot-id", std::int64_t{0});
    if (auto p = snap.find("parent-snapshot-id"); p != snap.end() && p->is_number_integer())
      s.parent_id = p->get<std::int64_t>();
    s.sequence_number = snap.value("sequence-number", std::int64_t{0});
    s.timestamp_ms = snap.value("timestamp-ms", std::int64_t{0});
    if (auto summary = snap.find("summary"); summary != snap.end() && summary->is_object())
      s.operation = summary->value("operation", "");
    s.current = s.snapshot_id == current_id;
    s.added_files = summary_count(snap, "added-data-files");
    s.deleted_files = summary_count(snap, "deleted-data-files");
    s.total_files = summary_count(snap, "total-data-files");
    s.total_records = summary_count(snap, "total-records");
    s.total_bytes = summary_count(snap, "total-files-size");
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(), [](const SnapshotInfo& a, const SnapshotInfo& b) {
    return a.sequence_number != b.sequence_number ? a.sequence_number > b.sequence_number
                                                  : a.timestamp_ms > b.timestamp_ms;
  });
  return out;
}

json to_json(const TableReport& r) {
  return {{"metadata_location", r.metadata_location},
          {"current_snapshot_id", or_null(r.current_snapshot_id)},
          {"snapshot_count", r.snapshot_count},
          {"files", or_null(r.files)},
          {"records", or_null(r.records)},
          {"bytes", or_null(r.bytes)},
          {"last_updated", time_or_null(r.last_updated_ms)},
          {"last_compaction", time_or_null(r.last_compaction_ms)}};
}

json to_json(const SnapshotInfo& s) {
  return {{"snapshot_id", s.snapshot_id},
          {"parent_snapshot_id", or_null(s.parent_id)},
          {"sequence_number", s.sequence_number},
          {"committed_at", format_timestamp(s.timestamp_ms * 1000)},
          {"operation", s.operation},
          {"current", s.current},
          {"added_files", or_null(s.added_files)},
          {"deleted_files", or_null(s.deleted_files)},
          {"total_files", or_null(s.total_files)},
          {"total_records", or_null(s.total_records)},
          {"total_bytes", or_null(s.total_bytes)}};
}

}  // namespace etl::cataloger::iceberg
