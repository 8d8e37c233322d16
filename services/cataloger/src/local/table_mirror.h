// The local copy of the transformed tables that the built-in catalog and DuckDB
// read when the tables live in S3 and ETL_CATALOG_READS=mirror (the default reads
// them in place through DuckDB's httpfs: etl/duck_s3.h). For installations
// without that extension.
//
// The crawl mirrors every data file it lists before it reads schemas or
// moves the catalog forward, so a view never names a file that is not on the local
// disk. The crawl runs on every transformed event (debounced), so the copy follows
// the events; a start-up crawl reconciles what was missed.
//
// Every copy is the version the listing named: fetched with If-Match on the
// listed ETag, its size checked, and for single-part ETags (an MD5) its MD5
// checked. Copies are written to a temporary name and renamed, so a reader or a
// crash sees a whole file or none. The copy is bounded (max_bytes): past the bound
// a crawl fails with a clear error and the catalog stays where it was, so queries
// answer from whole tables or not at all, never from a silent part.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "etl/config.h"
#include "etl/metrics.h"
#include "etl/object_store.h"

namespace etl::cataloger {

struct TableMirrorOptions {
  std::filesystem::path root = "./data/cataloger-cache";  // ETL_CATALOG_CACHE_DIR
  std::uint64_t max_bytes = 20ull << 30;                  // ETL_CATALOG_CACHE_MAX_BYTES
  bool verify_md5 = true;  // ETL_CATALOG_CACHE_VERIFY=md5 (default) | etag (SSE-KMS buckets: ETags are not MD5s)
  // A copy no longer listed is deleted this long after, not at once: views and
  // queries that started before the catalog moved may still open it.
  std::chrono::milliseconds deletion_grace = std::chrono::minutes(15);
};

// The options of Config::catalog_cache (ETL_CATALOG_CACHE_*, validated by load_config).
TableMirrorOptions table_mirror_options(const CatalogCacheSettings& settings);

class TableMirror final {
 public:
  // Creates the root folder; copies already there from an earlier run are adopted
  // once a listing confirms them (same size and, for MD5 ETags, same MD5).
  static Result<std::shared_ptr<TableMirror>> open(std::shared_ptr<ObjectStore> source, TableMirrorOptions options,
                                                   MetricsRegistry& metrics);

  // Brings the local copies of the data files in `listing` (other keys are
  // ignored) to the listed versions: downloads what is missing or changed.
  // too_large past the bound; conflict when an object changed after the listing
  // (the next crawl sees the new version); the source's errors otherwise.
  Status mirror(const std::vector<ObjectInfo>& listing);
  // Marks the local copies whose key starts with `prefix` and is not in `keep` for
  // deletion after the grace period (a key listed again is kept); deletes those
  // whose grace has passed.
  void retain(const std::string& prefix, const std::set<std::string>& keep);

  // Set once a crawl over the whole store has mirrored everything it listed.
  void mark_complete() { complete_.store(true); }
  bool complete() const { return complete_.load(); }

  const std::filesystem::path& root() const { return options_.root; }
  std::uint64_t bytes() const;
  std::size_t files() const;

 private:
  TableMirror(std::shared_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> local, TableMirrorOptions options,
              MetricsRegistry& metrics);
  Status fetch(const ObjectInfo& object);
  void sweep();
  void publish_locked();

  struct Copy {
    std::uint64_t size = 0;
    std::string etag;  // the source's ETag this copy was verified against ("" = found on disk, unconfirmed)
  };

  std::shared_ptr<ObjectStore> source_;
  std::unique_ptr<ObjectStore> local_;  // file:// store on `root`: atomic writes
  TableMirrorOptions options_;
  MetricsRegistry& metrics_;
  std::atomic<bool> complete_{false};

  mutable std::mutex mutex_;
  std::map<std::string, Copy> copies_;  // by key
  std::map<std::string, std::chrono::steady_clock::time_point> doomed_;  // key -> when it left the listings
  std::uint64_t bytes_ = 0;
};

}  // namespace etl::cataloger
