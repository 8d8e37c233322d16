// The transformer's Prometheus metrics (prefix spotify_etl_), looked up once.
#pragma once

#include "etl/metrics.h"
#include "etl/result.h"
#include "transform.h"

namespace etl::transformer {

struct BatchOutcome;

struct TransformerMetrics {
  explicit TransformerMetrics(MetricsRegistry& registry);

  // After a successful run.
  void record_success(const TransformOutput& out, std::uint64_t bytes_in, std::uint64_t bytes_out, double seconds);
  void record_error(Errc code);
  // After a batch: its objects, rows and files; `seconds` is observed once per object.
  void record_batch(const BatchOutcome& outcome, double seconds);

  MetricsRegistry& registry;
  Counter& objects_transformed;
  Counter& rows_albums;
  Counter& rows_artists;
  Counter& rows_songs;
  Counter& skipped_null_item;
  Counter& skipped_local;
  Counter& skipped_episode;
  Counter& skipped_malformed;
  Counter& bytes_in;
  Counter& bytes_out;
  Counter& events_ignored;
  Counter& dead_lettered;  // the ConsumerLoop's own counter, read for /v1/status
  Histogram& latency;
  Counter& batches;
  Counter& files_written;
};

}  // namespace etl::transformer
