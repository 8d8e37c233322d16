// How a BatchConsumer cuts a backlog it takes in slowly (a transformer behind, or
// held to a small CPU share): the time rules wait until the consumer runs dry, so a
// partition whose events sit behind another partition's in the consumer's queue is
// not cut for being "quiet". Driven here without a service: a BatchConsumer over a
// scripted consumer (the order and pace of delivery) and a BatchRunner over file stores.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "batch_consumer.h"
#include "forwarding_store.h"
#include "transformer_env.h"

namespace etl::transformer {
namespace {

using namespace std::chrono_literals;
using testenv::Env;
using testenv::raw_name;
using testenv::raw_playlist;
using testenv::read_event;
using testenv::Side;

// Hands out its messages in the given order, each `pace` after the previous one
// (the process is slow to take them), then finds nothing.
class ScriptedConsumer final : public Consumer {
 public:
  ScriptedConsumer(std::vector<Message> script, std::chrono::milliseconds pace, std::atomic<int>& acked)
      : script_(std::move(script)), pace_(pace), acked_(acked) {}
  Result<std::optional<Message>> poll(std::chrono::milliseconds timeout) override {
    if (next_ == script_.size()) {
      std::this_thread::sleep_for(timeout);
      return std::optional<Message>{};
    }
    std::this_thread::sleep_for(pace_);
    return std::optional<Message>{script_[next_++]};
  }
  Status ack(const Message&) override {
    ++acked_;
    return {};
  }
  void close() override {}

 private:
  std::vector<Message> script_;
  std::size_t next_ = 0;
  std::chrono::milliseconds pace_;
  std::atomic<int>& acked_;
};

class ScriptedBus final : public EventBus {
 public:
  ScriptedBus(std::vector<Message> script, std::chrono::milliseconds pace) : script_(std::move(script)), pace_(pace) {}
  Status publish(const std::string&, const std::string&, const std::string&, const MessageHeaders&) override {
    return make_error(Errc::internal, "nothing here is dead-lettered");
  }
  Result<std::unique_ptr<Consumer>> subscribe(const std::vector<std::string>&, const std::string&) override {
    return std::unique_ptr<Consumer>(std::make_unique<ScriptedConsumer>(script_, pace_, acked));
  }
  Status ping() override { return {}; }
  std::string name() const override { return "scripted"; }
  std::atomic<int> acked{0};

 private:
  std::vector<Message> script_;
  std::chrono::milliseconds pace_;
};

TEST(TransformerBatchCut, APartitionWaitingBehindAnothersBacklogIsNotCutAsQuiet) {
  Env env;
  const std::string topic = env.config.topic_raw;
  // Delivery order: 2 events of partition 0, 4 of partition 1, 2 more of partition 0,
  // each 25 ms after the last: partition 0 gets nothing for 100 ms, 2.5 lingers.
  const std::vector<std::pair<int, int>> order = {{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {1, 3}, {0, 2}, {0, 3}};
  std::vector<Message> script;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::string key = env.land(raw_name(static_cast<int>(i)), raw_playlist(static_cast<int>(i)));
    script.push_back(Message{topic, order[i].first, order[i].second, env.raw->event_key(key), env.created_event(key), {}});
  }
  auto bus = std::make_shared<ScriptedBus>(script, 25ms);

  Side side(env.raw, env.transformed, env);
  BatchConsumerOptions options;
  options.topics = {topic};
  options.group = "batch-cut-test";
  options.batch_events = 4;
  options.linger = 40ms;
  BatchConsumer consumer(bus, options, [&](Message m) { return read_event(*env.raw, std::move(m)); }, *side.runner,
                         *env.transformed, side.registry);
  ASSERT_TRUE(consumer.start().ok());
  ASSERT_TRUE(etl::testing::wait_until([&] { return bus->acked.load() == 8; }, 30s)) << bus->acked.load() << " acked";
  consumer.stop();

  std::vector<std::string> cuts;
  for (const auto& key : env.transformed_keys("_transformer/batches/")) {
    auto manifest = decode_manifest(env.transformed_bytes(key));
    ASSERT_TRUE(manifest.ok()) << key;
    cuts.push_back(std::to_string(manifest->partition) + ":" + std::to_string(manifest->first) + "-" +
                   std::to_string(manifest->last));
  }
  std::sort(cuts.begin(), cuts.end());
  EXPECT_EQ(cuts, (std::vector<std::string>{"0:0-3", "1:0-3"})) << "one full batch per partition, cut on its events";
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "80");
  EXPECT_TRUE(env.raw->list("to_be_processed/").value().empty());
}

// Hands out one message, noting when, then finds nothing; notes when it is acked.
class OneMessageConsumer final : public Consumer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit OneMessageConsumer(Message m) : message_(std::move(m)) {}
  Result<std::optional<Message>> poll(std::chrono::milliseconds timeout) override {
    if (handed_) {
      std::this_thread::sleep_for(timeout);
      return std::optional<Message>{};
    }
    handed_ = true;
    delivered = Clock::now();
    return std::optional<Message>{message_};
  }
  Status ack(const Message&) override {
    acked = Clock::now().time_since_epoch().count();
    return {};
  }
  void close() override {}
  Clock::time_point delivered;  // written and read on the consumer's thread, read after stop
  std::atomic<Clock::rep> acked{0};

