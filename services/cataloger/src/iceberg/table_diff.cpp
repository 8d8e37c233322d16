// IcebergTables' diff of a table's files (iceberg_tables.h): which Parquet files a
// commit adds, which it deletes, and what each added file holds (row count, field ids).
#include <algorithm>
#include <map>
#include <set>

#include "at_once.h"
#include "crawler.h"
#include "etl/log.h"
#include "iceberg_tables.h"

namespace etl::cataloger::iceberg {

Result<ParquetFacts> IcebergTables::read_facts(const std::string& key) {
  auto conn = conns_.take();  // commits of other tables run at the same time
  ETL_RETURN_IF_ERROR(options_.files.refresh(*conn));
  auto rows = conn->query(parquet_footer_sql(options_.files.path(key), false));
  if (!rows) return std::move(rows).error();
  auto footer = parse_parquet_footer(*rows);
  if (!footer) return Error{footer.error().code, footer.error().message + " in " + key};
  return std::move(footer->facts);
}

Result<IcebergTables::FileChanges> IcebergTables::diff_files(const TableState& state,
                                                             const std::vector<ManifestEntry>& live,
                                                             const std::map<std::string, std::int64_t>& retired_at,
                                                             const Replace* replace,
                                                             const std::set<std::string>& older_generations,
                                                             const FactsByKey& facts) {
  FileChanges out;
  // What the catalog names: the table's Parquet files by URL.
  const std::set<std::string> consumed = replace ? std::set<std::string>(replace->consumed.begin(), replace->consumed.end())
                                                 : std::set<std::string>();
  std::map<std::string, WantedFile> wanted;
  for (const auto& [dt, partition] : state.partitions)
    for (const auto& [key, file] : partition.files)
      if (file.format == "parquet" && !retired_at.count(key) && !consumed.count(key))
        wanted[url_of(key)] = {key, dt, file.etag, file.size};
  std::map<std::string, const ManifestEntry*> live_by_path;
  for (const auto& e : live) live_by_path[e.file_path] = &e;
  for (const auto& key : consumed)
    if (live_by_path.count(url_of(key))) {  // a commit took it as a file of its own meanwhile
      out.abandoned = key + " is a live file of " + state.name + " already";
      return out;
    }

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
  ETL_RETURN_IF_ERROR(find_added(wanted, live_by_path, replace, facts, out));
  if (replace) {
    std::set<std::string> added_keys;
    for (const auto& e : out.added) added_keys.insert(*key_of(e.file_path));
    for (const auto& [key, n] : replace->records)
      if (!added_keys.count(key)) {
        out.abandoned = "the compacted file " + key + " could not be added";
        return out;
      }
    out.deleted.insert(replaced.begin(), replaced.end());
  }
  // Deleted: in the snapshot, not named by the catalog, and gone from the store.
  for (const auto& e : live) {
    if (wanted.count(e.file_path) || out.deleted.count(e.file_path)) continue;
    auto key = key_of(e.file_path);
    if (!key) continue;
    auto head = store_->head(*key);
    if (head) continue;
    if (head.error().code != Errc::not_found) return std::move(head).error();
    out.deleted.insert(e.file_path);
  }
  supersede(live, retired_at, older_generations, out);
  return out;
}

namespace {
// Whether `key` is an older generation than `newest` holds of its file.
bool older_than(const std::string& key, const std::map<std::string, std::int64_t>& newest) {
  const FileGeneration g = file_generation(key);
  auto it = newest.find(g.logical);
  return it != newest.end() && it->second > g.generation;
}
}  // namespace

// A data file is never written over once a snapshot may name it: a redo writes a
// newer generation (etl/lake.h "Generations"). The commit that adds it deletes the
// older ones from the snapshot and retires them (older snapshots still name them).
// Older generations no snapshot names (two redos between commits) are retired too,
// once their newer generation is kept, so that they do not stay stored for good.
void IcebergTables::supersede(const std::vector<ManifestEntry>& live,
                              const std::map<std::string, std::int64_t>& retired_at,
                              const std::set<std::string>& older_generations, FileChanges& out) const {
  std::set<std::string> live_keys;   // in the parent snapshot
  std::vector<std::string> kept;     // in this commit's snapshot (more are added below)
  std::set<std::string> kept_logical;
  for (const auto& e : live)
    if (auto key = key_of(e.file_path)) {
      live_keys.insert(*key);
      if (out.deleted.count(e.file_path)) continue;
      kept.push_back(*key);
      kept_logical.insert(file_generation(*key).logical);
    }
  // A newer generation of a file that only retired generations stand for (a
  // compaction took their rows into its file, and this commit's crawl read the
  // table before that replace landed) is the refold's to take (Compactor::refold):
  // added here, it would sit beside the compacted file that holds the old rows.
  std::vector<std::string> retired;
  for (const auto& [key, at] : retired_at) retired.push_back(key);
  const auto retired_newest = newest_generations(retired);
  std::erase_if(out.added, [&](const ManifestEntry& e) {
    auto key = key_of(e.file_path);
    if (!key) return false;
    const FileGeneration g = file_generation(*key);
    auto it = retired_newest.find(g.logical);
    const bool held = !kept_logical.count(g.logical) && it != retired_newest.end() && it->second < g.generation;
    if (held) {
      log::info("a newer generation of a compacted-away file waits for its refold", {{"key", *key}});
      out.held.push_back(*key);
    }
    return held;
  });
  for (const auto& e : out.added)
    if (auto key = key_of(e.file_path)) kept.push_back(*key);

  // Superseded: older than the newest generation kept (never than one left out).
  const auto kept_newest = newest_generations(kept);
  std::set<std::string> superseded;
  for (const auto& key : kept)
    if (older_than(key, kept_newest)) superseded.insert(key);
  for (const auto& key : older_generations)
    if (!live_keys.count(key) && !retired_at.count(key) && older_than(key, kept_newest)) {
      superseded.insert(key);
      out.superseded.push_back(key);  // never live: retired only
    }
  if (superseded.empty()) return;
  // An older generation is never added beside a newer one.
  std::erase_if(out.added, [&](const ManifestEntry& e) {
    auto key = key_of(e.file_path);
    return key && superseded.count(*key) > 0;
  });
  for (const auto& e : live) {
    auto key = key_of(e.file_path);
    if (!key || !superseded.count(*key) || out.deleted.count(e.file_path)) continue;
    out.deleted.insert(e.file_path);
    out.superseded.push_back(*key);
  }
}

Status IcebergTables::find_added(const std::map<std::string, WantedFile>& wanted,
                                 const std::map<std::string, const ManifestEntry*>& live_by_path,
                                 const Replace* replace, const FactsByKey& facts, FileChanges& out) {
  // Added: named by the catalog, not (or in another version) in the snapshot, and
  // the store holds exactly the version the catalog saw. A candidate's HEAD and its
  // footer read run side by side (a footer read of a file the HEAD then rules out
  // is wasted, which is rare), and the candidates a few at once (kFilesAtOnce);
  // the answers are taken in order. A footer the crawl read (`facts`) is not read
  // again when the HEAD finds the version it read.
  struct Candidate {
    const std::string* url;
    const WantedFile* w;
    const ManifestEntry* live;  // the snapshot's version of the path, if any
    const ReadFacts* crawled;   // what the crawl read of it, if anything
    Result<ObjectInfo> head = ObjectInfo{};
    Result<ParquetFacts> facts = ParquetFacts{};
  };
  std::vector<Candidate> candidates;
  for (const auto& [url, w] : wanted) {
    auto it = live_by_path.find(url);
    if (it != live_by_path.end() && static_cast<std::uint64_t>(it->second->file_size_in_bytes) == w.size) continue;
    auto read = facts.find(w.key);
    candidates.push_back({&url, &w, it != live_by_path.end() ? it->second : nullptr,
                          read != facts.end() && !read->second.etag.empty() ? &read->second : nullptr});
  }
  for_each_at_once(2 * candidates.size(), 2 * kFilesAtOnce, [&](std::size_t i) {
    Candidate& c = candidates[i / 2];
    if (i % 2 == 0) {
      c.head = store_->head(c.w->key);
    } else if (auto known = replace ? replace->records.find(c.w->key) : decltype(replace->records.end()){};
               replace && known != replace->records.end()) {
      c.facts->records = known->second;
    } else if (c.crawled) {
      c.facts = c.crawled->facts;  // checked against the HEAD below
    } else {
      c.facts = read_facts(c.w->key);
    }
  });
  for (auto& c : candidates) {
    if (!c.head) {
      if (c.head.error().code == Errc::not_found) continue;
      return std::move(c.head).error();
    }
    if (c.head->size != c.w->size) continue;  // the catalog's view is stale: the next crawl brings it
    if (c.crawled && c.head->etag != c.crawled->etag) c.facts = read_facts(c.w->key);  // not the version read
    if (!c.facts) {
      log::warn("cannot read a Parquet file's row count; left out of the Iceberg snapshot until it can be read",
                {{"key", c.w->key}, {"error", c.facts.error().message}});
      continue;
    }
    for (const auto& [name, id] : c.facts->field_ids) out.file_ids.emplace(name, id);
    ManifestEntry e;
    e.status = EntryStatus::added;
    e.file_path = *c.url;
    e.dt = c.w->dt;
    e.record_count = c.facts->records;
    e.file_size_in_bytes = static_cast<std::int64_t>(c.w->size);
    out.added.push_back(std::move(e));
    if (c.live) out.deleted.insert(*c.url);  // replaced in place: the old version goes
  }
  return {};
}

}  // namespace etl::cataloger::iceberg
