// Landing a raw object: write it (atomic, durable), then announce it with an S3
// ObjectCreated event on the raw topic. The order matters: an event never
// points at an object that is not there.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <string_view>

#include "etl/event_bus.h"
#include "etl/object_store.h"

namespace etl::extractor {

struct LandingOptions {
  std::string topic = "spotify.raw.events";
  std::string region = "us-east-1";
  int publish_attempts = 4;                         // tries before the failure is reported
  std::chrono::milliseconds publish_backoff{100};   // doubled after each failed try
};

struct Landed {
  ObjectInfo object;
  std::string publish_error;  // empty when the event went out
};

// The store's error when the write fails. A publish that still fails after the
// retries is not an error (the object is durable, and the transformer's start-up
// scan of to_be_processed/ finds it): it comes back in `publish_error`.
Result<Landed> land_raw_object(ObjectStore& store, EventBus& bus, const LandingOptions& options,
                               const std::string& key, std::string_view body, std::stop_token stop = {});

}  // namespace etl::extractor
