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

}  // namespace
}  // namespace etl::transformer
