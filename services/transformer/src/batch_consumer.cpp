#include "batch_consumer.h"

#include <algorithm>
#include <set>

#include "etl/consumer_loop.h"
#include "etl/log.h"

namespace etl::transformer {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// While batches are open, a short poll: a batch should close at its linger, not a poll later.
constexpr std::chrono::milliseconds kShortPoll{5};
constexpr std::chrono::milliseconds kIdlePoll{200};
// A replayed batch whose last offset never comes (a gap in the log) closes with what it has.
constexpr std::chrono::seconds kForcedPatience{10};
// A batch closes after `linger` without a new event of its partition, or at this many lingers
// old; while the consumer has been behind since the batch opened, at the second factor.
constexpr int kMaxAgeFactor = 5;
constexpr int kBehindMaxAgeFactor = 50;
// A window full for this long pauses the consumer (keep_alive) until there is room again.
constexpr std::chrono::seconds kPauseAfter{1};

}  // namespace

BatchConsumer::BatchConsumer(std::shared_ptr<EventBus> bus, BatchConsumerOptions options, Reader read,
                             BatchRunner& runner, ObjectStore& manifests, MetricsRegistry& metrics)
    : bus_(std::move(bus)),
      options_(std::move(options)),
      read_(std::move(read)),
      runner_(runner),
      manifests_(manifests),
      consumed_(metrics.counter("spotify_etl_events_consumed_total", "Events handled and acknowledged",
                                {{"consumer", options_.name}})),
      retried_(metrics.counter("spotify_etl_event_retries_total", "Event handling attempts that failed and were retried",
                               {{"consumer", options_.name}})),
      dead_(metrics.counter("spotify_etl_events_dead_lettered_total", "Events sent to the dead-letter topic",
                            {{"consumer", options_.name}})) {}

BatchConsumer::~BatchConsumer() { stop(); }

Status BatchConsumer::start() {
  auto consumer = bus_->subscribe(options_.topics, options_.group);
  if (!consumer) return std::move(consumer).error();
  consumer_ = std::move(consumer).value();
  poller_ = std::thread([this] { poll_loop(); });
  for (int i = 0; i < std::max(1, options_.max_running); ++i) workers_.emplace_back([this] { worker(); });
  return {};
}

void BatchConsumer::stop() {
  if (stopping_.exchange(true)) return;
  changed_.notify_all();
  if (poller_.joinable()) poller_.join();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
  if (consumer_) consumer_->close();  // what was not acknowledged goes to the next consumer
}

bool BatchConsumer::wait(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !changed_.wait_for(lock, d, [this] { return stopping_.load(); });
}

bool BatchConsumer::window_full() const {
  return events_in_flight_ >= static_cast<std::uint64_t>(options_.window) || bytes_in_flight_ >= options_.window_bytes;
}

void BatchConsumer::poll_loop() {
  std::optional<Clock::time_point> full_since;
  while (!stopping_) {
    bool full, forced_open = false;
    {
      std::lock_guard lock(mutex_);
      full = window_full();
    }
    for (const auto& [tp, o] : open_) forced_open = forced_open || o.forced;
    if (full && !forced_open) {
      // No open batch is quiet or old now: no event can join them (the partition is not
      // idle, we are). Only a worker with nothing to run takes one.
      close_for_room();
      // A full window usually frees within a batch's run; meanwhile the client goes on
      // prefetching (bounded by its queue settings). Only a longer wait pauses delivery,
      // which throws the prefetched messages away and costs a seek and a fetch to resume.
      if (!full_since) full_since = Clock::now();
      if (Clock::now() - *full_since >= kPauseAfter) consumer_->keep_alive();
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, 100ms, [this] { return stopping_ || !window_full(); });
      continue;
    }
    if (full_since) {  // room again: the time a full window held the open batches back is not theirs
      room_since_ = Clock::now();
      for (auto& [tp, o] : open_) o.opened += room_since_ - *full_since;
    }
    full_since.reset();
    auto polled = consumer_->poll(open_.empty() ? kIdlePoll : kShortPoll);
    if (!polled) {
      log::warn("poll failed", {{"consumer", options_.name}, {"error", polled.error().message}});
      wait(500ms);
    } else if (polled->has_value()) {
      add(std::move(**polled));
    } else {
      last_dry_ = Clock::now();
    }
    close_due();
  }
}

