#include "pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "etl/log.h"
#include "etl/s3_event.h"
#include "etl/lake.h"

namespace etl::transformer {
namespace {

Error with_key(const std::string& key, Error e) {
  e.message = key + ": " + e.message;
  return e;
}

}  // namespace


Pipeline::Pipeline(std::shared_ptr<ObjectStore> raw, std::shared_ptr<ObjectStore> transformed,
                   std::shared_ptr<EventBus> bus, PipelineOptions options, TransformerMetrics& metrics)
    : raw_(std::move(raw)),
      transformed_(std::move(transformed)),
      bus_(std::move(bus)),
      options_(std::move(options)),
      metrics_(metrics) {}

std::vector<std::string> Pipeline::output_keys(const RawObjectKey& key, const std::string& dt,
                                               std::int64_t generation) const {
  std::string stem = raw_data_stem(key.name);
  if (generation) stem = generation_stem(stem, generation);
  std::vector<std::string> keys;
  for (const TableSchema* s : table_schemas())
    keys.push_back(DataKey::make(s->name, dt, stem, file_extension(options_.format)));
  return keys;
}

std::int64_t Pipeline::redo_generation() const {
  if (!options_.new_generation_on_redo) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<TransformResult> Pipeline::run(const std::string& raw_key, RunOptions options) {
  auto key = RawObjectKey::parse(raw_key);
  if (!key) return std::move(key).error();
  NameLock lock(*this, {key->name});
  auto result = run_locked(*key, options);
  if (!result) metrics_.record_error(result.error().code);
  return result;
}

Result<TransformResult> Pipeline::run_locked(const RawObjectKey& key, RunOptions options) {
  const auto started = std::chrono::steady_clock::now();
  TransformResult result;
  std::string from = key.str();
  bool in_place = !key.pending;

  auto raw = raw_->get(from, options_.max_raw_bytes);
  if (!raw && raw.error().code == Errc::not_found && key.pending) {
    // Moved already: an event delivered again after the move, or a race with the scan.
    auto moved = raw_->head(key.processed().str());
    if (!moved && moved.error().code != Errc::not_found) return with_key(from, std::move(moved).error());
    if (moved) {
      if (!options.redo_when_moved) {
        result.raw_key = key.processed().str();
        result.skipped_already_moved = true;
        return result;
      }
      from = key.processed().str();
      in_place = true;
      raw = raw_->get(from, options_.max_raw_bytes);
    }
  }
  if (!raw) return with_key(from, std::move(raw).error());
  // Put back into to_be_processed/ after processed/ got it: a redo of the same name.
  bool redo = in_place;
  if (!in_place) {
    auto twin = raw_->head(key.processed().str());
    if (!twin && twin.error().code != Errc::not_found) return with_key(key.processed().str(), std::move(twin).error());
    redo = twin.ok();
  }

  RawObjectMeta meta{from, std::nullopt};
  if (!parse_raw_object_name(from).extracted_at) {
    // Only a pre-envelope file without a time in its name needs the object's date.
    if (auto info = raw_->head(from)) meta.last_modified = info->last_modified;
  }
  result.bytes_in = raw->size();
  auto out = transform_raw_in_place(*raw, meta);
  raw = std::string();  // a large raw object should not sit in memory while we write
  if (!out) return with_key(from, std::move(out).error());

  // Transformed before: with Iceberg tables, as a new generation.
  const std::vector<std::string> keys = output_keys(key, out->dt, redo ? redo_generation() : 0);
  const auto tables = out->tables();
  std::vector<ObjectInfo> infos;
  {
    WriterLease writer(*this);
    for (std::size_t i = 0; i < tables.size(); ++i) {
      if (tables[i]->rows() == 0 && !writes_empty_tables(options_.format)) continue;
      auto bytes = writer->write(*tables[i], options_.format);
      if (!bytes) return with_key(keys[i], std::move(bytes).error());
      auto info = transformed_->put(keys[i], *bytes);
      if (!info) return with_key(keys[i], std::move(info).error());
      result.outputs.push_back(keys[i]);
      infos.push_back(*info);
      result.bytes_out += bytes->size();
    }
  }

  std::vector<std::string> removed;
  if (redo) {
    auto stale = remove_stale(raw_data_stem(key.name), {out->dt}, result.outputs);
    if (!stale) return with_key(from, std::move(stale).error());
    removed = std::move(stale).value();
  }

  if (!in_place) {
    if (Status s = raw_->move(from, key.processed().str()); !s.ok()) return with_key(from, std::move(s).error());
    result.moved = true;
  }
  result.raw_key = in_place ? from : key.processed().str();
  if (Status s = announce(result.outputs, infos, removed); !s.ok()) return with_key(from, std::move(s).error());

  result.dt = out->dt;
  result.albums_rows = out->albums.rows();
  result.artists_rows = out->artists.rows();
  result.songs_rows = out->songs.rows();
  result.skipped = out->skipped;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.record_success(*out, result.bytes_in, result.bytes_out, seconds);
  log::info("raw object transformed",
            {{"key", from}, {"moved_to", result.moved ? result.raw_key : ""}, {"dt", result.dt},
             {"songs", result.songs_rows}, {"albums", result.albums_rows}, {"artists", result.artists_rows},
             {"skipped", result.skipped.total()}, {"bytes_in", result.bytes_in}, {"ms", seconds * 1000}});
  return result;
}

Result<std::vector<std::string>> Pipeline::remove_stale(const std::string& stem, const std::set<std::string>& days,
                                                       const std::vector<std::string>& written) {
  std::vector<std::string> stale;
  if (options_.new_generation_on_redo) return stale;
  const std::set<std::string> kept(written.begin(), written.end());
  for (const auto& dt : days)
    for (const TableSchema* s : table_schemas()) {
      // "<stem>." begins another stem's names too ("x" and "x.y"): only the stem's own are taken.
      const std::string prefix = DataKey::make(s->name, dt, stem, "");
      auto listed = transformed_->list(prefix);
      if (!listed) return std::move(listed).error();
      for (const auto& o : *listed) {
        if (kept.count(o.key)) continue;
        const std::string logical = file_generation(o.key).logical;
        for (OutputFormat f : {OutputFormat::parquet, OutputFormat::csv, OutputFormat::jsonl})
          if (logical == prefix + file_extension(f)) stale.push_back(o.key);
      }
    }
  if (stale.empty()) return stale;
  if (Status s = transformed_->remove_all(stale); !s.ok()) return std::move(s).error();
  log::info("a redo removed its files of before that it did not write again",
            {{"stem", stem}, {"removed", stale.size()}, {"first", stale.front()}});
  return stale;
}

// The outputs' events go out together: one wait for the brokers' acknowledgements
// instead of one per table. A failure retries the object, so an event already
// on the bus is announced again (at least once; the cataloger is idempotent).
Status Pipeline::announce(const std::vector<std::string>& outputs, const std::vector<ObjectInfo>& infos,
                          const std::vector<std::string>& removed) {
  std::vector<OutgoingMessage> events;
  events.reserve(outputs.size() + removed.size());
  for (std::size_t i = 0; i < outputs.size() + removed.size(); ++i) {
    const bool created = i < outputs.size();
    ObjectCreated e;
    e.bucket = transformed_->bucket();
    e.key = transformed_->event_key(created ? outputs[i] : removed[i - outputs.size()]);
    if (created) {
      e.size = infos[i].size;
      e.etag = infos[i].etag;
    } else {
      e.event_name = "ObjectRemoved:Delete";
    }
    e.sequencer = next_sequencer();
    events.push_back({e.key, build_s3_event(e), {}});
  }
  if (Status s = bus_->publish_batch(options_.topic_transformed, events); !s.ok()) {
    Error e = std::move(s).error();
    e.message = "announcing " + std::to_string(events.size()) + " outputs: " + e.message;
    return e;
  }
  return {};
}

}  // namespace etl::transformer
