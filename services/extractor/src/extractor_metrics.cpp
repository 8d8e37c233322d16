#include "extractor_metrics.h"

namespace etl::extractor {

ExtractorMetrics::ExtractorMetrics(MetricsRegistry& r)
    : registry_(r),
      pages_(r.counter("spotify_etl_extractor_pages_total", "Spotify response pages fetched")),
      items_(r.counter("spotify_etl_extractor_items_total", "Items (tracks, playlist items, albums) fetched")),
      objects_(r.counter("spotify_etl_extractor_objects_landed_total", "Raw objects written")),
      bytes_(r.counter("spotify_etl_extractor_bytes_landed_total", "Bytes of raw objects written")),
      publish_failures_(r.counter("spotify_etl_extractor_event_publish_failures_total",
                                  "Raw objects landed whose event could not be published")),
      skipped_(r.counter("spotify_etl_extractor_scheduled_runs_skipped_total",
                         "Scheduled runs skipped because the previous one was still going")),
      in_progress_(r.gauge("spotify_etl_extractor_runs_in_progress", "Runs queued or running")) {
  // Every status from the start, so dashboards see zeros rather than gaps.
  for (auto s : {RunStatus::succeeded, RunStatus::partial, RunStatus::failed})
    r.counter("spotify_etl_extractor_runs_total", "Finished runs by status", {{"status", to_string(s)}});
}

void ExtractorMetrics::run_finished(RunStatus status) {
  registry_.counter("spotify_etl_extractor_runs_total", "Finished runs by status", {{"status", to_string(status)}}).inc();
}

void ExtractorMetrics::source_finished(const std::string& type, SourceStatus status) {
  registry_
      .counter("spotify_etl_extractor_sources_total", "Finished sources by type and status",
               {{"type", type}, {"status", to_string(status)}})
      .inc();
}

void ExtractorMetrics::fetched(int pages, int items) {
  pages_.inc(pages);
  items_.inc(items);
}

void ExtractorMetrics::landed(std::uint64_t bytes) {
  objects_.inc();
  bytes_.inc(static_cast<double>(bytes));
}

void ExtractorMetrics::publish_failed() { publish_failures_.inc(); }
void ExtractorMetrics::schedule_skipped() { skipped_.inc(); }

}  // namespace etl::extractor
