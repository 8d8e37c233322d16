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
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || end == nullptr || *end != '-' || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace etl
