// Working folders named <prefix><pid>.<start time>-XXXXXX, one per process: a
// process killed with -9 (or past its shutdown deadline) cannot remove its own, so
// the next one removes those of processes that are gone, and never one still in
// use. The start time tells a pid used again apart (a container restarted with a
// persistent folder gets the same small pids): that folder is a dead process's.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace etl {

// A new folder <parent>/<prefix><this pid>.<its start time>-XXXXXX (mkdtemp);
// nullopt when it cannot be made.
std::optional<std::filesystem::path> make_process_folder(const std::filesystem::path& parent, std::string_view prefix);

// Removes <parent>/<prefix><pid>.<start>-* of every process that no longer runs
// (this process's stay: another part of it may own one), and <prefix><pid>-*
// (older names) of every pid that no longer runs.
void remove_dead_process_folders(const std::filesystem::path& parent, std::string_view prefix);

}  // namespace etl
