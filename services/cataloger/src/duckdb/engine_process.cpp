#include "engine_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "etl/log.h"

extern char** environ;

namespace etl::cataloger {

namespace wire = engine_wire;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// `killed_for`: why the cataloger sent SIGKILL itself (nullptr: it did not).
std::string describe_end(int status, const char* killed_for) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGKILL && killed_for) return std::string("killed by the cataloger (SIGKILL): ") + killed_for;
    std::string out = "killed by signal " + std::to_string(sig);
    if (sig == SIGKILL) out += ", SIGKILL: the kernel's or the container's memory limit, or another process";
    else if (sig == SIGABRT) out += ", SIGABRT: an allocation past ETL_QUERY_PROCESS_MEMORY it could not recover from";
    return out;
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended";
}

// A child may die between the check that it lives and a request to it (killed,
// or out of memory): `request` is made once more, on the child started after it.
template <class Request>
auto on_a_live_child(Request request) {
  auto result = request();
  if (!result.ok() && result.error().code == Errc::unavailable) result = request();
  return result;
}

Error errno_error(const char* what) { return make_error(Errc::unavailable, std::string(what) + ": " + std::strerror(errno)); }

}  // namespace

// One child process. Its descriptors are the cataloger's ends of the socket pairs.
struct EngineProcess::Host {
  pid_t pid = 0;
  int control = -1;
  int interrupts = -1;
  std::uint64_t number = 0;  // the how-many-th child
  std::atomic<bool> dead{false};
  std::atomic<std::uint64_t> epoch{0};  // the child's database epoch (DuckDbEngine::epoch)
  std::mutex control_mutex;             // one control request at a time
  // What the child's copy of the catalog holds (sync_views), under sync_mutex.
  std::mutex sync_mutex;
  std::atomic<bool> has_catalog{false};  // a "catalog" message reached it
  bool synced = false;   // the child holds every table's partitions of `generation`
  bool current = false;  // ... and every view reads them (nothing to retry)
  std::uint64_t generation = 0;
  std::map<std::string, std::int64_t> sent_versions;  // table -> data_version of the partitions it holds

  // pid stays 0 when the spawn failed: then there is nothing to kill or reap, and
  // kill(0) or waitpid(0) would reach the cataloger's own process group.
  ~Host() {
    if (pid > 0) end(std::chrono::milliseconds(0));
    if (control >= 0) ::close(control);
    if (interrupts >= 0) ::close(interrupts);
  }
  // Stops it at once (SIGKILL); its sessions' requests fail. `why` (a literal)
  // is how its end is told, unless it had already ended by itself.
  void kill(const char* why = nullptr) noexcept {
    std::lock_guard lock(end_mutex_);
    dead = true;
    if (reaped_ || pid <= 0 || reap_if_ended()) return;  // ended: by itself, or by an earlier kill of ours
    ::kill(pid, SIGKILL);
    if (!killed_for_) killed_for_ = why;
  }
  // Waits up to `grace` for it to exit (after control closed), then kills it;
  // reaps it once and says how it ended.
  std::string end(std::chrono::milliseconds grace) {
    std::lock_guard lock(end_mutex_);
    dead = true;
    if (reaped_) return how_;
    if (pid <= 0) return "not started";
    int status = 0;
    auto until = Clock::now() + grace;
    pid_t got = 0;
    while ((got = ::waitpid(pid, &status, WNOHANG)) == 0 && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (got == 0) {
      ::kill(pid, SIGKILL);
      while ((got = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
      }
    }
    reaped_ = true;
    how_ = got == pid ? describe_end(status, killed_for_) : "ended";
    return how_;
  }
  // Whether it has ended by itself (reaped then); cheap.
  bool ended() {
    std::lock_guard lock(end_mutex_);
    if (reaped_ || pid <= 0) return true;
    if (!reap_if_ended()) return false;
    dead = true;
    return true;
  }
  void close_control() {
    std::lock_guard lock(control_mutex);
    if (control >= 0) ::shutdown(control, SHUT_RDWR);
  }

 private:
  // With end_mutex_ held: reaps it if it has ended (no wait), and tells how.
  bool reap_if_ended() {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != pid) return false;
    reaped_ = true;
    how_ = describe_end(status, killed_for_);
    return true;
  }
  std::mutex end_mutex_;
  bool reaped_ = false;
  std::string how_;
  const char* killed_for_ = nullptr;
};

class EngineProcess::RemoteSession final : public SqlSession {
 public:
  RemoteSession(EngineProcess& engine, std::shared_ptr<Host> host, int fd, std::uint64_t id, std::uint64_t epoch)
      : engine_(engine), host_(std::move(host)), fd_(fd), id_(id), epoch_(epoch) {}
  ~RemoteSession() override { ::close(fd_); }

