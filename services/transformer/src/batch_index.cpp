#include "batch_index.h"

#include <vector>

#include "etl/log.h"

namespace etl::transformer {

Status BatchIndex::refresh(std::chrono::milliseconds min_interval) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (ever_ && now - refreshed_ < min_interval) return {};
  }
  auto listed = store_.list(std::string(kDoneManifests));
  if (!listed) return std::move(listed).error();
  std::vector<std::string> fresh;
  {
    std::lock_guard lock(mutex_);
    for (const auto& info : *listed)
      if (!read_.count(info.key)) fresh.push_back(info.key);
  }
  for (const auto& key : fresh) {
    auto text = store_.get(key, 64ull << 20);
    if (!text && text.error().code == Errc::not_found) continue;
    if (!text) return std::move(text).error();
    auto manifest = decode_manifest(*text);
    if (!manifest) {
      log::warn("unreadable batch manifest skipped", {{"key", key}, {"error", manifest.error().message}});
      std::lock_guard lock(mutex_);
      read_.insert(key);
      continue;
    }
    add(key, *manifest);
  }
  std::lock_guard lock(mutex_);
  refreshed_ = now;
  ever_ = true;
  return {};
}

void BatchIndex::add(const std::string& key, const BatchManifest& manifest) {
  auto shared = std::make_shared<const BatchManifest>(manifest);
  std::lock_guard lock(mutex_);
  if (!read_.insert(key).second) return;
  // A raw object in two manifests (its batch replayed under another cut): the later
  // batch wins; both hold its rows only if a replay went wrong, which this cannot mend.
  for (const auto& m : shared->members) by_member_[m.rest] = shared;
}

std::optional<BatchManifest> BatchIndex::find(const std::string& rest) const {
  std::lock_guard lock(mutex_);
  auto it = by_member_.find(rest);
  if (it == by_member_.end()) return std::nullopt;
  return *it->second;
}

}  // namespace etl::transformer
