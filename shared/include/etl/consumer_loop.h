// Runs one consumer on its own thread: poll, hand the message to the handler,
// acknowledge after the handler succeeded (its work is durable by then).
// Failures: a dependency that is down (unavailable, timeout) is retried with
// capped exponential backoff for as long as it takes, without acknowledging, so
// nothing is lost; any other failure (bad data, too large, a bug) is retried a
// bounded number of times, then the message goes to the dead-letter topic with
// headers naming the error, the source and the attempts, and is acknowledged so
// the partition keeps moving.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "etl/event_bus.h"
#include "etl/metrics.h"

namespace etl {

struct ConsumerLoopOptions {
  std::string name;                                   // for logs and metrics ("transformer")
  std::vector<std::string> topics;
  std::string group;                                  // consumer group
  std::string dlq_topic;                              // dead letters
  int max_attempts = 3;                               // for permanent failures, before the DLQ
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds poll_timeout{200};
};

using MessageHandler = std::function<Status(const Message&)>;

class ConsumerLoop final {
 public:
  ConsumerLoop(std::shared_ptr<EventBus> bus, ConsumerLoopOptions options, MessageHandler handler,
               MetricsRegistry& metrics);
  ~ConsumerLoop();
  ConsumerLoop(const ConsumerLoop&) = delete;
  ConsumerLoop& operator=(const ConsumerLoop&) = delete;

  Status start();
  // Finishes the message in hand (or abandons a retry wait), closes the consumer, joins.
  void stop();
  // Messages handled (acknowledged) so far, DLQ'd included.
  std::uint64_t handled() const noexcept { return handled_.load(); }

 private:
  void run();
  // handler_, with whatever it throws as an `internal` failure of that attempt.
  Status handle(const Message& msg);
  bool sleep_unless_stopped(std::chrono::milliseconds d);
  // A retry wait with the message in hand: sleeps in short slices and calls the
  // consumer's keep_alive() between them, so a long outage never costs the group membership.
  bool wait_keeping_alive(std::chrono::milliseconds d);

  std::shared_ptr<EventBus> bus_;
  ConsumerLoopOptions options_;
  MessageHandler handler_;
  MetricsRegistry& metrics_;
  std::unique_ptr<Consumer> consumer_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> handled_{0};
  std::mutex wait_mutex_;
  std::condition_variable wait_cv_;
};

// Is `code` a failure worth waiting out (a dependency down) rather than data to set aside?
bool is_transient_error(Errc code) noexcept;

// The wait before retry `attempt` (0, 1, ...): `initial` doubling, at most `max`.
std::chrono::milliseconds capped_backoff(int attempt, std::chrono::milliseconds initial,
                                         std::chrono::milliseconds max) noexcept;

}  // namespace etl
