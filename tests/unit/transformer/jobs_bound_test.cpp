// Issue 13 item 8: the reprocess queue is bounded (HTTP 429 beyond).
#include <gtest/gtest.h>

#include "jobs.h"

namespace etl::transformer {
namespace {

TEST(ReprocessQueue, PastTheBoundSubmitIsRateLimited) {
  JobRunner runner([](const std::string&) { return Result<std::vector<ObjectInfo>>(std::vector<ObjectInfo>{}); },
                   [](const std::string&, const std::string&) -> Result<TransformResult> { return make_error(Errc::internal, "unused"); });
  // Not started: nothing leaves the queue.
  for (std::size_t i = 0; i < kMaxQueuedJobs; ++i) ASSERT_TRUE(runner.submit("processed/").ok()) << i;
  auto refused = runner.submit("processed/");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::rate_limited);
  EXPECT_NE(refused.error().message.find("retry later"), std::string::npos);
  runner.stop();
}

}  // namespace
}  // namespace etl::transformer