std::string BatchConsumer::label(const std::string& topic) const {
  return options_.scope.empty() ? topic : topic + "@" + options_.scope;
}

// Does every member of the batch's manifest come with its event (same offset, same object)?
static bool manifest_matches(const Batch& batch, bool complete) {
  std::map<std::int64_t, const BatchEvent*> by_offset;
  for (const auto& e : batch.events) by_offset[e.message.offset] = &e;
  for (const auto& m : batch.manifest->members) {
    auto it = by_offset.find(m.offset);
    if (it == by_offset.end()) {
      if (complete || m.offset <= batch.last) return false;
      continue;
    }
    if (std::find(it->second->rests.begin(), it->second->rests.end(), m.rest) == it->second->rests.end()) return false;
  }
  return true;
}

BatchConsumer::Open BatchConsumer::open_batch(const Message& first, Clock::time_point arrived) {
  Open o;
  o.batch.topic = label(first.topic);
  o.batch.partition = first.partition;
  o.batch.first = o.batch.last = first.offset;
  o.opened = o.last_added = arrived;
  // A batch cut before a crash (or by the partition's previous owner) may start here:
  // cut it the same way. Looked up at every opening, even right after a batch this
  // consumer cut itself: the partition may have moved away and back in between
  // (a rebalance), and its other owner may have cut here meanwhile.
  const std::string key = manifest_key(kOpenManifests, o.batch.topic, first.partition, first.offset);
  while (!stopping_) {
    auto text = manifests_.get(key, 64ull << 20);
    if (!text && text.error().code == Errc::not_found) break;
    if (!text) {
      log::warn("batch manifest lookup failed; will retry", {{"key", key}, {"error", text.error().message}});
      consumer_->keep_alive();
      wait(1s);
      continue;
    }
    auto manifest = decode_manifest(*text);
    if (!manifest || manifest->topic != o.batch.topic || manifest->partition != first.partition) {
      log::warn("unreadable batch manifest ignored", {{"key", key}});
      break;
    }
    o.forced = true;
    o.batch.manifest = std::move(manifest).value();
    log::info("replaying a batch as its manifest cut it", {{"key", key}, {"last", o.batch.manifest->last}});
    return o;
  }
  return o;
}

void BatchConsumer::add(Message message) {
  // The linger counts from here: the event came now, however long the lookup of a
  // manifest at a new batch's offset takes (a store round trip).
  const auto arrived = Clock::now();
  const TopicPartition tp{label(message.topic), message.partition};
  auto it = open_.find(tp);
  if (it != open_.end() && it->second.forced && message.offset > it->second.batch.manifest->last) {
    close(tp, "gap");  // a gap in the offsets: the replayed batch ends before this one
    it = open_.end();
  }
  if (it == open_.end()) it = open_.emplace(tp, open_batch(message, arrived)).first;
  BatchEvent event = read_(std::move(message));
  Open& o = it->second;
  o.batch.last = event.message.offset;
  o.batch.bytes += event.bytes;
  {
    std::lock_guard lock(mutex_);
    ++events_in_flight_;
    bytes_in_flight_ += event.bytes;
  }
  o.batch.events.push_back(std::move(event));
  o.last_added = arrived;
  if (o.forced && !manifest_matches(o.batch, false)) unforce(o);
  if (o.forced) {
    if (o.batch.last >= o.batch.manifest->last) close(tp, "manifest");
  } else if (o.batch.events.size() >= static_cast<std::size_t>(options_.batch_events)) {
    close(tp, "events");
  } else if (o.batch.bytes >= options_.batch_bytes) {
    close(tp, "bytes");
  }
}

