// Conformance of the EventBus contract (at-least-once, ack after durable work)
// on the in-process bus, and the ConsumerLoop's retry and dead-letter policy.
#include "etl/consumer_loop.h"
#include "etl/memory_bus.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace etl {
namespace {

using namespace std::chrono_literals;

TEST(MemoryBus, DeliversInOrderWithKeysAndHeaders) {
  auto bus = make_memory_bus();
  ASSERT_TRUE(bus->publish("t", "k1", "v1", {{"h", "1"}}).ok());
  ASSERT_TRUE(bus->publish("t", "k2", "v2").ok());
  auto consumer = bus->subscribe({"t"}, "g");
  ASSERT_TRUE(consumer.ok());
  auto m1 = (*consumer)->poll(100ms);
  ASSERT_TRUE(m1.ok() && m1->has_value());
  EXPECT_EQ((*m1)->key, "k1");
  EXPECT_EQ((*m1)->value, "v1");
  ASSERT_EQ((*m1)->headers.size(), 1u);
  auto m2 = (*consumer)->poll(100ms);
  ASSERT_TRUE(m2.ok() && m2->has_value());
  EXPECT_EQ((*m2)->key, "k2");
  auto none = (*consumer)->poll(20ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(MemoryBus, UnacknowledgedMessagesAreRedeliveredToTheNextConsumer) {
  auto bus = make_memory_bus();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bus->publish("t", std::to_string(i), "v").ok());
  {
    auto c = std::move(bus->subscribe({"t"}, "g")).value();
    auto m0 = c->poll(100ms);
    ASSERT_TRUE(c->ack(**m0).ok());
    auto m1 = c->poll(100ms);  // taken, never acknowledged: the consumer "crashes"
    ASSERT_TRUE(m1->has_value());
    c->close();
  }
  EXPECT_EQ(bus->committed("g", "t"), 1);
  auto c2 = std::move(bus->subscribe({"t"}, "g")).value();
  auto again = c2->poll(100ms);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->key, "1") << "message 1 was never acknowledged, so it must come again";
}

TEST(MemoryBus, GroupsConsumeIndependently) {
  auto bus = make_memory_bus();
  ASSERT_TRUE(bus->publish("t", "k", "v").ok());
  auto a = std::move(bus->subscribe({"t"}, "a")).value();
  auto b = std::move(bus->subscribe({"t"}, "b")).value();
  EXPECT_TRUE(a->poll(100ms)->has_value());
  EXPECT_TRUE(b->poll(100ms)->has_value());
}

TEST(MemoryBus, PollWakesUpOnPublish) {
  auto bus = make_memory_bus();
  auto c = std::move(bus->subscribe({"t"}, "g")).value();
  std::thread publisher([&] {
    std::this_thread::sleep_for(50ms);
    (void)bus->publish("t", "late", "v");
  });
  auto start = std::chrono::steady_clock::now();
  auto m = c->poll(5s);
  publisher.join();
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
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
