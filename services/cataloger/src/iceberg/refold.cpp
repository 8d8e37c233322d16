// Compactor's undo for rewritten inputs (compaction.h): the source lists compacted
// files keep in their footers, finding the sources a listing shows written again,
// and folding their current rows into the compacted file in place of the old ones.
#include <map>
#include <set>

#include "compaction.h"
#include "etl/log.h"
#include "table_metadata.h"

namespace etl::cataloger::iceberg {

using nlohmann::json;

namespace {
// S3 lists an ETag in quotes, some stores without: the same tag either way.
bool same_etag(std::string_view a, std::string_view b) {
  auto bare = [](std::string_view v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    return v;
  };
  return bare(a) == bare(b);
}

constexpr std::size_t kMaxCachedSources = 4096;  // compacted files whose source list is kept parsed
}  // namespace

Result<std::vector<CompactedSource>> Compactor::sources_of(const std::string& key, std::int64_t records) {
  if (auto it = sources_.find(key); it != sources_.end()) return it->second;
  ETL_RETURN_IF_ERROR(files_.refresh(*conn_));
  auto rows = conn_->query("SELECT decode(value) FROM parquet_kv_metadata(" + duck::quote_literal(files_.path(key)) +
                           ") WHERE decode(key) = " + duck::quote_literal(kSourcesKey));
  if (!rows) return std::move(rows).error();
  std::vector<CompactedSource> sources;
  if (rows->row_count() == 0) {
    sources.push_back({key, "", records});  // compacted before source lists: one opaque source
  } else {
    auto decoded = decode_sources(rows->text(0, 0).value_or(""));
    if (!decoded) return Error{decoded.error().code, key + ": " + decoded.error().message};
    sources = std::move(decoded).value();
  }
  if (sources_.size() >= kMaxCachedSources) sources_.clear();
  sources_[key] = sources;
  return sources;
}

Result<std::int64_t> Compactor::row_count(const std::string& key) {
  ETL_RETURN_IF_ERROR(files_.refresh(*conn_));
  auto rows = conn_->query("SELECT num_rows FROM parquet_file_metadata(" + duck::quote_literal(files_.path(key)) + ")");
  if (!rows) return std::move(rows).error();
  if (rows->row_count() < 1) return make_error(Errc::bad_data, "no Parquet metadata in " + key);
  return std::stoll(rows->text(0, 0).value_or("0"));
}

Result<std::vector<Rewritten>> Compactor::find_rewritten(const IcebergTables::CrawlView& view,
                                                         const std::vector<ObjectInfo>& listing) {
  if (view.compacted_live.empty()) return std::vector<Rewritten>{};
  // A source can only have been written again where the listing shows a Parquet
  // file that no snapshot names: only those partitions' footers are read.
  std::map<std::string, const ObjectInfo*> unnamed;  // logical key -> the file listed for it
  std::set<std::string> partitions;
  for (const auto& o : listing) {
    auto data = DataKey::parse(o.key);
    if (!data || !o.key.ends_with(".parquet") || is_compacted_key(o.key) || view.live_records.count(o.key)) continue;
    unnamed[file_generation(o.key).logical] = &o;
    partitions.insert(data->dt);
  }
  std::vector<Rewritten> out;
  for (const auto& key : view.compacted_live) {
    const std::int64_t records = view.live_records.at(key);
    auto data = DataKey::parse(key);
    if (!data || !partitions.count(data->dt)) continue;
    auto sources = sources_of(key, records);
    if (!sources) {
      // A live file gone from the store has no rows to fold into: every query of
      // the table fails already, and the crawls must go on. Anything else is retried.
      if (auto head = store_->head(key); !head && head.error().code == Errc::not_found) {
        log::warn("a live compacted file is missing from the store; its sources are not followed", {{"key", key}});
        continue;
      }
      return std::move(sources).error();
    }
    std::int64_t total = 0;
    for (const auto& s : *sources) total += s.records;
    if (total != records) {
      log::warn("a compacted file's source list does not add up to its records; its sources are not followed",
                {{"key", key}, {"records", records}, {"listed", total}});
      continue;
    }
    Rewritten r{key, data->dt, *sources, {}};
    for (const auto& s : *sources) {
      const FileGeneration g = file_generation(s.key);
      auto it = unnamed.find(g.logical);
      if (it == unnamed.end()) continue;
      const ObjectInfo& now = *it->second;
      if (file_generation(now.key).generation > g.generation || (now.key == s.key && !same_etag(now.etag, s.etag)))
        r.rewritten[s.key] = now;
    }
    if (!r.rewritten.empty()) out.push_back(std::move(r));
  }
  return out;
}

Result<CompactionResult> Compactor::refold(IcebergTables& tables, const TableState& state,
                                           const std::vector<Rewritten>& found) {
  CompactionResult result;
  if (found.empty()) return result;
  auto current = tables.current(state.name);
  if (!current) return std::move(current).error();
  if (!*current) return result;
  const json* schema = current_schema((*current)->metadata);
  if (!schema) return make_error(Errc::internal, state.name + ": Iceberg metadata without a current schema");
  TableState next = state;
  IcebergTables::Replace replace;
  for (const auto& r : found) {
    // The compacted file's rows minus the rewritten sources' ranges, then the
    // rewritten sources as stored now, in that order (the new source list's).
    std::vector<std::string> keys{r.compacted};
    std::vector<CompactedSource> sources, appended;
    std::string drop;
    std::int64_t row = 0, expected = 0;
    for (const auto& s : r.sources) {
      auto it = r.rewritten.find(s.key);
      if (it == r.rewritten.end()) {
        sources.push_back(s);
        expected += s.records;
      } else {
        if (s.records > 0)
          drop += (drop.empty() ? "" : " OR ") + std::string("file_row_number BETWEEN ") + std::to_string(row) +
                  " AND " + std::to_string(row + s.records - 1);
        const ObjectInfo& now = it->second;
        auto n = row_count(now.key);
        if (!n) {
          remove_written(result);
          return std::move(n).error();
        }
        appended.push_back({now.key, now.etag, *n});
        keys.push_back(now.key);
        expected += *n;
      }
      row += s.records;
    }
    sources.insert(sources.end(), appended.begin(), appended.end());
    const std::string keep =
        drop.empty() ? "" : "NOT (filename = " + duck::quote_literal(files_.path(r.compacted)) + " AND (" + drop + "))";
    auto output = write_output(state, r.dt, keys, keep, *schema, sources, expected);
    if (!output) {
      remove_written(result);
      return std::move(output).error();
    }
    std::vector<std::string> consumed;
    for (const auto& [source, now] : r.rewritten) consumed.push_back(now.key);
    swap_in(r.dt, output->first, output->second, {r.compacted}, consumed, next, replace, result);
    sources_[output->first.key] = sources;
  }
  return commit(tables, std::move(next), std::move(replace), std::move(result),
                "rewritten files folded into their compacted file");
}

}  // namespace etl::cataloger::iceberg