  Result<ResultSet> execute(const std::string& sql, std::size_t max_bytes, bool want_csv, Dialect dialect) override {
    auto reply = roundtrip({{{"type", "execute"},
                             {"sql", sql},
                             {"max_bytes", max_bytes},
                             {"want_csv", want_csv},
                             {"dialect", dialect == Dialect::postgres ? "postgres" : "duckdb"}},
                            {}});
    if (!reply) return std::move(reply).error();
    engine_.resident_bytes_.store(wire::field(reply->header, "resident_bytes", std::uint64_t{0}));
    return wire::result_from_message(std::move(reply).value());
  }
  // The interrupt socket takes 8 bytes at once or not at all; a full socket (the
  // child stopped reading) drops it, and the watchdog sends it again.
  void interrupt() noexcept override {
    (void)::send(host_->interrupts, &id_, sizeof id_, MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  bool kill() noexcept override {
    host_->kill("a query did not stop within ETL_QUERY_KILL_GRACE_MS of its interrupt");
    return true;
  }
  bool lost() const noexcept override { return lost_.load(); }
  std::uint64_t epoch() const noexcept override { return epoch_; }

  // One request on this session and its reply; a failure means the child is gone.
  Result<wire::Message> roundtrip(const wire::Message& request) {
    if (host_->dead) return stopped();
    Status sent = wire::write_message(fd_, request);
    auto reply = sent.ok() ? wire::read_message(fd_) : Result<wire::Message>(sent.error());
    if (!reply) return stopped();
    return reply;
  }

 private:
  Error stopped() {
    lost_ = true;
    host_->kill();
    return make_error(Errc::unavailable, "the query engine process stopped (" +
                                             host_->end(std::chrono::milliseconds(0)) + "); retry the query");
  }

  EngineProcess& engine_;
  std::shared_ptr<Host> host_;
  int fd_;
  std::uint64_t id_;
  std::uint64_t epoch_;
  std::atomic<bool> lost_{false};
};

EngineProcess::Spawner::Spawner()
    : thread_([this] {
        std::unique_lock lock(mutex_);
        for (;;) {
          cv_.wait(lock, [&] { return stopping_ || (task_ && !done_); });
          if (stopping_) return;
          (*task_)();
          done_ = true;
          cv_.notify_all();
        }
      }) {}

EngineProcess::Spawner::~Spawner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void EngineProcess::Spawner::run(const std::function<void()>& task) {
  std::lock_guard caller(callers_);  // one task at a time
  std::unique_lock lock(mutex_);
  task_ = &task;
  done_ = false;
  cv_.notify_all();
  cv_.wait(lock, [&] { return done_; });
  task_ = nullptr;
}

Result<std::unique_ptr<EngineProcess>> EngineProcess::open(EngineProcessOptions options, VerdictCacheLimits verdicts,
                                                           MetricsRegistry& metrics) {
  if (options.program.empty()) return make_error(Errc::internal, "no program to start the query engine process with");
  std::unique_ptr<EngineProcess> engine(new EngineProcess(std::move(options), metrics));
  auto gate = open_sql_gate(engine->options_.engine.database, verdicts);
  if (!gate) return std::move(gate).error();
  engine->gate_ = std::move(gate).value();
  std::lock_guard lock(engine->mutex_);
  auto host = engine->live_host_locked();
  if (!host) return std::move(host).error();
  return engine;
}

EngineProcess::~EngineProcess() {
  std::shared_ptr<Host> host;
  {
    std::lock_guard lock(mutex_);
    host = std::move(host_);
  }
  if (!host) return;
  host->close_control();  // the child removes its folder and exits
  host->end(std::chrono::milliseconds(2000));
}

pid_t EngineProcess::child_pid() const {
  std::lock_guard lock(mutex_);
  return host_ && !host_->dead ? host_->pid : 0;
}

std::uint64_t EngineProcess::epoch() const noexcept {
  std::lock_guard lock(mutex_);
  if (!host_) return 0;
  // A dead child's sessions are never reused: the next child's number.
  if (host_->dead) return (host_->number + 1) << 32;
  return (host_->number << 32) | (host_->epoch.load() & 0xffffffffu);
}

Result<std::shared_ptr<EngineProcess::Host>> EngineProcess::live_host_locked() {
  if (host_ && !host_->dead && !host_->ended()) return host_;
  if (host_) {
    std::string how = host_->end(std::chrono::milliseconds(0));
    log::warn("the query engine process stopped; starting another", {{"pid", host_->pid}, {"how", how}});
    host_.reset();
  }
  // A child that dies at once (cannot open its engine) is not started in a tight loop.
  auto since = Clock::now() - last_start_;
  if (since < std::chrono::milliseconds(200)) std::this_thread::sleep_for(std::chrono::milliseconds(200) - since);
  last_start_ = Clock::now();
  auto started = start_host();
  if (!started) return std::move(started).error();
  host_ = std::move(started).value();
  return host_;
}

Result<std::shared_ptr<EngineProcess::Host>> EngineProcess::start_host() {
  int controls[2], interrupts[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, controls) != 0)
    return errno_error("cannot make the query engine's sockets");
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, interrupts) != 0) {
    ::close(controls[0]);
    ::close(controls[1]);
    return errno_error("cannot make the query engine's sockets");
  }
  // The child's ends become its descriptors 3 and 4; moved out of the way first,
  // so neither is already 3 or 4 when the other is put there.
  int child_control = ::fcntl(controls[1], F_DUPFD_CLOEXEC, 100);
  int child_interrupts = ::fcntl(interrupts[1], F_DUPFD_CLOEXEC, 100);
  ::close(controls[1]);
  ::close(interrupts[1]);
  if (child_control < 0 || child_interrupts < 0) {
    Error e = errno_error("cannot make the query engine's sockets");
    for (int fd : {child_control, child_interrupts, controls[0], interrupts[0]})
      if (fd >= 0) ::close(fd);
    return e;
  }
  auto host = std::make_shared<Host>();
  host->control = controls[0];
  host->interrupts = interrupts[0];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_control, 3);
  posix_spawn_file_actions_adddup2(&actions, child_interrupts, 4);
  posix_spawn_file_actions_addclosefrom_np(&actions, 5);  // no listener or connection of the cataloger
  std::string parent = std::to_string(::getpid());
  std::string program = options_.program.string();
  char arg0[] = "cataloger-query-engine";
  std::string arg1 = kEngineHostArgument;
  char* argv[] = {arg0, arg1.data(), parent.data(), nullptr};
  // The allocators give freed memory back to the system, so the cap (which counts
  // mapped memory, not used pages) tracks what the queries hold: glibc with two
  // arenas and blocks from 1 MiB mapped alone (its default keeps per-thread
  // 64 MiB arenas mapped), DuckDB's jemalloc without retained mappings. Kept as
  // they are when the environment sets them.
  std::vector<std::string> env;
  bool glibc_set = false, jemalloc_set = false;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    glibc_set |= v.rfind("GLIBC_TUNABLES=", 0) == 0;
    jemalloc_set |= v.rfind("DUCKDB_JE_MALLOC_CONF=", 0) == 0;
    env.emplace_back(v);
  }
  if (!glibc_set) env.emplace_back("GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=1048576");
  if (!jemalloc_set) env.emplace_back("DUCKDB_JE_MALLOC_CONF=retain:false,dirty_decay_ms:1000,muzzy_decay_ms:0");
  std::vector<char*> envp;
  for (auto& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  int spawned = 0;
  spawner_.run([&] { spawned = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, envp.data()); });
  posix_spawn_file_actions_destroy(&actions);
  ::close(child_control);
  ::close(child_interrupts);
  if (spawned != 0) {
    return make_error(Errc::unavailable, "cannot start the query engine process (" + program + "): " +
                                             std::strerror(spawned) +
                                             " (ETL_QUERY_ISOLATION=none runs DuckDB in the cataloger)");
  }
  host->pid = pid;
  host->number = ++starts_;
  {
    std::lock_guard latest(latest_mutex_);
    latest_ = host;
  }
  const DuckDbEngineOptions& e = options_.engine;
  json open = {{"type", "open"},
               {"root", e.files.root()},
               {"remote", e.files.remote()},
               {"database", e.database},
               {"threads", e.threads},
               {"memory_limit", e.memory_limit},
               {"data_dir", e.data_dir.string()},
               {"max_temp_bytes", e.max_temp_bytes},
               {"tables", e.tables},
               {"s3_metadata_cache", e.s3_metadata_cache},
               {"resident_bytes", e.resident_bytes},
               {"postgres_connections", e.postgres_connections},
               {"memory_cap", options_.memory_cap},
               {"log_level", options_.log_level},
               {"log_format", options_.log_format}};
  auto reply = control(*host, {open, {}}, {options_.start_timeout, "ETL_QUERY_PROCESS_START_TIMEOUT_MS"});
  if (!reply)
    return make_error(reply.error().code, "the query engine process did not start: " + reply.error().message +
                                              " (ETL_QUERY_ISOLATION=none runs DuckDB in the cataloger)");
  host->epoch = wire::field(reply->header, "epoch", std::uint64_t{0});
  metrics_.counter("spotify_etl_cataloger_query_engine_starts_total", "Query engine processes started").inc();
  log::info("query engine process started",
            {{"pid", pid}, {"memory_cap_bytes", options_.memory_cap}, {"number", host->number}});
  return host;
}

