// The transformer's consumer: a bounded window of raw events in flight, cut
// into per-partition batches that run while the next ones are being polled.
//
//   poll -> the partition's open batch -> closed when full (events, bytes), quiet
//   (no event of its partition for `linger`) or old (5 x linger) -- time cuts that
//   wait while the consumer is behind (time_cut) -- or, while the window is full,
//   when a worker has nothing to run (the largest open batch) ->
//   run by a BatchRunner (one batch per partition at a time, several partitions
//   at once) -> dead letters -> acknowledge every event of the batch (in order:
//   one commit per batch).
//
// Back-pressure: no poll while the events (or their bytes) held in open, waiting
// and running batches reach the window; after a second of that the partitions are
// paused (keep_alive), and the group membership is kept meanwhile.
// Replays: a batch opened at an offset for which a manifest exists (a batch cut
// before a crash) is cut exactly as the manifest says. Any failure of a batch is
// retried with capped backoff for as long as it takes (the partition waits);
// poison objects and unreadable events go to the dead-letter topic instead.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "batch_runner.h"
#include "etl/event_bus.h"
#include "etl/metrics.h"

namespace etl::transformer {

using TopicPartition = std::pair<std::string, std::int32_t>;

// While the window is full: the open batch to hand to a worker, if any. None while a
// closed batch waits that a free worker could run (`ready`: their partitions), or
// every worker is busy; else the largest open batch (by events) of a partition not
// running. Ties go to the first partition.
std::optional<TopicPartition> batch_for_room(const std::map<TopicPartition, std::size_t>& open_events,
                                             const std::set<TopicPartition>& running,
                                             const std::vector<TopicPartition>& ready, int max_running);

// When an open batch's time is up: "quiet", "old" or nullptr (not yet). `room_since`:
// the window last stopped being full (time before it does not count as quiet);
// `last_dry`: the consumer's latest poll that found nothing. Quiet: no event of its
// partition for `linger`, and a poll found nothing since its last one (else the
// partition is not known to be idle: the consumer is busy with a backlog of other
// partitions, or starved of CPU). Old: 5 x linger; while no poll has found nothing
// since the batch opened (a backlog: cutting on time would only make small files),
// 50 x linger, a bound for a partition whose events stopped while others' did not.
const char* time_cut(std::chrono::steady_clock::time_point opened, std::chrono::steady_clock::time_point last_added,
                     std::chrono::steady_clock::time_point room_since, std::chrono::steady_clock::time_point last_dry,
                     std::chrono::steady_clock::time_point now, std::chrono::milliseconds linger);

struct BatchConsumerOptions {
  std::string name = "transformer";  // logs and metrics
  std::vector<std::string> topics;
  std::string group;
  std::string dlq_topic;
  std::string scope;  // "" for Kafka; an in-process bus's incarnation (manifests name "<topic>@<scope>")
  int batch_events = 200;                    // a batch closes at this many events
  std::uint64_t batch_bytes = 64ull << 20;   // or this many raw bytes (the events' sizes)
  std::chrono::milliseconds linger{100};      // or when no event of its partition came for this long (or 5 x as old; time_cut)
  int window = 400;                          // events polled and not yet acknowledged
  std::uint64_t window_bytes = 256ull << 20; // and their raw bytes
  int max_running = 4;                       // batches run at once (of different partitions)
  int max_attempts = 3;                      // of a poison object, before the DLQ
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  // Transforms a raw object again where its rows are (`to_be_processed/<rest>`, put
  // back after processed/<rest> was written: the service's redo of the batch or run
  // that wrote it). Called after the object's batch, before its event is acknowledged.
  // Unset: such an object is only acknowledged.
  std::function<Status(const std::string& raw_key)> redo;
};

class BatchConsumer final {
 public:
  // `read` turns a message into the raw objects it names (or an error for the DLQ).
  // `manifests` is where batch manifests are looked up at a batch's opening.
  using Reader = std::function<BatchEvent(Message)>;
  BatchConsumer(std::shared_ptr<EventBus> bus, BatchConsumerOptions options, Reader read, BatchRunner& runner,
                ObjectStore& manifests, MetricsRegistry& metrics);
  ~BatchConsumer();
  BatchConsumer(const BatchConsumer&) = delete;
  BatchConsumer& operator=(const BatchConsumer&) = delete;

  Status start();
  // Stops polling, lets running batches finish (or abandons a retry wait), closes the consumer.
  void stop();
  // Events acknowledged so far (dead-lettered ones included).
  std::uint64_t handled() const noexcept { return handled_.load(); }

 private:
  struct Open {
    Batch batch;
    std::chrono::steady_clock::time_point opened, last_added;
    bool forced = false;  // cut as its manifest says
  };
  void poll_loop();
  void worker();
  void add(Message message);
  // `arrived`: when its first event came (the linger and the age count from then).
  Open open_batch(const Message& first, std::chrono::steady_clock::time_point arrived);
  void close_due();
  void close_for_room();
  void close(const TopicPartition& tp, const char* why);
  void unforce(Open& o);
  bool window_full() const;
  std::string label(const std::string& topic) const;
  Result<BatchOutcome> run_once(Batch& batch);
  std::optional<BatchOutcome> run_until_done(Batch& batch);
  void take_over(Batch& batch);
  void finish(Batch& batch, const BatchOutcome& outcome);
  // The events of `covered` whose objects the cut `theirs` left out while they are
  // still in to_be_processed/ (unreadable for its cutter), as poison: finish() adds
  // them for every batch run as a manifest cut it (a replay or a takeover). Those
  // also in processed/ were left out to be redone: redos.
  BatchOutcome left_out(const BatchManifest& theirs, const Batch& covered);
  // options_.redo of each, retried while the failure is transient; false when stopping.
  bool redo(const Batch& batch, const std::vector<std::pair<std::size_t, std::string>>& redos,
            std::map<std::size_t, Error>& poison);
  bool dead_letter(const Message& message, const Error& error);
  bool wait(std::chrono::milliseconds d);

  std::shared_ptr<EventBus> bus_;
  BatchConsumerOptions options_;
  Reader read_;
  BatchRunner& runner_;
  ObjectStore& manifests_;
  std::unique_ptr<Consumer> consumer_;
  Counter& consumed_;
  Counter& retried_;
  Counter& dead_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<TopicPartition, Open> open_;       // poll thread only
  std::chrono::steady_clock::time_point room_since_{};  // poll thread: the window last stopped being full
  std::chrono::steady_clock::time_point last_dry_{};    // poll thread: the latest poll that found nothing
  std::deque<Batch> ready_;                   // closed, waiting for a worker
  std::set<TopicPartition> running_;
  std::uint64_t events_in_flight_ = 0, bytes_in_flight_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> handled_{0};
  std::thread poller_;
  std::vector<std::thread> workers_;
};

}  // namespace etl::transformer
