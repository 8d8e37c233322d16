// ETL_QUERY_ISOLATION=process (the default) against the real `cataloger` binary:
// DuckDB runs in a child process under ETL_QUERY_PROCESS_MEMORY, so a value one
// function builds in one call fails its query instead of growing the cataloger,
// a query that ignores its interrupt is killed with its process, queries beside
// it run again, and a child that dies is started again.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "../unit/cataloger/cataloger_fixtures.h"
#include "child_process.h"
#include "engine_process.h"
#include "test_support.h"

namespace etl {
namespace {

using namespace std::chrono_literals;
using testing::call;
using testing::wait_until;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
// An AddressSanitizer build sets no cap on the engine process (engine_host.cpp: the
// sanitizer maps terabytes of shadow memory) and keeps freed memory in its quarantine.
constexpr const char* kNoCapUnderAsan = "AddressSanitizer build: no memory cap, freed memory held in quarantine";

// A process's state and parent, from /proc/<pid>/stat's 3rd and 4th fields;
// state 0 when there is no such process.
struct ProcStat {
  char state = 0;
  pid_t ppid = 0;
};
ProcStat proc_stat(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ProcStat out;
  auto close = stat.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream rest(stat.substr(close + 2));
  rest >> out.state >> out.ppid;
  return out;
}

// The children of `parent` that have not ended (zombies left out).
std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const ProcStat stat = proc_stat(name);
    if (stat.ppid == parent && stat.state != 0 && stat.state != 'Z') out.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return out;
}

// SIGSTOP, which takes effect asynchronously: true once `pid` is seen stopped.
bool stop_process(pid_t pid) {
  return ::kill(pid, SIGSTOP) == 0 &&
         wait_until([&] { return proc_stat(std::to_string(pid)).state == 'T'; }, 5s, 5ms);
}

// A /proc/<pid>/status field in bytes (VmHWM, VmRSS); 0 when unreadable.
std::uint64_t status_bytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  return 0;
}

double metric(const std::string& base, const std::string& name) {
  auto text = call("GET", base + "/metrics").body;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  return 0;
}

class QueryIsolation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    root_ = dir_->path() / "transformed";
    std::filesystem::create_directories(root_);
    namespace f = cataloger::testing;
    f::write_file(root_, "songs_data", "2026-11-01", "run1", "parquet", f::songs_select(6));
    base_ = "http://127.0.0.1:" + std::to_string(testing::free_port());
    process_ = start(base_, "");
    ASSERT_TRUE(wait_until([] { return call("GET", base_ + "/readyz").status == 200; }, 30s, 50ms)) << process_->log();
    ASSERT_TRUE(wait_until([] { return call("GET", base_ + "/v1/tables").json()["tables"].size() == 1; }, 30s))
        << process_->log();
  }
  static void TearDownTestSuite() {
    delete process_;
    delete dir_;
  }
  void TearDown() override { ASSERT_TRUE(process_->running()) << "the cataloger died:\n" << process_->log(); }

  static testing::ChildProcess* start(const std::string& base, const std::string& suffix,
                                      std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env = {{"ETL_CATALOGER_ADDR", base.substr(7)},
                                              {"ETL_PG_ADDR", "off"},
                                              {"ETL_BUS", "memory"},
                                              {"ETL_TRANSFORMED_URL", "file://" + root_.string()},
                                              {"ETL_QUERY_DATA_DIR", (dir_->path() / ("cataloger" + suffix)).string()},
                                              {"ETL_QUERY_MEMORY_LIMIT", "256M"},
                                              {"ETL_QUERY_PROCESS_MEMORY", "640M"},
                                              {"ETL_QUERY_KILL_GRACE_MS", "300"},
                                              {"ETL_QUERY_WORKERS", "3"},
                                              {"ETL_LOG_LEVEL", "info"}};
    for (auto& [k, v] : extra) env[k] = v;
    auto* p = new testing::ChildProcess(std::string(ETL_BIN_DIR) + "/cataloger", {}, env,
                                        (dir_->path() / ("cataloger" + suffix + ".log")).string());
    EXPECT_TRUE(p->start());
    return p;
  }
  static testing::HttpResult query(const nlohmann::json& body) {
    return call("POST", base_ + "/v1/query", body.dump());
  }
  static std::string detail(const testing::HttpResult& r) { return r.json().value("detail", r.body); }
  // The query engine process (the cataloger's one child).
  static pid_t engine_pid() {
    pid_t found = 0;
    wait_until([&] {
      auto kids = children_of(process_->pid());
      found = kids.size() == 1 ? kids[0] : 0;
      return found != 0;
    }, 10s, 20ms);
    return found;
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::filesystem::path root_;
  static inline std::string base_;
  static inline testing::ChildProcess* process_ = nullptr;
};

