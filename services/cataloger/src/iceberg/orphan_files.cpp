// IcebergTables::remove_orphans (iceberg_tables.h): the table's files that no part
// of its current metadata names, deleted once they are older than the safety age.
#include <map>
#include <set>

#include "compaction.h"
#include "etl/log.h"
#include "iceberg_tables.h"

namespace etl::cataloger::iceberg {

using nlohmann::json;

Result<OrphanReport> IcebergTables::remove_orphans(const std::string& table,
                                                   std::chrono::system_clock::time_point cutoff) {
  std::lock_guard lock(commit_mutex(table));  // not while this process commits to it (another's new files are young)
  // List first, then load: whatever a commit that lands in between names is in the
  // metadata read after, and whatever it wrote after the listing is not listed.
  auto listing = store_->list(table + "/");
  if (!listing) return std::move(listing).error();
  auto current = this->current(table);
  if (!current) return std::move(current).error();
  OrphanReport report;
  if (!*current) return report;  // no table yet: a first commit may be writing its files
  const json& metadata = (*current)->metadata;

  const std::string metadata_folder = table + "/metadata/";
  std::set<std::string> named = {(*current)->metadata_key, metadata_folder + "version-hint.text"};
  auto name = [&](const std::string& url) {  // a file outside the store is never listed here
    if (auto key = key_of(url)) named.insert(*key);
  };
  auto stopped = [&](const Error& e) { return Error{e.code, "orphan removal of " + table + " stopped: " + e.message}; };
  for (const auto& entry : metadata.value("metadata-log", json::array())) name(entry.value("metadata-file", ""));
  std::map<std::string, ManifestFile> manifests;  // by path: a manifest most snapshots share is read once
  for (const auto& snapshot : metadata.value("snapshots", json::array())) {
    const std::string list = snapshot.value("manifest-list", "");
    name(list);
    auto read = read_list(list);  // what a list we cannot read names is unknown: stop
    if (!read) return stopped(read.error());
    for (const auto& m : **read) manifests.emplace(m.manifest_path, m);
  }
  for (const auto& [path, manifest] : manifests) {
    name(path);
    auto entries = read_entries(manifest);
    if (!entries) return stopped(entries.error());
    for (const auto& e : **entries) name(e.file_path);  // deleted entries too: an older snapshot may read them
  }
  for (const auto& [key, at] : retired_files(metadata)) named.insert(key);

  std::vector<std::string> orphans;
  for (const auto& o : *listing) {
    const bool ours = o.key.starts_with(metadata_folder) || is_compacted_key(o.key);
    // An unknown modification time is never old enough.
    if (!ours || named.count(o.key) || o.last_modified == std::chrono::system_clock::time_point{} ||
        o.last_modified >= cutoff)
      continue;
    orphans.push_back(o.key);
    (o.key.starts_with(metadata_folder) ? report.metadata_files : report.data_files) += 1;
    report.bytes += o.size;
  }
  if (orphans.empty()) return report;
  ETL_RETURN_IF_ERROR(store_->remove_all(orphans));
  metrics_.counter("spotify_etl_cataloger_iceberg_orphan_files_removed_total",
                   "Files of Iceberg tables no metadata named, deleted by orphan removal", {{"table", table}})
      .inc(static_cast<double>(orphans.size()));
  log::info("iceberg orphan files removed", {{"table", table}, {"metadata_files", report.metadata_files},
                                             {"data_files", report.data_files}, {"bytes", report.bytes}});
  return report;
}

}  // namespace etl::cataloger::iceberg
