// The file:// backend: a folder on the local disk. Writes go to a hidden temp
// file beside the target, are fsynced, then renamed over it (and the folder is
// fsynced), so a crash never leaves a partial object visible.
#pragma once

#include "etl/object_store.h"

namespace etl {

class FileObjectStore final : public ObjectStore {
 public:
  FileObjectStore(std::string url, std::filesystem::path root);

  Result<ObjectInfo> put(const std::string& key, std::string_view data) override;
  Result<ObjectInfo> put_if_absent(const std::string& key, std::string_view data) override;
  Result<std::string> get(const std::string& key, std::uint64_t max_bytes) override;
  Result<ObjectInfo> head(const std::string& key) override;
  Result<std::vector<ObjectInfo>> list(const std::string& prefix) override;
  Status move(const std::string& from, const std::string& to) override;
  Status remove(const std::string& key) override;
  Status ping() override;
  std::string url() const override { return url_; }
  std::string bucket() const override;
  std::string event_key(const std::string& key) const override { return key; }
  std::optional<std::string> relative_key(std::string_view bucket, std::string_view full_key) const override;
  std::optional<std::filesystem::path> local_path(const std::string& key) const override { return root_ / key; }

 private:
  Result<ObjectInfo> write(const std::string& key, std::string_view data, bool exclusive);
  std::string url_;
  std::filesystem::path root_;
};

}  // namespace etl
