// Working folders named <prefix><pid>-XXXXXX, one per process: a process killed
// with -9 (or past its shutdown deadline) cannot remove its own, so the next one
// removes those of processes that are gone, and never one still in use.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace etl {

// A new folder <parent>/<prefix><this pid>-XXXXXX (mkdtemp); nullopt when it cannot be made.
std::optional<std::filesystem::path> make_process_folder(const std::filesystem::path& parent, std::string_view prefix);

// Removes <parent>/<prefix><pid>-* of every pid that no longer runs (not this
// process's: another part of it may own one).
void remove_dead_process_folders(const std::filesystem::path& parent, std::string_view prefix);

}  // namespace etl
