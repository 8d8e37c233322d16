#include "etl/object_store.h"

#include "file_object_store.h"
#include "s3_object_store.h"

namespace etl {

Result<std::string> ObjectStore::get_if_match(const std::string& key, const std::string& etag, std::uint64_t max_bytes) {
  auto changed = [&](const std::string& now) {
    return make_error(Errc::conflict, "object " + key + " changed (ETag " + now + ", expected " + etag + ")");
  };
  auto before = head(key);
  if (!before) return std::move(before).error();
  if (before->etag != etag) return changed(before->etag);
  auto data = get(key, max_bytes);
  if (!data) return data;
  auto after = head(key);
  if (!after) return std::move(after).error();
  if (after->etag != etag) return changed(after->etag);
  return data;
}

std::vector<Status> ObjectStore::move_all(const std::vector<std::pair<std::string, std::string>>& moves,
                                          const ForEach& for_each) {
  std::vector<Status> moved(moves.size());
  for_each(moves.size(), [&](std::size_t i) { moved[i] = move(moves[i].first, moves[i].second); });
  return moved;
}

Status ObjectStore::remove_all(const std::vector<std::string>& keys) {
  Status first;
  for (const auto& key : keys)
    if (Status removed = remove(key); !removed.ok() && first.ok()) first = std::move(removed);
  return first;
}

Status validate_key(std::string_view key) {
  if (key.empty()) return make_error(Errc::invalid_argument, "object key is empty");
  if (key.size() > 1024) return make_error(Errc::invalid_argument, "object key is longer than 1024 bytes");
  if (key.front() == '/') return make_error(Errc::invalid_argument, "object key must not start with '/'");
  size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find('/', start);
    auto part = key.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || part == "." || part == "..")
      return make_error(Errc::invalid_argument, "object key '" + std::string(key) + "' has an empty, '.' or '..' segment");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  for (unsigned char c : key)
    if (c < 0x20 || c == 0x7f) return make_error(Errc::invalid_argument, "object key has a control character");
  return {};
}

Result<std::unique_ptr<ObjectStore>> open_object_store(const std::string& url, const AwsConfig& aws) {
  if (url.rfind("file://", 0) == 0) {
    std::filesystem::path root(url.substr(7));
    if (root.empty()) return make_error(Errc::invalid_argument, "file:// URL has no path: " + url);
    root = std::filesystem::absolute(root).lexically_normal();
    if (root.has_filename() == false) root = root.parent_path();
    return std::unique_ptr<ObjectStore>(std::make_unique<FileObjectStore>(url, root));
  }
  if (url.rfind("s3://", 0) == 0) return open_s3_object_store(url, aws);
  return make_error(Errc::invalid_argument, "unsupported store URL '" + url + "' (file:// or s3://)");
}

}  // namespace etl
