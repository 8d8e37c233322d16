// Which finished batch holds a raw object's rows: read from the kept manifests
// (_transformer/batches/), so that redoing one object (POST /v1/transform, a
// /v1/reprocess backfill) redoes the batch whose files hold it, rewriting those
// same files, instead of writing the object's rows a second time in a file of its own.
//
// Refreshed incrementally: a finished manifest never changes, so only keys not
// seen before are read. Other transformers' batches appear at the next refresh.
// Memory: one entry per raw object batched (its key), for as long as manifests are kept.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "batch_manifest.h"
#include "etl/object_store.h"

namespace etl::transformer {

class BatchIndex final {
 public:
  explicit BatchIndex(ObjectStore& transformed) : store_(transformed) {}

  // Reads the manifests finished since the last refresh; at most once per
  // `min_interval` (a backfill asks for every object).
  Status refresh(std::chrono::milliseconds min_interval = std::chrono::seconds(1));
  // The finished batch whose files hold `rest` (the raw key below processed/), if any.
  std::optional<BatchManifest> find(const std::string& rest) const;
  // A batch this process just finished (known without a refresh).
  void add(const std::string& key, const BatchManifest& manifest);

 private:
  ObjectStore& store_;
  mutable std::mutex mutex_;
  std::set<std::string> read_;  // manifest keys read
  std::map<std::string, std::shared_ptr<const BatchManifest>> by_member_;
  std::chrono::steady_clock::time_point refreshed_{};
  bool ever_ = false;
};

}  // namespace etl::transformer