TEST_F(QueryIsolation, TheEngineRunsInAChildProcessUnderItsCap) {
  if (kAddressSanitizer) GTEST_SKIP() << kNoCapUnderAsan;
  pid_t engine = engine_pid();
  ASSERT_NE(engine, 0) << "no query engine process";
  std::ifstream cmdline("/proc/" + std::to_string(engine) + "/cmdline");
  std::string args((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  EXPECT_NE(args.find("__query-engine-host"), std::string::npos);
  std::ifstream limits("/proc/" + std::to_string(engine) + "/limits");
  std::string text((std::istreambuf_iterator<char>(limits)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("Max data size             671088640"), std::string::npos) << text;
  auto r = query({{"sql", "SELECT count(*) AS n FROM songs_data"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["rows"][0][0], 6);
}

// DuckDB's memory_limit does not bound one function's value: 2 GB here, which
// in-process would take the cataloger past 2 GB resident.
// The cataloger's own memory follows what it keeps: after bursts of large results
// (the result cache keeps 256 MiB at most), the pages its heap freed go back to the
// system, so idle it holds about the kept results, not twice them (glibc's arenas
// had kept the freed pages: bench/README, "The cataloger's memory after large results").
TEST_F(QueryIsolation, AfterBurstsOfLargeResultsTheCatalogerGivesBackWhatItFreed) {
  if (kAddressSanitizer) GTEST_SKIP() << kNoCapUnderAsan;
  // A cataloger of its own: the suite's shared one must not carry this test's peak.
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::free_port());
  std::unique_ptr<testing::ChildProcess> own(start(base, "-bursts"));
  ASSERT_TRUE(wait_until([&] { return call("GET", base + "/readyz").status == 200; }, 30s, 50ms)) << own->log();
  const std::uint64_t start = status_bytes(own->pid(), "VmRSS");
  for (int round = 0; round < 16; ++round) {
    std::vector<std::thread> clients;
    for (int k = 0; k < 3; ++k)
      clients.emplace_back([&base, round, k] {
        const std::string rows = std::to_string(60000 + 3 * round + k);  // each its own result
        const nlohmann::json body = {{"sql", "SELECT repeat('x', 200) || i AS s, i AS n FROM range(" + rows + ") t(i)"},
                                     {"max_rows", 10}};
        auto r = call("POST", base + "/v1/query", body.dump());
        EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
      });
    for (auto& c : clients) c.join();
  }
  const double kept = metric(base, "spotify_etl_cataloger_query_results_bytes");
  EXPECT_GT(kept, 128.0 * (1 << 20)) << "the bursts filled the result cache";
  std::uint64_t idle = 0;
  const bool settled = wait_until([&] {
    idle = status_bytes(own->pid(), "VmRSS");
    return static_cast<double>(idle) < static_cast<double>(start) + 1.5 * kept;
  }, 10s, 200ms);
  EXPECT_TRUE(settled) << "idle: " << (idle >> 20) << " MiB resident, " << (start >> 20) << " MiB before the bursts, "
                       << static_cast<std::uint64_t>(kept) / (1 << 20) << " MiB of results kept";
}

TEST_F(QueryIsolation, AValueBuiltInOneCallFailsItsQueryNotTheCataloger) {
  if (kAddressSanitizer) GTEST_SKIP() << kNoCapUnderAsan;
  pid_t engine = engine_pid();
  for (const char* sql : {"SELECT length(repeat('x', 2000000000)) AS n", "SELECT len(range(1000000000)) AS n"}) {
    auto r = query({{"sql", sql}});
    EXPECT_EQ(r.status, 503) << sql << ": " << r.body;
    EXPECT_NE(detail(r).find("Out of Memory"), std::string::npos) << detail(r);
  }
  auto after = query({{"sql", "SELECT count(*) AS n FROM songs_data"}});
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.json()["rows"][0][0], 6);
  EXPECT_LT(status_bytes(process_->pid(), "VmHWM"), 512ull << 20) << "the cataloger itself grew";
  pid_t now = engine_pid();
  if (now == engine) {  // it may also have died on an allocation it could not recover from, and been started again
    EXPECT_LT(status_bytes(engine, "VmHWM"), 640ull << 20);
  }
}

// One call DuckDB cannot interrupt (strpos of a 3,000-byte needle in 40 MB, ~3.6 s here):
// past its timeout and the grace, the process goes, and the query fails as timed out.
TEST_F(QueryIsolation, AQueryThatIgnoresItsInterruptIsKilledWithItsProcess) {
  pid_t before = engine_pid();
  const double kills = metric(base_, "spotify_etl_cataloger_query_engine_kills_total");
  auto r = query({{"sql", "SELECT strpos(repeat('a', 40000000), repeat('a', 3000) || 'b') AS p"}, {"timeout_ms", 100}});
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(detail(r).find("timeout_ms=100"), std::string::npos) << detail(r);
  EXPECT_EQ(metric(base_, "spotify_etl_cataloger_query_engine_kills_total"), kills + 1) << process_->log();
  auto after = query({{"sql", "SELECT count(*) AS n FROM songs_data"}});
  ASSERT_EQ(after.status, 200) << after.body;
  // Told as the cataloger's kill, also when the query's own worker reaps the child
  // (after the kill, its session failing) before the next query asks how it ended.
  EXPECT_NE(process_->log().find("killed by the cataloger (SIGKILL): a query did not stop within ETL_QUERY_KILL_GRACE_MS"),
            std::string::npos)
      << process_->log();
  pid_t now = engine_pid();
  EXPECT_NE(now, 0);
  EXPECT_NE(now, before) << "the engine process was not replaced";
}

// A query running in the process when another one gets it killed runs again and succeeds.
TEST_F(QueryIsolation, AQueryBesideAKilledOneRunsAgainAndSucceeds) {
  const double retries = metric(base_, "spotify_etl_cataloger_query_retries_total");
  // Interruptible and long enough to still run when the other one is killed (~0.5 s
  // in): about 6 s here, so it still runs then on a machine several times faster.
  const std::int64_t n = 2000000000;
  auto started = query({{"sql", "SELECT sum(x) AS s FROM range(" + std::to_string(n) + ") t(x)"}, {"async", true}});
  ASSERT_EQ(started.status, 202) << started.body;
  const std::string id = started.json()["query_id"];
  auto state = [&] { return call("GET", base_ + "/v1/query/" + id).json().value("state", ""); };
  ASSERT_TRUE(wait_until([&] { return state() == "RUNNING"; }, 10s, 5ms));
  auto culprit = query({{"sql", "SELECT strpos(repeat('a', 40000000), repeat('a', 3000) || 'b') AS p"}, {"timeout_ms", 100}});
  EXPECT_EQ(culprit.status, 504) << culprit.body;
  ASSERT_TRUE(wait_until([&] { return state() != "RUNNING" && state() != "QUEUED"; }, 60s, 20ms));
  auto page = call("GET", base_ + "/v1/query/" + id);
  ASSERT_EQ(page.json().value("state", ""), "SUCCEEDED") << page.body << process_->log();
  const nlohmann::json body = page.json();
  const nlohmann::json value = body["rows"][0][0];  // the sum of 0..n-1 (a HUGEINT)
  EXPECT_EQ(value.is_string() ? value.get<std::string>() : value.dump(), "1999999999000000000");
  EXPECT_GE(metric(base_, "spotify_etl_cataloger_query_retries_total"), retries + 1) << process_->log();
}

TEST_F(QueryIsolation, AnEngineProcessThatDiesIsStartedAgain) {
  pid_t before = engine_pid();
  ASSERT_NE(before, 0);
  ::kill(before, SIGKILL);
  auto r = query({{"sql", "SELECT count(*) AS n FROM songs_data"}});
  ASSERT_EQ(r.status, 200) << r.body << process_->log();
  EXPECT_EQ(r.json()["rows"][0][0], 6);
  pid_t now = engine_pid();
  EXPECT_NE(now, 0);
  EXPECT_NE(now, before);
  EXPECT_EQ(call("GET", base_ + "/readyz").status, 200);
}

// A child that stops answering (SIGSTOP stands for a deadlock or a stuck
// kernel call): the query sent next is not held past its timeout plus the grace.
// Either the view sync at its submission finds the child stuck and it runs on a
// new one, or it waited on the child from its worker, which gets the child
// killed and fails it as timed out. Then the next query runs on a new child.
TEST_F(QueryIsolation, AStoppedEngineProcessHoldsAQueryNoLongerThanItsTimeout) {
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(call("GET", base_ + "/readyz").status, 200) << process_->log();
    pid_t stopped = engine_pid();
    ASSERT_NE(stopped, 0);
    ASSERT_TRUE(stop_process(stopped)) << "round " << round << ": child " << stopped << " is not stopped but '"
                                       << proc_stat(std::to_string(stopped)).state << "'";
    auto started = std::chrono::steady_clock::now();
    auto r = query({{"sql", "SELECT count(*) AS n FROM songs_data"}, {"timeout_ms", 500}});
    auto took = std::chrono::steady_clock::now() - started;
    if (r.status == 200) {
      EXPECT_EQ(r.json()["rows"][0][0], 6) << r.body;
    } else {
      EXPECT_EQ(r.status, 504) << "round " << round << ": " << r.body;
      EXPECT_NE(detail(r).find("timeout_ms=500"), std::string::npos) << detail(r);
    }
    EXPECT_LT(took, 10s) << "round " << round << ": held past the query's timeout plus the 300 ms grace";
    EXPECT_TRUE(wait_until([&] { return ::kill(stopped, 0) != 0; }, 5s, 20ms)) << "the stopped child was not killed";
    auto after = query({{"sql", "SELECT count(*) AS n FROM songs_data"}});
    ASSERT_EQ(after.status, 200) << after.body << process_->log();
    EXPECT_EQ(after.json()["rows"][0][0], 6);
    EXPECT_NE(engine_pid(), stopped);
  }
}

// ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS: a stopped child leaves /readyz's ping
// unanswered; past the set wait (not the 10 s default) it is killed, the ping
// is answered by a new child, and the log names the setting that decided.
TEST_F(QueryIsolation, TheReplyWaitIsASettingTheLogNamesWhenItKillsTheChild) {
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::free_port());
  std::unique_ptr<testing::ChildProcess> own(start(base, "-reply", {{"ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS", "400"}}));
  ASSERT_TRUE(wait_until([&] { return call("GET", base + "/readyz").status == 200; }, 30s, 50ms)) << own->log();
  auto kids = children_of(own->pid());
  ASSERT_EQ(kids.size(), 1u);
  ASSERT_TRUE(stop_process(kids[0]));
  auto started = std::chrono::steady_clock::now();
  auto ready = call("GET", base + "/readyz");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(ready.status, 200) << ready.body << own->log();
  EXPECT_LT(took, 6s) << "the ping waited for the default, not the setting";
  EXPECT_TRUE(wait_until([&] { return ::kill(kids[0], 0) != 0; }, 5s, 20ms)) << "the stopped child was not killed";
  EXPECT_NE(own->log().find("no reply to 'ping' within 400 ms (ETL_QUERY_PROCESS_REPLY_TIMEOUT_MS)"), std::string::npos)
      << own->log();
  EXPECT_NE(own->log().find("killed by the cataloger (SIGKILL): taken for stuck"), std::string::npos) << own->log();
}

TEST_F(QueryIsolation, TheEngineProcessEndsWithTheCataloger) {
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::free_port());
  std::unique_ptr<testing::ChildProcess> own(start(base, "-own"));
  ASSERT_TRUE(wait_until([&] { return call("GET", base + "/readyz").status == 200; }, 30s, 50ms)) << own->log();
  auto kids = children_of(own->pid());
  ASSERT_EQ(kids.size(), 1u);
  own->kill(SIGKILL);
  EXPECT_TRUE(wait_until([&] { return ::kill(kids[0], 0) != 0; }, 5s, 20ms)) << "the engine process outlived the cataloger";
}