const char* time_cut(Clock::time_point opened, Clock::time_point last_added, Clock::time_point room_since,
                     Clock::time_point last_dry, Clock::time_point now, std::chrono::milliseconds linger) {
  const int factor = last_dry >= opened ? kMaxAgeFactor : kBehindMaxAgeFactor;
  if (now - opened >= factor * linger) return "old";
  const bool idle = last_dry >= last_added;  // the consumer ran dry since the partition's last event
  if (idle && now - std::max(last_added, room_since) >= linger) return "quiet";
  return nullptr;
}

// Called only while the window has room (poll_loop): quiet counts from the window's last
// room at the earliest, and the age leaves out the time it was full.
void BatchConsumer::close_due() {
  const auto now = Clock::now();
  std::vector<std::pair<TopicPartition, const char*>> due;
  for (const auto& [tp, o] : open_) {
    if (o.forced) {
      if (now - o.opened >= kForcedPatience) due.emplace_back(tp, "gap");
    } else if (const char* why = time_cut(o.opened, o.last_added, room_since_, last_dry_, now, options_.linger)) {
      due.emplace_back(tp, why);
    }
  }
  for (const auto& [tp, why] : due) close(tp, why);
}

// The window is full: no more events can join the open batches. A worker that has
// nothing to run gets the largest open batch of a partition that is not running;
// while every worker is busy (or the partitions open are running), the open batches
// wait and grow as room comes back, instead of being cut small all at once.
std::optional<TopicPartition> batch_for_room(const std::map<TopicPartition, std::size_t>& open_events,
                                             const std::set<TopicPartition>& running,
                                             const std::vector<TopicPartition>& ready, int max_running) {
  const bool waiting = std::any_of(ready.begin(), ready.end(), [&](const TopicPartition& tp) { return !running.count(tp); });
  if (waiting || running.size() >= static_cast<std::size_t>(std::max(1, max_running))) return std::nullopt;
  std::optional<TopicPartition> largest;
  std::size_t most = 0;
  for (const auto& [tp, events] : open_events)
    if (!running.count(tp) && events > most) {
      most = events;
      largest = tp;
    }
  return largest;
}

void BatchConsumer::close_for_room() {
  std::map<TopicPartition, std::size_t> open_events;
  for (const auto& [tp, o] : open_) open_events.emplace(tp, o.batch.events.size());
  std::optional<TopicPartition> pick;
  {
    std::lock_guard lock(mutex_);
    std::vector<TopicPartition> ready;
    for (const auto& b : ready_) ready.emplace_back(b.topic, b.partition);
    pick = batch_for_room(open_events, running_, ready, options_.max_running);
  }
  if (pick) close(*pick, "room");
}

// A manifest that does not describe these events (a topic recreated, offsets reset):
// not ours to replay. The batch is cut afresh; its files get other names (the hash).
void BatchConsumer::unforce(Open& o) {
  log::warn("a batch manifest does not match the events at its offsets; ignored",
            {{"topic", o.batch.topic}, {"partition", o.batch.partition}, {"first", o.batch.first}});
  o.forced = false;
  o.batch.manifest.reset();
}

void BatchConsumer::close(const TopicPartition& tp, const char* why) {
  auto it = open_.find(tp);
  if (it == open_.end()) return;
  if (it->second.forced && !manifest_matches(it->second.batch, true)) unforce(it->second);
  Batch batch = std::move(it->second.batch);
  batch.cut = why;
  open_.erase(it);
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(batch));
  }
  changed_.notify_all();
}

void BatchConsumer::worker() {
  while (true) {
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      auto runnable = [&] {
        return std::find_if(ready_.begin(), ready_.end(),
                            [&](const Batch& b) { return !running_.count({b.topic, b.partition}); });
      };
      changed_.wait(lock, [&] { return stopping_ || runnable() != ready_.end(); });
      if (stopping_) return;  // batches not started stay unacknowledged: delivered again
      auto it = runnable();
      batch = std::move(*it);
      ready_.erase(it);
      running_.insert({batch.topic, batch.partition});
    }
    if (auto outcome = run_until_done(batch)) {
      if (batch.taken_over) take_over(batch);
      else finish(batch, *outcome);
    }
    {
      std::lock_guard lock(mutex_);
      running_.erase({batch.topic, batch.partition});
      events_in_flight_ -= batch.events.size();
      bytes_in_flight_ -= batch.bytes;
    }
    changed_.notify_all();
  }
}

