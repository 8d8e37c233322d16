// kill -9 of the real `transformer` binary at random moments, again and again.
// With ETL_BUS=memory the events die with the process, so the work is driven
// by the start-up scan of to_be_processed/: after the last restart every raw
// object must be in processed/ and every row in exactly one output file.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>

#include "transformer_env.h"

extern char** environ;

namespace etl::transformer {
namespace {

namespace fs = std::filesystem;

using namespace std::chrono_literals;
using etl::testing::call;

// The port a child's server bound (it listens on port 0): from its "listening" log line.
int port_from_log(const std::string& log) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("listening") == std::string::npos) continue;
    auto at = line.find("127.0.0.1:");
    if (at != std::string::npos) return std::atoi(line.c_str() + at + 10);
  }
  return 0;
}

// The transformer binary as a child process with `vars` added to the environment.
class Child {
 public:
  Child(const std::string& binary, const std::map<std::string, std::string>& vars, const std::string& log) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      if (kv.rfind("ETL_", 0) != 0) env.push_back(kv);  // only ours
    }
    for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string path = binary;
    char* argv[] = {path.data(), nullptr};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
  }
  ~Child() {
    if (pid_ > 0) kill9();
  }
  pid_t pid() const { return pid_; }
  void kill9() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // SIGTERM; returns the exit code (or -1 when it did not exit by itself).
  int terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

TEST(TransformerCrash, KillNineAtRandomMomentsLeavesExactlyOneCopyOfEveryRow) {
  const std::string binary = std::string(ETL_BIN_DIR) + "/transformer";
  ASSERT_EQ(::access(binary.c_str(), X_OK), 0) << binary << " is missing: build the `transformer` target first";

  etl::testing::TempDir dir;
  auto raw = open_object_store(dir.url("raw"), AwsConfig{}).value();
  constexpr int kObjects = 40, kPages = 3, kPerPage = 30;
  for (int i = 0; i < kObjects; ++i)
    ASSERT_TRUE(raw->put("to_be_processed/" + testenv::raw_name(i), testenv::raw_playlist(i, kPages, kPerPage)).ok());

  // Port 0: a fixed port could be taken meanwhile by another test running in parallel.
  std::map<std::string, std::string> vars = {
      {"ETL_BUS", "memory"},
      {"ETL_RAW_URL", dir.url("raw")},
      {"ETL_TRANSFORMED_URL", dir.url("transformed")},
      {"ETL_TRANSFORMER_ADDR", "127.0.0.1:0"},
      {"ETL_LOG_LEVEL", "warn"},
      {"ETL_TRANSFORM_BATCH_EVENTS", "4"},  // several batches, so kills land inside them
  };
  const std::string log = (dir.path() / "transformer.log").string();
  auto pending = [&] { return raw->list("to_be_processed/").value().size(); };

  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  int kills = 0;
  std::string progress;  // objects still pending after each kill
  int mid_object = 0;
  auto transformed_view = open_object_store(dir.url("transformed"), AwsConfig{}).value();  // lists whole objects only
  for (int round = 0; round < 100 && pending() > 0; ++round) {
    Child child(binary, vars, log);
    ASSERT_GT(child.pid(), 0) << "cannot start " << binary;
    // Kill while it works: once it has finished a random few objects (0-3 more than
    // the first), at a random moment of the next few milliseconds, whatever it is
    // doing. Counted in objects, not time, so a faster machine still leaves work for
    // the next kills (0-30 ms alone once let a 40-object run end after 2 kills).
    const std::size_t before = pending();
    const std::size_t more = std::min<std::size_t>(std::uniform_int_distribution<std::size_t>(0, 3)(rng), before - 1);
    etl::testing::wait_until([&] { return pending() + more < before; }, 20s, 1ms);
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 5000)(rng)));
    child.kill9();
    ++kills;
    progress += std::to_string(pending()) + " ";
    // A batch manifest still open: this kill landed inside a batch.
    if (fs::exists(dir.path() / "transformed/_transformer/open") &&
        !transformed_view->list("_transformer/open/").value().empty())
      ++mid_object;
  }
  EXPECT_GE(kills, 3) << "the test only means something when several kills land";
  std::cout << "[ kills    ] " << kills << " (" << mid_object << " inside a batch); objects pending after each: "
            << progress << "\n";

  // The last start finishes the job.
  vars["ETL_LOG_LEVEL"] = "info";
  const std::string last_log = (dir.path() / "last.log").string();
  Child last(binary, vars, last_log);
  int port = 0;
  ASSERT_TRUE(etl::testing::wait_until([&] { return (port = port_from_log(last_log)) > 0; }, 20s)) << "no listening line in " << last_log;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(etl::testing::wait_until([&] { return call("GET", base + "/readyz").status == 200; }, 20s));
  auto status = call("GET", base + "/v1/status").json();
  ASSERT_EQ(status["raw_url"], dir.url("raw")) << "talking to another process";
  const std::string job = status["startup_job_id"];
  nlohmann::json state;
  ASSERT_TRUE(etl::testing::wait_until([&] {
    state = call("GET", base + "/v1/jobs/" + job).json();
    return state["state"] != "queued" && state["state"] != "running";
  }, 60s));
  EXPECT_EQ(state["state"], "succeeded") << state.dump(2);
  // The scan announced what was left; the consumer's batches transform it.
  EXPECT_TRUE(etl::testing::wait_until([&] { return pending() == 0; }, 60s));
  EXPECT_TRUE(etl::testing::wait_until([&] { return transformed_view->list("_transformer/open/").value().empty(); }, 20s));
  EXPECT_EQ(last.terminate(), 0) << "SIGTERM ends the service cleanly";

  EXPECT_EQ(pending(), 0u) << "every raw object left to_be_processed/";
  EXPECT_EQ(raw->list("processed/").value().size(), static_cast<std::size_t>(kObjects));

  auto transformed = open_object_store(dir.url("transformed"), AwsConfig{}).value();
  for (const char* table : {"songs_data/", "albums_data/", "artists_data/"}) {
    EXPECT_GE(transformed->list(table).value().size(), 1u) << table;
    EXPECT_LE(transformed->list(table).value().size(), static_cast<std::size_t>(kObjects)) << table << ": batches hold several objects";
  }

  auto db = duck::Database::open(":memory:").value();
  auto conn = db->connect().value();
  const std::string songs = duck::quote_literal((dir.path() / "transformed/songs_data/*/*.parquet").string());
  auto counts = conn->query("SELECT count(*), count(DISTINCT song_id), count(DISTINCT run_id) FROM read_parquet(" + songs + ")");
  ASSERT_TRUE(counts.ok()) << counts.error().message << " (a half-written file would fail here)";
  EXPECT_EQ(counts->text(0, 0).value(), std::to_string(kObjects * kPages * kPerPage)) << "rows in total";
  EXPECT_EQ(counts->text(1, 0).value(), std::to_string(kObjects * kPages * kPerPage)) << "each row exactly once";
  EXPECT_EQ(counts->text(2, 0).value(), std::to_string(kObjects));
  const std::string albums = duck::quote_literal((dir.path() / "transformed/albums_data/*/*.parquet").string());
  auto album_counts = conn->query("SELECT count(*), count(DISTINCT album_id) FROM read_parquet(" + albums + ")");
  ASSERT_TRUE(album_counts.ok());
  EXPECT_EQ(album_counts->text(0, 0).value(), std::to_string(kObjects));
  EXPECT_EQ(album_counts->text(1, 0).value(), std::to_string(kObjects));
}

}  // namespace
}  // namespace etl::transformer
