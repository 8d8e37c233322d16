// The event bus seam: Kafka in distributed mode, an in-process log in
// `spotify-etl up`. Both give the same at-least-once contract: a consumer's
// position only moves past a message when it is acknowledged, which the caller
// does after its work is durable; an unacknowledged message is delivered again
// to the next consumer of the group (after a restart, a rebalance or a close).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etl/config.h"
#include "etl/result.h"

namespace etl {

using MessageHeaders = std::vector<std::pair<std::string, std::string>>;

struct Message {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  MessageHeaders headers;
};

// One message to publish: what Message carries before the bus gives it a place.
struct OutgoingMessage {
  std::string key;
  std::string value;
  MessageHeaders headers;
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  Consumer() = default;
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // The next message, or nullopt when none arrived within `timeout`.
  virtual Result<std::optional<Message>> poll(std::chrono::milliseconds timeout) = 0;
  // Commits the position past `message` in its partition. Only after the work is durable.
  virtual Status ack(const Message& message) = 0;
  // Leaves the group; unacknowledged messages go to the group's other or next consumer.
  virtual void close() = 0;
  // Called instead of poll() while the caller waits (an outage being waited out with the
  // message in hand): keeps the group membership alive and serves rebalances without
  // delivering or fetching messages; the next poll() carries on where delivery stopped.
  // Call it at least every few seconds during such a wait. A no-op where nothing expires.
  virtual void keep_alive() {}
};

class EventBus {
 public:
  virtual ~EventBus() = default;
  EventBus() = default;
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Returns once the message is durable on the bus (Kafka: acknowledged by the brokers).
  virtual Status publish(const std::string& topic, const std::string& key, const std::string& value,
                         const MessageHeaders& headers = {}) = 0;
  // Publishes several messages together and returns once all are durable (Kafka:
  // all sent at once, one wait for their acknowledgements). On an error some may
  // be on the bus already: the caller retries the whole batch (at least once).
  virtual Status publish_batch(const std::string& topic, const std::vector<OutgoingMessage>& messages) {
    for (const auto& m : messages) ETL_RETURN_IF_ERROR(publish(topic, m.key, m.value, m.headers));
    return {};
  }
  virtual Result<std::unique_ptr<Consumer>> subscribe(const std::vector<std::string>& topics, const std::string& group) = 0;
  // Reachability for /readyz.
  virtual Status ping() = 0;
  virtual std::string name() const = 0;
};

// The in-process bus; in tests also used to read what a service published.
class MemoryBus;
std::shared_ptr<MemoryBus> make_memory_bus();

// Builds the bus the configuration names ("memory" or "kafka").
Result<std::shared_ptr<EventBus>> open_event_bus(const Config& config, const std::string& client_id);

}  // namespace etl
