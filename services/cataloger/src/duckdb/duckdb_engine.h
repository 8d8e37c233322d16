// The embedded DuckDB behind the query endpoint: one in-memory database whose
// catalog tables are VIEWs over the files in place (Hive partitions, `dt` as
// VARCHAR, files of different schemas unioned by name), in the schema named
// after the catalog database (`spotify.songs_data`) and aliased in `main`.
// Locked down once at open: files are readable only under the transformed root,
// no extension is installed or loaded, and the configuration is locked, so a
// statement that got past the SQL guard still cannot read /etc/passwd or SET.
// One Session (connection) per in-flight query; views are recreated (connection
// safely: DuckDB's catalog is transactional) when the catalog's generation moves.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "etl/catalog.h"
#include "etl/duck.h"

namespace etl::cataloger {

struct DuckDbEngineOptions {
  std::filesystem::path root;        // the transformed store's local folder: the only files readable
  std::string database = "spotify";  // schema the views live in (Config::glue_database)
  int threads = 2;                   // DuckDB worker threads, shared by all connections
  std::string memory_limit;          // "" = DuckDB's default (80% of RAM)
};

// A whole result: column names and types, one JSON array text per row, and the
// CSV (header included) when asked for.
struct ResultSet {
  std::vector<ColumnInfo> columns;
  std::vector<std::string> rows;
  std::string csv;
  std::size_t bytes = 0;  // of `rows`
};

// The SELECT a table's view runs, from its catalog entry and files (pure; tested).
std::string view_select_sql(const TableInfo& table, const std::vector<PartitionInfo>& partitions,
                            const std::filesystem::path& root);

class DuckDbEngine final {
 public:
  static Result<std::unique_ptr<DuckDbEngine>> open(DuckDbEngineOptions options);
  ~DuckDbEngine();
  DuckDbEngine(const DuckDbEngine&) = delete;
  DuckDbEngine& operator=(const DuckDbEngine&) = delete;

  class Session final {
   public:
    explicit Session(std::unique_ptr<duck::Connection> conn) : conn_(std::move(conn)) {}
    // Runs one read-only statement (checked again here: one statement, of type
    // SELECT or EXPLAIN). too_large when the rows pass `max_bytes`.
    Result<ResultSet> execute(const std::string& sql, std::size_t max_bytes, bool want_csv);
    // Stops the statement running on this session (from another thread).
    void interrupt() noexcept { conn_->interrupt(); }

   private:
    std::unique_ptr<duck::Connection> conn_;
  };

  Result<std::unique_ptr<Session>> session();

  // Brings the views up to the catalog (cheap when its generation did not move).
  // A view that cannot be built keeps its previous definition and is retried.
  Status sync_views(Catalog& catalog);
  // The data_version of each table as its view reads it now (lower-cased names).
  std::map<std::string, std::int64_t> view_versions();
  // The engine answers (SELECT 1).
  Status ping();

 private:
  DuckDbEngine() = default;
  Status lock_down();

  DuckDbEngineOptions options_;
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> admin_;  // views and ping, under mutex_
  std::mutex mutex_;
  std::atomic<std::uint64_t> synced_generation_{0};
  std::map<std::string, std::int64_t> applied_;  // table -> data_version of its view
  std::filesystem::path temp_dir_;               // spill folder, private to this engine
};

}  // namespace etl::cataloger
