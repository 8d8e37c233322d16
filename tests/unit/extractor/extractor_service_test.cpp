// Runs end to end inside the service, with an in-memory SpotifyApi and MemoryBus:
// statuses, the quota stop, events, shutdown. (Real HTTP: tests/integration.)
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>

#include "envelope.h"
#include "etl/memory_bus.h"
#include "etl/s3_event.h"
#include "extractor_service.h"
#include "fakes.h"
#include "test_support.h"

namespace etl::extractor {
namespace {

using etl::testing::MapSpotifyApi;
using etl::testing::TempDir;
using etl::testing::wait_until;

constexpr char kA[] = "7kwYwFTY6UeVCDzqOAzRKN";
constexpr char kB[] = "4vMNBsf0D57iQ6s0QVHvHk";
constexpr char kC[] = "3pgmXmPoLwE4Kl5zyiit9U";
const std::string kPage = R"({"items":[{"item":{"id":"x"}},{"item":{"id":"y"}}],"next":null})";

std::string items_url(const char* id) { return "/playlists/" + std::string(id) + "/items?limit=50"; }
std::string tracks_url(const char* id) { return "/playlists/" + std::string(id) + "/tracks?limit=100"; }

class ExtractorServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.extractor_addr = {"127.0.0.1", 0};
    config_.raw_url = dir_.url("raw");
    config_.bus = "memory";
    config_.extract_parallelism = 1;
    api_ = std::make_shared<MapSpotifyApi>();
    bus_ = make_memory_bus();
  }

  std::unique_ptr<ExtractorService> start() {
    auto svc = ExtractorService::create(config_, bus_, api_);
    EXPECT_TRUE(svc.ok()) << svc.error().message;
    EXPECT_TRUE((*svc)->start().ok());
    return std::move(svc).value();
  }

  RunRecord finish(ExtractorService& svc, const RunRequest& request) {
    auto run = svc.submit_run(request);
    EXPECT_TRUE(run.ok()) << run.error().message;
    RunRecord last;
    bool done = wait_until([&] {
      auto r = svc.get_run(run->run_id);
      if (r) last = *r;
      return r && is_final(r->status);
    });
    EXPECT_TRUE(done) << "run " << run->run_id << " did not finish; last status " << to_string(last.status);
    return last;
  }

  static RunRequest request(std::vector<SourceSpec> sources) {
    RunRequest r;
    r.sources = std::move(sources);
    return r;
  }

  TempDir dir_;
  Config config_;
  std::shared_ptr<MapSpotifyApi> api_;
  std::shared_ptr<MemoryBus> bus_;
};

TEST_F(ExtractorServiceTest, AllSourcesLandingMeansSucceededWithOneEventPerObject) {
  api_->set_body(items_url(kA), kPage);
  api_->set_body(items_url(kB), kPage);
  config_.aws.region = "eu-north-1";  // events say us-east-1 all the same (contract §6.2)
  auto svc = start();
  auto run = finish(*svc, request({{SourceType::playlist, kA}, {SourceType::playlist, kB}}));
  EXPECT_EQ(run.status, RunStatus::succeeded) << run.error;
  ASSERT_EQ(run.sources.size(), 2u);
  auto events = bus_->messages(config_.topic_raw);
  ASSERT_EQ(events.size(), 2u) << "one ObjectCreated event per landed object";
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& s = run.sources[i];
    EXPECT_EQ(s.status, SourceStatus::succeeded);
    EXPECT_EQ(s.pages, 1);
    EXPECT_EQ(s.items, 2);
    EXPECT_EQ(s.object_key.rfind("to_be_processed/spotify_raw_", 0), 0u) << s.object_key;
    auto parsed = parse_s3_events(events[i].value);
    ASSERT_TRUE(parsed.ok() && parsed->size() == 1) << events[i].value;
    EXPECT_EQ((*parsed)[0].key, s.object_key);
    EXPECT_EQ((*parsed)[0].bucket, "raw");
    EXPECT_NE(events[i].value.find(R"("awsRegion":"us-east-1")"), std::string::npos) << events[i].value;
    EXPECT_EQ(events[i].key, s.object_key) << "the message key is the object key";
  }
}

TEST_F(ExtractorServiceTest, OneMissingSourceMakesTheRunPartialWithSpotifysMessage) {
  api_->set_body(items_url(kA), kPage);
  api_->set_error(items_url(kB), Errc::not_found, "Resource not found (HTTP 404)");
  api_->set_error(tracks_url(kB), Errc::not_found, "Resource not found (HTTP 404)");
  auto svc = start();
  auto run = finish(*svc, request({{SourceType::playlist, kA}, {SourceType::playlist, kB}}));
  EXPECT_EQ(run.status, RunStatus::partial);
  EXPECT_EQ(run.sources[0].status, SourceStatus::succeeded);
  EXPECT_EQ(run.sources[1].status, SourceStatus::failed);
  EXPECT_EQ(run.sources[1].error, "Resource not found (HTTP 404)");
  EXPECT_TRUE(run.sources[1].object_key.empty());
  EXPECT_EQ(bus_->messages(config_.topic_raw).size(), 1u);
}

