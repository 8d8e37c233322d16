#include "compaction.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "etl/log.h"
#include "ids.h"
#include "table_metadata.h"

namespace etl::cataloger::iceberg {

namespace {
constexpr std::string_view kCompactedStem = "compacted-";
}  // namespace

bool is_compacted_key(std::string_view key) {
  auto data = DataKey::parse(key);
  return data && data->file.starts_with(kCompactedStem);
}

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
std::string random_hex() {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(random_u64()));
  return buf;
}
}  // namespace

std::vector<CompactionGroup> plan_compaction(const TableState& state, const std::set<std::string>& live_keys,
                                             const CompactionOptions& options) {
  const std::uint64_t small = options.target_file_bytes / 4 * 3;
  std::vector<CompactionGroup> out;
  for (const auto& [partition_dt, partition] : state.partitions) {
    const std::string dt = partition_dt;  // a lambda cannot capture a structured binding (clang 14)
    CompactionGroup group{dt, {}, 0};
    auto flush = [&] {
      if (group.keys.size() >= 2) out.push_back(group);
      group = CompactionGroup{dt, {}, 0};
    };
    for (const auto& [key, file] : partition.files) {  // key order
      if (file.format != "parquet" || file.size >= small || !live_keys.count(key)) continue;
      if (!group.keys.empty() && group.bytes + file.size > options.target_file_bytes) flush();
      group.keys.push_back(key);
      group.bytes += file.size;
    }
    flush();
  }
  return out;
}

Result<std::unique_ptr<Compactor>> Compactor::open(std::shared_ptr<ObjectStore> store, duck::TableFiles files,
                                                   CompactionOptions options) {
  // One thread and insertion order kept: an output holds its inputs' rows in the
  // order of its source list (CompactedSource), which a refold relies on.
  auto db = duck::Database::open(":memory:", {{"threads", "1"}, {"preserve_insertion_order", "true"}});
  if (!db) return std::move(db).error();
  auto conn = (*db)->connect();
  if (!conn) return std::move(conn).error();
  std::unique_ptr<Compactor> c(new Compactor());
  c->store_ = std::move(store);
  c->files_ = std::move(files);
  c->options_ = options;
  c->db_ = std::move(db).value();
  c->conn_ = std::move(conn).value();
  ETL_RETURN_IF_ERROR(c->files_.prepare(*c->conn_));
  return c;
}

