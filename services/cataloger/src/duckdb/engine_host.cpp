// The query engine process (engine_process.h): the child side. It opens a
// DuckDbEngine as the cataloger describes it, keeps the copy of the catalog the
// cataloger sends, and runs each session's statements on a thread of its own.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <new>
#include <thread>

#include "engine_process.h"
#include "engine_wire.h"
#include "snapshot_catalog.h"
#include "etl/config.h"
#include "etl/log.h"
#include "etl/sanitizers.h"

namespace etl::cataloger {

namespace wire = engine_wire;
using nlohmann::json;

namespace {

std::atomic<bool> g_can_host{false};

constexpr int kControlFd = 3;
constexpr int kInterruptFd = 4;

struct HostState {
  std::unique_ptr<DuckDbEngine> engine;
  std::unique_ptr<SnapshotCatalog> catalog;
  std::mutex sessions_mutex;
  std::map<std::uint64_t, SqlSession*> sessions;  // running session threads' sessions
  std::uint64_t next_id = 1;
};

json failure(Error e) { return {{"ok", false}, {"error", wire::to_json(e)}}; }

Error out_of_memory() {
  return make_error(Errc::unavailable, "Out of Memory Error: the query engine process reached its memory cap "
                                       "(ETL_QUERY_PROCESS_MEMORY)");
}

// One session: execute and pin requests, one at a time, until the cataloger closes it.
void serve_session(HostState& state, int fd, std::uint64_t id, std::unique_ptr<SqlSession> session) {
  for (;;) {
    auto request = wire::read_message(fd);
    if (!request) break;
    wire::Message reply;
    try {
      const std::string type = request->header.value("type", "");
      if (type == "execute") {
        if (Status s = state.engine->refresh_credentials(); !s.ok())
          log::warn("cannot refresh DuckDB's S3 credentials", {{"error", s.error().message}});
        auto result = session->execute(
            request->header.value("sql", ""), request->header.value("max_bytes", std::size_t{0}),
            request->header.value("want_csv", false),
            request->header.value("dialect", "duckdb") == "postgres" ? Dialect::postgres : Dialect::duckdb);
        if (!result) result = Error{result.error().code, state.engine->scrub(result.error().message)};
        reply = wire::result_message(std::move(result));
        reply.header["resident_bytes"] = state.engine->resident_bytes();
      } else if (type == "pin") {
        std::optional<TableInfo> current;
        if (request->header.contains("current")) current = wire::table_from_json(request->header["current"]);
        Status s = state.engine->pin(*session, wire::pinned_from_json(request->header.value("pinned", json::object())),
                                     current ? &*current : nullptr);
        reply.header = s.ok() ? json{{"ok", true}} : failure({s.error().code, state.engine->scrub(s.error().message)});
      } else {
        reply.header = failure(make_error(Errc::internal, "unknown session request " + type));
      }
    } catch (const std::bad_alloc&) {
      reply = {failure(out_of_memory()), {}};
    } catch (const std::exception& e) {
      reply = {failure(make_error(Errc::internal, std::string("the query engine failed: ") + e.what())), {}};
    }
    if (!wire::write_message(fd, reply).ok()) break;
  }
  {
    std::lock_guard lock(state.sessions_mutex);
    state.sessions.erase(id);
  }
  session.reset();
  ::close(fd);
}

void serve_interrupts(HostState& state) {
  for (;;) {
    std::uint64_t id = 0;
    ssize_t n = ::recv(kInterruptFd, &id, sizeof id, MSG_WAITALL);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof id)) return;
    std::lock_guard lock(state.sessions_mutex);
    if (auto it = state.sessions.find(id); it != state.sessions.end()) it->second->interrupt();
  }
}

Result<std::unique_ptr<DuckDbEngine>> open_engine(const json& open) {
  DuckDbEngineOptions options;
  const std::string root = open.value("root", "");
  if (open.value("remote", false)) {
    // The same S3 endpoint and credentials chain as the cataloger's, from the same environment.
    auto config = load_config(process_env());
    if (!config) return make_error(Errc::invalid_argument, "the query engine process: " + config.error().message);
    auto files = duck::TableFiles::s3(config->aws, root, config->catalog_cache.extension_dir);
    if (!files) return std::move(files).error();
    options.files = std::move(files).value();
  } else {
    options.files = std::filesystem::path(root);
  }
  options.database = open.value("database", "spotify");
  options.threads = open.value("threads", 2);
  options.memory_limit = open.value("memory_limit", "");
  options.data_dir = open.value("data_dir", "");
  options.max_temp_bytes = open.value("max_temp_bytes", std::uint64_t{0});
  options.tables = open.value("tables", std::vector<std::string>{});
  options.s3_metadata_cache = open.value("s3_metadata_cache", false);
  options.resident_bytes = open.value("resident_bytes", std::uint64_t{0});
  options.postgres_connections = open.value("postgres_connections", 4);
  options.sql_gate = false;  // the cataloger checks every statement before it sends it here
  return DuckDbEngine::open(std::move(options));
}

