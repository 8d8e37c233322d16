#include "table_mirror.h"

#include <algorithm>
#include <cctype>
#include <limits>

#include "etl/ascii.h"
#include "etl/log.h"
#include "etl/sigv4.h"
#include "table_state.h"

namespace etl::cataloger {
namespace {

bool is_md5_etag(const std::string& etag) {
  return etag.size() == 32 && std::all_of(etag.begin(), etag.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string mib(std::uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB"; }

}  // namespace

TableMirrorOptions table_mirror_options(const CatalogCacheSettings& settings) {
  TableMirrorOptions o;
  o.root = settings.dir;
  o.max_bytes = settings.max_bytes;
  o.verify_md5 = settings.verify_md5;
  return o;
}

TableMirror::TableMirror(std::shared_ptr<ObjectStore> source, std::unique_ptr<ObjectStore> local,
                         TableMirrorOptions options, MetricsRegistry& metrics)
    : source_(std::move(source)), local_(std::move(local)), options_(std::move(options)), metrics_(metrics) {}

Result<std::shared_ptr<TableMirror>> TableMirror::open(std::shared_ptr<ObjectStore> source, TableMirrorOptions options,
                                                       MetricsRegistry& metrics) {
  std::error_code ec;
  std::filesystem::create_directories(options.root, ec);
  if (ec)
    return make_error(Errc::invalid_argument, "ETL_CATALOG_CACHE_DIR=" + options.root.string() +
                                                  ": cannot create the folder: " + ec.message());
  options.root = std::filesystem::absolute(options.root).lexically_normal();
  std::string root = options.root.string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  options.root = root;
  auto local = open_object_store("file://" + root, AwsConfig{});
  if (!local) return std::move(local).error();
  std::shared_ptr<TableMirror> mirror(
      new TableMirror(std::move(source), std::move(local).value(), std::move(options), metrics));
  ETL_RETURN_IF_ERROR(mirror->local_->ping());
  auto found = mirror->local_->list("");
  if (!found) return std::move(found).error();
  std::lock_guard lock(mirror->mutex_);
  for (const auto& object : *found) {
    if (!DataKey::parse(object.key)) continue;
    mirror->copies_[object.key] = Copy{object.size, ""};
    mirror->bytes_ += object.size;
  }
  mirror->publish_locked();
  if (!mirror->copies_.empty())
    log::info("local copy of the transformed tables found", {{"files", mirror->copies_.size()},
                                                             {"bytes", mirror->bytes_}, {"dir", root}});
  return mirror;
}

std::uint64_t TableMirror::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t TableMirror::files() const {
  std::lock_guard lock(mutex_);
  return copies_.size();
}

void TableMirror::publish_locked() {
  metrics_.gauge("spotify_etl_cataloger_cache_bytes", "Bytes in the local copy of the transformed tables")
      .set(static_cast<double>(bytes_));
  metrics_.gauge("spotify_etl_cataloger_cache_files", "Files in the local copy of the transformed tables")
      .set(static_cast<double>(copies_.size()));
}

Status TableMirror::mirror(const std::vector<ObjectInfo>& listing) {
  sweep();
  for (const auto& object : listing) {
    if (!DataKey::parse(object.key)) continue;
    {
      std::lock_guard lock(mutex_);
      auto it = copies_.find(object.key);
      if (it != copies_.end() && it->second.size == object.size && it->second.etag == object.etag) continue;
    }
    ETL_RETURN_IF_ERROR(fetch(object));
  }
  return {};
}

Status TableMirror::fetch(const ObjectInfo& object) {
  const bool md5 = options_.verify_md5 && is_md5_etag(object.etag);
  std::uint64_t old_size = 0;
  bool unconfirmed = false;
  {
    std::lock_guard lock(mutex_);
    auto it = copies_.find(object.key);
    if (it != copies_.end()) {
      old_size = it->second.size;
      unconfirmed = it->second.etag.empty();
    }
    if (bytes_ - old_size + object.size > options_.max_bytes)
      return make_error(Errc::too_large,
                        "the local copy of the transformed tables would need " + mib(bytes_ - old_size + object.size) +
                            ", over ETL_CATALOG_CACHE_MAX_BYTES (" + mib(options_.max_bytes) +
                            "): raise it (and the volume at ETL_CATALOG_CACHE_DIR), or query with "
                            "ETL_CATALOG=glue and ETL_QUERY_ENGINE=athena");
  }

  // A copy from an earlier run: kept when it is provably the listed version.
  if (unconfirmed && old_size == object.size && md5) {
    auto on_disk = local_->get(object.key);
    if (on_disk && md5_hex(*on_disk) == ascii_lower(object.etag)) {
      std::lock_guard lock(mutex_);
      copies_[object.key].etag = object.etag;
      return {};
    }
  }

  auto started = std::chrono::steady_clock::now();
  auto data = source_->get_if_match(object.key, object.etag);
  if (!data) {
    Error e = std::move(data).error();
    e.message = "copying " + source_->url() + "/" + object.key + " to the local cache: " + e.message;
    return e;
  }
  if (data->size() != object.size)
    return make_error(Errc::bad_data, "copy of " + object.key + " has " + std::to_string(data->size()) +
                                          " bytes, the listing said " + std::to_string(object.size));
  if (md5 && md5_hex(*data) != ascii_lower(object.etag))
    return make_error(Errc::bad_data, "copy of " + object.key + " does not match its ETag " + object.etag +
                                          " (for buckets whose ETags are not MD5s, e.g. SSE-KMS, set "
                                          "ETL_CATALOG_CACHE_VERIFY=etag)");
  auto put = local_->put(object.key, *data);
  if (!put) {
    Error e = std::move(put).error();
    e.message = "writing the local cache under " + options_.root.string() + ": " + e.message;
    return e;
  }
  {
    std::lock_guard lock(mutex_);
    doomed_.erase(object.key);
    auto& copy = copies_[object.key];
    bytes_ = bytes_ - copy.size + object.size;
    copy = Copy{object.size, object.etag};
    publish_locked();
  }
  metrics_.counter("spotify_etl_cataloger_cache_downloads_total", "Files copied into the local cache").inc();
  metrics_.counter("spotify_etl_cataloger_cache_download_bytes_total", "Bytes copied into the local cache")
      .inc(static_cast<double>(object.size));
  log::debug("cached a transformed file",
             {{"key", object.key}, {"bytes", object.size},
              {"ms", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count()}});
  return {};
}

void TableMirror::retain(const std::string& prefix, const std::set<std::string>& keep) {
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = copies_.lower_bound(prefix); it != copies_.end() && it->first.starts_with(prefix); ++it) {
      if (keep.count(it->first)) doomed_.erase(it->first);
      else doomed_.emplace(it->first, now);
    }
  }
  sweep();
}

void TableMirror::sweep() {
  std::vector<std::string> drop;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [key, since] : doomed_)
      if (now - since >= options_.deletion_grace) drop.push_back(key);
  }
  for (const auto& key : drop) {
    if (Status s = local_->remove(key); !s.ok()) {
      log::warn("cannot delete a stale file from the local cache", {{"key", key}, {"error", s.error().message}});
      continue;
    }
    std::lock_guard lock(mutex_);
    doomed_.erase(key);
    auto it = copies_.find(key);
    if (it == copies_.end()) continue;
    bytes_ -= it->second.size;
    copies_.erase(it);
    publish_locked();
  }
}

}  // namespace etl::cataloger
