// The embedded DuckDB behind the query endpoint: one in-memory database whose
// catalog tables are VIEWs over the files in place (Hive partitions, `dt` as
// VARCHAR, files of different schemas unioned by name), in the schema named
// after the catalog database (`spotify.songs_data`) and aliased in `main`.
// Locked down once at open: files are readable only through the engine's links
// to the table folders, or over s3:// only under the table folders' prefixes (so
// never `_query_results/`), memory and spill are capped, no extension is
// installed or loaded but httpfs by path for s3://, and the configuration is
// locked, so a statement that got past the SQL guard still cannot read
// /etc/passwd, another prefix of the bucket, or SET.
// One Session (connection) per in-flight query; views are recreated (connection
// safely: DuckDB's catalog is transactional) when the catalog's generation moves.
// With the S3 metadata cache (DuckDbEngineOptions::s3_metadata_cache), a data
// file the views named before and now name with another size or ETag (replaced
// in place) renews the database: what DuckDB kept of the old bytes goes with the
// old one, which lives on until the last session made on it is dropped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "etl/catalog.h"
#include "etl/duck.h"
#include "etl/duck_s3.h"
#include "pinned_table.h"
#include "resident_tables.h"
#include "sql_engine.h"
#include "sql_gate.h"

namespace etl::cataloger {

struct DuckDbEngineOptions {
  // Where the tables are: a local folder, or s3:// read in place (httpfs).
  duck::TableFiles files;
  std::string database = "spotify";  // schema the views live in (Config::glue_database)
  int threads = 2;                   // DuckDB worker threads, shared by all connections
  std::string memory_limit;          // DuckDB memory_limit ("512MiB"); "" = DuckDB's default (80% of RAM)
  // The engine's own folder goes under here (engine-<pid>.<start>-XXXXXX: spill files and
  // the links to the table folders, the only files DuckDB may open; those of dead
  // processes are removed when an engine opens); "" = the system temp folder.
  std::filesystem::path data_dir;
  std::uint64_t max_temp_bytes = 0;  // DuckDB max_temp_directory_size; 0 = DuckDB's default
  // The table folders DuckDB may read from the start (allowed_directories, one per
  // table, never their parent: `<table>/..` would reach `_query_results/`). A table
  // that appears later gets its folder on a renewed database (sync_views).
  std::vector<std::string> tables{"albums_data", "artists_data", "songs_data"};
  // Over s3://: keep every data file's size, ETag and time once read (httpfs's
  // enable_http_metadata_cache), so later queries skip a HEAD per file and read
  // blocks still in memory without a request. A file replaced in place is seen
  // when the catalog names it with another size or ETag (the database is then
  // renewed); until then it reads as it was. ETL_QUERY_S3_METADATA_CACHE.
  bool s3_metadata_cache = false;
  // Connections made for Dialect::postgres (`SET integer_division`, which the locked
  // configuration refuses later): at most this many sessions run PostgreSQL-dialect
  // statements at once, each keeping one from its first such statement on. The
  // query workers' count is enough (pinned sessions never take one).
  int postgres_connections = 4;
  // Tables kept in memory as compressed copies, up to this many bytes together
  // (resident_tables.h); 0: every query reads the files. ETL_QUERY_RESIDENT_BYTES.
  std::uint64_t resident_bytes = 0;
  // false: no SQL gate (and no parser database for it) is built, as statements are
  // checked before they reach this engine: the query engine process's, whose
  // cataloger runs the gate. check() then refuses every statement.
  bool sql_gate = true;
  // Test hook: called on the loading thread before a view sync loads a table's
  // new version into its in-memory copy (the loads of several tables run at once).
  std::function<void(const std::string& table)> before_copy_load = nullptr;
};

// The SELECT a table's view runs, from its catalog entry and files (pure; tested).
std::string view_select_sql(const TableInfo& table, const std::vector<PartitionInfo>& partitions,
                            const std::string& root);

// `message` without any of `folders` (each ending in '/'): what reaches clients
// names files relative to them, never a host path.
std::string without_folders(std::string message, std::initializer_list<std::string> folders);

// The SQL gate with its own parser database, which reads no file.
Result<std::unique_ptr<SqlGate>> open_sql_gate(const std::string& database, VerdictCacheLimits verdicts);

class DuckDbEngine final : public SqlEngine {
 public:
  // `verdicts`: how many of the SQL gate's verdicts are remembered (max_entries 0: none).
  static Result<std::unique_ptr<DuckDbEngine>> open(DuckDbEngineOptions options, VerdictCacheLimits verdicts = {});
  ~DuckDbEngine() override;

