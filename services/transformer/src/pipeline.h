// One raw object through the whole service path, in the order that makes a
// crash at any point harmless:
//   get (size-limited) -> transform -> put every output (atomic) ->
//   move raw to processed/ -> announce every output -> done (caller acks).
// Output keys depend only on the raw object, so running it again overwrites
// the same files with the same bytes and announces them again.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "etl/event_bus.h"
#include "etl/object_store.h"
#include "etl/result.h"
#include "etl/lake.h"
#include "table_writer.h"
#include "transform.h"
#include "transformer_metrics.h"

namespace etl::transformer {


struct TransformResult {
  std::string raw_key;               // where the raw object is now
  bool moved = false;                // this run moved it from to_be_processed/
  bool skipped_already_moved = false;  // nothing done: it was moved by someone else meanwhile
  std::string dt;
  std::vector<std::string> outputs;  // transformed-store keys written (and announced)
  std::uint64_t albums_rows = 0, artists_rows = 0, songs_rows = 0;
  SkipCounts skipped;
  std::uint64_t bytes_in = 0, bytes_out = 0;
};

struct RunOptions {
  // A to_be_processed/ key that is gone but sits in processed/ (an event
  // delivered again after the move): redo its outputs and announcements from
  // processed/ (events), or report it done as is (the start-up scan, which
  // races with the consumer for the same objects).
  bool redo_when_moved = true;
};

struct PipelineOptions {
  OutputFormat format = OutputFormat::parquet;
  std::uint64_t max_raw_bytes = 256ull << 20;
  std::string topic_transformed = "spotify.transformed.events";
  // Iceberg tables (ETL_TABLE_FORMAT=iceberg): a redo never writes over a file a
  // snapshot may name; it writes a new generation of it (etl/lake.h "Generations").
  bool new_generation_on_redo = false;
};

class Pipeline final {
 public:
  Pipeline(std::shared_ptr<ObjectStore> raw, std::shared_ptr<ObjectStore> transformed, std::shared_ptr<EventBus> bus,
           PipelineOptions options, TransformerMetrics& metrics);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Thread-safe; runs of the same raw file name are serialised.
  // not_found: the object is in neither folder. too_large, bad_data: a poison
  // object (left where it is). unavailable/timeout: a store or the bus is down.
  Result<TransformResult> run(const std::string& raw_key, RunOptions options = {});

  // Every output key a transform of `raw_key` would write for partition `dt`;
  // `generation` (not 0): a redo's new generation of them.
  std::vector<std::string> output_keys(const RawObjectKey& key, const std::string& dt, std::int64_t generation = 0) const;
  // A redo's generation (its time, Unix ms), or 0 when redos write in place.
  std::int64_t redo_generation() const;

  // Holds raw file names (the part below to_be_processed/) for a run or a batch:
  // waits until none is held by another, then holds them all (no deadlock between
  // two batches sharing names).
  class NameLock;
  // A TableWriter (and its DuckDB database) for a while; as many exist as were ever used at once.
  class WriterLease;

  // Hive tables, whose redos write over their files in place: removes the files of
  // `stem` in `days` other than `written`, which would be read beside the new ones:
  // another format's (ETL_OUTPUT_FORMAT changed since), a table's the redo leaves
  // empty (CSV and JSON lines write no empty file), generations an Iceberg
  // configuration wrote before. Returns the keys removed. With Iceberg tables it
  // does nothing: a redo writes a newer generation and committed files stay.
  Result<std::vector<std::string>> remove_stale(const std::string& stem, const std::set<std::string>& days,
                                               const std::vector<std::string>& written);

  // Publishes one ObjectCreated per output, and one ObjectRemoved:Delete per key in
  // `removed`, together (one wait for the bus).
  Status announce(const std::vector<std::string>& outputs, const std::vector<ObjectInfo>& infos,
                  const std::vector<std::string>& removed = {});

  ObjectStore& raw() { return *raw_; }
  ObjectStore& transformed() { return *transformed_; }
  EventBus& bus() { return *bus_; }
  const PipelineOptions& options() const { return options_; }
  TransformerMetrics& metrics() { return metrics_; }

 private:
  Result<TransformResult> run_locked(const RawObjectKey& key, RunOptions options);

  std::shared_ptr<ObjectStore> raw_;
  std::shared_ptr<ObjectStore> transformed_;
  std::shared_ptr<EventBus> bus_;
  PipelineOptions options_;
  TransformerMetrics& metrics_;

  std::mutex mutex_;
  std::condition_variable released_;
  std::set<std::string> busy_;                        // raw file names being run (NameLock)
  std::vector<std::unique_ptr<TableWriter>> writers_;  // idle writers (one DuckDB each)
};

class Pipeline::NameLock {
 public:
  NameLock(Pipeline& p, std::vector<std::string> names) : p_(p), names_(std::move(names)) {
    std::unique_lock lock(p_.mutex_);
    p_.released_.wait(lock, [&] {
      return std::none_of(names_.begin(), names_.end(), [&](const std::string& n) { return p_.busy_.count(n) > 0; });
    });
    for (const auto& n : names_) p_.busy_.insert(n);
  }
  ~NameLock() {
    {
      std::lock_guard lock(p_.mutex_);
      for (const auto& n : names_) p_.busy_.erase(n);
    }
    p_.released_.notify_all();
  }
  NameLock(const NameLock&) = delete;
  NameLock& operator=(const NameLock&) = delete;

 private:
  Pipeline& p_;
  std::vector<std::string> names_;
};

class Pipeline::WriterLease {
 public:
  explicit WriterLease(Pipeline& p) : p_(p) {
    std::lock_guard lock(p_.mutex_);
    if (p_.writers_.empty()) {
      writer_ = std::make_unique<TableWriter>();
    } else {
      writer_ = std::move(p_.writers_.back());
      p_.writers_.pop_back();
    }
  }
  ~WriterLease() {
    std::lock_guard lock(p_.mutex_);
    p_.writers_.push_back(std::move(writer_));
  }
  WriterLease(const WriterLease&) = delete;
  WriterLease& operator=(const WriterLease&) = delete;
  TableWriter* operator->() { return writer_.get(); }

 private:
  Pipeline& p_;
  std::unique_ptr<TableWriter> writer_;
};

}  // namespace etl::transformer
