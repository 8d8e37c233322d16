// A crash says what it was in the log, then ends the process as before (death tests:
// each case runs in a child process).
#include "etl/crash_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <stdexcept>
#include <thread>

#include "etl/log.h"
#include "etl/sanitizers.h"

namespace {

class CrashReport : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(CrashReport, UncaughtExceptionInAThreadNamesItsTypeAndMessage) {
  EXPECT_DEATH(
      {
        etl::log::init("crashy", "info", "json");
        std::thread([] { throw std::out_of_range("no such key 'x'"); }).join();
      },
      R"(\{"ts":"20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:.]+Z","level":"critical","service":"crashy",)"
      R"("msg":"crashed: uncaught exception","detail":"uncaught std::out_of_range: no such key 'x'")");
}

TEST_F(CrashReport, TextFormatToo) {
  EXPECT_DEATH(
      {
        etl::log::init("crashy", "info", "text");
        std::thread([] { throw std::runtime_error("boom"); }).join();
      },
      "critical crashy: crashed: uncaught exception \\(uncaught std::runtime_error: boom\\); backtrace follows");
}

TEST_F(CrashReport, TerminateWithoutAnExceptionSaysSo) {
  EXPECT_DEATH(
      {
        etl::log::init("crashy");
        std::thread t([] {});
        t.~thread();  // joinable: terminate
      },
      "std::terminate with no exception");
}

TEST_F(CrashReport, FatalSignalIsReportedAndStillEndsTheProcessByIt) {
  if (etl::kAddressSanitizer) GTEST_SKIP() << "the sanitizer reports fatal signals in this build";
  EXPECT_EXIT(
      {
        etl::log::init("crashy");
        volatile int* nowhere = nullptr;
        *nowhere = 1;
      },
      ::testing::KilledBySignal(SIGSEGV), R"("msg":"crashed: SIGSEGV","detail":"signal 11 at address 0x0")");
  EXPECT_EXIT(
      {
        etl::log::init("crashy");
        ::kill(::getpid(), SIGBUS);
      },
      ::testing::KilledBySignal(SIGBUS), R"("msg":"crashed: SIGBUS","detail":"signal 7 sent by pid [0-9]+")");
  EXPECT_EXIT(
      {
        etl::log::init("crashy");
        std::abort();
      },
      ::testing::KilledBySignal(SIGABRT), R"("msg":"crashed: SIGABRT")");
}

TEST_F(CrashReport, OneReportPerCrash) {
  // terminate's report, then its abort(): the SIGABRT handler does not report again.
  using ::testing::AllOf, ::testing::HasSubstr, ::testing::Not;
  EXPECT_DEATH(
      {
        etl::log::init("crashy", "info", "text");
        std::thread([] { throw std::logic_error("once"); }).join();
      },
      AllOf(HasSubstr("uncaught std::logic_error: once"), Not(HasSubstr("crashed: SIGABRT"))));
}

}  // namespace