  class Session final : public SqlSession {
   public:
    explicit Session(std::unique_ptr<duck::Connection> conn, std::shared_ptr<duck::Database> db = nullptr,
                     std::uint64_t epoch = 0, std::shared_ptr<duck::ConnectionPool> postgres = nullptr)
        : db_(std::move(db)), conn_(std::move(conn)), postgres_pool_(std::move(postgres)), epoch_(epoch) {}
    // Runs one read-only statement: DuckDB's parser extracts it (exactly one), it is
    // prepared and its type checked (SELECT or EXPLAIN of a query) before it runs.
    // too_large when the rows pass `max_bytes`.
    // Run again once when DuckDB reports that a file changed under it (an ETag that
    // differs from the one it had): httpfs forgets the stale entry as it reports it.
    // Dialect::postgres runs on a connection of the database's postgres pool, kept
    // from then on (unavailable when none is free); it has no pinned views.
    Result<ResultSet> execute(const std::string& sql, std::size_t max_bytes, bool want_csv, Dialect dialect) override;
    // Stops the statement running on this session (from another thread).
    void interrupt() noexcept override;
    // The database generation it was made on (DuckDbEngine::epoch).
    std::uint64_t epoch() const noexcept override { return epoch_; }

   private:
    friend class DuckDbEngine;  // pin() defines the session's own views
    Result<ResultSet> execute_once(duck::Connection& conn, const std::string& sql, std::size_t max_bytes, bool want_csv);
    Result<duck::Connection*> connection(Dialect dialect);
    std::shared_ptr<duck::Database> db_;  // kept open while this session lives (declared first: closed last)
    std::unique_ptr<duck::Connection> conn_;
    std::shared_ptr<duck::ConnectionPool> postgres_pool_;  // outlives the lease below
    std::mutex postgres_mutex_;                            // the lease, for interrupt() on another thread
    std::optional<duck::ConnectionPool::Lease> postgres_;
    std::uint64_t epoch_ = 0;
  };

  Result<std::unique_ptr<SqlSession>> session() override;
  // Moves when the database is renewed: a session of an older epoch reads the old
  // database (its views and caches); make a new one after sync_views.
  std::uint64_t epoch() const noexcept override { return epoch_.load(); }
  // Over s3://: replaces the database's S3 secret (every session's) when the
  // credentials chain hands out new credentials; cheap when it does not. Before
  // each query: sessions live long, credentials do not.
  Status refresh_credentials() override;
  // Time travel: in `session` only, the unqualified table name reads `pinned`'s
  // files (a TEMP view that shadows the shared one; `spotify.<table>` still reads
  // the current data, so callers refuse qualified names). Columns are the
  // snapshot schema's, typed as `current` types them (else as the files do),
  // NULL where no file of the snapshot has them. conflict when a file of the
  // snapshot is no longer readable here (deleted since, or not in the s3:// copy).
  Status pin(SqlSession& session, const PinnedTable& pinned, const TableInfo* current) override;
  // The gate every statement passes before it is queued (sql_gate.h).
  // `reads` (optional) gets the tables it names (check_syntax_tree).
  Status check(const std::string& sql, std::set<std::string>* reads = nullptr) override;
  // `message` without the engine's folders (errors go to clients).
  std::string scrub(std::string message) const override;

