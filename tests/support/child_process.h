// A service binary started as a real child process, for tests that kill -9 it,
// restart it, or check its exit code. Its stderr (JSON logs) goes to a file.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace etl::testing {

// The reservation behind free_port(): the port, or 0 if a step failed.
inline int reserve_loopback_port() {
  const int yes = 1;
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int port = 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener >= 0 && client >= 0 &&
      ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) == 0 &&
      ::setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof yes) == 0 &&
      ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(listener, 1) == 0 &&
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
      ::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    if (int accepted = ::accept(listener, nullptr, nullptr); accepted >= 0) {
      ::close(accepted);  // first: this side, bound to the port, is the one left in TIME_WAIT
      port = ntohs(addr.sin_port);
    }
  }
  if (client >= 0) ::close(client);
  if (listener >= 0) ::close(listener);
  return port;
}

// A loopback port for a server this test starts, reserved against everyone else
// for the minute it takes to start it. A port that was only bound and closed is
// free for any process: another test running beside this one could be handed it
// by bind(0), or take it as the source port of a connection, before our server
// binds it ("cannot listen on ..."). So this one also connects to itself and
// closes the accepted side first: the kernel keeps that side in TIME_WAIT for
// 60 s, gives the port to no bind(0) and no connect() meanwhile, and lets a
// server that binds it with SO_REUSEADDR or SO_REUSEPORT (ours, httplib's, the
// JVM's, Go's) have it at once. This process also never hands a port out twice.
inline int free_port() {
  static std::mutex mutex;
  static std::set<int> given;
  std::lock_guard lock(mutex);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = reserve_loopback_port();
    if (port > 0 && given.insert(port).second) return port;
  }
  std::fprintf(stderr, "free_port: cannot reserve a loopback port\n");
  std::abort();
}

class ChildProcess {
 public:
  // `env` is added to (and overrides) this process's environment.
  ChildProcess(std::string binary, std::vector<std::string> args, std::map<std::string, std::string> env,
               std::string log_path)
      : binary_(std::move(binary)), args_(std::move(args)), env_(std::move(env)), log_path_(std::move(log_path)) {}
  ~ChildProcess() { kill(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool start() {
    std::map<std::string, std::string> merged;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string entry(*e);
      auto eq = entry.find('=');
      if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : env_) merged[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : merged) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    argv.push_back(binary_.data());
    for (auto& a : args_) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (log_path_ + ".out").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    int rc = posix_spawn(&pid_, binary_.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    exited_ = false;
    return rc == 0;
  }

  void kill(int sig) {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, sig);
      if (sig == SIGKILL) wait_exit(std::chrono::seconds(10));
    }
  }

  // The exit status (WEXITSTATUS, or 128+signal), or nullopt if still running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (exited_) return status_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return status_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  pid_t pid() const { return pid_; }
  bool running() { return pid_ > 0 && !exited_ && !wait_exit(std::chrono::milliseconds(0)).has_value(); }

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string stdout_text() const {
    std::ifstream in(log_path_ + ".out");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string binary_;
  std::vector<std::string> args_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = -1;
};

}  // namespace etl::testing
