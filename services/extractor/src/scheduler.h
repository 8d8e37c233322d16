// Fires a callback on ETL_SCHEDULE's times (UTC) on its own thread. Whether a
// fire starts a run (or is skipped because the last one is still going) is the
// callback's decision, not the scheduler's.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <stop_token>
#include <thread>

#include "etl/schedule.h"

namespace etl::extractor {

class Scheduler final {
 public:
  using Fire = std::function<void(std::chrono::system_clock::time_point planned)>;
  Scheduler(Schedule schedule, Fire fire);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  void stop();  // idempotent; a fire in progress finishes first

  // The next planned fire after `previous` (the last planned time), never in the past:
  // fires missed while the callback ran (or the machine slept) are skipped, not replayed.
  static std::chrono::system_clock::time_point next_fire(const Schedule& schedule,
                                                         std::chrono::system_clock::time_point previous,
                                                         std::chrono::system_clock::time_point now);

 private:
  void loop(std::stop_token stop);

  Schedule schedule_;
  Fire fire_;
  std::jthread thread_;
};

}  // namespace etl::extractor
