// Tables kept in the query engine's memory (ETL_QUERY_RESIDENT_BYTES).
//
// Reading a year of daily Parquet files costs every query the same footers,
// decompression and string decoding again (and over s3:// a request per file).
// A resident table is a copy of a catalog table's rows in a compressed in-memory
// DuckDB catalog (`resident`, attached with COMPRESS: dictionary and FSST
// strings, about the size of the Parquet files), each row tagged with the number
// of the data file it came from. The copy is kept in step with the catalog file
// by file: a new version takes the rows of the files it removed out and those of
// the files it added in, in one transaction, so a query sees the copy of one
// catalog version or of the next, never a mix.
//
// A table's view reads its files until its copy is complete (built a bounded step
// at a time by warm(), off the query path); then one view swap moves it to the
// copy. A change too large to take in one transaction (a bulk load, a schema
// change) moves the view back to the files while the copy catches up. A copy that
// would pass the byte budget (estimated at twice its files' bytes before loading,
// then as DuckDB counts it), or whose load reaches DuckDB's memory_limit, is
// dropped and its table read from its files from then on (logged); a file that
// cannot be read is retried after a pause.
//
// Not thread-safe: the engine calls it under its own mutex, with the connection
// that also replaces the views (DuckDbEngine::admin_); only run() of loads, on
// connections of their own, may be called from several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "etl/catalog.h"
#include "etl/duck.h"

namespace etl::cataloger {

struct ResidentOptions {
  std::uint64_t max_bytes = 0;  // budget for every copy together (DuckDB's in-memory table bytes); 0: off
  // A new version of a table read from its copy is taken in place while its new
  // files hold at most this many bytes (and kMaxSyncFiles files); a larger change
  // sends the view back to the files until warm() has caught up.
  std::uint64_t sync_load_bytes = 16ull << 20;
  // How long one warm() step may go on loading, a transaction at a time, before
  // it returns (it holds the engine's mutex, which starting queries wait for).
  std::chrono::milliseconds step{100};
  // After a file could not be read: how long before the copy is tried again.
  std::chrono::milliseconds retry_after{30000};
};

// The hidden column of a copy: the number of the data file a row came from.
inline constexpr const char* kResidentFileColumn = "__etl_file";

// The name the engine attaches the copies' catalog under.
inline constexpr const char* kResidentCatalog = "resident";

class ResidentTables final {
 public:
  explicit ResidentTables(ResidentOptions options) : options_(options) {}

  // What a table's view must read after update().
  enum class Source { files, copy };

  // The catalog's version `table` with `files` (every data file, store-relative
  // keys under `root`). A table read from its copy takes the change in place
  // (Source::copy: its view stays as it is); otherwise its view must read its
  // files (Source::files) while warm() builds the copy.
  Source update(duck::Connection& conn, const TableInfo& table, const std::vector<DataFile>& files,
                const std::string& root);

  // update() in three steps, so that the in-place changes of several tables load
  // side by side (against S3 each is a new connection, a HEAD and a GET per file):
  // begin_update() decides as update() does, and for a change taken in place
  // returns its load in `load` instead of running it (Source::copy, provisional);
  // run() the loads, each on a connection of its own to the same database, from
  // any thread; then finish_update() each (in any order), which says what the
  // view must read. Loads begun and not finished count against the byte budget at
  // their estimate. Nothing else may touch the copies between begin and finish.
  struct Load {
    std::string table;
    std::vector<std::string> statements;  // one transaction
    std::vector<std::string> gone;
    std::vector<DataFile> add;
    std::vector<std::int64_t> ids;  // the file numbers of `add`
    std::uint64_t gone_bytes = 0;
    std::uint64_t reserved = 0;     // its estimate, held against the budget until finished
    std::vector<DataFile> files;    // the catalog version it brings the copy to
  };
  Source begin_update(duck::Connection& conn, const TableInfo& table, const std::vector<DataFile>& files,
                      const std::string& root, std::optional<Load>& load);
  static Status run(duck::Connection& conn, const Load& load);
  Source finish_update(duck::Connection& conn, Load load, const Status& ran);
  // The engine's view of `table` now reads its files (after Source::files): from
  // here on warm() may change the copy, which no view reads.
  void reading_files(const std::string& table);
  // The table left the catalog: its copy goes.
  void forget(duck::Connection& conn, const std::string& table);

