// An ObjectStore that forwards every call to another: a test overrides only the
// calls it watches, holds or breaks. The calls with a base version (get_if_match,
// move_all, remove_all) keep it, so they go through the overrides too.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etl/object_store.h"

namespace etl::testing {

class ForwardingStore : public ObjectStore {
 public:
  explicit ForwardingStore(std::shared_ptr<ObjectStore> inner) : inner_(std::move(inner)) {}
  Result<ObjectInfo> put(const std::string& k, std::string_view d) override { return inner_->put(k, d); }
  Result<ObjectInfo> put_if_absent(const std::string& k, std::string_view d) override { return inner_->put_if_absent(k, d); }
  Result<std::string> get(const std::string& k, std::uint64_t max) override { return inner_->get(k, max); }
  Result<ObjectInfo> head(const std::string& k) override { return inner_->head(k); }
  Result<std::vector<ObjectInfo>> list(const std::string& p) override { return inner_->list(p); }
  Status move(const std::string& from, const std::string& to) override { return inner_->move(from, to); }
  Status remove(const std::string& k) override { return inner_->remove(k); }
  Status ping() override { return inner_->ping(); }
  std::string url() const override { return inner_->url(); }
  std::string bucket() const override { return inner_->bucket(); }
  std::string event_key(const std::string& k) const override { return inner_->event_key(k); }
  std::optional<std::string> relative_key(std::string_view b, std::string_view k) const override {
    return inner_->relative_key(b, k);
  }
  std::optional<std::filesystem::path> local_path(const std::string& k) const override { return inner_->local_path(k); }

 protected:
  std::shared_ptr<ObjectStore> inner_;
};

}  // namespace etl::testing
