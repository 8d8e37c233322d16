// The in-process event bus: one append-only log per topic (a single partition),
// consumer groups with a committed offset, redelivery of unacknowledged messages
// when a consumer closes. Used by `spotify-etl up` and the tests.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "etl/event_bus.h"

namespace etl {

class MemoryBus final : public EventBus, public std::enable_shared_from_this<MemoryBus> {
 public:
  Status publish(const std::string& topic, const std::string& key, const std::string& value,
                 const MessageHeaders& headers = {}) override;
  Result<std::unique_ptr<Consumer>> subscribe(const std::vector<std::string>& topics, const std::string& group) override;
  Status ping() override { return {}; }
  std::string name() const override { return "memory"; }

  // Everything published on `topic` so far (tests and the demo).
  std::vector<Message> messages(const std::string& topic) const;
  // The committed offset of `group` on `topic` (0 = nothing acknowledged).
  std::int64_t committed(const std::string& group, const std::string& topic) const;
  // Unique to this bus (random): its offsets mean nothing to another one, e.g. after a restart.
  const std::string& incarnation() const noexcept { return incarnation_; }

 private:
  friend class MemoryConsumer;
  struct GroupState {
    std::int64_t committed = 0;       // every offset below is done
    std::int64_t next = 0;            // the next offset to hand out
    std::set<std::int64_t> acked;     // acknowledged above `committed`
  };
  std::optional<Message> take(const std::vector<std::string>& topics, const std::string& group);
  void ack(const std::string& group, const Message& m);
  void rewind(const std::string& group, const std::vector<std::string>& topics);

  std::string incarnation_ = new_incarnation();
  static std::string new_incarnation();
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<Message>> topics_;
  std::map<std::pair<std::string, std::string>, GroupState> groups_;  // (group, topic)
};

}  // namespace etl
