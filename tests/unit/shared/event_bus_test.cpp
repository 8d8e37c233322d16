// Conformance of the EventBus contract (at-least-once, ack after durable work)
// on every backend: the in-process bus always, Kafka when ETL_TEST_KAFKA_BOOTSTRAP
// names a broker. Then the ConsumerLoop's retry and dead-letter policy.
#include "etl/consumer_loop.h"
#include "etl/memory_bus.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>

#include "test_support.h"

namespace etl {
namespace {

using namespace std::chrono_literals;

struct BusBackend {
  std::string name;
  std::function<std::shared_ptr<EventBus>()> open;  // nullptr: not configured here
};

class EventBusConformance : public ::testing::TestWithParam<BusBackend> {
 protected:
  void SetUp() override {
    bus_ = GetParam().open();
    if (!bus_) GTEST_SKIP() << GetParam().name << " bus not configured";
    static std::atomic<int> n{0};
    // The Kafka broker is shared by the whole suite: names are unique per run.
    suffix_ = std::to_string(::getpid()) + "-" +
              std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000000) + "-" +
              std::to_string(n++);
    topic_ = std::string("conformance-") + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + suffix_;
    for (auto& c : topic_)
      if (c == '/') c = '-';
  }

  std::string group(const std::string& name) const { return name + "-" + suffix_; }

  std::unique_ptr<Consumer> subscribe(const std::string& group_name) {
    auto c = bus_->subscribe({topic_}, group(group_name));
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // The next message, polling up to `within` (Kafka needs a moment to join the group).
  static std::optional<Message> next(Consumer& c, std::chrono::milliseconds within = 15s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    do {
      auto m = c.poll(100ms);
      if (m.ok() && m->has_value()) return std::move(**m);
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
  }

  std::shared_ptr<EventBus> bus_;
  std::string suffix_;
  std::string topic_;
};

TEST_P(EventBusConformance, DeliversInOrderWithKeysAndHeaders) {
  ASSERT_TRUE(bus_->publish(topic_, "k1", "v1", {{"h", "1"}}).ok());
  ASSERT_TRUE(bus_->publish(topic_, "k2", "v2").ok());
  auto consumer = subscribe("g");
  auto m1 = next(*consumer);
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->topic, topic_);
  EXPECT_EQ(m1->key, "k1");
  EXPECT_EQ(m1->value, "v1");
  EXPECT_EQ(m1->headers, (MessageHeaders{{"h", "1"}}));
  auto m2 = next(*consumer);
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->key, "k2");
  EXPECT_TRUE(m2->headers.empty());
  EXPECT_GT(m2->offset, m1->offset);
  auto none = consumer->poll(200ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(EventBusConformance, ABatchIsDeliveredWholeWithKeysAndHeaders) {
  std::vector<OutgoingMessage> batch;
  for (int i = 0; i < 5; ++i) batch.push_back({"same-key", "v" + std::to_string(i), {{"n", std::to_string(i)}}});
  ASSERT_TRUE(bus_->publish_batch(topic_, batch).ok());
  ASSERT_TRUE(bus_->publish_batch(topic_, {}).ok()) << "an empty batch is nothing to do";
  auto consumer = subscribe("g");
  for (int i = 0; i < 5; ++i) {
    auto m = next(*consumer);
    ASSERT_TRUE(m) << "message " << i;
    EXPECT_EQ(m->key, "same-key");
    EXPECT_EQ(m->value, "v" + std::to_string(i)) << "one key keeps its order";
    EXPECT_EQ(m->headers, (MessageHeaders{{"n", std::to_string(i)}}));
  }
  auto none = consumer->poll(200ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(EventBusConformance, UnacknowledgedMessagesAreRedeliveredToTheNextConsumer) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bus_->publish(topic_, std::to_string(i), "v").ok());
  {
    auto c = subscribe("g");
    auto m0 = next(*c);
    ASSERT_TRUE(m0);
    ASSERT_TRUE(c->ack(*m0).ok());
    auto m1 = next(*c);  // taken, never acknowledged: the consumer "crashes"
    ASSERT_TRUE(m1);
    c->close();
  }
  auto c2 = subscribe("g");
  auto again = next(*c2);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->key, "1") << "message 1 was never acknowledged, so it must come again";
}

TEST_P(EventBusConformance, AcknowledgedMessagesAreNotDeliveredAgain) {
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(bus_->publish(topic_, std::to_string(i), "v").ok());
  {
    auto c = subscribe("g");
    for (int i = 0; i < 2; ++i) {
      auto m = next(*c);
      ASSERT_TRUE(m);
      ASSERT_TRUE(c->ack(*m).ok());
    }
    c->close();
  }
  ASSERT_TRUE(bus_->publish(topic_, "after", "v").ok());
  auto c2 = subscribe("g");
  auto m = next(*c2);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->key, "after") << "the group's position must be past every acknowledged message";
}

TEST_P(EventBusConformance, GroupsConsumeIndependently) {
  ASSERT_TRUE(bus_->publish(topic_, "k", "v").ok());
  auto a = subscribe("a");
  auto b = subscribe("b");
  EXPECT_TRUE(next(*a).has_value());
  EXPECT_TRUE(next(*b).has_value());
}

TEST_P(EventBusConformance, PollWakesUpOnPublish) {
  auto c = subscribe("g");
  ASSERT_TRUE(bus_->publish(topic_, "warm-up", "v").ok());  // the consumer is in its group once this arrived
  auto warm = next(*c);
  ASSERT_TRUE(warm);
  ASSERT_TRUE(c->ack(*warm).ok());
  std::thread publisher([&] {
    std::this_thread::sleep_for(50ms);
    (void)bus_->publish(topic_, "late", "v");
  });
  auto start = std::chrono::steady_clock::now();
  auto m = c->poll(5s);
  publisher.join();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->key, "late");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_P(EventBusConformance, KeepAliveDeliversNothingAndLosesNothing) {
  ASSERT_TRUE(bus_->publish(topic_, "0", "v").ok());
  ASSERT_TRUE(bus_->publish(topic_, "1", "v").ok());
  auto c = subscribe("g");
  auto in_hand = next(*c);
  ASSERT_TRUE(in_hand);
  for (int i = 0; i < 3; ++i) c->keep_alive();
  ASSERT_TRUE(c->ack(*in_hand).ok());
  auto m = next(*c);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->key, "1");
}

