// The real `extractor` binary as a child process: --help/--version, --addr (and
// `spotify-etl up` refusing it), bad configuration refused with one line, `spotify-etl run` after the demo,
// and SIGKILL in the middle of a run loses no landed object and leaves nothing partial visible.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "etl/object_store.h"
#include "child_process.h"
#include "fake_spotify.h"
#include "test_support.h"

extern char** environ;

namespace etl::extractor {
namespace {

using etl::testing::call;
using etl::testing::TempDir;
using etl::testing::wait_until;
namespace fake = etl::fakespotify;
using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kBinary = std::string(ETL_BIN_DIR) + "/extractor";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process with its own environment (only what is given, plus PATH/HOME), output to files.
class Child {
 public:
  Child(std::vector<std::string> args, const std::map<std::string, std::string>& env, const std::filesystem::path& dir,
        const std::string& binary = kBinary)
      : out_(dir / ("stdout-" + std::to_string(counter_) + ".txt")), err_(dir / ("stderr-" + std::to_string(counter_++) + ".txt")) {
    std::vector<std::string> env_strings;
    for (const char* keep : {"PATH", "HOME", "TMPDIR", "LD_LIBRARY_PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS"})
      if (const char* v = std::getenv(keep)) env_strings.push_back(std::string(keep) + "=" + v);
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    args.insert(args.begin(), binary);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "cannot start " << binary;
  }
  ~Child() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      wait_exit();
    }
  }
  // The exit code (128 + signal when killed).
  int wait_exit() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void kill(int sig) { ::kill(pid_, sig); }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }
  // The port from the "listening" log line, once it appears.
  int port() const {
    int port = 0;
    wait_until([&] {
      std::smatch m;
      std::string text = err();
      static const std::regex listening(R"re("address":"127\.0\.0\.1:(\d+)")re");
      if (!std::regex_search(text, m, listening)) return false;
      port = std::stoi(m[1]);
      return true;
    }, 10s);
    return port;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

TEST(ExtractorProcess, HelpAndVersionExitZero) {
  TempDir dir;
  Child help({"--help"}, {}, dir.path());
  EXPECT_EQ(help.wait_exit(), 0);
  EXPECT_NE(help.out().find("ETL_SOURCES"), std::string::npos) << "--help should name the variables: " << help.out();
  Child version({"--version"}, {}, dir.path());
  EXPECT_EQ(version.wait_exit(), 0);
  EXPECT_EQ(version.out().rfind("extractor ", 0), 0u) << version.out();
}

TEST(ExtractorProcess, BadConfigurationExitsNonZeroWithOneLineNamingTheVariable) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"ETL_SCHEDULE", "61 * * * *"}, {"ETL_SOURCES", "playlist:bad"}, {"ETL_EXTRACTOR_ADDR", "localhost:http"},
      {"ETL_SPOTIFY_RATE", "fast"},
      // What only a run would have refused, or a crash at its record: one line at start instead.
      {"ETL_SOURCES", "playlist:37i9dQZF1DXcBWIGoYBM5M, playlist:37i9dQZF1DXcBWIGoYBM5M"},
      {"ETL_SOURCES", "search:caf\xe9 del mar"},
      {"ETL_EXTRACTOR_ADDR", "a b:8081"}, {"ETL_EXTRACTOR_ADDR", "[]:8081"},
      {"ETL_LOG_FORMAT", "json\nINJECTED line"}};
  for (const auto& [name, value] : bad) {
    Child child({}, {{name, value}, {"ETL_BUS", "memory"}, {"ETL_RAW_URL", dir.url("raw")}}, dir.path());
    EXPECT_NE(child.wait_exit(), 0) << name << "=" << value << " must be refused";
    std::string err = child.err();
    EXPECT_NE(err.find(name), std::string::npos) << "the error must name " << name << ": " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "one line, got: " << err;
  }
  Child schedule_without_sources({}, {{"ETL_SCHEDULE", "@hourly"}, {"ETL_BUS", "memory"}, {"ETL_RAW_URL", dir.url("raw")}},
                                 dir.path());
  EXPECT_NE(schedule_without_sources.wait_exit(), 0);
  EXPECT_NE(schedule_without_sources.err().find("ETL_SOURCES"), std::string::npos) << schedule_without_sources.err();
}