  struct Step {
    std::optional<std::string> ready;  // a table whose copy is complete: point its view at copy_select()
    bool more = false;                 // work is left (call again)
    std::optional<std::chrono::steady_clock::time_point> retry_at;  // none left now, but a retry then
  };
  // One bounded step of building copies (at most options_.step of loading).
  Step warm(duck::Connection& conn, const std::string& root);
  // The view now reads the copy of `table` (after Step::ready and a view swap).
  void serving(const std::string& table);
  // The view swap failed: the table stays on its files.
  void give_up(duck::Connection& conn, const std::string& table, const std::string& why);

  // The SELECT a view over the copy runs (the catalog's columns and `dt`, no file numbers).
  std::string copy_select(const std::string& table) const;
  // The database was renewed: every copy went with it.
  void clear() {
    tables_.clear();
    deleted_bytes_ = loaded_bytes_ = reserved_bytes_ = 0;
  }

  struct TableReport {
    std::string mode;  // warming | serving | evicted
    std::size_t files = 0;        // files whose rows the copy holds
    std::size_t wanted = 0;       // files of the catalog version being built or served
  };
  std::map<std::string, TableReport> report() const;
  // DuckDB's in-memory table bytes now (every copy).
  std::uint64_t bytes(duck::Connection& conn) const;

 private:
  enum class Mode { warming, serving, evicted };
  struct Loaded {
    std::int64_t id = 0;
    std::string identity;  // size and ETag: a file rewritten in place is loaded again
    std::uint64_t size = 0;
  };
  struct Table {
    Mode mode = Mode::warming;
    bool view_on_files = false;     // warm() may touch the copy only then
    bool created = false;           // the copy's table exists
    bool stale = false;             // the copy is to be dropped once no view reads it
    TableInfo info;                 // the catalog's columns the copy was made with
    std::string signature;          // of info.columns: another one means a new copy
    std::vector<DataFile> wanted;   // the files of the catalog version the view reads
    std::map<std::string, Loaded> loaded;  // key -> what the copy holds of it
    std::int64_t next_id = 1;
    std::optional<std::chrono::steady_clock::time_point> retry_at;
  };

  // Deletes `gone` and inserts `add` in one transaction; the map follows on success.
  Status apply(duck::Connection& conn, Table& t, const std::string& name, const std::vector<std::string>& gone,
               const std::vector<DataFile>& add, const std::string& root);
  // apply() in parts: the transaction's statements, then (after run() succeeded) the map.
  Load prepare(Table& t, const std::string& name, const std::vector<std::string>& gone,
               const std::vector<DataFile>& add, const std::string& root);
  void taken(duck::Connection& conn, Table& t, const Load& load);
  // The view reads the files while warm() builds the copy (again) up to `files`.
  Source warming(Table& t, const TableInfo& table, const std::vector<DataFile>& files, const std::string& signature);
  // The table is read from its files from now on; its copy is dropped once its view does (warm()).
  void evict(Table& t, const std::string& name, const std::string& why);
  // evict(), when the view already reads the files: the copy goes at once.
  void evict_now(duck::Connection& conn, Table& t, const std::string& name, const std::string& why);
  // What `files` has that the copy lacks (new, or rewritten: other size or ETag),
  // and the keys of what it holds that `files` no longer has as it was.
  struct Change {
    std::vector<std::string> gone;
    std::vector<DataFile> add;
    std::uint64_t add_bytes = 0;
  };
  static Change change_to(const Table& t, const std::vector<DataFile>& files);
  void drop(duck::Connection& conn, Table& t, const std::string& name);
  std::string qualified(const std::string& table) const;

  ResidentOptions options_;
  std::map<std::string, Table> tables_;
  std::uint64_t deleted_bytes_ = 0;  // file bytes of rows deleted since the last CHECKPOINT
  std::uint64_t loaded_bytes_ = 0;   // file bytes the copies hold
  std::uint64_t reserved_bytes_ = 0; // estimates of loads begun and not finished
};

// The columns of a table as a copy keys them: names and exposed types (pure; tested).
std::string resident_signature(const TableInfo& table);

}  // namespace etl::cataloger