Result<wire::Message> EngineProcess::control(Host& host, const wire::Message& request, EngineWait wait) {
  return control_with_fd(host, request, -1, wait);
}

Result<wire::Message> EngineProcess::control_with_fd(Host& host, const wire::Message& request, int fd,
                                                     EngineWait wait) {
  std::lock_guard lock(host.control_mutex);
  if (host.dead) return make_error(Errc::unavailable, "the query engine process stopped; retry the query");
  Status s = wire::write_message(host.control, request, wait.time);
  if (s.ok() && fd >= 0) s = wire::send_fd(host.control, fd);
  auto reply = s.ok() ? wire::read_message(host.control, wait.time) : Result<wire::Message>(s.error());
  if (!reply) {
    host.kill(reply.error().code == Errc::timeout ? "taken for stuck: it left a request unanswered past its wait"
                                                  : nullptr);
    std::string error = reply.error().message;
    if (reply.error().code == Errc::timeout) {
      metrics_.counter("spotify_etl_cataloger_query_engine_stuck_total",
                       "Query engine processes killed because they left a request unanswered past its wait")
          .inc();
      error += ": no reply to '" + wire::field(request.header, "type", std::string("?")) + "' within " +
               std::to_string(wait.time.count()) + " ms (" + wait.set_by + ")";
    }
    std::string how = host.end(std::chrono::milliseconds(0));
    log::error("the query engine process stopped", {{"pid", host.pid}, {"how", how}, {"error", error}});
    return make_error(Errc::unavailable, "the query engine process stopped (" + how + "); retry the query");
  }
  if (!wire::field(reply->header, "ok", false))
    return wire::error_from_json(wire::field(reply->header, "error", json::object()));
  return reply;
}

