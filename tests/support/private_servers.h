// Test servers of one's own (scripts/test-servers.sh on random ports), for tests
// that stop and restart them: the suite's shared servers must never go down
// under other tests running in parallel.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "test_support.h"

namespace etl::testing {

// NAME='value' lines, as test-servers.sh writes them.
inline std::map<std::string, std::string> read_envfile(const std::string& path) {
  std::map<std::string, std::string> vars;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
    vars[line.substr(0, eq)] = value;
  }
  return vars;
}

// A Kafka broker, a MinIO (and the moto the script always starts) for this file
// only. Stopped by the destructor; a watchdog process stops them too if this
// process dies without running it (a crash, ctest's timeout).
class PrivateServers {
 public:
  explicit PrivateServers(std::string script) : script_(std::move(script)) {
    envfile_ = (dir_.path() / "servers.env").string();
    log_ = (dir_.path() / "servers.log").string();
  }
  ~PrivateServers() {
    if (started_) (void)run("stop");
  }
  PrivateServers(const PrivateServers&) = delete;
  PrivateServers& operator=(const PrivateServers&) = delete;

  bool start() {
    started_ = true;
    // It also ends the services this process started (their pids, as last seen).
    const std::string pid = std::to_string(::getpid());
    const std::string watchdog = "while kill -0 " + pid + " 2>/dev/null; do kids=$(pgrep -P " + pid +
                                 "); sleep 2; done; [ -z \"$kids\" ] || kill $kids 2>/dev/null; bash " + quoted(script_) +
                                 " stop " + quoted(envfile_);
    (void)std::system(("setsid bash -c " + quoted(watchdog) + " </dev/null >/dev/null 2>&1 &").c_str());
    if (!run("start")) return false;
    vars_ = read_envfile(envfile_);
    return !var("ETL_TEST_KAFKA_BOOTSTRAP").empty() && !var("ETL_TEST_S3_ENDPOINT").empty();
  }

  // One subcommand of test-servers.sh on these servers: kafka-stop, minio-start, ...
  bool run(const std::string& command) {
    const std::string line = "bash " + quoted(script_) + " " + command + " " + quoted(envfile_) + " >>" + quoted(log_) + " 2>&1";
    return std::system(line.c_str()) == 0;
  }

  // The envfile's variables (ETL_TEST_KAFKA_BOOTSTRAP, ETL_TEST_S3_*, ...).
  const std::map<std::string, std::string>& vars() const { return vars_; }
  std::string var(const std::string& name) const {
    auto it = vars_.find(name);
    return it == vars_.end() ? std::string() : it->second;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  static std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  TempDir dir_;
  std::string script_, envfile_, log_;
  std::map<std::string, std::string> vars_;
  bool started_ = false;
};

// One server down for the length of a scope: started again at the end of it
// if the test did not (a failed assertion must not leave the next test without it).
class ServerDown {
 public:
  ServerDown(PrivateServers& servers, std::string name) : servers_(servers), name_(std::move(name)) {
    stopped_ = servers_.run(name_ + "-stop");
  }
  ~ServerDown() {
    if (stopped_ && !restarted_) (void)servers_.run(name_ + "-start");
  }
  ServerDown(const ServerDown&) = delete;
  ServerDown& operator=(const ServerDown&) = delete;

  bool stopped() const { return stopped_; }
  bool restart() {
    restarted_ = servers_.run(name_ + "-start");
    return restarted_;
  }

 private:
  PrivateServers& servers_;
  std::string name_;
  bool stopped_ = false;
  bool restarted_ = false;
};

}  // namespace etl::testing