// runner_.run, with whatever it throws as a failed attempt: the batch is retried
// like after a store error (the raw objects' own defects are per-event errors,
// dead-lettered; the transform is fuzzed), and the consumer's other partitions go on.
Result<BatchOutcome> BatchConsumer::run_once(Batch& batch) {
  try {
    return runner_.run(batch);
  } catch (const std::exception& e) {
    return make_error(Errc::internal, std::string("internal error: ") + e.what());
  }
}

// Runs the batch until it succeeds (nullopt: stopping, nothing acknowledged), or
// until run() finds that another consumer cut a batch at its first offset.
std::optional<BatchOutcome> BatchConsumer::run_until_done(Batch& batch) {
  for (int attempt = 0; !stopping_; ++attempt) {
    auto outcome = run_once(batch);
    if (outcome) return std::move(outcome).value();
    if (batch.taken_over) return BatchOutcome{};
    retried_.inc();
    log::warn("batch failed; will retry", {{"consumer", options_.name}, {"topic", batch.topic},
                                           {"partition", batch.partition}, {"first", batch.first},
                                           {"error", outcome.error().message}});
    if (!wait(capped_backoff(attempt, options_.initial_backoff, options_.max_backoff)))
      break;  // shutting down: left unacknowledged
  }
  return std::nullopt;
}

// Another consumer (the partition's previous owner, before a rebalance reached it)
// cut a batch at our first offset: that batch is finished exactly as it was cut
// (its files, its members, read back from wherever they are), our events it
// covers are acknowledged, and the rest of ours run as a batch of their own.
// The events it covers whose objects it left out are dead-lettered when their
// objects are still in to_be_processed/ (the cut found them unreadable), and only
// acknowledged when they are gone (missing, or repeats of processed ones).
void BatchConsumer::take_over(Batch& batch) {
  const BatchManifest theirs = std::move(*batch.taken_over);
  Batch cut = batch_of(theirs);
  if (!run_until_done(cut)) return;
  Batch covered, rest;
  for (auto& e : batch.events) (e.message.offset <= theirs.last ? covered : rest).events.push_back(std::move(e));
  covered.manifest = theirs;  // finish() dead-letters what the cut left out unread
  finish(covered, BatchOutcome{});
  if (rest.events.empty() || stopping_) return;
  rest.topic = batch.topic;
  rest.partition = batch.partition;
  rest.first = rest.events.front().message.offset;
  rest.last = rest.events.back().message.offset;
  for (const auto& e : rest.events) rest.bytes += e.bytes;
  if (auto outcome = run_until_done(rest)) {
    if (rest.taken_over) take_over(rest);
    else finish(rest, *outcome);
  }
}

BatchOutcome BatchConsumer::left_out(const BatchManifest& theirs, const Batch& covered) {
  std::set<std::string> members;
  for (const auto& m : theirs.members) members.insert(m.rest);
  BatchOutcome out;
  for (std::size_t e = 0; e < covered.events.size(); ++e) {
    if (covered.events[e].error) continue;  // dead-lettered by finish() already
    for (const auto& rest : covered.events[e].rests) {
      if (members.count(rest)) continue;
      auto pending = runner_.pending(rest);
      if (!pending) {
        log::warn("cannot tell whether a raw object left out of a taken-over batch is still there; acknowledged",
                  {{"consumer", options_.name}, {"object", rest}, {"error", pending.error().message}});
        continue;
      }
      if (!*pending) continue;
      auto processed = runner_.processed(rest);
      if (processed && *processed) {
        out.redos.emplace_back(e, rest);
        continue;
      }
      out.poison.emplace_back(e, make_error(Errc::bad_data, "raw object " + rest + " was left out of the batch the "
                                                            "partition's previous owner cut (it could not read it)"));
      break;
    }
  }
  return out;
}

