// Linked into every test executable: a test that runs longer than
// ETL_TEST_WATCHDOG_S (default 420 s, under ctest's 600 s timeout; 0 = off) is
// stopped with the stacks of all its threads (gdb, when installed), so a hang that
// shows only under a loaded CI run leaves something to read instead of a bare timeout.
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

// Never freed: the checking thread may outlive gtest's listeners at exit.
struct Watch {
  std::mutex mutex;
  std::string test;  // "" = none running
  Clock::time_point started{};
};

class Watchdog : public testing::EmptyTestEventListener {
 public:
  explicit Watchdog(Watch* watch) : watch_(watch) {}
  void OnTestStart(const testing::TestInfo& info) override {
    std::lock_guard lock(watch_->mutex);
    watch_->test = std::string(info.test_suite_name()) + "." + info.name();
    watch_->started = Clock::now();
  }
  void OnTestEnd(const testing::TestInfo&) override {
    std::lock_guard lock(watch_->mutex);
    watch_->test.clear();
  }

 private:
  Watch* watch_;
};

void dump_and_abort(const std::string& test, long long limit_s) {
  std::fprintf(stderr, "\ntest watchdog: %s has run for more than %lld s (ETL_TEST_WATCHDOG_S); stacks of all threads:\n",
               test.c_str(), limit_s);
  std::fflush(stderr);
  if (std::system("command -v gdb >/dev/null 2>&1") == 0) {
    (void)prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);  // Yama: let a child attach to us
    const std::string command = "gdb -nx -batch -p " + std::to_string(getpid()) +
                                " -ex 'thread apply all bt 25' 1>&2 2>/dev/null";
    (void)std::system(command.c_str());
  } else {
    std::fprintf(stderr, "(gdb is not installed: no stacks)\n");
  }
  std::abort();
}

long long limit_seconds() {
  const char* text = std::getenv("ETL_TEST_WATCHDOG_S");
  if (text == nullptr || *text == '\0') return 420;
  char* end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  return (*end == '\0' && value >= 0) ? value : 420;
}

[[maybe_unused]] const bool installed = [] {
  const long long limit = limit_seconds();
  if (limit == 0) return false;
  auto* watch = new Watch;
  testing::UnitTest::GetInstance()->listeners().Append(new Watchdog(watch));
  std::thread([watch, limit] {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      std::string test;
      {
        std::lock_guard lock(watch->mutex);
        if (watch->test.empty() || Clock::now() - watch->started < std::chrono::seconds(limit)) continue;
        test = watch->test;
      }
      dump_and_abort(test, limit);
    }
  }).detach();
  return true;
}();

}  // namespace
