#include "etl/process_folders.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace etl {
namespace {

// Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since
// boot. With the pid it names one process: a pid used again (a container's
// processes get the same small pids at each restart) has another start time.
std::optional<unsigned long long> start_time(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command name may hold spaces and ')'
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) {
      char* end = nullptr;
      unsigned long long ticks = std::strtoull(field.c_str(), &end, 10);
      if (end && *end == '\0') return ticks;
    }
  return std::nullopt;
}

std::string own_tag() {
  static const std::string tag = [] {
    std::string pid = std::to_string(::getpid());
    auto started = start_time(::getpid());
    return started ? pid + "." + std::to_string(*started) : pid;
  }();
  return tag;
}

}  // namespace

std::optional<std::filesystem::path> make_process_folder(const std::filesystem::path& parent, std::string_view prefix) {
  std::string tmpl = (parent / (std::string(prefix) + own_tag() + "-XXXXXX")).lexically_normal().string();
  if (::mkdtemp(tmpl.data()) == nullptr) return std::nullopt;
  return std::filesystem::path(tmpl);
}

void remove_dead_process_folders(const std::filesystem::path& parent, std::string_view prefix) {
  std::error_code ec;
  // increment(ec), not ++: a folder that fails mid-listing (another process removing
  // entries, a lost mount) ends the sweep instead of throwing.
  for (std::filesystem::directory_iterator it(parent, ec), done; !ec && it != done; it.increment(ec)) {
    const auto& entry = *it;
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || end == nullptr || (*end != '-' && *end != '.')) continue;
    std::optional<unsigned long long> started;  // absent in names made before start times were written
    if (*end == '.') {
      char* tail = nullptr;
      started = std::strtoull(end + 1, &tail, 10);
      if (tail == end + 1 || *tail != '-') continue;
    }
    bool alive;
    if (started) {
      auto now = start_time(pid);
      alive = now && *now == *started;  // the same process, not another one under its pid
    } else {
      alive = pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
    }
    std::error_code removed;
    if (!alive) std::filesystem::remove_all(entry.path(), removed);
  }
}

}  // namespace etl
