// Scratch folders named for their process: a sweep removes those of processes
// that are gone and keeps the others.
#include "etl/process_folders.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "test_support.h"

namespace fs = std::filesystem;

namespace {

pid_t a_pid_that_ended() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

// This process's start time, as /proc/self/stat's field 22 (what the folder name carries).
std::string own_start_time() {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) fields >> field;
  return field;
}

TEST(ProcessFolders, TheSweepRemovesOnlyTheFoldersOfEndedProcesses) {
  etl::testing::TempDir dir;
  auto mine = etl::make_process_folder(dir.path(), "engine-");
  ASSERT_TRUE(mine);
  const std::string tag = std::to_string(::getpid()) + "." + own_start_time();
  EXPECT_EQ(mine->filename().string().rfind("engine-" + tag + "-", 0), 0u) << mine->filename();
  const fs::path mine_too = dir.path() / ("engine-" + tag + "-other");  // another part of this process
  const fs::path ended = dir.path() / ("engine-" + std::to_string(a_pid_that_ended()) + "-abc123");  // older names
  const fs::path init = dir.path() / "engine-1-abc123";  // a process that lives
  const fs::path other = dir.path() / "parquet-999999999-x";
  const fs::path odd = dir.path() / "engine-notapid";
  for (const auto& p : {mine_too, ended, init, other, odd}) fs::create_directories(p / "inside");
  etl::remove_dead_process_folders(dir.path(), "engine-");
  EXPECT_FALSE(fs::exists(ended));
  EXPECT_TRUE(fs::exists(*mine));
  EXPECT_TRUE(fs::exists(mine_too));
  EXPECT_TRUE(fs::exists(init));
  EXPECT_TRUE(fs::exists(other)) << "another prefix";
  EXPECT_TRUE(fs::exists(odd)) << "not a pid";
}

TEST(ProcessFolders, AFolderOfAPidUsedAgainIsAnEndedProcesss) {
  // A container restarted over a kept folder: its processes get the same pids, so
  // the folder of the killed one names a pid that runs again, with another start time.
  etl::testing::TempDir dir;
  const fs::path earlier_me = dir.path() / ("engine-" + std::to_string(::getpid()) + ".1-abc123");
  const fs::path earlier_init = dir.path() / "engine-1.99999999999-abc123";
  const fs::path ended = dir.path() / ("engine-" + std::to_string(a_pid_that_ended()) + "." + own_start_time() + "-x");
  for (const auto& p : {earlier_me, earlier_init, ended}) fs::create_directories(p / "inside");
  etl::remove_dead_process_folders(dir.path(), "engine-");
  EXPECT_FALSE(fs::exists(earlier_me)) << "this pid, another start time";
  EXPECT_FALSE(fs::exists(earlier_init));
  EXPECT_FALSE(fs::exists(ended));
}

}  // namespace