INSTANTIATE_TEST_SUITE_P(
    Backends, EventBusConformance,
    ::testing::Values(BusBackend{"memory", [] { return std::shared_ptr<EventBus>(make_memory_bus()); }},
                      BusBackend{"kafka",
                                 []() -> std::shared_ptr<EventBus> {
                                   const char* bootstrap = std::getenv("ETL_TEST_KAFKA_BOOTSTRAP");
                                   if (bootstrap == nullptr || *bootstrap == '\0') return nullptr;
                                   Config cfg;
                                   cfg.bus = "kafka";
                                   cfg.kafka_bootstrap_servers = bootstrap;
                                   cfg.topic_partitions = 1;  // the order tests need one partition
                                   auto bus = open_event_bus(cfg, "conformance");
                                   EXPECT_TRUE(bus.ok()) << bus.error().message;
                                   return bus.ok() ? *bus : nullptr;
                                 }}),
    [](const ::testing::TestParamInfo<BusBackend>& info) { return info.param.name; });

TEST(MemoryBus, CommittedCountsTheAcknowledgedPrefix) {
  auto bus = make_memory_bus();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bus->publish("t", std::to_string(i), "v").ok());
  auto c = std::move(bus->subscribe({"t"}, "g")).value();
  auto m0 = c->poll(100ms);
  auto m1 = c->poll(100ms);
  ASSERT_TRUE(m0.ok() && m0->has_value() && m1.ok() && m1->has_value());
  ASSERT_TRUE(c->ack(**m1).ok());
  EXPECT_EQ(bus->committed("g", "t"), 0) << "0 is unfinished: the position may not move past it";
  ASSERT_TRUE(c->ack(**m0).ok());
  EXPECT_EQ(bus->committed("g", "t"), 2);
}

