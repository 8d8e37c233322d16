#include "scheduler.h"

#include <mutex>

#include "etl/log.h"
#include "etl/s3_event.h"

namespace etl::extractor {

Scheduler::Scheduler(Schedule schedule, Fire fire) : schedule_(std::move(schedule)), fire_(std::move(fire)) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void Scheduler::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

std::chrono::system_clock::time_point Scheduler::next_fire(const Schedule& schedule,
                                                           std::chrono::system_clock::time_point previous,
                                                           std::chrono::system_clock::time_point now) {
  auto next = schedule.next_after(previous);
  if (next <= now) next = schedule.next_after(now);
  return next;
}

void Scheduler::loop(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  auto planned = std::chrono::system_clock::now();
  log::info("schedule active", {{"schedule", schedule_.describe()}});
  while (!stop.stop_requested()) {
    planned = next_fire(schedule_, planned, std::chrono::system_clock::now());
    if (planned == std::chrono::system_clock::time_point::max()) return;
    log::debug("next scheduled run", {{"at", rfc3339(planned)}});
    {
      std::unique_lock lock(m);
      // Only a stop request wakes this early; the predicate just reports it.
      cv.wait_until(lock, stop, planned, [] { return false; });
    }
    if (stop.stop_requested()) return;
    fire_(planned);
  }
}

}  // namespace etl::extractor
