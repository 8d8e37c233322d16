// IcebergTables' clean-up at a commit (iceberg_tables.h): snapshot expiry, the files
// only expired snapshots named, and retired (compacted-away) data files.
#include <algorithm>
#include <chrono>
#include <set>

#include "etl/log.h"
#include "iceberg_tables.h"
#include "table_report.h"

namespace etl::cataloger::iceberg {

using nlohmann::json;

Result<int> IcebergTables::sweep_retired(json& metadata, std::map<std::string, std::int64_t> retired_at,
                                         const Replace* replace, const std::vector<std::string>& superseded,
                                         std::int64_t now) {
  // Retired files: recorded by a replace; deleted from the store (before the swap,
  // so a crash never leaves one stored but no longer retired, which a crawl would
  // add back) once every kept snapshot is younger than their retirement.
  std::set<std::string> just_retired;
  if (replace) {
    for (const auto* keys : {&replace->retired, &replace->consumed})
      for (const auto& key : *keys) {
        just_retired.insert(key);
        retired_at[key] = now;
      }
    metadata["properties"][std::string(kLastCompactionProperty)] = std::to_string(now);
  }
  for (const auto& key : superseded) {
    just_retired.insert(key);
    retired_at[key] = now;
  }
  std::int64_t oldest_kept = now;
  for (const auto& snap : metadata["snapshots"]) oldest_kept = std::min(oldest_kept, snap.value("timestamp-ms", now));
  std::vector<std::string> due;
  for (const auto& [key, at] : retired_at)
    if (at < oldest_kept && !just_retired.count(key)) due.push_back(key);
  // A retired file written again after its retirement (POST /v1/reprocess
  // rewriting an input of a compacted file) holds rows a crawl has yet to fold
  // into that file (compaction.h, refold): it is kept, still retired, until the
  // crawl consumes it. The store's clock may run ahead of ours, so only a write
  // kRewriteSlack past the retirement counts.
  constexpr std::int64_t kRewriteSlack = 5 * 60 * 1000;
  std::erase_if(due, [&](const std::string& key) {
    auto head = store_->head(key);
    if (!head) return false;  // gone already, or the delete below reports the store's error
    const auto modified = std::chrono::duration_cast<std::chrono::milliseconds>(
                              head->last_modified.time_since_epoch()).count();
    return modified > retired_at[key] + kRewriteSlack;
  });
  if (Status gone = store_->remove_all(due); !gone.ok()) return std::move(gone).error();
  for (const auto& key : due) retired_at.erase(key);
  const int removed = static_cast<int>(due.size());
  json retired_doc = json::object();
  for (const auto& [key, at] : retired_at) retired_doc[key] = at;
  if (retired_doc.empty()) metadata["properties"].erase(std::string(kRetiredFilesProperty));
  else metadata["properties"][std::string(kRetiredFilesProperty)] = retired_doc.dump();
  return removed;
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

Result<std::vector<std::string>> IcebergTables::manifests_of(const std::string& list_url) {
  auto list = read_list(list_url);
  if (!list) return std::move(list).error();
  std::vector<std::string> out;
  for (const auto& m : **list) out.push_back(m.manifest_path);
  return out;
}

void IcebergTables::remove_expired(const json& metadata, const std::vector<std::string>& lists) {
  std::set<std::string> kept;
  for (const auto& s : metadata["snapshots"]) {
    auto named = manifests_of(s.value("manifest-list", ""));
    if (!named.ok()) {
      log::warn("cannot read a kept snapshot's manifest list; expired files stay for orphan removal",
                {{"manifest_list", s.value("manifest-list", "")}});
      return;  // deleting without knowing what is kept could break a kept snapshot
    }
    kept.insert(named->begin(), named->end());
  }
  std::set<std::string> expired;  // a manifest shared by two expired snapshots once
  for (const auto& list : lists) {
    if (auto named = manifests_of(list); named.ok())
      for (const auto& m : *named)
        if (!kept.count(m))
          if (auto key = key_of(m)) expired.insert(*key);
    if (auto key = key_of(list)) expired.insert(*key);
  }
  std::size_t removed = expired.size();
  if (Status gone = store_->remove_all({expired.begin(), expired.end()}); !gone.ok()) {
    log::warn("cannot delete expired snapshots' files; they stay for orphan removal", {{"error", gone.error().message}});
    removed = 0;
  }
  metrics_.counter("spotify_etl_cataloger_iceberg_expired_snapshots_total", "Iceberg snapshots expired")
      .inc(static_cast<double>(lists.size()));
  log::info("iceberg snapshots expired", {{"snapshots", lists.size()}, {"files_removed", removed}});
}

}  // namespace etl::cataloger::iceberg
