#include "duckdb_engine.h"

#include <cstdlib>
#include <set>

#include "at_once.h"
#include "crawler.h"
#include "etl/ascii.h"
#include "etl/log.h"
#include "etl/process_folders.h"
#include "schema_merge.h"
#include "sql_guard.h"
#include "value_json.h"

namespace etl::cataloger {
namespace {

// More schema versions than this in one format: one read with union_by_name
// instead of one read per schema.
constexpr size_t kMaxSchemaGroups = 8;
// Tables whose in-memory copies a view sync loads at once.
constexpr size_t kSyncLoadsAtOnce = 4;

std::string dir_with_slash(const std::filesystem::path& p) {
  std::string s = std::filesystem::absolute(p).lexically_normal().string();
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

Error engine_error(duckdb_error_type type, const std::string& message) {
  Errc code = Errc::internal;
  switch (type) {
    case DUCKDB_ERROR_INTERRUPT: code = Errc::cancelled; break;
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_OUT_OF_MEMORY:
    case DUCKDB_ERROR_CONNECTION: code = Errc::unavailable; break;
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_FATAL: code = Errc::internal; break;
    default: code = Errc::invalid_argument; break;  // parser, binder, catalog, conversion, permission ...
  }
  return make_error(code, message);
}

// EXPLAIN [ANALYZE] must be of a query: EXPLAIN ANALYZE COPY ... would run the COPY.
bool explains_a_query(const std::string& sql) {
  auto tokens = tokenize_sql(sql);
  if (!tokens) return false;
  size_t i = 1;
  if (i < tokens->size() && (*tokens)[i].kind == TokenKind::word && (*tokens)[i].text == "analyze") ++i;
  if (i >= tokens->size()) return false;
  const SqlToken& t = (*tokens)[i];
  return (t.kind == TokenKind::word && (t.text == "select" || t.text == "with" || t.text == "from" || t.text == "values")) ||
         (t.kind == TokenKind::symbol && t.text == "(");
}

}  // namespace

std::string view_select_sql(const TableInfo& table, const std::vector<PartitionInfo>& partitions,
                            const std::string& root) {
  // Files grouped by format and schema: a read per group needs no union_by_name
  // (which would open every file's footer at each query).
  struct Group {
    std::vector<std::string> paths;
  };
  std::map<std::string, std::map<std::string, Group>> groups;  // format -> schema -> files
  std::set<std::string> present;                               // columns some file has
  for (const auto& p : partitions) {
    for (const auto& f : p.files) {
      std::string schema;
      for (const auto& c : f.columns) {
        schema += c.name + ' ' + c.type + ';';
        present.insert(c.name);
      }
      groups[f.format][schema].paths.push_back(root + "/" + f.key);
    }
  }
  std::vector<std::string> reads;
  for (const auto& [format, schemas] : groups) {
    if (schemas.size() > kMaxSchemaGroups) {
      std::vector<std::string> all;
      for (const auto& [s, g] : schemas) all.insert(all.end(), g.paths.begin(), g.paths.end());
      reads.push_back("SELECT * FROM " + read_function_sql(format, all, true));
      continue;
    }
    for (const auto& [s, g] : schemas) reads.push_back("SELECT * FROM " + read_function_sql(format, g.paths, false));
  }

  std::string select = "SELECT ";
  for (const auto& c : table.columns) {
    std::string type = exposed_type(c.type);
    if (present.count(c.name))
      select += "CAST(" + duck::quote_identifier(c.name) + " AS " + type + ") AS " + duck::quote_identifier(c.name) + ", ";
    else
      select += "CAST(NULL AS " + type + ") AS " + duck::quote_identifier(c.name) + ", ";
  }
  if (reads.empty()) return select + "CAST(NULL AS VARCHAR) AS dt WHERE false";
  select += "dt FROM (";
  for (size_t i = 0; i < reads.size(); ++i) select += (i ? " UNION ALL BY NAME " : "") + reads[i];
  return select + ")";
}

// The gate parses in a database of its own, which reads no file: it never holds
// what a renewed database must let go of.
Result<std::unique_ptr<SqlGate>> open_sql_gate(const std::string& database, VerdictCacheLimits verdicts) {
  auto parser_db = duck::Database::open(":memory:", {{"threads", "1"}});
  if (!parser_db) return std::move(parser_db).error();
  auto parser = (*parser_db)->connect();
  if (!parser) return std::move(parser).error();
  for (const char* sql : {"SET enable_external_access = false", "SET lock_configuration = true"})
    ETL_RETURN_IF_ERROR((*parser)->execute(sql));
  return std::make_unique<SqlGate>(std::move(parser_db).value(), std::move(parser).value(), database, verdicts);
}

Result<std::unique_ptr<DuckDbEngine>> DuckDbEngine::open(DuckDbEngineOptions options, VerdictCacheLimits verdicts) {
  std::unique_ptr<DuckDbEngine> engine(new DuckDbEngine());
  engine->options_ = std::move(options);
  engine->options_.s3_metadata_cache &= engine->options_.files.remote();  // local files: no httpfs, no HEADs
  if (engine->options_.resident_bytes > 0)
    engine->resident_ = std::make_unique<ResidentTables>(ResidentOptions{engine->options_.resident_bytes});
  ETL_RETURN_IF_ERROR(engine->make_folders());
  engine->readable_.insert(engine->options_.tables.begin(), engine->options_.tables.end());
  ETL_RETURN_IF_ERROR(engine->open_database());
  if (engine->options_.sql_gate) {
    auto gate = open_sql_gate(engine->options_.database, verdicts);
    if (!gate) return std::move(gate).error();
    engine->gate_ = std::move(gate).value();
  }
  if (engine->resident_) engine->warmer_ = std::thread([e = engine.get()] { e->warm_loop(); });
  return engine;
}

DuckDbEngine::~DuckDbEngine() {
  if (warmer_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    warm_cv_.notify_all();
    warmer_.join();
  }
  admin_.reset();
  postgres_pool_.reset();  // its connections close before their database
  db_.reset();
  gate_.reset();
  if (!engine_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(engine_dir_, ec);
  }
}

Status DuckDbEngine::make_folders() {
  std::error_code ec;
  std::filesystem::path parent = options_.data_dir.empty() ? std::filesystem::temp_directory_path() : options_.data_dir;
  std::filesystem::create_directories(parent, ec);
  // engine-<pid>-XXXXXX: those a killed cataloger left (spill files can be large) go first.
  remove_dead_process_folders(parent, "engine-");
  auto folder = make_process_folder(std::filesystem::absolute(parent), "engine-");
  if (!folder)
    return make_error(Errc::unavailable, "cannot create the query engine's folder under " + parent.string() +
                                             " (ETL_QUERY_DATA_DIR)");
  engine_dir_ = *folder;
  tables_dir_ = engine_dir_ / "tables";
  spill_dir_ = engine_dir_ / "spill";
  std::filesystem::create_directories(tables_dir_, ec);
  std::filesystem::create_directories(spill_dir_, ec);
  if (ec) return make_error(Errc::unavailable, "cannot create " + tables_dir_.string() + ": " + ec.message());
  return {};
}

Status DuckDbEngine::open_database() {
  std::map<std::string, std::string> config = {{"threads", std::to_string(options_.threads)}};
  if (!options_.memory_limit.empty()) config["memory_limit"] = options_.memory_limit;
  if (options_.max_temp_bytes > 0) config["max_temp_directory_size"] = std::to_string(options_.max_temp_bytes) + "B";
  auto db = duck::Database::open(":memory:", config);
  if (!db) return std::move(db).error();
  std::shared_ptr<duck::Database> opened = std::move(db).value();
  auto connected = opened->connect();
  if (!connected) return std::move(connected).error();
  std::unique_ptr<duck::Connection> admin = std::move(connected).value();
  // Two databases may spill at once (the old one until its last session goes).
  const std::filesystem::path spill = spill_dir_ / std::to_string(epoch_.load());
  std::error_code ec;
  std::filesystem::create_directories(spill, ec);
  if (ec) return make_error(Errc::unavailable, "cannot create " + spill.string() + ": " + ec.message());
  if (options_.database != "main")
    ETL_RETURN_IF_ERROR(admin->execute("CREATE SCHEMA IF NOT EXISTS " + duck::quote_identifier(options_.database)));
  if (resident_) {  // the tables' copies: compressed in memory, in the engine's memory_limit
    ETL_RETURN_IF_ERROR(admin->execute(std::string("ATTACH ':memory:' AS ") + kResidentCatalog + " (COMPRESS)"));
    resident_->clear();  // a renewed database starts without copies
  }
  std::string readable = duck::quote_literal(dir_with_slash(spill));
  if (options_.files.remote()) {
    ETL_RETURN_IF_ERROR(options_.files.prepare(*admin));
    views_root_ = options_.files.root();
  } else {
    views_root_ = tables_dir_.string();
  }
  for (const auto& table : readable_) readable += ", " + duck::quote_literal(table_folder(table));
  std::vector<std::string> settings = {
      "SET parquet_metadata_cache = true",
      options_.s3_metadata_cache ? "SET enable_http_metadata_cache = true" : "",
      "SET temp_directory = " + duck::quote_literal(spill.string()),
      "SET allowed_directories = [" + readable + "]",
      "SET enable_external_access = false",
      "SET autoinstall_known_extensions = false",
      "SET autoload_known_extensions = false",
  };
  auto lock_down = [&](const std::string& sql) -> Status {
    if (Status s = admin->execute(sql); !s.ok())
      return make_error(Errc::internal, "cannot lock down DuckDB (" + sql + "): " + s.error().message);
    return {};
  };
  for (const auto& sql : settings)
    if (!sql.empty()) ETL_RETURN_IF_ERROR(lock_down(sql));
  // Dialect::postgres's connections: their session setting is made now, as the lock
  // below refuses every SET after it.
  auto postgres = std::make_shared<duck::ConnectionPool>();
  for (int i = 0; i < options_.postgres_connections; ++i) {
    auto conn = opened->connect();
    if (!conn) return std::move(conn).error();
    // PostgreSQL's `/` of integers truncates, and its NULLs sort as larger than any
    // value: last in ascending order, first in descending (DuckDB's default is last
    // in both). SESSION: default_null_order is otherwise the whole database's, and
    // POST /v1/query keeps DuckDB's order.
    for (const char* sql : {"SET integer_division = true",
                            "SET SESSION default_null_order = 'nulls_last_on_asc_first_on_desc'"})
      if (Status s = (*conn)->execute(sql); !s.ok())
        return make_error(Errc::internal, std::string("cannot prepare a PostgreSQL connection (") + sql +
                                              "): " + s.error().message);
    postgres->add(std::move(conn).value());
  }
  ETL_RETURN_IF_ERROR(lock_down("SET lock_configuration = true"));
  admin_ = std::move(admin);  // the old admin connection closes before its database may
  postgres_pool_ = std::move(postgres);  // the old pool's connections close before their database may
  db_ = std::move(opened);
  return {};
}

// Each table's own folder, not tables_dir_: DuckDB checks a path against its
// allowed_directories by its text, where `tables/songs_data/../x` is inside
// `tables/`, while the file system follows the link and reads `<root>/x`.
// Against `tables/songs_data/` the same path is outside.
std::string DuckDbEngine::table_folder(const std::string& table) const {
  return options_.files.remote() ? options_.files.path(table) + "/" : dir_with_slash(tables_dir_ / table);
}

bool DuckDbEngine::renew_database(const char* why) {
  std::lock_guard db_lock(db_mutex_);  // no session or ping between the new epoch and its database
  const std::uint64_t epoch = epoch_.fetch_add(1) + 1;
  if (Status s = open_database(); !s.ok()) {
    epoch_.store(epoch - 1);
    log::error("cannot renew the query engine's database", {{"why", why}, {"error", s.error().message}});
    return false;
  }
  log::info("query engine database renewed", {{"epoch", epoch}, {"why", why}});
  exposed_.clear();
  applied_.clear();
  return true;
}

std::shared_ptr<duck::Database> DuckDbEngine::current_database(std::uint64_t* epoch,
                                                               std::shared_ptr<duck::ConnectionPool>* postgres) {
  std::lock_guard lock(db_mutex_);  // db_, epoch_ and the pool of one database
  if (epoch) *epoch = epoch_.load();
  if (postgres) *postgres = postgres_pool_;
  return db_;
}

// Not under mutex_, which a view sync or a table copy's load step may hold for
// seconds: a new session (and a ping) takes only the database and its epoch.
Result<std::unique_ptr<SqlSession>> DuckDbEngine::session() {
  std::uint64_t epoch = 0;
  std::shared_ptr<duck::ConnectionPool> postgres;
  std::shared_ptr<duck::Database> db = current_database(&epoch, &postgres);
  auto conn = db->connect();
  if (!conn) return std::move(conn).error();
  return std::unique_ptr<SqlSession>(
      std::make_unique<Session>(std::move(conn).value(), std::move(db), epoch, std::move(postgres)));
}

bool DuckDbEngine::replaced_in_place(const std::vector<PartitionInfo>& partitions) {
  bool replaced = false;
  for (const auto& p : partitions)
    for (const auto& f : p.files) {
      std::string seen = std::to_string(f.size) + ' ' + f.etag;
      auto [it, added] = exposed_.try_emplace(f.key, seen);
      if (!added && it->second != seen) {
        log::warn("a data file was replaced in place; the query engine renews its database so no query reads "
                  "what it kept of the old bytes", {{"key", f.key}, {"was", it->second}, {"now", seen}});
        it->second = std::move(seen);
        replaced = true;
      }
    }
  return replaced;
}

Status DuckDbEngine::refresh_credentials() {
  if (!options_.files.remote()) return {};
  std::lock_guard lock(mutex_);  // admin_ is shared with the views
  return options_.files.refresh(*admin_);
}

Status DuckDbEngine::check(const std::string& sql, std::set<std::string>* reads) {
  if (!gate_)
    return make_error(Errc::internal, "this engine has no SQL gate: statements are checked before they reach it");
  return gate_->check_current(sql, reads);
}

std::string without_folders(std::string message, std::initializer_list<std::string> folders) {
  for (const auto& dir : folders)
    for (size_t at = message.find(dir); at != std::string::npos; at = message.find(dir, at))
      message.replace(at, dir.size(), "");
  return message;
}

std::string DuckDbEngine::scrub(std::string message) const {
  return without_folders(std::move(message),
                         {dir_with_slash(tables_dir_), options_.files.root() + "/", dir_with_slash(engine_dir_)});
}

// engine_dir_/tables/<table> -> root/<table>: views read through these links, and
// DuckDB may open files under each link only (table_folder), so a folder that is
// no table (`_query_results/`) cannot be read through SQL.
Status DuckDbEngine::link_table(const std::string& table) {
  if (options_.files.remote()) return {};
  std::filesystem::path link = tables_dir_ / table;
  std::error_code ec;
  if (std::filesystem::is_symlink(link, ec)) return {};
  std::filesystem::create_directory_symlink(std::filesystem::path(options_.files.root()) / table, link, ec);
  if (ec) return make_error(Errc::unavailable, "cannot link the table folder " + table + ": " + ec.message());
  return {};
}

// On a connection of its own, not admin_ under mutex_ (see session()).
Status DuckDbEngine::ping() {
  std::shared_ptr<duck::Database> db = current_database();  // outlives the connection, as a session's does
  auto conn = db->connect();
  if (!conn) return make_error(Errc::unavailable, "DuckDB does not answer: " + conn.error().message);
  auto r = (*conn)->query("SELECT 1");
  if (!r) return make_error(Errc::unavailable, "DuckDB does not answer: " + r.error().message);
  return {};
}

std::map<std::string, ResidentTables::TableReport> DuckDbEngine::resident_report() {
  std::lock_guard lock(mutex_);
  return resident_ ? resident_->report() : std::map<std::string, ResidentTables::TableReport>{};
}

std::string DuckDbEngine::qualified(const std::string& table) const {
  return duck::quote_identifier(options_.database) + "." + duck::quote_identifier(table);
}

void DuckDbEngine::warm_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // The copies read the files with the database's S3 secret: fresh credentials
    // first (the queries' refresh may be long ago). Cheap when they did not change.
    if (options_.files.remote()) (void)options_.files.refresh(*admin_);
    ResidentTables::Step step = resident_->warm(*admin_, views_root_);
    resident_held_.store(resident_->bytes(*admin_));
    if (step.ready) {
      const auto started = std::chrono::steady_clock::now();
      Status s = admin_->execute("CREATE OR REPLACE VIEW " + qualified(*step.ready) + " AS " +
                                 resident_->copy_select(*step.ready));
      if (s.ok()) {
        resident_->serving(*step.ready);
        log::info("a table is read from its in-memory copy",
                  {{"table", *step.ready}, {"copies_bytes", resident_held_.load()},
                   {"swap_ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count()}});
      } else {
        resident_->give_up(*admin_, *step.ready, "cannot point the view at the copy: " + s.error().message);
      }
    }
    if (step.more || step.ready) {
      // Between steps, queries waiting for mutex_ (new sessions, view syncs) go first.
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      lock.lock();
      continue;
    }
    if (step.retry_at)
      warm_cv_.wait_until(lock, *step.retry_at);
    else
      warm_cv_.wait(lock);
  }
}

std::map<std::string, std::int64_t> DuckDbEngine::view_versions() {
  std::lock_guard lock(mutex_);
  return view_versions_locked();
}

std::map<std::string, std::int64_t> DuckDbEngine::view_versions_locked() const {
  std::map<std::string, std::int64_t> out;
  for (const auto& [name, version] : applied_) out[ascii_lower(name)] = version;
  return out;
}

Status DuckDbEngine::sync_views(Catalog& catalog) {
  std::uint64_t generation = catalog.generation();
  if (synced_generation_.load() == generation) return {};
  std::lock_guard lock(mutex_);
  if (synced_generation_.load() == generation) return {};
  auto tables = catalog.list_tables();
  if (!tables) return std::move(tables).error();
  // A copy may load files below, with the database's S3 secret: fresh credentials first.
  if (resident_ && options_.files.remote()) (void)options_.files.refresh(*admin_);
  bool all_applied = true;
  // The view (and its `main.` twin) of a table whose files the engine can read:
  // over its files, or left on the copy that took the new version in place.
  auto expose = [&](const TableInfo& table, const std::vector<PartitionInfo>& partitions,
                    ResidentTables::Source source) {
    Status s;
    if (source == ResidentTables::Source::files) {
      s = admin_->execute("CREATE OR REPLACE VIEW " + qualified(table.name) + " AS " +
                          view_select_sql(table, partitions, views_root_));
      if (s.ok() && resident_) resident_->reading_files(table.name);
    }
    if (s.ok() && options_.database != "main")
      s = admin_->execute("CREATE OR REPLACE VIEW main." + duck::quote_identifier(table.name) + " AS SELECT * FROM " +
                          qualified(table.name));
    if (!s.ok()) {
      log::error("cannot build the view of a table; queries see its previous version",
                 {{"table", table.name}, {"error", s.error().message}});
      all_applied = false;
      return;
    }
    applied_[table.name] = table.data_version;
    log::info("view updated", {{"table", table.name}, {"version", table.version}, {"data_version", table.data_version}});
  };
  // Copies that take their table's new version in place load side by side once
  // every table has been seen (each load is store round trips: on S3 a new
  // connection, a HEAD and a GET per file).
  struct InPlace {
    TableInfo table;
    std::vector<PartitionInfo> partitions;
    ResidentTables::Load load;
  };
  std::vector<InPlace> in_place;
  std::set<std::string> names;
  for (std::size_t i = 0; i < tables->size(); ++i) {
    const TableInfo& table = (*tables)[i];
    names.insert(table.name);
    auto it = applied_.find(table.name);
    if (it != applied_.end() && it->second == table.data_version) continue;
    auto partitions = catalog.get_partitions(table.name);
    if (!partitions) {
      all_applied = false;
      continue;
    }
    // A table new since the database opened needs its folder readable, and a file
    // replaced in place a database whose caches know no old bytes: either way every
    // view again, on a new database.
    const bool new_table = readable_.insert(table.name).second;
    const bool replaced = !new_table && options_.s3_metadata_cache && replaced_in_place(*partitions);
    if ((new_table || replaced) &&
        renew_database(new_table ? "a new table"
                                 : "a data file was replaced in place (until renewed, queries may read it as it was)")) {
      names.clear();
      in_place.clear();  // the renewed database has no copies
      all_applied = true;
      i = static_cast<std::size_t>(-1);  // from the first table (++i wraps to 0)
      continue;
    }
    if (new_table) {  // its folder is not readable: the next sync tries again
      readable_.erase(table.name);
      all_applied = false;
      continue;
    }
    if (Status s = link_table(table.name); !s.ok()) {
      log::error("cannot build the view of a table; queries see its previous version",
                 {{"table", table.name}, {"error", s.error().message}});
      all_applied = false;
      continue;
    }
    // With in-memory copies, a copy being read takes the new version in place (its
    // view, over the copy, stays as it is); else the view reads the files while
    // the warmer brings the copy up to this version.
    ResidentTables::Source source = ResidentTables::Source::files;
    if (resident_) {
      std::vector<DataFile> files;
      for (const auto& p : *partitions) files.insert(files.end(), p.files.begin(), p.files.end());
      std::optional<ResidentTables::Load> load;
      source = resident_->begin_update(*admin_, table, files, views_root_, load);
      if (load) {
        in_place.push_back({table, std::move(partitions).value(), std::move(*load)});
        continue;
      }
    }
    expose(table, *partitions, source);
  }
  if (!in_place.empty()) {
    std::vector<Status> ran(in_place.size());
    std::shared_ptr<duck::Database> db = current_database();
    for_each_at_once(in_place.size(), kSyncLoadsAtOnce, [&](std::size_t i) {
      if (options_.before_copy_load) options_.before_copy_load(in_place[i].table.name);
      auto conn = db->connect();  // the database's settings and S3 secret; a transaction of its own
      ran[i] = conn ? ResidentTables::run(**conn, in_place[i].load) : Status(std::move(conn).error());
    });
    for (std::size_t i = 0; i < in_place.size(); ++i)
      expose(in_place[i].table, in_place[i].partitions,
             resident_->finish_update(*admin_, std::move(in_place[i].load), ran[i]));
  }
  for (auto it = applied_.begin(); it != applied_.end();) {
    if (names.count(it->first)) {
      ++it;
      continue;
    }
    (void)admin_->execute("DROP VIEW IF EXISTS main." + duck::quote_identifier(it->first));
    (void)admin_->execute("DROP VIEW IF EXISTS " + qualified(it->first));
    if (resident_) resident_->forget(*admin_, it->first);
    it = applied_.erase(it);
  }
  if (gate_) gate_->set_tables(view_versions_locked());
  if (all_applied) synced_generation_.store(generation);
  if (resident_) {
    resident_held_.store(resident_->bytes(*admin_));
    warm_cv_.notify_one();
  }
  return {};
}

Status DuckDbEngine::pin(SqlSession& any, const PinnedTable& pinned, const TableInfo* current) {
  auto& session = static_cast<Session&>(any);  // made by session() of this engine
  std::vector<std::string> paths;
  for (const auto& key : pinned.keys) {
    std::string path = views_root_ + "/" + key;
    std::error_code ec;
    if (!options_.files.remote() && !std::filesystem::is_regular_file(path, ec))  // over s3://, DuckDB says so
      return make_error(Errc::conflict, "snapshot " + std::to_string(pinned.snapshot_id) + " of " + pinned.table +
                                            " names " + key + ", which is no longer readable here");
    paths.push_back(std::move(path));
  }
  std::map<std::string, std::string> typed;  // column -> type to expose
  if (current)
    for (const auto& c : current->columns) typed[c.name] = exposed_type(c.type);
  std::map<std::string, std::string> present;  // column -> type in the snapshot's files
  std::string from;
  if (!paths.empty()) {
    from = read_function_sql("parquet", paths, true);
    auto described = session.conn_->query("DESCRIBE SELECT * FROM " + from);  // reads every file's footer
    if (!described && options_.files.remote() && described.error().message.find("404") != std::string::npos)
      return make_error(Errc::conflict, "snapshot " + std::to_string(pinned.snapshot_id) + " of " + pinned.table +
                                            " names a file that is no longer in the store: " +
                                            scrub(described.error().message));
    if (!described) return make_error(described.error().code, scrub(described.error().message));
    for (idx_t row = 0; row < described->row_count(); ++row)
      if (auto name = described->text(0, row)) present[*name] = described->text(1, row).value_or("VARCHAR");
  }
  std::string select = "SELECT ";
  for (const auto& name : pinned.columns) {
    auto type = typed.count(name) ? typed[name] : present.count(name) ? present[name] : std::string("VARCHAR");
    select += "CAST(" + (present.count(name) ? duck::quote_identifier(name) : std::string("NULL")) + " AS " + type +
              ") AS " + duck::quote_identifier(name) + ", ";
  }
  select += paths.empty() ? "CAST(NULL AS VARCHAR) AS dt WHERE false" : "dt FROM " + from;
  return session.conn_->execute("CREATE OR REPLACE TEMP VIEW " + duck::quote_identifier(pinned.table) + " AS " + select);
}

Result<ResultSet> DuckDbEngine::Session::execute(const std::string& sql, std::size_t max_bytes, bool want_csv,
                                                 Dialect dialect) {
  auto conn = connection(dialect);
  if (!conn) return std::move(conn).error();
  auto result = execute_once(**conn, sql, max_bytes, want_csv);
  if (!result && result.error().message.find("the remote file has changed") != std::string::npos)
    result = execute_once(**conn, sql, max_bytes, want_csv);
  return result;
}

Result<duck::Connection*> DuckDbEngine::Session::connection(Dialect dialect) {
  if (dialect == Dialect::duckdb) return conn_.get();
  std::lock_guard lock(postgres_mutex_);
  if (!postgres_ && postgres_pool_)
    if (auto lease = postgres_pool_->try_take()) postgres_.emplace(std::move(*lease));
  if (!postgres_)
    return make_error(Errc::unavailable, "every connection of the query engine for PostgreSQL's rules is in use; retry");
  return &**postgres_;
}

void DuckDbEngine::Session::interrupt() noexcept {
  conn_->interrupt();
  std::lock_guard lock(postgres_mutex_);
  if (postgres_) (*postgres_)->interrupt();
}

Result<ResultSet> DuckDbEngine::Session::execute_once(duck::Connection& conn, const std::string& sql,
                                                      std::size_t max_bytes, bool want_csv) {
  auto prepared = conn.prepare_single(sql);
  if (!prepared) return make_error(prepared.error().code, prepared.error().code == Errc::invalid_argument &&
                                                              prepared.error().message.rfind("exactly one", 0) == 0
                                                          ? "refused by the engine: " + prepared.error().message
                                                          : prepared.error().message);
  duckdb_statement_type type = prepared->type();
  bool read_only = type == DUCKDB_STATEMENT_TYPE_SELECT || (type == DUCKDB_STATEMENT_TYPE_EXPLAIN && explains_a_query(sql));
  if (!read_only) return make_error(Errc::invalid_argument, "refused by the engine: only read-only statements are allowed");
  duckdb_result result;
  duckdb_state state = duckdb_execute_prepared_streaming(prepared->raw(), &result);
  if (state == DuckDBError) {
    Error e = engine_error(duckdb_result_error_type(&result),
                           duckdb_result_error(&result) ? duckdb_result_error(&result) : "query failed");
    duckdb_destroy_result(&result);
    return e;
  }
  duck::QueryResult owned(result);
  ResultSet out;
  idx_t columns = owned.column_count();
  for (idx_t c = 0; c < columns; ++c) {
    duckdb_logical_type t = duckdb_column_logical_type(owned.raw(), c);
    out.columns.push_back({owned.column_name(c), type_name(t)});
    const std::string unmapped = unmapped_type(t);
    duckdb_destroy_logical_type(&t);
    if (!unmapped.empty())
      return make_error(Errc::invalid_argument, "column " + out.columns.back().name + " is of type " + unmapped +
                                                    ", which query results do not carry: cast it, e.g. ::VARCHAR");
  }
  if (want_csv) {
    for (idx_t c = 0; c < columns; ++c) {
      if (c) out.csv += ',';
      append_csv_cell(out.csv, out.columns[c].name, false, true);
    }
    out.csv += '\n';
  }
  ChunkConverter converter;
  for (;;) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(*owned.raw());
    if (!chunk) break;
    // What the result holds: the rows' JSON, the CSV copy, and a string per row (9 M
    // one-value rows are 27 MB of JSON but 290 MB of std::string). Counted row by
    // row, not per chunk: a chunk of 2,048 rows of 1 MB each is 2 GB of JSON.
    const std::size_t held = out.bytes + out.csv.size() + out.rows.size() * sizeof(std::string);
    auto converted = converter.convert(chunk, out.rows, want_csv ? &out.csv : nullptr,
                                       max_bytes > held ? max_bytes - held : 0);
    out.bytes += converted.bytes;
    duckdb_destroy_data_chunk(&chunk);
    if (converted.over_budget) {
      conn.interrupt();
      return make_error(Errc::too_large, "the result is larger than " + std::to_string(max_bytes >> 20) +
                                             " MiB; aggregate or add a LIMIT");
    }
  }
  if (const char* e = duckdb_result_error(owned.raw()); e && *e)
    return engine_error(duckdb_result_error_type(owned.raw()), e);
  return out;
}

}  // namespace etl::cataloger