TEST(ExtractorProcess, AddrFlagSetsTheListenAddressAndSpotifyEtlUpRefusesIt) {
  TempDir dir;
  const int port = etl::testing::free_port();
  Child served({"--addr", "127.0.0.1:" + std::to_string(port)}, {{"ETL_BUS", "memory"}, {"ETL_RAW_URL", dir.url("raw")}},
               dir.path());
  EXPECT_EQ(served.port(), port) << served.err();
  EXPECT_EQ(call("GET", "http://127.0.0.1:" + std::to_string(port) + "/healthz").status, 200);
  served.kill(SIGTERM);
  EXPECT_EQ(served.wait_exit(), 0) << served.err();

  Child dangling({"--addr"}, {}, dir.path());
  EXPECT_EQ(dangling.wait_exit(), 2);
  EXPECT_EQ(dangling.err(), "extractor: --addr needs HOST:PORT\n");
  Child empty({"--addr", ""}, {}, dir.path());
  EXPECT_EQ(empty.wait_exit(), 2) << "an empty address is not the default one";
  EXPECT_EQ(empty.err(), "extractor: --addr needs HOST:PORT\n");

  // Three listeners: one address would be a lie; the message names the variables.
  // (The bad schedule makes a build that took the flag stop at once, on that.)
  Child up({"up", "--addr", "127.0.0.1:" + std::to_string(port)}, {{"ETL_SCHEDULE", "61 * * * *"}}, dir.path(),
           std::string(ETL_BIN_DIR) + "/spotify-etl");
  EXPECT_EQ(up.wait_exit(), 2);
  const std::string err = up.err();
  EXPECT_NE(err.find("ETL_CATALOGER_ADDR"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// The CLI's command lines it cannot run exit 2 with one line, before any request
// (nothing listens at the addresses given); an unreachable service is exit 1.
TEST(ExtractorProcess, SpotifyEtlCliRefusesBadCommandLinesWithExitTwo) {
  TempDir dir;
  const std::string cli = std::string(ETL_BIN_DIR) + "/spotify-etl";
  const std::map<std::string, std::string> env = {{"ETL_EXTRACTOR_ADDR", "127.0.0.1:1"}, {"ETL_CATALOGER_ADDR", "127.0.0.1:1"}};
  const std::vector<std::vector<std::string>> bad = {
      {"bogus-command"}, {"runs", "--format", "xml"}, {"runs", "--format"}, {"runs", "extra"}, {"tables", "--bogus"},
      {"query"}, {"query", "SELECT 1", "SELECT 2"}, {"query", "--format=yaml", "SELECT 1"},
      {"run", "--source", "playlist:abc"}, {"run", "--bogus"}};
  for (const auto& args : bad) {
    Child child(args, env, dir.path(), cli);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(child.wait_exit(), 2) << line;
    const std::string err = child.err();
    EXPECT_EQ(err.rfind("spotify-etl: ", 0), 0u) << line << ": " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << line << ": " << err;
  }
  Child unreachable({"runs", "--format", "json"}, env, dir.path(), cli);
  EXPECT_EQ(unreachable.wait_exit(), 1) << unreachable.err();
}

// After `spotify-etl demo`, the "run again" line of its report (`spotify-etl run
// --wait`, no --source) runs the sample's sources again: they are the demo's
// ETL_SOURCES, so the run is not refused for having none. Without ETL_LOG_LEVEL
// the demo logs warnings and errors only, from every process it starts (its
// query engine process too), so the report is not buried in info lines.
TEST(ExtractorProcess, TheDemoRunsItsSampleAgainOnRequestAndLogsOnlyWarnings) {
  TempDir dir;
  const std::string cli = std::string(ETL_BIN_DIR) + "/spotify-etl";
  const std::string extractor = "127.0.0.1:" + std::to_string(etl::testing::free_port());
  const std::string cataloger = "127.0.0.1:" + std::to_string(etl::testing::free_port());
  const std::map<std::string, std::string> env = {
      {"ETL_EXTRACTOR_ADDR", extractor},
      {"ETL_TRANSFORMER_ADDR", "127.0.0.1:" + std::to_string(etl::testing::free_port())},
      {"ETL_CATALOGER_ADDR", cataloger},
      {"ETL_PG_ADDR", "127.0.0.1:0"},
      {"ETL_RAW_URL", dir.url("raw")},
      {"ETL_TRANSFORMED_URL", dir.url("transformed")}};
  Child demo({"demo"}, env, dir.path(), cli);
  ASSERT_TRUE(wait_until([&] { return demo.out().find("Serving until Ctrl-C.") != std::string::npos; }, 90s))
      << demo.out() << demo.err();
  // The report's command lines call the program as it was called (here by its full path).
  EXPECT_NE(demo.out().find("  run again    " + cli + " run --wait\n"), std::string::npos) << demo.out();
  EXPECT_NE(demo.out().find("  CLI          " + cli + " query "), std::string::npos) << demo.out();

  Child again({"run", "--wait"}, env, dir.path(), cli);
  ASSERT_EQ(again.wait_exit(), 0) << again.out() << again.err();
  auto runs = call("GET", "http://" + extractor + "/v1/runs").json()["runs"];
  ASSERT_EQ(runs.size(), 2u) << runs.dump(2);
  auto sources_of = [](const json& run) {
    std::vector<std::string> out;
    for (const auto& s : run["sources"])
      out.push_back(s["type"].get<std::string>() + ":" + s.value("id", "") + "/" + s["status"].get<std::string>() + "/" +
                    std::to_string(s["items"].get<int>()));
    return out;
  };
  EXPECT_EQ(sources_of(runs[0]), sources_of(runs[1])) << runs.dump(2);
  EXPECT_EQ(runs[0]["status"], "succeeded");

  // Each run's rows reach the tables: the same count for both.
  const std::string sql = R"({"sql":"SELECT run_id, count(*) FROM songs_data GROUP BY run_id ORDER BY run_id"})";
  json rows;
  EXPECT_TRUE(wait_until([&] {
    auto q = call("POST", "http://" + cataloger + "/v1/query", sql);
    if (q.status != 200) return false;
    rows = q.json()["rows"];
    return rows.size() == 2 && rows[0][1] == rows[1][1];
  }, 30s)) << rows.dump();
  demo.kill(SIGTERM);
  EXPECT_EQ(demo.wait_exit(), 0) << demo.err();
  const std::string log = demo.err();
  for (const char* level : {R"("level":"info")", R"("level":"debug")", R"("level":"trace")"})
    EXPECT_EQ(log.find(level), std::string::npos) << log;
}

// `spotify-etl demo --once` stops its services after the report, so the report
// names no URL of theirs; it ends with the command that serves the tables it
// left, and that command, run as printed, answers for them.
TEST(ExtractorProcess, TheDemoOnceEndsWithTheCommandThatServesItsTables) {
  TempDir dir;
  const std::string cli = std::string(ETL_BIN_DIR) + "/spotify-etl";
  const std::string cataloger = "127.0.0.1:" + std::to_string(etl::testing::free_port());
  std::map<std::string, std::string> env = {
      {"ETL_EXTRACTOR_ADDR", "127.0.0.1:" + std::to_string(etl::testing::free_port())},
      {"ETL_TRANSFORMER_ADDR", "127.0.0.1:" + std::to_string(etl::testing::free_port())},
      {"ETL_CATALOGER_ADDR", cataloger},
      {"ETL_PG_ADDR", "off"},
      {"ETL_RAW_URL", dir.url("raw")},
      {"ETL_TRANSFORMED_URL", dir.url("transformed")}};
  Child once({"demo", "--once"}, env, dir.path(), cli);
  ASSERT_EQ(once.wait_exit(), 0) << once.out() << once.err();
  const std::string out = once.out();
  EXPECT_EQ(out.find("/ui/"), std::string::npos) << "a stopped dashboard: " << out;
  EXPECT_EQ(out.find("Serving"), std::string::npos) << out;
  const std::string serve = "ETL_RAW_URL=" + dir.url("raw") + " ETL_TRANSFORMED_URL=" + dir.url("transformed") + " " + cli + " up";
  ASSERT_NE(out.find("\n  " + serve + "\n"), std::string::npos) << out;
  std::smatch counted;  // "songs_data    324" in the report's rows per table
  ASSERT_TRUE(std::regex_search(out, counted, std::regex(R"(\nsongs_data +(\d+)\n)"))) << out;
  const auto songs = [&] {
    auto q = call("POST", "http://" + cataloger + "/v1/query", R"({"sql":"SELECT count(*) FROM songs_data"})");
    return q.status == 200 ? q.json()["rows"][0][0].get<long long>() : -1;
  };

  env.erase("ETL_RAW_URL");  // the printed line gives them
  env.erase("ETL_TRANSFORMED_URL");
  Child up({"-c", "exec env " + serve}, env, dir.path(), "/bin/sh");  // the line as printed, its assignments by env
  EXPECT_TRUE(wait_until([&] { return songs() > 0; }, 30s)) << up.err();
  EXPECT_EQ(songs(), std::stoll(counted[1])) << "the demo's songs_data, as its report counted them: " << out;
  up.kill(SIGTERM);
  EXPECT_EQ(up.wait_exit(), 0) << up.err();
}

TEST(ExtractorProcess, SigkillMidRunLosesNoLandedObjectAndLeavesNothingPartial) {
  TempDir dir;
  fake::FakeSpotifyServer spotify;
  ASSERT_GT(spotify.start("127.0.0.1", 0), 0);
  spotify.set_delay(40ms);  // ~20 search pages per source: the run lasts seconds
  const std::map<std::string, std::string> env = {
      {"ETL_BUS", "memory"},
      {"ETL_RAW_URL", dir.url("raw")},
      {"ETL_EXTRACTOR_ADDR", "127.0.0.1:0"},
      {"SPOTIFY_API_URL", spotify.api_url()},
      {"SPOTIFY_ACCOUNTS_URL", spotify.accounts_url()},
      {"SPOTIFY_CLIENT_ID", fake::FakeSpotifyOptions{}.client_id},
      {"SPOTIFY_CLIENT_SECRET", fake::FakeSpotifyOptions{}.client_secret},
      {"ETL_SPOTIFY_RATE", "1000"},
      {"ETL_EXTRACT_PARALLELISM", "2"}};
  json sources = json::array();
  for (const char* q : {"love", "night", "blue", "dance", "heart", "fire", "dream", "rain"})
    sources.push_back({{"type", "search"}, {"query", q}});
  sources.push_back({{"type", "playlist"}, {"id", fake::kLargePlaylistId}});

  std::string run_id;
  {
    Child child({}, env, dir.path());
    int port = child.port();
    ASSERT_GT(port, 0) << "the extractor did not start: " << child.err();
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    auto posted = call("POST", base + "/v1/runs", json{{"sources", sources}}.dump());
    ASSERT_EQ(posted.status, 202) << posted.body;
    run_id = posted.json()["run_id"];
    auto store = open_object_store(dir.url("raw"), AwsConfig{});
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(wait_until([&] {
      auto listed = (*store)->list("to_be_processed/");
      return listed.ok() && !listed->empty();
    }, 20s)) << "no object landed: " << child.err();
    auto mid = call("GET", base + "/v1/runs/" + run_id).json();
    ASSERT_EQ(mid["status"], "running") << "the run must still be going when killed: " << mid.dump();
    child.kill(SIGKILL);
    EXPECT_EQ(child.wait_exit(), 128 + SIGKILL);
  }

  auto store = open_object_store(dir.url("raw"), AwsConfig{});
  auto listed = (*store)->list("to_be_processed/");
  ASSERT_TRUE(listed.ok());
  ASSERT_FALSE(listed->empty());
  for (const auto& info : *listed) {
    EXPECT_EQ(info.key.find("/.tmp-"), std::string::npos) << "a temporary file is listed: " << info.key;
    auto body = (*store)->get(info.key);
    ASSERT_TRUE(body.ok());
    auto envelope = json::parse(*body, nullptr, false);
    ASSERT_FALSE(envelope.is_discarded()) << info.key << " is not complete JSON";
    EXPECT_EQ(envelope["format"], "spotify-etl.raw.v1") << info.key;
    EXPECT_EQ(envelope["run_id"], run_id);
    EXPECT_FALSE(envelope["pages"].empty()) << info.key;
  }

  Child restarted({}, env, dir.path());
  int port = restarted.port();
  ASSERT_GT(port, 0) << restarted.err();
  auto run = call("GET", "http://127.0.0.1:" + std::to_string(port) + "/v1/runs/" + run_id).json();
  EXPECT_EQ(run["status"], "failed") << run.dump(2);
  EXPECT_EQ(run["error"], "interrupted by restart");
  std::size_t landed = 0;
  for (const auto& s : run["sources"]) landed += s["status"] == "succeeded";
  EXPECT_LE(landed, listed->size()) << "every source recorded as landed has its object";
  restarted.kill(SIGTERM);
  EXPECT_EQ(restarted.wait_exit(), 0) << "SIGTERM is a graceful stop: " << restarted.err();
}

}  // namespace
}  // namespace etl::extractor
