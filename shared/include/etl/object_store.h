// The object store seam: the raw and transformed "buckets". Backends are chosen by
// URL scheme: file:// (a local folder, the embedded default) and s3:// (AWS S3,
// MinIO). Keys are relative to the store's root ("to_be_processed/x.json") and
// never contain "..", empty segments or a leading '/'.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etl/config.h"
#include "etl/result.h"

namespace etl {

struct ObjectInfo {
  std::string key;  // relative to the store's root
  std::uint64_t size = 0;
  std::string etag;
  std::chrono::system_clock::time_point last_modified{};
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  ObjectStore() = default;
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // Writes the whole object atomically and durably: a reader (or a crash) sees the
  // previous object or the new one, never a part. Overwrites an existing key.
  virtual Result<ObjectInfo> put(const std::string& key, std::string_view data) = 0;
  // put(), only when no object is under `key` (S3's If-None-Match: *; an exclusive
  // link on file://): conflict when one is, whatever its bytes. The compare-and-swap
  // that lets two writers agree on who made a key first. A retried request whose
  // first try went through also answers conflict: callers that may retry read the
  // object back and compare.
  virtual Result<ObjectInfo> put_if_absent(const std::string& key, std::string_view data) = 0;
  // The whole object. not_found when absent; too_large (without reading it) when over `max_bytes`.
  virtual Result<std::string> get(const std::string& key,
                                  std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max()) = 0;
  // The object only as long as its ETag is still `etag` (S3's If-Match), so the
  // bytes are the version a listing named: conflict when it was replaced since,
  // not_found when it is gone. The base version checks HEAD before and after.
  virtual Result<std::string> get_if_match(const std::string& key, const std::string& etag,
                                           std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max());
  // Size and ETag; not_found when absent.
  virtual Result<ObjectInfo> head(const std::string& key) = 0;
  // Every object whose key starts with `prefix` (a plain string prefix, not only a
  // folder), sorted by key. In-progress writes are never listed.
  virtual Result<std::vector<ObjectInfo>> list(const std::string& prefix) = 0;
  // Moves an object (rename on file://, copy + delete on s3://). When `from` is
  // absent but `to` exists the move already happened: success, so a retried move
  // after a crash is harmless.
  virtual Status move(const std::string& from, const std::string& to) = 0;
  // Deletes; an absent key is success.
  virtual Status remove(const std::string& key) = 0;

  // Runs body(0) .. body(n - 1), perhaps at once (a TaskPool's run_all): how the
  // calls below spread their requests.
  using ForEach = std::function<void(std::size_t n, const std::function<void(std::size_t)>& body)>;
  // move() of every (from, to) pair, each pair's outcome at its index; a failed pair
  // leaves `from` where it was. The base version moves each pair through `for_each`;
  // S3 copies them all through it, then deletes the copied sources with one request
  // per 1,000 keys (DeleteObjects) instead of one each.
  virtual std::vector<Status> move_all(const std::vector<std::pair<std::string, std::string>>& moves,
                                       const ForEach& for_each);
  // remove() of every key, the first failure returned. S3 deletes up to 1,000 keys a
  // request; the base version removes them one by one.
  virtual Status remove_all(const std::vector<std::string>& keys);
  // Cheap reachability check for /readyz.
  virtual Status ping() = 0;

  // The root URL this store was opened with.
  virtual std::string url() const = 0;
  // The bucket name event documents carry (file://: the root folder's name).
  virtual std::string bucket() const = 0;
  // The full key inside the bucket, as an S3 event carries it (prefix + key).
  virtual std::string event_key(const std::string& key) const = 0;
  // The relative key of an event's (bucket, full key), or nullopt when the object
  // is not under this store's root.
  virtual std::optional<std::string> relative_key(std::string_view bucket, std::string_view full_key) const = 0;
  // Where the object lives on the local disk, for engines that read files in place.
  virtual std::optional<std::filesystem::path> local_path(const std::string& key) const { (void)key; return std::nullopt; }
};

// invalid_argument unless `key` is a clean relative key.
Status validate_key(std::string_view key);

// Opens a store from "file:///abs", "file://./rel" or "s3://bucket/prefix".
Result<std::unique_ptr<ObjectStore>> open_object_store(const std::string& url, const AwsConfig& aws);

}  // namespace etl
