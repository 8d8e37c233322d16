// ETL_QUERY_ISOLATION=process: the embedded DuckDB runs in a child process of
// the cataloger (the same program, started with kEngineHostArgument), under a
// data-size limit of its own (RLIMIT_DATA, ETL_QUERY_PROCESS_MEMORY). DuckDB's
// memory_limit bounds its buffer manager, not a value one function builds in one
// call (`repeat`, `range(...)` as a list): in the child such a value fails that
// query with "Out of Memory" (503) instead of growing the cataloger until the
// kernel or the container kills it. A query that does not stop when interrupted
// (one long call DuckDB cannot interrupt) gets the child killed
// (QueryManagerOptions::kill_grace); a child that dies is started again on the
// next query, and the queries that were running in it run once more there
// (QueryManager::run). The gate, query records, results and the catalog stay in
// the cataloger; the child only runs statements.
//
// The child's protocol (engine_wire.h), over two socket pairs made at start:
// control (one request, one reply: open, catalog/sync, session, ping) and
// interrupt (8-byte session ids, no reply). Each session is a socket pair of its
// own, passed to the child over control (SCM_RIGHTS): execute and pin requests.
// The child dies with the cataloger (PR_SET_PDEATHSIG) and exits when control
// closes.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "duckdb_engine.h"
#include "engine_wire.h"
#include "etl/metrics.h"
#include "sql_engine.h"
#include "sql_gate.h"

namespace etl::cataloger {

inline constexpr const char* kEngineHostArgument = "__query-engine-host";

// Called first in main() of a program that runs the cataloger: when argv asks for
// the query engine process, runs it and returns its exit code; otherwise records
// that this program can be started as one (query_engine_host_program) and
// returns nullopt.
std::optional<int> run_query_engine_host_if_asked(int argc, char** argv);
// The program to start as the query engine process ("" when main() did not call
// the above: a test binary; the engine then runs in-process).
std::filesystem::path query_engine_host_program();

struct EngineProcessOptions {
  DuckDbEngineOptions engine;       // what the child opens (its files: root() and remote())
  std::uint64_t memory_cap = 0;     // the child's RLIMIT_DATA in bytes; 0: none
  std::filesystem::path program;    // started with kEngineHostArgument
  std::string log_level = "info";   // the child logs as the cataloger does
  std::string log_format = "json";
  // The longest a request may wait for the child's reply before the child is
  // taken for stuck and killed (and started again on the next use). A query
  // waiting on a stuck child gets it killed sooner, at its own timeout plus the
  // kill grace (QueryManager, SqlEngine::kill). ETL_QUERY_PROCESS_*_TIMEOUT_MS.
  std::chrono::milliseconds start_timeout{120000};  // starting it: its DuckDB and extensions
  std::chrono::milliseconds sync_timeout{30000};    // a view sync: views, and table copies up to the sync load
  std::chrono::milliseconds reply_timeout{10000};   // a ping or a new session: answered at once, never behind a sync
};

// How long one control request waits for the child's reply, and what sets that
// wait (named in the log when the child is killed for passing it).
struct EngineWait {
  std::chrono::milliseconds time;
  const char* set_by;  // a setting, or the caller's own deadline
};

class EngineProcess final : public SqlEngine {
 public:
  // Starts the child (and fails when it cannot open its engine).
  static Result<std::unique_ptr<EngineProcess>> open(EngineProcessOptions options, VerdictCacheLimits verdicts,
                                                     MetricsRegistry& metrics);
  ~EngineProcess() override;

  Result<std::unique_ptr<SqlSession>> session() override;
  std::uint64_t epoch() const noexcept override;
  Status refresh_credentials() override { return {}; }  // the child does, before each statement
  Status pin(SqlSession& session, const PinnedTable& pinned, const TableInfo* current) override;
  Status check(const std::string& sql, std::set<std::string>* reads = nullptr) override;
  std::string scrub(std::string message) const override;
  Status sync_views(Catalog& catalog) override;
  Status sync_views_within(Catalog& catalog, std::chrono::milliseconds wait) override;
  std::map<std::string, std::int64_t> view_versions() override;
  Status ping() override;
  std::uint64_t resident_bytes() const noexcept override { return resident_bytes_.load(); }
  bool kill() noexcept override;

  // The child's process id (0 when none runs); for tests and logs.
  pid_t child_pid() const;
  // How many children were started.
  std::uint64_t starts() const noexcept { return starts_.load(); }

  struct Host;  // one child process (engine_process.cpp)

 private:
  class RemoteSession;
  // The thread every child is started from. A child's PR_SET_PDEATHSIG fires
  // when the thread that started it ends, not the process: a query worker or a
  // connection's thread may end while the cataloger goes on.
  class Spawner {
   public:
    Spawner();
    ~Spawner();
    // Runs `task` on the spawner's thread and returns when it is done.
    void run(const std::function<void()>& task);

   private:
    std::mutex callers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    const std::function<void()>* task_ = nullptr;
    bool done_ = false;
    bool stopping_ = false;
    std::thread thread_;
  };

  EngineProcess(EngineProcessOptions options, MetricsRegistry& metrics)
      : options_(std::move(options)), metrics_(metrics) {}
  // The running child, started first when there is none or it died. Under mutex_.
  Result<std::shared_ptr<Host>> live_host_locked();
  Result<std::shared_ptr<Host>> live_host();
  Result<std::unique_ptr<SqlSession>> session_once();
  Status sync_views_once(Catalog& catalog, EngineWait wait);
  // Brings `host`'s views up to `catalog` (one request, none when nothing moved).
  Status sync_host(Host& host, Catalog& catalog, EngineWait wait);
  EngineWait sync_wait() const { return {options_.sync_timeout, "ETL_QUERY_PROCESS_SYNC_TIMEOUT_MS"}; }
  EngineWait reply_wait() const { return {options_.reply_timeout, "ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS"}; }
  Result<std::shared_ptr<Host>> start_host();
  // One control request and its reply within `timeout`; a failure takes the
  // child for dead (and kills it).
  Result<engine_wire::Message> control(Host& host, const engine_wire::Message& request, EngineWait wait);
  // The same, passing `fd` (a session's socket) with the request.
  Result<engine_wire::Message> control_with_fd(Host& host, const engine_wire::Message& request, int fd,
                                               EngineWait wait);

  Spawner spawner_;  // first: it ends last, after the child was stopped
  EngineProcessOptions options_;
  MetricsRegistry& metrics_;
  std::unique_ptr<SqlGate> gate_;
  mutable std::mutex mutex_;    // host_, and one start at a time
  std::shared_ptr<Host> host_;  // the current child (maybe dead, until the next use)
  // The child started last, from its spawn on (host_ only once it answered):
  // what kill() stops, without waiting for mutex_, which a start holds.
  std::mutex latest_mutex_;
  std::shared_ptr<Host> latest_;
  std::atomic<std::uint64_t> starts_{0};
  std::atomic<std::uint64_t> resident_bytes_{0};
  std::chrono::steady_clock::time_point last_start_{};
  // The catalog sync_views last read: a child started later gets its views from
  // it before a session (the query manager owns it and outlives this engine).
  std::atomic<Catalog*> catalog_{nullptr};
  std::mutex versions_mutex_;
  std::map<std::string, std::int64_t> versions_;  // from the child's last sync reply (their names: the gate's tables)
};

}  // namespace etl::cataloger
