// Issue 13 item 8: the reprocess queue is bounded (HTTP 429 beyond).
#include <gtest/gtest.h>

#include "jobs.h"
#include "test_support.h"

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

// An object whose transform throws is that object's error; the job goes on to
// the next object and ends partial (before, the exception ended the process).
TEST(ReprocessQueue, AnObjectThatThrowsFailsAloneAndTheJobGoesOn) {
  JobRunner runner(
      [](const std::string&) {
        std::vector<ObjectInfo> objects(2);
        objects[0].key = "processed/a.json";
        objects[1].key = "processed/b.json";
        return Result<std::vector<ObjectInfo>>(std::move(objects));
      },
      [](const std::string&, const std::string& key) -> Result<TransformResult> {
        if (key == "processed/a.json") throw std::runtime_error("simdjson: INCORRECT_TYPE");
        TransformResult r;
        r.songs_rows = 3;
        return r;
      });
  runner.start();
  auto id = runner.submit("processed/");
  ASSERT_TRUE(id.ok()) << id.error().message;
  std::optional<JobSnapshot> job;
  ASSERT_TRUE(etl::testing::wait_until([&] {
    job = runner.get(*id);
    return job && !job->finished_at.empty();
  }));
  EXPECT_EQ(job->state, JobState::partial);
  EXPECT_EQ(job->done, 1u);
  EXPECT_EQ(job->failed, 1u);
  EXPECT_EQ(job->songs_rows, 3u);
  ASSERT_EQ(job->errors.size(), 1u);
  EXPECT_EQ(job->errors[0].key, "processed/a.json");
  EXPECT_EQ(job->errors[0].code, Errc::internal);
  EXPECT_EQ(job->errors[0].message, "internal error: simdjson: INCORRECT_TYPE");
  runner.stop();
}

}  // namespace
}  // namespace etl::transformer
