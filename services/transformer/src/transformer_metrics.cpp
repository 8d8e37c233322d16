#include "transformer_metrics.h"

#include "batch_runner.h"

namespace etl::transformer {
namespace {

Counter& rows(MetricsRegistry& r, const char* table) {
  return r.counter("spotify_etl_rows_written_total", "Rows written to the transformed tables", {{"table", table}});
}

Counter& skipped(MetricsRegistry& r, const char* reason) {
  return r.counter("spotify_etl_items_skipped_total", "Raw items that produced no row, by reason", {{"reason", reason}});
}

}  // namespace

TransformerMetrics::TransformerMetrics(MetricsRegistry& r)
    : registry(r),
      objects_transformed(r.counter("spotify_etl_objects_transformed_total", "Raw objects transformed")),
      rows_albums(rows(r, "albums_data")),
      rows_artists(rows(r, "artists_data")),
      rows_songs(rows(r, "songs_data")),
      skipped_null_item(skipped(r, "null_item")),
      skipped_local(skipped(r, "local")),
      skipped_episode(skipped(r, "episode")),
      skipped_malformed(skipped(r, "malformed")),
      bytes_in(r.counter("spotify_etl_transform_bytes_in_total", "Raw bytes read by the transformer")),
      bytes_out(r.counter("spotify_etl_transform_bytes_out_total", "Bytes of transformed files written")),
      events_ignored(r.counter("spotify_etl_transform_events_ignored_total",
                               "Raw events acknowledged without work (other folders, objects gone)")),
      dead_lettered(r.counter("spotify_etl_events_dead_lettered_total", "Events sent to the dead-letter topic",
                              {{"consumer", "transformer"}})),
      latency(r.histogram("spotify_etl_transform_duration_seconds",
                          "Time to transform one raw object end to end (in a batch: the batch's time)")),
      batches(r.counter("spotify_etl_transform_batches_total", "Batches of raw events done (files written, announced)")),
      files_written(r.counter("spotify_etl_transform_files_written_total", "Data files written by batches")) {
  // Every error code a run can end with shows up at 0 from the start.
  for (Errc c : {Errc::bad_data, Errc::too_large, Errc::not_found, Errc::unavailable, Errc::timeout, Errc::internal})
    r.counter("spotify_etl_transform_errors_total", "Failed transform runs, by error code", {{"code", to_string(c)}});
}

void TransformerMetrics::record_success(const TransformOutput& out, std::uint64_t in, std::uint64_t out_bytes,
                                        double seconds) {
  objects_transformed.inc();
  rows_albums.inc(static_cast<double>(out.albums.rows()));
  rows_artists.inc(static_cast<double>(out.artists.rows()));
  rows_songs.inc(static_cast<double>(out.songs.rows()));
  skipped_null_item.inc(static_cast<double>(out.skipped.null_item));
  skipped_local.inc(static_cast<double>(out.skipped.local));
  skipped_episode.inc(static_cast<double>(out.skipped.episode));
  skipped_malformed.inc(static_cast<double>(out.skipped.malformed));
  bytes_in.inc(static_cast<double>(in));
  bytes_out.inc(static_cast<double>(out_bytes));
  latency.observe(seconds);
}

void TransformerMetrics::record_error(Errc code) {
  registry.counter("spotify_etl_transform_errors_total", "Failed transform runs, by error code", {{"code", to_string(code)}})
      .inc();
}

void TransformerMetrics::record_batch(const BatchOutcome& o, double seconds) {
  batches.inc();
  files_written.inc(static_cast<double>(o.files.size()));
  objects_transformed.inc(static_cast<double>(o.objects));
  rows_albums.inc(static_cast<double>(o.albums_rows));
  rows_artists.inc(static_cast<double>(o.artists_rows));
  rows_songs.inc(static_cast<double>(o.songs_rows));
  skipped_null_item.inc(static_cast<double>(o.skipped.null_item));
  skipped_local.inc(static_cast<double>(o.skipped.local));
  skipped_episode.inc(static_cast<double>(o.skipped.episode));
  skipped_malformed.inc(static_cast<double>(o.skipped.malformed));
  bytes_in.inc(static_cast<double>(o.bytes_in));
  bytes_out.inc(static_cast<double>(o.bytes_out));
  events_ignored.inc(static_cast<double>(o.missing + o.already_done));
  for (std::uint64_t i = 0; i < o.objects; ++i) latency.observe(seconds);
}

}  // namespace etl::transformer