int host_main(pid_t parent) {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);  // the cataloger stops it (a terminal's Ctrl-C reaches the whole group)
  ::signal(SIGTERM, SIG_IGN);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) return 1;  // the cataloger is already gone
  auto open = wire::read_message(kControlFd, std::chrono::seconds(60));
  if (!open || open->header.value("type", "") != "open") return 2;
  log::init("cataloger", open->header.value("log_level", "info"), open->header.value("log_format", "json"));
  if (std::uint64_t cap = open->header.value("memory_cap", std::uint64_t{0}); cap > 0 && !kAddressSanitizer) {
    rlimit limit{cap, cap};
    if (::setrlimit(RLIMIT_DATA, &limit) != 0)
      log::warn("cannot set the query engine process's memory cap", {{"error", std::strerror(errno)}});
  }
  HostState state;
  auto engine = open_engine(open->header);
  if (!engine) {
    (void)wire::write_message(kControlFd, {failure(std::move(engine).error()), {}});
    return 3;
  }
  state.engine = std::move(engine).value();
  state.catalog = std::make_unique<SnapshotCatalog>(open->header.value("database", "spotify"));
  if (!wire::write_message(kControlFd, {{{"ok", true}, {"epoch", state.engine->epoch()}}, {}}).ok()) return 4;
  std::thread(serve_interrupts, std::ref(state)).detach();

  for (;;) {
    auto request = wire::read_message(kControlFd);
    if (!request) break;  // the cataloger closed it (or is gone)
    json reply;
    try {
      const std::string type = request->header.value("type", "");
      if (type == "catalog" || type == "sync") {
        if (type == "catalog") state.catalog->apply(request->header);
        Status s = state.engine->sync_views(*state.catalog);
        json versions = json::object();
        for (const auto& [name, version] : state.engine->view_versions()) versions[name] = version;
        reply = {{"ok", true}, {"epoch", state.engine->epoch()}, {"versions", std::move(versions)},
                 {"resident_bytes", state.engine->resident_bytes()},
                 {"current", s.ok() && state.engine->synced_generation() == state.catalog->generation()}};
        if (!s.ok()) reply["error"] = wire::to_json(s.error());
      } else if (type == "session") {
        auto fd = wire::receive_fd(kControlFd, std::chrono::seconds(10));
        if (!fd) break;  // the control stream is out of step: end, and be started again
        auto session = state.engine->session();
        if (!session) {
          ::close(*fd);
          reply = failure(std::move(session).error());
        } else {
          std::lock_guard lock(state.sessions_mutex);
          std::uint64_t id = state.next_id++;
          std::uint64_t epoch = (*session)->epoch();
          state.sessions[id] = session->get();
          std::thread(serve_session, std::ref(state), *fd, id, std::move(session).value()).detach();
          reply = {{"ok", true}, {"id", id}, {"epoch", epoch}};
        }
      } else if (type == "ping") {
        Status s = state.engine->ping();
        reply = s.ok() ? json{{"ok", true}} : failure(s.error());
      } else {
        reply = failure(make_error(Errc::internal, "unknown control request " + type));
      }
    } catch (const std::bad_alloc&) {
      reply = failure(out_of_memory());
    } catch (const std::exception& e) {
      reply = failure(make_error(Errc::internal, std::string("the query engine failed: ") + e.what()));
    }
    if (!wire::write_message(kControlFd, {reply, {}}).ok()) break;
  }
  // Sessions may still be running: stop them, leave no folder, and end without
  // waiting for any (the cataloger has moved on).
  {
    std::lock_guard lock(state.sessions_mutex);
    for (auto& [id, session] : state.sessions) session->interrupt();
  }
  std::error_code ec;
  std::filesystem::remove_all(state.engine->folder(), ec);
  std::_Exit(0);
}

}  // namespace

std::optional<int> run_query_engine_host_if_asked(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], kEngineHostArgument) == 0) {
    char* end = nullptr;
    long parent = std::strtol(argv[2], &end, 10);
    if (!end || *end != '\0' || parent < 1) return 2;  // 1: the cataloger may be a container's first process
    return host_main(static_cast<pid_t>(parent));
  }
  g_can_host = true;
  return std::nullopt;
}

std::filesystem::path query_engine_host_program() {
  return g_can_host ? std::filesystem::path("/proc/self/exe") : std::filesystem::path();
}

}  // namespace etl::cataloger