ConsumerLoopOptions fast_options() {
  ConsumerLoopOptions o;
  o.name = "test";
  o.topics = {"in"};
  o.group = "g";
  o.dlq_topic = "dlq";
  o.max_attempts = 3;
  o.initial_backoff = 1ms;
  o.max_backoff = 5ms;
  o.poll_timeout = 20ms;
  return o;
}

TEST(ConsumerLoop, AcknowledgesOnlyAfterTheHandlerSucceeds) {
  auto bus = make_memory_bus();
  MetricsRegistry metrics;
  std::atomic<int> calls{0};
  ConsumerLoop loop(bus, fast_options(), [&](const Message&) { ++calls; return Status{}; }, metrics);
  ASSERT_TRUE(loop.start().ok());
  ASSERT_TRUE(bus->publish("in", "k", "v").ok());
  ASSERT_TRUE(testing::wait_until([&] { return bus->committed("g", "in") == 1; }));
  loop.stop();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(bus->messages("dlq").empty());
}

TEST(ConsumerLoop, PoisonMessagesGoToTheDlqWithHeadersAndTheQueueKeepsMoving) {
  auto bus = make_memory_bus();
  MetricsRegistry metrics;
  std::atomic<int> poison_calls{0};
  std::atomic<int> good{0};
  ConsumerLoop loop(
      bus, fast_options(),
      [&](const Message& m) -> Status {
        if (m.value == "poison") {
          ++poison_calls;
          return make_error(Errc::bad_data, "not JSON at byte 0");
        }
        ++good;
        return {};
      },
      metrics);
  ASSERT_TRUE(loop.start().ok());
  ASSERT_TRUE(bus->publish("in", "bad-key", "poison").ok());
  ASSERT_TRUE(bus->publish("in", "good-key", "fine").ok());
  ASSERT_TRUE(testing::wait_until([&] { return bus->committed("g", "in") == 2; }));
  loop.stop();
  EXPECT_EQ(poison_calls.load(), 3) << "bounded retries: max_attempts";
  EXPECT_EQ(good.load(), 1);
  auto dead = bus->messages("dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "bad-key");
  EXPECT_EQ(dead[0].value, "poison");
  auto header = [&](const std::string& name) {
    for (const auto& [k, v] : dead[0].headers)
      if (k == name) return v;
    return std::string("<missing>");
  };
  EXPECT_EQ(header("x-error"), "not JSON at byte 0");
  EXPECT_EQ(header("x-error-code"), "bad_data");
  EXPECT_EQ(header("x-source-topic"), "in");
  EXPECT_EQ(header("x-attempts"), "3");
}

// A handler that throws on a message: failed attempts, then the dead-letter
// topic with the reason, and the next message is handled (before, the exception
// ended the process).
TEST(ConsumerLoop, AHandlerThatThrowsSendsTheMessageToTheDlqAndGoesOn) {
  auto bus = make_memory_bus();
  MetricsRegistry metrics;
  std::atomic<int> throws{0};
  std::atomic<int> good{0};
  ConsumerLoop loop(
      bus, fast_options(),
      [&](const Message& m) -> Status {
        if (m.value == "poison") {
          ++throws;
          throw std::runtime_error("type must be string, but is number");
        }
        ++good;
        return {};
      },
      metrics);
  ASSERT_TRUE(loop.start().ok());
  ASSERT_TRUE(bus->publish("in", "bad-key", "poison").ok());
  ASSERT_TRUE(bus->publish("in", "good-key", "fine").ok());
  ASSERT_TRUE(testing::wait_until([&] { return bus->committed("g", "in") == 2; }));
  loop.stop();
  EXPECT_EQ(throws.load(), 3) << "bounded retries: max_attempts";
  EXPECT_EQ(good.load(), 1);
  auto dead = bus->messages("dlq");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].key, "bad-key");
  bool reason = false;
  for (const auto& [k, v] : dead[0].headers)
    if (k == "x-error") reason = v == "internal error: type must be string, but is number";
  EXPECT_TRUE(reason);
}

