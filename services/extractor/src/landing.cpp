#include "landing.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <cstdio>

#include "etl/log.h"
#include "etl/s3_event.h"

namespace etl::extractor {

Result<Landed> land_raw_object(ObjectStore& store, EventBus& bus, const LandingOptions& options,
                               const std::string& key, std::string_view body, std::stop_token stop) {
  auto put = store.put(key, body);
  if (!put) return std::move(put).error();
  Landed landed{*put, {}};

  ObjectCreated event;
  event.bucket = store.bucket();
  event.key = store.event_key(key);
  event.size = put->size;
  event.etag = put->etag;
  event.sequencer = next_sequencer();
  event.region = options.region;
  event.event_time = rfc3339_millis(std::chrono::system_clock::now());
  const std::string document = build_s3_event(event);

  auto backoff = options.publish_backoff;
  for (int attempt = 1;; ++attempt) {
    Status published = bus.publish(options.topic, event.key, document);
    if (published.ok()) return landed;
    if (attempt >= options.publish_attempts || stop.stop_requested()) {
      landed.publish_error = "object landed but its event could not be published on " + options.topic + ": " +
                             published.error().message + " (the transformer's start-up scan will pick it up)";
      log::error("raw event not published", {{"key", key}, {"error", published.error().message}});
      return landed;
    }
    log::warn("raw event publish failed; retrying", {{"key", key}, {"attempt", attempt}, {"error", published.error().message}});
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    wake.wait_for(lock, stop, backoff, [] { return false; });
    backoff *= 2;
  }
}

}  // namespace etl::extractor
