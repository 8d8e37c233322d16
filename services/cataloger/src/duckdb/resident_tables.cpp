#include "resident_tables.h"

#include <algorithm>

#include "duckdb_engine.h"
#include "etl/log.h"
#include "schema_merge.h"

namespace etl::cataloger {
namespace {

// A new version of a copy being served is taken in place up to this many new files.
constexpr std::size_t kMaxSyncFiles = 64;
// One transaction of warm() loads at most this many files (about 2 ms each when small).
constexpr std::size_t kWarmFiles = 16;
// A copy is estimated at this many times its files' bytes before it is loaded.
constexpr std::uint64_t kEstimateFactor = 2;

std::string identity(const DataFile& f) { return std::to_string(f.size) + ' ' + f.etag; }

// Runs `statements` in one transaction; rolls back at the first failure.
Status in_transaction(duck::Connection& conn, const std::vector<std::string>& statements) {
  ETL_RETURN_IF_ERROR(conn.execute("BEGIN TRANSACTION"));
  for (const auto& sql : statements) {
    if (Status s = conn.execute(sql); !s.ok()) {
      (void)conn.execute("ROLLBACK");
      return s;
    }
  }
  if (Status s = conn.execute("COMMIT"); !s.ok()) {
    (void)conn.execute("ROLLBACK");
    return s;
  }
  return {};
}

}  // namespace

std::string resident_signature(const TableInfo& table) {
  std::string s;
  for (const auto& c : table.columns) s += c.name + ' ' + exposed_type(c.type) + ';';
  return s;
}

std::string ResidentTables::qualified(const std::string& table) const {
  return std::string(kResidentCatalog) + ".main." + duck::quote_identifier(table);
}

std::string ResidentTables::copy_select(const std::string& table) const {
  std::string select = "SELECT ";
  for (const auto& c : tables_.at(table).info.columns) select += duck::quote_identifier(c.name) + ", ";
  return select + "dt FROM " + qualified(table);
}

std::uint64_t ResidentTables::bytes(duck::Connection& conn) const {
  auto r = conn.query("SELECT coalesce(sum(memory_usage_bytes), 0)::UBIGINT FROM duckdb_memory() "
                      "WHERE tag = 'IN_MEMORY_TABLE'");
  if (!r) return 0;
  return std::stoull(r->text(0, 0).value_or("0"));
}

ResidentTables::Source ResidentTables::update(duck::Connection& conn, const TableInfo& table,
                                              const std::vector<DataFile>& files, const std::string& root) {
  std::optional<Load> load;
  const Source source = begin_update(conn, table, files, root, load);
  if (!load) return source;
  const Status ran = run(conn, *load);
  return finish_update(conn, std::move(*load), ran);
}

ResidentTables::Source ResidentTables::begin_update(duck::Connection& conn, const TableInfo& table,
                                                    const std::vector<DataFile>& files, const std::string& root,
                                                    std::optional<Load>& load) {
  load.reset();
  if (options_.max_bytes == 0) return Source::files;
  Table& t = tables_[table.name];
  if (t.mode == Mode::evicted) return Source::files;
  for (const auto& c : table.columns)
    if (c.name == kResidentFileColumn) {
      evict(t, table.name, "a column is named " + c.name);
      return Source::files;
    }
  const std::string signature = resident_signature(table);
  if (t.mode == Mode::serving && signature == t.signature) {
    const Change change = change_to(t, files);
    // Loads begun and not finished count at their estimate: they run side by side.
    if (change.add_bytes <= options_.sync_load_bytes && change.add.size() <= kMaxSyncFiles &&
        bytes(conn) + reserved_bytes_ + kEstimateFactor * change.add_bytes <= options_.max_bytes) {
      t.info = table;
      load = prepare(t, table.name, change.gone, change.add, root);
      load->files = files;
      load->reserved = kEstimateFactor * change.add_bytes;
      reserved_bytes_ += load->reserved;
      return Source::copy;
    }
  }
  return warming(t, table, files, signature);
}

ResidentTables::Source ResidentTables::finish_update(duck::Connection& conn, Load load, const Status& ran) {
  reserved_bytes_ -= std::min(reserved_bytes_, load.reserved);
  Table& t = tables_.at(load.table);
  if (ran.ok()) {
    taken(conn, t, load);
    t.wanted = load.files;
    if (std::uint64_t held = bytes(conn); held > options_.max_bytes)
      evict(t, load.table, "the copies hold " + std::to_string(held) + " bytes");
    else
      return Source::copy;
  } else {
    log::warn("a table's in-memory copy cannot take the catalog's new version; the table is read from its "
              "files until the copy has caught up", {{"table", load.table}, {"error", ran.error().message}});
    t.retry_at = std::chrono::steady_clock::now() + options_.retry_after;
  }
  if (t.mode == Mode::evicted) return Source::files;
  return warming(t, t.info, load.files, resident_signature(t.info));
}

ResidentTables::Source ResidentTables::warming(Table& t, const TableInfo& table, const std::vector<DataFile>& files,
                                               const std::string& signature) {
  // Built (again) by warm() while the view reads the files: the copy of an older
  // version is brought up to this one; one of other columns is dropped first.
  if (signature != t.signature) {
    t.stale = t.created;
    t.signature = signature;
  }
  t.mode = Mode::warming;
  t.view_on_files = false;
  t.info = table;
  t.wanted = files;
  return Source::files;
}

void ResidentTables::reading_files(const std::string& table) {
  if (auto it = tables_.find(table); it != tables_.end()) it->second.view_on_files = true;
}

void ResidentTables::drop(duck::Connection& conn, Table& t, const std::string& name) {
  if (t.created) (void)conn.execute("DROP TABLE IF EXISTS " + qualified(name));
  for (const auto& [key, held] : t.loaded) loaded_bytes_ -= std::min(loaded_bytes_, held.size);
  t.created = false;
  t.stale = false;
  t.loaded.clear();
}

void ResidentTables::forget(duck::Connection& conn, const std::string& table) {
  auto it = tables_.find(table);
  if (it == tables_.end()) return;
  drop(conn, it->second, table);
  tables_.erase(it);
}

void ResidentTables::evict(Table& t, const std::string& name, const std::string& why) {
  log::warn("a table is read from its files, not kept in memory (ETL_QUERY_RESIDENT_BYTES)",
            {{"table", name}, {"reason", why}, {"budget_bytes", options_.max_bytes}});
  t.mode = Mode::evicted;
  t.view_on_files = false;  // the view may still read the copy: warm() drops it once reading_files() says not
  t.stale = t.created;
}

void ResidentTables::evict_now(duck::Connection& conn, Table& t, const std::string& name, const std::string& why) {
  evict(t, name, why);
  t.view_on_files = true;
  drop(conn, t, name);
}

void ResidentTables::give_up(duck::Connection& conn, const std::string& table, const std::string& why) {
  // The swap failed: the view still reads the files.
  if (auto it = tables_.find(table); it != tables_.end()) evict_now(conn, it->second, table, why);
}

ResidentTables::Change ResidentTables::change_to(const Table& t, const std::vector<DataFile>& files) {
  Change out;
  std::map<std::string, const DataFile*> now;
  for (const auto& f : files) now[f.key] = &f;
  for (const auto& [key, held] : t.loaded)
    if (auto it = now.find(key); it == now.end() || identity(*it->second) != held.identity) out.gone.push_back(key);
  for (const auto& f : files)
    if (auto it = t.loaded.find(f.key); it == t.loaded.end() || it->second.identity != identity(f)) {
      out.add.push_back(f);
      out.add_bytes += f.size;
    }
  return out;
}

void ResidentTables::serving(const std::string& table) {
  if (auto it = tables_.find(table); it != tables_.end()) {
    it->second.mode = Mode::serving;
    it->second.view_on_files = false;
  }
}

ResidentTables::Load ResidentTables::prepare(Table& t, const std::string& name, const std::vector<std::string>& gone,
                                             const std::vector<DataFile>& add, const std::string& root) {
  Load load;
  load.table = name;
  load.gone = gone;
  load.add = add;
  if (!gone.empty()) {
    std::string ids;
    for (const auto& key : gone) {
      const Loaded& held = t.loaded.at(key);
      ids += (ids.empty() ? "" : ", ") + std::to_string(held.id);
      load.gone_bytes += held.size;
    }
    load.statements.push_back("DELETE FROM " + qualified(name) + " WHERE " + kResidentFileColumn + " IN (" + ids + ")");
  }
  for (const auto& f : add) {
    PartitionInfo one;
    one.files = {f};
    load.ids.push_back(t.next_id++);
    load.statements.push_back("INSERT INTO " + qualified(name) + " SELECT *, " + std::to_string(load.ids.back()) +
                              " FROM (" + view_select_sql(t.info, {one}, root) + ")");
  }
  return load;
}

Status ResidentTables::run(duck::Connection& conn, const Load& load) {
  if (load.statements.empty()) return {};
  return in_transaction(conn, load.statements);
}

void ResidentTables::taken(duck::Connection& conn, Table& t, const Load& load) {
  if (load.statements.empty()) return;
  for (const auto& key : load.gone) t.loaded.erase(key);
  loaded_bytes_ -= std::min(loaded_bytes_, load.gone_bytes);
  for (std::size_t i = 0; i < load.add.size(); ++i) {
    t.loaded[load.add[i].key] = Loaded{load.ids[i], identity(load.add[i]), load.add[i].size};
    loaded_bytes_ += load.add[i].size;
  }
  // Deleted rows keep their blocks until a checkpoint rewrites the row groups.
  deleted_bytes_ += load.gone_bytes;
  if (deleted_bytes_ > 0 && deleted_bytes_ * 8 > loaded_bytes_) {
    if (Status s = conn.execute(std::string("CHECKPOINT ") + kResidentCatalog); !s.ok())
      log::warn("cannot checkpoint the in-memory table copies", {{"error", s.error().message}});
    else
      deleted_bytes_ = 0;
  }
}

Status ResidentTables::apply(duck::Connection& conn, Table& t, const std::string& name,
                             const std::vector<std::string>& gone, const std::vector<DataFile>& add,
                             const std::string& root) {
  const Load load = prepare(t, name, gone, add, root);
  ETL_RETURN_IF_ERROR(run(conn, load));
  taken(conn, t, load);
  return {};
}

ResidentTables::Step ResidentTables::warm(duck::Connection& conn, const std::string& root) {
  Step out;
  if (options_.max_bytes == 0) return out;
  const auto start = std::chrono::steady_clock::now();
  for (auto& [name, t] : tables_) {
    if (t.stale && t.view_on_files) drop(conn, t, name);
    if (t.mode != Mode::warming || !t.view_on_files) continue;
    if (t.retry_at && start < *t.retry_at) {
      out.retry_at = out.retry_at ? std::min(*out.retry_at, *t.retry_at) : *t.retry_at;
      continue;
    }
    t.retry_at.reset();
    const Change change = change_to(t, t.wanted);
    if (change.gone.empty() && change.add.empty() && t.created) {
      out.ready = name;
      return out;
    }
    // What is left must fit before any of it is loaded: a copy is estimated at
    // twice its files' bytes (measured: about their size), checked against what
    // DuckDB reports once loaded.
    const std::uint64_t held = bytes(conn);
    if (held + kEstimateFactor * change.add_bytes > options_.max_bytes) {
      evict_now(conn, t, name, "the copy would pass the budget (" + std::to_string(held) + " bytes held, files of " +
                                   std::to_string(change.add_bytes) + " bytes to load)");
      continue;
    }
    if (!t.created) {
      Status s = conn.execute("CREATE TABLE IF NOT EXISTS " + qualified(name) + " AS SELECT *, CAST(0 AS BIGINT) AS " +
                              kResidentFileColumn + " FROM (" + view_select_sql(t.info, {}, root) + ")");
      if (!s.ok()) {
        evict_now(conn, t, name, "cannot create the copy: " + s.error().message);
        continue;
      }
      t.created = true;
    }
    // A transaction loads at most kWarmFiles files or a quarter of sync_load_bytes.
    std::vector<DataFile> add;
    std::uint64_t add_bytes = 0;
    for (const auto& f : change.add) {
      add.push_back(f);
      add_bytes += f.size;
      if (add.size() >= kWarmFiles || add_bytes >= options_.sync_load_bytes / 4) break;
    }
    Status s = apply(conn, t, name, change.gone, add, root);
    if (!s.ok() && s.error().message.find("Out of Memory") != std::string::npos) {
      // The queries need the memory: not tried again (a retry would fail them again).
      evict_now(conn, t, name, "DuckDB's memory_limit was reached while loading: " + s.error().message.substr(0, 200));
      continue;
    }
    if (!s.ok()) {
      log::warn("cannot load a table's files into its in-memory copy; retried later",
                {{"table", name}, {"error", s.error().message}});
      t.retry_at = std::chrono::steady_clock::now() + options_.retry_after;
      out.retry_at = out.retry_at ? std::min(*out.retry_at, *t.retry_at) : *t.retry_at;
      continue;
    }
    if (std::uint64_t now = bytes(conn); now > options_.max_bytes) {
      evict_now(conn, t, name, "the copies hold " + std::to_string(now) + " bytes");
      continue;
    }
    out.more = true;
    if (std::chrono::steady_clock::now() - start >= options_.step) return out;
  }
  return out;
}

std::map<std::string, ResidentTables::TableReport> ResidentTables::report() const {
  std::map<std::string, TableReport> out;
  for (const auto& [name, t] : tables_) {
    TableReport r;
    r.mode = t.mode == Mode::serving ? "serving" : t.mode == Mode::warming ? "warming" : "evicted";
    r.files = t.loaded.size();
    r.wanted = t.wanted.size();
    out[name] = r;
  }
  return out;
}

}  // namespace etl::cataloger
