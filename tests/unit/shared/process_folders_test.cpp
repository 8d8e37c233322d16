// Scratch folders named for their process: a sweep removes those of processes
// that are gone and keeps the others.
#include "etl/process_folders.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
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

TEST(ProcessFolders, TheSweepRemovesOnlyTheFoldersOfEndedProcesses) {
  etl::testing::TempDir dir;
  auto mine = etl::make_process_folder(dir.path(), "engine-");
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->filename().string().rfind("engine-" + std::to_string(::getpid()) + "-", 0), 0u);
  const fs::path ended = dir.path() / ("engine-" + std::to_string(a_pid_that_ended()) + "-abc123");
  const fs::path init = dir.path() / "engine-1-abc123";  // a process that lives
  const fs::path other = dir.path() / "parquet-999999999-x";
  const fs::path odd = dir.path() / "engine-notapid";
  for (const auto& p : {ended, init, other, odd}) fs::create_directories(p / "inside");
  etl::remove_dead_process_folders(dir.path(), "engine-");
  EXPECT_FALSE(fs::exists(ended));
  EXPECT_TRUE(fs::exists(*mine));
  EXPECT_TRUE(fs::exists(init));
  EXPECT_TRUE(fs::exists(other)) << "another prefix";
  EXPECT_TRUE(fs::exists(odd)) << "not a pid";
}

}  // namespace
