#include "etl/consumer_loop.h"

#include <algorithm>

#include "etl/log.h"

namespace etl {

bool is_transient_error(Errc code) noexcept {
  return code == Errc::unavailable || code == Errc::timeout || code == Errc::rate_limited;
}

std::chrono::milliseconds capped_backoff(int attempt, std::chrono::milliseconds initial,
                                         std::chrono::milliseconds max) noexcept {
  return std::min<std::chrono::milliseconds>(initial * (1 << std::min(attempt, 10)), max);
}

ConsumerLoop::ConsumerLoop(std::shared_ptr<EventBus> bus, ConsumerLoopOptions options, MessageHandler handler,
                           MetricsRegistry& metrics)
    : bus_(std::move(bus)), options_(std::move(options)), handler_(std::move(handler)), metrics_(metrics) {}

ConsumerLoop::~ConsumerLoop() { stop(); }

Status ConsumerLoop::start() {
  auto consumer = bus_->subscribe(options_.topics, options_.group);
  if (!consumer) return std::move(consumer).error();
  consumer_ = std::move(consumer).value();
  thread_ = std::thread([this] { run(); });
  return {};
}

void ConsumerLoop::stop() {
  if (stopping_.exchange(true)) return;
  wait_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (consumer_) consumer_->close();
}

bool ConsumerLoop::sleep_unless_stopped(std::chrono::milliseconds d) {
  std::unique_lock lock(wait_mutex_);
  return !wait_cv_.wait_for(lock, d, [this] { return stopping_.load(); });
}

bool ConsumerLoop::wait_keeping_alive(std::chrono::milliseconds d) {
  constexpr std::chrono::milliseconds slice{500};
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (true) {
    consumer_->keep_alive();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) return !stopping_;
    if (!sleep_unless_stopped(std::min(left, slice))) return false;
  }
}

Status ConsumerLoop::handle(const Message& msg) {
  try {
    return handler_(msg);
  } catch (const std::exception& e) {
    // A poison message that makes a reader throw is a failed attempt like any
    // other (retried, then dead-lettered), not the end of the process.
    log::error("event handler threw", {{"consumer", options_.name}, {"key", msg.key}, {"error", e.what()}});
    return make_error(Errc::internal, std::string("internal error: ") + e.what());
  }
}

void ConsumerLoop::run() {
  const Labels labels{{"consumer", options_.name}};
  auto& consumed = metrics_.counter("spotify_etl_events_consumed_total", "Events handled and acknowledged", labels);
  auto& retried = metrics_.counter("spotify_etl_event_retries_total", "Event handling attempts that failed and were retried", labels);
  auto& dead = metrics_.counter("spotify_etl_events_dead_lettered_total", "Events sent to the dead-letter topic", labels);
  auto backoff_for = [this](int attempt) { return capped_backoff(attempt, options_.initial_backoff, options_.max_backoff); };

  while (!stopping_) {
    auto polled = consumer_->poll(options_.poll_timeout);
    if (!polled) {
      log::warn("poll failed", {{"consumer", options_.name}, {"error", polled.error().message}});
      sleep_unless_stopped(std::chrono::milliseconds(500));
      continue;
    }
    if (!polled->has_value()) continue;
    const Message msg = std::move(**polled);

    int failures = 0;
    int transient_waits = 0;
    Status result;
    bool abandoned = false;
    while (true) {
      result = handle(msg);
      if (result.ok()) break;
      if (is_transient_error(result.error().code)) {
        retried.inc();
        log::warn("dependency unavailable; will retry", {{"consumer", options_.name}, {"key", msg.key}, {"error", result.error().message}});
        if (!wait_keeping_alive(backoff_for(transient_waits++))) {
          abandoned = true;  // shutting down: leave it unacknowledged for the next consumer
          break;
        }
        continue;
      }
      if (++failures >= options_.max_attempts) break;
      retried.inc();
      if (!wait_keeping_alive(backoff_for(failures - 1))) {
        abandoned = true;
        break;
      }
    }
    if (abandoned) break;

    if (!result.ok()) {
      MessageHeaders headers = msg.headers;
      headers.emplace_back("x-error", result.error().message);
      headers.emplace_back("x-error-code", to_string(result.error().code));
      headers.emplace_back("x-source-topic", msg.topic);
      headers.emplace_back("x-source-partition", std::to_string(msg.partition));
      headers.emplace_back("x-source-offset", std::to_string(msg.offset));
      headers.emplace_back("x-attempts", std::to_string(failures));
      headers.emplace_back("x-consumer-group", options_.group);
      Status sent = bus_->publish(options_.dlq_topic, msg.key, msg.value, headers);
      while (!sent.ok() && !stopping_) {
        log::warn("dead-letter publish failed; will retry", {{"error", sent.error().message}});
        wait_keeping_alive(std::chrono::seconds(1));
        sent = bus_->publish(options_.dlq_topic, msg.key, msg.value, headers);
      }
      if (!sent.ok()) break;
      dead.inc();
      log::error("event dead-lettered", {{"consumer", options_.name}, {"key", msg.key}, {"topic", msg.topic},
                                         {"attempts", failures}, {"error", result.error().message}});
    }
    if (Status acked = consumer_->ack(msg); !acked.ok()) {
      log::warn("acknowledge failed; the event may be delivered again", {{"error", acked.error().message}});
    }
    consumed.inc();
    ++handled_;
  }
}

}  // namespace etl
