#include "etl/memory_bus.h"

#include <atomic>
#include <cstdio>
#include <random>

namespace etl {

class MemoryConsumer final : public Consumer {
 public:
  MemoryConsumer(std::shared_ptr<MemoryBus> bus, std::vector<std::string> topics, std::string group)
      : bus_(std::move(bus)), topics_(std::move(topics)), group_(std::move(group)) {}
  ~MemoryConsumer() override { close(); }

  Result<std::optional<Message>> poll(std::chrono::milliseconds timeout) override {
    if (closed_) return make_error(Errc::cancelled, "consumer closed");
    std::unique_lock lock(bus_->mutex_);
    std::optional<Message> m;
    bus_->cv_.wait_for(lock, timeout, [&] {
      lock.unlock();
      m = bus_->take(topics_, group_);
      lock.lock();
      return m.has_value();
    });
    return m;
  }

  Status ack(const Message& message) override {
    bus_->ack(group_, message);
    return {};
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    bus_->rewind(group_, topics_);
  }

 private:
  std::shared_ptr<MemoryBus> bus_;
  std::vector<std::string> topics_;
  std::string group_;
  bool closed_ = false;
};

std::shared_ptr<MemoryBus> make_memory_bus() { return std::make_shared<MemoryBus>(); }

std::string MemoryBus::new_incarnation() {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08x%04x", rd(), counter++ & 0xffff);
  return buf;
}

Status MemoryBus::publish(const std::string& topic, const std::string& key, const std::string& value,
                          const MessageHeaders& headers) {
  {
    std::lock_guard lock(mutex_);
    auto& log = topics_[topic];
    log.push_back(Message{topic, 0, static_cast<std::int64_t>(log.size()), key, value, headers});
  }
  cv_.notify_all();
  return {};
}

Result<std::unique_ptr<Consumer>> MemoryBus::subscribe(const std::vector<std::string>& topics, const std::string& group) {
  if (topics.empty()) return make_error(Errc::invalid_argument, "subscribe needs at least one topic");
  return std::unique_ptr<Consumer>(std::make_unique<MemoryConsumer>(shared_from_this(), topics, group));
}

std::optional<Message> MemoryBus::take(const std::vector<std::string>& topics, const std::string& group) {
  std::lock_guard lock(mutex_);
  for (const auto& topic : topics) {
    auto& log = topics_[topic];
    auto& state = groups_[{group, topic}];
    if (state.next < static_cast<std::int64_t>(log.size())) return log[static_cast<size_t>(state.next++)];
  }
  return std::nullopt;
}

void MemoryBus::ack(const std::string& group, const Message& m) {
  std::lock_guard lock(mutex_);
  auto& state = groups_[{group, m.topic}];
  if (m.offset < state.committed) return;
  state.acked.insert(m.offset);
  while (!state.acked.empty() && *state.acked.begin() == state.committed) {
    state.acked.erase(state.acked.begin());
    ++state.committed;
  }
}

void MemoryBus::rewind(const std::string& group, const std::vector<std::string>& topics) {
  {
    std::lock_guard lock(mutex_);
    // Unacknowledged messages are handed out again (at-least-once).
    for (const auto& topic : topics) {
      auto& state = groups_[{group, topic}];
      state.next = state.committed;
      state.acked.clear();
    }
  }
  cv_.notify_all();
}

std::vector<Message> MemoryBus::messages(const std::string& topic) const {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? std::vector<Message>{} : it->second;
}

std::int64_t MemoryBus::committed(const std::string& group, const std::string& topic) const {
  std::lock_guard lock(mutex_);
  auto it = groups_.find({group, topic});
  return it == groups_.end() ? 0 : it->second.committed;
}

}  // namespace etl
