#include "etl/process_folders.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace etl {

std::optional<std::filesystem::path> make_process_folder(const std::filesystem::path& parent, std::string_view prefix) {
  std::string tmpl =
      (parent / (std::string(prefix) + std::to_string(::getpid()) + "-XXXXXX")).lexically_normal().string();
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
    if (pid <= 0 || end == nullptr || *end != '-' || pid == ::getpid()) continue;
    std::error_code removed;
    if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) std::filesystem::remove_all(entry.path(), removed);
  }
}

}  // namespace etl