Result<std::shared_ptr<EngineProcess::Host>> EngineProcess::live_host() {
  std::lock_guard lock(mutex_);
  return live_host_locked();
}

Result<std::unique_ptr<SqlSession>> EngineProcess::session() {
  return on_a_live_child([this] { return session_once(); });
}

Result<std::unique_ptr<SqlSession>> EngineProcess::session_once() {
  auto live = live_host();
  if (!live) return std::move(live).error();
  std::shared_ptr<Host> host = std::move(live).value();
  // A child started after the last sync_views (the one before died in between)
  // has no views yet: it gets them before any statement runs there.
  if (Catalog* catalog = catalog_.load(); catalog && !host->has_catalog)
    ETL_RETURN_IF_ERROR(sync_host(*host, *catalog, sync_wait()));
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return errno_error("cannot make a query engine session");
  auto reply = control_with_fd(*host, {{{"type", "session"}}, {}}, pair[1], reply_wait());
  ::close(pair[1]);
  if (!reply) {
    ::close(pair[0]);
    return std::move(reply).error();
  }
  std::uint64_t epoch = (host->number << 32) | (wire::field(reply->header, "epoch", std::uint64_t{0}) & 0xffffffffu);
  return std::unique_ptr<SqlSession>(
      std::make_unique<RemoteSession>(*this, host, pair[0], wire::field(reply->header, "id", std::uint64_t{0}), epoch));
}

Status EngineProcess::pin(SqlSession& session, const PinnedTable& pinned, const TableInfo* current) {
  auto& remote = static_cast<RemoteSession&>(session);  // made by session() of this engine
  json request = {{"type", "pin"}, {"pinned", wire::pinned_to_json(pinned)}};
  if (current) request["current"] = wire::table_to_json(*current);
  auto reply = remote.roundtrip({request, {}});
  if (!reply) return std::move(reply).error();
  if (!wire::field(reply->header, "ok", false))
    return wire::error_from_json(wire::field(reply->header, "error", json::object()));
  return {};
}

