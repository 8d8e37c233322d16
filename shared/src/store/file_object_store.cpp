#include "file_object_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

namespace etl {
namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const fs::path& path, int err) {
  return make_error(err == ENOSPC || err == EROFS || err == EACCES ? Errc::unavailable : Errc::internal,
                    what + " " + path.string() + ": " + std::strerror(err));
}

// A path that is no object: absent, under a file's name (ENOTDIR: "a.json/x"),
// or a folder of keys (S3 has no folders; neither do keys here).
bool no_object(const fs::path& path) {
  std::error_code ec;
  return !fs::is_regular_file(fs::status(path, ec));
}

bool is_temp_name(const std::string& name) { return name.rfind(".tmp-", 0) == 0; }

// A temp file this old is what a killed writer left (a write takes seconds):
// listings delete it.
constexpr auto kAbandonedTempAge = std::chrono::hours(1);

Status fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open folder", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("fsync folder", dir, err);
  return {};
}

std::string make_etag(std::uint64_t size, fs::file_time_type mtime) {
  auto ticks = static_cast<std::uint64_t>(mtime.time_since_epoch().count());
  std::uint64_t h = 1469598103934665603ull;
  for (std::uint64_t v : {size, ticks}) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (i * 8)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::chrono::system_clock::time_point to_system(fs::file_time_type t) {
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(t));
}

std::string random_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rng() % 1000000);
}

}  // namespace

FileObjectStore::FileObjectStore(std::string url, fs::path root) : url_(std::move(url)), root_(std::move(root)) {}

std::string FileObjectStore::bucket() const {
  auto name = root_.filename().string();
  return name.empty() ? "local" : name;
}

std::optional<std::string> FileObjectStore::relative_key(std::string_view bucket_name, std::string_view full_key) const {
  if (bucket_name != bucket()) return std::nullopt;
  return std::string(full_key);
}

Result<ObjectInfo> FileObjectStore::put(const std::string& key, std::string_view data) { return write(key, data, false); }

Result<ObjectInfo> FileObjectStore::put_if_absent(const std::string& key, std::string_view data) {
  return write(key, data, true);
}

// Written to a temporary file, synced, then renamed over the key (or, exclusive,
// hard-linked to it: link() fails with EEXIST when the key exists, atomically).
Result<ObjectInfo> FileObjectStore::write(const std::string& key, std::string_view data, bool exclusive) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  fs::path target = root_ / key;
  fs::path dir = target.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error("create folder", dir, ec.value());
  fs::path tmp = dir / (".tmp-" + target.filename().string() + "-" + random_suffix());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("create", tmp, errno);
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return io_error("write", tmp, err);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return io_error("fsync", tmp, err);
  }
  ::close(fd);
  if (exclusive) {
    const int linked = ::link(tmp.c_str(), target.c_str());
    const int err = errno;
    ::unlink(tmp.c_str());
    if (linked != 0 && err == EEXIST) return make_error(Errc::conflict, "object " + key + " exists already");
    if (linked != 0) return io_error("link to", target, err);
  } else if (::rename(tmp.c_str(), target.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return io_error("rename to", target, err);
  }
  ETL_RETURN_IF_ERROR(fsync_dir(dir));
  return head(key);
}

Result<std::string> FileObjectStore::get(const std::string& key, std::uint64_t max_bytes) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  fs::path path = root_ / key;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory)
    return io_error("stat", path, ec.value());
  if (!fs::is_regular_file(status)) return make_error(Errc::not_found, "no object " + key);
  auto size = fs::file_size(path, ec);
  if (ec) return make_error(Errc::not_found, "no object " + key);  // removed since
  if (size > max_bytes)
    return make_error(Errc::too_large, "object " + key + " is " + std::to_string(size) + " bytes, over the limit of " +
                                           std::to_string(max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "no object " + key);
  // 64 bytes of spare capacity: a parser that reads past the end (simdjson's
  // padding, transform_raw_in_place) uses the bytes where they are, without a copy.
  std::string out;
  out.reserve(static_cast<size_t>(size) + 64);
  out.resize(static_cast<size_t>(size));
  in.read(out.data(), static_cast<std::streamsize>(size));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

Result<ObjectInfo> FileObjectStore::head(const std::string& key) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  fs::path path = root_ / key;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::is_regular_file(status)) return make_error(Errc::not_found, "no object " + key);
  auto size = fs::file_size(path, ec);
  auto mtime = fs::last_write_time(path, ec);
  if (ec) return make_error(Errc::not_found, "no object " + key);
  return ObjectInfo{key, size, make_etag(size, mtime), to_system(mtime)};
}

Result<std::vector<ObjectInfo>> FileObjectStore::list(const std::string& prefix) {
  // Walk only the deepest folder the prefix names, then filter by the full prefix.
  auto slash = prefix.rfind('/');
  fs::path start = slash == std::string::npos ? root_ : root_ / prefix.substr(0, slash);
  std::vector<ObjectInfo> out;
  std::error_code ec;
  if (!fs::exists(start, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(start, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return io_error("list", start, ec.value());
    if (!it->is_regular_file(ec)) continue;
    if (is_temp_name(it->path().filename().string())) {
      auto mtime = it->last_write_time(ec);
      if (!ec && fs::file_time_type::clock::now() - mtime > kAbandonedTempAge) fs::remove(it->path(), ec);
      ec.clear();
      continue;
    }
    std::string key = fs::relative(it->path(), root_, ec).generic_string();
    if (ec || key.rfind(prefix, 0) != 0) continue;
    auto size = it->file_size(ec);
    auto mtime = it->last_write_time(ec);
    if (ec) continue;  // vanished while listing
    out.push_back(ObjectInfo{key, size, make_etag(size, mtime), to_system(mtime)});
  }
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status FileObjectStore::move(const std::string& from, const std::string& to) {
  ETL_RETURN_IF_ERROR(validate_key(from));
  ETL_RETURN_IF_ERROR(validate_key(to));
  fs::path src = root_ / from, dst = root_ / to;
  std::error_code ec;
  if (no_object(src)) {
    if (!no_object(dst)) return {};  // moved before
    return make_error(Errc::not_found, "no object " + from);
  }
  fs::create_directories(dst.parent_path(), ec);
  if (ec) return io_error("create folder", dst.parent_path(), ec.value());
  if (::rename(src.c_str(), dst.c_str()) != 0) {
    int err = errno;
    if (err == ENOENT && fs::exists(dst, ec)) return {};  // moved before
    if (err == ENOENT) return make_error(Errc::not_found, "no object " + from);
    return io_error("move to", dst, err);
  }
  ETL_RETURN_IF_ERROR(fsync_dir(dst.parent_path()));
  if (src.parent_path() != dst.parent_path()) ETL_RETURN_IF_ERROR(fsync_dir(src.parent_path()));
  return {};
}

Status FileObjectStore::remove(const std::string& key) {
  ETL_RETURN_IF_ERROR(validate_key(key));
  if (no_object(root_ / key)) return {};
  std::error_code ec;
  fs::remove(root_ / key, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) return io_error("remove", root_ / key, ec.value());
  return {};
}

Status FileObjectStore::ping() {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) return io_error("create folder", root_, ec.value());
  if (::access(root_.c_str(), W_OK) != 0) return io_error("write access to", root_, errno);
  return {};
}

}  // namespace etl