// A source whose fetch throws (a reader meeting an answer nobody foresaw) fails
// alone with the reason; the run ends, the other sources land, and the executor
// takes the next run.
TEST_F(ExtractorServiceTest, ASourceThatThrowsFailsAloneAndTheExtractorGoesOn) {
  api_->set_body(items_url(kA), kPage);
  api_->set_body(items_url(kB), kPage);
  api_->on_call = [](const std::string& url, std::stop_token) {
    if (url.find(kB) != std::string::npos) throw std::runtime_error("type must be number, but is string");
  };
  auto svc = start();
  auto run = finish(*svc, request({{SourceType::playlist, kA}, {SourceType::playlist, kB}}));
  EXPECT_EQ(run.status, RunStatus::partial);
  EXPECT_EQ(run.sources[0].status, SourceStatus::succeeded);
  EXPECT_EQ(run.sources[1].status, SourceStatus::failed);
  EXPECT_EQ(run.sources[1].error, "internal error: type must be number, but is string");
  EXPECT_EQ(bus_->messages(config_.topic_raw).size(), 1u);
  api_->on_call = nullptr;
  EXPECT_EQ(finish(*svc, request({{SourceType::playlist, kB}})).status, RunStatus::succeeded);
}

TEST_F(ExtractorServiceTest, EverySourceFailingMeansFailed) {
  api_->set_error(items_url(kA), Errc::forbidden, "Forbidden.");
  api_->set_error(tracks_url(kA), Errc::forbidden, "Forbidden.");
  auto svc = start();
  auto run = finish(*svc, request({{SourceType::playlist, kA}}));
  EXPECT_EQ(run.status, RunStatus::failed);
  EXPECT_EQ(run.sources[0].error, "Forbidden.");
}

TEST_F(ExtractorServiceTest, QuotaExceededStopsTheRunsRemainingCalls) {
  api_->set_error(items_url(kA), Errc::quota_exceeded, "Spotify quota exceeded (429 QUOTA_EXCEEDED)");
  api_->set_body(items_url(kB), kPage);
  api_->set_body(items_url(kC), kPage);
  auto svc = start();
  auto run = finish(*svc, request({{SourceType::playlist, kA}, {SourceType::playlist, kB}, {SourceType::playlist, kC}}));
  EXPECT_EQ(api_->calls(), std::vector<std::string>{items_url(kA)}) << "no call may follow QUOTA_EXCEEDED";
  EXPECT_EQ(run.status, RunStatus::failed);
  EXPECT_NE(run.error.find("QUOTA_EXCEEDED"), std::string::npos) << run.error;
  EXPECT_EQ(run.sources[0].status, SourceStatus::failed);
  for (int i : {1, 2}) {
    EXPECT_EQ(run.sources[i].status, SourceStatus::failed);
    EXPECT_NE(run.sources[i].error.find("quota"), std::string::npos) << run.sources[i].error;
  }
}

TEST_F(ExtractorServiceTest, QuotaAfterSomeSourcesLandedIsPartial) {
  api_->set_body(items_url(kA), kPage);
  api_->set_error(items_url(kB), Errc::quota_exceeded, "Spotify quota exceeded (429 QUOTA_EXCEEDED)");
  api_->set_body(items_url(kC), kPage);
  auto svc = start();
  auto run = finish(*svc, request({{SourceType::playlist, kA}, {SourceType::playlist, kB}, {SourceType::playlist, kC}}));
  EXPECT_EQ(run.status, RunStatus::partial);
  EXPECT_EQ(run.sources[0].status, SourceStatus::succeeded);
  EXPECT_EQ(run.sources[2].status, SourceStatus::failed);
  EXPECT_EQ(api_->calls().size(), 2u);
}