Status EngineProcess::check(const std::string& sql, std::set<std::string>* reads) {
  return gate_->check_current(sql, reads);
}

std::string EngineProcess::scrub(std::string message) const {
  return without_folders(std::move(message), {options_.engine.files.root() + "/"});  // the child scrubbed its own
}

Status EngineProcess::sync_views(Catalog& catalog) {
  return on_a_live_child([&] { return sync_views_once(catalog, sync_wait()); });
}

Status EngineProcess::sync_views_within(Catalog& catalog, std::chrono::milliseconds wait) {
  const EngineWait waiting = wait < options_.sync_timeout ? EngineWait{wait, "the caller's deadline"} : sync_wait();
  return on_a_live_child([&] { return sync_views_once(catalog, waiting); });
}

Status EngineProcess::sync_views_once(Catalog& catalog, EngineWait wait) {
  catalog_.store(&catalog);
  auto live = live_host();
  if (!live) return std::move(live).error();
  return sync_host(**live, catalog, wait);
}

Status EngineProcess::sync_host(Host& host, Catalog& catalog, EngineWait wait) {
  std::lock_guard sync(host.sync_mutex);
  const std::uint64_t generation = catalog.generation();
  // Nothing moved since the child brought every view up to this generation: no
  // request (the views, their versions and the epoch move only in a sync).
  if (host.synced && host.current && host.generation == generation) return {};
  json request = {{"type", "sync"}};
  std::map<std::string, std::int64_t> sending;
  bool complete = true;
  if (!host.synced || host.generation != generation) {
    // The tables, and the partitions of those the child does not hold at their version.
    auto tables = catalog.list_tables();
    if (!tables) return std::move(tables).error();
    json list = json::array(), partitions = json::object();
    for (const auto& t : *tables) {
      list.push_back(wire::table_to_json(t));
      auto held = host.sent_versions.find(t.name);
      if (held != host.sent_versions.end() && held->second == t.data_version) {
        sending[t.name] = t.data_version;
        continue;
      }
      auto parts = catalog.get_partitions(t.name);
      if (!parts) {  // the child's view keeps its version; sent again next time
        complete = false;
        continue;
      }
      json array = json::array();
      for (const auto& p : *parts) array.push_back(wire::partition_to_json(p));
      partitions[t.name] = std::move(array);
      sending[t.name] = t.data_version;
    }
    request = {{"type", "catalog"}, {"generation", generation}, {"tables", std::move(list)},
               {"partitions", std::move(partitions)}};
  }
  auto reply = control(host, {request, {}}, wait);
  if (!reply) return std::move(reply).error();
  if (request["type"] == "catalog") {
    host.sent_versions = std::move(sending);
    host.synced = complete;
    host.generation = generation;
    host.has_catalog = true;
  }
  host.epoch = wire::field(reply->header, "epoch", std::uint64_t{0});
  host.current = wire::field(reply->header, "current", false);
  resident_bytes_.store(wire::field(reply->header, "resident_bytes", std::uint64_t{0}));
  std::map<std::string, std::int64_t> versions;
  const json reported = wire::field(reply->header, "versions", json::object());
  for (const auto& [name, version] : reported.items())
    if (version.is_number_integer()) versions[name] = version.get<std::int64_t>();
  gate_->set_tables(versions);
  std::lock_guard lock(versions_mutex_);
  versions_ = std::move(versions);
  if (reply->header.contains("error")) return wire::error_from_json(reply->header["error"]);  // never throws
  return {};
}

bool EngineProcess::kill() noexcept {
  std::shared_ptr<Host> host;
  {
    std::lock_guard latest(latest_mutex_);
    host = latest_;
  }
  if (!host || host->dead) return false;
  host->kill("a query waited on it past its timeout and ETL_QUERY_KILL_GRACE_MS");
  return true;
}

std::map<std::string, std::int64_t> EngineProcess::view_versions() {
  std::lock_guard lock(versions_mutex_);
  return versions_;
}

Status EngineProcess::ping() {
  return on_a_live_child([this]() -> Status {
    auto live = live_host();
    if (!live) return std::move(live).error();
    auto reply = control(**live, {{{"type", "ping"}}, {}}, reply_wait());
    if (!reply) return std::move(reply).error();
    return {};
  });
}

}  // namespace etl::cataloger
