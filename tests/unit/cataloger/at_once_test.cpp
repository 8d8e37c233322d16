// for_each_at_once (at_once.h): every item once, on at most the threads asked
// for, and an exception reaches the caller as it would from a loop.
#include "at_once.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace etl::cataloger {
namespace {

TEST(ForEachAtOnce, EveryItemRunsOnceOnAtMostTheThreadsAskedFor) {
  constexpr std::size_t kItems = 64;
  std::vector<std::atomic<int>> calls(kItems);
  std::atomic<int> in_flight{0}, most{0};
  for_each_at_once(kItems, 4, [&](std::size_t i) {
    const int now = ++in_flight;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++calls[i];
    --in_flight;
  });
  for (std::size_t i = 0; i < kItems; ++i) EXPECT_EQ(calls[i].load(), 1) << "item " << i;
  EXPECT_LE(most.load(), 4);
  EXPECT_GE(most.load(), 2) << "the items never ran side by side";

  int none = 0;
  for_each_at_once(0, 4, [&](std::size_t) { ++none; });
  EXPECT_EQ(none, 0);
}

// On a helper thread an escaping exception would end the process: the crawl's
// catch-all (a Glue answer of an unforeseen shape, ...) would never see it.
TEST(ForEachAtOnce, AnExceptionReachesTheCallerOnceEveryThreadIsDone) {
  std::atomic<int> running{0}, done{0};
  EXPECT_THROW(for_each_at_once(16, 4,
                                [&](std::size_t i) {
                                  ++running;
                                  std::this_thread::sleep_for(std::chrono::milliseconds(5));
                                  --running;
                                  if (i == 1) throw std::runtime_error("an answer of another shape");
                                  ++done;
                                }),
               std::runtime_error);
  EXPECT_EQ(running.load(), 0) << "it returned while items still ran";
  EXPECT_LT(done.load(), 15) << "items not started when it threw are skipped";
}

}  // namespace
}  // namespace etl::cataloger
