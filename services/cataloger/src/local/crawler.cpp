#include "crawler.h"

#include "at_once.h"
#include "etl/log.h"
#include "schema_merge.h"

namespace etl::cataloger {

std::string read_function_sql(const std::string& format, const std::vector<std::string>& paths, bool union_by_name) {
  std::string list = "[";
  for (size_t i = 0; i < paths.size(); ++i) list += (i ? ", " : "") + duck::quote_literal(paths[i]);
  list += "]";
  std::string options = ", hive_partitioning = true, hive_types = {'dt': 'VARCHAR'}";
  if (union_by_name) options += ", union_by_name = true";
  if (format == "parquet") return "read_parquet(" + list + options + ")";
  // Our CSV writes NULL as an empty field and an empty string as "" (docs/contract.md §4.5).
  if (format == "csv") return "read_csv(" + list + options + ", header = true, allow_quoted_nulls = false)";
  return "read_json(" + list + options + ", format = 'newline_delimited')";
}

Result<std::unique_ptr<DuckDbSchemaReader>> DuckDbSchemaReader::open(duck::TableFiles files, std::size_t connections) {
  std::unique_ptr<DuckDbSchemaReader> reader(new DuckDbSchemaReader());
  reader->files_ = std::move(files);
  auto db = duck::Database::open(":memory:", {{"threads", "1"}});
  if (!db) return std::move(db).error();
  reader->db_ = std::move(db).value();
  // Every connection gets httpfs and the secret before the settings below lock
  // the database (they are the database's, not a connection's).
  std::vector<std::unique_ptr<duck::Connection>> conns;
  for (std::size_t i = 0; i < std::max<std::size_t>(connections, 1); ++i) {
    auto conn = reader->db_->connect();
    if (!conn) return std::move(conn).error();
    ETL_RETURN_IF_ERROR(reader->files_.prepare(**conn));
    conns.push_back(std::move(conn).value());
  }
  const std::string dir = reader->files_.root() + "/";
  for (const std::string& sql : {"SET allowed_directories = [" + duck::quote_literal(dir) + "]",
                                 std::string("SET enable_external_access = false"),
                                 std::string("SET autoinstall_known_extensions = false"),
                                 std::string("SET autoload_known_extensions = false"),
                                 std::string("SET lock_configuration = true")})
    ETL_RETURN_IF_ERROR(conns.front()->execute(sql));
  for (auto& conn : conns) reader->conns_.add(std::move(conn));
  return reader;
}

Result<FileSchema> DuckDbSchemaReader::read_schema(const std::string& key, const std::string& format) {
  auto conn = conns_.take();
  ETL_RETURN_IF_ERROR(files_.refresh(*conn));
  std::string path = files_.path(key);
  FileSchema out;
  if (format == "parquet") {
    auto rows = conn->query(parquet_footer_sql(path, true));
    if (!rows) return std::move(rows).error();
    auto footer = parse_parquet_footer(*rows);
    if (!footer) return Error{footer.error().code, footer.error().message + " in " + key};
    for (auto& c : footer->columns)
      if (c.name != "dt") out.columns.push_back(std::move(c));
    out.facts = std::move(footer->facts);
    return out;
  }
  std::string source = format == "csv" ? "read_csv(" + duck::quote_literal(path) + ", header = true, hive_partitioning = false, allow_quoted_nulls = false)"
                                       : "read_json(" + duck::quote_literal(path) +
                                             ", format = 'newline_delimited', hive_partitioning = false)";
  auto described = conn->query("DESCRIBE SELECT * FROM " + source);
  if (!described) return std::move(described).error();
  std::vector<ColumnInfo>& columns = out.columns;
  std::vector<size_t> maybe_null;  // text-typed columns: all NULL says nothing about the type
  for (idx_t row = 0; row < described->row_count(); ++row) {
    ColumnInfo c{described->text(0, row).value_or(""), described->text(1, row).value_or("VARCHAR")};
    if (c.name == "dt") continue;
    if (c.type == "VARCHAR" || c.type == "JSON") maybe_null.push_back(columns.size());
    columns.push_back(std::move(c));
  }
  if (!maybe_null.empty()) {
    std::string sql = "SELECT ";
    for (size_t i = 0; i < maybe_null.size(); ++i)
      sql += (i ? ", " : "") + std::string("count(") + duck::quote_identifier(columns[maybe_null[i]].name) + ")";
    auto counts = conn->query(sql + " FROM " + source);
    if (!counts) return std::move(counts).error();
    for (size_t i = 0; i < maybe_null.size(); ++i)
      if (counts->text(i, 0).value_or("0") == "0") columns[maybe_null[i]].type = std::string(kUnknownType);
  }
  return out;
}

TableCrawl crawl_table(const TableState& current, const std::vector<ObjectInfo>& listing,
                       const std::set<std::string>& scope, SchemaReader& reader, bool full, const std::string& now) {
  TableCrawl out;
  out.state = current;
  TableState& t = out.state;
  bool data_changed = false;
  bool schema_changed = false;

  std::map<std::string, std::map<std::string, const ObjectInfo*>> listed;  // dt -> key -> object
  for (const auto& obj : listing) {
    auto dk = DataKey::parse(obj.key);
    if (!dk || dk->table != t.name) continue;
    if (!scope.empty() && !scope.count(dk->dt)) continue;
    listed[dk->dt][obj.key] = &obj;
  }

  // Gone: files of the listed scope that are no longer there.
  for (auto pit = t.partitions.begin(); pit != t.partitions.end();) {
    bool in_scope = scope.empty() || scope.count(pit->first);
    if (in_scope) {
      auto lit = listed.find(pit->first);
      for (auto fit = pit->second.files.begin(); fit != pit->second.files.end();) {
        if (lit == listed.end() || !lit->second.count(fit->first)) {
          fit = pit->second.files.erase(fit);
          data_changed = true;
        } else {
          ++fit;
        }
      }
    }
    if (pit->second.files.empty()) {
      pit = t.partitions.erase(pit);
      ++out.partitions_removed;
      data_changed = true;
    } else {
      ++pit;
    }
  }

  // New or changed: inspected a few at once (a footer read is a store round trip
  // or two each), then merged one by one in the listing's order.
  struct Inspected {
    const std::string* dt;
    const ObjectInfo* obj;
    std::string format;
    Result<FileSchema> read = FileSchema{};
  };
  std::vector<Inspected> inspected;
  for (const auto& [dt, objects] : listed) {
    for (const auto& [key, obj] : objects) {
      auto pit = t.partitions.find(dt);
      if (pit != t.partitions.end()) {
        auto fit = pit->second.files.find(key);
        if (!full && fit != pit->second.files.end() && fit->second.etag == obj->etag && fit->second.size == obj->size)
          continue;
      }
      inspected.push_back({&dt, obj, DataKey::parse(key)->format});
    }
  }
  for_each_at_once(inspected.size(), kFilesAtOnce, [&](std::size_t i) {
    inspected[i].read = reader.read_schema(inspected[i].obj->key, inspected[i].format);
  });
  for (auto& [dt, obj, format, read] : inspected) {
    const std::string& key = obj->key;
    ++out.files_inspected;
    if (!read) {
      log::warn("cannot read a data file's schema; left out of the catalog until it can be read",
                {{"key", key}, {"error", read.error().message}});
      out.unreadable.push_back(key);
      continue;
    }
    const std::vector<ColumnInfo>& columns = read->columns;
    if (read->facts) out.facts[key] = {obj->etag, std::move(*read->facts)};
    auto pit = t.partitions.find(*dt);
    if (pit == t.partitions.end()) {
      pit = t.partitions.emplace(*dt, PartitionState{}).first;
      ++out.partitions_added;
    }
    std::string id = schema_id(columns);
    t.schemas.emplace(id, columns);
    FileState fs{key, obj->size, obj->etag, format, id};
    auto& slot = pit->second.files[key];
    if (slot.etag != fs.etag || slot.size != fs.size || slot.schema_id != fs.schema_id || slot.format != fs.format)
      data_changed = true;
    slot = fs;
    MergeResult merged = merge_columns(t.columns, columns);
    if (!merged.changes.empty()) {
      for (auto& c : merged.changes) {
        c.table = t.name;
        out.changes.push_back(c);
      }
      t.columns = std::move(merged.columns);
      schema_changed = true;
    }
  }

  if (data_changed || schema_changed) {
    out.changed = true;
    ++t.data_version;
    if (schema_changed) ++t.version;
    if (t.created_at.empty()) t.created_at = now;
    t.updated_at = now;
  }
  return out;
}

}  // namespace etl::cataloger