  // Brings the views up to the catalog (cheap when its generation did not move).
  // A view that cannot be built keeps its previous definition and is retried.
  Status sync_views(Catalog& catalog) override;
  // The catalog generation every view was last brought up to (sync_views).
  std::uint64_t synced_generation() const noexcept { return synced_generation_.load(); }
  // The data_version of each table as its view reads it now (lower-cased names).
  std::map<std::string, std::int64_t> view_versions() override;
  // The engine answers (SELECT 1).
  Status ping() override;
  // Each table's in-memory copy (empty without ETL_QUERY_RESIDENT_BYTES), and the
  // bytes they held after the last change (DuckDB's in-memory table bytes).
  std::map<std::string, ResidentTables::TableReport> resident_report();
  std::uint64_t resident_bytes() const noexcept override { return resident_held_.load(); }
  // The engine's own folder (spill files, table links), removed when it closes.
  const std::filesystem::path& folder() const noexcept { return engine_dir_; }

 private:
  DuckDbEngine() = default;
  Status make_folders();
  // A new database (db_, admin_) with the lock-down settings; spill under spill_dir_/<epoch>.
  Status open_database();
  // open_database() again, under a new epoch (sessions of the old one end with
  // their queries); the views are then built again from the first table. Under
  // mutex_; takes db_mutex_.
  bool renew_database(const char* why);
  // db_ (and, when asked, its epoch and postgres pool) under db_mutex_: never waits for mutex_.
  std::shared_ptr<duck::Database> current_database(std::uint64_t* epoch = nullptr,
                                                   std::shared_ptr<duck::ConnectionPool>* postgres = nullptr);
  // The folder of `table` as allowed_directories names it (with a slash at its end).
  std::string table_folder(const std::string& table) const;
  Status link_table(const std::string& table);
  // Whether `table`'s files name a file the views named before with another size
  // or ETag; records them. Under mutex_.
  bool replaced_in_place(const std::vector<PartitionInfo>& partitions);
  // The warmer thread: builds the tables' copies a bounded step at a time, each
  // under mutex_, and points a view at its copy once complete.
  void warm_loop();
  std::string qualified(const std::string& table) const;
  // view_versions() under mutex_.
  std::map<std::string, std::int64_t> view_versions_locked() const;

  DuckDbEngineOptions options_;
  std::shared_ptr<duck::Database> db_;       // under mutex_ and db_mutex_ to change, either to read
  std::shared_ptr<duck::ConnectionPool> postgres_pool_;  // db_'s Dialect::postgres connections; with db_
  std::unique_ptr<duck::Connection> admin_;  // views and table copies, under mutex_
  std::mutex mutex_;
  // db_ and epoch_ as one pair, held only to read or swap them: new sessions and
  // pings do not wait for mutex_. Taken after mutex_ (renew_database).
  std::mutex db_mutex_;
  std::atomic<std::uint64_t> epoch_{0};
  std::map<std::string, std::string> exposed_;  // s3 key -> "size etag" the views named, since db_ opened
  std::atomic<std::uint64_t> synced_generation_{0};
  std::map<std::string, std::int64_t> applied_;  // table -> data_version of its view
  std::set<std::string> readable_;               // tables whose folders db_ may read (allowed_directories)
  std::filesystem::path engine_dir_;  // private to this engine, removed at close
  std::filesystem::path tables_dir_;  // engine_dir_/tables/<table> -> root/<table>: what views read (local folders)
  std::string views_root_;            // what views name files under: tables_dir_, or the s3:// root
  std::filesystem::path spill_dir_;   // engine_dir_/spill: a folder per database (epoch)
  std::unique_ptr<SqlGate> gate_;
  std::unique_ptr<ResidentTables> resident_;  // null without resident_bytes; under mutex_
  std::condition_variable warm_cv_;           // with mutex_: work for the warmer, or stopping_
  bool stopping_ = false;
  std::atomic<std::uint64_t> resident_held_{0};
  std::thread warmer_;
};

}  // namespace etl::cataloger