 private:
  Message message_;
  bool handed_ = false;
};

class OneMessageBus final : public EventBus {
 public:
  explicit OneMessageBus(Message m) : message_(std::move(m)) {}
  Status publish(const std::string&, const std::string&, const std::string&, const MessageHeaders&) override {
    return make_error(Errc::internal, "nothing here is dead-lettered");
  }
  Result<std::unique_ptr<Consumer>> subscribe(const std::vector<std::string>&, const std::string&) override {
    auto c = std::make_unique<OneMessageConsumer>(message_);
    consumer = c.get();
    return std::unique_ptr<Consumer>(std::move(c));
  }
  Status ping() override { return {}; }
  std::string name() const override { return "one message"; }
  OneMessageConsumer* consumer = nullptr;

 private:
  Message message_;
};

// The transformed store whose lookups of open batch manifests take `delay` (S3 far away).
class SlowLookupStore final : public etl::testing::ForwardingStore {
 public:
  SlowLookupStore(std::shared_ptr<ObjectStore> inner, std::chrono::milliseconds delay)
      : ForwardingStore(std::move(inner)), delay_(delay) {}
  Result<std::string> get(const std::string& key, std::uint64_t max) override {
    if (key.starts_with("_transformer/open/")) std::this_thread::sleep_for(delay_);
    return inner_->get(key, max);
  }

 private:
  std::chrono::milliseconds delay_;
};

// A batch's linger counts from its first event's arrival, not from the end of the
// lookup of a manifest at its offset: with a 2 s lookup and a 1.5 s linger, the
// batch is cut once the lookup is back (about 2 s after the event), not 1.5 s later.
TEST(TransformerBatchCut, TheLingerCountsFromTheEventNotFromTheManifestLookup) {
  Env env;
  const std::string key = env.land(raw_name(0), raw_playlist(0));
  auto bus = std::make_shared<OneMessageBus>(
      Message{env.config.topic_raw, 0, 0, env.raw->event_key(key), env.created_event(key), {}});
  SlowLookupStore manifests(env.transformed, 2000ms);
  Side side(env.raw, env.transformed, env);
  BatchConsumerOptions options;
  options.topics = {env.config.topic_raw};
  options.group = "linger-test";
  options.linger = 1500ms;
  BatchConsumer consumer(bus, options, [&](Message m) { return read_event(*env.raw, std::move(m)); }, *side.runner,
                         manifests, side.registry);
  ASSERT_TRUE(consumer.start().ok());
  ASSERT_TRUE(etl::testing::wait_until([&] { return bus->consumer && bus->consumer->acked.load() != 0; }, 30s));
  consumer.stop();
  const auto acked = OneMessageConsumer::Clock::time_point(OneMessageConsumer::Clock::duration(bus->consumer->acked.load()));
  const auto took = acked - bus->consumer->delivered;
  EXPECT_GE(took, 2000ms) << "the lookup was not waited for";
  EXPECT_LT(took, 3200ms) << "the linger started after the lookup: "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_EQ(env.sql_value("SELECT count(*) FROM read_parquet('{root}/songs_data/*/*.parquet')"), "10");
}

}  // namespace
}  // namespace etl::transformer