TEST_F(QueryIsolation, ACapBelowTheMemoryLimitIsAOneLineConfigError) {
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::free_port());
  std::unique_ptr<testing::ChildProcess> own(start(base, "-cap", {{"ETL_QUERY_PROCESS_MEMORY", "300M"}}));
  auto code = own->wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << own->log();
  EXPECT_NE(*code, 0);
  EXPECT_NE(own->log().find("ETL_QUERY_PROCESS_MEMORY (300 MiB) must be at least 128 MiB above"), std::string::npos)
      << own->log();
}

// EngineProcess itself, started from the cataloger binary with short waits: a
// child that leaves a view sync, a ping or a new session unanswered (SIGSTOP) is
// killed when the wait passes, and the request is made again on a new child.
class EngineProcessStalls : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace f = cataloger::testing;
    f::write_file(s_.root, "songs_data", "2026-11-01", "run1", "parquet", f::songs_select(6));
    s_.crawl();
    cataloger::EngineProcessOptions options;
    options.engine.files = duck::TableFiles(s_.root);
    options.engine.threads = 1;
    options.engine.data_dir = s_.dir.path() / "engine";
    options.program = std::string(ETL_BIN_DIR) + "/cataloger";
    options.sync_timeout = 20s;  // far above what the tests wait: a wait not cut short fails them
    options.reply_timeout = 300ms;
    auto opened = cataloger::EngineProcess::open(std::move(options), {}, metrics_);
    ASSERT_TRUE(opened) << opened.error().message;
    engine_ = std::move(opened).value();
    ASSERT_TRUE(engine_->sync_views(*s_.catalog).ok());
  }

  // Stops the child, runs `request`, and checks it came back in time from a new child.
  template <class Request>
  void stall_then(Request request) {
    const pid_t stopped = engine_->child_pid();
    ASSERT_NE(stopped, 0);
    const double stuck = stuck_count();
    ASSERT_TRUE(stop_process(stopped));
    auto started = std::chrono::steady_clock::now();
    request();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
    EXPECT_NE(engine_->child_pid(), stopped);
    EXPECT_NE(engine_->child_pid(), 0);
    EXPECT_NE(::kill(stopped, 0), 0) << "the stopped child still exists";
    EXPECT_EQ(stuck_count(), stuck + 1);
  }
  double stuck_count() { return metrics_.counter("spotify_etl_cataloger_query_engine_stuck_total", "").value(); }
  std::string count_songs() {
    auto session = engine_->session();
    if (!session) return session.error().message;
    auto r = (*session)->execute("SELECT count(*) FROM songs_data", 1 << 20, false, Dialect::duckdb);
    return r ? r->rows.at(0) : r.error().message;
  }

  cataloger::testing::Stack s_;
  MetricsRegistry metrics_;
  std::unique_ptr<cataloger::EngineProcess> engine_;
};

TEST_F(EngineProcessStalls, AViewSyncWaitsNoLongerThanItsCallerDoes) {
  namespace f = cataloger::testing;
  f::write_file(s_.root, "songs_data", "2026-11-02", "run1", "parquet", f::songs_select(5, 100));
  s_.crawl();  // the catalog moved: the sync is a request to the child
  stall_then([&] {
    Status synced = engine_->sync_views_within(*s_.catalog, 500ms);
    EXPECT_TRUE(synced.ok()) << synced.error().message;
  });
  EXPECT_EQ(count_songs(), "[11]");
}

TEST_F(EngineProcessStalls, APingOrANewSessionIsAnsweredByTheNextChild) {
  stall_then([&] {
    Status pinged = engine_->ping();
    EXPECT_TRUE(pinged.ok()) << pinged.error().message;
  });
  // The child the ping started gets its views with its first session (a sync);
  // the session after that is the request the stop catches.
  EXPECT_EQ(count_songs(), "[6]");
  stall_then([&] { EXPECT_EQ(count_songs(), "[6]"); });
}

}  // namespace
}  // namespace etl
