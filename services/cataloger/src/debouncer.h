// Turns a burst of "object created" events into one crawl: keys collect until
// the events pause for `quiet` (or `max_delay` passed since the first), then
// `fire` gets them all at once. Glue's event-mode crawler, without the cost of a
// crawl per file.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace etl::cataloger {

struct DebounceOptions {
  std::chrono::milliseconds quiet{50};        // fire after this long without a new event (an object's
                                              // 3 events come together, from one publish_batch)
  std::chrono::milliseconds max_delay{2000};  // but never later than this after the first one
};

class CrawlDebouncer final {
 public:
  using Fire = std::function<void(std::vector<std::string> keys)>;
  CrawlDebouncer(DebounceOptions options, Fire fire);
  ~CrawlDebouncer();
  CrawlDebouncer(const CrawlDebouncer&) = delete;
  CrawlDebouncer& operator=(const CrawlDebouncer&) = delete;

  void add(const std::vector<std::string>& keys);
  void start();
  // Pending keys are dropped: the start-up crawl of the next run picks them up.
  void stop();

 private:
  void run();

  DebounceOptions options_;
  Fire fire_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::set<std::string> pending_;
  std::chrono::steady_clock::time_point first_, last_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace etl::cataloger