Result<std::pair<std::string, std::int64_t>> Compactor::rewrite(const std::vector<std::string>& keys,
                                                                const std::string& keep, const json& schema,
                                                                const std::vector<ColumnInfo>& columns,
                                                                const std::vector<CompactedSource>& sources) {
  std::map<std::string, const json*> fields;
  for (const auto& f : schema["fields"]) fields[f.value("name", "")] = &f;
  std::string select, ids;
  for (const auto& c : columns) {
    auto it = fields.find(c.name);
    if (c.name == "dt" || it == fields.end()) continue;
    const json& f = *it->second;
    select += (select.empty() ? "" : ", ") + duck::quote_identifier(c.name);
    ids += (ids.empty() ? "" : ", ") + duck::quote_identifier(c.name) + ": ";
    if (f["type"].is_object() && f["type"].contains("element-id"))
      ids += "{__duckdb_field_id: " + std::to_string(f.value("id", 0)) +
             ", element: " + std::to_string(f["type"].value("element-id", 0)) + "}";
    else
      ids += std::to_string(f.value("id", 0));
  }
  if (select.empty()) return make_error(Errc::internal, "no Iceberg column to compact");
  std::string paths;
  ETL_RETURN_IF_ERROR(files_.refresh(*conn_));
  for (const auto& key : keys) paths += (paths.empty() ? "" : ", ") + duck::quote_literal(files_.path(key));
  const fs::path out = fs::temp_directory_path() /
                       ("spotify-etl-compaction-" + std::to_string(::getpid()) + "-" + random_hex() + ".parquet");
  const std::string filter = keep.empty() ? "" : ", filename = true, file_row_number = true) WHERE " + keep;
  Status written = conn_->execute("COPY (SELECT " + select + " FROM read_parquet([" + paths +
                                  "], union_by_name = true, hive_partitioning = false" +
                                  (filter.empty() ? ")" : filter) + ") TO " + duck::quote_literal(out.string()) +
                                  " (FORMAT parquet, COMPRESSION zstd, FIELD_IDS {" + ids + "}, KV_METADATA {" +
                                  duck::quote_literal(kSourcesKey) + ": " +
                                  duck::quote_literal(encode_sources(sources)) + "})");
  std::error_code ec;
  if (!written.ok()) {
    fs::remove(out, ec);
    return std::move(written).error();
  }
  auto rows = conn_->query("SELECT num_rows FROM parquet_file_metadata(" + duck::quote_literal(out.string()) + ")");
  std::ifstream in(out, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  fs::remove(out, ec);
  if (!rows || rows->row_count() < 1) return make_error(Errc::internal, "cannot read the compacted file's row count");
  return std::pair<std::string, std::int64_t>(std::move(bytes), std::stoll(rows->text(0, 0).value_or("0")));
}

Result<std::pair<ObjectInfo, std::int64_t>> Compactor::write_output(const TableState& state, const std::string& dt,
                                                                   const std::vector<std::string>& keys,
                                                                   const std::string& keep, const json& schema,
                                                                   const std::vector<CompactedSource>& sources,
                                                                   std::int64_t expected) {
  auto rewritten = rewrite(keys, keep, schema, state.columns, sources);
  if (!rewritten) return std::move(rewritten).error();
  if (rewritten->second != expected)
    return make_error(Errc::internal, state.name + " dt=" + dt + ": the compacted file holds " +
                                          std::to_string(rewritten->second) + " rows, its sources " +
                                          std::to_string(expected));
  const std::string key = DataKey::make(state.name, dt, std::string(kCompactedStem) + random_hex(), "parquet");
  auto put = store_->put(key, rewritten->first);
  if (!put) return std::move(put).error();
  return std::pair<ObjectInfo, std::int64_t>(std::move(put).value(), rewritten->second);
}

void Compactor::swap_in(const std::string& dt, const ObjectInfo& put, std::int64_t rows,
                        const std::vector<std::string>& retired, const std::vector<std::string>& consumed,
                        TableState& next, IcebergTables::Replace& replace, CompactionResult& result) {
  result.written.emplace_back(dt, put);
  auto& files = next.partitions[dt].files;
  for (const auto& k : retired) {
    files.erase(k);
    replace.retired.push_back(k);
  }
  for (const auto& k : consumed) {
    files.erase(k);
    replace.consumed.push_back(k);
  }
  // The schema id is the catalog's to set (it reads the new file's schema); the commit does not use it.
  files[put.key] = FileState{put.key, put.size, put.etag, "parquet",
                             files.empty() ? std::string() : files.begin()->second.schema_id};
  replace.records[put.key] = rows;
}

void Compactor::remove_written(const CompactionResult& result) {
  for (const auto& [dt, object] : result.written) (void)store_->remove(object.key);
}

Result<CompactionResult> Compactor::compact(IcebergTables& tables, const TableState& state) {
  CompactionResult result;
  auto current = tables.current(state.name);
  if (!current) return std::move(current).error();
  if (!*current) return result;
  auto live = tables.live_files((*current)->metadata);
  if (!live) return std::move(live).error();
  std::set<std::string> live_keys;
  std::map<std::string, std::int64_t> records;
  for (const auto& e : *live)
    if (auto key = tables.key_of(e.file_path)) {
      live_keys.insert(*key);
      records[*key] = e.record_count;
    }
  auto groups = plan_compaction(state, live_keys, options_);
  if (groups.empty()) return result;
  const json* schema = current_schema((*current)->metadata);
  if (!schema) return make_error(Errc::internal, state.name + ": Iceberg metadata without a current schema");

  TableState next = state;
  IcebergTables::Replace replace;
  for (const auto& group : groups) {
    std::int64_t expected = 0;
    std::vector<CompactedSource> sources;
    for (const auto& key : group.keys) {
      expected += records[key];
      if (is_compacted_key(key)) {
        auto inner = sources_of(key, records[key]);
        if (!inner) {
          remove_written(result);
          return std::move(inner).error();
        }
        sources.insert(sources.end(), inner->begin(), inner->end());
      } else {
        const auto& files = state.partitions.at(group.dt).files;
        auto it = files.find(key);
        sources.push_back({key, it == files.end() ? std::string() : it->second.etag, records[key]});
      }
    }
    auto output = write_output(state, group.dt, group.keys, "", *schema, sources, expected);
    if (!output) {
      remove_written(result);
      return std::move(output).error();
    }
    swap_in(group.dt, output->first, output->second, group.keys, {}, next, replace, result);
  }
  return commit(tables, std::move(next), std::move(replace), std::move(result), "iceberg table compacted");
}

Result<CompactionResult> Compactor::commit(IcebergTables& tables, TableState next, IcebergTables::Replace replace,
                                           CompactionResult result, const char* what) {
  auto committed = tables.commit(next, &replace);
  if (!committed) {
    remove_written(result);
    return std::move(committed).error();
  }
  if (!committed->abandoned.empty() || !committed->committed) {
    remove_written(result);
    result.abandoned = committed->abandoned.empty() ? "nothing changed" : committed->abandoned;
    result.written.clear();
    return result;
  }
  result.retired = replace.retired;
  result.retired.insert(result.retired.end(), replace.consumed.begin(), replace.consumed.end());
  result.snapshot_id = committed->snapshot_id;
  log::info(what, {{"table", next.name}, {"files_replaced", result.retired.size()},
                   {"files_written", result.written.size()}, {"snapshot_id", result.snapshot_id}});
  return result;
}

}  // namespace etl::cataloger::iceberg
