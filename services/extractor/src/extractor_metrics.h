// The extractor's Prometheus metrics (spotify_etl_extractor_*); Spotify's own
// request metrics are written by HttpSpotifyApi (spotify_etl_spotify_*).
#pragma once

#include <cstdint>
#include <string>

#include "etl/metrics.h"
#include "run_record.h"

namespace etl::extractor {

class ExtractorMetrics final {
 public:
  explicit ExtractorMetrics(MetricsRegistry& registry);

  void run_finished(RunStatus status);
  void source_finished(const std::string& type, SourceStatus status);
  void fetched(int pages, int items);
  void landed(std::uint64_t bytes);
  void publish_failed();
  void schedule_skipped();
  Gauge& runs_in_progress() { return in_progress_; }

 private:
  MetricsRegistry& registry_;
  Counter& pages_;
  Counter& items_;
  Counter& objects_;
  Counter& bytes_;
  Counter& publish_failures_;
  Counter& skipped_;
  Gauge& in_progress_;
};

}  // namespace etl::extractor