TEST(ConsumerLoop, DependencyOutagesAreWaitedOutNotDeadLettered) {
  auto bus = make_memory_bus();
  MetricsRegistry metrics;
  std::atomic<int> calls{0};
  ConsumerLoop loop(
      bus, fast_options(),
      [&](const Message&) -> Status {
        if (++calls < 10) return make_error(Errc::unavailable, "object store down");
        return {};
      },
      metrics);
  ASSERT_TRUE(loop.start().ok());
  ASSERT_TRUE(bus->publish("in", "k", "v").ok());
  ASSERT_TRUE(testing::wait_until([&] { return bus->committed("g", "in") == 1; }));
  loop.stop();
  EXPECT_EQ(calls.load(), 10);
  EXPECT_TRUE(bus->messages("dlq").empty()) << "an outage must not send data to the DLQ";
}

// The in-process bus with consumers that count keep_alive() calls (Kafka's need).
class KeepAliveCountingBus final : public EventBus {
 public:
  std::shared_ptr<MemoryBus> inner = make_memory_bus();
  std::atomic<int> keep_alives{0};

  Status publish(const std::string& topic, const std::string& key, const std::string& value,
                 const MessageHeaders& headers = {}) override {
    return inner->publish(topic, key, value, headers);
  }
  Result<std::unique_ptr<Consumer>> subscribe(const std::vector<std::string>& topics, const std::string& group) override {
    auto c = inner->subscribe(topics, group);
    if (!c) return std::move(c).error();
    return std::unique_ptr<Consumer>(std::make_unique<Counting>(std::move(c).value(), keep_alives));
  }
  Status ping() override { return {}; }
  std::string name() const override { return "counting"; }

 private:
  class Counting final : public Consumer {
   public:
    Counting(std::unique_ptr<Consumer> c, std::atomic<int>& n) : c_(std::move(c)), n_(n) {}
    Result<std::optional<Message>> poll(std::chrono::milliseconds t) override { return c_->poll(t); }
    Status ack(const Message& m) override { return c_->ack(m); }
    void close() override { c_->close(); }
    void keep_alive() override { ++n_; }

   private:
    std::unique_ptr<Consumer> c_;
    std::atomic<int>& n_;
  };
};

TEST(ConsumerLoop, KeepsTheConsumerAliveWhileWaitingOutAnOutage) {
  auto bus = std::make_shared<KeepAliveCountingBus>();
  MetricsRegistry metrics;
  std::atomic<int> calls{0};
  auto options = fast_options();
  options.initial_backoff = 20ms;
  ConsumerLoop loop(
      bus, options,
      [&](const Message&) -> Status {
        if (++calls < 5) return make_error(Errc::unavailable, "object store down");
        return {};
      },
      metrics);
  ASSERT_TRUE(loop.start().ok());
  ASSERT_TRUE(bus->publish("in", "k", "v").ok());
  ASSERT_TRUE(testing::wait_until([&] { return bus->inner->committed("g", "in") == 1; }));
  loop.stop();
  EXPECT_GE(bus->keep_alives.load(), 4) << "every wait with the message in hand must keep the consumer alive "
                                           "(Kafka would otherwise drop it from the group after max.poll.interval.ms)";
}

TEST(ConsumerLoop, StopDuringAnOutageLeavesTheMessageForTheNextConsumer) {
  auto bus = make_memory_bus();
  MetricsRegistry metrics;
  std::atomic<int> calls{0};
  auto options = fast_options();
  options.initial_backoff = 50ms;
  {
    ConsumerLoop loop(bus, options, [&](const Message&) -> Status {
      ++calls;
      return make_error(Errc::unavailable, "down");
    }, metrics);
    ASSERT_TRUE(loop.start().ok());
    ASSERT_TRUE(bus->publish("in", "k", "v").ok());
    ASSERT_TRUE(testing::wait_until([&] { return calls.load() >= 1; }));
    loop.stop();
  }
  EXPECT_EQ(bus->committed("g", "in"), 0);
  auto next = std::move(bus->subscribe({"in"}, "g")).value();
  auto m = next->poll(100ms);
  ASSERT_TRUE(m.ok() && m->has_value()) << "the unfinished message must be delivered again";
}

}  // namespace
}  // namespace etl