void BatchConsumer::finish(Batch& batch, const BatchOutcome& outcome) {
  std::map<std::size_t, Error> poison;
  for (std::size_t e = 0; e < batch.events.size(); ++e)
    if (batch.events[e].error) poison.emplace(e, *batch.events[e].error);
  for (const auto& [e, error] : outcome.poison) poison.emplace(e, error);  // first error of an event wins
  // A batch replayed as a manifest cut it (before a crash, or by the partition's
  // previous owner) ran only the manifest's members: what the cut left out unread
  // is a dead letter here.
  std::vector<std::pair<std::size_t, std::string>> redos = outcome.redos;
  if (batch.manifest) {
    const BatchOutcome unread = left_out(*batch.manifest, batch);
    for (const auto& [e, error] : unread.poison) poison.emplace(e, error);
    redos.insert(redos.end(), unread.redos.begin(), unread.redos.end());
  }
  if (!redo(batch, redos, poison)) return;  // stopping: nothing acknowledged, all delivered again
  for (const auto& [e, error] : poison)
    if (!dead_letter(batch.events[e].message, error)) return;  // stopping: nothing acknowledged, all delivered again
  // Last to first: the position moves (one commit) only when the first is acknowledged.
  for (auto it = batch.events.rbegin(); it != batch.events.rend(); ++it) {
    if (Status acked = consumer_->ack(it->message); !acked.ok())
      log::warn("acknowledge failed; the event may be delivered again", {{"error", acked.error().message}});
    consumed_.inc();
    ++handled_;
  }
}

bool BatchConsumer::redo(const Batch& batch, const std::vector<std::pair<std::size_t, std::string>>& redos,
                         std::map<std::size_t, Error>& poison) {
  for (const auto& [e, rest] : redos) {
    if (poison.count(e)) continue;
    const std::string key = std::string(kPendingPrefix) + rest;
    if (!options_.redo) {
      log::warn("a raw object put back into to_be_processed/ is left there (no redo here)", {{"key", key}});
      continue;
    }
    for (int attempt = 0;; ++attempt) {
      if (stopping_) return false;
      Status done = options_.redo(key);
      if (done.ok()) break;
      if (!is_transient_error(done.error().code)) {
        poison.emplace(e, done.error());
        break;
      }
      retried_.inc();
      log::warn("redo of a raw object put back failed; will retry",
                {{"consumer", options_.name}, {"topic", batch.topic}, {"partition", batch.partition},
                 {"key", key}, {"error", done.error().message}});
      if (!wait(capped_backoff(attempt, options_.initial_backoff, options_.max_backoff))) return false;
    }
  }
  return true;
}

bool BatchConsumer::dead_letter(const Message& msg, const Error& error) {
  MessageHeaders headers = msg.headers;
  headers.emplace_back("x-error", error.message);
  headers.emplace_back("x-error-code", to_string(error.code));
  headers.emplace_back("x-source-topic", msg.topic);
  headers.emplace_back("x-source-partition", std::to_string(msg.partition));
  headers.emplace_back("x-source-offset", std::to_string(msg.offset));
  headers.emplace_back("x-attempts", std::to_string(options_.max_attempts));
  headers.emplace_back("x-consumer-group", options_.group);
  Status sent = bus_->publish(options_.dlq_topic, msg.key, msg.value, headers);
  while (!sent.ok() && !stopping_) {
    log::warn("dead-letter publish failed; will retry", {{"error", sent.error().message}});
    wait(1s);
    sent = bus_->publish(options_.dlq_topic, msg.key, msg.value, headers);
  }
  if (!sent.ok()) return false;
  dead_.inc();
  log::error("event dead-lettered", {{"consumer", options_.name}, {"key", msg.key}, {"topic", msg.topic},
                                     {"error", error.message}});
  return true;
}

}  // namespace etl::transformer