TEST_F(ExtractorServiceTest, RunsWithoutSourcesUseEtlSourcesOrAreRefused) {
  auto svc = start();
  auto none = svc->submit_run(RunRequest{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, Errc::invalid_argument);
  EXPECT_NE(none.error().message.find("ETL_SOURCES"), std::string::npos) << none.error().message;

  svc.reset();
  config_.sources = {{SourceType::playlist, kA}};
  config_.spotify_market = "SE";
  api_->set_body(items_url(kA) + "&market=SE", kPage);
  svc = start();
  auto run = finish(*svc, RunRequest{});
  EXPECT_EQ(run.status, RunStatus::succeeded) << run.sources[0].error;
  EXPECT_EQ(run.market, "SE");
}

// Run ids sort by their creation time: runs submitted within one millisecond still
// list (newest first) in the order they were submitted, not by their random suffix.
TEST_F(ExtractorServiceTest, RunsSubmittedInOneMillisecondListInSubmissionOrder) {
  api_->set_body(items_url(kA), kPage);
  auto svc = start();
  std::vector<std::string> submitted;
  for (int i = 0; i < 30; ++i) {
    auto run = svc->submit_run(request({{SourceType::playlist, kA}}));
    ASSERT_TRUE(run.ok()) << run.error().message;
    submitted.push_back(run->run_id);
  }
  std::vector<std::string> listed;
  for (const auto& r : svc->list_runs(100)) listed.push_back(r.run_id);
  std::reverse(listed.begin(), listed.end());
  EXPECT_EQ(listed, submitted);
  EXPECT_TRUE(std::is_sorted(submitted.begin(), submitted.end()));
}

TEST_F(ExtractorServiceTest, ShutdownDuringARunRecordsItInterruptedAndLandsNothingPartial) {
  api_->set_body(items_url(kA), kPage);
  std::atomic<bool> in_call{false};
  api_->on_call = [&](const std::string& url, std::stop_token stop) {
    if (url != items_url(kB)) return;
    in_call = true;
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait(lock, stop, [] { return false; });  // a slow Spotify: answers when the run is stopped
  };
  api_->set_body(items_url(kB), kPage);
  auto svc = start();
  auto run = svc->submit_run(request({{SourceType::playlist, kA}, {SourceType::playlist, kB}}));
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(wait_until([&] { return in_call.load(); }));
  svc->stop();
  auto record = svc->get_run(run->run_id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->status, RunStatus::failed);
  EXPECT_EQ(record->error, "interrupted by shutdown");
  EXPECT_EQ(record->sources[0].status, SourceStatus::succeeded) << "what landed before the stop stays landed";
  EXPECT_EQ(record->sources[1].status, SourceStatus::failed);

  auto store = open_object_store(config_.raw_url, config_.aws);
  auto listed = (*store)->list("to_be_processed/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u) << "only the source that finished may have an object";
}

// A bus that is down for publishing.
class DownBus final : public EventBus {
 public:
  Status publish(const std::string&, const std::string&, const std::string&, const MessageHeaders&) override {
    ++attempts;
    return make_error(Errc::unavailable, "broker down");
  }
  Result<std::unique_ptr<Consumer>> subscribe(const std::vector<std::string>&, const std::string&) override {
    return make_error(Errc::unavailable, "broker down");
  }
  Status ping() override { return make_error(Errc::unavailable, "broker down"); }
  std::string name() const override { return "down"; }
  std::atomic<int> attempts{0};
};

TEST_F(ExtractorServiceTest, AnEventThatCannotBePublishedLeavesTheObjectAndSaysSo) {
  api_->set_body(items_url(kA), kPage);
  auto bus = std::make_shared<DownBus>();
  auto svc = ExtractorService::create(config_, bus, api_);
  ASSERT_TRUE(svc.ok());
  ASSERT_TRUE((*svc)->start().ok());
  auto run = finish(**svc, request({{SourceType::playlist, kA}}));
  EXPECT_EQ(run.status, RunStatus::succeeded) << "the object is durable; the transformer's scan finds it";
  EXPECT_GT(bus->attempts.load(), 1) << "publishing must be retried";
  EXPECT_NE(run.sources[0].error.find("could not be published"), std::string::npos) << run.sources[0].error;
  auto store = open_object_store(config_.raw_url, config_.aws);
  EXPECT_TRUE((*store)->head(run.sources[0].object_key).ok());
}

TEST_F(ExtractorServiceTest, ScheduleWithoutSourcesIsAConfigurationError) {
  config_.schedule = "@hourly";
  auto svc = ExtractorService::create(config_, bus_, api_);
  ASSERT_FALSE(svc.ok());
  EXPECT_EQ(svc.error().code, Errc::invalid_argument);
  EXPECT_EQ(svc.error().message.rfind("ETL_SCHEDULE", 0), 0u) << svc.error().message;
}

TEST_F(ExtractorServiceTest, ScheduledRunsFireWithTriggerScheduleAndNeverOverlap) {
  config_.schedule = "@every 1s";
  config_.sources = {{SourceType::playlist, kA}};
  api_->set_body(items_url(kA), kPage);
  std::atomic<bool> release{false};
  api_->on_call = [&](const std::string&, std::stop_token stop) {
    while (!release && !stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };
  auto svc = start();
  ASSERT_TRUE(wait_until([&] { return !svc->list_runs(10).empty(); }, std::chrono::seconds(5)))
      << "@every 1s must start a run";
  auto skipped = [&] { return svc->metrics().render().find("spotify_etl_extractor_scheduled_runs_skipped_total 1") != std::string::npos; };
  ASSERT_TRUE(wait_until(skipped, std::chrono::seconds(5))) << "a fire during the unfinished run must be skipped";
  EXPECT_EQ(svc->list_runs(10).size(), 1u) << "no second scheduled run while the first is going";
  release = true;
  auto first = svc->list_runs(10).back();
  EXPECT_EQ(first.trigger, "schedule");
  ASSERT_TRUE(wait_until([&] { return svc->list_runs(10).size() >= 2; }, std::chrono::seconds(5)));
}

}  // namespace
}  // namespace etl::extractor
